"""`cnncalc export --to keras`: the code reads back to the same table (every zoo model Keras can
express, random stacks), it is refused with the reason where Keras has no such layer, and it is
plain Python (it parses). Running it in Keras is tests/test_model_code_frameworks.py (dev-only)."""

from __future__ import annotations

import ast
import json
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc import zoo
from cnncalc.engine import summarize
from cnncalc.enums import DataFormat
from cnncalc.errors import CnncalcError
from cnncalc.export import HELPER_SUFFIXES, export
from cnncalc.export_torch import HELPER_SUFFIXES as TORCH_HELPERS
from cnncalc.io import from_layers, loads
from cnncalc.io.python_source import read_python

from .helpers import run

#: zoo models written for Keras (alexnet and resnet18 follow PyTorch's rules)
KERAS_ZOO = [name for name in zoo.names() if json.loads(zoo.load(name)).get("convention", "keras") == "keras"]


#: What each target cannot express, by (zoo model, target): the refusal names the layer and why.
REFUSED = {
    ("torchvision/convnext_tiny", "keras"): "Arithmetic (a tensor combined with a (learned) constant)",
    ("torchvision/convnext_tiny", "pytorch"): "torch.nn.LayerNorm normalizes the last axes of NCHW",
    ("torchvision/shufflenet_v2_x1_0", "keras"): "Slice (a slice of a tensor) has no keras.layers class",
}
#: Functional rows of PyTorch code: named by their function when read back, matched in order.
FUNCTIONAL = ("add", "multiply", "concatenate", "globalaveragepooling2d", "reshape", "slice")


def channels_first(shape) -> tuple:
    shape = tuple(shape)
    return (shape[-1], *shape[:-1]) if len(shape) >= 2 else shape


def state(row) -> int:
    """Params + buffers that both frameworks hold: PyTorch's BatchNorm also counts its
    num_batches_tracked integer (2*C + 1 buffers), which Keras has no counterpart for."""
    counter = row.buffers % 2 if row.type == "batchnormalization" else 0
    return row.params + row.buffers - counter


def exported_name(name: str, target: str) -> str:
    """A row's name in the exported code (PyTorch attributes write every non-word character ``_``,
    Keras '.' and '/'; a PyTorch attribute cannot start with a digit: ``nn.Sequential``-style
    names ``0``, ``1`` become ``layer__0``, ``layer__1``)."""
    if target != "pytorch":
        return re.sub(r"[./]", "_", name)
    attribute = re.sub(r"\W", "_", name)
    return f"layer__{attribute}" if attribute[:1].isdigit() else attribute


def cross_check(summary, target: str) -> None:
    """Export, read back, and compare every row: the output shape (the channel axis moved when
    a channels_last model becomes NCHW PyTorch code), trainable params, and params + buffers (Keras
    counts BatchNorm's moving statistics as params, PyTorch as buffers), a row's helper layers
    (zero padding, upsampling, a separable conv's depthwise half) counted with it. Rows the code
    adds are only helpers and fused activations; functional rows match in order."""
    back = summarize(read_python(export(summary, target), "export.py"))
    move = target == "pytorch" and summary.data_format is DataFormat.CHANNELS_LAST
    rows = {row.name: row for row in back.layers}
    seen: set[str] = set()
    originals = {exported_name(row.name, target) for row in summary.layers}
    functional = []
    for row in summary.layers:
        key = exported_name(row.name, target)
        if target == "pytorch" and row.type in FUNCTIONAL:
            functional.append(row)
            continue
        twin = rows[key]
        fused = row.config.get("activation", "linear")
        suffixes = dict.fromkeys((*HELPER_SUFFIXES, *TORCH_HELPERS, fused))  # both write 'deconv'
        helpers = [
            rows[f"{key}_{s}"] for s in suffixes if f"{key}_{s}" in rows and f"{key}_{s}" not in originals
        ]
        seen.update([key, *(h.name for h in helpers)])
        own = [r for r in [twin, *helpers] if not (r.name.endswith(f"_{fused}") and r is not twin)]
        shape = channels_first(row.output_shape) if move else tuple(row.output_shape)
        assert tuple(twin.output_shape) == shape, (row.name, row.output_shape, twin.output_shape)
        assert sum(r.trainable_params for r in own) == row.trainable_params, row.name
        assert sum(state(r) for r in own) == state(row), row.name
    rest = [r for r in back.layers if r.name not in seen]
    assert [r.type for r in rest] == [r.type for r in functional]
    for mine, twin in zip(functional, rest, strict=True):
        shape = channels_first(mine.output_shape) if move else tuple(mine.output_shape)
        assert tuple(twin.output_shape) == shape, (mine.name, twin.name)
    assert back.trainable_params == summary.trainable_params
    assert sum(map(state, back.layers)) == sum(map(state, summary.layers))


