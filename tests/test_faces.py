"""The kinds' framework faces (cnncalc/layers/faces.py): both directions of each lookup, the
one-layer writers, export's one-line refusal of a kind without a face, and counting keyed on the
kind (never on a Python class name)."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.enums import Convention, DataFormat
from cnncalc.errors import SpecError
from cnncalc.export import keras_text
from cnncalc.export_torch import torch_text
from cnncalc.layers import KINDS, lookup
from cnncalc.layers import faces as F
from cnncalc.layers.base import Context
from cnncalc.layers.torch_names import torch_signature

from .helpers import error_lines, run

TORCH = Context(Convention.PYTORCH, DataFormat.CHANNELS_FIRST)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Conv2D", "conv2d"),
        ("GroupNormalization", "groupnormalization"),
        ("Conv3DTranspose", "conv3dtranspose"),
    ],
)
def test_keras_class_to_kind(name: str, kind: str) -> None:
    assert F.kind_for_keras_class(name) is lookup(kind)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Conv2d", "conv2d"),
        ("nn.Linear", "dense"),
        ("BatchNorm1d", "batchnormalization"),
        ("Dropout2d", "spatialdropout2d"),
        ("GELU", "activation"),
        ("ReLU6", "relu"),
        ("PixelShuffle", "pixelshuffle"),
        ("PixelUnshuffle", "pixelunshuffle"),
        ("GroupNorm", "groupnormalization"),
        ("InstanceNorm3d", "instancenorm3d"),
        ("Upsample", "upsampling2d"),  # a name several ranks share reads as the 2-D kind
    ],
)
def test_torch_module_to_kind(name: str, kind: str) -> None:
    assert F.kind_for_torch_module(name) is lookup(kind)


def test_torch_functions_and_onnx_ops_to_kinds() -> None:
    assert F.kind_for_torch_function("pixel_shuffle") is lookup("pixelshuffle")
    assert F.kind_for_torch_function("group_norm") is lookup("groupnormalization")
    assert F.kind_for_onnx_op("DepthToSpace") is lookup("pixelshuffle")
    assert F.kind_for_onnx_op("SpaceToDepth") is lookup("pixelunshuffle")
    assert F.kind_for_onnx_op("GroupNormalization") is lookup("groupnormalization")
    assert F.kind_for_onnx_op("InstanceNormalization") is lookup("instancenorm2d")
    # Add is a merge of two tensors or a constant's arithmetic: both kinds are that op
    assert {k.type for k in F.kinds_for_onnx_op("Add")} == {"add", "arithmetic"}
    assert F.kind_for_onnx_op("NoSuchOp") is None


def test_kinds_to_faces_and_back_for_every_kind() -> None:
    keras = torch = onnx = 0
    for kind in KINDS:
        faces = F.faces_of(kind.cls)
        rank = F.rank_of(kind)
        if isinstance(faces.keras, F.KerasFace) and not faces.keras.written_only:
            assert F.kind_for_keras_class(faces.keras.name(rank)) is kind
            keras += 1
        if isinstance(faces.torch, F.TorchFace):
            torch += 1
        if isinstance(faces.onnx, F.OnnxFace):
            assert kind in F.kinds_for_onnx_op(faces.onnx.ops[0])
            onnx += 1
    # every Keras class name the registry spells is the kind's Keras face, read back
    assert keras >= 50 and torch >= 40 and onnx >= 40, (keras, torch, onnx)


def test_pytorch_signatures_come_from_the_faces() -> None:
    sig = torch_signature("nn.Conv2d")
    assert (
        sig is not None
        and sig.class_name == "Conv2d"
        and sig.positional[:3]
        == (
            "in_channels",
            "out_channels",
            "kernel_size",
        )
    )
    assert (
        torch_signature("BatchNorm2d") is not None and torch_signature("bn") is None
    )  # an alias: Keras order
    assert torch_signature("GroupNorm").arguments([4, 32], {}) == {
        "groups": 4,
        "num_channels": 32,
        "epsilon": 1e-5,
    }
    assert torch_signature("InstanceNorm2d").class_name == "InstanceNorm2d"
    # BatchNorm's momentum complement, written once: PyTorch 0.1 is Keras 0.9 (and back)
    assert torch_signature("BatchNorm2d").arguments([8], {"momentum": 0.1})["momentum"] == 0.9
    assert F.torch_momentum(0.99) == 0.01


def test_pytorch_call_syntax_reads_the_new_kinds() -> None:
    doc = {
        "convention": "pytorch",
        "input_shape": [3, 8, 8],
        "layers": ["GroupNorm:1,3", "PixelUnshuffle:2", "InstanceNorm2d:12,affine=true"],
    }
    s = cnncalc.summarize(doc)
    assert [r.output_shape for r in s.layers] == [(3, 8, 8), (12, 4, 4), (12, 4, 4)]
    assert [r.params for r in s.layers] == [6, 0, 24]  # 2*3 (gamma, beta); 0; 2*12 affine


def test_one_layer_writers() -> None:
    conv = lookup("conv2d").build({"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"})
    assert keras_text(conv, (9, 9, 3), Context()) == [
        "layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding='same', name='layer')"
    ]
    # Keras's 'same' at stride 2 on 9 pads 1 + 1 (total max((5 - 1)*2 + 3 - 9, 0) = 2): PyTorch's padding=1
    assert torch_text(conv, (9, 9, 3), Context()) == ["nn.Conv2d(3, 8, 3, stride=2, padding=1)"]
    shuffle = lookup("pixelshuffle").build({"upscale_factor": 2})
    assert torch_text(shuffle, (8, 4, 4), TORCH) == ["nn.PixelShuffle(2)"]
    norm = lookup("instancenorm2d").build({"affine": True})
    assert keras_text(norm, (4, 4, 8), Context()) == [
        "layers.GroupNormalization(groups=-1, epsilon=1e-05, name='layer')"
    ]
    with pytest.raises(
        SpecError, match="PixelShuffle has no keras.layers class cnncalc writes: Keras has no pixel shuffle"
    ):
        keras_text(shuffle, (4, 4, 8), Context())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--to", "keras", "--input", "8x8x4", "conv:4,3", "operation:op=add,operand=3"],
            "Operation has no keras.layers class cnncalc writes: a keras.ops call",
        ),
        (
            ["--to", "keras", "--input", "8x8x4", "layerscale:1e-6,4"],
            "LayerScale has no keras.layers class cnncalc writes: it is keras.applications.convnext's own layer",
        ),
        (
            ["--to", "keras", "--input", "8x8x4", "pixelshuffle:2"],
            "PixelShuffle has no keras.layers class cnncalc writes: Keras has no pixel shuffle layer",
        ),
        (
            ["--to", "pytorch", "--input", "8x8x4", "pixelshuffle:2,mode=dcr"],
            "PyTorch's pixel shuffles order channels as mode='crd'",
        ),
        (
            [
                "--to",
                "keras",
                "--convention",
                "pytorch",
                "--input",
                "4x8x8",
                "instancenorm2d:track_running_stats=true",
            ],
            "Keras's GroupNormalization has none",
        ),
    ],
)
def test_export_refuses_in_one_line(args: list[str], message: str) -> None:
    result = run("export", *args)
    assert result.exit_code == 2, result.stdout
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_counting_follows_the_kind_not_the_class_name() -> None:
    from cnncalc import counters
    from cnncalc.enums import Counter

    summary = cnncalc.summarize(["conv:4,3", "relu"], input_shape=(8, 8, 3))
    before = counters.compare(summary).total(Counter.PTFLOPS)
    conv_class = lookup("conv2d").cls
    conv_class.__name__ = "Renamed"  # a renamed class keeps its figures
    try:
        assert counters.compare(summary).total(Counter.PTFLOPS) == before > 0
    finally:
        conv_class.__name__ = "Conv"
    assert all(isinstance(key, F.Counted) for key in (*counters._RULES, *counters._NOT_COUNTED))
