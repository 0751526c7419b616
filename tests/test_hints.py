"""The slip-guessing hints (issue 26 items 1, 8, 9): each candidate is tried for real."""

from __future__ import annotations

import cnncalc
from cnncalc.enums import DataFormat
from cnncalc.errors import CnncalcError
from cnncalc.hints import flatten_fix, input_fix


def works_for(layers: list[str], convention: str):  # type: ignore[no-untyped-def]
    def works(shape: tuple[int, ...]) -> bool:
        try:
            cnncalc.summarize(layers, input_shape=shape, convention=convention, hints=False)
        except CnncalcError:
            return False
        return True

    return works


def text(parts) -> str:  # type: ignore[no-untyped-def]
    return "".join(str(p) if isinstance(p, str) else f"--input {p.value}" for p in parts)


def test_pytorch_reads_channels_first() -> None:
    # nn.Conv2d(3, 6, 5) declares in_channels=3: given 32x32x3, only 3x32x32 works
    works = works_for(["conv2d:3,6,5"], "pytorch")
    hint = input_fix((32, 32, 3), DataFormat.CHANNELS_FIRST, True, works)
    assert hint is not None and text(hint) == "PyTorch reads C x H x W: did you mean --input 3x32x32?"


def test_a_missing_channel_axis_and_a_batch_axis() -> None:
    works = works_for(["conv:16,3"], "keras")
    assert text(input_fix((28, 28), DataFormat.CHANNELS_LAST, False, works)) == (
        "one channel? --input 28x28x1 (H x W x C)"
    )
    torch_works = works_for(["conv2d:3,6,5"], "pytorch")
    assert text(input_fix((1, 3, 32, 32), DataFormat.CHANNELS_FIRST, True, torch_works)) == (
        "drop the batch axis: --input 3x32x32 (sizes without the batch)"
    )
    assert input_fix((2, 2, 1), DataFormat.CHANNELS_LAST, False, works) is None  # nothing fits a 3x3 kernel


def test_a_forgotten_flatten() -> None:
    # nn.Conv2d(3, 6, 5) on 3x32x32 gives 6x28x28 = 4,704 values; Linear(400, 120) needs a flatten
    assert flatten_fix("in_features", 400, (6, 28, 28)) == (
        "did you forget a flatten before it? (6x28x28 = 4704; then in_features=4704)"
    )
    assert flatten_fix("in_features", 4704, (6, 28, 28)).endswith("in_features=4704 then fits)")  # type: ignore[union-attr]
    assert flatten_fix("in_features", 28, (28,)) is None


def test_keras_given_channels_first() -> None:
    # Conv2D(16, 3) with in_channels declared by a following layer is not needed: a plain
    # conv accepts any channels, so take a model whose Dense fixes the flattened size.
    works = works_for(["conv:4,3", "flatten", "dense:10"], "keras")
    assert works((32, 32, 3))
    assert input_fix((3, 32, 32), DataFormat.CHANNELS_LAST, False, lambda s: s == (32, 32, 3)) is not None
    hint = input_fix((3, 32, 32), DataFormat.CHANNELS_LAST, False, lambda s: s == (32, 32, 3))
    assert text(hint) == "this model reads H x W x C: did you mean --input 32x32x3?"
    # a leading axis that does not look like channels is not moved
    assert input_fix((8, 8, 6), DataFormat.CHANNELS_LAST, False, lambda s: s == (8, 6, 8)) is None


def test_a_long_model_gets_its_error_without_tried_inputs() -> None:
    """An input too small for a 5x5 kernel: the hint tries inputs on the whole model, so a model
    of up to MAX_LAYERS layers gets the smallest input (5x5: the kernel, derived by hand), a
    longer one only the error (a failure at layer 1 of 100,000 layers would otherwise spend
    seconds on its hint)."""
    from cnncalc.hints import MAX_LAYERS

    def error(n: int) -> CnncalcError:
        try:
            cnncalc.summarize(["conv:4,5", *["relu"] * (n - 1)], input_shape=(4, 4, 3))
        except CnncalcError as err:
            return err
        raise AssertionError("a 5x5 kernel on 4x4 must fail")

    short, long = error(50), error(MAX_LAYERS + 1)
    assert str(short) == str(long) == "layer 1 (conv:4,5): kernel 5 is larger than the input 4 on height"
    assert short.hint is not None and text(short.hint).startswith("smallest input that works: --input 5x5x3")
    assert long.hint is None
