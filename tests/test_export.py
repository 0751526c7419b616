"""`cnncalc export --to keras`: the code reads back to the same table (every zoo model Keras can
express, random stacks), it is refused with the reason where Keras has no such layer, and it is
plain Python (it parses). Running it in Keras is tests/test_model_code_frameworks.py (dev-only)."""

from __future__ import annotations

import ast
import json
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc import zoo
from cnncalc.engine import summarize
from cnncalc.errors import CnncalcError
from cnncalc.export import export
from cnncalc.io import from_layers, loads
from cnncalc.io.python_source import read_python

from .helpers import run

#: zoo models written for Keras (alexnet and resnet18 follow PyTorch's rules)
KERAS_ZOO = [name for name in zoo.names() if json.loads(zoo.load(name)).get("convention", "keras") == "keras"]


def comparable(summary) -> dict:
    """The JSON document without what the code is free to change (the title, line numbers)."""
    doc = summary.to_dict()
    doc.pop("name")
    for layer in doc["layers"]:
        layer.pop("line", None)
    return doc


def round_trip(summary) -> dict:
    code = export(summary)
    ast.parse(code)
    return comparable(summarize(read_python(code, "export.py")))


@pytest.mark.parametrize("name", KERAS_ZOO)
def test_zoo_models_read_back_to_the_same_table(name) -> None:
    summary = summarize(loads(zoo.load(name)))
    assert round_trip(summary) == comparable(summary)


def random_stack(rng: random.Random) -> tuple[list[str], tuple[int, ...]]:
    """A random Keras-expressible stack (compact specs) and its input shape (may be invalid)."""
    shape = (rng.randint(8, 40), rng.randint(8, 40), rng.randint(1, 4))
    layers = []
    for _ in range(rng.randint(1, 6)):
        choice = rng.randrange(11)
        pad = rng.choice(["valid", "same"])
        if choice == 0:
            layers.append(
                f"conv:{rng.randint(1, 8)},{rng.randint(1, 4)}x{rng.randint(1, 4)},{rng.randint(1, 2)},{pad}"
            )
        elif choice == 1:
            layers.append(
                f"conv:{rng.randint(1, 8)},3,dilation_rate=2,padding={pad},use_bias={rng.random() < 0.5}"
            )
        elif choice == 2:
            layers.append(f"maxpool:{rng.randint(1, 3)},{rng.randint(1, 3)},{pad}")
        elif choice == 3:
            layers.append(f"avgpool:{rng.randint(1, 3)},padding={pad}")
        elif choice == 4:
            layers.append(
                f"depthwiseconv2d:{rng.randint(1, 3)},{rng.randint(1, 2)},{pad},depth_multiplier={rng.randint(1, 2)}"
            )
        elif choice == 5:
            layers.append(f"separableconv2d:{rng.randint(1, 6)},{rng.randint(1, 3)},padding={pad}")
        elif choice == 6:
            layers.append(
                rng.choice(
                    ["bn", "relu", "dropout:0.25", "activation:tanh", "zeropadding2d:1", "upsampling2d:2"]
                )
            )
        elif choice == 7:
            layers.append(
                f"conv2dtranspose:{rng.randint(1, 6)},{rng.randint(1, 3)},{rng.randint(1, 2)},{pad}"
            )
        elif choice == 8:
            layers.append(f"cropping2d:{rng.randint(0, 2)}")
        elif choice == 9:
            layers.append("globalaveragepooling2d")
            break
        else:
            layers.append("flatten")
            break
    if rng.random() < 0.5:
        if "globalaveragepooling2d" not in layers and "flatten" not in layers:
            layers.append("flatten")
        layers.append(f"dense:{rng.randint(1, 12)},activation=softmax")
    return layers, shape


