"""The architecture is enforced: import arrows point one way, and every layer kind is complete.

Layering (docs/architecture.md): the core imports nothing from ``numeric/``, ``render/`` or
``cli.py``; ``numeric/`` and ``render/`` never import each other; numpy is imported only under
``numeric/``, rich only under ``render/``, click only in ``cli.py``, torch/keras only inside functions of
``trace/``; no import cycles, counting
function-level imports (imports under ``if TYPE_CHECKING:`` never run and are not counted).
"""

from __future__ import annotations

import ast
import re
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings

import cnncalc
from cnncalc.engine import nested_sizes
from cnncalc.enums import Category, Framework
from cnncalc.layers import KINDS
from cnncalc.layers import faces as F
from cnncalc.layers.base import Layer
from cnncalc.layers.rules import Known, gated_sizes
from cnncalc.numeric import executor
from cnncalc.numeric.verify import verify
from cnncalc.sizing import has_rule

from .strategies import STRATEGIES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnncalc"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(name: str) -> set[str]:
    """Modules (cnncalc's, or top-level third-party names) that ``name`` imports, anywhere in it."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:  # `from . import args` names a module; `from . import kind_of` a value
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


GRAPH = {name: imports(name) for name in MODULES}


def layer_of(name: str) -> str:
    if name in ("cnncalc.cli", "cnncalc.__main__", "cnncalc._launch") or name.startswith("cnncalc.cli."):
        return "cli"
    if name == "cnncalc":
        return "facade"
    for part in ("numeric", "render"):
        if name.startswith(f"cnncalc.{part}"):
            return part
    return "core"


def test_every_folder_is_a_regular_package() -> None:
    # setuptools' package discovery (pyproject.toml) ships only folders with an __init__.py;
    # an editable install hides a missing one, a wheel does not.
    folders = {p.parent for p in PACKAGE.rglob("*.py")}
    assert all((folder / "__init__.py").exists() for folder in folders), sorted(map(str, folders))


def test_the_formatter_owns_every_line() -> None:
    marker = "fmt: " + "skip"  # spelled apart so this file does not match itself
    offenders = [str(p) for p in PACKAGE.rglob("*.py") if marker in p.read_text()]
    assert not offenders, offenders


def test_the_graph_is_read() -> None:
    assert "cnncalc.layers.conv" in GRAPH["cnncalc.numeric.executor"]
    assert "cnncalc.geometry" in GRAPH["cnncalc.layers.conv"]
    assert "numpy" in GRAPH["cnncalc.numeric.executor"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_arrows_point_one_way(name: str) -> None:
    allowed = {
        "core": {"core"},
        "numeric": {"core", "numeric"},
        "render": {"core", "render"},
        "cli": {"core", "numeric", "render", "cli", "facade"},
        "facade": {"core", "render", "facade"},
    }[layer_of(name)]
    for target in GRAPH[name]:
        if target.startswith("cnncalc"):
            assert layer_of(target) in allowed, f"{name} ({layer_of(name)}) imports {target}"


@pytest.mark.parametrize(("library", "home"), [("numpy", "numeric"), ("rich", "render"), ("click", "cli")])
def test_heavy_libraries_stay_home(library: str, home: str) -> None:
    users = {name for name, targets in GRAPH.items() if any(t.split(".")[0] == library for t in targets)}
    assert users and all(layer_of(name) == home for name in users), sorted(users)


#: The frameworks --trace builds models with (issue 23): imported only by cnncalc/trace/, and only
#: inside functions there (start-up never pays for them).
FRAMEWORKS = ("torch", "torchvision", "timm", "keras", "keras_hub", "tensorflow", "tf_keras")


def test_frameworks_only_in_the_trace_package() -> None:
    users = {name for name, targets in GRAPH.items() if any(t.split(".")[0] in FRAMEWORKS for t in targets)}
    outside = {name for name in users if not name.startswith("cnncalc.trace")}
    assert users and not outside, sorted(outside)
    for name in users:  # no module-level framework import: only function-level ones
        tree = ast.parse(MODULES[name].read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        for node in top:
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not any(m.split(".")[0] in FRAMEWORKS for m in modules), (name, modules)


def test_no_import_cycles() -> None:
    internal = {name: {t for t in targets if t in GRAPH and t != name} for name, targets in GRAPH.items()}
    state: dict[str, int] = {}

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(internal[node]):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] if target in path else path
                pytest.fail("import cycle: " + " -> ".join([*cycle, target]))
            if target not in state:
                walk(target, [*path, target])
        state[node] = 2

    for name in sorted(internal):
        if name not in state:
            walk(name, [name])


# ----------------------------------------------------------------------------- layers inside the core

#: The core's own layering (docs/architecture.md): a module imports only from its rank or below.
CORE_RANKS = (
    ("cnncalc.enums", "cnncalc.errors", "cnncalc.formulas", "cnncalc.zoo"),
    ("cnncalc.geometry", "cnncalc.symbolic"),
    ("cnncalc.layers",),
    ("cnncalc.io", "cnncalc.summary", "cnncalc.report", "cnncalc.sizing"),
    ("cnncalc.engine",),
    (
        "cnncalc.solve",
        "cnncalc.check",
        "cnncalc.explain",
        "cnncalc.counters",
        "cnncalc.export",
        "cnncalc.zoo",
    ),
)
#: Known arrows against the ranks, each with its reason. A whole model used as a layer computes its
#: inner model with the engine and reads its document with io, inside its methods.
CORE_EXCEPTIONS = {
    ("cnncalc.layers.nested", "cnncalc.engine"),
    ("cnncalc.layers.nested", "cnncalc.io.document"),
    ("cnncalc.layers.nested", "cnncalc.summary"),
}


def core_rank(name: str) -> int | None:
    for rank, prefixes in enumerate(CORE_RANKS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return rank
    return None


@pytest.mark.parametrize("name", sorted(n for n in MODULES if core_rank(n) is not None))
def test_core_layers_point_down(name: str) -> None:
    # formulas/geometry < layers < engine < solve/check; io never imports the engine.
    rank = core_rank(name)
    assert rank is not None
    for target in GRAPH[name]:
        other = core_rank(target)
        if other is None or (name, target) in CORE_EXCEPTIONS:
            continue
        assert other <= rank, f"{name} (rank {rank}) imports {target} (rank {other})"


def test_io_never_imports_the_engine() -> None:
    users = sorted(n for n in MODULES if n.startswith("cnncalc.io") and "cnncalc.engine" in GRAPH[n])
    assert not users, users


def test_no_kind_dispatch_in_the_core() -> None:
    """No isinstance on layer classes and no comparison with kind names in the modules that
    evaluate the kinds: a kind's knowledge lives with the kind (cnncalc/layers/)."""
    import cnncalc.layers as registry

    classes = {kind.cls_name for kind in KINDS} | {kind.class_name for kind in KINDS}
    classes |= {"Layer", "Merge", "Identity", "Elementwise", "FlatDense", "WindowConv", "Resize", "Pool"}
    types = {kind.type for kind in KINDS}
    for module in ("sizing", "solve", "engine", "check", "explain"):
        tree = ast.parse((PACKAGE / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                named |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                assert not named & classes, f"cnncalc/{module}.py:{node.lineno}: isinstance on a layer class"
            if isinstance(node, ast.Compare):
                texts = {
                    n.value
                    for n in ast.walk(node)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }
                assert not texts & (classes | types), (
                    f"cnncalc/{module}.py:{node.lineno}: dispatch on a kind name"
                )
    assert registry.KINDS


def _layer_classes_imported(tree: ast.Module, classes: set[str]) -> set[str]:
    """The names a module binds to layer classes by importing them from cnncalc.layers."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and "layers" in (node.module or "").split("."):
            bound |= {alias.asname or alias.name for alias in node.names if alias.name in classes}
    return bound


def test_no_isinstance_on_layer_classes_outside_the_kinds() -> None:
    """Widened to every module outside cnncalc/layers/ (readers in io/, --trace in trace/,
    writers, numeric/, render/): no isinstance on a layer class imported from cnncalc.layers."""
    classes = {kind.cls_name for kind in KINDS}
    classes |= {"Layer", "Merge", "Identity", "Elementwise", "FlatDense", "WindowConv", "Resize", "Pool"}
    checked = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        if "layers" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text())
        bound = _layer_classes_imported(tree, classes)
        checked += 1
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                assert not named & bound, (
                    f"{path.relative_to(ROOT)}:{node.lineno}: isinstance on a layer class"
                )
    assert checked > 80


#: Modules outside cnncalc/layers/ that compare strings which are also kind names, and why those
#: are not dispatch on a kind: each compares a framework's own word the faces cannot carry.
KIND_NAME_WORDS = {
    # each module outside cnncalc/layers/ that compares a framework word which is also a kind's
    # name, with the words it may compare (and why); any other kind name compared fails
    "counters.py": {
        "relu": "the counting tools' rules on activation names",
        "softmax": "the counting tools' rules on activation names",
    },
    "export_torch.py": {
        "softmax": "the activation 'softmax' written as nn.Softmax(dim=1)",
        "MaxPool": "the module name read from the kind's face (MaxPool2d)",
        "AvgPool": "the module name read from the kind's face (AvgPool2d)",
    },
    "io/frameworks.py": {
        "Model": "keras.Model / Functional / Sequential in model code",
        "ConvPoolLayer": "network3's image_shape argument",
        "add": "Keras Sequential's model.add(...) method",
        "permute": "x.permute(...) read as an axis order (its kind's NoFace reads it for --trace)",
    },
    "io/keras.py": {"Model": "Keras's model classes (Sequential, Functional, Model) a document nests"},
    "io/onnx.py": {
        "MaxPool": "ONNX op types inside a handler",
        "Add": "ONNX op types inside a handler",
    },
}


def test_no_kind_names_compared_outside_the_kinds() -> None:
    """Widened to every module outside cnncalc/layers/ (readers, --trace, writers, numeric/,
    render/): no comparison with a kind's type or class name, except the listed framework words
    of the listed modules (each listed word is compared there: the list stays tight)."""
    names = (
        {kind.cls_name for kind in KINDS}
        | {kind.class_name for kind in KINDS}
        | {kind.type for kind in KINDS}
    )
    used: dict[str, set[str]] = {where: set() for where in KIND_NAME_WORDS}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        if "layers" in path.relative_to(PACKAGE).parts:
            continue
        allowed = KIND_NAME_WORDS.get(where, {})
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                texts = {
                    n.value
                    for n in ast.walk(node)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                }
                hits = texts & names
                assert hits <= set(allowed), (
                    f"cnncalc/{where}:{node.lineno}: dispatch on a kind name {sorted(hits)}"
                )
                used.get(where, set()).update(hits)
    assert all((PACKAGE / where).exists() for where in KIND_NAME_WORDS)
    assert used == {where: set(words) for where, words in KIND_NAME_WORDS.items()}, used


# ----------------------------------------------------------------------------- readers and writers use the faces


def test_every_onnx_face_op_has_a_handler_and_every_handler_is_declared() -> None:
    """The ONNX ops the reader converts are declared once: every op a kind's ONNX face names has a
    handler, and every handler's op is declared by some face or listed as a non-kind op."""
    from cnncalc.io import onnx

    declared = {
        op for kind in KINDS if isinstance(kind.cls.onnx_face, F.OnnxFace) for op in kind.cls.onnx_face.ops
    }
    handled = set(onnx._HANDLERS)
    assert declared - handled == set(), sorted(declared - handled)
    assert handled - declared - onnx.NON_KIND_OPS == set(), sorted(handled - declared - onnx.NON_KIND_OPS)
    assert not declared & onnx.NON_KIND_OPS, sorted(declared & onnx.NON_KIND_OPS)
    assert all(onnx._handler(op) is not None for op in handled)
    assert onnx._handler("NotAnOp") is None and set(onnx.supported_ops()) == handled


def test_every_face_name_is_read_by_its_reader() -> None:
    """Each Keras class (and alias, and NoFace.reads) a face names is a layer the Keras reader
    knows, and reads back as its kind through Keras documents; each torch.nn module a face names
    is a module the model-code reader knows; each module whose face code --trace reads is read by
    it (its attributes copied)."""
    from cnncalc.io import keras as keras_reader
    from cnncalc.io import torch_source
    from cnncalc.io.document import _keras_kind
    from cnncalc.layers import torch_live

    for kind in KINDS:
        rank = F.rank_of(kind)
        keras, torch = kind.cls.keras_face, kind.cls.torch_face
        names: list[str] = []
        if isinstance(keras, F.KerasFace) and not keras.written_only:
            names = [name.format(rank=rank) for name in (keras.class_name, *keras.aliases)]
        elif isinstance(keras, F.NoFace):
            names = list(keras.reads)
        for name in names:
            found = F.kind_for_keras_class(name)
            assert found is not None, (kind.type, name)
            assert keras_reader._known({"class_name": name, "config": {}}), (kind.type, name)
            assert _keras_kind(name) == found.type, (kind.type, name)
            if found is kind and isinstance(keras, F.KerasFace) and name != keras.name(rank):
                assert F.keras_class_name(name) == keras.name(rank), (kind.type, name)
        if isinstance(torch, F.TorchFace) and not torch.written_only:
            for module in torch.names(rank):
                assert torch_source.known_layer(module), (kind.type, module)
                if torch.code in torch_live._MODULE_READERS:
                    assert torch_live.attribute_names(module), (kind.type, module)
            orders = {name.format(rank=rank): order for name, order in torch.orders.items()}
            assert set(orders) <= set(torch.names(rank)), (kind.type, orders)  # only its own modules
            for module, order in orders.items():
                assert F.kind_for_torch_module(module) is not kind or F.torch_positional(module) == order


def test_every_module_a_face_implies_arguments_for_reads_back_with_them() -> None:
    """``TorchFace.implies`` (nn.ReLU6 is relu with max_value=6, nn.Hardswish the activation
    hard_swish, nn.UpsamplingBilinear2d bilinear upsampling) is what the model-code reader builds:
    the module, read with no arguments of its own, is the kind with the implied values; and every
    torch function a face (or a NoFace's ``reads``) names is the kind --trace reads it as."""
    from cnncalc.enums import Convention
    from cnncalc.io import torch_source as T
    from cnncalc.io.spec import build_layer
    from cnncalc.layers import kind_of

    checked: set[str] = set()
    for kind in KINDS:
        face = kind.cls.torch_face
        if isinstance(face, F.NoFace):
            for name in face.reads:
                found = F.kind_for_torch_function(name)
                assert found is not None and found.cls is kind.cls, (kind.type, name)  # any rank's
            continue
        rank = F.rank_of(kind)
        for module, values in face.implies.items():
            module = module.format(rank=rank)
            assert module in face.names(rank), (kind.type, module)  # only its own modules
            given = {"scale_factor": 2} if face.code is F.TorchCode.UPSAMPLE else {}
            cls, positional, keywords = T.torch_module(module, [], given)
            layer = build_layer(T.kind_name(cls), positional, keywords, Convention.PYTORCH)
            assert kind_of(layer).cls is kind.cls, (kind.type, module)
            for key, value in values.items():
                assert getattr(layer, key) == value, (kind.type, module, key)
            checked.add(module)
    assert len(checked) == 6, (
        checked
    )  # ReLU6, Hardswish, Hardsigmoid, LogSoftmax, UpsamplingNearest2d/Bilinear2d


def test_torch_live_reads_only_through_the_faces() -> None:
    """--trace's module readers are keyed by the faces' PyTorch writer codes (no module-name table)."""
    from cnncalc.layers import torch_live

    assert not hasattr(torch_live, "MODULES")
    assert set(torch_live._MODULE_READERS) <= set(F.TorchCode)
    assert torch_live.module_face("NotAModule", {}) is None


def test_solve_and_hints_spell_code_as_the_writers_do() -> None:
    """solve layer's Keras/PyTorch text is the writers' text, and the same-padding hint's PyTorch
    spelling is the one the writer puts in the code for that layer."""
    from cnncalc.enums import Convention, DataFormat
    from cnncalc.errors import ShapeError
    from cnncalc.export import keras_text
    from cnncalc.export_torch import torch_text
    from cnncalc.io import parse
    from cnncalc.layers.base import Context
    from cnncalc.solve import solve_layer

    for convention in ("keras", "pytorch"):
        for kind in ("conv", "pool", "transposed"):
            solution = solve_layer("9x12", "5x6", kind=kind, convention=convention, filters=4, channels=2)
            for choice in solution.choices[:10]:
                layer = parse([choice.spec]).layers[0].layer
                ctx = Context(Convention(convention), DataFormat.CHANNELS_LAST)
                shape = (9, 12, 2)
                try:
                    keras = ", ".join(keras_text(layer, shape, ctx, name=None))
                except cnncalc.CnncalcError as err:
                    keras = f"no Keras equivalent: {err.reason}"
                assert choice.keras == keras
                assert choice.pytorch == ", ".join(torch_text(layer, shape, ctx))
    keras_ctx = Context(Convention.KERAS, DataFormat.CHANNELS_FIRST)
    for size, stride in ((8, 2), (9, 2), (11, 2), (10, 3)):
        layer = parse([f"conv:4,3,{stride},same"]).layers[0].layer
        written = torch_text(layer, (2, size, size), keras_ctx)
        with pytest.raises(ShapeError) as err:
            cnncalc.summarize(
                [f"conv:4,3,{stride},same"],
                input_shape=(2, size, size),
                convention="pytorch",
                data_format="channels_first",
            )
        hint = err.value.render_hint() or ""
        if written[0].startswith("nn.ZeroPad"):  # asymmetric: the writer's ZeroPad, verbatim
            assert written[0] in hint, (hint, written)
        else:
            padding = written[0].split("padding=")[1].rstrip(")") if "padding=" in written[0] else "0"
            assert f"padding={padding} gives exactly Keras's 'same'" in hint, (hint, written)


# ----------------------------------------------------------------------------- every kind is complete

DOCS = (ROOT / "docs" / "spec.md").read_text()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.type)
def test_every_kind_is_complete(kind) -> None:
    cls = kind.cls
    assert executor.forward_for(cls) is not None, f"{kind.type}: no forward pass in numeric/executor.py"
    assert cls.explain_steps is not Layer.explain_steps, f"{kind.type}: no explain steps"
    assert isinstance(getattr(cls, "category", None), Category), f"{kind.type}: no diagram category"
    family = re.sub(r"[123]d", "[123d/]+", kind.type)
    assert re.search(f"`{family}`", DOCS), f"{kind.type}: no row in docs/spec.md"
    assert kind.type in STRATEGIES, f"{kind.type}: no property-test strategy in tests/strategies.py"
    assert has_rule(cls), (
        f"{kind.type}: no size rule of its own (Layer.sizes, or sizes_many for a merge; a kind that "
        "shares its parent's says so: sizes = Parent.sizes)"
    )
    check_faces(kind)


def check_faces(kind) -> None:
    """Each framework's face (or an explicit NoFace with its reason), declared by the kind's own
    class (a parent's does not count), names that read back to the kind, a writer for each face
    export writes, and a counting rule."""
    from cnncalc import counters, export, export_torch

    cls = kind.cls
    faces = F.faces_of(cls)
    for framework in Framework:
        assert F.declared(cls, framework), (
            f"{kind.type}: no {framework.value} face of its own ({F.ATTRIBUTES[framework]})"
        )
        face = faces.of(framework)
        assert isinstance(face, (F.KerasFace, F.TorchFace, F.OnnxFace, F.NoFace)), (kind.type, face)
        if isinstance(face, F.NoFace):
            assert face.reason.strip(), f"{kind.type}: a {framework.value} NoFace needs its reason"
    rank = F.rank_of(kind)
    if isinstance(faces.keras, F.KerasFace):
        assert faces.keras.code in export._WRITERS, f"{kind.type}: no Keras writer for {faces.keras.code}"
        if not faces.keras.written_only:
            assert F.kind_for_keras_class(faces.keras.name(rank)) is kind, kind.type
    if isinstance(faces.torch, F.TorchFace):
        code = faces.torch.code
        assert code in export_torch._WRITERS or (code is None and faces.torch.unwritten), kind.type
        if not faces.torch.written_only:
            for module in faces.torch.names(rank):
                assert F.kind_for_torch_module(module).cls is cls, (kind.type, module)
    if isinstance(faces.onnx, F.OnnxFace):
        assert faces.onnx.ops and all(kind in F.kinds_for_onnx_op(op) for op in faces.onnx.ops), kind.type
    assert "counted" in vars(cls) and isinstance(cls.counted, F.Counted), (
        f"{kind.type}: no counting rule (counted)"
    )
    rule = counters._RULES.get(cls.counted)
    assert rule is not None or cls.counted in counters._NOT_COUNTED or cls.counted is F.Counted.OTHER, (
        kind.type
    )


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
@pytest.mark.parametrize("target", [Framework.KERAS, Framework.PYTORCH])
def test_export_refuses_a_kind_without_a_face_in_one_line(type_: str, target: Framework) -> None:
    """Export refuses a kind with no face in the target: one line naming the kind and the reason."""
    from cnncalc.errors import SpecError
    from cnncalc.export import export
    from cnncalc.layers import lookup

    face = F.faces_of(lookup(type_).cls).of(target)
    if not isinstance(face, F.NoFace):
        return

    @settings(max_examples=1, deadline=None)
    @given(STRATEGIES[type_])
    def check(example) -> None:
        source, shape, kw = example
        summary = cnncalc.summarize(source, input_shape=shape, **kw)
        with pytest.raises(SpecError) as err:
            export(summary, target.value)
        text = str(err.value)
        assert "\n" not in text, text
        if any(row.layer.refusal() for row in summary.layers):  # an opaque row says why itself
            return
        assert face.reason in text and lookup(type_).class_name in text, text

    check()


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
def test_every_kind_runs_on_real_tensors(type_: str) -> None:
    """Each kind's strategy: the formulas' shapes and params equal the executor's real arrays
    (and the loop reference's values), and the declared weight shapes add up to the params."""

    @settings(max_examples=6, deadline=None)
    @given(STRATEGIES[type_])
    def check(example) -> None:
        source, shape, kw = example
        summary = cnncalc.summarize(source, input_shape=shape, **kw)
        assert summary.layers[-1].type == type_ or type_ in {"relu", "softmax"}
        report = verify(summary, dtype="float64")
        assert report.ok, report.rows
        for row in summary.layers:
            declared = row.layer.weight_shapes(row.input_shape, summary.context)
            sizes = sum(_prod(s) for s in declared.values())
            assert sizes == row.params + row.buffers, (row.name, declared)

    check()


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
def test_every_kind_size_rule_is_its_computation(type_: str) -> None:
    """Each kind's size rule (Layer.sizes, what solve, hints and None propagation evaluate), over
    known sizes, gives the output shape its computation gives; with a spatial size unknown it
    keeps every size the unknown one does not reach (Keras's None propagation)."""

    @settings(max_examples=6, deadline=None)
    @given(STRATEGIES[type_])
    def check(example) -> None:
        source, shape, kw = example
        summary = cnncalc.summarize(source, input_shape=shape, **kw)
        p = Known(summary.context, nested=partial(nested_sizes, ctx=summary.context))
        shapes = dict(summary.model_inputs)
        for row in summary.layers:
            merge = row.layer.many()
            ins = [shapes[s] for s in row.inputs]
            out = (
                merge.sizes_many(p, ins)
                if merge is not None
                else gated_sizes(row.layer, p, row.layer.sizes(p, ins[0]))
            )
            assert out == row.output_shape, (row.name, out, row.output_shape)
            shapes[row.name] = row.output_shape
        first = summary.layers[0]
        if first.layer.many() is None and len(first.input_shape) > 1:
            axis = 0 if summary.context.data_format.value == "channels_last" else 1
            dims = tuple(None if i == axis else n for i, n in enumerate(first.input_shape))
            try:
                out = gated_sizes(first.layer, p, first.layer.sizes(p, dims))
            except cnncalc.CnncalcError:
                return  # a kind that needs the size (Dense on it, a fixed reshape): Keras refuses too
            assert all(n == m for n, m in zip(out, first.output_shape, strict=True) if n is not None), out

    check()


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def test_only_the_launcher_exits_the_process() -> None:
    # Exit codes live on the exception classes; commands raise or end with ctx.exit(code), so
    # one handler decides every code and only the launcher ends the process.
    callers = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "exit"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "sys"
            ):
                callers.append(str(path.relative_to(PACKAGE)))
    assert callers == ["_launch.py"], callers


def test_every_command_is_a_module_of_its_own() -> None:
    from cnncalc.cli import all_commands

    for name, command in all_commands().items():
        assert command.callback is not None
        assert command.callback.__module__ == f"cnncalc.cli.{name}", (name, command.callback.__module__)
