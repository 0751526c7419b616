"""PyTorch model code read with :mod:`ast` (never imported or run): ``nn.Sequential`` (nested, or
with an ``OrderedDict``) and ``nn.Module`` classes whose ``__init__`` assigns layers and whose
``forward`` is a chain of calls on them and on ``F.relu``, ``F.max_pool2d``, ``torch.flatten``,
``x.view(-1, N)``/``x.view(x.size(0), -1)``, ``torch.cat``, ``x + y`` (residuals).

Layers take PyTorch's argument names and order through the PyTorch names table
(:mod:`cnncalc.layers.torch_names`), so ``nn.Linear(16 * 5 * 5, 120)`` is checked against the real
incoming shape. What ``forward`` does that cannot be known without running it (loops, conditionals,
functions of the file, tensor sizes other than the batch) is refused with its line.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from ..enums import Category, Convention, DataFormat
from ..errors import SpecError
from ..layers import kind_of
from ..layers.faces import torch_activation_functions
from .code_values import LayerObj, Node, NotFollowed, TorchModule, TorchSequential, Unknown
from .pyexpr import NotStatic, dotted, evaluate, source_of
from .spec import LayerSpec, Spec

#: Tensor factories whose sizes give the input shape (``torch.randn(1, 3, 32, 32)``).
INPUT_FACTORIES = frozenset({"randn", "rand", "zeros", "ones", "empty"})
#: ``F.x``/``torch.x``/``x.method()`` activations and the cnncalc activation they are (the kinds'
#: PyTorch faces' table, :mod:`cnncalc.layers.faces`).
_ACTIVATIONS = torch_activation_functions()
#: ``F.max_pool2d(x, ...)`` and friends: the module class whose arguments they take.
_POOL_FUNCTIONS = {
    f"{kind}{r}d": f"{cls}{r}d"
    for r in (1, 2, 3)
    for kind, cls in (
        ("max_pool", "MaxPool"),
        ("avg_pool", "AvgPool"),
        ("adaptive_avg_pool", "AdaptiveAvgPool"),
        ("adaptive_max_pool", "AdaptiveMaxPool"),
    )
}
#: Tensor methods that change nothing cnncalc reports.
_SAME = frozenset({"contiguous", "clone", "float", "detach", "cpu", "cuda", "to"})
#: Kinds with weights: applying one module twice would share them, which a table cannot show.
_WEIGHTED = (Category.CONV, Category.DENSE, Category.NORM)


class BatchSize:
    """``x.size(0)`` / ``x.shape[0]``: the batch size, which a reshape keeps."""


BATCH = BatchSize()


class ShapeOf:
    """``x.shape`` / ``x.size()``: only its first entry (the batch size) is followed."""


class CodeReader(Protocol):
    """What the forward reader needs of the statement reader (:mod:`cnncalc.io.python_source`)."""

    constants: dict[str, Any]
    values: dict[str, Any]
    imports: dict[str, str]
    attributes: dict[str, Any] | None
    self_name: str | None

    def block(self, body: list[ast.stmt]) -> None: ...

    def static(self, node: ast.expr, what: str, line: bool = True) -> Any: ...

    def constructed(self, layer: LayerObj) -> LayerObj: ...

    def new_input(self, line: int, shape: tuple[int, ...] | None) -> Node: ...

    def qualified(self, name: str) -> str: ...


def is_torch_name(full: str) -> bool:
    """A qualified name from PyTorch (``torch.nn.Conv2d``, ``nn.Conv2d`` without its import)."""
    return full.startswith(("torch.", "nn.")) or full == "torch"


def classify(full: str) -> str | None:
    """What a PyTorch name builds: 'torch_sequential', 'torch_input', 'torch_list', 'torch_layer:X'."""
    last = full.rpartition(".")[2]
    if last == "Sequential":
        return "torch_sequential"
    if last in INPUT_FACTORIES and full.startswith("torch."):
        return "torch_input"
    if last in ("ModuleList", "ModuleDict"):
        return "torch_list"
    if known_layer(last):
        return f"torch_layer:{last}"
    return None


def known_layer(name: str) -> bool:
    """A PyTorch module class cnncalc reads: one a kind's PyTorch face names
    (:mod:`cnncalc.layers.faces`), or a kind spelled with its PyTorch signature."""
    from ..layers.faces import torch_modules
    from ..layers.torch_names import torch_signature

    return name in torch_modules() or torch_signature(name) is not None


#: PyTorch classes that are another cnncalc kind by name.
RENAMED = {"Dropout1d": "SpatialDropout1D", "Dropout2d": "SpatialDropout2D", "Dropout3d": "SpatialDropout3D"}


#: PyTorch activation modules whose ``inplace=True`` cnncalc keeps (the memory model shares the
#: input's storage; ``cnncalc memory``).
INPLACE_CLASSES = frozenset({"ReLU", "ReLU6", "SiLU", "ELU", "SELU", "Mish", "Hardswish", "Hardsigmoid"})


def torch_keywords(cls: str, keywords: dict[str, Any]) -> dict[str, Any]:
    """PyTorch keywords that have no cnncalc meaning dropped or renamed (``inplace`` where no
    kind keeps it, ``inplace=False``; ``dim``)."""
    if cls not in INPLACE_CLASSES or keywords.get("inplace") is not True:
        keywords.pop("inplace", None)
    if cls == "Softmax" and "dim" in keywords:
        keywords["axis"] = keywords.pop("dim")
    return keywords


#: PyTorch module classes whose cnncalc kind takes other arguments: the kind and the arguments.
_TRANSLATED = ("Hardswish", "Hardsigmoid", "ReLU6", "Upsample", "LayerNorm")


def torch_module(
    cls: str, positional: list[Any], keywords: dict[str, Any]
) -> tuple[str, list[Any], dict[str, Any]]:
    """:func:`_torch_module`, with an ``inplace=True`` kept on the kind it becomes."""
    inplace = keywords.pop("inplace", None)
    kind, positional, keywords = _torch_module(cls, positional, keywords)
    return kind, positional, ({**keywords, "inplace": True} if inplace is True else keywords)


def _torch_module(
    cls: str, positional: list[Any], keywords: dict[str, Any]
) -> tuple[str, list[Any], dict[str, Any]]:
    """A PyTorch module spelled as the cnncalc kind it is: ``nn.ReLU6()`` is ReLU(max_value=6)
    (as torchvision's zoo rows are), ``nn.Hardswish()`` activation hard_swish, ``nn.ZeroPad2d((l, r,
    t, b))`` ZeroPadding2D (PyTorch lists the last axis first), ``nn.Upsample(scale_factor=2)``
    UpSampling2D, ``nn.LayerNorm(C, eps=...)`` a LayerNormalization over the last axis."""
    if cls in ("Hardswish", "Hardsigmoid") and not positional and not keywords:
        return "Activation", ["hard_swish" if cls == "Hardswish" else "hard_sigmoid"], {}
    if cls == "ReLU6" and not positional and not keywords:
        return "ReLU", [], {"max_value": 6.0}
    if cls.startswith("ZeroPad") and cls[-2:] in ("1d", "2d", "3d"):
        rank = int(cls[-2])
        values = [*positional, *([keywords.pop("padding")] if "padding" in keywords else [])]
        if len(values) != 1 or keywords:
            raise SpecError(f"{cls} takes one argument, padding")
        padding = values[0]
        if isinstance(padding, int) and not isinstance(padding, bool):
            return f"ZeroPadding{rank}D", [padding], {}
        if not isinstance(padding, (list, tuple)) or len(padding) != 2 * rank:
            raise SpecError(f"{cls} padding is one number or {2 * rank} numbers (last axis first)")
        pairs = [list(padding[i : i + 2]) for i in range(0, 2 * rank, 2)]
        return f"ZeroPadding{rank}D", [pairs[::-1]], {}
    if cls == "Upsample":
        allowed = {"scale_factor", "mode"}
        if positional or set(keywords) - allowed or "scale_factor" not in keywords:
            raise SpecError("nn.Upsample is read with scale_factor= (and mode=) only")
        mode = keywords.get("mode", "nearest")
        return "UpSampling2D", [keywords["scale_factor"]], {"interpolation": mode}
    if cls == "LayerNorm":
        given = dict(zip(("normalized_shape", "eps", "elementwise_affine", "bias"), positional, strict=False))
        given.update(keywords)
        shape = given.pop("normalized_shape", None)
        dims = len(shape) if isinstance(shape, (list, tuple)) else 1
        out: dict[str, Any] = {"axis": list(range(-dims, 0)) if dims > 1 else -1}
        if "eps" in given:
            out["epsilon"] = given.pop("eps")
        affine = given.pop("elementwise_affine", True)
        out["center"] = bool(affine) and bool(given.pop("bias", True))
        out["scale"] = bool(affine)
        if given:
            raise SpecError(f"nn.LayerNorm: {', '.join(given)} not read")
        return "LayerNormalization", [], out
    return cls, positional, keywords


def sequential(reader: CodeReader, call: ast.Call, value: Callable[[ast.expr], Any]) -> TorchSequential:
    """``nn.Sequential(a, b, ...)`` or ``nn.Sequential(OrderedDict([("name", module), ...]))``."""
    model = TorchSequential(call.lineno, [])
    items: list[tuple[str, ast.expr]] = []
    if call.keywords:
        raise NotFollowed(f"line {call.lineno}: nn.Sequential takes its modules as arguments")
    first = call.args[0] if len(call.args) == 1 else None
    if isinstance(first, ast.Call) and (dotted(first.func) or "").endswith("OrderedDict") and first.args:
        pairs = first.args[0]
        if not isinstance(pairs, (ast.List, ast.Tuple)):
            raise NotFollowed(f"line {call.lineno}: an OrderedDict of modules must be written out")
        for pair in pairs.elts:
            if not isinstance(pair, ast.Tuple) or len(pair.elts) != 2:
                raise NotFollowed(f"line {pair.lineno}: expected (name, module) pairs")
            name = reader.static(pair.elts[0], "module name")
            items.append((str(name), pair.elts[1]))
    else:
        for i, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                raise NotFollowed(
                    f"line {call.lineno}: nn.Sequential(*{source_of(arg.value)}) needs its list built by "
                    "running the code: write the modules out"
                )
            items.append((str(i), arg))
    for name, node in items:
        item = value(node)
        if not isinstance(item, (LayerObj, TorchSequential)):
            why = f" ({item.why}, line {item.line})" if isinstance(item, Unknown) else ""
            raise NotFollowed(
                f"line {node.lineno}: {source_of(node)} is not a module the reader follows{why}"
            )
        model.children.append((name, item))
    return model


def module_attributes(
    reader: CodeReader, model: TorchModule, factory: Callable[[], CodeReader]
) -> tuple[CodeReader, ast.FunctionDef]:
    """Read ``__init__`` (its parameters bound to the call's arguments or their defaults): the
    reader whose ``attributes`` hold ``self.X``; and the ``forward`` method."""
    definition = model.definition
    methods = {f.name: f for f in definition.body if isinstance(f, ast.FunctionDef)}
    forward = methods.get("forward")
    if forward is None:
        raise NotFollowed(f"line {definition.lineno}: class {definition.name} has no forward()")
    sub = factory()
    sub.imports = dict(reader.imports)
    sub.constants = dict(model.constants)
    sub.attributes = {}
    init = methods.get("__init__")
    if init is not None:
        params = [*init.args.posonlyargs, *init.args.args]
        sub.self_name = params[0].arg if params else "self"
        _bind_parameters(sub, init, params[1:], model.call, definition.name)
        sub.block(init.body)
    return sub, forward


def _bind_parameters(
    sub: CodeReader, init: ast.FunctionDef, params: list[ast.arg], call: ast.Call | None, cls: str
) -> None:
    given: dict[str, ast.expr] = {}
    if call is not None:
        for param, arg in zip(params, call.args, strict=False):
            given[param.arg] = arg
        for keyword in call.keywords:
            if keyword.arg is not None:
                given[keyword.arg] = keyword.value
    defaults = dict(
        zip([p.arg for p in params][len(params) - len(init.args.defaults) :], init.args.defaults, strict=True)
    )
    defaults.update(
        {p.arg: d for p, d in zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True) if d is not None}
    )
    for param in [*params, *init.args.kwonlyargs]:
        node = given.get(param.arg, defaults.get(param.arg))
        if node is None:
            where = f"line {call.lineno}: {cls}(...)" if call is not None else f"class {cls}"
            raise NotFollowed(f"{where} needs {param.arg}: create the model in the file with its arguments")
        sub.constants[param.arg] = sub.static(node, param.arg)


class Forward:
    """``forward(self, x)`` read as a chain of layer applications on tensors."""

    def __init__(self, reader: CodeReader) -> None:
        self.reader = reader
        self.env: dict[str, Any] = {}
        self.names: dict[int, str] = {}  # node ident -> row name
        self.uses: dict[int, int] = {}  # id(LayerObj) -> applications so far
        self.paths: dict[int, str] = {}  # id(LayerObj) -> its qualified attribute name
        self.outputs: tuple[Node, ...] = ()
        self.counts: dict[str, int] = {}  # functional row names given so far, by function
        for name, value in (reader.attributes or {}).items():
            self.name_modules(name, value)

    def name_modules(self, path: str, value: Any) -> None:
        """Name every layer under ``value`` by its attribute path (``features.0``), as PyTorch does."""
        if isinstance(value, LayerObj):
            self.paths.setdefault(id(value), path)
        elif isinstance(value, TorchSequential):
            for child, item in value.children:
                self.name_modules(f"{path}.{child}" if path else child, item)

    def run(self, forward: ast.FunctionDef, shape: tuple[int, ...] | None) -> Node:
        params = [*forward.args.posonlyargs, *forward.args.args]
        if len(params) < 2:
            raise NotFollowed(f"line {forward.lineno}: forward() takes no tensor")
        tensors = params[1 : len(params) - len(forward.args.defaults)]
        if len(tensors) != 1:
            raise NotFollowed(
                f"line {forward.lineno}: forward() takes {len(tensors)} tensors; only one input is followed"
            )
        start = self.reader.new_input(forward.lineno, shape)
        self.env[tensors[0].arg] = start
        for stmt in forward.body:
            if self.statement(stmt):
                break
        if not self.outputs:
            raise NotFollowed(f"line {forward.lineno}: forward() returns no tensor the reader follows")
        return start

    # statements ------------------------------------------------------------------------------

    def statement(self, stmt: ast.stmt) -> bool:
        """Read one statement; True after ``return``."""
        if isinstance(stmt, ast.Assign):
            value = self.expr(stmt.value)
            for target in stmt.targets:
                self.bind(target, value, stmt)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.bind(stmt.target, self.expr(stmt.value), stmt)
        elif isinstance(stmt, ast.AugAssign):
            if not isinstance(stmt.target, ast.Name):
                raise NotFollowed(f"line {stmt.lineno}: {source_of(stmt.target)} changed in place")
            combined = ast.BinOp(left=ast.Name(stmt.target.id), op=stmt.op, right=stmt.value)
            ast.copy_location(combined, stmt)
            self.env[stmt.target.id] = self.expr(combined)
        elif isinstance(stmt, ast.Return):
            if stmt.value is None:
                raise NotFollowed(f"line {stmt.lineno}: forward() returns nothing")
            value = self.expr(stmt.value)
            items = value if isinstance(value, tuple) else (value,)
            if not items or not all(isinstance(v, Node) for v in items):
                raise NotFollowed(
                    f"line {stmt.lineno}: {source_of(stmt.value)} is not a tensor the reader follows"
                )
            self.outputs = items
            return True
        elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            kind = {ast.If: "a conditional", ast.For: "a loop", ast.While: "a loop"}.get(
                type(stmt), "a block"
            )
            raise NotFollowed(
                f"line {stmt.lineno}: forward() has {kind}, which cannot be followed without running it: "
                "write the calls out, or give the input shape and layers as a spec"
            )
        elif isinstance(stmt, ast.Expr) or isinstance(stmt, (ast.Pass, ast.Assert)):
            return False  # print(x.shape), docstrings, asserts: nothing to the model
        else:
            raise NotFollowed(f"line {stmt.lineno}: this statement in forward() is not followed")
        return False

    def bind(self, target: ast.expr, value: Any, stmt: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        else:
            raise NotFollowed(f"line {stmt.lineno}: assigns to {source_of(target)}; use a plain name")

    # expressions -----------------------------------------------------------------------------

    def expr(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in self.reader.constants:
                return self.reader.constants[node.id]
            raise NotFollowed(f"line {node.lineno}: {node.id} is not defined where the reader can see it")
        if isinstance(node, ast.Attribute):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id == self.reader.self_name:
                attributes = self.reader.attributes or {}
                if node.attr not in attributes:
                    raise NotFollowed(f"line {node.lineno}: self.{node.attr} is not set in __init__")
                return attributes[node.attr]
            if node.attr == "shape" and isinstance(self.expr(owner), Node):
                return ShapeOf()
        if isinstance(node, ast.Subscript):
            value = self.expr(node.value)
            if isinstance(value, Node):
                return self.subscript(value, node)
            if isinstance(value, ShapeOf) and isinstance(node.slice, ast.Constant) and node.slice.value == 0:
                return BATCH
            raise NotFollowed(
                f"line {node.lineno}: {source_of(node)}: only the batch size (x.size(0)) is followed"
            )
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self.expr(e) for e in node.elts)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = self.expr(node.left), self.expr(node.right)
            if isinstance(left, Node) and isinstance(right, Node):
                return self.layer(
                    "Add" if isinstance(node.op, ast.Add) else "Multiply", [], (left, right), node
                )
            if isinstance(left, Node) or isinstance(right, Node):
                raise NotFollowed(f"line {node.lineno}: {source_of(node)} with a constant is not followed")
        try:
            return evaluate(node, self.reader.constants)
        except NotStatic as err:
            raise NotFollowed(f"line {node.lineno}: {err.reason}") from None

    def subscript(self, owner: Node, node: ast.Subscript) -> Node:
        """``x[:, a:b]``: a Slice of one axis (the one after the leading full ``:``s)."""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        refused = NotFollowed(
            f"line {node.lineno}: {source_of(node)}: only a slice of one axis (x[:, a:b]) is followed"
        )
        if not items or not all(isinstance(i, ast.Slice) for i in items):
            raise refused
        *leading, last = items
        if any(i.lower or i.upper or i.step for i in leading if isinstance(i, ast.Slice)):
            raise refused
        assert isinstance(last, ast.Slice)
        bounds = [None if b is None else self.expr(b) for b in (last.lower, last.upper, last.step)]
        if not all(b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds):
            raise refused
        start, stop, step = bounds
        keywords = {"start": start or 0, "stop": stop, "step": 1 if step is None else step}
        return self.layer("Slice", [len(leading)], (owner,), node, keywords)

    def tensor(self, node: ast.expr) -> Node:
        value = self.expr(node)
        if not isinstance(value, Node):
            raise NotFollowed(f"line {node.lineno}: {source_of(node)} is not a tensor the reader follows")
        return value

    def call(self, call: ast.Call) -> Any:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == self.reader.self_name
        ):
            module = self.expr(func)
            if isinstance(module, (LayerObj, TorchSequential)):
                if len(call.args) != 1 or call.keywords:
                    raise NotFollowed(f"line {call.lineno}: self.{func.attr}() is called on one tensor")
                return self.module(module, self.tensor(call.args[0]), call)
            raise NotFollowed(
                f"line {call.lineno}: self.{func.attr}(...) is not a module the reader follows "
                "(a method or a module class of the file): inline its layers"
            )
        name = dotted(func)
        if name is not None:
            full = self.reader.qualified(name)
            last = full.rpartition(".")[2]
            if is_torch_name(full) or full.startswith("F."):
                return self.function(last, full, call)
        if isinstance(func, ast.Attribute):
            owner = self.expr(func.value)
            if isinstance(owner, Node):
                return self.method(owner, func.attr, call)
        raise NotFollowed(
            f"line {call.lineno}: {source_of(func)}(...) is not followed (a function of the file, or an "
            "operation cnncalc does not read): inline it"
        )

    def function(self, last: str, full: str, call: ast.Call) -> Any:
        args = call.args
        if last in _ACTIVATIONS and args:
            return self.layer("Activation", [_ACTIVATIONS[last]], (self.tensor(args[0]),), call)
        if last in ("softmax",) and args:
            dim = self._keyword(call, "dim", 1, 1)
            return self.layer("Softmax", [], (self.tensor(args[0]),), call, {"axis": dim})
        if last == "leaky_relu" and args:
            slope = self._keyword(call, "negative_slope", 1, 0.01)
            return self.layer("LeakyReLU", [], (self.tensor(args[0]),), call, {"negative_slope": slope})
        if last in ("dropout", "dropout2d", "dropout1d", "dropout3d") and args:
            rate = self._keyword(call, "p", 1, 0.5)
            return self.layer("Dropout", [rate], (self.tensor(args[0]),), call)
        if last in _POOL_FUNCTIONS and args:
            synthetic = ast.Call(func=ast.Name(_POOL_FUNCTIONS[last]), args=args[1:], keywords=call.keywords)
            ast.copy_location(synthetic, call)
            layer = LayerObj(_POOL_FUNCTIONS[last], synthetic, call.lineno, torch=True, text=source_of(call))
            obj = self.reader.constructed(layer)
            return self.apply(obj, (self.tensor(args[0]),), self.label(call, last))
        if last == "flatten" and args:
            start = self._keyword(call, "start_dim", 1, 0)
            if start != 1:
                raise NotFollowed(
                    f"line {call.lineno}: flatten from dim {start}: only start_dim=1 is followed"
                )
            return self.layer("Flatten", [], (self.tensor(args[0]),), call)
        if last == "cat" and args:
            tensors = self.expr(args[0])
            if not isinstance(tensors, tuple) or not all(isinstance(t, Node) for t in tensors):
                raise NotFollowed(
                    f"line {call.lineno}: torch.cat takes a list of tensors written in the call"
                )
            dim = self._keyword(call, "dim", 1, 0)
            return self.layer("Concatenate", [], tensors, call, {"axis": dim})
        if last in ("add", "mul") and len(args) == 2:
            tensors = (self.tensor(args[0]), self.tensor(args[1]))
            return self.layer("Add" if last == "add" else "Multiply", [], tensors, call)
        raise NotFollowed(f"line {call.lineno}: {full}(...) is not an operation cnncalc reads")

    def method(self, owner: Node, name: str, call: ast.Call) -> Any:
        if name in _SAME:
            return owner
        if name == "size":
            if not call.args:
                return ShapeOf()
            index = self.expr(call.args[0])
            if index == 0:
                return BATCH
            raise NotFollowed(f"line {call.lineno}: x.size({index}): only the batch size is followed")
        if name in _ACTIVATIONS and not call.args:
            return self.layer("Activation", [_ACTIVATIONS[name]], (owner,), call)
        if name == "flatten":
            start = self._keyword(call, "start_dim", 0, 0)
            if start != 1:
                raise NotFollowed(
                    f"line {call.lineno}: flatten from dim {start}: only start_dim=1 is followed"
                )
            return self.layer("Flatten", [], (owner,), call)
        if name in ("view", "reshape"):
            sizes = tuple(self.expr(a) for a in call.args)
            if len(sizes) == 1 and isinstance(sizes[0], tuple):
                sizes = sizes[0]
            return self.reshape(owner, sizes, call)
        if name == "mean" and call.args:
            dims = self.expr(call.args[0])
            keep = self._keyword(call, "keepdim", 1, False)
            if isinstance(dims, tuple) and sorted(d % 4 for d in dims if isinstance(d, int)) == [2, 3]:
                return self.layer("GlobalAveragePooling2D", [], (owner,), call, {"keepdims": bool(keep)})
        raise NotFollowed(f"line {call.lineno}: x.{name}(...) is not an operation cnncalc reads")

    def reshape(self, owner: Node, sizes: tuple[Any, ...], call: ast.Call) -> Node:
        if len(sizes) < 2 or (sizes[0] is not BATCH and sizes[0] != -1):
            raise NotFollowed(
                f"line {call.lineno}: {source_of(call)}: the first size must be the batch (x.size(0) or -1)"
            )
        rest = sizes[1:]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in rest):
            raise NotFollowed(
                f"line {call.lineno}: {source_of(call)}: sizes other than the batch must be numbers"
            )
        if list(rest) == [-1]:
            return self.layer("Flatten", [], (owner,), call)
        # view(-1, N): N values per sample; a wrong N is the Reshape's error at this line
        return self.layer("Reshape", [list(rest)], (owner,), call)

    def _keyword(self, call: ast.Call, name: str, position: int, default: Any) -> Any:
        for keyword in call.keywords:
            if keyword.arg == name:
                return self.expr(keyword.value)
        if len(call.args) > position:
            return self.expr(call.args[position])
        return default

    # layers ----------------------------------------------------------------------------------

    def layer(
        self,
        cls: str,
        positional: list[Any],
        sources: tuple[Node, ...],
        where: ast.AST,
        keywords: dict[str, Any] | None = None,
    ) -> Node:
        """A layer the forward code makes with a function (``F.relu``, ``torch.cat``, ``x + y``)."""
        args: list[ast.expr] = [
            ast.Constant(v) if not isinstance(v, list) else ast.List([ast.Constant(i) for i in v])
            for v in positional
        ]
        kws = [ast.keyword(arg=k, value=ast.Constant(v)) for k, v in (keywords or {}).items()]
        synthetic = ast.Call(func=ast.Name(cls), args=args, keywords=kws)
        ast.copy_location(synthetic, where)
        ast.fix_missing_locations(synthetic)
        line = getattr(where, "lineno", 0)
        obj = self.reader.constructed(LayerObj(cls, synthetic, line, text=source_of(where)))
        return self.apply(obj, sources, self.label(where, cls))

    def label(self, where: ast.AST, cls: str) -> str:
        """A row name for a functional call: the function's name (``relu``, ``relu_1``, ``cat``,
        ``add`` for ``x + y``), never one of the modules' names."""
        func = where.func if isinstance(where, ast.Call) else None
        base = (dotted(func) or "").rpartition(".")[2] if func is not None else cls.lower()
        if isinstance(func, ast.Attribute) and not dotted(func):
            base = func.attr  # x.view(...), x.relu()
        taken = set(self.paths.values()) | set(self.names.values())
        count = self.counts.get(base, 0)
        while True:
            name = base if count == 0 else f"{base}_{count}"
            count += 1
            if name not in taken:
                self.counts[base] = count
                return name

    def module(self, module: LayerObj | TorchSequential, x: Node, call: ast.Call) -> Node:
        if isinstance(module, TorchSequential):
            for _, child in module.children:
                x = self.module(child, x, call)
            return x
        return self.apply(module, (x,), self.paths.get(id(module)))

    def apply(self, layer: LayerObj, sources: tuple[Node, ...], path: str | None) -> Node:
        uses = self.uses.get(id(layer), 0)
        self.uses[id(layer)] = uses + 1
        if uses and not isinstance(layer.built, BaseException) and layer.built is not None:
            built = layer.built[0].layer
            if kind_of(built).cls.category in _WEIGHTED:
                raise NotFollowed(
                    f"line {layer.line}: {path or layer.cls} is applied twice (shared weights): not supported"
                )
        node = self.reader.new_input(layer.line, None)
        node = replace(node, is_input=False, layer=layer, sources=sources)
        if path is not None:
            self.names[node.ident] = path if not uses else f"{path}_{uses}"
        return node


