"""Lines drawn without Rich (render/lines.py) are the bytes Rich draws for them, and a summary
table written to a pipe or a file never imports Rich (start-up: Rich is a third of it)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.render.console import NATURAL_WIDTH, to_pieces, to_text
from cnncalc.render.lines import Line, Stack

from .test_tables import _grids

TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    [
        'Model: "vgg16"',
        "Total params: 138,357,544 (527.79 MB)",
        "224x224x3 → 1000 … ok",
        "a  b  ",
        "漢字 wide",
        "é à ü ×",
        "🏻",
    ]
)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, indent=st.integers(0, 2), width=st.integers(1, 60) | st.just(NATURAL_WIDTH))
def test_a_line_drawn_without_rich_is_what_rich_draws(text: str, indent: int, width: int) -> None:
    line = Line(text, "bold", indent)
    direct = line.plain_pieces(width)
    if direct is not None:  # None: Rich draws it (wrapping, control characters, tabs)
        assert "".join(direct) == to_text(line.__rich__(), width=width)
    assert "".join(to_pieces(Stack(line), width=width)) == to_text(line.__rich__(), width=width)


def test_a_stack_draws_as_a_group() -> None:
    from rich.console import Group

    parts = [Line("Model: x", "bold"), Line("tab\there", indent=1), Line(" total: 3 ", "dim", 1)]
    assert to_text(Stack(*parts)) == to_text(Group(*(p.__rich__() for p in parts)))
    assert to_text(Stack(*parts), color=True) == to_text(Group(*(p.__rich__() for p in parts)), color=True)
    assert "".join(to_pieces(Stack(*parts))) == to_text(Stack(*parts))


def test_a_piped_summary_table_never_imports_rich_console() -> None:
    code = (
        "import sys\nfrom cnncalc.cli import cli\n"
        "try:\n    cli(['summary', '--model', 'vgg16'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print(sorted(m for m in ('rich.console', 'rich.text', 'rich.table', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "block5_pool (MaxPooling2D)" in out  # the table was drawn
    assert out.strip().splitlines()[-1] == "[]"


RICH_VARIABLES = (
    "NO_COLOR",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "COLORTERM",
)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment whose terminal Rich writes bold and dim to as SGR codes."""
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in RICH_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@settings(max_examples=300, deadline=None)
@given(
    text=TEXTS,
    indent=st.integers(0, 2),
    style=st.sampled_from(["", "bold", "dim", "bold green"]),
    width=st.integers(1, 60) | st.just(NATURAL_WIDTH),
)
def test_a_line_in_colour_is_what_rich_draws_on_a_terminal(
    text: str, indent: int, style: str, width: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TERM", "xterm-256color")
        for name in RICH_VARIABLES:
            patch.delenv(name, raising=False)
        line = Line(text, style, indent)
        rich = to_text(line.__rich__(), width=width, color=True)
        direct = line.plain_pieces(width, color=True)
        if direct is not None:
            assert "".join(direct) == rich
        assert "".join(to_pieces(Stack(line), width=width, color=True)) == rich


@settings(max_examples=200, deadline=None)
@given(grid=_grids(), width=st.one_of(st.none(), st.integers(4, 90)))
def test_a_table_in_colour_is_what_rich_draws_on_a_terminal(grid, width: int | None) -> None:
    from cnncalc.render.grid import Fitted

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TERM", "xterm-256color")
        for name in RICH_VARIABLES:
            patch.delenv(name, raising=False)
        fitted = Fitted(grid)
        rich = to_text(fitted, width=width, color=True)
        direct = fitted.plain_pieces(width or NATURAL_WIDTH, color=True)
        if direct is not None:
            assert "".join(direct) == rich
        assert "".join(to_pieces(Stack(fitted), width=width, color=True)) == rich


@pytest.mark.parametrize("width", [None, 30, 60, 80, 120, 200])
@pytest.mark.parametrize("args", [(), ("--all",), ("--count", "flops", "--columns", "shape,macs")])
def test_summary_tables_in_colour_are_what_rich_draws(
    terminal: None, width: int | None, args: tuple[str, ...]
) -> None:
    """The zoo's tables on a terminal: drawn directly (no Rich), byte for byte Rich's."""
    import cnncalc
    from cnncalc.cli.options import make_view
    from cnncalc.render.lines import styles_written
    from cnncalc.render.table import summary_table
    from cnncalc.zoo import load

    assert styles_written()
    for model in ("vgg16", "resnet50", "keras/inception_block"):
        summary = cnncalc.summarize(load(model))
        view = make_view(None, "--all" in args, "flops" if "flops" in args else None, False, "table")
        renderable = summary_table(summary, view)
        direct = list(to_pieces(renderable, width=width, color=True))
        assert "".join(direct) == to_text(renderable, width=width, color=True)
        if model == "vgg16" and width in (None, 120):
            assert len(direct) > 2  # drawn directly (Rich would be one piece): not vacuous


@pytest.mark.parametrize("term", ["dumb", "unknown"])
def test_a_dumb_terminal_is_left_to_rich(monkeypatch: pytest.MonkeyPatch, term: str) -> None:
    from cnncalc.render.lines import styles_written

    monkeypatch.setenv("TERM", term)
    assert not styles_written()
    line = Line("Total: 3", "bold", 1)
    assert "".join(to_pieces(Stack(line), width=80, color=True)) == to_text(
        line.__rich__(), width=80, color=True
    )
    monkeypatch.setenv("TERM", "xterm")
    assert styles_written()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not styles_written()


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-3", "57"])
def test_terminal_columns_are_shutils(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    import shutil

    from cnncalc.render.lines import terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal_columns() == shutil.get_terminal_size().columns
