"""`cnncalc export` writes no text of the input as code (issue 28, items 1 and 7).

A model or layer name reaches the exported file only as a string literal or a sanitised
identifier: the exported file is parsed with `ast` and holds exactly the statements the exporter
writes (imports, the docstring, assignments of layer calls, the model class, the `__main__`
block), calls only what the exporter calls, and gives the name back verbatim as a string. Names
are fed through all four routes a name takes (a JSON spec, a `.keras` config, an ONNX graph, a
Python file's `Sequential(..., name=...)`) and as hypothesis-generated text."""

from __future__ import annotations

import ast
import json
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc.codegen import MODULE_ATTRIBUTES, Names, docstring, identifier
from cnncalc.engine import summarize
from cnncalc.errors import SpecError
from cnncalc.export import export
from cnncalc.io import loads
from cnncalc.io.onnx import Graph, Node, Tensor, convert
from cnncalc.io.sources import read_spec

from .helpers import run

#: A name that ends the docstring, runs a statement and opens a new string; plus `\N`, which is
#: a SyntaxError in a plain literal.
HOSTILE = 'm"""\nopen("HOOK_MARKER", "w")\n"""\\N{x}\'\'\'\n__import__("os")\n'
#: Roots every call in exported code starts from (modules, the model, the class, builtins used).
ROOTS = {"keras", "layers", "torch", "nn", "self", "super", "print", "Model", "model"}


