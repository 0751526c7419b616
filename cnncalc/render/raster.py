"""SVG to PNG through a converter found on the machine (no new dependency).

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


def svg_to_png(svg: str) -> bytes:
    """The PNG of an SVG document; CnncalcError when no converter is available or it fails."""
    available = converters()
    if not available:
        raise CnncalcError(
            "PNG output needs an SVG converter and none was found: install librsvg (rsvg-convert, "
            "e.g. apt install librsvg2-bin or brew install librsvg) or the cairosvg package, "
            "or write .svg"
        )
    name = available[0]
    data = svg.encode("utf-8")
    if name == "cairosvg":
        import cairosvg

        png: bytes = cairosvg.svg2png(bytestring=data)
        return png
    command = {"rsvg-convert": ["rsvg-convert", "--format", "png"], "magick": ["magick", "svg:-", "png:-"]}[
        name
    ]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CnncalcError(f"{name} could not convert the diagram to PNG: {err}") from None
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise CnncalcError(
            f"{name} could not convert the diagram to PNG: {' '.join(reason) or 'no PNG came out'}"
        )
    return done.stdout
