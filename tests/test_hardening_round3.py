"""Hardening round 3 (issue 28): solve layer bounded by arithmetic, hostile files bounded, invalid
ONNX refused, messages that say what is wrong. Timing-independent: bounds are asserted through
counts and limits, never through elapsed time."""

from __future__ import annotations

import itertools
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest

from cnncalc import formulas as F
from cnncalc.errors import SpecError
from cnncalc.solve import MAX_CHOICES, _axis_candidates, solve_layer

from .helpers import run


def one_line(result) -> str:
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) in (1, 2) and lines[0].startswith("Error: "), result.stderr
    assert all(line.startswith("Hint: ") for line in lines[1:])
    return lines[0]


# ----------------------------------------------------------------------------- item 4: solve layer


def brute_force(kind: str, pytorch: bool, mode, n: int, target: int, f: int, s: int, d: int):
    """Every (padding, output_padding) giving ``target`` and the nearest reachable lengths, by
    trying every padding below F_eff and every output_padding below max(S, D) (the documented
    search space), with the frameworks' length formulas."""
    f_eff = d * (f - 1) + 1
    outs = []
    if kind == "transposed" and pytorch:
        for pad, op in itertools.product(range(f_eff), range(max(s, d))):
            outs.append(((pad, op), (n - 1) * s - 2 * pad + d * (f - 1) + op + 1))
    elif kind == "transposed":
        same = mode[0] == "same"
        for op in [None] if mode[1] == "none" else range(s):
            outs.append(((0, op), F.keras_transposed_length(n, f_eff, s, same, op)))
    elif pytorch:
        top = min(f // 2 + 1, f_eff) if kind == "pool" else f_eff
        for pad in range(top):
            if n + 2 * pad < f_eff and not mode[1]:
                continue
            outs.append(((pad, None), F.padded_length(n, f_eff, s, pad, pad, mode[1])))
    outs = [(key, out) for key, out in outs if out > 0]
    exact = sorted(key for key, out in outs if out == target)
    below = max((out for _, out in outs if out < target), default=None)
    above = min((out for _, out in outs if out > target), default=None)
    return exact, below, above


@pytest.mark.parametrize(
    ("kind", "pytorch", "mode"),
    [
        ("conv", True, ("int", False)),
        ("pool", True, ("int", False)),
        ("pool", True, ("int", True)),
        ("transposed", True, ("int", False)),
        ("transposed", False, ("same", "int")),
        ("transposed", False, ("valid", "int")),
        ("transposed", False, ("valid", "none")),
    ],
)
def test_axis_search_by_arithmetic_equals_trying_every_padding(kind, pytorch, mode) -> None:
    for n, target, f, s, d in itertools.product(
        (1, 2, 5, 9), (1, 2, 3, 4, 7, 12, 20), range(1, 6), range(1, 4), range(1, 3)
    ):
        found, below, above = _axis_candidates(kind, pytorch, mode, n, target, (f,), (s,), (d,))
        exact, want_below, want_above = brute_force(kind, pytorch, mode, n, target, f, s, d)
        assert sorted((c.padding, c.output_padding) for c in found) == exact, (n, target, f, s, d)
        assert all(c.out == target for c in found)
        assert (below, above) == (want_below, want_above), (n, target, f, s, d)


def test_a_huge_kernel_is_solved_without_enumerating_paddings() -> None:
    # 100 -> 50 with a kernel of 2**31 - 1: floor((100 + 2p - K)/S) + 1 = 50 needs
    # p = (K - 51)/2 = 1073741798 at stride 1 (hand derivation), found without trying ~2**31 pads.
    solution = solve_layer(100, 50, kind="conv", convention="pytorch", kernel=2**31 - 1, stride=1, dilation=1)
    assert [c.padding for c in solution.choices] == [(1073741798,)]
    transposed = solve_layer(
        100, 50, kind="transposed", convention="pytorch", kernel=10**6, stride=2, dilation=1
    )
    # (100 - 1)*2 - 2p + (10**6 - 1) + op + 1 = 50 -> p = 500074, op = 0
    assert [(c.padding, c.output_padding) for c in transposed.choices] == [((500074,), (0,))]


def test_sizes_past_the_int32_limit_are_refused() -> None:
    with pytest.raises(SpecError, match="larger than the limit 2147483647"):
        solve_layer(2**31, 50)


def test_more_configurations_than_listed_are_refused_in_one_line() -> None:
    # stride 10**6, kernel 10**6: every even output_padding below ~1.5e6 has a padding (see
    # _axis_candidates), far more than MAX_CHOICES.
    result = run(
        "solve", "layer", "--input", "2", "--output", "1500000", "--kind", "transposed",
        "--convention", "pytorch", "--kernel", "1000000", "--stride", "1000000", "--dilation", "1",
    )  # fmt: skip
    assert f"more than {MAX_CHOICES:,} configurations" in one_line(result)


# ----------------------------------------------------------------------------- items 3, 5, 12: .keras zips


def keras_zip(path: Path, config: bytes, *, declared: int | None = None, encrypted: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    if declared is not None:  # a lying size: the local header and the central directory
        struct.pack_into("<I", data, 22, declared)
        struct.pack_into("<I", data, central + 24, declared)
    if encrypted:  # general purpose flag bit 0
        data[6] |= 1
        data[central + 8] |= 1
    path.write_bytes(bytes(data))
    return path


def test_an_encrypted_keras_zip_is_one_line(tmp_path: Path) -> None:
    path = keras_zip(tmp_path / "e.keras", b"{}", encrypted=True)
    assert "config.json is encrypted" in one_line(run("summary", "-f", str(path)))


def test_a_keras_zip_is_read_with_a_counting_limit(tmp_path: Path, monkeypatch) -> None:
    from cnncalc.io import files, sources

    monkeypatch.setattr(sources, "MAX_SPEC_BYTES", 2**20)
    monkeypatch.setattr(files, "MAX_SPEC_BYTES", 2**20)
    big = b'{"name": "' + b" " * (3 * 2**20) + b'"}'
    # declared larger than it is (the limit counts what inflates, not what is declared) ...
    path = keras_zip(tmp_path / "big.keras", big, declared=100)
    message = one_line(run("summary", "-f", str(path)))
    assert "larger than 1 MiB" in message or "not a complete zip file" in message
    # ... and honestly declared: refused after 1 MiB of inflated bytes
    path = keras_zip(tmp_path / "honest.keras", big)
    assert "its config.json is larger than 1 MiB" in one_line(run("summary", "-f", str(path)))


def test_an_empty_zip_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.keras"
    zipfile.ZipFile(path, "w").close()
    assert one_line(run("summary", "-f", str(path))) == (
        f"Error: cannot read {path}: the zip is empty, so it is not a Keras .keras file"
    )


def test_a_zip_without_config_is_not_called_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({}))
    message = one_line(run("summary", "-f", str(path)))
    assert "not a complete zip file" not in message and "holds no config.json" in message


# ----------------------------------------------------------------------------- item 9: start-up guard


def python(code: str, *args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


def test_importing_the_package_runs_no_import() -> None:
    # The console script imports cnncalc before the launcher's guard: nothing may load then.
    proc = python(
        "import sys; before = set(sys.modules); import cnncalc; print(sorted(set(sys.modules) - before))"
    )
    assert proc.stdout.strip() == "['cnncalc']", proc.stdout + proc.stderr
    proc = python(
        "import sys; before = set(sys.modules); import cnncalc._launch; print(sorted(set(sys.modules) - before))"
    )
    assert proc.stdout.strip() == "['cnncalc', 'cnncalc._launch']", proc.stdout + proc.stderr


def test_the_package_init_holds_no_runtime_import() -> None:
    import ast

    tree = ast.parse((Path(__file__).parent.parent / "cnncalc" / "__init__.py").read_text())
    for statement in tree.body:
        assert not isinstance(statement, (ast.Import, ast.ImportFrom)), ast.dump(statement)


def test_ctrl_c_as_the_cli_loads_exits_130() -> None:
    code = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "cnncalc.cli":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["cnncalc", "kinds"]
from cnncalc._launch import main
main()
"""
    proc = python(code)
    assert proc.returncode == 130 and proc.stderr == "Error: interrupted\n", proc.stderr


def test_ctrl_c_is_ignored_once_the_command_is_done() -> None:
    # After the run, Ctrl-C cannot interrupt the interpreter's shutdown (threading._shutdown).
    code = """
import atexit, signal, sys
atexit.register(lambda: sys.stderr.write(f"ignored={signal.getsignal(signal.SIGINT) is signal.SIG_IGN}"))
sys.argv = ["cnncalc", "summary", "--input", "4", "dense:2", "--format", "json"]
from cnncalc._launch import main
main()
"""
    proc = python(code)
    assert proc.returncode == 0 and proc.stderr == "ignored=True", proc.stderr


# ----------------------------------------------------------------------------- item 5: hostile files


def test_an_h5_read_that_never_ends_is_stopped_in_one_line(tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    from cnncalc.io import sources

    # The HDF5 library spinning forever, as on a fuzzed file: the child process is stopped.
    monkeypatch.setattr(sources, "_H5_CHILD", "import time\ntime.sleep(600)")
    monkeypatch.setattr(sources, "H5_SECONDS", 1.0)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    path = tmp_path / "spin.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    message = one_line(run("summary", "-f", str(path)))
    assert "the HDF5 library took longer than 1 s on it" in message


def test_an_h5_model_config_over_the_limit_is_refused(tmp_path: Path, monkeypatch) -> None:
    h5py = pytest.importorskip("h5py")
    from cnncalc.io import sources

    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(
            {"class_name": "Sequential", "config": {"name": "x" * 5000}}
        )
    monkeypatch.setattr(sources, "MAX_SPEC_BYTES", 1000)  # the child gets the limit from the parent
    assert "its model_config is larger than" in one_line(run("summary", "-f", str(path)))


def nested(count: int, inner: int) -> dict:
    """A spec of ``count`` nested models of ``inner`` dense layers each (count*(inner+1) layers)."""
    model = {"type": "model", "spec": {"layers": ["dense:2"] * inner}}
    return {"input_shape": [2], "layers": [model] * count}


def test_the_layer_limit_counts_nested_models(monkeypatch) -> None:
    from cnncalc.io import loads, spec

    monkeypatch.setattr(spec, "MAX_LAYERS", 30)
    assert loads(json.dumps(nested(3, 9))).total_layers == 30  # 3 model rows + 27 inner layers
    with pytest.raises(SpecError, match="31 layers .nested models' counted. is more than the limit 30"):
        loads(json.dumps(nested(1, 30)))  # 1 + 30: each model alone is within the limit
    result = run("summary", "-f", "-", input=json.dumps(nested(4, 9)))
    assert "40 layers (nested models' counted) is more than the limit 30" in one_line(result)


def test_the_layer_limit_holds_for_python_code(tmp_path: Path, monkeypatch) -> None:
    from cnncalc.io import spec

    monkeypatch.setattr(spec, "MAX_LAYERS", 5)
    path = tmp_path / "m.py"
    path.write_text(
        "import keras\nm = keras.Sequential([keras.Input((4,))" + ", keras.layers.Dense(2)" * 6 + "])\n"
    )
    assert "6 layers (nested models' counted) is more than the limit 5" in one_line(
        run("summary", "-f", str(path))
    )


def test_python_code_over_the_size_limit_is_refused_before_parsing(tmp_path: Path, monkeypatch) -> None:
    from cnncalc.io import python_source

    monkeypatch.setattr(python_source, "MAX_PYTHON_CHARS", 200)
    path = tmp_path / "m.py"
    path.write_text(
        "import keras\nm = keras.Sequential([keras.Input((4,))" + ", keras.layers.Dense(2)" * 20 + "])\n"
    )
    assert "characters is more than the limit 200" in one_line(run("summary", "-f", str(path)))


# ----------------------------------------------------------------------------- items 11, 5, 12: ONNX


def onnx_graph(*nodes, dims=(1, 3, 8, 8)):
    from cnncalc.io.onnx import Graph, Node, Tensor

    conv = Node("Conv", "c", ("x", "w"), ("y",))
    return Graph((("x", dims),), {"w": Tensor((4, 3, 1, 1))}, (conv, *(Node(*n) for n in nodes)), "g")


@pytest.mark.parametrize(
    ("node", "message"),
    [
        # ONNX's checker and runtime: Unsqueeze axes lie in [-r, r), r the output rank (4 + 1)
        (("Unsqueeze", "u", ("y",), ("z",), {"axes": [5]}), "axis 5 is out of range for rank 5"),
        (
            ("Unsqueeze", "u", ("y",), ("z",), {"axes": [2**40]}),
            "axis 1099511627776 is out of range for rank 5",
        ),
        (("Unsqueeze", "u", ("y",), ("z",), {"axes": [1, -5]}), "axes [1, -5] repeat an axis"),
        (("Squeeze", "s", ("y",), ("z",), {"axes": [-5]}), "axis -5 is out of range for rank 4"),
        (("Relu", "r", ("y",), ("y",)), "writes 'y', which another node"),  # SSA: one writer per tensor
        (("Relu", "r", ("y",), ("w",)), "writes 'w', which another node, an input or an initializer"),
    ],
)
def test_invalid_onnx_is_refused_as_the_checker_would(node, message) -> None:
    from cnncalc.io.onnx import convert

    with pytest.raises(SpecError, match=re.escape(message)):
        convert(onnx_graph(node))


def test_an_onnx_node_chain_over_the_layer_limit_is_refused_before_reading(monkeypatch) -> None:
    from cnncalc.io import onnx

    monkeypatch.setattr(onnx, "MAX_LAYERS", 10)
    nodes = [("Relu", f"r{i}", (f"t{i}" if i else "y",), (f"t{i + 1}",)) for i in range(10)]
    with pytest.raises(SpecError, match="11 nodes is more than the limit 10 layers"):
        onnx.convert(onnx_graph(*nodes))


def test_onnx_size_limit_errors_name_the_file(monkeypatch) -> None:
    from cnncalc.io import onnx

    monkeypatch.setattr(onnx, "decode_model", lambda data, name: onnx_graph(dims=(1, 3, 2**40, 8)))
    with pytest.raises(SpecError, match=r"^m\.onnx: input 'x'.*larger than the limit 2147483647"):
        onnx.read_onnx(b"", "m.onnx")


# ----------------------------------------------------------------------------- item 12: Python messages


@pytest.mark.parametrize(
    "code",
    ["x = " + "+".join(["1"] * 100_000), "x = " + "lambda: " * 3000 + "1", "x = " + "(" * 300 + ")" * 300],
)
def test_python_parser_failures_give_a_reason(tmp_path: Path, code) -> None:
    path = tmp_path / "m.py"
    path.write_text(f"import keras\n{code}\nm = keras.Sequential([keras.layers.Dense(2)])\n")
    message = one_line(run("summary", "-f", str(path)))
    assert "not valid Python" in message and not message.rstrip().endswith(":"), message


def test_a_name_over_the_integer_limit_says_why(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        "import keras\nN = "
        + "9" * 25
        + "\nm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(N)])\n"
    )
    message = one_line(run("summary", "-f", str(path)))
    assert "N (line 2): a number larger than the limit 2**63 - 1" in message


def test_a_utf8_bom_python_file_is_read_as_python_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(
        b"\xef\xbb\xbfimport keras\nm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])\n"
    )
    result = run("summary", "-f", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 10  # 4*2 + 2
