"""Where rendered output goes on a terminal: the stdout console and a progress bar on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def stdout_console() -> Any:
    """A Rich console on stdout (plain text when not a terminal or NO_COLOR is set)."""
    from rich.console import Console

    return Console(soft_wrap=False, emoji=False, highlight=False)


def print_out(renderable: Any, *, soft_wrap: bool = False) -> None:
    """Print a Rich renderable to standard output."""
    stdout_console().print(renderable, soft_wrap=soft_wrap)


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
