"""Summaries of the seed course's examples and of layers with independently known values."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc import ShapeError, SpecError


def shapes(summary: cnncalc.Summary) -> list[tuple[int, ...]]:
    return [row.output_shape for row in summary.layers]


def test_seed_keras_examples() -> None:
    # Seed 000: Conv2D(16, 2, strides=2, valid) on 200x200x1, then Conv2D(32, 3, 'same').
    s = cnncalc.summarize(
        ["conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"], input_shape="200x200x1"
    )
    assert shapes(s) == [(100, 100, 16), (100, 100, 32)]
    assert [row.params for row in s.layers] == [80, 4640]  # K*F*F*D_in + K: 16*4*1+16, 32*9*16+32
    assert s.total_params == 4720 and s.trainable_params == 4720 and s.non_trainable_params == 0
    assert [row.name for row in s.layers] == ["conv2d", "conv2d_1"]


def test_seed_pooling_examples() -> None:
    assert shapes(cnncalc.summarize(["maxpool:2,2"], input_shape=(100, 100, 15))) == [(50, 50, 15)]
    assert shapes(cnncalc.summarize(["maxpool:2,1"], input_shape=(100, 100, 15))) == [(99, 99, 15)]


def test_conv_defaults_are_stride_1_valid() -> None:
    # Seed example 3: Conv2D(64, (2,2)) -> stride 1, valid.
    s = cnncalc.summarize(["conv:64,2x2"], input_shape=(10, 10, 3))
    assert shapes(s) == [(9, 9, 64)]
    assert s.layers[0].config["strides"] == [1, 1] and s.layers[0].config["padding"] == "valid"
    assert s.total_params == 64 * 2 * 2 * 3 + 64


def test_theano_seed_layer_in_nchw() -> None:
    # Seed 002: ConvPoolLayer(filter_shape=(20, 1, 5, 5), image_shape=(mb, 1, 28, 28), poolsize=(2, 2)).
    s = cnncalc.summarize(["conv:20,5", "maxpool:2"], input_shape=(1, 28, 28), data_format="channels_first")
    assert shapes(s) == [(20, 24, 24), (20, 12, 12)]
    assert s.total_params == 20 * 1 * 5 * 5 + 20 == 520


@pytest.mark.parametrize(
    ("layer", "shape", "out"),
    [
        ("conv:8,3,2,valid", (7, 7, 1), (3, 3, 8)),
        ("conv:8,3,2,same", (7, 7, 1), (4, 4, 8)),
        ("conv:8,5,3,valid", (31, 31, 2), (9, 9, 8)),
        ("conv:8,5,3,same", (31, 31, 2), (11, 11, 8)),
        ("conv:8,7,2,valid", (224, 224, 3), (109, 109, 8)),
        ("conv:8,3,dilation=2", (31, 31, 3), (27, 27, 8)),  # F_eff 5: 31-5+1
        ("conv:8,3,padding=same,dilation=3", (31, 31, 3), (31, 31, 8)),
        ("conv:8,3x5,2", (7, 31, 1), (3, 14, 8)),  # ceil(5/2)=3, ceil(27/2)=14
        ("conv:8,4,padding=same", (7, 7, 1), (7, 7, 8)),  # even kernel: pads 1 before, 2 after
    ],
)
def test_conv_shapes_on_odd_sizes(layer: str, shape: tuple[int, ...], out: tuple[int, ...]) -> None:
    assert shapes(cnncalc.summarize([layer], input_shape=shape)) == [out]


def test_same_padding_amounts_are_reported() -> None:
    s = cnncalc.summarize(["conv:8,4,padding=same"], input_shape=(7, 7, 1))
    assert s.layers[0].padding == ((1, 2), (1, 2))


@pytest.mark.parametrize(("n", "out"), [(112, 56), (6, 3)])
def test_ceil_mode_pooling(n: int, out: int) -> None:
    s = cnncalc.summarize(["maxpool:3,2,ceil_mode=true"], input_shape=(4, n, n), convention="pytorch")
    assert shapes(s) == [(4, out, out)]


def test_ceil_mode_drops_window_starting_in_padding() -> None:
    s = cnncalc.summarize(["maxpool:3,3,1,ceil_mode=true"], input_shape=(1, 5, 5), convention="pytorch")
    assert shapes(s) == [(1, 2, 2)]


def test_ceil_mode_with_same_is_an_error() -> None:
    with pytest.raises(SpecError, match="ceil_mode"):
        cnncalc.summarize(["maxpool:3,2,same,ceil_mode=true"], input_shape=(8, 8, 1))


def test_keras_forbids_stride_with_dilation() -> None:
    with pytest.raises(ShapeError, match="Keras does not allow"):
        cnncalc.summarize(["conv:8,3,2,dilation=2"], input_shape=(32, 32, 1))


def test_pytorch_allows_stride_with_dilation_and_defaults_to_nchw() -> None:
    s = cnncalc.summarize(["conv:8,3,2,1,dilation=2"], input_shape=(1, 32, 32), convention="pytorch")
    assert s.data_format.value == "channels_first"
    assert shapes(s) == [(8, 15, 15)]


def test_pytorch_same_needs_stride_1() -> None:
    with pytest.raises(ShapeError, match="stride 1"):
        cnncalc.summarize(["conv:8,3,2,same"], input_shape=(1, 32, 32), convention="pytorch")
    s = cnncalc.summarize(["conv:8,4,1,same"], input_shape=(1, 9, 9), convention="pytorch")
    assert shapes(s) == [(8, 9, 9)]


def test_pytorch_pool_padding_limit() -> None:
    with pytest.raises(ShapeError, match="kernel_size // 2"):
        cnncalc.summarize(["maxpool:3,2,2"], input_shape=(1, 9, 9), convention="pytorch")
    # Keras has no such rule for explicit padding (it says exactly what it means).
    assert shapes(cnncalc.summarize(["maxpool:3,2,2"], input_shape=(9, 9, 1))) == [(6, 6, 1)]


def test_explicit_per_axis_and_asymmetric_padding() -> None:
    s = cnncalc.summarize(["conv:4,3,padding=1x2"], input_shape=(10, 10, 1))
    assert shapes(s) == [(10, 12, 4)]
    s = cnncalc.summarize(
        {"layers": [{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": [[1, 0], [2, 1]]}]},
        input_shape=(10, 10, 1),
    )
    assert shapes(s) == [(9, 11, 4)]


def test_dense_flatten_dropout_activation() -> None:
    s = cnncalc.summarize(["flatten", "dense:10", "dropout:0.5", "softmax"], input_shape=(4, 4, 40))
    assert shapes(s) == [(640,), (10,), (10,), (10,)]
    assert s.total_params == 640 * 10 + 10
    assert [r.name for r in s.layers] == ["flatten", "dense", "dropout", "softmax"]  # Keras Softmax layer


def test_dense_acts_on_last_axis() -> None:
    s = cnncalc.summarize(["dense:7,bias=false"], input_shape=(5, 3))
    assert shapes(s) == [(5, 7)] and s.total_params == 21


def test_batchnorm_keras_and_pytorch() -> None:
    keras = cnncalc.summarize(["bn"], input_shape=(8, 8, 64))
    assert (keras.total_params, keras.trainable_params, keras.non_trainable_params) == (256, 128, 128)
    torch = cnncalc.summarize(["bn"], input_shape=(64, 8, 8), convention="pytorch")
    # torch.nn.BatchNorm2d(64): 128 parameters; buffers 64 + 64 + 1 (num_batches_tracked)
    assert (torch.total_params, torch.total_buffers) == (128, 129)
    assert cnncalc.summarize(["bn:scale=false"], input_shape=(8, 8, 64)).total_params == 192
    both_off = cnncalc.summarize(["bn:center=false,scale=false"], input_shape=(8, 8, 64))
    assert (both_off.total_params, both_off.trainable_params) == (128, 0)


def test_trainable_false_moves_params_to_non_trainable() -> None:
    s = cnncalc.summarize({"layers": [{"type": "dense", "units": 4, "trainable": False}]}, input_shape=(3,))
    assert (s.trainable_params, s.non_trainable_params) == (0, 16)


@pytest.mark.parametrize(
    ("layers", "shape", "match"),
    [
        (["conv:8,5"], (4, 4, 1), "kernel 5 is larger than the input 4 on height"),
        (["conv:8,3,padding=1"], (1, 1, 1), None),  # padded input 3 fits a 3x3 kernel: no error
        (["maxpool:3"], (2, 2, 1), "pool window 3 is larger"),
        (["conv:6,3,groups=4"], (8, 8, 8), "does not divide filters"),
        (["conv:8,3,groups=4"], (8, 8, 6), "does not divide the 6 input channels"),
        (["conv:8,3"], (8, 8), "expects a rank-3 input"),
        (["bn:axis=5"], (8, 8, 3), "is not an axis of the input"),
    ],
)
def test_impossible_layers(layers: list[str], shape: tuple[int, ...], match: str | None) -> None:
    if match is None:
        cnncalc.summarize(layers, input_shape=shape)
        return
    with pytest.raises(cnncalc.CnncalcError, match=match):
        cnncalc.summarize(layers, input_shape=shape)


def test_layer_names_avoid_explicit_names() -> None:
    s = cnncalc.summarize(
        {
            "layers": [
                {"type": "conv2d", "filters": 2, "kernel_size": 1, "name": "conv2d_1"},
                "conv:2,1",
                "conv:2,1",
            ]
        },
        input_shape=(4, 4, 1),
    )
    assert [r.name for r in s.layers] == ["conv2d_1", "conv2d", "conv2d_2"]


def test_duplicate_names_are_an_error() -> None:
    doc = {"layers": [{"type": "relu", "name": "a"}, {"type": "relu", "name": "a"}]}
    with pytest.raises(SpecError, match="used twice"):
        cnncalc.summarize(doc, input_shape=(3,))


def test_to_dict_round_trips() -> None:
    s = cnncalc.summarize(
        ["conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same", "bn", "maxpool:2"],
        input_shape=(200, 200, 1),
    )
    again = cnncalc.summarize(s.to_dict())
    assert again.to_dict() == s.to_dict()


def test_core_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cnncalc; cnncalc.summarize(['conv:8,3','bn','flatten','dense:3'], input_shape=(9,9,1));"
        "print(sorted(m for m in ('numpy','rich','click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
