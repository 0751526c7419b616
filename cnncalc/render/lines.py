"""Lines of text under or over a table, and a stack of renderables, that draw themselves without
Rich when no style reaches the output.

``cnncalc summary`` piped or written to a file (no colour) then never imports Rich at all: the
table is drawn by :func:`~cnncalc.render.grid.plain_pieces` and these lines by
:meth:`Line.plain_pieces`, the bytes Rich would draw (tests/test_lines.py compares them). On a
terminal, or whenever the text needs Rich's own handling (wrapping, tabs, control characters),
:meth:`Line.__rich__` gives the Rich renderable it stands for.
"""

from __future__ import annotations

from typing import Any


class Line:
    """One line of text in a style, ``indent`` spaces in: ``Text(text, style)`` (indent 0), or
    ``Padding(Text(text, style), (0, 0, 0, indent), expand=False)``, which wraps at spaces with
    the same indent when the width is narrower than the line."""

    __slots__ = ("text", "style", "indent")

    def __init__(self, text: str, style: str = "", indent: int = 0) -> None:
        self.text = text
        self.style = style
        self.indent = indent

    def plain_pieces(self, width: int) -> list[str] | None:
        """What Rich prints for it without colour at ``width`` (trailing spaces dropped, as
        :func:`~cnncalc.render.console.to_text` does), or None when Rich must draw it: a line
        that might wrap (a character takes at most two columns), or one with characters Rich
        strips, expands or measures on its own."""
        text = self.text
        if not text or not text.isprintable() or self.indent + 2 * len(text) > width:
            return None
        return [(" " * self.indent + text).rstrip() + "\n"]

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
