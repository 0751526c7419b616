"""PixelShuffle, PixelUnshuffle, GroupNormalization and InstanceNorm: figures the frameworks
wrote (tests/fixtures/new_kinds.json, by tools/make_new_kinds_fixture.py), hand derivations, and
the errors and size rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import ShapeError
from cnncalc.solve import solve_sizes

CASES = json.loads((Path(__file__).parent / "fixtures" / "new_kinds.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['convention']}-{c['spec']}")
def test_figures_equal_the_frameworks(case: dict) -> None:
    s = cnncalc.summarize(
        [case["spec"]], input_shape=tuple(case["input_shape"]), convention=case["convention"]
    )
    row = s.layers[0]
    assert list(row.output_shape) == case["output_shape"], case["framework"]
    assert row.params == case["params"], case["framework"]
    assert row.buffers == case["buffers"], case["framework"]


def test_pixel_shuffle_by_hand() -> None:
    # (C*r*r, H, W) -> (C, H*r, W*r): 18 channels, r=3 -> 2 channels, 4x5 -> 12x15
    s = cnncalc.summarize(["pixelshuffle:3"], input_shape=(4, 5, 18))
    assert s.layers[0].output_shape == (12, 15, 2)
    s = cnncalc.summarize(["pixelunshuffle:3"], input_shape=(12, 15, 2))
    assert s.layers[0].output_shape == (4, 5, 18)


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        ("pixelshuffle:2", (4, 4, 6), "PixelShuffle(2) needs channels divisible by 2*2 = 4, got 6"),
        (
            "pixelunshuffle:2",
            (4, 5, 6),
            "PixelUnshuffle(2) needs each spatial size divisible by 2, width is 5",
        ),
        ("groupnormalization:4", (4, 4, 6), "GroupNormalization(4) needs channels divisible by 4, got 6"),
        ("instancenorm2d", (4, 6), "InstanceNorm2d expects a rank-3 input"),
    ],
)
def test_errors_name_the_kind_and_reason(spec: str, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ShapeError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        cnncalc.summarize([spec], input_shape=shape)


def test_group_norm_params_by_hand() -> None:
    # gamma and beta per channel: 2*C; the groups do not change the count
    s = cnncalc.summarize(["groupnormalization:8"], input_shape=(5, 5, 64))
    assert s.layers[0].params == 2 * 64
    s = cnncalc.summarize(
        ["instancenorm2d:affine=true,track_running_stats=true"], input_shape=(64, 5, 5), convention="pytorch"
    )
    assert (s.layers[0].params, s.layers[0].buffers) == (2 * 64, 2 * 64 + 1)


def test_size_rules() -> None:
    # unshuffle by 2 twice: each size must be a multiple of 4 (the channel count is fixed)
    layers = ["pixelunshuffle:2", "pixelunshuffle:2", "conv:16,1", "pixelshuffle:4"]
    solution = solve_sizes(layers, input_shape=(8, 8, 3))
    axis = solution.axes[0]
    assert axis.smallest == 4
    assert [n for n in range(1, 30) if n in axis.sizes] == [4, 8, 12, 16, 20, 24, 28]
    for n in (4, 12):  # summarize agrees at sizes the rule allows
        assert cnncalc.summarize(layers, input_shape=(n, 8, 3)).output_shape == (n, 8, 1)


@pytest.mark.parametrize(
    ("spec", "shape", "expected"),
    [
        # measured with torchinfo 1.8.0, fvcore 0.1.5, ptflops 0.7.5, thop 0.1.1, torch 2.13 on one
        # module of each (batch 1, eval mode): 120 values
        (
            "groupnorm:2,num_channels=4",
            (4, 6, 5),
            {"torchinfo": 8, "fvcore": 600, "ptflops": 240, "thop": 0, "torch": 0},
        ),
        (
            "groupnorm:2,center=false,scale=false",
            (4, 6, 5),
            {"torchinfo": 0, "fvcore": 480, "ptflops": 120, "thop": 0, "torch": 0},
        ),
        (
            "instancenorm2d",
            (4, 6, 5),
            {"torchinfo": 0, "fvcore": 480, "ptflops": 120, "thop": 240, "torch": 0},
        ),
        (
            "instancenorm2d:affine=true,track_running_stats=true",
            (4, 6, 5),
            {"torchinfo": 8, "fvcore": 600, "ptflops": 240, "thop": 480, "torch": 0},
        ),
        ("pixelshuffle:2", (8, 6, 5), {"torchinfo": 0, "fvcore": 0, "ptflops": 0, "thop": 0, "torch": 0}),
    ],
)
def test_counters_as_the_tools_measured(spec: str, shape: tuple[int, ...], expected: dict[str, int]) -> None:
    from cnncalc.counters import compare
    from cnncalc.enums import Counter

    summary = cnncalc.summarize([spec], input_shape=shape, convention="pytorch")
    comparison = compare(summary)
    assert {c.value: comparison.total(c) for c in Counter if c.value in expected} == expected


def test_a_keras_file_with_group_normalization_reads_as_keras_counts() -> None:
    fixture = json.loads((Path(__file__).parent / "fixtures" / "new_kinds.json").read_text())["keras_model"]
    s = cnncalc.summarize((Path(__file__).parent / "fixtures" / "keras" / fixture["file"]).read_text())
    assert list(s.output_shape) == fixture["output_shape"]
    assert [r.params for r in s.layers] == fixture["params"]
    assert s.total_params == fixture["total_params"]