def check_code(code: str, name: str, target: str) -> None:
    """The exported code parses, holds only the exporter's statements, and ``name`` is a string in it."""
    tree = ast.parse(code)
    first, *rest = tree.body
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    assert (
        first.value.value == f"{name}: written by cnncalc export --to {target} (run it: python this_file.py)."
    )
    bound = {"x"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        if isinstance(node, ast.arg):
            bound.add(node.arg)
    allowed = (ast.Import, ast.ImportFrom, ast.Assign, ast.ClassDef, ast.If)
    assert all(isinstance(s, allowed) for s in rest), [ast.dump(s)[:80] for s in rest]
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            assert node.id in ROOTS | bound | {"__name__"}, node.id
        if isinstance(node, ast.Call):
            func = node.func
            while isinstance(func, (ast.Attribute, ast.Call)):
                func = func.value if isinstance(func, ast.Attribute) else func.func
            assert isinstance(func, ast.Name) and func.id in ROOTS | bound, ast.dump(node)[:120]
        if isinstance(node, ast.Expr) and node is not first:  # model.summary() / print(...)
            assert isinstance(node.value, ast.Call), ast.dump(node)
    assert not any(isinstance(n, (ast.Lambda, ast.Import)) and n not in tree.body for n in ast.walk(tree))
    imports = {a.name for s in rest if isinstance(s, (ast.Import, ast.ImportFrom)) for a in s.names}
    assert imports <= {"keras", "layers", "torch", "nn"}


def exported(summary, target: str, name: str) -> None:
    check_code(export(summary, target), name, target)


def spec(name: str, layer_names: list[str] | None = None) -> dict:
    names = layer_names or ["c"]
    layers = [{"type": "conv2d", "filters": 4, "kernel_size": 1, "name": n} for n in names]
    return {"name": name, "input_shape": [8, 8, 3], "layers": layers}


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_a_json_model_name_stays_a_string(target) -> None:
    exported(summarize(loads(json.dumps(spec(HOSTILE)))), target, HOSTILE)


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_a_keras_config_name_stays_a_string(tmp_path: Path, target) -> None:
    layers = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 8, 3], "name": "in"}},
        {"class_name": "Conv2D", "config": {"name": HOSTILE, "filters": 4, "kernel_size": [1, 1]}},
    ]
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": HOSTILE, "layers": layers}}
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    exported(summarize(read_spec(str(path))), target, HOSTILE)


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_an_onnx_graph_name_stays_a_string(target) -> None:
    graph = Graph(
        (("x", (1, 3, 8, 8)),),
        {"w": Tensor((4, 3, 1, 1))},
        (Node("Conv", HOSTILE, ("x", "w"), ("y",)),),
        HOSTILE,
    )
    exported(summarize(convert(graph)), target, HOSTILE)


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_a_python_sequential_name_stays_a_string(tmp_path: Path, target) -> None:
    path = tmp_path / "m.py"
    path.write_text(
        f"import keras\nm = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 1)], name={HOSTILE!r})\n"
    )
    exported(summarize(read_spec(str(path))), target, HOSTILE)


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_the_cli_writes_no_injected_code(tmp_path: Path, target) -> None:
    source = tmp_path / "m.json"
    source.write_text(json.dumps(spec(HOSTILE)))
    out = tmp_path / "m.py"
    result = run("export", "--to", target, "-f", str(source), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    check_code(out.read_text(), HOSTILE, target)


NAMES = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(model=NAMES, layers=st.lists(NAMES, min_size=1, max_size=5, unique=True))
def test_any_names_export_to_code_that_parses_and_runs_nothing_of_theirs(model, layers) -> None:
    try:
        parsed = loads(json.dumps(spec(model, layers)))
    except SpecError:  # a name the spec refuses (blank)
        assume(False)
    summary = summarize(parsed)
    for target in ("keras", "pytorch"):
        exported(summary, target, model)
    if len(layers) > 1:  # a graph: the Keras functional form binds a variable per layer
        graph = spec(model, layers)
        graph["layers"][1]["inputs"] = [graph["layers"][0]["name"]]
        graph["layers"].append({"type": "add", "name": "sum", "inputs": [layers[0], layers[1]]})
        try:
            branched = summarize(loads(json.dumps(graph)))
        except Exception:  # noqa: BLE001 - a name the graph reader refuses (e.g. equal to 'sum')
            return
        for target in ("keras", "pytorch"):
            exported(branched, target, model)


# --- item 7: identifiers


def test_names_python_reads_as_one_get_two_identifiers() -> None:
    names = Names("t_")
    first, second = names.new("fi"), names.new("\ufb01")  # 'ﬁ' is 'fi' to the parser (NFKC)
    assert first != second
    assert unicodedata.normalize("NFKC", second) == second


@pytest.mark.parametrize(
    "name", ["forward", "training", "_modules", "__init__", "zero_grad", "to", "class", "None", "match"]
)
def test_a_module_attribute_is_never_a_reserved_name(name) -> None:
    got = Names("layer_", reserved=MODULE_ATTRIBUTES, private=True).new(name)
    assert got == f"layer_{name}"


def test_a_layer_named_forward_is_a_module_that_runs() -> None:
    code = export(summarize(loads(json.dumps(spec("m", ["forward", "training"])))), "pytorch")
    assert "self.forward =" not in code and "self.training =" not in code
    assert "self.layer_forward = nn.Conv2d(3, 4, 1)" in code
    assert "def forward(self, x):" in code


def test_a_variable_never_rebinds_a_module_the_code_uses() -> None:
    graph = spec("m", ["\uff4cayers", "keras"])  # fullwidth 'l': 'layers' to the parser
    graph["layers"][1]["inputs"] = ["\uff4cayers"]
    graph["layers"].append({"type": "add", "name": "model", "inputs": ["\uff4cayers", "keras"]})
    code = export(summarize(loads(json.dumps(graph))), "keras")
    targets = [t.id for s in ast.parse(code).body if isinstance(s, ast.Assign) for t in s.targets]  # type: ignore[attr-defined]
    assert targets[:-1] == ["t_input", "t_layers", "t_keras", "t_model"], targets
    assert targets[-1] == "model"


@pytest.mark.parametrize(
    ("name", "want"),
    [("a.b", "a_b"), ("1x", "_1x"), ("", "_"), ("a-b c", "a_b_c"), ("\ufb01", "fi"), ("x\u00b2", "x2")],
)
def test_identifiers(name, want) -> None:
    assert identifier(name) == want


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=10))
def test_every_identifier_is_valid_and_normal(name) -> None:
    got = identifier(name)
    assert got.isidentifier() and unicodedata.normalize("NFKC", got) == got


def test_many_equal_names_take_linear_time() -> None:
    names = Names("t_")
    got = [names.new("conv") for _ in range(50_000)]
    assert len(set(got)) == 50_000 and got[:3] == ["conv", "conv_1", "conv_2"]


def test_docstring_is_one_literal() -> None:
    assert docstring("vgg16: x") == '"vgg16: x"'
    assert ast.literal_eval(docstring(HOSTILE)) == HOSTILE
