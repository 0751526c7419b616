"""Lines of text under or over a table, and a stack of renderables, that draw themselves without
Rich when no style reaches the output.

``cnncalc summary`` then never imports Rich at all, piped or written to a file (no colour) or on
a terminal (bold and dim are two SGR codes): the table is drawn by
:func:`~cnncalc.render.grid.plain_pieces` and these lines by :meth:`Line.plain_pieces`, the bytes
Rich would draw (tests/test_lines.py compares them). Whenever the text needs Rich's own handling
(wrapping, tabs, control characters, colours), :meth:`Line.__rich__` gives the Rich renderable
it stands for.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any

#: The styles written without Rich, as Rich writes them on a terminal (SGR 1 and 2).
SGR = {"": "", "bold": "\x1b[1m", "dim": "\x1b[2m"}
RESET = "\x1b[0m"

#: Characters beyond Latin-1's that cnncalc's lines use, one column each as Rich measures them.
_SYMBOLS = frozenset("→…·×")


def _narrow(text: str) -> bool:
    """Every character takes one column: printable ASCII or Latin (below the combining marks
    at U+0300) or one of :data:`_SYMBOLS` (wide, zero-width and combining ones are Rich's)."""
    return text.isascii() or all(ord(c) < 0x300 or c in _SYMBOLS for c in text)


def styles_written() -> bool:
    """True when Rich, drawing for a terminal (``to_text(color=True)``: ``force_terminal``,
    ``color_system="auto"``), would write bold and dim as :data:`SGR`: it picks a colour system
    unless TERM is dumb or unknown (and in Jupyter); any variable that may change its mind
    (NO_COLOR, FORCE_COLOR, TTY_COMPATIBLE, ...) leaves the drawing to Rich."""
    env = os.environ
    if (
        os.name == "nt"
        or env.get("TERM", "").lower() in ("dumb", "unknown")
        or hasattr(builtins, "get_ipython")
    ):
        return False
    return not any(
        name in env
        for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")
    )


class Line:
    """One line of text in a style, ``indent`` spaces in: ``Text(text, style)`` (indent 0), or
    ``Padding(Text(text, style), (0, 0, 0, indent), expand=False)``, which wraps at spaces with
    the same indent when the width is narrower than the line."""

    __slots__ = ("text", "style", "indent")

    def __init__(self, text: str, style: str = "", indent: int = 0) -> None:
        self.text = text
        self.style = style
        self.indent = indent

    def plain_pieces(self, width: int, color: bool = False) -> list[str] | None:
        """What Rich prints for it at ``width``: without colour, trailing spaces dropped (as
        :func:`~cnncalc.render.console.to_text` does); with colour, its style's SGR codes around
        the text (see :func:`styles_written`); or None when Rich must draw it: a line that does
        not fit, one with characters Rich strips, expands or measures on its own (anything but
        printable Latin letters and the few symbols cnncalc writes), or (in colour) a style
        other than bold or dim, or edge spaces."""
        text = self.text
        if not text or not text.isprintable() or self.indent + len(text) > width or not _narrow(text):
            return None
        if not color:
            return [(" " * self.indent + text).rstrip() + "\n"]
        sgr = SGR.get(self.style)
        if sgr is None or text != text.strip():
            return None
        return [" " * self.indent + (f"{sgr}{text}{RESET}" if sgr else text) + "\n"]

    def __rich__(self) -> Any:
        from rich.text import Text

        text = Text(self.text, style=self.style)
        if not self.indent:
            return text
        from rich.padding import Padding

        return Padding(text, (0, 0, 0, self.indent), expand=False)


class Stack:
    """Renderables drawn one after another, as ``rich.console.Group(*parts)`` draws them;
    :func:`~cnncalc.render.console.to_pieces` takes it apart without importing Rich."""

    __slots__ = ("parts",)

    def __init__(self, *parts: Any) -> None:
        self.parts = list(parts)

    @property
    def renderables(self) -> list[Any]:
        """The parts, as ``Group.renderables`` names them."""
        return self.parts

    def __rich__(self) -> Any:
        from rich.console import Group

        return Group(*self.parts)


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil (which loads the bz2,
    lzma and zlib modules: a few milliseconds of a terminal run): COLUMNS when it is a positive
    number, else standard output's terminal width, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80
