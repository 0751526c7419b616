"""MACs, FLOPs, memory and receptive fields against published and hand-derived values."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.numeric import executor as X

from .helpers import run, run_json


def vgg16(top: bool = True) -> list[str]:
    layers = ["conv:64,3,padding=same,activation=relu"] * 2 + ["maxpool:2"]
    layers += ["conv:128,3,padding=same,activation=relu"] * 2 + ["maxpool:2"]
    for filters in (256, 512, 512):
        layers += [f"conv:{filters},3,padding=same,activation=relu"] * 3 + ["maxpool:2"]
    if top:
        layers += ["flatten", "dense:4096,relu", "dense:4096,relu", "dense:1000,softmax"]
    return layers


def test_vgg16_macs_params_and_receptive_field() -> None:
    convs = cnncalc.summarize(vgg16(top=False), input_shape=(224, 224, 3))
    assert convs.total_macs == 15_346_630_656
    conv5_3, pool5 = convs.layers[-2], convs.layers[-1]
    assert conv5_3.receptive_field.size == (196, 196) and pool5.receptive_field.size == (212, 212)
    assert pool5.receptive_field.jump == (32, 32)
    full = cnncalc.summarize(vgg16(), input_shape=(224, 224, 3))
    # The "15.5 GFLOPs" usually quoted for VGG16 is this MAC count; 138,357,544 is Keras Applications' total.
    assert full.total_macs == 15_470_264_320 and full.total_params == 138_357_544
    assert full.layers[-1].receptive_field is None  # after flatten: every output sees the whole image


def test_three_3x3_convs_see_7x7() -> None:
    s = cnncalc.summarize(["conv:8,3"] * 3, input_shape=(32, 32, 1))
    assert s.layers[-1].receptive_field.size == (7, 7)


def test_lenet5_classic() -> None:
    # C1 6@5x5, S2 avg 2, C3 16@5x5 (fully connected variant), S4, C5 120@5x5, F6 84, output 10.
    s = cnncalc.summarize(
        [
            "conv:6,5,activation=tanh",
            "avgpool:2",
            "conv:16,5,activation=tanh",
            "avgpool:2",
            "conv:120,5,activation=tanh",
            "flatten",
            "dense:84,tanh",
            "dense:10,softmax",
        ],
        input_shape=(32, 32, 1),
    )
    assert s.total_params == 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850
    # MACs: 28*28*6*25 + 10*10*16*150 + 120*400 + 120*84 + 84*10
    assert s.total_macs == 117_600 + 240_000 + 48_000 + 10_080 + 840 == 416_520


def test_alexnet_torchvision_macs() -> None:
    layers = [
        "conv:64,11,4,2",
        "relu",
        "maxpool:3,2",
        "conv:192,5,1,2",
        "relu",
        "maxpool:3,2",
        "conv:384,3,1,1",
        "relu",
        "conv:256,3,1,1",
        "relu",
        "conv:256,3,1,1",
        "relu",
        "maxpool:3,2",
        "flatten",
        "dropout:0.5",
        "dense:4096",
        "relu",
        "dropout:0.5",
        "dense:4096",
        "relu",
        "dense:1000",
    ]
    s = cnncalc.summarize(layers, input_shape=(3, 224, 224), convention="pytorch")
    # torchvision lists AlexNet at 0.71 GFLOPS (MACs); params 61,100,840 (torchvision docs).
    # conv: 55*55*64*363 + 27*27*192*1600 + 13*13*384*1728 + 13*13*256*3456 + 13*13*256*2304;
    # fc: 9216*4096 + 4096*4096 + 4096*1000.
    assert s.total_macs == 655_566_528 + 58_621_952 == 714_188_480
    assert s.total_params == 61_100_840


def test_flops_ops_and_bias() -> None:
    s = cnncalc.summarize(["conv:16,2,2,valid,activation=relu", "maxpool:2", "bn"], input_shape=(200, 200, 1))
    conv, pool, bn = s.layers
    assert conv.macs == 100 * 100 * 16 * 4 and conv.bias_adds == 100 * 100 * 16 and conv.ops == 160_000
    assert conv.flops == 2 * 640_000 + 160_000 + 160_000
    assert pool.ops == 50 * 50 * 16 * 3 and pool.macs == 0
    assert bn.ops == 2 * 50 * 50 * 16
    assert s.total_flops == sum(row.flops for row in s.layers)


def test_memory_totals_and_dtype() -> None:
    s = cnncalc.summarize(["conv:16,2,2,valid", "conv:32,3,padding=same"], input_shape=(200, 200, 1))
    assert s.input_bytes == 40_000 * 4
    assert s.activation_bytes == (160_000 + 320_000) * 4
    assert s.param_bytes == 4720 * 4
    assert s.estimated_total_bytes == s.input_bytes + s.activation_bytes + s.param_bytes
    assert s.training_bytes == s.input_bytes + 2 * s.activation_bytes + s.param_bytes + 3 * 4720 * 4
    half = cnncalc.summarize(["conv:16,2,2,valid"], input_shape=(200, 200, 1), dtype="float16")
    assert half.activation_bytes == 160_000 * 2 and half.to_dict()["dtype"] == "float16"


def test_receptive_field_start_with_padding() -> None:
    # ResNet stem: conv 7x7/2 pad 3 then maxpool 3x3/2 pad 1.
    s = cnncalc.summarize(["conv:64,7,2,3", "maxpool:3,2,1"], input_shape=(3, 224, 224), convention="pytorch")
    stem, pool = s.layers
    assert stem.receptive_field.size == (7, 7) and stem.receptive_field.start == (0.0, 0.0)
    assert pool.receptive_field.size == (11, 11) and pool.receptive_field.jump == (4, 4)
    assert pool.receptive_field.start == (0.0, 0.0)  # the pool window is centred on conv output 0


@st.composite
def stacks(draw: st.DrawFn) -> tuple[list[str], tuple[int, ...], str]:
    fmt = draw(st.sampled_from(["channels_last", "channels_first"]))
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool", "relu", "bn"]))
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        pad = draw(st.sampled_from(["valid", "same", "1"]))
        if kind == "conv":
            d = draw(st.integers(1, 2)) if s == 1 else 1
            layers.append(f"conv:3,{k},{s},{pad if pad != '1' else 1},dilation={d},activation=relu")
        elif kind in ("maxpool", "avgpool"):
            k = max(k, 2)
            layers.append(f"{kind}:{k},{s},{pad if pad != '1' else 1}")
        else:
            layers.append(kind)
    size = draw(st.integers(12, 40))
    shape = (size, size + 3, 2) if fmt == "channels_last" else (2, size, size + 3)
    return layers, shape, fmt


@settings(max_examples=40)
@given(stacks())
def test_probe_agrees_with_receptive_field_formula(case) -> None:
    layers, shape, fmt = case
    try:
        s = cnncalc.summarize(layers, input_shape=shape, data_format=fmt)
    except cnncalc.CnncalcError:
        assume(False)  # an impossible stack: not a case for the probe
    rf = s.layers[-1].receptive_field
    spatial_in = shape[:-1] if fmt == "channels_last" else shape[1:]
    spatial_out = s.output_shape[:-1] if fmt == "channels_last" else s.output_shape[1:]
    for axis in range(2):
        n = spatial_in[axis]
        half = (rf.size[axis] - 1) / 2
        for o in range(spatial_out[axis]):
            centre = rf.start[axis] + o * rf.jump[axis]
            lo, hi = centre - half, centre + half
            if lo >= 0 and hi <= n - 1:  # a field that lies inside the input: holes cannot hide its ends
                assert X.probe_receptive_field(s, axis, o) == (int(lo), int(hi)), (layers, shape, axis, o)
                break


def test_probe_on_vgg_like_stack_at_small_size() -> None:
    s = cnncalc.summarize(
        ["conv:4,3,padding=same,activation=relu"] * 2
        + ["maxpool:2"]
        + ["conv:4,3,padding=same,activation=relu"] * 2
        + ["maxpool:2"],
        input_shape=(40, 40, 1),
    )
    rf = s.layers[-1].receptive_field
    assert rf.size == (16, 16)
    o = 4
    centre = rf.start[0] + o * rf.jump[0]
    assert X.probe_receptive_field(s, 0, o) == (int(centre - 7.5), int(centre + 7.5))


def test_columns_and_count_options() -> None:
    args = ["--input", "200x200x1", "conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"]
    out = run("summary", *args, "--all").stdout
    for header in ("MACs", "Memory", "Receptive field"):
        assert header in out, out
    assert "640,000" in out and "46,080,000" in out
    out = run("summary", *args, "--columns", "shape,params,macs", "--count", "flops").stdout
    assert "FLOPs" in out and "1,600,000" in out  # 2*640,000 + 160,000 bias adds + 160,000 ReLU ops
    out = run("summary", *args, "--columns", "macs", "--bias-macs").stdout
    assert "800,000" in out  # 640,000 + 160,000 bias adds, torchinfo-style
    doc = run_json("summary", *args)
    assert doc["layers"][0]["macs"] == 640_000 and doc["layers"][0]["receptive_field"]["size"] == [2, 2]
    assert run("summary", *args, "--columns", "bogus").exit_code == 2
    assert math.isclose(doc["activation_bytes"], (160_000 + 320_000) * 4)


def test_probe_matches_single_dilated_conv() -> None:
    s = cnncalc.summarize(["conv:1,3,dilation=3"], input_shape=(20, 20, 1))
    assert s.layers[0].receptive_field.size == (7, 7)
    assert X.probe_receptive_field(s, 0, 0) == (0, 6)
    assert np.isclose(s.layers[0].receptive_field.start[0], 3.0)
