"""Receptive fields through fractional strides (upsampling, transposed convs, pixel shuffle) and
merges, output position by output position.

The truth is PyTorch's (and Keras's) autograd on the same networks made linear and positive:
``tests/fixtures/receptive/fields.json``, written by ``make_fields.py`` beside it (the dev-only
test at the end runs the measure again live). The other tests derive their figures by hand.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import cnncalc
from cnncalc.geometry import MAX_PERIOD, AxisField, AxisMap, Window

HERE = Path(__file__).parent / "fixtures" / "receptive"
FIXTURE = json.loads((HERE / "fields.json").read_text())


def spatial_in(spec: dict[str, Any]) -> list[int]:
    shape = spec["input_shape"]
    return shape[1:] if spec["convention"] == "pytorch" else shape[:-1]


def compare(spec: dict[str, Any], fields: list[list[list[int | None]]]) -> tuple[int, int]:
    """Every measured output position whose field cnncalc places inside the input (so padding
    cannot clip the truth) must be exactly cnncalc's; outputs measured to see no input cell must
    be cnncalc's empty ones. Returns (positions compared, field sizes claimed uniform and seen)."""
    rf = cnncalc.summarize(spec).layers[-1].receptive_field
    assert rf is not None and rf.tracked
    compared = uniform = 0
    for axis, rows in enumerate(fields):
        n = spatial_in(spec)[axis]
        field = rf.axes[axis]
        sizes = set()
        for o, lo, hi in rows:
            mine = field.at(o)
            if lo is None:
                assert mine is None or mine[0] < 0 or mine[1] >= n, (axis, o, mine)
                compared += mine is None
                sizes.add(0)
                continue
            if mine is not None and 0 <= mine[0] and mine[1] <= n - 1:
                assert (lo, hi) == mine, (axis, o, (lo, hi), mine)
                compared += 1
                sizes.add(hi - lo + 1)
        assert sizes, f"no measured position lies inside the input on axis {axis}"
        if field.size is not None:
            assert sizes == {field.size}
            uniform += 1
        else:
            assert len(sizes) > 1, f"cnncalc says the field varies on axis {axis}, the truth has {sizes}"
    return compared, uniform


@pytest.mark.parametrize("name", sorted(FIXTURE["cases"]))
def test_fields_are_the_frameworks_output_by_output(name: str) -> None:
    case = FIXTURE["cases"][name]
    compared, _ = compare(case["spec"], case["fields"])
    assert compared >= 4


# ----------------------------------------------------------------------------- derived by hand


def test_what_each_kind_reads() -> None:
    # nearest by 2: output o reads floor(o/2)
    assert AxisMap.nearest(2) == AxisMap(1, 2, ((0, 0, 1), (0, 0, 1)))
    # bilinear by 2, half-pixel: o = 2k samples k - 1/4 (cells k-1, k), o = 2k+1 samples k + 1/4
    assert AxisMap.bilinear(2).reads == ((-1, 0, 1), (0, 1, 1))
    # by 3: o = 3k+1 samples exactly cell k (weight 1 on it, 0 on k+1)
    assert AxisMap.bilinear(3).reads == ((-1, 0, 1), (0, 0, 1), (0, 1, 1))
    # transposed k=3, s=2, no padding: input i lands on 2i, 2i+1, 2i+2; so o even reads o/2 and
    # o/2 - 1, o odd reads (o-1)/2
    assert AxisMap.transposed(2, 3, 1, 0).reads == ((-1, 0, 1), (0, 0, 1))
    # k=1, s=2: odd outputs read nothing
    assert AxisMap.transposed(2, 1, 1, 0).reads == ((0, 0, 1), None)
    # dilation 2, k=3, s=2: taps at 0, 2, 4 all land on even outputs: o = 2m reads m-2, m-1, m
    assert AxisMap.transposed(2, 3, 2, 0).reads == ((-2, 0, 1), None)
    # dilation 3, k=4, s=2: taps 0, 3, 6, 9; o even reads taps 0 and 6 (o/2, o/2 - 3), odd 3 and 9
    assert AxisMap.transposed(2, 4, 3, 0).reads == ((-3, 0, 3), (-4, -1, 3))
    # a window of a million cells is its two ends and a step
    assert AxisMap.window(Window(10**6, 10**6, 10**6, 1, 1, 0, 0, 1)).reads == ((0, 10**6 - 1, 1),)
    # repeats longer than MAX_PERIOD are not followed
    assert AxisMap.nearest(MAX_PERIOD + 1) is None and AxisMap.transposed(10**6, 10**6, 1, 0) is None


