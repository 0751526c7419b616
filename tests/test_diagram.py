"""The SVG diagram and the HTML report: structure, monotone sizes, golden output, real rendering."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import cnncalc
from cnncalc import zoo
from cnncalc.render.diagram import to_svg

from .helpers import run

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
SEED = ["--input", "200x200x1", "conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"]
SVG = "{http://www.w3.org/2000/svg}"


def volumes(svg: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "volume"]


def test_svg_is_well_formed_with_one_volume_per_tensor() -> None:
    s = cnncalc.summarize(zoo.load("vgg16"))
    found = volumes(to_svg(s))
    assert len(found) == len(s.layers) + 1  # the input and one per layer
    assert [g.get("data-name") for g in found][1:] == [row.name for row in s.layers]


def test_box_sizes_are_monotone_in_shapes() -> None:
    s = cnncalc.summarize(zoo.load("vgg16"))
    boxes = [
        (
            tuple(int(n) for n in g.get("data-shape").split("x")),
            float(g.get("data-height")),
            float(g.get("data-depth")),
            float(g.get("data-thickness")),
        )
        for g in volumes(to_svg(s))
    ]
    spatial = [b for b in boxes if len(b[0]) == 3]
    for a in spatial:
        for b in spatial:
            if a[0][0] < b[0][0]:
                assert a[1] < b[1]  # taller for a larger height
            if a[0][1] < b[0][1]:
                assert a[2] < b[2]  # deeper for a larger width
            if a[0][2] < b[0][2]:
                assert a[3] < b[3]  # thicker for more channels
    bars = [b for b in boxes if len(b[0]) == 1]
    assert all((x[0][0] < y[0][0]) == (x[1] < y[1]) for x in bars for y in bars if x[0] != y[0])


def test_branches_stand_side_by_side() -> None:
    svg = to_svg(cnncalc.summarize(zoo.load("inception_block")))
    xs = {g.get("data-name"): g for g in volumes(svg)}
    assert len(xs) == 9
    assert svg.count('class="edge ') == 7 + 4  # seven one-input layers, and the concat reads four


def test_golden_svg_for_the_seed_example() -> None:
    result = run("diagram", *SEED)
    assert result.exit_code == 0
    path = GOLDEN / "diagram_seed.svg"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()
    assert run("diagram", *SEED).stdout == result.stdout  # deterministic


def test_diagram_to_file_and_bad_path(tmp_path) -> None:
    out = tmp_path / "m.svg"
    result = run("diagram", *SEED, "-o", str(out))
    assert result.exit_code == 0 and out.read_text().startswith("<svg")
    bad = run("diagram", *SEED, "-o", str(tmp_path / "missing" / "m.svg"))
    assert bad.exit_code == 2 and "cannot write" in bad.stderr


def test_diagram_png_through_a_converter(tmp_path) -> None:
    from cnncalc.render.raster import converters

    if not converters():
        pytest.skip("no SVG converter (rsvg-convert, cairosvg, magick) on this machine")
    out = tmp_path / "m.png"
    result = run("diagram", *SEED, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    svg_width = float(ET.fromstring(run("diagram", *SEED).stdout).get("width"))
    assert abs(int.from_bytes(data[16:20], "big") - svg_width) <= 1  # the IHDR width is the SVG's


def test_diagram_png_without_a_converter_is_a_clear_error(tmp_path, monkeypatch) -> None:
    import cnncalc.render.raster as raster

    monkeypatch.setattr(raster, "converters", lambda: [])
    out = tmp_path / "m.png"
    result = run("diagram", *SEED, "-o", str(out))
    assert result.exit_code == 2 and not out.exists()
    assert "PNG output needs an SVG converter" in result.stderr and "rsvg-convert" in result.stderr


def test_diagram_refuses_to_print_svg_on_a_terminal() -> None:
    import os
    import sys

    leader, follower = os.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cnncalc", "diagram", *SEED],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert "the diagram is an SVG document, not terminal text: give -o FILE.svg" in proc.stderr
    assert proc.stderr.startswith("Usage: python -m cnncalc diagram")  # Click names the -m form


def test_html_report_is_self_contained(tmp_path) -> None:
    out = tmp_path / "report.html"
    assert run("summary", *SEED, "--format", "html", "-o", str(out)).exit_code == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "4,640" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    assert "Shape flow: 200x200x1 → 100x100x16 → 100x100x32" in page


def test_shape_flow_line() -> None:
    out = run("summary", *SEED).stdout
    assert "Shape flow: 200x200x1 → 100x100x16 → 100x100x32" in out
    long = run("summary", "--model", "vgg16").stdout
    assert "Shape flow: 224x224x3 → 224x224x64 → 224x224x64 → … (17 more) … → 4096 → 4096 → 1000" in long


# ----------------------------------------------------------------------------- headless Chromium (dev only)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (dev-only)")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_chromium
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("seed", SEED),
        ("vgg16", ["--model", "vgg16"]),
        ("resnet18", ["--model", "resnet18"]),
        ("inception_block", ["--model", "inception_block"]),
        ("unet", ["-f", str(ROOT / "docs" / "examples" / "unet.json"), "--input", "96x96x1"]),
    ],
)
def test_render_diagram_to_png(name: str, args: list[str], tmp_path: Path) -> None:
    svg_path = tmp_path / f"{name}.svg"
    run("diagram", *args, "-o", str(svg_path))
    root = ET.fromstring(svg_path.read_text())
    width, height = (int(float(root.get(k))) for k in ("width", "height"))
    png = tmp_path / f"{name}.png"
    chromium(svg_path.as_uri(), tmp_path, f"--screenshot={png}", f"--window-size={width},{height}")
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    if os.environ.get("UPDATE_IMAGES"):  # refresh the docs' pictures
        save_small(png, ROOT / "docs" / "img" / f"diagram_{name}.png")


def save_small(png: Path, target: Path) -> None:
    """Copy a screenshot into docs/img, as an 8-bit palette PNG when Pillow is at hand (smaller)."""
    try:
        from PIL import Image
    except ImportError:
        shutil.copy(png, target)
        return
    with Image.open(png) as image:
        image.convert("RGB").quantize(colors=64).save(target, optimize=True)


@needs_chromium
def test_html_report_opens_without_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run("summary", "--model", "inception_block", "--format", "html", "-o", str(page))
    proc = chromium(page.as_uri(), tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert proc.returncode == 0
    assert "<svg" in proc.stdout and "mixed_3a" in proc.stdout  # the page loaded and rendered
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console


ACCESSIBILITY_PROBE = """
<script>
// What assistive technology relies on, read from the live DOM after the page's own script ran:
// every column header is a <th scope=col> holding a button, every row has a <th scope=row>;
// then a click on "Param #" sorts the rows by the numbers and marks aria-sort.
var table = document.querySelector("table.cnncalc");
var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
var ok = heads.length > 0 && heads.every(function (th) {
  return th.getAttribute("scope") === "col" && th.querySelector("button") !== null;
});
ok = ok && Array.prototype.every.call(table.tBodies[0].rows, function (row) {
  return row.cells[0].tagName === "TH" && row.cells[0].getAttribute("scope") === "row";
});
var params = heads.filter(function (th) { return th.textContent.indexOf("Param #") === 0; })[0];
params.querySelector("button").click();
var order = Array.prototype.map.call(table.tBodies[0].rows, function (row) {
  return row.cells[heads.indexOf(params)].getAttribute("data-sort");
});
document.body.setAttribute("data-probe", (ok ? "ok" : "bad") + ";" + params.getAttribute("aria-sort") + ";" + order.join(","));
</script>
"""


@needs_chromium
def test_html_report_table_is_accessible_and_sorts(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run("summary", "--model", "inception_block", "--format", "html", "-o", str(page))
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", ACCESSIBILITY_PROBE + "</body>"))
    proc = chromium(probe.as_uri(), tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert proc.returncode == 0
    assert not [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    match = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert match, proc.stdout[-500:]
    ok, direction, order = match.group(1).split(";")
    assert (ok, direction) == ("ok", "ascending")
    values = [int(v) for v in order.split(",")]
    s = cnncalc.summarize(zoo.load("inception_block"))
    assert values == sorted(row.params for row in s.layers)  # sorted by the numbers, not their text


@needs_chromium
def test_html_report_screenshot(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run("summary", "--model", "inception_block", "--all", "--format", "html", "-o", str(page))
    png = tmp_path / "report.png"
    chromium(page.as_uri(), tmp_path, f"--screenshot={png}", "--window-size=1300,1350")
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_IMAGES"):
        save_small(png, ROOT / "docs" / "img" / "report_inception_block.png")
