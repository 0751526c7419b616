"""Fuzzing the model-code reader: any text parses to a model or gives our one-line error; never a
traceback, never an internal error, never a hang (hypothesis's deadline). The text is built from
the tokens model code is made of, from mutated example files, and from arbitrary characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.engine import summarize
from cnncalc.errors import CnncalcError
from cnncalc.io.python_source import read_python

from .helpers import run
from .test_hardening import assert_clean

EXAMPLES = sorted((Path(__file__).parent / "fixtures" / "model_code").glob("*.py"))
TEXTS = [p.read_text() for p in EXAMPLES if p.name != "make_expected.py"]
FUZZ = settings(deadline=5000, max_examples=300, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "import keras",
    "from keras import layers",
    "from keras.layers import *",
    "import tensorflow as tf",
    "from network3 import *",
    "model",
    "x",
    "y",
    "net",
    "N",
    " = ",
    "\n",
    "    ",
    "(",
    ")",
    "[",
    "]",
    ", ",
    ":",
    ".",
    "Sequential(",
    "keras.Sequential(",
    "Model(",
    "keras.Model(",
    "Input(",
    "keras.Input(",
    "shape=",
    "input_shape=",
    "batch_shape=",
    "Conv2D(",
    "layers.Conv2D(",
    "Dense(",
    "MaxPooling2D(",
    "Flatten()",
    "Concatenate()",
    "layers.add(",
    "Add()",
    ".add(",
    ".build(",
    ".summary()",
    "Network(",
    "ConvPoolLayer(",
    "FullyConnectedLayer(",
    "SoftmaxLayer(",
    "image_shape=",
    "filter_shape=",
    "n_in=",
    "n_out=",
    "poolsize=",
    "mini_batch_size",
    "16",
    "3",
    "0",
    "-1",
    "2",
    "28",
    "1e400",
    "10**9",
    "9" * 30,
    "*",
    "//",
    "/",
    "+",
    "-",
    "**",
    "'relu'",
    "'same'",
    "None",
    "True",
    "name=",
    "'m'",
    "for i in range(2):",
    "while x:",
    "if x:",
    "else:",
    "def f(a=3):",
    "return ",
    "class A(keras.Model):",
    "lambda q: q",
    "x + y",
    "*args",
    "**kw",
    "f(",
    "#",
    "'",
    '"',
    "\\",
    "@",
    "async ",
    "await ",
    "yield ",
]


STATEMENTS = [
    "import keras\nfrom keras import layers",
    "N = {n}",
    "N = N * {n} // {n}",
    "model = keras.Sequential()",
    "model = keras.Sequential([keras.Input(shape=({n}, {n}, {n}))])",
    "model.add(layers.Conv2D({n}, {n}, strides={n}, padding='{pad}'))",
    "model.add(layers.MaxPooling2D({n}))",
    "model.add(layers.Dense(N, input_shape=({n},)))",
    "model.add(layers.Flatten())",
    "model.build((None, {n}, {n}, {n}))",
    "x = keras.Input(shape=({n}, {n}, {n}))",
    "y = layers.Conv2D({n}, {n}, padding='{pad}')(x)",
    "x = layers.add([x, y])",
    "x = x + y",
    "z = layers.Concatenate()([x, y])",
    "m2 = keras.Model(x, y)",
    "m3 = keras.Model(inputs=[x], outputs=[y, z])",
    "for i in range({n}):\n    model.add(layers.Dense({n}))",
    "if N:\n    model.add(layers.Flatten())\nelse:\n    pass",
    "def build(k={n}):\n    return keras.Sequential([layers.Dense(k, input_shape=({n},))])",
    "seq = nn.Sequential(nn.Conv2d({n}, {n}, {n}), nn.ReLU(), nn.Flatten(), nn.Linear({n}, {n}))",
    "y = seq(torch.randn({n}, {n}, {n}, {n}))",
    "class Net(nn.Module):\n    def __init__(self, k={n}):\n        super().__init__()\n"
    "        self.conv = nn.Conv2d({n}, {n}, k)\n        self.fc = nn.Linear({n} * {n}, {n})\n"
    "    def forward(self, x):\n        x = F.relu(self.conv(x))\n        x = x.view(x.size(0), -1)\n"
    "        x = torch.cat([x, x], {n})\n        return self.fc(x) + x",
    "net = Net()\nout = net(torch.randn({n}, {n}, {n}, {n}))",
    "net = Net(k={n})",
    "net = Network([ConvPoolLayer(image_shape=(10, {n}, {n}, {n}), filter_shape=({n}, {n}, {n}, {n})), "
    "FullyConnectedLayer(n_in={n}, n_out={n}), SoftmaxLayer(n_out={n})], 10)",
]


@st.composite
def statements(draw: st.DrawFn) -> str:
    """Valid Python made of model-building statements with small (also zero, negative) numbers."""
    lines = draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=12))
    numbers = st.integers(-1, 9).map(str)
    head = "import keras\nfrom keras import layers\nfrom network3 import *\nimport torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
    return head + "\n".join(
        line.replace("{pad}", draw(st.sampled_from(["same", "valid", "causal"])))
        .format(n="{n}")
        .replace("{n}", "\0")
        .replace("\0", "{}")
        .format(*[draw(numbers) for _ in range(line.count("{n}"))])
        for line in lines
    )


@st.composite
def model_code(draw: st.DrawFn) -> str:
    """Text from model-code statements or tokens, a mutated example, or arbitrary characters."""
    choice = draw(st.integers(-1, 2))
    if choice == -1:
        return draw(statements())
    if choice == 0:
        return "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=60)))
    if choice == 1:
        text = draw(st.sampled_from(TEXTS))
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 20))
            text = text[:at] + draw(st.sampled_from(["", *TOKENS])) + text[at + cut :]
        return text
    return draw(st.text(max_size=300))


def read_or_refuse(text: str) -> None:
    try:
        summary = summarize(read_python(text, "fuzz.py"), input_shape=None if "Input" in text else (8, 8, 1))
    except CnncalcError as err:
        assert "\n" not in str(err) and str(err).strip(), repr(str(err))
    else:
        assert summary.layers is not None


@FUZZ
@given(model_code())
def test_fuzz_reader(text: str) -> None:
    read_or_refuse(text)


@settings(deadline=5000, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(model_code())
def test_fuzz_cli(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "model.py"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")  # lone surrogates: not UTF-8
    assert_clean(run("summary", "-f", str(path)))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000,
        "x = " + "+".join(["1"] * 20000),
        "x = " + "9" * 5000,
        "m = keras.Sequential([" + "keras.layers.Dense(2)," * 3000 + "])\nm.build((None, 4))",
        "N = 2**40\nm = keras.Sequential([keras.Input((N, N, N)), keras.layers.Flatten()])",
        "x = " + "[" * 150 + "]" * 150,
        "m = keras.Sequential([keras.layers.Dense(" + "(" * 150 + "1" + ")" * 150 + ")])",
        "\x00\x01",
        "import keras\n" * 3
        + "m = keras.Sequential()\n"
        + "m.add(keras.layers.Dense(3, input_shape=(4,)))\n" * 2,
    ],
)
def test_pathological_sources_are_one_line(text: str) -> None:
    read_or_refuse(text)
