"""Where rendered output goes: text for standard output or a file, and a progress bar on stderr."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: The width used when none is given (a file, a pipe): wide enough that nothing wraps, so the
#: output is as wide as its content and ``-o FILE`` and ``> FILE`` give the same bytes.
NATURAL_WIDTH = 100_000


def to_text(*renderables: Any, width: int | None = None, color: bool = False, soft_wrap: bool = False) -> str:
    """Renderables as text ``width`` columns wide (None: the content's own width).

    ``color`` keeps ANSI styles (for a terminal); without it, trailing spaces are removed.
    ``soft_wrap`` leaves long lines of text unwrapped (tables still fit the width).
    Nothing is cropped: a table whose narrowest form is wider than ``width`` runs past it.
    """
    from rich.console import Console

    console = Console(
        width=width or NATURAL_WIDTH,
        file=io.StringIO(),
        force_terminal=color,
        color_system="auto" if color else None,
        soft_wrap=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
    )
    for renderable in renderables:
        console.print(renderable, crop=False, soft_wrap=soft_wrap)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    if not color:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text


def to_pieces(
    renderable: Any, width: int | None = None, color: bool = False, soft_wrap: bool = False
) -> Iterator[str]:
    """:func:`to_text` of one renderable in pieces that join to the same text, made as they are
    asked for: a Group holding a big table (:class:`~cnncalc.render.grid.Fitted`) drawn without
    colour has the table's lines written directly, a few thousand a piece, and never all in one
    string (which Rich and the trailing-space pass would copy several times over: 100,000 rows
    are tens of megabytes); the writer holds or writes each piece as it comes. In colour (a
    terminal) the summary's table and lines are drawn directly too, with the bold and dim codes
    Rich writes (:func:`~cnncalc.render.lines.styles_written`): Rich is then never imported.
    """
    items = getattr(renderable, "parts", None)  # a lines.Stack: taken apart without Rich
    if items is None:
        from rich.console import Group

        items = list(renderable.renderables) if isinstance(renderable, Group) else [renderable]
    from .lines import styles_written  # in colour, bold and dim as Rich writes them on a terminal

    if (color and not styles_written()) or not any(hasattr(item, "plain_pieces") for item in items):
        yield to_text(renderable, width=width, color=color, soft_wrap=soft_wrap)
        return
    pending: list[Any] = []  # drawn by Rich, each as the Group would draw it (one after another)
    for item in items:
        direct = item.plain_pieces(width or NATURAL_WIDTH, color) if hasattr(item, "plain_pieces") else None
        if direct is None:
            pending.append(item)
            continue
        if pending:
            yield to_text(*pending, width=width, color=color, soft_wrap=soft_wrap)
            pending = []
        yield from direct
    if pending:
        yield to_text(*pending, width=width, color=color, soft_wrap=soft_wrap)


@contextmanager
def progress_bar(total: int, show: bool, what: str = "verifying") -> Iterator[Callable[[int], None]]:
    """A transient progress bar on stderr when ``show`` and stderr is a terminal; a no-op otherwise.

    Yields ``advance(done)``: how many of ``total`` steps are done.
    """
    if not show or not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, completed=done)
