"""Lines drawn without Rich (render/lines.py) are the bytes Rich draws for them, and a summary
table written to a pipe or a file never imports Rich (start-up: Rich is a third of it)."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.render.console import NATURAL_WIDTH, to_pieces, to_text
from cnncalc.render.lines import Line, Stack

TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    [
        'Model: "vgg16"',
        "Total params: 138,357,544 (527.79 MB)",
        "224x224x3 → 1000 … ok",
        "a  b  ",
        "漢字 wide",
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
