"""SVG to PNG or PDF through a converter found on the machine (no new dependency).

Tried in order: ``rsvg-convert`` (librsvg), the ``cairosvg`` Python package, ImageMagick 7's
``magick``. None found is a one-line error that names what to install.
"""

from __future__ import annotations

import shutil
import subprocess

from ..errors import CnncalcError

#: How long a converter may take before it is given up on (seconds).
TIMEOUT = 120


def converters() -> list[str]:
    """The converters available here, by name, in the order they are tried."""
    found = [name for name in ("rsvg-convert",) if shutil.which(name)]
    try:
        import cairosvg  # type: ignore[import-not-found]  # noqa: F401 - optional
    except Exception:  # noqa: BLE001 - missing, or present without its C library
        pass
    else:
        found.append("cairosvg")
    if shutil.which("magick"):
        found.append("magick")
    return found


#: What each raster format's file starts with (a converter's output is checked against it).
MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF"}


def svg_to_png(svg: str) -> bytes:
    """The PNG of an SVG document; CnncalcError when no converter is available or it fails."""
    return svg_to(svg, "png")


def svg_to(svg: str, fmt: str) -> bytes:
    """The SVG document as ``fmt`` (``png`` or ``pdf``) through the first converter found here;
    CnncalcError when none is available or it fails."""
    what = fmt.upper()
    available = converters()
    if not available:
        raise CnncalcError(
            f"{what} output needs an SVG converter and none was found: install librsvg (rsvg-convert, "
            "e.g. apt install librsvg2-bin or brew install librsvg) or the cairosvg package, "
            "or write .svg"
        )
    name = available[0]
    data = svg.encode("utf-8")
    if name == "cairosvg":
        import cairosvg

        out: bytes = getattr(cairosvg, f"svg2{fmt}")(bytestring=data)
        return out
    command = {"rsvg-convert": ["rsvg-convert", "--format", fmt], "magick": ["magick", "svg:-", f"{fmt}:-"]}[
        name
    ]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CnncalcError(f"{name} could not convert the diagram to {what}: {err}") from None
    if done.returncode != 0 or not done.stdout.startswith(MAGIC[fmt]):
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise CnncalcError(
            f"{name} could not convert the diagram to {what}: {' '.join(reason) or f'no {what} came out'}"
        )
    return done.stdout
