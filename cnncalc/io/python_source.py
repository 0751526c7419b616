"""Model code (``.py``) read by interpreting it over symbolic values: the file is never imported,
compiled or executed by Python.

The module's statements run in :mod:`cnncalc.io.interp` (a safe subset of Python with a step
budget); framework names mean what :mod:`cnncalc.io.frameworks` says (layers, models, tensors).
This module chooses the model (the one asked for, else the outermost) and turns it into a
:class:`Spec`: a Keras ``Sequential``/functional model as written, a PyTorch module by tracing its
``forward()`` on a symbolic tensor, a subclassed Keras model by tracing ``call()``.

What is read, and what is not: docs/model-code.md.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Any

from ..enums import DataFormat
from ..errors import CnncalcError, Option, SpecError
from . import torch_source as T
from .code_values import (
    Found,
    FunctionalModel,
    LayerObj,
    Network3Model,
    Node,
    NotFollowed,
    SequentialModel,
    TorchSequential,
    Unknown,
)
from .frameworks import Hooks, ModuleDict, ModuleList, Trace, children_of, is_model, model_framework
from .interp import Function, Instance, Interpreter, OutOfBudget, UserClass
from .spec import LayerSpec, Spec


def read_python(
    text: str,
    source: str = "<string>",
    model_name: str | None = None,
    input_shape: tuple[int, ...] | None = None,
) -> Spec:
    """The model in Python source ``text`` -> :class:`Spec`, without importing or running it.

    ``model_name`` picks one when the file defines several (the variable it is assigned to, its
    ``name=``, or the function that builds it); ``input_shape`` (no batch axis, in the model's
    own layout) replaces the input shape the code gives, before any size is computed.
    """
    if len(text) > MAX_PYTHON_CHARS:
        raise SpecError(
            f"{source}: model code of {len(text):,} characters is more than the limit {MAX_PYTHON_CHARS:,} "
            "(Python's parser needs about 300 bytes of memory per character)"
        )
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark: Python reads past it too
    try:
        tree, notes = _parse(text, source)
        run = _Run(input_shape, source)
        run.execute(tree)
        chosen = run.choose(model_name)
        spec = run.to_spec(chosen)
    except RecursionError:
        raise SpecError(f"{source}: code nested too deeply to read") from None
    except CnncalcError as err:
        if isinstance(err, NotFollowed) and err.hint is None:
            framework = "torch" if re.search(r"^\s*(import|from)\s+torch", text, re.MULTILINE) else "Keras"
            err = err.with_hint(
                (Option("trace"), f" builds it with your installed {framework} (runs the file's code)")
            )
        raise err.prefixed(f"{source}: ") from None
    return replace(spec, notes=(*notes, *run.hooks.notes, *spec.notes))


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


class _Run:
    """One read of a file: the interpreter, what it found, and the choice of a model."""

    def __init__(self, input_shape: tuple[int, ...] | None, source: str) -> None:
        self.hooks = Hooks(input_shape)
        self.hooks.inner_spec = _inner_spec
        self.interp = Interpreter(self.hooks, source)
        self.errors: list[CnncalcError] = []
        self.candidates: list[Found] = []
        self.class_made: set[int] = set()

    def execute(self, tree: ast.Module) -> None:
        self.interp.run_module(tree, self.failed)
        self.class_made = set(self.hooks.made_classes)
        self.call_builders(tree)

    def failed(self, stmt: ast.stmt, err: CnncalcError) -> None:
        """A top-level statement that could not be read: what it sets becomes unknown and the
        models it touched carry the error (reported only if one of them is asked for)."""
        self.errors.append(err)
        why = err.render()
        touched = self.interp.touched
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name):
                value = self.interp.globals.get(sub.id)
                if isinstance(sub.ctx, ast.Store) or id(value) in touched:
                    self.interp.globals[sub.id] = Unknown(stmt.lineno, why)
        for obj in touched.values():
            self.interp.taint(obj, why)
        for found in self.hooks.found[self.hooks.found_mark :]:
            self.interp.taint(found.model, why)

    def call_builders(self, tree: ast.Module) -> None:
        """Functions of the file that are never called are run with their defaults when they have
        them all (``def build_model(input_shape=(64, 64, 3)): ...``, ``def ResNet18(): ...``, a
        ``def test():`` that feeds a tensor): a model they return is named after the function."""
        for stmt in tree.body:
            if not isinstance(stmt, ast.FunctionDef):
                continue
            func = self.interp.globals.get(stmt.name)
            if not isinstance(func, Function) or id(func) in self.interp.called:
                continue
            args = stmt.args
            if len(args.defaults) < len(args.posonlyargs) + len(args.args) or any(
                d is None for d in args.kw_defaults
            ):
                continue
            before = len(self.hooks.found)
            self.interp.start_slice()
            try:
                value = self.interp.call_function(func, [], {}, stmt)
            except OutOfBudget:
                raise
            except CnncalcError as err:
                self.errors.append(err)
                for found in self.hooks.found[before:]:
                    self.interp.taint(found.model, err.render())
                continue
            if is_model(value):
                self.hooks.aliases[id(value)] = stmt.name
                if id(value) not in self.hooks.names:
                    self.hooks.names[id(value)] = [stmt.name]
                    self.hooks.found.append(Found(stmt.name, stmt.lineno, value))

    # choosing ------------------------------------------------------------------------------------

    def models(self) -> list[Found]:
        found = list(self.hooks.found)
        for cls in self.hooks.classes:
            if model_framework(cls) is not None and id(cls) not in self.class_made:
                found.append(Found(cls.name, cls.line, cls))  # type: ignore[arg-type]
        # what another model holds is a part of it, not a model of its own
        parts: set[int] = set()
        for f in found:
            model = f.model
            if isinstance(model, UserClass):
                model = self.instantiate_quietly(model)
                if model is None:
                    continue
            for part in _components(model):
                if part is not model:
                    parts.add(id(part))
                    if isinstance(part, Instance):
                        parts.add(id(part.cls))
        return [f for f in found if id(f.model) not in parts and id(f.model) not in self.hooks.parts]

    def instantiate_quietly(self, cls: UserClass) -> Any:
        cached = getattr(cls, "_instance", None)
        if cached is not None:
            return cached
        try:
            init = cls.lookup("__init__")
        except KeyError:
            init = None
        if isinstance(init, Function) and not isinstance(init.node, ast.Lambda):
            args = init.node.args
            if len(args.defaults) < len(args.posonlyargs) + len(args.args) - 1:
                return None
        self.interp.start_slice()
        try:
            value = self.hooks.instantiate(self.interp, cls, [], {}, ast.Pass(lineno=cls.line))
        except OutOfBudget:
            raise
        except CnncalcError:
            return None
        cls._instance = value  # type: ignore[attr-defined]
        return value

    def choose(self, wanted: str | None) -> Found:
        models = self.models()
        seen: set[str] = set()
        unique = []
        for f in reversed(models):  # a name assigned twice: the last model it holds
            if f.name not in seen:
                seen.add(f.name)
                unique.append(f)
        unique.reverse()
        listing = ", ".join(f"{f.name} (line {f.line})" for f in unique)
        if wanted is not None:
            everything = [*unique, *self.hooks.found]
            for f in everything:
                names = {f.name, *self.hooks.names.get(id(f.model), ()), self.hooks.aliases.get(id(f.model))}
                if wanted in names or wanted == getattr(f.model, "name", None):
                    return f
            named = self.interp.globals.get(wanted)
            if isinstance(named, UserClass) and model_framework(named) is not None:
                return Found(wanted, named.line, named)  # type: ignore[arg-type]
            if isinstance(named, Function):
                self.interp.start_slice()
                value = self.interp.call_function(named, [], {}, ast.Pass(lineno=named.node.lineno))
                if is_model(value):
                    return Found(wanted, named.node.lineno, value)
            raise SpecError(f"no model {wanted!r} in the file (models: {listing or 'none'})")
        if len(unique) == 1:
            return unique[0]
        if not unique:
            if self.errors:
                raise self.errors[0]
            wrappers = [c for c in self.hooks.classes if _is_keras_wrapper(c)]
            if wrappers:
                raise NotFollowed(
                    f"line {wrappers[0].line}: class {wrappers[0].name} is a keras.Model without call() "
                    "(it trains other models): no model to read"
                )
            raise SpecError(
                "found no model (Keras Sequential or Model, PyTorch nn.Module, or network3 Network) in the code"
            )
        used = [f for f in unique if id(f.model) in self.hooks.used]
        if len(used) == 1:
            return used[0]
        raise SpecError(
            f"the file defines {len(unique)} models: {listing}; pick one with ", Option("model_name")
        )

    # the chosen model as a spec --------------------------------------------------------------------

    def to_spec(self, found: Found) -> Spec:
        model: Any = found.model
        if isinstance(model, UserClass):
            model = self.instantiate_class(model)
        for part in _components(model):
            why = self.interp.taint_of(part)
            if why is not None:
                raise NotFollowed(why)
        if isinstance(model, SequentialModel):
            return _sequential_spec(model, self.hooks.input_shape)
        if isinstance(model, Network3Model):
            return _network3_spec(model)
        if isinstance(model, FunctionalModel):
            return _functional_spec(model)
        if isinstance(model, Instance) and model_framework(model.cls) == "keras":
            return self.trace_keras(model)
        title = model.cls.name if isinstance(model, Instance) else "sequential"
        return self.trace_torch(model, title, found.line)

    def instantiate_class(self, cls: UserClass) -> Any:
        try:
            init = cls.lookup("__init__")
        except KeyError:
            init = None
        if isinstance(init, Function) and not isinstance(init.node, ast.Lambda):
            args = init.node.args
            params = [*args.posonlyargs, *args.args][1:]
            missing = params[: len(params) - len(args.defaults)]
            missing += [p for p, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
            if missing:
                raise NotFollowed(
                    f"class {cls.name} needs {missing[0].arg}: create the model in the file with its arguments"
                )
        self.interp.start_slice()
        return self.hooks.instantiate(self.interp, cls, [], {}, ast.Pass(lineno=cls.line))

    def torch_shape(self, model: Any) -> tuple[int, ...] | None:
        if self.hooks.input_shape is not None:
            return self.hooks.input_shape
        for tensor in self.hooks.fed.get(id(model), [])[:1]:
            if len(tensor.sizes) < 2 or not all(isinstance(v, int) and v > 0 for v in tensor.sizes):
                raise SpecError(
                    f"line {tensor.line}: the input tensor {tensor.sizes} needs a batch size and sizes"
                )
            return tuple(tensor.sizes[1:])
        fed = {id(t) for tensors in self.hooks.fed.values() for t in tensors}
        candidates = [t for t in self.hooks.torch_inputs if len(t.sizes) >= 2 and id(t) not in fed]
        if len(self.hooks.torch_inputs) == 1 and candidates:
            sizes = candidates[0].sizes
            if all(isinstance(v, int) and v > 0 for v in sizes):
                return tuple(sizes[1:])
        return None

    def trace_torch(self, model: Any, title: str, line: int) -> Spec:
        hooks, interp = self.hooks, self.interp
        trace = Trace()
        _name_modules(trace, model, "", 0)
        shape = self.torch_shape(model)
        hooks.nodes += 1
        start = Node(hooks.nodes, line, is_input=True, input_shape=shape, torch=True)
        where = ast.Call(func=ast.Name(title), args=[ast.Name("x")], keywords=[], lineno=line)
        hooks.trace = trace
        interp.strict += 1
        interp.start_slice()
        try:
            out = hooks.call_module(interp, model, [start], {}, where)
        finally:
            interp.strict -= 1
            hooks.trace = None
        outputs = _outputs(out, line, "forward()")
        spec = _graph_spec(start, outputs, trace.names, title, tuple(trace.training))
        unused = [
            (path, layer)
            for layer_id, path in trace.paths.items()
            if layer_id not in trace.uses
            for layer in [trace.layers[layer_id]]
        ]
        if unused:
            counts = [_own_params(layer) for _, layer in unused]
            known = sum(c for c in counts if c is not None)
            shown = ", ".join(path for path, _ in unused[:5]) + (", ..." if len(unused) > 5 else "")
            amount = f"{known:,} params" if all(c is not None for c in counts) else "params"
            spec = replace(
                spec,
                notes=(
                    *spec.notes,
                    f"forward() never calls {len(unused)} registered module(s) ({shown}): PyTorch's "
                    f"model.parameters() also counts their {amount}, the table does not",
                ),
            )
        return spec

    def trace_keras(self, model: Instance) -> Spec:
        hooks, interp = self.hooks, self.interp
        shape = hooks.input_shape or model.attrs.get("__built_shape__")
        hooks.nodes += 1
        start = Node(hooks.nodes, model.line, is_input=True, input_shape=shape)
        where = ast.Call(func=ast.Name(model.cls.name), args=[ast.Name("x")], keywords=[], lineno=model.line)
        interp.start_slice()
        out = hooks.call_instance(interp, model, [start], {}, where)
        outputs = _outputs(out, model.line, "call()")
        return _functional_spec(FunctionalModel(model.line, (start,), outputs, None), model.cls.name.lower())


def _own_params(layer: LayerObj) -> int | None:
    """The params of a module that forward() never calls, from its own arguments (a conv's
    in_channels, a Linear's in_features, a BatchNorm's num_features) on a stand-in input."""
    from ..enums import Convention
    from ..layers.base import Context

    try:
        built = layer.spec()[0].layer
    except CnncalcError:
        return None
    channels = next(
        (v for v in (getattr(built, a, None) for a in ("in_channels", "in_features", "num_features")) if v),
        None,
    )
    if not isinstance(channels, int):
        return None
    rank = 2 if layer.cls[-2:] not in ("1d", "3d") else int(layer.cls[-2])
    shape = (channels,) if "Linear" in layer.cls else (channels, *([16] * rank))
    try:
        out = built.compute(shape, Context(Convention.PYTORCH, DataFormat.CHANNELS_FIRST))
    except CnncalcError:
        return None
    return out.trainable + out.non_trainable


def _inner_spec(model: Any) -> Spec:
    """A Keras model used as a layer of another, as a spec of its own."""
    if isinstance(model, SequentialModel):
        return _sequential_spec(model, None)
    return _functional_spec(model)


def _is_keras_wrapper(cls: UserClass) -> bool:
    base = cls.framework() or ""
    return "keras" in base and base.endswith("Model") and model_framework(cls) is None


def _outputs(out: Any, line: int, what: str) -> tuple[Node, ...]:
    if isinstance(out, dict):
        out = tuple(out.values())
    items = out if isinstance(out, (tuple, list)) else (out,)
    if not items or not all(isinstance(v, Node) for v in items):
        why = f" ({out.why}, line {out.line})" if isinstance(out, Unknown) else ""
        raise NotFollowed(f"line {line}: {what} returns no tensor the reader follows{why}")
    return tuple(items)


def _name_modules(trace: Trace, value: Any, path: str, depth: int) -> None:
    """Every layer under the model named by its attribute path (``features.0``), as PyTorch does."""
    if depth > 64:
        return
    if isinstance(value, LayerObj):
        trace.paths.setdefault(id(value), path)
        trace.layers[id(value)] = value
        return
    for name, child in children_of(value):
        _name_modules(trace, child, f"{path}.{name}" if path else name, depth + 1)


def _components(model: Any) -> list[Any]:
    """Every object a model holds (submodules, layers, lists of them), the model included."""
    out: list[Any] = []
    seen: set[int] = set()
    stack = [model]
    while stack and len(out) < 100_000:
        value = stack.pop()
        if id(value) in seen or value is None or isinstance(value, (int, float, str, bool)):
            continue
        seen.add(id(value))
        out.append(value)
        if isinstance(value, Instance):
            stack.extend(value.attrs.values())
        elif isinstance(value, TorchSequential):
            stack.extend(c for _, c in value.children)
        elif isinstance(value, ModuleList):
            stack.extend(value.items)
        elif isinstance(value, ModuleDict):
            stack.extend(value.items.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, SequentialModel):
            stack.extend(value.layers)
        elif isinstance(value, Network3Model):
            stack.extend(value.layers)
        elif isinstance(value, FunctionalModel):
            stack.extend(value.outputs)
        elif isinstance(value, Node):
            stack.extend(value.sources)
            if value.layer is not None:
                stack.append(value.layer)
    return out


def _built(layer: LayerObj) -> tuple[LayerSpec, tuple[int, ...] | None]:
    return layer.spec()


def _why(value: Any) -> str:
    return f" ({value.why}, line {value.line})" if isinstance(value, Unknown) else ""


def _graph_spec(
    start: Node, outputs: tuple[Node, ...], names: dict[int, str], name: str, training: tuple[Node, ...] = ()
) -> Spec:
    """A PyTorch model's tensors as a spec: rows named by their modules (``conv1``, ``features.0``);
    a straight chain is a plain stack. The tensors only train mode makes (``training``, from
    ``if self.training:`` bodies) that eval mode's outputs do not need are rows marked
    ``training_only``."""
    needed: dict[int, Node] = {}
    for roots, into in ((outputs, needed), (training, {})):
        stack = list(roots)
        while stack:
            node = stack.pop()
            if node.ident not in needed and node.ident not in into:
                into[node.ident] = node
                stack.extend(node.sources)
        if into is not needed:
            extra = into
    train_only = set(extra)
    needed.update(extra)
    ordered = [needed[i] for i in sorted(needed) if needed[i].layer is not None]
    specs = []
    for node in ordered:
        assert node.layer is not None
        spec, _ = _built(node.layer)
        specs.append(replace(spec, name=names.get(node.ident), training_only=node.ident in train_only))
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


def _plain_layers(layers: list[LayerObj]) -> tuple[list[LayerSpec], tuple[int, ...] | None]:
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


def _sequential_spec(model: SequentialModel, override: tuple[int, ...] | None) -> Spec:
    layers, declared = _plain_layers(model.layers)
    # The title is Keras's: the model's name=, else its default name (the variable is for picking).
    return Spec(
        layers=tuple(layers),
        input_shape=override or model.built_shape or declared,
        name=model.name or "sequential",
    )


def _network3_spec(model: Network3Model) -> Spec:
    layers, _ = _plain_layers(model.layers)
    first = layers[0].layer if layers else None
    image_shape = getattr(first, "image_shape", None)
    n_in = getattr(first, "n_in", None)
    shape = tuple(image_shape[1:]) if image_shape else ((n_in,) if n_in else None)
    return Spec(
        layers=tuple(layers), input_shape=shape, data_format=DataFormat.CHANNELS_FIRST, name="network"
    )


def _functional_spec(model: FunctionalModel, title: str = "functional") -> Spec:
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
        return Spec(layers=tuple(specs), input_shape=shape, name=model.name or title)
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
        return Spec(layers=layers, input_shape=model.inputs[0].input_shape, name=model.name or title)
    inputs = tuple((n, node.input_shape or ()) for n, node in zip(input_names, model.inputs, strict=True))
    return Spec(layers=layers, inputs=inputs, name=model.name or title)
