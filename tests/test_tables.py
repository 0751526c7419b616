"""Tables never break a number, a shape or a name, at any width; ``-o`` and ``>`` give the same bytes.

The oracle is the JSON output (every figure the table shows, computed by the core) and the
definitions of the two number forms (``1,849,688,064`` and ``1.85 G``), not a snapshot of a table.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cnncalc.render.grid import Cell, Col, Grid, plan, wrap_words

from .helpers import run

#: The README's --all example (its model, then the flag).
README = ["--input", "224x224x3", "conv:64,3,padding=same", "conv:64,3,padding=same", "maxpool:2"]
README_ALL = [*README, "--all"]
RESNET50_ALL = ["--model", "resnet50", "--all"]
WIDTHS = [60, 80, 120, None]  # None: redirected (CliRunner's stdout is not a terminal)


def whole(token: str, text: str) -> bool:
    """``token`` occurs in ``text`` not glued to a letter, digit, ``_``, ``,`` or ``.`` on either side."""
    return re.search(rf"(?<![\w,.]){re.escape(token)}(?![\w,.])", text) is not None


def count_forms(n: int) -> list[str]:
    """The two ways a count may be shown: ``1,849,688,064`` or ``1.85 G`` (derived here, by hand)."""
    forms = [f"{n:,}"]
    for scale, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= scale:
            forms.append(f"{n / scale:.2f} {unit}")
            break
    return forms


def shape_forms(shape: list[int]) -> list[str]:
    return ["(" + ", ".join(["None", *map(str, shape)]) + ")", "x".join(map(str, shape))]


def kib(n: int) -> str:
    """Keras's byte figure: 1024-based, two decimals."""
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"


def assert_every_figure_whole(text: str, doc: dict) -> None:
    for layer in doc["layers"]:
        where = layer["name"]
        assert whole(layer["name"], text), where
        assert any(whole(form, text) for form in shape_forms(layer["output_shape"])), where
        assert any(whole(form, text) for form in count_forms(layer["params"])), where
        assert any(whole(form, text) for form in count_forms(layer["macs"])), where
        assert whole(kib(layer["activation_bytes"]), text), where
        rf = layer["receptive_field"]
        if isinstance(rf, dict) and len(set(rf["size"])) == 1:
            assert whole(f"{rf['size'][0]} (jump {rf['jump'][0]})", text), where
        for source in layer.get("inputs", []):
            assert whole(source, text), where
    assert whole(f"Total params: {doc['total_params']:,}", text)
    assert whole(f"{doc['total_macs']:,}", text)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [README_ALL, RESNET50_ALL], ids=["readme-all", "resnet50-all"])
def test_every_number_and_name_appears_whole(args: list[str], width: int | None) -> None:
    doc = json.loads(run("summary", *args[:-1], "--format", "json").stdout)  # JSON: every figure
    extra = [] if width is None else ["--width", str(width)]
    result = run("summary", *args, *extra)
    assert result.exit_code == 0, result.stderr
    assert_every_figure_whole(result.stdout, doc)
    lines = result.stdout.splitlines()
    if width is None:  # redirected: as wide as the content, every number in full
        assert all(whole(f"{layer['macs']:,}", result.stdout) for layer in doc["layers"])
        assert "(None, 112, 112, 64)" in result.stdout
    else:  # both fit, through compact units, second tables and names wrapped at their space
        assert max(map(len, lines)) <= width, max(lines, key=len)


def test_readme_all_example_uses_compact_units_then_a_second_table() -> None:
    at80 = run("summary", *README_ALL, "--width", "80").stdout
    assert whole("1.85 G", at80) and "1,849,688,0" not in at80.replace("1,849,688,064", "")
    assert at80.count("Layer (type)") == 2  # the receptive field moved to a second table
    at120 = run("summary", *README_ALL, "--width", "120").stdout
    assert at120.count("Layer (type)") == 1 and whole("1,849,688,064", at120)  # it all fits in full


def test_models_at_60_columns_keeps_names_and_counts_whole() -> None:
    out = run("models", "--width", "60").stdout
    doc = json.loads(run("models", "--format", "json").stdout)
    assert "…" not in out
    for entry in doc:
        assert whole(entry["name"], out)
        assert any(whole(form, out) for form in count_forms(entry["total_params"]))
    assert max(map(len, out.splitlines())) <= 60


