"""Every layer kind: hand-checked shapes and params, executor agreement, impossible configs, Keras JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import cnncalc
from cnncalc import ShapeError, SpecError
from cnncalc.numeric.verify import verify

from .helpers import run, run_json

FIXTURES = Path(__file__).parent / "fixtures" / "keras"


def one(layer: str, shape: tuple[int, ...], **kw) -> cnncalc.LayerRow:
    return cnncalc.summarize([layer], input_shape=shape, **kw).layers[0]


@pytest.mark.parametrize(
    ("layer", "shape", "kw", "out", "params"),
    [
        # Conv1D/3D, causal: pad F_eff - 1 on the left, out = ceil(n/S)
        ("conv1d:4,3,2,causal", (9, 3), {}, (5, 4), 4 * 3 * 3 + 4),
        ("conv1d:4,3,padding=causal,dilation=2", (9, 3), {}, (9, 4), 40),
        ("conv3d:2,3,2,same", (5, 7, 9, 1), {}, (3, 4, 5, 2), 2 * 27 + 2),
        # Keras 'same' with an even kernel (extra padding after)
        ("conv:1,4,1,same", (7, 6, 1), {}, (7, 6, 1), 17),
        # Depthwise / separable (published: 320 and 2,400)
        ("depthwise:3", (112, 112, 32), {}, (110, 110, 32), 288 + 32),
        ("depthwise:3,2,same,depth_multiplier=2", (9, 9, 3), {}, (5, 5, 6), 9 * 6 + 6),
        ("separableconv2d:64,3", (32, 32, 32), {}, (30, 30, 64), 32 * 9 + 32 * 64 + 64),
        ("separableconv1d:8,3,depth_multiplier=2", (10, 4), {}, (8, 8), 3 * 8 + 8 * 8 + 8),
        # Transposed conv: n=4, F=2, S=3 tells the rules apart (Keras 12, PyTorch 11)
        ("conv2dtranspose:3,2,3", (4, 4, 1), {}, (12, 12, 3), 1 * 4 * 3 + 3),
        ("conv2dtranspose:3,2,3", (1, 4, 4), {"convention": "pytorch"}, (3, 11, 11), 15),
        ("conv2dtranspose:4,3,2,same", (5, 5, 2), {}, (10, 10, 4), 2 * 9 * 4 + 4),
        ("conv2dtranspose:4,4,3,same,output_padding=2", (9, 9, 1), {}, (26, 26, 4), 68),  # (9-1)*3+4-4+2
        ("conv2dtranspose:4,2,3,valid,output_padding=1", (9, 9, 1), {}, (27, 27, 4), 20),  # (9-1)*3+2+1
        ("conv2dtranspose:4,3,2,1,output_padding=1", (2, 5, 5), {"convention": "pytorch"}, (4, 10, 10), 76),
        (
            "conv2dtranspose:4,3,2,1,groups=2",
            (2, 5, 5),
            {"convention": "pytorch"},
            (4, 9, 9),
            2 * 9 * 4 // 2 + 4,
        ),
        ("conv1dtranspose:2,3,2,same", (9, 4), {}, (18, 2), 26),
        ("conv3dtranspose:2,3,2,same", (3, 3, 3, 1), {}, (6, 6, 6, 2), 56),
        # Pooling
        (
            "maxpool:3,2,1,dilation=2",
            (3, 9, 9),
            {"convention": "pytorch"},
            (3, 4, 4),
            0,
        ),  # floor((9+2-5)/2)+1
        ("maxpool1d:3,2,same", (7, 2), {}, (4, 2), 0),
        ("avgpool3d:2", (5, 6, 7, 1), {}, (2, 3, 3, 1), 0),
        ("gap", (7, 7, 512), {}, (512,), 0),
        ("globalmaxpooling1d:keepdims=true", (9, 4), {}, (1, 4), 0),
        ("globalaveragepooling3d", (4, 3, 3, 3), {"data_format": "channels_first"}, (4,), 0),
        # Padding, cropping, upsampling
        ("zeropadding2d:1x2", (5, 5, 3), {}, (7, 9, 3), 0),
        ("zeropadding1d:padding=3", (5, 2), {}, (11, 2), 0),
        ("cropping2d:cropping=1x2", (7, 9, 3), {}, (5, 5, 3), 0),
        ("cropping3d:1", (5, 5, 5, 1), {}, (3, 3, 3, 1), 0),
        ("upsampling2d:2x3", (5, 5, 1), {}, (10, 15, 1), 0),
        ("upsampling1d:3", (5, 2), {}, (15, 2), 0),
        (
            "upsampling2d:2,interpolation=bilinear",
            (3, 5, 5),
            {"data_format": "channels_first"},
            (3, 10, 10),
            0,
        ),
        # Reshape, permute, dropouts
        ("reshape:target_shape=-1x3", (6, 4), {}, (8, 3), 0),
        ("permute:dims=2x1", (6, 4), {}, (4, 6), 0),
        ("spatialdropout2d:0.3", (5, 5, 2), {}, (5, 5, 2), 0),
        # Normalization and activations
        ("layernormalization", (6, 6, 4), {}, (6, 6, 4), 8),
        ("layernormalization:axis=1x2x3", (6, 6, 4), {}, (6, 6, 4), 288),
        ("layernormalization:rms_scaling=true", (6, 4), {}, (6, 4), 4),
        ("bn", (64, 5, 5), {"data_format": "channels_first"}, (64, 5, 5), 256),
        ("relu:max_value=6", (3,), {}, (3,), 0),
        ("leakyrelu", (3,), {}, (3,), 0),
        ("softmax:axis=1", (3, 4), {}, (3, 4), 0),
    ],
)
def test_kind_shapes_and_params(layer, shape, kw, out, params) -> None:
    row = one(layer, shape, **kw)
    assert (row.output_shape, row.params) == (out, params)
    report = verify(cnncalc.summarize([layer], input_shape=shape, **kw), dtype="float64")
    assert report.ok, report.rows


def test_batchnorm_published_counts() -> None:
    assert (one("bn", (8, 8, 64)).params, one("bn", (8, 8, 64)).non_trainable_params) == (256, 128)
    row = one("bn:scale=false", (8, 8, 64))
    assert (row.params, row.trainable_params) == (192, 64)
    row = one("bn:center=false,scale=false", (8, 8, 64))
    assert (row.params, row.trainable_params, row.non_trainable_params) == (128, 0, 128)


def test_pytorch_ceil_mode_clip_and_padding_limit() -> None:
    assert one("maxpool:3,3,1,ceil_mode=true", (1, 5, 5), convention="pytorch").output_shape == (1, 2, 2)
    with pytest.raises(ShapeError, match="kernel_size // 2"):
        one("maxpool:3,2,2", (1, 9, 9), convention="pytorch")


@pytest.mark.parametrize(
    ("layers", "shape", "kw", "message"),
    [
        (["cropping2d:3"], (5, 9, 1), {}, "cropping 3 + 3 removes all 5 cells on height"),
        (["reshape:target_shape=5x5"], (6, 4), {}, "cannot reshape 6x4 (24 values) to 5x5 (25 values)"),
        (["reshape:target_shape=-1x5"], (6, 4), {}, "24 is not a multiple of 5"),
        (["reshape:target_shape=-1x-1"], (6, 4), {}, "at most one -1"),
        (["conv:8,3,groups=3"], (9, 9, 4), {}, "groups=3 does not divide filters=8"),
        (["conv:6,3,groups=3"], (9, 9, 4), {}, "does not divide the 4 input channels"),
        (["conv1d:4,3"], (32, 32, 3), {}, "Conv1D expects a rank-2 input (length x channels"),
        (["conv3d:4,3"], (32, 32, 3), {}, "Conv3D expects a rank-4 input"),
        (["permute:dims=1x1"], (6, 4), {}, "not a permutation"),
        (["permute:dims=2x1x3"], (6, 4), {}, "has 3 axes"),
        (
            ["conv2dtranspose:4,3,2,output_padding=2"],
            (5, 5, 1),
            {},
            "Keras requires output_padding < strides",
        ),
        (["conv2dtranspose:4,3,2,dilation=2"], (5, 5, 1), {}, "Keras does not allow strides > 1"),
        (["conv2dtranspose:4,3,groups=2"], (5, 5, 2), {}, "Keras Conv*Transpose has no groups"),
        (["conv2dtranspose:4,3,2,same"], (1, 5, 5), {"convention": "pytorch"}, "no padding='same'"),
        (["conv2dtranspose:4,3,1,5"], (1, 2, 2), {"convention": "pytorch"}, "padding leaves no output"),
        (["maxpool:3,2,dilation=2"], (9, 9, 1), {}, "Keras pooling has no dilation"),
        (["upsampling1d:2,interpolation=bilinear"], (5, 2), {}, "expected nearest"),
        (["layernormalization:axis=4"], (6, 4), {}, "axis 4 is not an axis"),
    ],
)
def test_impossible_configs(layers, shape, kw, message) -> None:
    with pytest.raises(cnncalc.CnncalcError) as caught:
        cnncalc.summarize(layers, input_shape=shape, **kw)
    assert message in str(caught.value)


def test_impossible_configs_from_the_cli_name_the_layer() -> None:
    result = run("summary", "--input", "5x9x1", "conv:2,1", "cropping2d:3")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: layer 2 (cropping2d:3): cropping 3 + 3 removes all 5 cells on height"
    )


# ----------------------------------------------------------------------------- the second seed's layers


def test_network3_convpool_as_written() -> None:
    s = cnncalc.summarize(
        [
            "convpool:20x1x5x5,pool=2",
            "convpool:40x20x5x5,pool=2",
            "fullyconnected:n_in=640,n_out=100",
            "softmaxlayer:n_in=100,n_out=10",
        ],
        input_shape=(1, 28, 28),
        data_format="channels_first",
    )
    assert [r.output_shape for r in s.layers] == [(20, 12, 12), (40, 4, 4), (100,), (10,)]
    assert [r.params for r in s.layers] == [520, 20 * 25 * 40 + 40, 640 * 100 + 100, 1010]
    assert verify(s, dtype="float64").ok


def test_network3_json_objects() -> None:
    doc = {
        "input_shape": [1, 28, 28],
        "data_format": "channels_first",
        "layers": [
            {
                "type": "ConvPoolLayer",
                "filter_shape": [20, 1, 5, 5],
                "image_shape": [10, 1, 28, 28],
                "poolsize": [2, 2],
            },
            {"type": "FullyConnectedLayer", "n_in": 2880, "n_out": 100},
            {"type": "SoftmaxLayer", "n_in": 100, "n_out": 10},
        ],
    }
    assert cnncalc.summarize(doc).output_shape == (10,)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            ["convpool:20x1x5x5", "convpool:40x1x5x5"],
            "filter_shape[1] (input maps) is 1, but the layer gets 20 feature maps: use filter_shape=(40, 20, 5, 5)",
        ),
        (
            ["convpool:20x1x5x5,image_shape=10x1x32x32"],
            "image_shape (10, 1, 32, 32) says 1x32x32 per sample, but the layer gets 1x28x28: "
            "use image_shape=(10, 1, 28, 28)",
        ),
        (
            ["convpool:20x1x5x5", "convpool:40x20x5x5", "fullyconnected:n_in=640,n_out=100"],
            "n_in is 640, but the layer gets 40x4x4 = 640",
        ),
        (
            ["convpool:20x1x5x5", "fullyconnected:n_in=640,n_out=100"],
            "n_in is 640, but the layer gets 20x12x12 = 2,880 values: use n_in=2880",
        ),
    ],
)
def test_network3_says_which_value_it_should_be(layers, message) -> None:
    if "40x4x4 = 640" in message:  # the right n_in: no error
        cnncalc.summarize(layers, input_shape=(1, 28, 28), data_format="channels_first")
        return
    result = run("summary", "--data-format", "channels_first", "--input", "1x28x28", *layers)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_convpool_needs_nchw() -> None:
    with pytest.raises(ShapeError, match="channels_first"):
        cnncalc.summarize(["convpool:20x1x5x5"], input_shape=(28, 28, 1))


# ----------------------------------------------------------------------------- Keras JSON import


@pytest.mark.parametrize("name", ["seed_cnn", "mixed_kinds", "sequence_1d"])
def test_keras_to_json_fixtures_match_keras(name: str) -> None:
    # NAME.expected.json was written by Keras itself (tests/fixtures/keras/make_fixtures.py).
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    doc = run_json("summary", "-f", str(FIXTURES / f"{name}.json"))
    assert [(layer["name"], layer["output_shape"], layer["params"]) for layer in doc["layers"]] == [
        (layer["name"], layer["output_shape"], layer["params"]) for layer in expected["layers"]
    ]
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        assert doc[key] == expected[key], key
    assert run("verify", "-f", str(FIXTURES / f"{name}.json")).exit_code == 0


def test_keras_json_refuses_what_it_cannot_honour() -> None:
    doc = json.loads((FIXTURES / "seed_cnn.json").read_text())
    doc["config"]["layers"][1]["config"]["filters"] = "many"
    result = run("summary", "-f", "-", input=json.dumps(doc))
    assert result.exit_code == 2 and "layer 1" in result.stderr and "filters" in result.stderr
    with pytest.raises(SpecError, match="renorm=True is not supported"):
        cnncalc.summarize(
            {"layers": [{"class_name": "BatchNormalization", "config": {"renorm": True}}]},
            input_shape=(4, 4, 2),
        )
    with pytest.raises(SpecError, match="Sequential and Functional ones are"):
        cnncalc.parse({"class_name": "Sequence", "config": {"layers": []}})


# ----------------------------------------------------------------------------- properties


KIND_TEMPLATES = [
    "conv:{k},{f},{s},{p}",
    "depthwise:{f},{s},{p},depth_multiplier={m}",
    "separableconv2d:{k},{f},{s},{p}",
    "conv2dtranspose:{k},{f},{s},{tp}",
    "maxpool:{f},{s},{p}",
    "avgpool:{f},{s},{p}",
    "gap:keepdims={b}",
    "gmp",
    "zeropadding2d:{a}x{b2}",
    "cropping2d:{c}",
    "upsampling2d:{m}x{s}",
    "upsampling2d:{m},interpolation=bilinear",
    "layernormalization",
    "bn",
    "relu:max_value=6",
    "leakyrelu",
    "softmax",
    "spatialdropout2d:0.5",
    "flatten",
    "permute:dims=2x1x3",
]


@given(
    st.lists(st.sampled_from(KIND_TEMPLATES), min_size=1, max_size=3),
    st.sampled_from(["channels_last", "channels_first"]),
    st.sampled_from(["keras", "pytorch"]),
    st.integers(5, 12),
    st.integers(5, 12),
    st.integers(1, 3),
    st.fixed_dictionaries(
        {
            "k": st.integers(1, 4),
            "f": st.integers(1, 3),
            "s": st.integers(1, 2),
            "p": st.sampled_from(["valid", "same", "1"]),
            "tp": st.sampled_from(["valid", "same", "0"]),
            "m": st.integers(1, 2),
            "a": st.integers(0, 2),
            "b2": st.integers(0, 2),
            "c": st.integers(0, 2),
            "b": st.booleans(),
        }
    ),
)
def test_every_kind_core_equals_executor(templates, fmt, convention, h, w, c, values) -> None:
    values = {**values, "b": str(values["b"]).lower()}
    layers = [t.format(**values) for t in templates]
    shape = (h, w, c) if fmt == "channels_last" else (c, h, w)
    try:
        summary = cnncalc.summarize(layers, input_shape=shape, data_format=fmt, convention=convention)
    except cnncalc.CnncalcError:
        assume(False)  # an impossible combination: not a case for the executor
    report = verify(summary, dtype="float64")
    assert report.ok, (layers, shape, fmt, convention, [r for r in report.rows if not r.ok])
