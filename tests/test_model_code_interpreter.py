"""The model-code interpreter (cnncalc/io/interp.py): it computes what Python computes on the
subset it reads, never runs the file's effects, and stops pathological code within its budget."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.errors import CnncalcError
from cnncalc.io.code_values import Unknown
from cnncalc.io.frameworks import Hooks
from cnncalc.io.interp import Interpreter
from cnncalc.io.python_source import read_python

from .helpers import run

TORCH_HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


def interpret(text: str) -> dict:
    """The module's globals after the interpreter ran it (errors of a statement are collected)."""
    interp = Interpreter(Hooks(None), "t.py")
    errors: list[CnncalcError] = []
    interp.run_module(ast.parse(text), lambda stmt, err: errors.append(err))
    if errors:
        raise errors[0]
    return interp.globals


# --- Python's own values are the oracle ----------------------------------------------------------

PROGRAMS = [
    "stride, n = 2, 3\nresult = [stride] + [1] * (n - 1)",
    "import math\nresult = int(math.floor(24 * 0.5)) + math.ceil(7 / 2) + math.prod([2, 3])",
    "cfg = {'A': [64, 'M', 128]}\nresult = [x for x in cfg['A'] if x != 'M']",
    "def f(a, b=2, *args, c=3, **kw):\n    return a + b + sum(args) + c + len(kw)\nresult = f(1, 5, 6, 7, c=1, z=0)",
    "class A:\n    k = 4\n    def __init__(self, n):\n        self.n = n * self.k\nclass B(A):\n    def __init__(self):\n"
    "        super().__init__(3)\n        self.m = self.n + 1\nresult = (B().n, B().m, B.k)",
    "result = []\nfor i, (a, b) in enumerate(zip('xy', [1, 2])):\n    if i:\n        continue\n    result.append((a, b))",
    "n = 0\nwhile n < 10:\n    n += 3\n    if n == 9:\n        break\nresult = n",
    "result = sorted({3: 'c', 1: 'a'}.items(), reverse=True)[0] + tuple(reversed(range(3)))",
    "result = f'{3 * 4}-{\"ab\".upper()}' + '%d' % 5",
    "result = max([1, 9, 4]), min(3, 2), abs(-4), round(2.6), divmod(7, 2), any([0, 1]), all([])",
    "d = {}\nd.setdefault('a', []).append(1)\nd.update(b=2)\nresult = (d.get('a'), d.get('c', 5), list(d))",
    "fn = lambda x, y=1: x * y\nresult = list(map(fn, [1, 2], [3, 4])) + list(filter(None, [0, 2]))",
    "result = isinstance(3, int), isinstance(True, int), hasattr([], 'append'), callable(len)",
    "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nresult = fact(10)",
]


@pytest.mark.parametrize("text", PROGRAMS)
def test_the_interpreter_computes_what_python_computes(text) -> None:
    expected: dict = {}
    exec(compile(text, "t.py", "exec"), expected)  # noqa: S102 - the test's own programs
    assert interpret(text)["result"] == expected["result"]


_NAMES = st.sampled_from(["a", "b", "c"])
_INTS = st.integers(min_value=-50, max_value=50)


@st.composite
def _expressions(draw, depth: int = 0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.one_of(_INTS.map(str), _NAMES))
    op = draw(st.sampled_from(["+", "-", "*", "//", "%", "<", "==", "and", "or", "if"]))
    left = draw(_expressions(depth + 1))
    right = draw(_expressions(depth + 1))
    if op == "if":
        return f"({left} if {right} else {draw(_expressions(depth + 1))})"
    return f"({left} {op} {right})"


@st.composite
def _programs(draw):
    lines = ["a, b, c = 1, 2, 3", "result = []"]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["assign", "for", "if", "list", "def"]))
        expr = draw(_expressions())
        if kind == "assign":
            lines.append(f"{draw(_NAMES)} = {expr}")
        elif kind == "for":
            lines.append(
                f"for {draw(_NAMES)} in range({draw(st.integers(0, 5))}):\n    result.append({expr})"
            )
        elif kind == "if":
            lines.append(f"if {expr}:\n    result.append(1)\nelse:\n    result.append(2)")
        elif kind == "list":
            lines.append(f"result += [{expr}] * {draw(st.integers(0, 3))}")
        else:
            lines.append(f"def g(a, b=4):\n    return {expr}\nresult.append(g({draw(_INTS)}))")
    lines.append("result.append((a, b, c))")
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_programs())
def test_random_programs_agree_with_python(text) -> None:
    """Random programs of assignments, loops, conditions, functions and list arithmetic: the
    interpreter's result equals CPython's (programs Python itself rejects are skipped)."""
    expected: dict = {}
    try:
        exec(compile(text, "t.py", "exec"), expected)  # noqa: S102 - generated arithmetic only
    except (ZeroDivisionError, ValueError, OverflowError):
        assume(False)
    assert interpret(text)["result"] == expected["result"]


