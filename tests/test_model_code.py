"""Model code read with ast (never run): the course seeds, tutorial-style examples against what
Keras itself reports (fixtures written by tests/fixtures/model_code/make_expected.py), network3
values derived by hand, what is refused (with its line), and call syntax in LAYER arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cnncalc.engine import summarize
from cnncalc.errors import CnncalcError, MismatchError
from cnncalc.io.python_source import read_python

from .helpers import run, run_json

EXAMPLES = Path(__file__).parent / "fixtures" / "model_code"
EXPECTED = sorted(p for p in EXAMPLES.glob("*.expected.json") if not p.name.startswith("pytorch_"))
TORCH_EXPECTED = sorted(EXAMPLES.glob("pytorch_*.expected.json"))


def summary_of(text: str, model_name: str | None = None, **options):
    return summarize(read_python(text, "model.py", model_name), **options)


# --- the course seeds ----------------------------------------------------------------------------


def test_seed_conv_dims_as_printed() -> None:
    """conv-dims.py as the notes print it (its two imports glued on one line): 80 params,
    100x100x16 (the seed's own figures: (2*2*1 + 1) * 16 = 80; (200 - 2)/2 + 1 = 100)."""
    result = run("summary", "-f", str(EXAMPLES / "conv_dims.py"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["layers"][0]["output_shape"] == [100, 100, 16] and doc["total_params"] == 80
    assert doc["layers"][0]["line"] == 4  # the line of the model.add(Conv2D(...)) call
    assert "line 1: read as two imports" in result.stderr


def test_seed_pool_dims_as_printed() -> None:
    doc = run_json("summary", "-f", str(EXAMPLES / "pool_dims.py"))
    assert doc["output_shape"] == [50, 50, 15] and doc["total_params"] == 0


NETWORK3_SEED = """
Network([ConvPoolLayer(image_shape=(mini_batch_size, 1, 28, 28), filter_shape=(20, 1, 5, 5),
poolsize=(2, 2)), FullyConnectedLayer(n_in=20*12*12, n_out=100), SoftmaxLayer(n_in=100,
n_out=10)], mini_batch_size)
"""


def test_network3_seed_stack() -> None:
    """The issue's network3 stack: (28 - 5 + 1)/2 = 12, 20 maps; 20*1*5*5 + 20 = 520 params;
    n_in = 20*12*12 = 2880 is checked against the real input (it agrees)."""
    s = summary_of(NETWORK3_SEED)
    assert [r.output_shape for r in s.layers] == [(20, 12, 12), (100,), (10,)]
    assert [r.params for r in s.layers] == [520, 2880 * 100 + 100, 100 * 10 + 10]
    assert any("mini_batch_size" in note for note in s.notes)  # undefined here; changes no figure


def test_network3_example_file() -> None:
    s = summary_of((EXAMPLES / "network3_mnist.py").read_text())
    # by hand: 28-5+1=24 -> 12; 12-5+1=8 -> 4; 40*20*5*5+40; 40*4*4*100+100; 100*10+10
    assert [r.output_shape for r in s.layers] == [(20, 12, 12), (40, 4, 4), (100,), (10,)]
    assert [r.params for r in s.layers] == [520, 20040, 64100, 1010]
    assert [r.line for r in s.layers] == [11, 17, 23, 24]


def test_a_wrong_n_in_is_reported_at_its_line_and_fix_continues(tmp_path) -> None:
    path = tmp_path / "net.py"
    path.write_text(
        NETWORK3_SEED.replace("n_in=20*12*12", "n_in=20*24*24").replace("(mini_batch_size,", "(10,")
    )
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2
    first, hint = result.stderr.splitlines()
    assert "line 3: FullyConnectedLayer(" in first
    assert first.endswith("n_in is 11,520, but the layer gets 20x12x12 = 2,880 values: use n_in=2880")
    assert hint == "Hint: --fix continues with the real value, to see the whole table"
    fixed = run("summary", "-f", str(path), "--fix", "--format", "json")
    assert fixed.exit_code == 0, fixed.stderr
    doc = json.loads(fixed.stdout)
    assert [layer["params"] for layer in doc["layers"]] == [520, 288100, 1010]
    assert "use n_in=2880 (continuing with it)" in fixed.stderr


def test_fix_replaces_image_shape_and_filter_maps() -> None:
    text = """
net = Network([
    ConvPoolLayer(image_shape=(10, 1, 28, 28), filter_shape=(20, 1, 5, 5), poolsize=(2, 2)),
    ConvPoolLayer(image_shape=(10, 20, 14, 14), filter_shape=(40, 3, 5, 5), poolsize=(2, 2)),
    SoftmaxLayer(n_out=10)], 10)
"""
    with pytest.raises(MismatchError, match=r"use image_shape=\(10, 20, 12, 12\)"):
        summary_of(text)
    s = summary_of(text, fix=True)
    assert s.layers[1].output_shape == (40, 4, 4) and s.layers[1].params == 40 * 20 * 25 + 40
    assert s.layers[2].params == 640 * 10 + 10  # n_in left out: worked out from the input
    assert len(s.notes) == 2


# --- tutorial-style examples against Keras ----------------------------------------------------


def _cases():
    for path in EXPECTED:
        doc = json.loads(path.read_text())
        for model in doc["models"]:
            name = model["variable"] if len(doc["models"]) > 1 else None
            yield pytest.param(
                path.name.replace(".expected.json", ".py"), name, model, id=f"{path.stem}-{name}"
            )


@pytest.mark.parametrize("filename, model_name, keras_rows", list(_cases()))
def test_examples_match_keras(filename, model_name, keras_rows) -> None:
    """Every row of every example model as Keras 3 reports it (class, shape, params), matched by
    name (Keras lists a graph's layers in its own order); a second model in one file is matched in
    order, since Keras numbers unnamed layers across the whole session. A model with a layer class
    cnncalc has no kind for is refused naming it; the model the file compiles is its default;
    an input the file takes from its data is given (as --input does)."""
    text = (EXAMPLES / filename).read_text()
    if "refused" in keras_rows:
        with pytest.raises(CnncalcError, match="|".join(keras_rows["refused"])):
            summary_of(text, model_name)
        return
    given = tuple(keras_rows["input"]) if "input" in keras_rows else None
    s = summarize(read_python(text, "model.py", model_name, given))
    if keras_rows.get("default"):
        default = summarize(read_python(text, "model.py", None, given))
        assert [(r.name, r.output_shape, r.params) for r in default.layers] == [
            (r.name, r.output_shape, r.params) for r in s.layers
        ]
    ours = {r.name: (r.class_name, list(r.output_shape), r.params) for r in s.layers}
    theirs = {name: (cls, shape, params) for name, cls, shape, params in keras_rows["layers"]}
    if set(ours) != set(theirs):
        ours = dict(enumerate(ours.values()))
        theirs = dict(enumerate(theirs.values()))
    assert ours == theirs
    assert s.total_params == keras_rows["total_params"]


def test_every_example_has_expected_values() -> None:
    examples = {p.name for p in EXAMPLES.glob("*.py")} - {"make_expected.py", "network3_mnist.py"}
    assert {p.name.replace(".expected.json", ".py") for p in [*EXPECTED, *TORCH_EXPECTED]} == examples


@pytest.mark.parametrize("path", TORCH_EXPECTED, ids=lambda p: p.stem)
def test_pytorch_examples_match_torch(path) -> None:
    """Every module of every PyTorch example as torch 2.13 runs it (forward hooks): the output
    shape of each call (a module called twice is two rows, ``pool`` and ``pool_1``) and its own
    params; the model's output and sum(p.numel() for p in model.parameters())."""
    expected = json.loads(path.read_text())
    text = (EXAMPLES / path.name.replace(".expected.json", ".py")).read_text()
    s = summarize(read_python(text, "model.py", expected.get("model_name")))
    rows = {r.name: r for r in s.layers}
    for name, module in expected["modules"].items():
        for k, shape in enumerate(module["outputs"]):
            row = rows[name if k == 0 else f"{name}_{k}"]
            assert list(row.output_shape) == shape, name
        assert rows[name].params == module["params"], name
    assert list(s.output_shape) == expected["output"]
    assert s.total_params == expected["total_params"]


# --- spellings and values ------------------------------------------------------------------------

SPELLINGS = [
    "import keras\nm = keras.Sequential([keras.layers.Conv2D(16, 2, strides=2, input_shape=(200, 200, 1))])",
    "from keras import layers, models\nm = models.Sequential()\nm.add(layers.Conv2D(16, 2, strides=2, input_shape=(200, 200, 1)))",
    "import tensorflow as tf\nm = tf.keras.Sequential()\nm.add(tf.keras.layers.Conv2D(16, 2, strides=2, input_shape=(200, 200, 1)))",
    "from tensorflow.keras import layers as L\nfrom tensorflow import keras\nm = keras.Sequential([keras.Input((200, 200, 1)), L.Conv2D(16, 2, 2)])",
    "import keras\nm = keras.Sequential()\nm.add(keras.layers.Conv2D(16, 2, strides=2))\nm.build((None, 200, 200, 1))",
    "from keras.layers import *\nfrom keras.models import Model\ni = Input(batch_shape=(None, 200, 200, 1))\nm = Model(i, Conv2D(16, 2, strides=2)(i))",
    "S = 2\nK = S * 8\nfrom keras import Sequential\nfrom keras.layers import Conv2D\nm = Sequential([Conv2D(K, S, strides=S, input_shape=(100 * 2, 400 // 2, 3 - 2))])",
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_import_and_value_spellings(text) -> None:
    s = summary_of(text)
    assert [(r.output_shape, r.params) for r in s.layers] == [((100, 100, 16), 80)]


def test_model_name_picks_and_lists() -> None:
    text = (EXAMPLES / "keras_autoencoder.py").read_text()
    with pytest.raises(CnncalcError, match=r"2 models: encoder \(line 15\), decoder \(line 17\)"):
        read_python(text)
    assert summary_of(text, "decoder").output_shape == (28, 28, 1)
    assert summary_of(text, "encoder").output_shape == (16,)
    with pytest.raises(CnncalcError, match="no model 'decodr'"):
        read_python(text, model_name="decodr")
    result = run("summary", "-f", str(EXAMPLES / "keras_autoencoder.py"))
    assert result.exit_code == 2 and result.stderr.rstrip().endswith("pick one with --model-name")


def test_input_option_overrides_the_code() -> None:
    result = run_json("summary", "-f", str(EXAMPLES / "conv_dims.py"), "--input", "64x64x1")
    assert result["output_shape"] == [32, 32, 16]


NOT_FOLLOWED = [
    (
        "import keras\nm = keras.Sequential([keras.Input((8, 8, 1))])\nif deep:\n    m.add(keras.layers.Dense(2))",
        "line 3: the model depends on the condition deep",
    ),
    (
        "import keras\nblock = make_block(3)\nm = keras.Sequential([keras.Input((8, 8, 1)), block])",
        "line 3: block is not a layer the reader follows (make_block(3): make_block is not defined in the file, line 2)",
    ),
    (
        "import keras\nm = keras.Sequential([keras.layers.Dense(n)])",
        "line 2: keras.layers.Dense(n): argument 1: n is not defined",
    ),
    (
        "import keras\nm = keras.Sequential([keras.layers.Dense(64 / 2)])",
        "line 2: keras.layers.Dense(64 / 2): units: expected an integer, got 32.0",
    ),
    ("import keras\nclass Net(keras.Model):\n    pass", "line 2: class Net is a keras.Model without call()"),
    (
        "import keras\nd = keras.layers.Dense(4)\ni = keras.Input((4,))\nm = keras.Model(i, d(d(i)))",
        "called a second time",
    ),
    ("x = (", "not valid Python at line 1"),
    ("print('hello')", "found no model"),
]


def test_a_loop_that_builds_a_model_is_run() -> None:
    """for f in (8, 16): m.add(Conv2D(f, 3)) on 8x8x1: (3*3*1*8 + 8) = 80 and (3*3*8*16 + 16) = 1168."""
    text = "from keras import Sequential, layers\nm = Sequential()\nfor f in (8, 16):\n    m.add(layers.Conv2D(f, 3))"
    s = summary_of(text, input_shape=(8, 8, 1))
    assert [(r.output_shape, r.params) for r in s.layers] == [((6, 6, 8), 80), ((4, 4, 16), 1168)]


@pytest.mark.parametrize("text, message", NOT_FOLLOWED)
def test_what_cannot_be_followed_is_one_line_with_its_line(tmp_path, text, message) -> None:
    path = tmp_path / "model.py"
    path.write_text(text)
    result = run("summary", "-f", str(path), "--input", "8x8x1")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: {path}: ")


def test_harmless_statements_are_skipped() -> None:
    text = (EXAMPLES / "keras_mnist_sequential.py").read_text()  # has a training loop over model.fit
    assert summary_of(text).total_params == 34826


def test_from_python_forces_the_reader(tmp_path) -> None:
    path = tmp_path / "model.txt"
    path.write_text("m = Sequential([Dense(3, input_shape=(4,))])")
    assert run_json("summary", "-f", str(path), "--from", "python")["total_params"] == 15
    assert run_json("summary", "-f", "-", input=path.read_text())["total_params"] == 15  # by content


def test_model_name_needs_python_code(tmp_path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"input_shape": [4], "layers": ["dense:3"]}')
    result = run("summary", "-f", str(path), "--model-name", "x")
    assert result.exit_code == 2 and "--model-name picks a model in Python code" in result.stderr


# --- call syntax, tuples and arithmetic in LAYER arguments ---------------------------------------


def test_keras_call_syntax_as_layer_arguments() -> None:
    doc = run_json(
        "summary",
        "Conv2D(16, 2, strides=2, activation='relu', input_shape=(200, 200, 1))",
        "MaxPooling2D(pool_size=2)",
    )
    assert [layer["output_shape"] for layer in doc["layers"]] == [[100, 100, 16], [50, 50, 16]]
    assert doc["total_params"] == 80


def test_tuples_and_products_in_the_compact_grammar() -> None:
    doc = run_json("summary", "--input", "20x20x1", "conv:16,(2,2)", "conv:8,[3, 3],(1,1),padding=same")
    assert (
        doc["layers"][0]["config"]["kernel_size"] == [2, 2] and doc["layers"][1]["params"] == 8 * 16 * 9 + 8
    )
    doc = run_json(
        "summary",
        "--data-format",
        "channels_first",
        "--input",
        "1x28x28",
        "convpool:20x1x5x5",
        "fullyconnected:n_in=20*12*12,n_out=100",
        "softmaxlayer:n_out=10",
    )
    assert doc["total_params"] == 520 + 288100 + 1010


@pytest.mark.parametrize(
    "text, hint",
    [
        ("conv:16,2,2,'valid'", "Hint: write it as conv:16,2,2,valid"),
        ("conv 16 2", "Hint: write it as conv:16,2"),
        ("dense=10", "Hint: write it as dense:10"),
    ],
)
def test_near_misses_get_the_accepted_spelling(text, hint) -> None:
    result = run("summary", "--input", "8x8x1", text)
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == hint


def test_pytorch_call_syntax_takes_pytorch_names() -> None:
    """nn.Conv2d(in, out, kernel, stride): PyTorch's order whatever the convention (the seed's conv:
    (2*2*1 + 1) * 16 = 80 params, (200 - 2)/2 + 1 = 100)."""
    doc = run_json(
        "summary", "--convention", "pytorch", "--input", "1x200x200", "nn.Conv2d(1, 16, 2, stride=2)"
    )
    assert doc["output_shape"] == [16, 100, 100] and doc["total_params"] == 80
    doc = run_json(
        "summary", "--input", "200x200x1", "nn.Conv2d(1, 16, 2, stride=2)", "nn.ReLU(inplace=True)"
    )
    assert doc["output_shape"] == [100, 100, 16]
    result = run("summary", "--input", "200x200x3", "nn.Conv2d(1, 16, 2, stride=2)")
    assert result.exit_code == 2 and "in_channels=3, not 1" in result.stderr


def test_check_computes_model_code() -> None:
    result = run(
        "check", "--allow-empty", str(EXAMPLES / "pool_dims.py"), str(EXAMPLES / "keras_autoencoder.py")
    )
    assert result.exit_code == 2  # the second file has two models: an error result, the first passes
    assert "PASS" in result.stdout and "defines 2 models" in result.stdout


def test_json_output_of_model_code_reads_back(tmp_path) -> None:
    """--format json carries each layer's line; read back, it is an informational key."""
    doc = run_json("summary", "-f", str(EXAMPLES / "keras_cifar_add.py"))
    assert [layer["line"] for layer in doc["layers"]][:3] == [11, 12, 13]
    path = tmp_path / "out.json"
    path.write_text(json.dumps(doc))
    assert run("check", str(path)).exit_code == 0


# --- PyTorch code: what is refused, --fix, the input shape ----------------------------------------

TORCH_HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
TORCH_NET = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8 * 26 * 26, 10)

    def forward(self, x):
        x = F.relu(self.conv(x))
{body}
        return self.fc(x)


net = Net()
out = net(torch.randn(1, 1, 28, 28))
"""


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "        for _ in range(2):\n            x = self.conv(x)",
            "line 8: conv is applied twice (shared weights)",
        ),
        (
            "        if x.sum() > 0:\n            x = x * 2",
            "line 13: the model depends on the condition x.sum() > 0",
        ),
        ("        x = helper(x)", "line 13: helper(x): helper is not defined in the file"),
        ("        x = self.block(x)", "line 13: self.block(x): self.block is not set in the file"),
        ("        x = x.view(-1, 8 * 25 * 25)", "line 13: x.view(-1, 8 * 25 * 25)"),
        ("        x = x.view(x.size(1), -1)", "the first size must be the batch (x.size(0) or -1), not 8"),
    ],
)
def test_what_forward_cannot_follow_is_named_by_line(body, message) -> None:
    text = TORCH_HEAD + TORCH_NET.format(body=body)
    with pytest.raises(CnncalcError, match=re.escape(message)):
        summarize(read_python(text, "net.py"))


def test_in_features_mismatch_at_its_line_and_fix(tmp_path) -> None:
    """The forum question: nn.Linear(16 * 5 * 5, 120) after convs that leave 16x4x4."""
    path = tmp_path / "net.py"
    path.write_text(
        TORCH_HEAD
        + TORCH_NET.format(body="        x = torch.flatten(x, 1)").replace("8 * 26 * 26", "16 * 5 * 5")
    )
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2
    assert (
        "line 9: nn.Linear(16 * 5 * 5, 10)): in_features=5408, not 400: 8x26x26 after flatten"
        in result.stderr
    )
    fixed = run("summary", "-f", str(path), "--fix", "--format", "json")
    assert fixed.exit_code == 0, fixed.stderr
    doc = json.loads(fixed.stdout)
    assert doc["total_params"] == (9 * 8 + 8) + (5408 * 10 + 10)  # by hand: conv 1*3*3*8 + 8
    assert doc["layers"][-1]["name"] == "fc" and doc["layers"][-1]["line"] == 9


def test_module_arguments_and_class_level_models() -> None:
    text = (
        TORCH_HEAD
        + """
class Head(nn.Module):
    def __init__(self, features, classes=10):
        super().__init__()
        self.fc = nn.Linear(features, classes)

    def forward(self, x):
        return self.fc(torch.flatten(x, 1))


head = Head(2 * 3 * 4, classes=5)
"""
    )
    s = summarize(read_python(text), input_shape=(2, 3, 4))
    assert s.layers[-1].params == 24 * 5 + 5 and s.convention.value == "pytorch"
    with pytest.raises(CnncalcError, match=r"class Head needs features"):
        read_python(text.replace("head = Head(2 * 3 * 4, classes=5)", ""))


def test_torch_input_shape_is_the_tensor_fed_to_the_model() -> None:
    text = (
        TORCH_HEAD
        + "noise = torch.randn(100)\nmodel = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))\ny = model(torch.randn(8, 3, 2, 2))\n"
    )
    s = summarize(read_python(text))
    assert s.input_shape == (3, 2, 2) and s.output_shape == (2,)
    result = summarize(read_python(text.replace("y = model(torch.randn(8, 3, 2, 2))", "")), input_shape=(12,))
    assert result.output_shape == (2,)  # randn(100) is not fed to the model: --input decides


def test_module_lists_are_followed_in_forward_loops() -> None:
    """The loop over an nn.ModuleList in forward() runs: three Linear(4, 4), 4 * 4 + 4 params each."""
    text = (
        TORCH_HEAD
        + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"""
    )
    s = summarize(read_python(text), input_shape=(4,))
    assert [(r.name, r.output_shape, r.params) for r in s.layers] == [
        ("layers.0", (4,), 20),
        ("layers.1", (4,), 20),
        ("layers.2", (4,), 20),
    ]


# --- the interpreter's reading of framework code (issue 22) -----------------------------------


def test_the_outermost_model_is_the_default() -> None:
    """ResidualBlock (needs its channels) is a part of TinyResNet: TinyResNet is read.
    By hand: conv 3*3*3*8 + 8 = 224; block 2 * (3*3*8*8 + 8) = 1168; fc 8*2 + 2 = 18."""
    text = (
        TORCH_HEAD
        + """
class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class TinyResNet(nn.Module):
    def __init__(self, classes=2):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block = ResidualBlock(8)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = self.block(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))
"""
    )
    s = summarize(read_python(text, "net.py", input_shape=(3, 8, 8)))
    assert s.name == "TinyResNet" and s.total_params == 224 + 1168 + 18
    assert [r.name for r in s.layers if r.params] == ["stem", "block.conv1", "block.conv2", "fc"]


def test_relu_true_is_pytorchs_inplace() -> None:
    text = (
        TORCH_HEAD
        + "m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(True), nn.LeakyReLU(0.2, True), nn.Dropout(0.1, True))\n"
    )
    s = summarize(read_python(text, "m.py", input_shape=(4,)))
    assert [r.output_shape for r in s.layers] == [(3,)] * 4 and s.total_params == 15
    assert s.layers[2].config.get("negative_slope") == pytest.approx(0.2)


def test_modules_forward_never_calls_are_named_with_their_params() -> None:
    """self.spare = nn.Conv2d(4, 8, 3): 4*3*3*8 + 8 = 296 params that model.parameters() counts."""
    text = TORCH_HEAD + (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n        self.spare = nn.Conv2d(4, 8, 3)\n\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    spec = read_python(text, "m.py", input_shape=(4,))
    assert any("spare" in note and "296 params" in note for note in spec.notes)
    assert summarize(spec).total_params == 10


def test_a_keras_model_used_as_a_layer_is_one_nested_row() -> None:
    """inner: Dense(4) on 3 values = 16 params; outer Dense(2) = 10."""
    text = (
        "import keras\nfrom keras import layers\n"
        "inner = keras.Sequential([layers.Dense(4)], name='inner')\n"
        "i = keras.Input((3,))\nm = keras.Model(i, layers.Dense(2)(inner(i)))\nm.compile()\n"
    )
    s = summary_of(text)
    assert [(r.name, r.output_shape, r.params) for r in s.layers] == [
        ("inner", (4,), 16),
        ("dense", (2,), 10),
    ]


def test_keras_preprocessing_layers_and_aliases() -> None:
    """RandomFlip keeps 8x8x3, Resizing(4, 4) gives 4x4x3 (opaque rows, no params); Conv2D(4, 3):
    3*3*3*4 + 4 = 112; GlobalAvgPool2D is GlobalAveragePooling2D."""
    text = (
        "import keras\nfrom keras import layers\ni = keras.Input((8, 8, 3))\n"
        "x = layers.RandomFlip('horizontal')(i)\nx = layers.Resizing(4, 4)(x)\n"
        "x = layers.Conv2D(4, 3)(x)\nm = keras.Model(i, layers.GlobalAvgPool2D()(x))\n"
    )
    s = summary_of(text)
    assert [(r.output_shape, r.params) for r in s.layers] == [
        ((8, 8, 3), 0),
        ((4, 4, 3), 0),
        ((2, 2, 4), 112),
        ((4,), 0),
    ]
    assert s.layers[-1].type == "globalaveragepooling2d"


def test_a_training_wrapper_is_not_the_model() -> None:
    """class GAN(keras.Model) overriding train_step, holding two models: the models are listed."""
    text = (
        "import keras\nfrom keras import layers\n"
        "d = keras.Sequential([keras.Input((4,)), layers.Dense(1)], name='d')\n"
        "g = keras.Sequential([keras.Input((2,)), layers.Dense(4)], name='g')\n"
        "class GAN(keras.Model):\n    def __init__(self, d, g):\n        super().__init__()\n"
        "        self.d, self.g = d, g\n\n    def train_step(self, data):\n        return {}\n\ngan = GAN(d, g)\n"
    )
    with pytest.raises(CnncalcError, match=r"2 models: d \(line 3\), g \(line 4\)"):
        read_python(text)
    assert summary_of(text, "g").total_params == 12


def test_a_tensor_fed_to_one_model_is_not_anothers_input() -> None:
    text = TORCH_HEAD + (
        "g = nn.Sequential(nn.Linear(4, 6))\nd = nn.Sequential(nn.Linear(6, 1))\n"
        "z = torch.randn(2, 4)\nout = g(z)\nd.to('cpu')\n"
    )
    assert summarize(read_python(text, "m.py", "g")).input_shape == (4,)
    with pytest.raises(CnncalcError, match="no input shape"):
        summarize(read_python(text, "m.py", "d"))