def test_output_file_and_redirect_give_the_same_bytes(tmp_path: Path) -> None:
    target = tmp_path / "o.txt"
    redirected = tmp_path / "r.txt"
    base = [sys.executable, "-m", "cnncalc", "summary", *RESNET50_ALL]
    subprocess.run([*base, "-o", str(target)], check=True, capture_output=True, timeout=60)
    with redirected.open("w") as handle:  # a real redirect: stdout is a file, not a terminal
        subprocess.run(base, check=True, stdout=handle, timeout=60, env={"COLUMNS": "80", "PATH": ""})
    assert target.read_bytes() == redirected.read_bytes()
    assert whole("2,049,000", target.read_text())  # fc1000's params in full (2048*1000 + 1000)


def test_width_option_is_validated() -> None:
    bad = run("summary", *README_ALL, "--width", "5")
    assert bad.exit_code == 2 and "--width" in bad.stderr
    for args in (
        ["summary", *README, "--format", "json"],
        ["models", "--format", "json"],
        ["explain", *README, "--format", "markdown"],
        ["check", "-", "--format", "junit"],
    ):
        refused = run(*args, "--width", "80")
        assert refused.exit_code == 2 and "--width has no effect on --format" in refused.stderr, args


def test_verify_and_check_tables_fit_too() -> None:
    out = run("verify", "--model", "lenet5", "--width", "60").stdout
    assert max(map(len, out.splitlines()[:-2])) <= 60  # the table; the footer lines wrap at spaces
    doc = json.loads(run("verify", "--model", "lenet5", "--format", "json").stdout)
    for layer in doc["layers"]:
        assert whole(layer["name"], out) and whole("x".join(map(str, layer["predicted_shape"])), out)


# ------------------------------------------------------------------------------------ the fitting itself


def test_plan_order_compact_then_split_then_wrap() -> None:
    cols = (Col("Name", wrap=True), Col("Count", right=True), Col("Extra", secondary=True))
    rows = ((Cell("alpha beta"), Cell("1,000,000", "1.00 M"), Cell("x" * 10)),)
    grid = Grid(cols, rows)
    # natural widths 10 + 9 + 10, plus 3 per column and a border: 39
    assert plan(grid, None).width(grid) == 39 and not plan(grid, 39).compact
    assert plan(grid, 38).compact and len(plan(grid, 38).groups) == 1  # 10 + 6 + 10 + 10 = 36
    assert (
        len(plan(grid, 30).groups) == 2 and not plan(grid, 30).wrapped
    )  # (Name, Count) 23, (Name, Extra) 27
    tight = plan(grid, 22)  # Name must wrap: 'alpha' / 'beta'
    assert tight.wrapped and tight.widths[0] == 5


@given(
    st.lists(st.text(alphabet="ab,_x", min_size=1, max_size=12), min_size=1, max_size=8), st.integers(1, 40)
)
def test_wrap_words_never_breaks_a_word(words: list[str], width: int) -> None:
    assume(width >= max(map(len, words)))
    text = " ".join(words)
    wrapped = wrap_words(text, width)
    assert wrapped.split() == text.split()  # same words, none cut
    assert all(len(line) <= width for line in wrapped.split("\n"))


# ------------------------------------------------------------------------------------ the HTML table


