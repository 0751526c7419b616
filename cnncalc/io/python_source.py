"""Model code (``.py``) read statically with :mod:`ast`: the file is never imported or executed.

PyTorch code (``nn.Sequential``, ``nn.Module`` classes) is read by :mod:`cnncalc.io.torch_source`
on top of this statement reader.

What is read (docs/model-code.md):

- Keras: ``Sequential()`` + ``model.add(...)``, ``Sequential([...])``, ``Input``/``keras.Input``,
  functional calls ``x = Conv2D(...)(x)``, merges (``layers.add([a, b])``, ``Concatenate()([a, b])``,
  ``a + b``), ``Model(inputs, outputs)``; ``input_shape=`` on the first layer, ``model.build(...)``;
  every spelling of the imports (``from keras import layers``, ``tf.keras``, ``keras.layers.X``).
- network3: ``Network([ConvPoolLayer(...), FullyConnectedLayer(...), SoftmaxLayer(...)], mini_batch_size)``.
- Values: literals, module-level (or function-level) constants and ``+ - * //`` on whole numbers
  (:mod:`cnncalc.io.pyexpr`).

Statements that are not about a model (training loops, printing) are skipped; a loop or a
conditional that builds part of a model cannot be followed without running the code, and is
refused with its line number instead of being guessed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Any

from ..enums import Convention, DataFormat
from ..errors import CnncalcError, Option, SpecError
from ..layers.args import ACTIVATIONS
from ..layers.network3 import ACTIVATION_FNS
from . import torch_source as T
from .code_values import (
    MODELS,
    Found,
    FunctionalModel,
    LayerObj,
    Network3Model,
    Node,
    NotFollowed,
    SequentialModel,
    TorchModule,
    TorchSequential,
    TorchTensor,
    Unknown,
)
from .pyexpr import NotStatic, dotted, evaluate, source_of
from .spec import INPUT_KEYS, LayerSpec, Spec, build_layer, ignored, resolve_kind

#: Keras functional merge helpers (``layers.add([a, b])``) and the kind each builds.
_MERGE_FUNCTIONS = {
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "average": "Average",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "concatenate": "Concatenate",
}
_NETWORK3 = frozenset({"ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer"})
#: Method calls on a model that change nothing the calculator reports.
_HARMLESS_METHODS = frozenset(
    {
        "summary",
        "compile",
        "fit",
        "evaluate",
        "predict",
        "save",
        "save_weights",
        "load_weights",
        "train",
        "SGD",
    }
)
_ACTIVATION_NAMES = {name.lower(): name for name in (*ACTIVATIONS, *ACTIVATION_FNS)}


def read_python(text: str, source: str = "<string>", model_name: str | None = None) -> Spec:
    """The model in Python source ``text`` -> :class:`Spec`, without importing or running it.

    ``model_name`` picks one when the file defines several (the variable it is assigned to, its
    ``name=``, or the function that builds it).
    """
    if len(text) > MAX_PYTHON_CHARS:
        raise SpecError(
            f"{source}: model code of {len(text):,} characters is more than the limit {MAX_PYTHON_CHARS:,} "
            "(Python's parser needs about 300 bytes of memory per character)"
        )
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark: Python reads past it too
    try:
        tree, notes = _parse(text, source)
        reader = _Reader()
        reader.block(tree.body)
        chosen = _choose(reader.found, reader.skipped, source, model_name)
        spec = _to_spec(reader, chosen)
    except RecursionError:
        raise SpecError(f"{source}: code nested too deeply to read") from None
    except CnncalcError as err:
        raise err.prefixed(f"{source}: ") from None
    return replace(spec, notes=(*notes, *reader.notes))


#: Largest model code read (2 MiB of text: model files are kilobytes; Python's parser takes about
#: 300 bytes of memory and 5 microseconds per character, so this bounds it near 600 MB and 10 s).
MAX_PYTHON_CHARS = 2 * 2**20


def _parser_failure(err: BaseException) -> str:
    """Why Python's parser gave up, never empty (its MemoryError and RecursionError say nothing)."""
    if isinstance(err, (MemoryError, RecursionError)):
        return "an expression too long or nested too deeply for Python's parser"
    return str(err) or type(err).__name__


# A line the course notes printed with its newline lost: ``import Sequentialfrom keras.layers import X``.
_GLUED = re.compile(r"(?<=\w)(?=(?:from\s+[\w.]+\s+import|import)\s)")


