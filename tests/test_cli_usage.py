"""The command line's own surface: bare `cnncalc`, usage errors in Click's form, options that
either show their effect or are refused, and how --input is written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnncalc.errors import SpecError
from cnncalc.layers.args import shape_text

from .helpers import error_lines, run, run_json

CONV = ["--input", "32x32x3", "conv:8,3"]
# conv:8,3 on 32x32x3 (valid): 30x30x8 outputs, each 3*3*3 = 27 multiply-accumulates and one bias add.
MACS = 30 * 30 * 8 * 27  # 194,400
BIAS_ADDS = 30 * 30 * 8  # 7,200


def test_bare_cnncalc_prints_help_and_succeeds() -> None:
    result = run()
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: cnncalc [OPTIONS] COMMAND [ARGS]...")
    for command in ("summary", "check", "diagram", "models", "verify", "explain", "kinds"):
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize(
    ("args", "usage", "message"),
    [
        (["summary", "--bogus"], "Usage: cnncalc summary [OPTIONS] [LAYER]...", "No such option '--bogus'"),
        (["nosuch"], "Usage: cnncalc [OPTIONS] COMMAND [ARGS]...", "No such command 'nosuch'"),
        (["check"], "Usage: cnncalc check [OPTIONS] SPEC...", "Missing argument 'SPEC...'"),
    ],
)
def test_usage_errors_keep_usage_and_try_lines(args: list[str], usage: str, message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == usage
    assert lines[1] == f"Try '{usage.split(' [')[0].removeprefix('Usage: ')} -h' for help."
    assert error_lines(result.stderr) == [lines[2]] and message in lines[2]


def test_count_flops_alone_shows_the_flops_column() -> None:
    out = run("summary", *CONV, "--count", "flops").stdout
    assert "FLOPs" in out and f"{2 * MACS + BIAS_ADDS:,}" in out  # 396,000
    assert f"Total FLOPs: {2 * MACS + BIAS_ADDS:,}" in out


def test_bias_macs_alone_shows_the_macs_column_with_bias_adds() -> None:
    plain = run("summary", *CONV).stdout
    assert "MACs" not in plain
    out = run("summary", *CONV, "--bias-macs").stdout
    assert f"{MACS + BIAS_ADDS:,}" in out and "bias adds included" in out  # 201,600


def test_columns_and_count_combine() -> None:
    out = run("summary", *CONV, "--columns", "shape,macs", "--count", "flops").stdout
    assert "FLOPs" in out and "Param #" not in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--all", "--columns", "params"], "give --all or --columns, not both"),
        (["--columns", ""], "needs at least one column"),
        (["--columns", " , "], "needs at least one column"),
        (["--columns", "shape,,params"], "has an empty entry"),
        (["--columns", "shape,nope"], "must be one of shape, params, macs, memory, rf, got 'nope'"),
        (["--columns", "shape", "--count", "flops"], "--count changes the macs column"),
        (["--columns", "shape", "--bias-macs"], "--bias-macs changes the macs column"),
        (["--count", "flops", "--bias-macs"], "--bias-macs has no effect with --count flops"),
        (["--all", "--format", "json"], "--all has no effect on --format json"),
        (["--columns", "macs", "--format", "csv"], "--columns has no effect on --format csv"),
    ],
)
def test_options_that_would_do_nothing_are_refused(extra: list[str], message: str) -> None:
    result = run("summary", *CONV, *extra)
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = error_lines(result.stderr)
    assert message in line


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("28x28", [28, 28]),
        ("28 28", [28, 28]),  # two axes, never 2828
        ("200 200 1", [200, 200, 1]),
        ("200,200,1", [200, 200, 1]),
        ("200, 200, 1", [200, 200, 1]),
        ("(200, 200, 1)", [200, 200, 1]),
        ("[3, 32, 32]", [3, 32, 32]),
        ("200 x 200 x 1", [200, 200, 1]),
        ("200X200X1", [200, 200, 1]),
    ],
)
def test_input_separators(text: str, shape: list[int]) -> None:
    doc = run_json("summary", "--input", text, "dense:2")
    assert doc["input_shape"] == shape


@pytest.mark.parametrize(
    "text", ["1_000x8x3", "２８x28", "28x٢٨", "200x200,1", "28 x 28 28", "", "x", "2 00x3", "1e3x2"]
)
def test_input_refuses_other_digits_and_mixed_separators(text: str) -> None:
    result = run("summary", "--input", text, "dense:2")
    assert result.exit_code == 2
    (line,) = error_lines(result.stderr)
    assert f"--input {text!r} is not like 200x200x1" in line


def test_compact_numbers_are_ascii_digits_only() -> None:
    result = run("summary", "--input", "8x8x1", "conv:１６,3")
    assert result.exit_code == 2 and "filters: expected an integer, got '１６'" in result.stderr


@given(
    st.lists(st.integers(1, 10**6), min_size=1, max_size=8),
    st.sampled_from(["x", "X", ",", ", ", " ", "  ", " x "]),
    st.booleans(),
)
def test_written_shapes_read_back(sizes: list[int], sep: str, bracket: bool) -> None:
    text = sep.join(map(str, sizes))
    assert shape_text(f"({text})" if bracket else text) == sizes


@given(st.text(max_size=30))
def test_shape_text_fuzz(text: str) -> None:
    """Any text is sizes made of ASCII digits, or our one error: never Python's lenient int()."""
    try:
        sizes = shape_text(text)
    except SpecError as err:
        assert "is not like 200x200x1" in str(err)
    else:
        assert sizes and all(isinstance(n, int) for n in sizes)
        assert all(c in "0123456789xX,()[]" or c.isspace() for c in text)