def html_table(page: str) -> tuple[list[dict], list[list[dict]]]:
    """The first <table>'s header cells and body rows, each cell as {tag, attrs, text}."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.head: list[dict] = []
            self.rows: list[list[dict]] = []
            self.section = ""
            self.cell: dict | None = None

        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag in ("thead", "tbody"):
                self.section = tag
            elif tag == "tr" and self.section == "tbody":
                self.rows.append([])
            elif tag in ("th", "td"):
                self.cell = {"tag": tag, "attrs": dict(attrs), "text": ""}

        def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
            if tag in ("th", "td") and self.cell is not None:
                (self.head if self.section == "thead" else self.rows[-1]).append(self.cell)
                self.cell = None
            elif tag == "table":
                self.section = "done"

        def handle_data(self, data):  # type: ignore[no-untyped-def]
            if self.cell is not None and self.section != "done":
                self.cell["text"] += data

    reader = Reader()
    reader.feed(page)
    return reader.head, reader.rows


def test_html_report_is_a_real_sortable_table(tmp_path: Path) -> None:
    page_path = tmp_path / "r.html"
    assert run("summary", *RESNET50_ALL, "--format", "html", "-o", str(page_path)).exit_code == 0
    page = page_path.read_text()
    doc = json.loads(run("summary", "--model", "resnet50", "--format", "json").stdout)
    head, rows = html_table(page)
    assert [h["text"] for h in head] == [
        "Layer (type)",
        "Output Shape",
        "Param #",
        "MACs",
        "Memory",
        "Receptive field",
        "Connected to",
    ]
    assert all(h["tag"] == "th" and h["attrs"]["scope"] == "col" for h in head)
    assert len(rows) == len(doc["layers"])
    for row, layer in zip(rows, doc["layers"], strict=True):
        assert row[0]["tag"] == "th" and row[0]["attrs"]["scope"] == "row"
        assert row[0]["text"].startswith(layer["name"] + " (")
        assert row[1]["text"] == shape_forms(layer["output_shape"])[0]
        assert (row[2]["text"], int(row[2]["attrs"]["data-sort"])) == (
            f"{layer['params']:,}",
            layer["params"],
        )
        assert int(row[3]["attrs"]["data-sort"]) == layer["macs"]
        assert int(row[4]["attrs"]["data-sort"]) == layer["activation_bytes"]
    assert page.count('<button type="button" class="sort">') == len(head)
    assert "aria-sort" in page and "<script>" in page and "<pre" not in page
    # The complete shape flow: every layer's shape, in order, none elided.
    flow = re.search(r'<p class="flow">Shape flow: (.*?)</p>', page).group(1)  # type: ignore[union-attr]
    assert flow.split(" → ") == [
        "224x224x3",
        *("x".join(map(str, layer["output_shape"])) for layer in doc["layers"]),
    ]


def test_jupyter_fragment_is_a_table() -> None:
    import cnncalc

    html = cnncalc.summarize(
        ["conv:16,2,2,valid", "conv:32,3,padding=same"], input_shape="200x200x1"
    )._repr_html_()
    head, rows = html_table(html)
    assert [h["text"] for h in head] == ["Layer (type)", "Output Shape", "Param #"]
    assert [[c["text"] for c in r] for r in rows] == [
        ["conv2d (Conv2D)", "(None, 100, 100, 16)", "80"],  # 2*2*1*16 + 16
        ["conv2d_1 (Conv2D)", "(None, 100, 100, 32)", "4,640"],  # 3*3*16*32 + 32
    ]
    assert "<script" not in html  # Jupyter front ends drop scripts; the fragment needs none


# --- The plain-text table path draws the bytes Rich draws ----------------------------------------

#: Letters, digits, spaces, line breaks, wide and combining characters; some grids also hold
#: characters Rich treats specially (tabs, control codes, non-breaking spaces: the fallback).
_PLAIN = list("ab1,.() -x") + ["\n", "中", "\u0301"]
_SPECIAL = [*_PLAIN, "\t", "\r", "\xa0"]


@st.composite
def _grids(draw: st.DrawFn) -> Grid:
    n = draw(st.integers(1, 4))
    cell_text = st.text(st.sampled_from(_SPECIAL if draw(st.integers(0, 4)) == 0 else _PLAIN), max_size=14)
    columns = tuple(
        Col(
            draw(cell_text),
            short=draw(st.sampled_from(["", "s", "sh rt"])),
            right=draw(st.booleans()),
            secondary=i > 0 and draw(st.booleans()),
            wrap=draw(st.booleans()),
        )
        for i in range(n)
    )
    rows = draw(
        st.lists(
            st.tuples(
                *(
                    st.builds(
                        Cell, cell_text, st.sampled_from(["", "c", "1 k"]), st.sampled_from(["", "bold"])
                    )
                    for _ in range(n)
                )
            ),
            max_size=5,
        )
    )
    return Grid(columns, tuple(rows), lines=draw(st.booleans()), simple=draw(st.booleans()))


def _rich_tables(grid: Grid, chosen: object) -> str:
    import io

    from rich.console import Console

    from cnncalc.render.grid import tables

    console = Console(
        width=100_000, file=io.StringIO(), color_system=None, force_terminal=False, legacy_windows=False
    )
    for table in tables(grid, chosen):  # type: ignore[arg-type]
        console.print(table, crop=False)
    return console.file.getvalue()  # type: ignore[attr-defined]


@given(grid=_grids(), width=st.one_of(st.none(), st.integers(4, 90)))
def test_plain_tables_are_richs_bytes(grid: Grid, width: int | None) -> None:
    """Whenever the plain path draws a plan, it is byte for byte what Rich draws for it."""
    from cnncalc.render.grid import plain_text

    chosen = plan(grid, width)
    fast = plain_text(grid, chosen)
    assume(fast is not None)
    assert fast == _rich_tables(grid, chosen)


@given(grid=_grids(), width=st.one_of(st.none(), st.integers(4, 90)))
def test_plain_path_taken_for_plain_cells(grid: Grid, width: int | None) -> None:
    """Printable text without tabs or controls is always drawn by the plain path (so the
    comparison above is not vacuous), and a Fitted grid prints the same through either path."""
    from cnncalc.render.grid import plain_text

    texts = [c.header + c.short for c in grid.columns] + [c.text + c.compact for r in grid.rows for c in r]
    assume(all(line.isprintable() for t in texts for line in t.split("\n")))
    chosen = plan(grid, width)
    assume(all(chosen.widths[i] for g in chosen.groups for i in g))
    assert plain_text(grid, chosen) is not None


def _printed(grid: Grid, width: int | None, record: bool) -> str:
    import io

    from rich.console import Console

    from cnncalc.render.grid import Fitted

    # record=True keeps styles for an export, so Fitted leaves the drawing to Rich.
    console = Console(
        width=width or 100_000, file=io.StringIO(), color_system=None, force_terminal=False, record=record
    )
    console.print(Fitted(grid), crop=False)
    return console.file.getvalue()  # type: ignore[attr-defined]


@given(grid=_grids(), width=st.one_of(st.none(), st.integers(4, 90)))
def test_fitted_prints_the_same_through_either_path(grid: Grid, width: int | None) -> None:
    """End to end: a Fitted grid printed plain (fast path when it can) and printed by Rich's
    tables (a recording console) give the same bytes, whatever the cells hold."""
    assert _printed(grid, width, record=False) == _printed(grid, width, record=True)


@given(
    data=st.lists(st.tuples(st.integers(1, 40), st.integers(0, 40), st.booleans()), min_size=1, max_size=5),
    limit=st.integers(0, 200),
)
def test_share_gives_the_largest_cap_that_fits(data: list[tuple[int, int, bool]], limit: int) -> None:
    """Water-filling by definition: every wrapping column gets max(narrowest, min(natural, c))
    for the largest c (from 0 to the widest natural width) whose widths fit the room; c = 0
    when none does. Checked against a search over every c."""
    from cnncalc.render.grid import _share, _table_width

    narrow = [min(a, b) for a, b, _ in data]
    natural = [max(a, b) for a, b, _ in data]
    grid = Grid(tuple(Col(f"c{i}", wrap=w) for i, (_, _, w) in enumerate(data)), ())
    group = list(range(len(data)))
    wrapping = [i for i in group if grid.columns[i].wrap or narrow[i] < natural[i]]
    fixed = [i for i in group if i not in wrapping]
    room = limit - _table_width(grid, [0] * len(group)) - sum(natural[i] for i in fixed)
    fits = [
        c
        for c in range(max((natural[i] for i in wrapping), default=0) + 1)
        if sum(max(narrow[i], min(natural[i], c)) for i in wrapping) <= room
    ]
    cap = max(fits, default=0)
    expected = [max(narrow[i], min(natural[i], cap)) if i in wrapping else natural[i] for i in group]
    shared = list(natural)
    _share(grid, group, shared, narrow, limit)
    assert shared == expected
