"""Errors speak the library's words; the CLI spells the same options as its flags and prints hints."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import CnncalcError, Option, ShapeError, spell_with

from .helpers import run


def test_library_names_options_the_cli_names_flags() -> None:
    with pytest.raises(ShapeError) as caught:
        cnncalc.summarize(["conv:8,3,2,same"], input_shape=(3, 9, 9), convention="pytorch")
    assert str(caught.value).endswith("use integer padding or convention='keras'")
    result = run("summary", "--convention", "pytorch", "--input", "3x9x9", "conv:8,3,2,same")
    assert result.exit_code == 2
    first, hint = result.stderr.splitlines()
    assert first.endswith("use integer padding or --convention keras")
    # Keras pads 9 -> 5 with total (5 - 1)*2 + 3 - 9 = 2: one cell each side, PyTorch's padding=1.
    assert hint == "Hint: padding=1 gives exactly Keras's 'same' here (output 5x5)"


def test_render_with_a_speller_and_layer_naming() -> None:
    err = ShapeError("too small; use ", Option("input_shape", "8x8x1"), hint=("give ", Option("batch", 2)))
    placed = err.at("layer 2 (conv:8,5)")
    assert str(placed) == "layer 2 (conv:8,5): too small; use input_shape='8x8x1'"
    spell = spell_with({"input_shape": "--input", "batch": "--batch"})
    assert placed.render(spell) == "layer 2 (conv:8,5): too small; use --input 8x8x1"
    assert placed.render_hint(spell) == "give --batch 2"
    assert placed.at("layer 3 (x)") is placed  # the first naming wins
    assert (
        str(placed.prefixed("model.json: "))
        == "model.json: layer 2 (conv:8,5): too small; use input_shape='8x8x1'"
    )


def test_cli_prints_the_hint_on_a_second_line(monkeypatch) -> None:
    from cnncalc import engine

    def refuse(*args: object, **kwargs: object) -> None:
        raise ShapeError("no room", hint=("try a larger ", Option("input_shape"), " such as 32x32x3"))

    monkeypatch.setattr(engine, "summarize", refuse)
    result = run("summary", "--input", "8x8x3", "conv:8,3")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["Error: no room", "Hint: try a larger --input such as 32x32x3"]


def test_messages_are_one_line_whatever_the_parts_hold() -> None:
    err = CnncalcError("a\nb", Option("convention", "keras"), "\n c")
    assert str(err) == "a bconvention='keras' c"