def random_summaries(count: int, seed: int) -> list:
    """``count`` computable random stacks (impossible shapes are drawn again)."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        layers, shape = random_stack(rng)
        try:
            out.append(summarize(from_layers(layers), input_shape=shape))
        except CnncalcError:
            continue
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_stacks_read_back_to_the_same_table(seed) -> None:
    layers, shape = random_stack(random.Random(seed))
    try:
        summary = summarize(from_layers(layers), input_shape=shape)
    except CnncalcError:
        assume(False)
        return
    assert round_trip(summary) == comparable(summary)


def test_a_graph_becomes_a_functional_model() -> None:
    summary = summarize(loads(zoo.load("inception_block")))
    code = export(summary)
    assert "keras.Model(inputs=" in code and "layers.Concatenate(" in code
    assert "model = keras.Sequential" not in code


def test_cli_writes_runnable_code(tmp_path) -> None:
    out = tmp_path / "model.py"
    result = run(
        "export",
        "--to",
        "keras",
        "--input",
        "28x28x1",
        "conv:32,3,activation=relu",
        "maxpool:2",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "layers.Conv2D(filters=32, kernel_size=(3, 3), activation='relu', name='conv2d')" in text
    back = run("summary", "-f", str(out), "--format", "json")
    assert json.loads(back.stdout)["output_shape"] == [13, 13, 32]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "resnet18"], "the model uses --convention pytorch"),
        (
            ["--convention", "keras", "--input", "9x9x1", "maxpool:3,2,ceil_mode=true"],
            "ceil_mode=True is PyTorch's",
        ),
        (["--input", "9x9x1", "conv:4,3,1,1"], "padding=[[1, 1], [1, 1]] is PyTorch's"),
        (["--input", "9x9x1", "adaptiveavgpool:2"], "AdaptiveAvgPool2d has no Keras class"),
    ],
)
def test_what_keras_cannot_express_is_refused(args, message) -> None:
    result = run("export", "--to", "keras", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


# --- PyTorch --------------------------------------------------------------------------------------

#: The torchvision zoo models whose every kind `export --to pytorch` writes and the reader reads
#: back. The others need what export does not write yet: LayerNorm (convnext), Slice (shufflenet's
#: chunk), ReLU6 (mobilenet_v2), nn.Hardswish read back (mobilenet_v3), F.avg_pool2d's
#: count_include_pad (inception), F.relu / nn.SiLU rows as their modules (googlenet, densenet,
#: efficientnet), dotted names with '-' (regnet).
TORCH_ZOO = [
    f"torchvision/{name}" for name in ("alexnet", "vgg16", "vgg19", "resnet18", "resnet50", "squeezenet1_0")
]
_DECLARED = ("in_channels", "in_features", "num_features")


def torch_comparable(summary) -> dict:
    """The JSON document without names (functional rows are named by their function), line
    numbers, and the in_channels/in_features the code declares (they only check the input)."""
    doc = comparable(summary)
    for layer in doc["layers"]:
        layer.pop("name")
        layer.pop("inputs", None)
        for key in _DECLARED:
            layer["config"].pop(key, None)
    return doc


def torch_round_trip(summary) -> dict:
    code = export(summary, "pytorch")
    ast.parse(code)
    return torch_comparable(summarize(read_python(code, "export.py")))


def random_torch_stack(rng: random.Random) -> tuple[list[str], tuple[int, ...]]:
    """A random PyTorch-expressible stack (compact specs, PyTorch rules, NCHW) and its input."""
    shape = (rng.randint(1, 4), rng.randint(6, 40), rng.randint(6, 40))
    layers = []
    for _ in range(rng.randint(1, 6)):
        choice = rng.randrange(8)
        if choice == 0:
            k = rng.randint(1, 4)
            layers.append(f"conv:{rng.randint(1, 8)},{k},{rng.randint(1, 2)},{rng.randint(0, k // 2)}")
        elif choice == 1:
            layers.append(
                f"conv:{rng.randint(1, 8)},3,padding=same,dilation_rate={rng.randint(1, 2)},use_bias={rng.random() < 0.5}"
            )
        elif choice == 2:
            k = rng.randint(1, 3)
            layers.append(
                f"maxpool:{k},{rng.randint(1, 2)},{rng.randint(0, k // 2)},ceil_mode={rng.random() < 0.5}"
            )
        elif choice == 3:
            layers.append(f"avgpool:{rng.randint(1, 3)},{rng.randint(1, 2)}")
        elif choice == 4:
            layers.append(
                rng.choice(
                    ["bn", "relu", "dropout:0.25", "activation:tanh", "activation:sigmoid", "activation:gelu"]
                )
            )
        elif choice == 5:
            layers.append(f"conv2dtranspose:{rng.randint(1, 6)},{rng.randint(1, 3)},{rng.randint(1, 2)}")
        elif choice == 6:
            layers.append(f"adaptiveavgpool2d:{rng.randint(1, 3)}")
        else:
            layers.append("flatten")
            break
    if rng.random() < 0.5:
        if "flatten" not in layers:
            layers.append("flatten")
        layers.append(f"dense:{rng.randint(1, 12)}")
    return layers, shape


def random_torch_summaries(count: int, seed: int) -> list:
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        layers, shape = random_torch_stack(rng)
        try:
            out.append(summarize(from_layers(layers), input_shape=shape, convention="pytorch"))
        except CnncalcError:
            continue
    return out


@pytest.mark.parametrize("name", TORCH_ZOO)
def test_torch_zoo_models_read_back_to_the_same_table(name) -> None:
    """Every module row (``.`` in names written ``_``) reads back with its shape, params and
    arguments; a fused activation (the zoo's AlexNet convs) is a module and a row of its own."""
    summary = summarize(loads(zoo.load(name)))
    back = summarize(read_python(export(summary, "pytorch"), "export.py"))
    rows = {row.name: row for row in back.layers}
    for row in summary.layers:
        if row.type in ("add", "multiply", "concatenate"):
            continue  # functional rows: named by their function
        twin = rows[row.name.replace(".", "_")]
        assert (twin.output_shape, twin.params, twin.buffers) == (row.output_shape, row.params, row.buffers)
        config = {k: v for k, v in twin.config.items() if k not in _DECLARED}
        own = {k: v for k, v in row.config.items() if k not in _DECLARED}  # checks, not arguments
        assert config == ({**own, "activation": "linear"} if "activation" in own else own)
    extra = [r for r in back.layers if r.name not in {x.name.replace(".", "_") for x in summary.layers}]
    assert all(r.type in ("relu", "activation", "add", "multiply", "concatenate") for r in extra)
    assert back.total_params == summary.total_params and back.output_shape == summary.output_shape


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_torch_stacks_read_back_to_the_same_table(seed) -> None:
    layers, shape = random_torch_stack(random.Random(seed))
    try:
        summary = summarize(from_layers(layers), input_shape=shape, convention="pytorch")
    except CnncalcError:
        assume(False)
        return
    assert torch_round_trip(summary) == torch_comparable(summary)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "8x8x1", "conv:4,3"], "summarize the model under --convention pytorch"),
        (
            ["--convention", "pytorch", "--input", "1x9x9", "upsampling2d:2"],
            "UpSampling2D has no PyTorch module",
        ),
        (
            ["--convention", "pytorch", "--input", "1x9x9", "zeropadding2d:1"],
            "ZeroPadding2D has no PyTorch module",
        ),
    ],
)
def test_what_pytorch_cannot_express_is_refused(args, message) -> None:
    result = run("export", "--to", "pytorch", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