def module_spec(
    reader: CodeReader, model: TorchModule, factory: Callable[[], CodeReader], shape: tuple[int, ...] | None
) -> tuple[Node, tuple[Node, ...], dict[int, str]]:
    """The graph of an ``nn.Module``: its input node, output nodes and row names by node."""
    sub, forward = module_attributes(reader, model, factory)
    walker = Forward(sub)
    start = walker.run(forward, shape)
    return start, walker.outputs, walker.names


def sequential_graph(
    reader: CodeReader, model: TorchSequential, shape: tuple[int, ...] | None
) -> tuple[Node, tuple[Node, ...], dict[int, str]]:
    """The chain of an ``nn.Sequential`` (nested ones flattened, rows named ``0``, ``features.0``)."""
    walker = Forward(reader)
    walker.name_modules("", model)
    start = reader.new_input(model.line, shape)
    out = walker.module(model, start, ast.Call(func=ast.Name("Sequential"), args=[], keywords=[]))
    return start, (out,), walker.names


def torch_spec(
    layers: tuple[LayerSpec, ...], shape: tuple[int, ...] | None, name: str, inputs: Any = ()
) -> Spec:
    """A spec under PyTorch's rules: NCHW, the pytorch convention."""
    if not layers:
        raise SpecError("the model has no layers")
    return Spec(
        layers=layers,
        input_shape=shape,
        inputs=inputs,
        data_format=DataFormat.CHANNELS_FIRST,
        convention=Convention.PYTORCH,
        name=name,
    )