def test_huge_kernels_and_strides_cost_nothing() -> None:
    # a transposed conv of kernel and stride 10**6 (a hardening case): its repeat is not
    # followed, in no time; a pool as wide as a million-cell input is its two ends
    s = summarize(["convtranspose1d:1,1,1000000,1000000"], (1, 3))
    assert not s.layers[-1].receptive_field.tracked
    s = summarize(["avgpool1d:1000000"], (1, 10**6))
    assert s.layers[-1].receptive_field.size == (10**6,)


def field(layers: Any, shape: tuple[int, ...], convention: str = "pytorch") -> Any:
    return summarize(layers, shape, convention).layers[-1].receptive_field


def summarize(layers: Any, shape: tuple[int, ...], convention: str = "pytorch") -> Any:
    return cnncalc.summarize({"input_shape": list(shape), "convention": convention, "layers": layers})


def test_nearest_upsampling_then_a_kernel_of_three_is_uniform() -> None:
    # conv 3: [o-1, o+1]; up by 2: o reads floor(o/2): [floor(o/2)-1, floor(o/2)+1];
    # conv 3 after: [floor((o-1)/2) - 1, floor((o+1)/2) + 1], which spans 4 cells for o even and odd
    rf = field(["conv2d:1,2,3,1,1", "upsampling2d:2", "conv2d:2,2,3,1,1"], (1, 20, 20))
    assert rf.size == (4, 4) and rf.jump == (Fraction(1, 2),) * 2
    assert rf.axes[0] == AxisField(2, 1, (-2, -1), (1, 2))  # o = 0: [-2, 1], o = 1: [-1, 2]
    # a kernel of 2 (no padding): [floor(o/2) - 1, floor((o+1)/2) + 1]: 3 cells for o even, 4 odd
    rf = field(["conv2d:1,2,3,1,1", "upsampling2d:2", "conv2d:2,2,2"], (1, 20, 20))
    assert rf.size == (None, None) and rf.axes[0].sizes == (3, 4)


def test_a_stride_makes_the_jump_whole_again() -> None:
    # up 2 then conv 3 stride 2 pad 1: output o reads up cells 2o-1..2o+1 = input o-1..o
    rf = field(["upsampling2d:2", "conv2d:1,2,3,2,1"], (1, 20, 20))
    assert rf.affine and rf.size == (2, 2) and rf.jump == (1, 1) and rf.start == (-0.5, -0.5)


def test_bilinear_by_two_reads_two_cells_at_half_jumps() -> None:
    rf = field(["upsampling2d:2,interpolation=bilinear"], (20, 20, 1), convention="keras")
    assert rf.size == (2, 2) and rf.jump == (Fraction(1, 2),) * 2
    assert field(["upsampling2d:3,interpolation=bilinear"], (20, 20, 1), "keras").axes[0].sizes == (1, 2)


def test_transposed_convs() -> None:
    # k = 2 = s: each output reads one input (jump 1/2); k = 4, s = 2, p = 1: two inputs
    assert field(["convtranspose2d:1,2,2,2"], (1, 9, 9)).size == (1, 1)
    assert field(["convtranspose2d:1,2,4,2,1"], (1, 9, 9)).size == (2, 2)
    # k = 3, s = 2: even outputs read two inputs, odd ones one
    assert field(["convtranspose2d:1,2,3,2"], (1, 9, 9)).axes[0].sizes == (1, 2)
    # k = 1, s = 2: odd outputs read nothing (bias only)
    assert field(["convtranspose2d:1,2,1,2"], (1, 9, 9)).axes[0].sizes == (0, 1)


def unet(depth: int) -> dict[str, Any]:
    """Same-padded 3x3 convs, 2x2 max pooling, 2x nearest upsampling, concatenated skips."""
    layers: list[dict[str, Any]] = []
    x, skips = "input", []
    for d in range(depth):
        layers += [
            {
                "name": f"enc{d}",
                "type": "conv2d",
                "filters": 2,
                "kernel_size": 3,
                "padding": "same",
                "inputs": x,
            },
            {"name": f"enc{d}b", "type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same"},
            {"name": f"pool{d}", "type": "maxpooling2d", "pool_size": 2},
        ]
        skips.append(f"enc{d}b")
        x = f"pool{d}"
    layers.append(
        {"name": "bottom", "type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same", "inputs": x}
    )
    x = "bottom"
    for d in reversed(range(depth)):
        layers += [
            {"name": f"up{d}", "type": "upsampling2d", "size": 2, "inputs": x},
            {"name": f"cat{d}", "type": "concatenate", "inputs": [f"up{d}", skips[d]]},
            {"name": f"dec{d}", "type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same"},
        ]
        x = f"dec{d}"
    return {"input_shape": [32, 32, 1], "layers": layers}