@pytest.mark.parametrize("target", ["keras", "pytorch"])
@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_model_exports_to_both_targets_and_reads_back(name, target) -> None:
    summary = summarize(loads(zoo.load(name)))
    if (name, target) in REFUSED:
        with pytest.raises(CnncalcError, match=re.escape(REFUSED[name, target])) as err:
            export(summary, target)
        assert "\n" not in str(err.value) and "layer " in str(err.value)
        return
    cross_check(summary, target)


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
        (["--model", "shufflenet_v2_x1_0"], "Slice (a slice of a tensor) has no keras.layers class"),
        (
            ["--convention", "keras", "--input", "9x9x1", "maxpool:3,2,ceil_mode=true"],
            "ceil_mode=True is PyTorch's",
        ),
        (["--input", "9x9x1", "conv:4,3,1,1"], "padding=[[1, 1], [1, 1]] is PyTorch's"),
        (
            [
                "--data-format",
                "channels_first",
                "--input",
                "1x9x9",
                "convpoollayer:filter_shape=(2,1,3,3),image_shape=(1,1,9,9)",
            ],
            "network3's (Theano) layer",
        ),
    ],
)
def test_what_keras_cannot_express_is_refused(args, message) -> None:
    result = run("export", "--to", "keras", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


# --- PyTorch --------------------------------------------------------------------------------------

#: The torchvision zoo models exported with the pytorch convention's own rules (configs compared).
#: (Every zoo model is cross-checked above; these also keep every argument as written.)
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
        (["--input", "8x8x1", "conv:4,3", "dense:3"], "Dense on a channels_last feature map"),
        (
            ["--convention", "pytorch", "--input", "1x9x9", "cropping2d:1"],
            "Cropping2D has no PyTorch module",
        ),
        (["--model", "convnext_tiny"], "torch.nn.LayerNorm normalizes the last axes of NCHW"),
    ],
)
def test_what_pytorch_cannot_express_is_refused(args, message) -> None:
    result = run("export", "--to", "pytorch", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


# --- across the conventions -------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_keras_stacks_export_to_pytorch(seed) -> None:
    """Keras-rule stacks (same padding at stride 2, depthwise and separable convs, zero padding,
    upsampling, transposed convs) as NCHW PyTorch code: every row's shape (channels moved) and
    params read back. (Cropping is left out: PyTorch has no module for it.)"""
    layers, shape = random_stack(random.Random(seed))
    layers = [layer for layer in layers if not layer.startswith("cropping")]
    assume(layers)
    try:
        summary = summarize(from_layers(layers), input_shape=shape)
    except CnncalcError:
        assume(False)
        return
    try:
        export(summary, "pytorch")
    except CnncalcError as err:  # Keras's 'same' crops one side only, PyTorch's padding both
        assume("no ConvTranspose padding gives" not in str(err))
    cross_check(summary, "pytorch")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_torch_stacks_export_to_keras(seed) -> None:
    """PyTorch-rule stacks (integer padding, ceil_mode, adaptive pooling) as channels_first Keras
    code: every row's shape and params read back."""
    layers, shape = random_torch_stack(random.Random(seed))
    try:
        summary = summarize(from_layers(layers), input_shape=shape, convention="pytorch")
    except CnncalcError:
        assume(False)
        return
    cross_check(summary, "keras")


def cross_summaries(count: int, seed: int, target: str) -> list:
    """``count`` computable random stacks of the other convention than ``target`` that it writes
    (Keras rules for pytorch, PyTorch rules for keras)."""
    rng = random.Random(seed)
    out: list = []
    while len(out) < count:
        if target == "pytorch":
            layers, shape = random_stack(rng)
            layers = [layer for layer in layers if not layer.startswith("cropping")]
            convention = "keras"
        else:
            layers, shape = random_torch_stack(rng)
            convention = "pytorch"
        try:
            summary = summarize(from_layers(layers), input_shape=shape, convention=convention)
        except CnncalcError:
            continue  # an impossible shape: draw again
        try:
            export(summary, target)
        except CnncalcError as err:  # the one refusal these stacks can meet
            assert "no ConvTranspose padding gives" in str(err), err
            continue
        out.append(summary)
    return out


@pytest.mark.parametrize(
    ("layer", "module"),
    [
        ("activation:elu,inplace=True", "nn.ELU(inplace=True)"),
        ("activation:silu,inplace=True", "nn.SiLU(inplace=True)"),
        ("ReLU:inplace=true", "nn.ReLU(inplace=True)"),
    ],
)
def test_in_place_activations_export_in_place(layer: str, module: str) -> None:
    # Found by tests/test_memory_frameworks.py (dev-only, against torch's saved tensors): an
    # in-place ELU was written nn.ELU(), so the exported model kept one tensor more for backward
    # than the spec's memory figure (which honours inplace) said.
    summary = summarize(from_layers(["conv:2,3", layer]), input_shape=(1, 8, 8), convention="pytorch")
    code = export(summary, "pytorch")
    assert module in code
    back = summarize(read_python(code, "export.py"))
    assert back.layers[-1].config.get("inplace") is True