def _parse(text: str, source: str) -> tuple[ast.Module, list[str]]:
    """The module's tree; import lines glued together (a newline lost in print) are read as two."""
    lines = text.split("\n")
    notes: list[str] = []
    for _ in range(min(len(lines), 50) + 1):
        try:
            return ast.parse("\n".join(lines), filename=source), notes
        except SyntaxError as err:
            index = (err.lineno or 0) - 1
            line = lines[index] if 0 <= index < len(lines) else ""
            if re.match(r"\s*(from|import)\s", line) and _GLUED.search(line):
                lines[index] = _GLUED.sub("; ", line)
                notes.append(
                    f"line {index + 1}: read as two imports (a newline seems lost): {lines[index].strip()}"
                )
                continue
            where = f"line {err.lineno}" if err.lineno else "the file"
            raise SpecError(f"not valid Python at {where}: {err.msg}") from None
        except (ValueError, MemoryError, RecursionError) as err:
            raise SpecError(f"not valid Python: {_parser_failure(err)}") from None
    raise SpecError("not valid Python")  # pragma: no cover - every round fixes one line or raises


class _Reader:
    """Walks the statements in order, keeping what each name holds."""

    def __init__(self) -> None:
        #: ``self.X`` assignments while an ``nn.Module``'s ``__init__`` is read (else None)
        self.attributes: dict[str, Any] | None = None
        self.self_name: str | None = None
        #: the file's ``nn.Module`` classes, and the tensors it makes / feeds to a model
        self.torch_classes: dict[str, ast.ClassDef] = {}
        self.torch_inputs: list[TorchTensor] = []
        self.torch_fed: list[TorchTensor] = []
        self.constants: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.imports: dict[str, str] = {}
        self.found: list[Found] = []
        self.skipped: list[str] = []
        self.notes: list[str] = []
        self.nodes = 0
        self.scope = ""

    def new_input(self, line: int, shape: tuple[int, ...] | None) -> Node:
        """A fresh tensor node (a model input until a layer is put on it)."""
        self.nodes += 1
        return Node(self.nodes, line, is_input=True, input_shape=shape)

    # statements ------------------------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Expr, ast.Assign)):
            self.scan_fed(stmt)
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.imports[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                self.imports[alias.asname or alias.name] = f"{stmt.module or ''}.{alias.name}"
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            value = stmt.value
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if value is None:
                return
            result = self.expr(value)
            for target in targets:
                self.bind(target, result, stmt)
        elif isinstance(stmt, ast.AugAssign):
            if self.touches(stmt):
                raise NotFollowed(
                    f"line {stmt.lineno}: {source_of(stmt.target)} is changed in place; write it out"
                )
            if isinstance(stmt.target, ast.Name):
                self.forget(stmt.target.id)
        elif isinstance(stmt, ast.Expr):
            if isinstance(stmt.value, ast.Call):
                self.call_statement(stmt.value)
        elif isinstance(stmt, ast.If):
            self.if_statement(stmt)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            if self.touches(stmt):
                raise NotFollowed(
                    f"line {stmt.lineno}: a loop builds part of the model; cnncalc reads the code without "
                    "running it: write the layers out"
                )
        elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.Try)):
            self.block(stmt.body)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(stmt)
        elif isinstance(stmt, ast.ClassDef):
            self.class_definition(stmt)
        elif isinstance(stmt, ast.Return) and stmt.value is not None and self.touches(stmt.value):
            value = self.expr(stmt.value)
            if isinstance(value, MODELS):
                self.found.append(Found(self.scope + "return", stmt.lineno, value))

    def scan_fed(self, stmt: ast.stmt) -> None:
        """``net(torch.randn(1, 3, 32, 32))`` anywhere in a statement: the tensor fed to the model."""
        for sub in ast.walk(stmt):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Name)
                and isinstance(self.values.get(sub.func.id), (TorchModule, TorchSequential))
            ):
                for arg in sub.args:
                    value = self.expr(arg)
                    if isinstance(value, TorchTensor):
                        self.torch_fed.append(value)

    def bind(self, target: ast.expr, result: Any, stmt: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            self.forget(target.id)
            if _static(result):
                self.constants[target.id] = result
            else:
                self.values[target.id] = result
                if isinstance(result, MODELS):
                    self.found.append(Found(self.scope + target.id, stmt.lineno, result))
        elif (
            self.attributes is not None
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == self.self_name
        ):
            self.attributes[target.attr] = result  # an nn.Module's self.X = ...
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = result if isinstance(result, (tuple, list)) and len(result) == len(target.elts) else None
            for i, elt in enumerate(target.elts):
                self.bind(elt, items[i] if items is not None else Unknown(stmt.lineno, "unpacked"), stmt)
        elif self.touches(stmt):
            raise NotFollowed(
                f"line {stmt.lineno}: assigns a model part to {source_of(target)}; use a plain name"
            )

    def forget(self, name: str) -> None:
        self.constants.pop(name, None)
        self.values.pop(name, None)

    def call_statement(self, call: ast.Call) -> None:
        func = call.func
        if isinstance(func, ast.Attribute):
            owner = self.lookup_value(func.value)
            if isinstance(owner, SequentialModel):
                if func.attr == "add":
                    self.add_layer(owner, call)
                elif func.attr == "build":
                    self.build_shape(owner, call)
                elif func.attr == "pop":
                    raise NotFollowed(f"line {call.lineno}: model.pop() is not followed; leave the layer out")
                return
            if isinstance(owner, (FunctionalModel, Network3Model)):
                return
        if self.touches(call) and not self.harmless(call):
            value = self.expr(call)  # a model built for nothing but its summary, a stray layer, or an error
            if isinstance(value, MODELS):
                unnamed = {
                    SequentialModel: "sequential",
                    FunctionalModel: "functional",
                    Network3Model: "network",
                }
                self.found.append(Found(self.scope + unnamed[type(value)], call.lineno, value))

    def harmless(self, call: ast.Call) -> bool:
        func = call.func
        return isinstance(func, ast.Attribute) and func.attr in _HARMLESS_METHODS

    def add_layer(self, model: SequentialModel, call: ast.Call) -> None:
        if len(call.args) != 1 or call.keywords:
            raise NotFollowed(f"line {call.lineno}: model.add() takes one layer")
        layer = self.expr(call.args[0])
        if isinstance(layer, Node) and layer.is_input and not model.layers:
            model.built_shape = layer.input_shape
            return
        if isinstance(layer, SequentialModel):
            raise NotFollowed(f"line {call.lineno}: a model added to a model is not followed; add its layers")
        model.layers.append(self.as_layer(layer, call.args[0]))

    def build_shape(self, model: SequentialModel, call: ast.Call) -> None:
        node = (
            call.args[0]
            if call.args
            else next((k.value for k in call.keywords if k.arg == "input_shape"), None)
        )
        if node is None:
            return
        shape = self.static(node, "input shape")
        if not isinstance(shape, tuple) or len(shape) < 2:
            raise SpecError(f"line {call.lineno}: build() needs (batch, ...) like (None, 28, 28, 1)")
        model.built_shape = tuple(shape[1:])

    def if_statement(self, stmt: ast.If) -> None:
        test = stmt.test
        if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
            self.block(stmt.body)
            return
        try:
            decided = evaluate(test, self.constants)
        except NotStatic:
            if self.touches(stmt):
                raise NotFollowed(
                    f"line {stmt.lineno}: the model depends on the condition {source_of(test)}, which cannot "
                    "be known without running the code: keep one branch"
                ) from None
            return
        self.block(stmt.body if decided else stmt.orelse)

    def function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A function that builds a model is read as its own scope: parameters with number
        defaults are those numbers; the models in it are named after the function."""
        saved = (dict(self.constants), dict(self.values), self.scope, len(self.found))
        args = stmt.args
        params = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(params) - len(args.defaults)) + list(args.defaults)
        for param, default in [
            *zip(params, defaults, strict=True),
            *zip(args.kwonlyargs, args.kw_defaults, strict=True),
        ]:
            self.forget(param.arg)
            if default is not None:
                try:
                    self.constants[param.arg] = evaluate(default, self.constants)
                except NotStatic:
                    self.values[param.arg] = Unknown(stmt.lineno, f"parameter {param.arg}")
            else:
                self.values[param.arg] = Unknown(stmt.lineno, f"parameter {param.arg} (no default)")
        self.scope = f"{saved[2]}{stmt.name}."
        try:
            self.block(stmt.body)
        finally:
            new = self.found[saved[3] :]
            if len(new) == 1:  # one model in the function: it is named after the function
                self.found[saved[3]] = Found(saved[2] + stmt.name, new[0].line, new[0].model)
            self.constants, self.values, self.scope = saved[0], saved[1], saved[2]
        self.values[stmt.name] = Unknown(stmt.lineno, f"{stmt.name}() is a function of the file")

    def class_definition(self, stmt: ast.ClassDef) -> None:
        bases = [dotted(b) or "" for b in stmt.bases]
        if any(T.is_torch_name(self.qualified(b)) and b.endswith("Module") for b in bases):
            self.torch_classes[stmt.name] = stmt
            model = TorchModule(stmt.lineno, stmt, None, dict(self.constants))
            self.found.append(Found(self.scope + stmt.name, stmt.lineno, model))
        elif any(b.endswith(("Model", "Module", "Layer")) for b in bases):
            self.skipped.append(
                f"class {stmt.name} (line {stmt.lineno}) is a subclassed model, built by running its code: "
                "write it with Sequential or the functional API"
            )

    # expressions -----------------------------------------------------------------------------

    def touches(self, node: ast.AST) -> bool:
        """Whether code builds part of a model (so skipping it would lose layers): it constructs a
        layer or model, adds to a model, applies a layer, or rebinds a name that holds one. Calls
        such as ``model.fit(...)`` or ``print(model)`` do not."""
        modelish = (LayerObj, Node, *MODELS)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                func = sub.func
                name = dotted(func)
                if name and self.classify(name) is not None:
                    return True
                if isinstance(func, ast.Call) or (
                    isinstance(func, ast.Name) and isinstance(self.values.get(func.id), modelish)
                ):
                    return True
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in ("add", "build", "pop")
                    and isinstance(self.lookup_value(func.value), SequentialModel)
                ):
                    return True
            targets: list[ast.expr] = []
            if isinstance(sub, ast.Assign):
                targets = sub.targets
            elif isinstance(sub, (ast.AugAssign, ast.AnnAssign, ast.For)):
                targets = [sub.target]
            for target in targets:
                for name_node in ast.walk(target):
                    if isinstance(name_node, ast.Name) and isinstance(
                        self.values.get(name_node.id), modelish
                    ):
                        return True
        return False

    def qualified(self, name: str) -> str:
        head, _, rest = name.partition(".")
        origin = self.imports.get(head)
        if origin is None:
            return name
        return f"{origin}.{rest}" if rest else origin

    def classify(self, name: str) -> str | None:
        """What a called name builds: 'sequential', 'model', 'input', 'network', 'merge:Add',
        'layer:Conv2D', or None for anything else."""
        full = self.qualified(name)
        last = full.rpartition(".")[2]
        if name in self.torch_classes:
            return f"torch_module:{name}"
        if T.is_torch_name(full):
            return T.classify(full)
        keras = "keras" in full or full == last
        if last == "Sequential" and keras:
            return "sequential"
        if last in ("Model", "Functional") and keras:
            return "model"
        if last in ("Input", "InputLayer") and keras:
            return "input"
        if last == "Network" and (full == last or "network3" in full):
            return "network"
        if last in _MERGE_FUNCTIONS and "keras" in full:
            return f"merge:{_MERGE_FUNCTIONS[last]}"
        if last[:1].isupper() and (keras or last in _NETWORK3) and _known_kind(last):
            return f"layer:{last}"
        return None

    def lookup_value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.values.get(node.id, self.constants.get(node.id))
        return None

    def expr(self, node: ast.expr) -> Any:
        """A value: static (numbers, strings, tuples), or a layer, tensor or model, or Unknown."""
        if isinstance(node, ast.Name):
            if node.id in self.values:
                return self.values[node.id]
            if node.id in self.constants:
                return self.constants[node.id]
            return Unknown(node.lineno, f"{node.id} is not defined in the file")
        if isinstance(node, (ast.List, ast.Tuple)):
            return tuple(self.expr(e) for e in node.elts)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.expr(node.left), self.expr(node.right)
            if isinstance(left, Node) and isinstance(right, Node):
                empty = ast.Call(func=ast.Name("Add"), args=[], keywords=[])
                layer = self.constructed(LayerObj("Add", empty, node.lineno))
                return self.apply(layer, (left, right), node)
        try:
            return evaluate(node, self.constants)
        except NotStatic as err:
            return Unknown(getattr(node, "lineno", 0), err.reason)

    def call(self, call: ast.Call) -> Any:
        func = call.func
        if isinstance(func, ast.Call) or (
            isinstance(func, ast.Name)
            and isinstance(self.values.get(func.id), (LayerObj, SequentialModel, FunctionalModel))
        ):
            target = self.expr(func)
            if isinstance(target, (SequentialModel, FunctionalModel)):
                raise NotFollowed(
                    f"line {call.lineno}: a model called as a layer is not followed; use its layers"
                )
            layer = self.as_layer(target, func)
            if len(call.args) != 1:
                raise NotFollowed(f"line {call.lineno}: a layer is called on one tensor (or a list of them)")
            return self.apply(layer, self.tensors(call.args[0]), call)
        if isinstance(func, ast.Name) and isinstance(
            self.values.get(func.id), (TorchModule, TorchSequential)
        ):
            fed = [self.expr(arg) for arg in call.args]  # net(x): x's sizes are the input shape
            self.torch_fed.extend(v for v in fed if isinstance(v, TorchTensor))
            return Unknown(call.lineno, f"{source_of(call)} is the model's output")
        name = dotted(func)
        what = self.classify(name) if name else None
        if what is None:
            return Unknown(call.lineno, f"{source_of(func)}(...) is not a layer or model cnncalc reads")
        if what == "torch_sequential":
            return T.sequential(self, call, self.expr)
        if what == "torch_input":
            sizes = tuple(self.static(a, "tensor size") for a in call.args if not isinstance(a, ast.Starred))
            if len(sizes) == 1 and isinstance(sizes[0], tuple):
                sizes = sizes[0]
            tensor = TorchTensor(call.lineno, tuple(sizes))
            self.torch_inputs.append(tensor)
            return tensor
        if what == "torch_list":
            return Unknown(call.lineno, f"{source_of(func)} holds modules made by running the code")
        if what.startswith("torch_module:"):
            definition = self.torch_classes[what.partition(":")[2]]
            return TorchModule(call.lineno, definition, call, dict(self.constants))
        if what.startswith("torch_layer:"):
            cls = what.partition(":")[2]
            return self.constructed(LayerObj(cls, call, call.lineno, torch=True))
        if what == "sequential":
            return self.sequential(call)
        if what == "model":
            return self.functional(call)
        if what == "input":
            return self.input_node(call)
        if what == "network":
            items = self.expr(call.args[0]) if call.args else ()
            if not isinstance(items, tuple):
                raise NotFollowed(f"line {call.lineno}: Network() needs a list of layers written in the call")
            return Network3Model(call.lineno, [self.as_layer(item, call) for item in items])
        kind, _, cls = what.partition(":")
        if kind == "merge":
            if len(call.args) != 1:
                raise NotFollowed(f"line {call.lineno}: {name}() takes a list of tensors")
            rest = ast.Call(func=ast.Name(cls), args=[], keywords=call.keywords)
            return self.apply(
                self.constructed(LayerObj(cls, rest, call.lineno)), self.tensors(call.args[0]), call
            )
        return self.constructed(LayerObj(cls, call, call.lineno))

    def constructed(self, layer: LayerObj) -> LayerObj:
        """Evaluate the layer's arguments now, while its names hold the values they have here."""
        try:
            layer.built = self.layer_spec(layer)
        except CnncalcError as err:
            layer.built = err
        return layer

    def sequential(self, call: ast.Call) -> SequentialModel:
        model = SequentialModel(call.lineno)
        items_node = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg == "layers":
                items_node = keyword.value
            elif keyword.arg == "name":
                model.name = self.static_str(keyword.value, "name")
        if items_node is not None:
            items = self.expr(items_node)
            if not isinstance(items, tuple):
                raise NotFollowed(
                    f"line {call.lineno}: Sequential() needs its list of layers written in the call"
                )
            for item, item_node in zip(
                items, getattr(items_node, "elts", [items_node] * len(items)), strict=True
            ):
                if isinstance(item, Node) and item.is_input and not model.layers:
                    model.built_shape = item.input_shape
                    continue
                model.layers.append(self.as_layer(item, item_node))
        return model

    def functional(self, call: ast.Call) -> FunctionalModel:
        given = dict(zip(("inputs", "outputs"), call.args, strict=False))
        name = None
        for keyword in call.keywords:
            if keyword.arg in ("inputs", "outputs"):
                given[keyword.arg] = keyword.value
            elif keyword.arg == "name":
                name = self.static_str(keyword.value, "name")
        if set(given) != {"inputs", "outputs"}:
            raise NotFollowed(f"line {call.lineno}: Model() needs inputs and outputs")
        return FunctionalModel(
            call.lineno, self.tensors(given["inputs"]), self.tensors(given["outputs"]), name
        )

    def input_node(self, call: ast.Call) -> Node:
        shape_node = call.args[0] if call.args else None
        name = None
        batch = False
        for keyword in call.keywords:
            if keyword.arg == "shape":
                shape_node = keyword.value
            elif keyword.arg in ("batch_shape", "batch_input_shape"):
                shape_node, batch = keyword.value, True
            elif keyword.arg == "input_shape":  # Keras 2's InputLayer(input_shape=...)
                shape_node = keyword.value
            elif keyword.arg == "name":
                name = self.static_str(keyword.value, "name")
        if shape_node is None:
            raise SpecError(f"line {call.lineno}: Input() needs shape=")
        shape = self.static(shape_node, "shape")
        if not isinstance(shape, tuple):
            raise SpecError(f"line {call.lineno}: Input shape must be a tuple like (28, 28, 1)")
        shape = shape[1:] if batch else shape
        self.nodes += 1
        # A free size (None) is left to the input shape given with the model (``--input``).
        known = None if any(v is None for v in shape) else tuple(shape)
        return Node(self.nodes, call.lineno, is_input=True, input_name=name, input_shape=known)

    def apply(self, layer: LayerObj, sources: tuple[Node, ...], where: ast.AST) -> Node:
        layer.applied += 1
        if layer.applied > 1:
            raise NotFollowed(
                f"line {getattr(where, 'lineno', layer.line)}: the layer from line {layer.line} is called a "
                "second time; shared layers are not supported"
            )
        self.nodes += 1
        return Node(self.nodes, layer.line, layer=layer, sources=sources)

    def tensors(self, node: ast.expr) -> tuple[Node, ...]:
        value = self.expr(node)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if not isinstance(item, Node):
                raise NotFollowed(
                    f"line {node.lineno}: {source_of(node)} is not a tensor the reader follows{_why(item)}"
                )
        return items

    def as_layer(self, value: Any, node: ast.AST) -> LayerObj:
        if isinstance(value, LayerObj):
            return value
        line = getattr(node, "lineno", 0)
        raise NotFollowed(f"line {line}: {source_of(node)} is not a layer the reader follows{_why(value)}")

    def static(self, node: ast.expr, what: str, line: bool = True) -> Any:
        try:
            return evaluate(node, self.constants, self.named_value)
        except NotStatic as err:
            where = f"line {node.lineno}: " if line else ""
            raise SpecError(f"{where}{what}: {err.reason}") from None

    def static_str(self, node: ast.expr, what: str, line: bool = True) -> str:
        value = self.static(node, what, line)
        if not isinstance(value, str):
            raise SpecError(f"line {node.lineno}: {what} must be a string")
        return value

    def named_value(self, node: ast.AST) -> Any:
        """A name the file assigns something unknowable says why (``N = 10**30``: the limit),
        else :meth:`activation_name`."""
        if isinstance(node, ast.Name) and isinstance(self.values.get(node.id), Unknown):
            unknown = self.values[node.id]
            raise NotStatic(f"{node.id} (line {unknown.line}): {unknown.why}")
        return self.activation_name(node)

    def activation_name(self, node: ast.AST) -> Any:
        """``tf.nn.relu``, ``keras.activations.relu``, network3's ``ReLU``: the activation's name."""
        if isinstance(node, (ast.Name, ast.Attribute)) and not (
            isinstance(node, ast.Name) and node.id in self.constants
        ):
            name = dotted(node)
            last = (name or "").rpartition(".")[2]
            if last.lower() in _ACTIVATION_NAMES:
                return last
        return NotImplemented

    # layers ----------------------------------------------------------------------------------

    def layer_spec(self, layer: LayerObj) -> tuple[LayerSpec, tuple[int, ...] | None]:
        """Build the cnncalc layer from the call's arguments (evaluated statically)."""
        call = layer.call
        shown = layer.text or (source_of(call) if call.args or call.keywords else f"{layer.cls}()")
        text = f"line {layer.line}: {shown}"
        try:
            positional = []
            for i, arg in enumerate(call.args):
                if isinstance(arg, ast.Starred):
                    raise NotFollowed("*args are not followed; write the arguments out")
                positional.append(self.argument(layer, i, None, arg))
            keywords: dict[str, Any] = {}
            name = None
            declared = None
            for keyword in call.keywords:
                key = keyword.arg
                if key is None:
                    raise NotFollowed("**kwargs are not followed; write the arguments out")
                if key == "name":
                    name = self.static_str(keyword.value, "name", line=False)
                elif key in INPUT_KEYS or key == "input_dim":
                    shape = self.static(keyword.value, key, line=False)
                    shape = (shape,) if key == "input_dim" else shape
                    if not isinstance(shape, tuple) or not shape:
                        raise SpecError(f"{key} must be a tuple like (28, 28, 1)")
                    declared = tuple(shape[1:] if key.startswith("batch") else shape)
                elif ignored(key) or key in ("trainable",) and self._static_or_none(keyword.value) is True:
                    continue
                else:
                    keywords[key] = self.argument(layer, None, key, keyword.value)
            if layer.torch:
                cls = T.RENAMED.get(layer.cls, layer.cls)
                keywords = T.torch_keywords(layer.cls, keywords)
                cls, positional, keywords = T.torch_module(cls, positional, keywords)
                if layer.cls.startswith("Dropout") and not positional and "p" not in keywords:
                    keywords["p"] = 0.5  # PyTorch's default rate (Keras's Dropout has none)
                built = build_layer(cls, positional, keywords, Convention.PYTORCH)
            else:
                built = build_layer(layer.cls, positional, keywords)
        except CnncalcError as err:
            raise err.at(text) from None
        return LayerSpec(built, text, name, compact=False, line=layer.line), declared

    def _static_or_none(self, node: ast.expr) -> Any:
        try:
            return evaluate(node, self.constants)
        except NotStatic:
            return None

    def argument(self, layer: LayerObj, index: int | None, key: str | None, node: ast.expr) -> Any:
        is_image_shape = layer.cls == "ConvPoolLayer" and (key == "image_shape" or index == 1)
        if is_image_shape and isinstance(node, ast.Tuple) and len(node.elts) == 4:
            try:
                batch = evaluate(node.elts[0], self.constants)
            except NotStatic:
                # network3's image_shape starts with the mini-batch size, which changes no figure.
                self.notes.append(
                    f"line {node.lineno}: {source_of(node.elts[0])} is not defined in the file; the mini-batch "
                    "size changes no figure, read as 1"
                )
                batch = 1
            return (batch, *(self.static(e, key or "image_shape", line=False) for e in node.elts[1:]))
        value = self.static(node, key or f"argument {(index or 0) + 1}", line=False)
        return list(value) if isinstance(value, tuple) else value


def _built(layer: LayerObj) -> tuple[LayerSpec, tuple[int, ...] | None]:
    if isinstance(layer.built, CnncalcError):
        raise layer.built
    if layer.built is None:  # pragma: no cover - every LayerObj is constructed through `constructed`
        raise SpecError(f"line {layer.line}: {layer.cls} was not read")
    return layer.built


def _why(value: Any) -> str:
    return f" ({value.why}, line {value.line})" if isinstance(value, Unknown) else ""


def _static(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_static(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _known_kind(name: str) -> bool:
    try:
        resolve_kind(name)
    except SpecError:
        return False
    return True


def _choose(found: list[Found], skipped: list[str], source: str, wanted: str | None) -> Found:
    # An nn.Module class that the file instantiates is that instance (with its arguments); an
    # nn.Sequential that is part of another is not a model of its own.
    made = {id(f.model.definition) for f in found if isinstance(f.model, TorchModule) and f.model.call}
    parts = {id(child) for f in found for child in _children(f.model)}
    unique = [
        f
        for f in found
        if not (isinstance(f.model, TorchModule) and f.model.call is None and id(f.model.definition) in made)
        and id(f.model) not in parts
    ]
    seen: set[str] = set()
    models = []
    for f in reversed(unique):  # a name assigned twice: the last model it holds
        if f.name not in seen:
            seen.add(f.name)
            models.append(f)
    models.reverse()
    listing = ", ".join(f"{f.name} (line {f.line})" for f in models)
    if wanted is not None:
        for f in models:
            keras_name = getattr(f.model, "name", None)
            if wanted in (f.name, keras_name):
                return f
        raise SpecError(f"no model {wanted!r} in the file (models: {listing or 'none'})")
    if len(models) == 1:
        return models[0]
    if not models:
        extra = f"; {skipped[0]}" if skipped else ""
        raise SpecError("found no model (Keras Sequential or Model, or network3 Network) in the code" + extra)
    raise SpecError(f"the file defines {len(models)} models: {listing}; pick one with ", Option("model_name"))


def _children(model: object) -> list[object]:
    """Every nn.Sequential nested in ``model`` (at any depth)."""
    out: list[object] = []
    stack = [model]
    while stack:
        current = stack.pop()
        if isinstance(current, TorchSequential):
            for _, child in current.children:
                if isinstance(child, TorchSequential):
                    out.append(child)
                    stack.append(child)
    return out


def _to_spec(reader: _Reader, found: Found) -> Spec:
    model = found.model
    if isinstance(model, SequentialModel):
        return _sequential_spec(reader, model)
    if isinstance(model, Network3Model):
        return _network3_spec(reader, model)
    if isinstance(model, TorchSequential):
        start, outputs, names = T.sequential_graph(reader, model, _torch_shape(reader))
        return _graph_spec(start, outputs, names, "sequential")
    if isinstance(model, TorchModule):
        start, outputs, names = T.module_spec(reader, model, _Reader, _torch_shape(reader))
        return _graph_spec(start, outputs, names, model.definition.name)
    assert isinstance(model, FunctionalModel)
    return _functional_spec(reader, model)


def _torch_shape(reader: _Reader) -> tuple[int, ...] | None:
    """The input shape from a ``torch.randn(...)`` the file feeds to the model (else its only one
    with a batch axis), without the batch size; None when there is none (it is then given)."""
    for tensor in reader.torch_fed[:1]:
        if len(tensor.sizes) < 2 or not all(isinstance(v, int) and v > 0 for v in tensor.sizes):
            raise SpecError(
                f"line {tensor.line}: the input tensor {tensor.sizes} needs a batch size and sizes"
            )
        return tuple(tensor.sizes[1:])
    if len(reader.torch_inputs) == 1:
        sizes = reader.torch_inputs[0].sizes
        if len(sizes) >= 2 and all(isinstance(v, int) and v > 0 for v in sizes):
            return tuple(sizes[1:])
    return None


def _graph_spec(start: Node, outputs: tuple[Node, ...], names: dict[int, str], name: str) -> Spec:
    """A PyTorch model's tensors as a spec: rows named by their modules (``conv1``, ``features.0``);
    a straight chain is a plain stack."""
    needed: dict[int, Node] = {}
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if node.ident not in needed:
            needed[node.ident] = node
            stack.extend(node.sources)
    ordered = [needed[i] for i in sorted(needed) if needed[i].layer is not None]
    specs = []
    for node in ordered:
        assert node.layer is not None
        spec, _ = _built(node.layer)
        specs.append(replace(spec, name=names.get(node.ident)))
    from .spec import layer_names

    row_names = layer_names(tuple(specs))
    tensor_name = {start.ident: "input", **{n.ident: r for n, r in zip(ordered, row_names, strict=True)}}
    chain = all(
        len(node.sources) == 1 and node.sources[0].ident == (ordered[i - 1].ident if i else start.ident)
        for i, node in enumerate(ordered)
    )
    layers = tuple(
        replace(s, name=r, inputs=None if chain else tuple(tensor_name[src.ident] for src in node.sources))
        for s, r, node in zip(specs, row_names, ordered, strict=True)
    )
    return T.torch_spec(layers, start.input_shape, name)


def _plain_layers(reader: _Reader, layers: list[LayerObj]) -> tuple[list[LayerSpec], tuple[int, ...] | None]:
    specs: list[LayerSpec] = []
    input_shape = None
    for index, layer in enumerate(layers):
        spec, declared = _built(layer)
        if declared is not None:
            if index != 0:
                raise SpecError(f"{spec.text}: an input shape is only meaningful on the first layer")
            input_shape = declared
        specs.append(spec)
    return specs, input_shape


def _sequential_spec(reader: _Reader, model: SequentialModel) -> Spec:
    layers, declared = _plain_layers(reader, model.layers)
    # The title is Keras's: the model's name=, else its default name (the variable is for picking).
    return Spec(
        layers=tuple(layers), input_shape=model.built_shape or declared, name=model.name or "sequential"
    )


def _network3_spec(reader: _Reader, model: Network3Model) -> Spec:
    layers, _ = _plain_layers(reader, model.layers)
    first = layers[0].layer if layers else None
    image_shape = getattr(first, "image_shape", None)
    n_in = getattr(first, "n_in", None)
    shape = tuple(image_shape[1:]) if image_shape else ((n_in,) if n_in else None)
    return Spec(
        layers=tuple(layers), input_shape=shape, data_format=DataFormat.CHANNELS_FIRST, name="network"
    )


def _functional_spec(reader: _Reader, model: FunctionalModel) -> Spec:
    for node in model.inputs:
        if not node.is_input:
            raise NotFollowed(f"line {model.line}: the model's inputs must be Input() tensors")
        if node.input_shape is None and len(model.inputs) > 1:
            raise SpecError(
                f"line {node.line}: an input with a free size (None) in a model with several inputs"
            )
    needed: dict[int, Node] = {}
    stack = list(model.outputs)
    while stack:
        node = stack.pop()
        if node.ident in needed:
            continue
        needed[node.ident] = node
        if node.layer is None and node not in model.inputs:
            raise NotFollowed(f"line {node.line}: an Input() that is not among the model's inputs")
        stack.extend(node.sources)
    ordered = [needed[i] for i in sorted(needed) if needed[i].layer is not None]
    specs = [_built(node.layer)[0] for node in ordered if node.layer is not None]
    from .spec import layer_names

    names = layer_names(tuple(specs))
    # One unnamed Input is the model's plain input (called "input", as in every cnncalc spec).
    plain = len(model.inputs) == 1 and model.inputs[0].input_name is None
    input_names = ["input"] if plain else []
    for i, node in enumerate(model.inputs if not plain else ()):
        input_names.append(node.input_name or ("input_layer" if i == 0 else f"input_layer_{i}"))
    tensor_name = {node.ident: n for node, n in zip(model.inputs, input_names, strict=True)}
    tensor_name.update({node.ident: n for node, n in zip(ordered, names, strict=True)})
    chain = len(model.inputs) == 1 and all(
        len(node.sources) == 1
        and node.sources[0].ident == (ordered[i - 1].ident if i else model.inputs[0].ident)
        for i, node in enumerate(ordered)
    )
    if chain:
        shape = model.inputs[0].input_shape
        return Spec(layers=tuple(specs), input_shape=shape, name=model.name or "functional")
    layers = tuple(
        LayerSpec(
            s.layer,
            s.text,
            n,
            compact=False,
            line=s.line,
            inputs=tuple(tensor_name[src.ident] for src in node.sources),
        )
        for s, n, node in zip(specs, names, ordered, strict=True)
    )
    if plain:
        return Spec(layers=layers, input_shape=model.inputs[0].input_shape, name=model.name or "functional")
    inputs = tuple((n, node.input_shape or ()) for n, node in zip(input_names, model.inputs, strict=True))
    return Spec(layers=layers, inputs=inputs, name=model.name or "functional")
