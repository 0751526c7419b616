"""PyTorch argument names and order under the pytorch convention (`conv2d:3,64,7,2,3`,
`BatchNorm2d:64`, `Linear:512,1000`), declared input sizes checked with the value they must be,
and NCHW/NHWC as data formats."""

from __future__ import annotations

import json

import pytest

import cnncalc
from cnncalc.enums import Convention, DataFormat
from cnncalc.errors import SizeMismatch
from cnncalc.io import from_layers

from .helpers import run


def _summary(*layers: str, shape: tuple[int, ...]):
    return cnncalc.summarize(
        from_layers(list(layers), Convention.PYTORCH), input_shape=shape, convention="pytorch"
    )


def test_conv2d_in_pytorch_order() -> None:
    # nn.Conv2d(3, 64, 7, 2, 3): (224 + 2*3 - 7)//2 + 1 = 112; 64*3*7*7 + 64 = 9,472 params.
    row = _summary("conv2d:3,64,7,2,3", shape=(3, 224, 224)).layers[0]
    assert row.output_shape == (64, 112, 112) and row.params == 9472
    assert row.config["in_channels"] == 3 and row.config["filters"] == 64


def test_pytorch_keywords() -> None:
    row = _summary(
        "Conv2d:in_channels=3,out_channels=8,kernel_size=3,stride=2,padding=1,bias=false", shape=(3, 9, 9)
    ).layers[0]
    assert row.output_shape == (8, 5, 5) and row.params == 8 * 3 * 9


def test_batchnorm2d_has_pytorch_defaults_and_buffers() -> None:
    row = _summary("BatchNorm2d:64", shape=(64, 7, 7)).layers[0]
    assert (row.params, row.buffers) == (128, 129)  # weight + bias; running mean + var + num_batches_tracked
    assert row.config["epsilon"] == 1e-5 and row.config["momentum"] == pytest.approx(0.9)
    # PyTorch's momentum=0.01 weighs the new batch: Keras's 0.99 weighs the running value
    assert _summary("BatchNorm2d:64,momentum=0.01", shape=(64, 7, 7)).layers[0].config[
        "momentum"
    ] == pytest.approx(0.99)
    assert _summary("BatchNorm2d:64,affine=false", shape=(64, 7, 7)).layers[0].params == 0


def test_linear_and_pools() -> None:
    # MaxPool2d(3, 2, 1) on 4: (4 + 2 - 3)//2 + 1 = 2; AvgPool2d(2): 1; Linear(512, 1000).
    s = _summary("maxpool2d:3,2,1", "avgpool2d:2", "flatten", "Linear:512,1000", shape=(512, 4, 4))
    assert [r.output_shape for r in s.layers] == [(512, 2, 2), (512, 1, 1), (512,), (1000,)]
    assert s.layers[-1].params == 513_000  # 512*1000 + 1000


def test_keras_spelling_keeps_keras_order_under_pytorch() -> None:
    # `conv:8,3,1,1` is Conv2D(filters=8, kernel_size=3, strides=1, padding=1) as before.
    row = _summary("conv:8,3,1,1", shape=(3, 10, 10)).layers[0]
    assert row.output_shape == (8, 10, 10)


def test_keras_convention_is_unchanged() -> None:
    row = cnncalc.summarize(from_layers(["conv2d:16,3"]), input_shape=(8, 8, 3)).layers[0]
    assert row.output_shape == (6, 6, 16)


def test_in_features_error_says_what_it_must_be() -> None:
    result = run(
        "summary",
        "--convention",
        "pytorch",
        "--input",
        "1x28x28",
        "conv2d:1,32,3,1,1",
        "maxpool2d:2",
        "maxpool2d:2",
        "flatten",
        "linear:1000,10",
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: layer 5 (linear:1000,10): in_features=1568, not 1000: 32x7x7 after flatten",
        "Hint: use in_features=1568",
    ]


def test_in_channels_and_num_features_mismatch() -> None:
    with pytest.raises(SizeMismatch, match=r"in_channels=3, not 4: the input is 3x8x8"):
        _summary("conv2d:4,8,3", shape=(3, 8, 8))
    with pytest.raises(SizeMismatch, match=r"num_features=8, not 16"):
        _summary("batchnorm2d:16", shape=(8, 4, 4))


def test_json_spec_under_pytorch() -> None:
    doc = {
        "input_shape": [3, 32, 32],
        "convention": "pytorch",
        "layers": [
            "Conv2d:3,16,3,1,1",
            {"type": "BatchNorm2d", "num_features": 16},
            {"type": "nn.Conv2d", "in_channels": 16, "out_channels": 4, "kernel_size": 1},
        ],
    }
    s = cnncalc.summarize(doc)
    assert [r.output_shape for r in s.layers] == [(16, 32, 32), (16, 32, 32), (4, 32, 32)]
    # --format json output reads back (Keras names pass through the PyTorch spelling)
    again = cnncalc.summarize(json.dumps(s.to_dict()))
    assert again.total_params == s.total_params == (16 * 27 + 16) + 32 + (4 * 16 + 4)


@pytest.mark.parametrize(("name", "fmt"), [("NCHW", "channels_first"), ("nhwc", "channels_last")])
def test_data_format_synonyms(name: str, fmt: str) -> None:
    assert DataFormat.parse(name, "data format").value == fmt
    shape = "1x28x28" if fmt == "channels_first" else "28x28x1"
    result = run("summary", "--data-format", name, "--input", shape, "conv:8,3", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["data_format"] == fmt


def test_against_torch() -> None:
    """Dev-only: the same constructor arguments in torch give the same shapes and counts."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    cases = [
        ("conv2d:3,64,7,2,3", nn.Conv2d(3, 64, 7, 2, 3), (3, 50, 47)),
        ("conv1d:4,6,5,3,2,2", nn.Conv1d(4, 6, 5, 3, 2, 2), (4, 40)),
        ("convtranspose2d:8,4,3,2,1,1", nn.ConvTranspose2d(8, 4, 3, 2, 1, 1), (8, 9, 9)),
        ("BatchNorm2d:8", nn.BatchNorm2d(8), (8, 5, 5)),
        ("maxpool2d:3,2,1,1,false,true", nn.MaxPool2d(3, 2, 1, 1, False, True), (2, 12, 13)),
        ("avgpool2d:3,2,1,true", nn.AvgPool2d(3, 2, 1, True), (2, 12, 13)),
    ]
    for spec, module, shape in cases:
        row = _summary(spec, shape=shape).layers[0]
        out = module.eval()(torch.zeros(1, *shape))
        assert row.output_shape == tuple(out.shape[1:]), spec
        assert row.params == sum(p.numel() for p in module.parameters()), spec
        assert row.buffers == sum(b.numel() for b in module.buffers()), spec