def test_unknown_values_travel_until_a_size_needs_them() -> None:
    values = interpret("import sys\nn = int(sys.argv[1])\nm = n * 2 + 1\nk = 3")
    assert isinstance(values["m"], Unknown) and values["k"] == 3
    text = TORCH_HEAD + "import sys\nn = int(sys.argv[1])\nmodel = nn.Sequential(nn.Linear(4, n))\n"
    with pytest.raises(
        CnncalcError,
        match=r"line 7: nn.Linear\(4, n\): argument 2: sys.argv\[1\] is a command-line argument",
    ):
        read_python(text, "m.py", input_shape=(4,))


def test_argparse_defaults_are_the_values() -> None:
    values = interpret(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--nz', type=int, default=100)\n"
        "p.add_argument('--lr', default='0.5', type=float)\np.add_argument('--cuda', action='store_true')\n"
        "p.add_argument('--data', required=True)\nopt = p.parse_args()\nnz, lr, cuda = int(opt.nz), opt.lr, opt.cuda"
    )
    assert (values["nz"], values["lr"], values["cuda"]) == (100, 0.5, False)
    assert isinstance(values["opt"].values["data"], Unknown)


# --- never runs the file's effects; pathological code stops ---------------------------------------

MARKER_CODE = [
    "open({marker!r}, 'w').write('ran')",
    "import os\nos.system('touch ' + {marker!r})",
    "__import__('os').system('touch ' + {marker!r})",
    "import subprocess\nsubprocess.run(['touch', {marker!r}])",
    "exec(\"open({marker!r}, 'w')\")",
    "import pathlib\npathlib.Path({marker!r}).write_text('ran')",
    "eval(compile(\"open({marker!r}, 'w')\", 'x', 'eval'))",
]


@pytest.mark.parametrize("code", MARKER_CODE)
def test_code_with_effects_is_never_run(tmp_path, code) -> None:
    """At import and in a model's constructor: no marker is ever written; the model is still read."""
    marker = tmp_path / "marker"
    body = code.format(marker=str(marker))
    indented = "\n".join("        " + line for line in body.splitlines())
    text = (
        TORCH_HEAD
        + body
        + f"\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n{indented}\n"
        "        self.fc = nn.Linear(4, 2)\n\n    def forward(self, x):\n        return self.fc(x)\n\nnet = Net()\n"
    )
    path = tmp_path / "model.py"
    path.write_text(text)
    result = run("summary", "-f", str(path), "--input", "4", "--format", "json")
    assert not marker.exists()
    assert result.exit_code == 0, result.stderr
    assert '"total_params": 10' in result.stdout


PATHOLOGICAL = [
    ("while True:\n    pass\n", 1.0),
    ("def f(n):\n    return f(n + 1)\nf(0)\n", 1.0),
    ("x = 0\nfor i in range(10**12):\n    x += i\n", 1.0),
    ("x = [0] * 10**9\n", 1.0),
    ("x = 2 ** 10**9\n", 1.0),
    ("x = 'a' * 10**10\n", 1.0),
    ("while True:\n    pass\nwhile True:\n    pass\nwhile True:\n    pass\n", 1.2),
    (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        while True:\n"
        "            self.x = 1\n\n    def forward(self, x):\n        return x\n\nnet = Net()\n",
        3.0,
    ),
    (
        "class Net(nn.Module):\n    def __init__(self, n=0):\n        super().__init__()\n        self.inner = Net(n + 1)\n\n"
        "    def forward(self, x):\n        return x\n\nnet = Net()\n",
        3.0,
    ),
    (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        while True:\n            x = x\n        return x\n\nnet = Net()\n",
        3.0,
    ),
]


@pytest.mark.parametrize("code, limit", PATHOLOGICAL)
def test_pathological_code_fails_fast_with_one_line(tmp_path, code, limit) -> None:
    path = tmp_path / "model.py"
    path.write_text(TORCH_HEAD + code)
    start = time.monotonic()
    result = run("summary", "-f", str(path), "--input", "4")
    elapsed = time.monotonic() - start
    assert result.exit_code == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: {path}: ")
    assert elapsed < limit + 1.5, elapsed  # the CLI's own start-up on a loaded machine included


def test_reading_is_bounded_in_time(tmp_path) -> None:
    """The interpreter alone: an endless loop stops within its budget (well under a second)."""
    start = time.monotonic()
    with pytest.raises(CnncalcError, match="runs too long"):
        read_python("while True:\n    x = 1\n", "loop.py")
    assert time.monotonic() - start < 1.0


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ()[]{}:=+-*/%<>.,'\"\n_", max_size=200))
def test_any_text_reads_or_fails_with_one_error(text) -> None:
    try:
        read_python(TORCH_HEAD + text, "fuzz.py", input_shape=(4,))
    except CnncalcError as err:
        assert "\n" not in err.render()


def test_fixtures_are_read_within_the_time_limit() -> None:
    for path in sorted((Path(__file__).parent / "fixtures" / "model_code").glob("*.py")):
        if path.name == "make_expected.py":
            continue
        start = time.monotonic()
        try:
            read_python(path.read_text(), path.name)
        except CnncalcError:
            pass
        assert time.monotonic() - start < 2.0, path.name