def test_one_level_unet_by_hand() -> None:
    # enc0b o: [o-2, o+2]; pool0 p: [2p-2, 2p+3]; bottom b: [2b-4, 2b+5]; up0 o: bottom floor(o/2);
    # cat0 = up0 and the skip [o-2, o+2] (inside up0's): o = 2k and 2k+1 both [2k-4, 2k+5];
    # dec0 (3x3): o = 2k spans cat 2k-1..2k+1 = [2k-6, 2k+5], o = 2k+1 spans [2k-4, 2k+7]: 12 each
    s = cnncalc.summarize(unet(1))
    rows = {row.name: row.receptive_field for row in s.layers}
    assert rows["bottom"].size == (10, 10) and rows["bottom"].jump == (2, 2)
    assert rows["up0"].axes[0] == AxisField(2, 2, (-4, -4), (5, 5))
    dec0 = rows["dec0"]
    assert dec0.axes[0] == AxisField(2, 2, (-6, -4), (5, 7))
    assert dec0.size == (12, 12) and dec0.jump == (1, 1)
    doc = s.to_dict()["layers"][-1]["receptive_field"]
    assert doc == {"size": [12, 12], "jump": [1, 1], "start": [-0.5, -0.5]}


def test_json_and_table_words() -> None:
    from cnncalc.render.text import rf_text

    rf = field(["conv2d:1,2,3,1,1", "upsampling2d:2", "conv2d:2,2,3,1,1"], (1, 20, 20))
    assert rf_text(rf) == "4 (jump 1/2)"
    doc = summarize(["upsampling2d:2", "conv2d:1,2,3,1,1"], (1, 8, 8))
    assert doc.to_dict()["layers"][-1]["receptive_field"]["jump"] == [0.5, 0.5]
    varies = field(["conv2d:1,2,3,1,1", "upsampling2d:2", "conv2d:2,2,2"], (1, 20, 20))
    assert rf_text(varies) == "varies by position (3 to 4)"
    s = summarize(["upsampling2d:2", "conv2d:1,2,2"], (1, 8, 8))
    assert s.to_dict()["layers"][-1]["receptive_field"] == "untracked"  # JSON: not one size


def test_the_repeat_is_bounded() -> None:
    # upsampling by 3 seven times: a repeat of 3**7 = 2187 outputs is followed, 3**8 is not
    ups = ["upsampling2d:3"] * 8
    s = summarize(["conv2d:1,1,2", *ups], (1, 2, 2))
    assert s.layers[-2].receptive_field.tracked and not s.layers[-1].receptive_field.tracked


# ----------------------------------------------------------------------------- dev-only: live


def test_the_measure_agrees_live_on_a_few_cases() -> None:
    pytest.importorskip("torch")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fields", HERE / "make_fields.py")
    assert spec is not None and spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    for name in ("nearest2_conv2", "transposed_k3s2p1op1_conv3", "bilinear2_conv3", "unet3_transposed_k2s2"):
        case = make.CASES[name]
        assert case == FIXTURE["cases"][name]["spec"]
        assert make.measure(case, centre=8) == [
            [row for row in rows if abs(row[0] - rows[len(rows) // 2][0]) <= 8]
            for rows in FIXTURE["cases"][name]["fields"]
        ]


def test_interpolate_to_a_whole_multiple_is_upsampling() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            return torch.nn.functional.interpolate(y, size=(y.shape[2] * 2, y.shape[3] * 3), mode="nearest")

    s = cnncalc.summarize(Net(), input_shape=(1, 8, 8))
    row = s.layers[-1]
    assert row.class_name == "UpSampling2D" and row.config["size"] == [2, 3]
    # 3 cells at jump 1, read as floor(o/2) and floor(o/3): the size stays, the jump is 1/2 x 1/3
    assert row.receptive_field.size == (3, 3) and row.receptive_field.jump == (Fraction(1, 2), Fraction(1, 3))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "height"), [("Unet", 704), ("Linknet", 640)])
def test_segmentation_models_fields_are_autograds(name: str, height: int) -> None:
    """segmentation_models_pytorch's U-Net (nearest 2x interpolation, concatenated skips) and
    LinkNet (4/2/1 transposed convs, added skips) on a ResNet-18 encoder, traced: the output's
    field at 17 positions around the middle, cell for cell, is autograd's (the model linear and
    positive). The field varies by position in both (531 to 563, 467 to 499 cells)."""
    smp = pytest.importorskip("segmentation_models_pytorch")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fields", HERE / "make_fields.py")
    assert spec is not None and spec.loader is not None
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    model = getattr(smp, name)("resnet18", encoder_weights=None, classes=1)
    s = cnncalc.summarize(model, input_shape=(3, height, 64))
    field = s.layers[-1].receptive_field.axes[0]
    assert field.size is None
    rows = make.field_rows(make.linear_positive(model), (3, height, 64), 0, s.output_shape[1], 8, 0.0)
    assert [tuple(row[1:]) for row in rows] == [field.at(row[0]) for row in rows]
    assert len({row[2] - row[1] for row in rows}) > 1  # the truth varies too
