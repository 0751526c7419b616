"""What framework names mean to the model-code interpreter (:mod:`cnncalc.io.interp`): Keras and
PyTorch layers, models and tensors as symbolic values, argparse's defaults, network3.

Nothing here imports a framework: ``nn.Conv2d(3, 6, 5)`` records a :class:`LayerObj` whose
arguments are built into a cnncalc layer; calling a module or a Keras layer on a symbolic tensor
(:class:`Node`) adds a node to the model's graph; ``forward()`` is interpreted on such tensors, and
its tensor methods and ``torch.*``/``F.*`` functions become rows of cnncalc kinds (or a precise
refusal). Shapes are computed with the kinds' own rules when the code asks for one (``x.size(1)``).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field, replace
from typing import Any

from ..enums import Convention, DataFormat
from ..errors import CnncalcError, MismatchError, SpecError
from ..layers.args import ACTIVATIONS
from ..layers.base import Context
from ..layers.faces import (
    TorchCode,
    keras_class_name,
    keras_face_of,
    kind_for_keras_class,
    kind_for_torch_function,
    rank_of,
    torch_activation_functions,
    torch_face_of,
    torch_module_kind,
    torch_negative_pad_kind,
    torch_positional,
)
from ..layers.network3 import ACTIVATION_FNS
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
    TorchTensor,
    Unknown,
)
from .interp import (
    MATH,
    Bound,
    Builtin,
    Ext,
    Function,
    Instance,
    Interpreter,
    Super,
    UserClass,
    _Return,
    integer,
    is_unknown,
    number,
)
from .pyexpr import source_of
from .spec import INPUT_KEYS, LayerSpec, build_layer, ignored, resolve_kind


def _merge_function(name: str) -> str | None:
    """The Keras merge class a ``keras.layers`` function is (``add`` -> ``Add``, ``concatenate``):
    a lower-case name whose kind, by the kinds' Keras faces, takes several inputs."""
    kind = kind_for_keras_class(name) if name.islower() else None
    face = keras_face_of(kind.cls) if kind is not None else None
    if kind is None or not kind.cls.takes_many or face is None:
        return None
    return face.name(rank_of(kind))


_NETWORK3 = frozenset({"ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer"})
_ACTIVATION_NAMES = {name.lower(): name for name in (*ACTIVATIONS, *ACTIVATION_FNS)}
_TORCH_CTX = Context(Convention.PYTORCH, DataFormat.CHANNELS_FIRST)
_KERAS_CTX = Context(Convention.KERAS, DataFormat.CHANNELS_LAST)

#: Keras preprocessing layers read as opaque rows from their input shape (no weights).
_RESIZING = frozenset({"Resizing", "CenterCrop", "RandomCrop"})
_PREPROCESSING = _RESIZING | frozenset(
    {"RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast", "RandomTranslation", "RandomBrightness"}
)


def _preprocessing_unknown(layer: LayerObj) -> tuple[LayerSpec, tuple[int, ...] | None]:
    raise SpecError(
        f"line {layer.line}: keras.layers.{layer.cls} is read when applied to a tensor of known shape "
        "(in a functional model)"
    )


#: Tensor methods and functions that change nothing cnncalc reports.
_SAME = frozenset(
    {
        "contiguous",
        "clone",
        "float",
        "double",
        "half",
        "detach",
        "cpu",
        "cuda",
        "to",
        "type_as",
        "requires_grad_",
        "squeeze_",
        "data",
    }
)
#: ``F.x``/``torch.x``/``x.x()`` activations: the faces' table, plus the in-place spelling
#: ``relu_`` and ``logsigmoid`` (no module cnncalc writes).
_ACTIVATIONS = {**torch_activation_functions(), "relu_": "relu", "logsigmoid": "log_sigmoid"}


def _pool_function(name: str) -> str | None:
    """The torch.nn pooling module an ``F.max_pool2d``-like function is (the kinds' PyTorch
    faces say: the function names a pooling kind, whose module is written with its rank)."""
    kind = kind_for_torch_function(name)
    face = torch_face_of(kind.cls) if kind is not None else None
    if kind is None or face is None or face.code not in _POOLS:
        return None
    return face.names(rank_of(kind))[0]


_POOLS = (TorchCode.POOL, TorchCode.ADAPTIVE_POOL)


def _function_code(name: str) -> TorchCode | None:
    """The writer code of the kind's PyTorch face an ``F.x``/``torch.x``/``x.x()`` function is
    (the faces say which kind it is; the reader reads PyTorch's arguments by the code), or None."""
    kind = kind_for_torch_function(name)
    face = torch_face_of(kind.cls) if kind is not None else None
    return face.code if face is not None else None


#: Kinds whose functions take a list of tensors first (``torch.cat([a, b], 1)``) or two tensors.
_LIST_CODES = (TorchCode.CONCAT, TorchCode.ADD, TorchCode.MULTIPLY)
#: ``torch.add(a, b)`` is ``a + b``: the Python operator the reader follows.
_TENSOR_OPERATORS: dict[str, type[ast.operator]] = {"add": ast.Add, "mul": ast.Mult, "sub": ast.Sub}


#: Tensor functions that keep the shape (``torch.exp(x)``, ``x.clamp(0, 1)``): opaque rows.
_ELEMENTWISE = frozenset(
    {
        "exp",
        "log",
        "log1p",
        "expm1",
        "sqrt",
        "rsqrt",
        "abs",
        "neg",
        "clamp",
        "clip",
        "clamp_min",
        "clamp_max",
        "sign",
        "square",
        "sin",
        "cos",
        "floor",
        "ceil",
        "round",
        "reciprocal",
        "normalize",
        "erf",
        "exp2",
        "pow",
    }
)
_TORCH_MODULE_METHODS_SELF = frozenset(
    {
        "to",
        "cuda",
        "cpu",
        "eval",
        "train",
        "float",
        "double",
        "half",
        "apply",
        "requires_grad_",
        "share_memory",
        "type",
        "zero_grad",
    }
)
_KERAS_MODEL_METHODS = frozenset(
    {
        "summary",
        "compile",
        "fit",
        "evaluate",
        "predict",
        "save",
        "save_weights",
        "load_weights",
        "train_on_batch",
        "fit_generator",
        "evaluate_generator",
        "predict_generator",
        "test_on_batch",
        "count_params",
        "get_weights",
        "set_weights",
        "to_json",
        "get_config",
    }
)


class BatchSize:
    """``x.size(0)``: the batch size, kept by a reshape; any arithmetic on it is unknown."""

    def __repr__(self) -> str:
        return "batch"


BATCH = BatchSize()


@dataclass(eq=False)
class ModuleList:
    line: int
    items: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class ModuleDict:
    line: int
    items: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class IdentityModule:
    """``nn.Identity()``: passes the tensor on."""

    line: int


@dataclass(eq=False)
class ArgParser:
    """``argparse.ArgumentParser()``: its arguments' defaults are what ``parse_args()`` gives."""

    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Namespace:
    values: dict[str, Any]
    line: int


@dataclass(eq=False)
class Partial:
    func: Any
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(eq=False)
class Trace:
    """One model's graph being traced: row names by node, module paths, uses, and the tensors
    only train mode makes (``if self.training:`` bodies: torchvision's auxiliary heads)."""

    training: list[Node] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)
    layers: dict[int, LayerObj] = field(default_factory=dict)
    uses: dict[int, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def canonical(path: str) -> str:
    """One spelling per framework name: ``tensorflow.keras.layers`` -> ``keras.layers``."""
    for prefix, into in (
        ("tensorflow.python.keras", "keras"),
        ("tensorflow.keras", "keras"),
        ("tf_keras", "keras"),
        ("keras.api", "keras"),
        ("keras.src", "keras"),
    ):
        if path == prefix or path.startswith(prefix + "."):
            return into + path[len(prefix) :]
    return path


def _is_torch(path: str) -> bool:
    return path == "torch" or path.startswith("torch.")


def _is_keras(path: str) -> bool:
    return path == "keras" or path.startswith("keras.") or path.startswith("tensorflow")


def _known_kind(name: str) -> bool:
    try:
        resolve_kind(name)
    except SpecError:
        return False
    return True


def is_model(value: Any) -> bool:
    if isinstance(value, (SequentialModel, FunctionalModel, Network3Model, TorchSequential)):
        return True
    return isinstance(value, Instance) and model_framework(value.cls) is not None


def model_framework(cls: UserClass) -> str | None:
    """'torch' for an ``nn.Module`` subclass, 'keras' for a ``keras.Model`` subclass with a
    ``call()`` (one without is a training wrapper around other models: ``GAN(discriminator,
    generator)`` overriding ``train_step``), else None."""
    base = cls.framework()
    if base is None:
        return None
    base = canonical(base)
    if _is_torch(base) and base.endswith("Module"):
        return "torch"
    if _is_keras(base) and base.rpartition(".")[2] in ("Model", "Functional"):
        try:
            cls.lookup("call")
        except KeyError:
            return None
        return "keras"
    return None


def keras_layer_class(cls: UserClass) -> bool:
    base = cls.framework()
    return base is not None and _is_keras(canonical(base)) and base.rpartition(".")[2] == "Layer"


class Hooks:
    """The frameworks' meaning of names, calls and operators, and what the run found."""

    def __init__(self, input_shape: tuple[int, ...] | None) -> None:
        self.input_shape = input_shape
        self.found: list[Found] = []
        self.names: dict[int, list[str]] = {}
        self.made_classes: set[int] = set()
        self.classes: list[UserClass] = []
        self.functions_called: set[int] = set()
        self.fed: dict[int, list[TorchTensor]] = {}
        self.torch_inputs: list[TorchTensor] = []
        self.used: set[int] = set()
        self.notes: list[str] = []
        self.nodes = 0
        self.trace: Trace | None = None
        self.shapes: dict[int, tuple[Any, ...] | None] = {}
        self.aliases: dict[int, str] = {}
        self.found_mark = 0
        #: models used as a layer of another (parts, not models of their own)
        self.parts: set[int] = set()
        #: the reader's own spec of a Keras model (set by cnncalc.io.python_source)
        self.inner_spec: Any = None

    def before_statement(self) -> None:
        self.found_mark = len(self.found)

    # names ---------------------------------------------------------------------------------------

    def module(self, path: str) -> Any:
        return Ext(canonical(path))

    def undefined(self, interp: Interpreter, name: str, line: int) -> Any:
        if (
            name in ("Sequential", "Model", "Input", "Network")
            or name in _NETWORK3
            or name.lower() in _ACTIVATION_NAMES
        ):
            return Ext(name, undefined=True)
        if name[:1].isupper() and _known_kind(name):
            return Ext(name, undefined=True)
        return Unknown(line, f"{name} is not defined in the file")

    def class_defined(self, interp: Interpreter, cls: UserClass, stmt: ast.ClassDef) -> None:
        self.classes.append(cls)

    def returned(self, interp: Interpreter, func: Function, value: Any) -> None:
        """A model returned by a function of the file is also known by the function's name."""
        if is_model(value) and func.owner is None:
            self.aliases.setdefault(id(value), func.name)

    def bound(self, interp: Interpreter, name: str | None, value: Any, stmt: Any, fn: Any) -> None:
        if not is_model(value) or getattr(fn, "class_body", False):
            return
        if name is None:
            if id(value) in self.names:
                return
            name = {
                SequentialModel: "sequential",
                FunctionalModel: "functional",
                Network3Model: "network",
            }.get(type(value), "model")
        scope = ".".join(interp.scope_names)
        qualified = f"{scope}.{name}" if scope else name
        names = self.names.setdefault(id(value), [])
        if not names:
            self.found.append(Found(qualified, getattr(stmt, "lineno", 0), value))
        if qualified not in names:
            names.append(qualified)

    # attributes ----------------------------------------------------------------------------------

    def peek_attribute(self, owner: Any, name: str) -> Any:
        return None

    def set_instance_attribute(
        self, interp: Interpreter, inst: Instance, name: str, value: Any, node: Any
    ) -> None:
        inst.attrs[name] = value

    def set_attribute(self, interp: Interpreter, owner: Any, name: str, value: Any, node: Any) -> None:
        if isinstance(owner, (Namespace,)):
            owner.values[name] = value
            return
        if isinstance(owner, Ext):
            return  # ``torch.backends.cudnn.benchmark = True``: nothing of the model
        if isinstance(owner, (LayerObj, Node)):
            interp.taint(
                owner,
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)} changes a layer after it is made",
            )
            return
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: assignment to {source_of(node)} is not read")

    def set_item(self, interp: Interpreter, owner: Any, key: Any, value: Any, node: Any) -> None:
        if isinstance(owner, Ext):
            return  # os.environ["KERAS_BACKEND"] = "jax": nothing of the model
        if isinstance(owner, ModuleDict) and isinstance(key, str):
            owner.items[key] = value
        elif isinstance(owner, ModuleList) and integer(key):
            owner.items[key] = value
        else:
            raise NotFollowed(
                f"line {getattr(node, 'lineno', '?')}: assignment to {source_of(node)} is not read"
            )

    def instance_attribute(self, interp: Interpreter, inst: Instance, name: str, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        framework = model_framework(inst.cls) or ("keras" if keras_layer_class(inst.cls) else None)
        if framework == "torch":
            return self.torch_module_attribute(interp, inst, name, node)
        if framework == "keras":
            if name in _KERAS_MODEL_METHODS or name == "build":
                return self.model_method(inst, name)
            if name in ("training", "trainable"):
                return False if name == "training" else True
        return Unknown(line, f"{source_of(node)}: {inst.cls.name} has no attribute {name} set in the file")

    def torch_module_attribute(self, interp: Interpreter, obj: Any, name: str, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if name in _TORCH_MODULE_METHODS_SELF:
            return Builtin(name, lambda i, a, k, n: self._used(obj))
        if name == "__setattr__" and isinstance(obj, Instance):
            return Builtin(name, lambda i, a, k, n: _setattr_builtin(i, obj, a, n))
        if name == "__getattr__" and isinstance(obj, Instance):
            return Builtin(
                name,
                lambda i, a, k, n: (
                    i.attribute(obj, a[0], n)
                    if a and isinstance(a[0], str)
                    else Unknown(line, f"{source_of(n)}: the name is unknown")
                ),
            )
        if name == "training":
            return False  # read as model.eval(): the shapes are the same in both modes
        if name in ("modules", "children", "named_modules", "named_children"):
            return Builtin(name, lambda i, a, k, n: self.submodules(obj, name))
        if name == "add_module" or name == "register_module":
            return Builtin(name, lambda i, a, k, n: self.add_module(i, obj, a, n))
        if name in ("register_buffer", "register_parameter"):
            return Builtin(name, lambda i, a, k, n: self.register(i, obj, name, a, n))
        if name in ("parameters", "named_parameters", "state_dict", "buffers", "load_state_dict"):
            return Builtin(
                name,
                lambda i, a, k, n: self._used_unknown(obj, line, f"{source_of(n)} (weights are not read)"),
            )
        if name == "forward" and isinstance(obj, (TorchSequential, ModuleList)):
            return Builtin(name, lambda i, a, k, n: self.call(i, obj, a, k, n))
        return Unknown(line, f"{source_of(node)} is not set in the file")

    def _used(self, obj: Any) -> Any:
        self.used.add(id(obj))
        return obj

    def _used_unknown(self, obj: Any, line: int, why: str) -> Any:
        self.used.add(id(obj))
        return Unknown(line, why)

    def model_method(self, model: Any, name: str) -> Builtin:
        def method(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
            self.used.add(id(model))
            if name == "build" and isinstance(model, (SequentialModel, Instance)):
                shape = args[0] if args else kwargs.get("input_shape")
                if (
                    isinstance(shape, (tuple, list))
                    and len(shape) >= 2
                    and all(integer(v) or v is None for v in shape)
                ):
                    if isinstance(model, SequentialModel):
                        model.built_shape = tuple(shape[1:])
                    else:
                        model.attrs["__built_shape__"] = tuple(shape[1:])
                elif shape is not None and not is_unknown(shape):
                    raise SpecError(
                        f"line {getattr(node, 'lineno', 0)}: build() needs (batch, ...) like (None, 28, 28, 1)"
                    )
                return None
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not run")

        return Builtin(name, method)

    def submodules(self, obj: Any, name: str) -> list[Any]:
        out: list[tuple[str, Any]] = []

        def walk(value: Any, path: str, depth: int) -> None:
            if depth > 64:
                return
            if name in ("modules", "named_modules") or depth == 1:
                out.append((path, value))
            if name in ("children", "named_children") and depth >= 1:
                return
            for child_name, child in children_of(value):
                walk(child, f"{path}.{child_name}" if path else child_name, depth + 1)

        walk(obj, "", 0)
        if name in ("children", "named_children"):
            out = [(p, v) for p, v in out if v is not obj]
        return [(p, v) for p, v in out] if name.startswith("named") else [v for _, v in out]

    def add_module(self, interp: Interpreter, obj: Any, args: list[Any], node: Any) -> None:
        interp.touch(obj)
        if len(args) == 2 and is_unknown(args[1]):
            interp.taint(
                obj,
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: the module is unknown ({args[1].why})",
            )
            return None
        if len(args) != 2 or not isinstance(args[0], str):
            interp.taint(
                obj, f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: the module's name is unknown"
            )
            return None
        if isinstance(obj, TorchSequential):
            obj.children.append((args[0], args[1]))
        elif isinstance(obj, Instance):
            obj.attrs[args[0]] = args[1]
        else:
            raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)} is not read")
        return None

    def register(self, interp: Interpreter, obj: Any, name: str, args: list[Any], node: Any) -> None:
        line = getattr(node, "lineno", 0)
        if isinstance(obj, Instance) and args and isinstance(args[0], str):
            obj.attrs[args[0]] = Unknown(line, f"{source_of(node)}: a tensor of the module")
            if name == "register_parameter" and args[1:] and args[1] is not None:
                interp.taint(obj, f"line {line}: {source_of(node)}: parameters of its own are not read")
        return None

    def super_attribute(self, interp: Interpreter, sup: Super, name: str, node: Any) -> Any:
        if name == "__init__":
            return Builtin("__init__", lambda i, a, k, n: None)
        if isinstance(sup.obj, Instance):
            return self.instance_attribute(interp, sup.obj, name, node)
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not read")

    def attribute(self, interp: Interpreter, owner: Any, name: str, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(owner, Ext):
            if owner.path in ("math", "numpy", "np") and name in MATH:
                return MATH[name]
            return Ext(f"{owner.path}.{name}", owner.undefined)
        if isinstance(owner, Node):
            return self.tensor_attribute(interp, owner, name, node)
        if isinstance(owner, Namespace):
            if name in owner.values:
                return owner.values[name]
            return Unknown(line, f"{source_of(node)} is a command-line option without a default")
        if isinstance(owner, ArgParser):
            return Builtin(name, lambda i, a, k, n: self.argparse_method(owner, name, a, k, n))
        if isinstance(owner, LayerObj):
            return self.layer_attribute(interp, owner, name, node)
        if isinstance(owner, (TorchSequential, ModuleList, ModuleDict)):
            if isinstance(owner, ModuleList) and name in ("append", "extend", "insert"):
                return Builtin(name, lambda i, a, k, n: self.list_method(i, owner, name, a, n))
            if isinstance(owner, ModuleDict) and name in ("items", "keys", "values", "update"):
                return Builtin(name, lambda i, a, k, n: self.dict_method(owner, name, a, n))
            if isinstance(owner, TorchSequential) and name == "append":
                return Builtin(
                    name, lambda i, a, k, n: owner.children.append((str(len(owner.children)), a[0]))
                )
            if isinstance(owner, TorchSequential):
                for child_name, child in owner.children:
                    if child_name == name:
                        return child
            return self.torch_module_attribute(interp, owner, name, node)
        if isinstance(owner, (SequentialModel, FunctionalModel, Network3Model)):
            if isinstance(owner, SequentialModel) and name == "add":
                return Builtin("add", lambda i, a, k, n: self.sequential_add(i, owner, a, k, n))
            if isinstance(owner, SequentialModel) and name == "pop":
                return Builtin("pop", lambda i, a, k, n: self._pop(n))
            if name == "layers" and isinstance(owner, SequentialModel):
                return list(owner.layers)
            if name in ("input", "inputs") and isinstance(owner, FunctionalModel):
                return owner.inputs[0] if name == "input" else list(owner.inputs)
            if name in ("output", "outputs") and isinstance(owner, FunctionalModel):
                return owner.outputs[0] if name == "output" else list(owner.outputs)
            return self.model_method(owner, name)
        if isinstance(owner, IdentityModule):
            return self.torch_module_attribute(interp, owner, name, node)
        if isinstance(owner, (Function, Bound, Builtin)):
            return Unknown(line, f"{source_of(node)} is not read")
        if isinstance(owner, (BatchSize, TorchTensor)):
            if isinstance(owner, TorchTensor):
                return self.data_attribute(owner, name, node)
            return Unknown(line, f"{source_of(node)}: the batch size is not known")
        return Unknown(line, f"{source_of(node)} is not read")

    def _pop(self, node: Any) -> None:
        raise NotFollowed(
            f"line {getattr(node, 'lineno', '?')}: model.pop() is not followed; leave the layer out"
        )

    def layer_attribute(self, interp: Interpreter, layer: LayerObj, name: str, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if layer.torch:
            if name in _TORCH_MODULE_METHODS_SELF:
                return Builtin(name, lambda i, a, k, n: layer)
            if name in ("weight", "bias", "running_mean", "running_var"):
                return Unknown(line, f"{source_of(node)}: weights are not read")
            values = getattr(layer, "values", None)
            if values is not None:
                given = _torch_given(layer.cls, values[0], values[1])
                if name in given:
                    return given[name]
            return Unknown(line, f"{source_of(node)} is not read")
        return Unknown(line, f"{source_of(node)} is not read")

    def list_method(
        self, interp: Interpreter, owner: ModuleList, name: str, args: list[Any], node: Any
    ) -> None:
        interp.touch(owner)
        if name == "append":
            owner.items.append(args[0])
        elif name == "extend":
            if is_unknown(args[0]):
                interp.taint(owner, f"line {getattr(node, 'lineno', '?')}: extended with an unknown value")
                return None
            owner.items.extend(interp.iterate(args[0], node))
        else:
            owner.items.insert(args[0], args[1])
        return None

    def dict_method(self, owner: ModuleDict, name: str, args: list[Any], node: Any) -> Any:
        if name == "items":
            return list(owner.items.items())
        if name == "keys":
            return list(owner.items)
        if name == "values":
            return list(owner.items.values())
        if args and isinstance(args[0], dict):
            owner.items.update(args[0])
        return None

    def argparse_method(
        self, parser: ArgParser, name: str, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        line = getattr(node, "lineno", 0)
        if name == "add_argument":
            flags = [a for a in args if isinstance(a, str)]
            if not flags:
                return None
            dest = kwargs.get("dest")
            if not isinstance(dest, str):
                long = next((f for f in flags if f.startswith("--")), flags[0])
                dest = long.lstrip("-").replace("-", "_")
            action = kwargs.get("action")
            if "default" in kwargs:
                value = kwargs["default"]
                kind = kwargs.get("type")
                if isinstance(value, str) and isinstance(kind, Builtin) and kind.name in ("int", "float"):
                    try:
                        value = int(value) if kind.name == "int" else float(value)
                    except ValueError:
                        value = Unknown(line, f"--{dest}'s default {value!r}")
            elif action == "store_true":
                value = False
            elif action == "store_false":
                value = True
            else:
                value = Unknown(line, f"the command-line option {flags[0]} has no default")
            parser.defaults[dest] = value
            return None
        if name in ("parse_args", "parse_known_args"):
            space = Namespace(dict(parser.defaults), line)
            return space if name == "parse_args" else (space, [])
        if name in ("add_argument_group", "add_mutually_exclusive_group"):
            return parser
        return None

    def data_attribute(self, tensor: TorchTensor, name: str, node: Any) -> Any:
        if name in ("shape",):
            return tuple(tensor.sizes)
        if name in _SAME or name == "to":
            return Builtin(name, lambda i, a, k, n: tensor)
        if name == "size":
            return Builtin(name, lambda i, a, k, n: tuple(tensor.sizes) if not a else tensor.sizes[a[0]])
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not read")

    def subscript(self, interp: Interpreter, owner: Any, key: Any, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(owner, SizeTuple):
            if key == 0:
                return BATCH if owner.tensor.torch else None
            self.need_shape(owner.tensor, node)
        if isinstance(owner, Node):
            return self.slice_tensor(interp, owner, key, node)
        if isinstance(owner, (TorchSequential, ModuleList)):
            items = [c for _, c in owner.children] if isinstance(owner, TorchSequential) else owner.items
            if isinstance(key, slice):
                chosen = items[key]
                if isinstance(owner, TorchSequential):
                    names = [n for n, _ in owner.children][key]
                    return TorchSequential(owner.line, list(zip(names, chosen, strict=True)))
                return ModuleList(owner.line, list(chosen))
            if integer(key):
                try:
                    return items[key]
                except IndexError:
                    raise NotFollowed(f"line {line}: {source_of(node)}: index out of range") from None
        if isinstance(owner, ModuleDict) and isinstance(key, str):
            if key in owner.items:
                return owner.items[key]
            raise NotFollowed(f"line {line}: {source_of(node)}: no module {key!r}")
        if isinstance(owner, Namespace) and isinstance(key, str):
            return owner.values.get(key, Unknown(line, f"{source_of(node)} has no default"))
        if isinstance(owner, Ext):
            if owner.path == "sys.argv":
                return Unknown(
                    line, f"{source_of(node)} is a command-line argument, not known without running"
                )
            if owner.path in ("os.environ", "os.getenv"):
                return Unknown(
                    line, f"{source_of(node)} is an environment variable, not known without running"
                )
            return Unknown(line, f"{source_of(node)} is not read")
        if isinstance(owner, (Function, Builtin, Bound)):
            return Unknown(line, f"{source_of(node)} is not read")
        return Unknown(line, f"{source_of(node)} is not read")

    # train mode ----------------------------------------------------------------------------------

    def training_branch(self, interp: Interpreter, stmt: ast.If, env: dict[str, Any], fn: Any) -> bool:
        """``if self.training:`` in a traced PyTorch forward. The model is read in eval mode (the
        ``else`` path runs as ever); the body is read too, on a copy of the locals, and the
        tensors it makes or returns are the trace's training-only outputs (their rows carry
        ``training_only``: params counted, costs not). A body the reader cannot follow is left
        out, as eval mode leaves it. True when the statement was handled here."""
        test = stmt.test
        if self.trace is None or not (isinstance(test, ast.Attribute) and test.attr == "training"):
            return False
        owner = interp.expr(test.value, env, fn)
        if not (isinstance(owner, Instance) and model_framework(owner.cls) == "torch"):
            return False
        scope = dict(env)
        made: list[Any] = []
        try:
            interp.block(stmt.body, scope, fn)
        except _Return as ret:
            made.append(ret.value)
        except CnncalcError:
            pass
        made += [value for key, value in scope.items() if env.get(key) is not value]
        self.trace.training += [node for value in made for node in _nodes_in(value)]
        interp.block(stmt.orelse, env, fn)
        return True

    # truth, sizes, iteration ---------------------------------------------------------------------

    def truth(self, interp: Interpreter, value: Any) -> Any:
        if isinstance(value, BatchSize):
            return True
        if isinstance(value, Ext):
            return None if not value.undefined else None
        if isinstance(value, Namespace):
            return True
        return NotImplemented

    def iterable(self, interp: Interpreter, value: Any) -> bool:
        return isinstance(value, (TorchSequential, ModuleList, ModuleDict, SequentialModel))

    def iterate(self, interp: Interpreter, value: Any, node: Any) -> list[Any] | None:
        if isinstance(value, TorchSequential):
            return [c for _, c in value.children]
        if isinstance(value, ModuleList):
            return list(value.items)
        if isinstance(value, ModuleDict):
            return list(value.items)
        if isinstance(value, SequentialModel):
            return list(value.layers)
        return None

    def length(self, interp: Interpreter, value: Any, node: Any) -> Any:
        items = self.iterate(interp, value, node)
        return NotImplemented if items is None else len(items)

    def builtin(
        self, interp: Interpreter, fn: Any, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        return NotImplemented

    def to_number(self, interp: Interpreter, value: Any, kind: type, node: Any) -> Any:
        if isinstance(value, BatchSize):
            return value
        if isinstance(value, (Ext, Namespace)):
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not a number the reader knows")
        return NotImplemented

    def isinstance(self, interp: Interpreter, value: Any, cls: Any, node: Any) -> bool | None:
        if isinstance(cls, Ext):
            last = cls.last
            if isinstance(value, LayerObj):
                return (
                    value.cls == last
                    or (last == "Module" and value.torch)
                    or (last == "Layer" and not value.torch)
                )
            if isinstance(value, TorchSequential):
                return last in ("Sequential", "Module")
            if isinstance(value, (ModuleList, ModuleDict)):
                return last in (type(value).__name__, "Module")
            if isinstance(value, Instance):
                return canonical(cls.path) == canonical(value.cls.framework() or "")
            if isinstance(value, (int, float, str, list, tuple, dict)) or value is None:
                return False
            return None
        if isinstance(cls, Builtin):
            return False
        return None

    def has_attribute(self, interp: Interpreter, obj: Instance, name: str) -> bool:
        return False

    # operators -----------------------------------------------------------------------------------

    def unary(self, interp: Interpreter, op: ast.unaryop, value: Any, node: Any) -> Any:
        if isinstance(value, Node) and isinstance(op, ast.USub):
            return self.op_layer(
                interp, "Operation", [], (value,), node, {"op": "multiply", "operand": -1.0}, "neg"
            )
        if isinstance(value, BatchSize):
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: arithmetic on the batch size")
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)} is not read")

    def binop(self, interp: Interpreter, op: ast.operator, left: Any, right: Any, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(left, Node) or isinstance(right, Node):
            return self.tensor_binop(interp, op, left, right, node)
        if isinstance(left, BatchSize) or isinstance(right, BatchSize):
            return Unknown(line, f"{source_of(node)}: arithmetic on the batch size")
        if isinstance(left, (Ext, Namespace)) or isinstance(right, (Ext, Namespace)):
            return Unknown(line, f"{source_of(node)} uses a value from outside the file")
        if isinstance(left, TorchTensor) or isinstance(right, TorchTensor):
            return Unknown(line, f"{source_of(node)}: arithmetic on data")
        return NotImplemented

    def compare(self, interp: Interpreter, op: ast.cmpop, left: Any, right: Any, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        for side in (left, right):
            if isinstance(side, (Node, TorchTensor)):
                return Unknown(line, f"{source_of(node)} compares tensor values")
            if isinstance(side, BatchSize):
                return Unknown(line, f"{source_of(node)} depends on the batch size")
            if isinstance(side, Ext):
                return Unknown(line, f"{source_of(node)} depends on {side.path}")
        return NotImplemented

    # calls ---------------------------------------------------------------------------------------

    def instantiate(
        self, interp: Interpreter, cls: UserClass, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        self.made_classes.add(id(cls))
        inst = Instance(cls, {}, getattr(node, "lineno", cls.line))
        try:
            init = cls.lookup("__init__")
        except KeyError:
            init = None
        if isinstance(init, Function):
            result = interp.call_function(init, [inst, *args], kwargs, node)
            del result
        elif args or kwargs:
            if cls.framework() is None:
                raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {cls.name}() takes no arguments")
        return inst

    def call_instance(
        self, interp: Interpreter, inst: Instance, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        line = getattr(node, "lineno", 0)
        framework = model_framework(inst.cls)
        try:
            call = inst.cls.lookup("__call__")
        except KeyError:
            call = None
        if isinstance(call, Function):
            return interp.call_function(call, [inst, *args], kwargs, node)
        if framework == "torch":
            return self.call_module(interp, inst, args, kwargs, node)
        if framework == "keras" or keras_layer_class(inst.cls):
            if (
                args
                and isinstance(args[0], Node)
                or (
                    args
                    and isinstance(args[0], (list, tuple))
                    and args[0]
                    and all(isinstance(a, Node) for a in args[0])
                )
            ):
                method = _method(inst, "call")
                if method is None:
                    raise NotFollowed(f"line {line}: class {inst.cls.name} has no call()")
                interp.strict += 1
                try:
                    return interp.call_function(method, [inst, *args], kwargs, node)
                finally:
                    interp.strict -= 1
            self.used.add(id(inst))
            return Unknown(line, f"{source_of(node)} is the model's output")
        raise NotFollowed(f"line {line}: {inst.cls.name} objects are not callable")

    def call_module(
        self, interp: Interpreter, module: Any, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        """A PyTorch module called: on a traced tensor its forward() runs; on data (``torch.randn``)
        the sizes are recorded as the input shape."""
        line = getattr(node, "lineno", 0)
        first = args[0] if args else None
        if isinstance(module, Instance) and self.trace is not None:
            forward = _method(module, "forward")
            if forward is None:
                raise NotFollowed(f"line {module.cls.line}: class {module.cls.name} has no forward()")
            return interp.call_function(forward, [module, *args], kwargs, node)
        if interp.strict and not isinstance(first, Node):
            raise NotFollowed(
                f"line {line}: {source_of(node)}: {_unknown_text(first)} is not a tensor the reader follows"
            )
        if isinstance(first, Node) and first.torch:
            if isinstance(module, LayerObj):
                if len(args) != 1:
                    raise NotFollowed(f"line {line}: {source_of(node)}: a layer is called on one tensor")
                return self.apply(interp, module, (first,), None)
            if isinstance(module, IdentityModule):
                return first
            if isinstance(module, TorchSequential):
                x = first
                for _, child in module.children:
                    x = self.call_module(interp, child, [x], {}, node)
                return x
            if isinstance(module, ModuleList):
                raise NotFollowed(f"line {line}: {source_of(node)}: an nn.ModuleList is not called")
            if not _module_like(module):
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: {_short(module)} is not a module the reader follows{_why(module)}"
                )
            if isinstance(module, Instance):
                forward = _method(module, "forward")
                if forward is None:
                    raise NotFollowed(f"line {module.cls.line}: class {module.cls.name} has no forward()")
                return interp.call_function(forward, [module, *args], kwargs, node)
        self.used.add(id(module))
        for value in args:
            if isinstance(value, TorchTensor):
                self.fed.setdefault(id(module), []).append(value)
        return Unknown(line, f"{source_of(node)} is the model's output")

    def call(self, interp: Interpreter, func: Any, args: list[Any], kwargs: dict[str, Any], node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(func, Ext):
            return self.call_ext(interp, func, args, kwargs, node)
        if isinstance(func, LayerObj):
            if func.torch:
                return self.call_module(interp, func, args, kwargs, node)
            return self.call_keras_layer(interp, func, args, kwargs, node)
        if isinstance(func, (TorchSequential, ModuleList, IdentityModule)):
            return self.call_module(interp, func, args, kwargs, node)
        if isinstance(func, (SequentialModel, FunctionalModel)):
            if args and isinstance(args[0], Node) and not args[0].torch:
                return self.nested(interp, func, args[0], node)
            self.used.add(id(func))
            return Unknown(line, f"{source_of(node)} is the model's output")
        if isinstance(func, Partial):
            return interp.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, node)
        if isinstance(func, (Namespace, ArgParser, BatchSize, TorchTensor, Node)):
            return Unknown(line, f"{source_of(node)} is not callable")
        if isinstance(func, (int, float, str, list, tuple, dict)) or func is None:
            raise NotFollowed(f"line {line}: {source_of(node)}: a {type(func).__name__} is not callable")
        return Unknown(line, f"{source_of(node)} is not read")

    def call_keras_layer(
        self, interp: Interpreter, layer: LayerObj, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        line = getattr(node, "lineno", 0)
        if not args:
            raise NotFollowed(f"line {line}: a layer is called on one tensor (or a list of them)")
        value = args[0]
        items = value if isinstance(value, (list, tuple)) else (value,)
        if any(is_unknown(i) for i in items):
            bad = next(i for i in items if is_unknown(i))
            return Unknown(line, f"{source_of(node)}: {bad.why}")
        if not items or not all(isinstance(i, Node) for i in items):
            return Unknown(line, f"{source_of(node)}: a layer applied to data")
        if layer.cls in _PREPROCESSING and len(items) == 1:
            self.preprocessing(layer, items[0], node)
        return self.apply(interp, layer, tuple(items), node)

    def preprocessing(self, layer: LayerObj, x: Node, node: Any) -> None:
        """RandomFlip, Resizing, ...: an opaque row with the shape Keras gives it (0 params)."""
        shape = self.shape_of(x)
        text = f"line {layer.line}: {source_of(layer.call) if layer.call is not None else layer.cls}"
        if shape is None:
            layer.built = SpecError(f"{text}: keras.layers.{layer.cls} needs the input shape: give --input")
            return
        args, kwargs = layer.values or ([], {})
        out = list(shape)
        if layer.cls in _RESIZING:
            height = args[0] if args else kwargs.get("height")
            width = args[1] if len(args) > 1 else kwargs.get("width")
            if not (integer(height) and integer(width)) or len(shape) != 3:
                layer.built = SpecError(f"{text}: the height and width must be known")
                return
            out = [height, width, shape[2]]
        name = kwargs.get("name")
        keywords = {
            "op": f"keras.layers.{layer.cls}",
            "shape": out,
            "in_shapes": [list(shape)],
            "source": "model code",
        }
        built = build_layer("Opaque", [], keywords)
        layer.builder = None
        layer.built = (
            LayerSpec(built, text, name if isinstance(name, str) else None, compact=False, line=layer.line),
            None,
        )

    def nested(self, interp: Interpreter, model: Any, x: Node, node: Any) -> Node:
        """A Keras model called on a tensor of another: one row, the inner model's totals (as
        Keras's summary shows it; ``--expand`` shows its layers)."""
        line = getattr(node, "lineno", 0)
        text = f"line {line}: {source_of(node)}"
        layer = LayerObj("Model", node if isinstance(node, ast.Call) else None, line, text=source_of(node))
        self.parts.add(id(model))

        def build(obj: LayerObj) -> tuple[LayerSpec, tuple[int, ...] | None]:
            from ..layers.nested import InnerModel

            shape = self.shape_of(x)
            if shape is None:
                raise SpecError(f"{text}: the inner model needs the input shape: give --input")
            if self.inner_spec is None:  # pragma: no cover - the reader always sets it
                raise SpecError(f"{text}: a model used as a layer is not read here")
            inner = replace(self.inner_spec(model), input_shape=shape)
            built = build_layer("Model", [], {"spec": InnerModel(_document(inner), inner)})
            name = getattr(model, "name", None)
            return LayerSpec(built, text, name, compact=False, line=line), None

        layer.builder = build
        return self.apply(interp, layer, (x,), node)

    def sequential_add(
        self, interp: Interpreter, model: SequentialModel, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> None:
        line = getattr(node, "lineno", 0)
        if len(args) != 1 or kwargs:
            raise NotFollowed(f"line {line}: model.add() takes one layer")
        layer = args[0]
        interp.touch(model)
        if isinstance(layer, Node) and layer.is_input and not model.layers:
            model.built_shape = layer.input_shape
            return None
        if isinstance(layer, SequentialModel):
            raise NotFollowed(f"line {line}: a model added to a model is not followed; add its layers")
        if not isinstance(layer, LayerObj):
            call = node.args[0] if isinstance(node, ast.Call) and node.args else node
            raise NotFollowed(
                f"line {line}: {source_of(call)} is not a layer the reader follows{_why(layer)}"
            )
        model.layers.append(layer)
        return None

    def call_ext(
        self, interp: Interpreter, ext: Ext, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        path, last = ext.path, ext.last
        line = getattr(node, "lineno", 0)
        if path in ("argparse.ArgumentParser",):
            return ArgParser()
        if path in ("collections.OrderedDict", "OrderedDict") or last == "OrderedDict":
            from .interp import BUILTINS

            return BUILTINS["dict"].fn(interp, args, kwargs, node)
        if path in ("functools.partial",) and args:
            return Partial(args[0], list(args[1:]), dict(kwargs))
        if path in ("copy.deepcopy", "copy.copy") and len(args) == 1:
            return (
                args[0]
                if isinstance(args[0], (int, float, str, tuple))
                else Unknown(line, f"{source_of(node)}: a copy is not followed")
            )
        if path.startswith(("numpy.", "np.")) and last in MATH and isinstance(MATH[last], Builtin):
            return MATH[last].fn(interp, args, kwargs, node)
        if _is_torch(path):
            return self.call_torch(interp, ext, args, kwargs, node)
        if ext.undefined or _is_keras(path) or path.startswith("network3"):
            return self.call_keras(interp, ext, args, kwargs, node)
        if path.startswith("torchvision") or path.startswith("timm") or ".models." in path:
            return Unknown(
                line, f"{source_of(node)} builds a model of an installed package (the zoo has some: --model)"
            )
        return Unknown(line, f"{source_of(node)} is a function from outside the file (not run)")

    # Keras ---------------------------------------------------------------------------------------

    def call_keras(
        self, interp: Interpreter, ext: Ext, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        path, last = ext.path, ext.last
        line = getattr(node, "lineno", 0)
        if last in ("image_data_format",):
            return "channels_last"  # Keras's default configuration
        if last == "int_shape" and args and isinstance(args[0], Node):
            return self.sizes(args[0], node)
        if last == "image_dim_ordering":
            return "tf"
        if last == "Sequential":
            return self.keras_sequential(interp, args, kwargs, node)
        if last in ("Model", "Functional"):
            return self.keras_functional(args, kwargs, node)
        if last in ("Input", "InputLayer"):
            return self.keras_input(args, kwargs, node)
        if last == "Network" and (ext.undefined or "network3" in path):
            items = args[0] if args else ()
            if not isinstance(items, (list, tuple)):
                raise NotFollowed(f"line {line}: Network() needs a list of layers written in the call")
            return Network3Model(line, [self.as_layer(item, node) for item in items])
        merge = _merge_function(last)
        if merge is not None and (".layers" in path or "keras" in path):
            if len(args) != 1:
                raise NotFollowed(f"line {line}: {source_of(node.func)}() takes a list of tensors")
            layer = self.layer(merge, False, [], dict(kwargs), node)
            return self.call_keras_layer(interp, layer, args, {}, node)
        last = keras_class_name(last)  # Keras's other names (MaxPool2D) by the kinds' Keras faces
        if last[:1].isupper() and (last in _NETWORK3 or _known_kind(last)) and last not in ("Model",):
            return self.layer(last, False, args, kwargs, node)
        if last[:1].isupper() and ".layers" in path:
            # a layer cnncalc has no kind for: refused if it is used (Lambda runs code of its own);
            # the preprocessing layers that only need their input shape are opaque rows
            layer = LayerObj(last, node if isinstance(node, ast.Call) else None, line)
            layer.values = (list(args), dict(kwargs))
            if last in _PREPROCESSING:
                layer.builder = _preprocessing_unknown
                return layer
            why = "runs code of its own" if last == "Lambda" else "has no cnncalc kind"
            layer.built = SpecError(f"line {line}: {source_of(node)}: keras.layers.{last} {why}")
            return layer
        if args and isinstance(args[0], Node) and last.lower() in _ACTIVATIONS:
            return self.op_layer(
                interp, "Activation", [_ACTIVATIONS[last.lower()]], (args[0],), node, {}, last
            )
        return Unknown(line, f"{source_of(node)} is not run")

    def keras_sequential(
        self, interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> SequentialModel:
        line = getattr(node, "lineno", 0)
        model = SequentialModel(line)
        items = args[0] if args else kwargs.get("layers")
        name = kwargs.get("name")
        if isinstance(name, str):
            model.name = name
        if items is not None:
            if not isinstance(items, (list, tuple)):
                raise NotFollowed(
                    f"line {line}: Sequential() needs its list of layers written in the call{_why(items)}"
                )
            listed = node.args[0] if isinstance(node, ast.Call) and node.args else None
            elts = (
                listed.elts
                if isinstance(listed, (ast.List, ast.Tuple)) and len(listed.elts) == len(items)
                else None
            )
            for i, item in enumerate(items):
                if isinstance(item, Node) and item.is_input and not model.layers:
                    model.built_shape = item.input_shape
                    continue
                model.layers.append(self.as_layer(item, elts[i] if elts is not None else node))
        return model

    def keras_functional(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> FunctionalModel:
        line = getattr(node, "lineno", 0)
        given = dict(zip(("inputs", "outputs"), args, strict=False))
        given.update({k: v for k, v in kwargs.items() if k in ("inputs", "outputs")})
        if set(given) != {"inputs", "outputs"}:
            raise NotFollowed(f"line {line}: Model() needs inputs and outputs")
        name = kwargs.get("name")
        return FunctionalModel(
            line,
            self.tensors(given["inputs"], node),
            self.tensors(given["outputs"], node),
            name if isinstance(name, str) else None,
        )

    def tensors(self, value: Any, node: Any) -> tuple[Node, ...]:
        if isinstance(value, dict):
            value = list(value.values())
        items = value if isinstance(value, (list, tuple)) else (value,)
        for item in items:
            if not isinstance(item, Node):
                raise NotFollowed(
                    f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: not a tensor the reader follows{_why(item)}"
                )
        return tuple(items)

    def keras_input(self, args: list[Any], kwargs: dict[str, Any], node: Any) -> Node:
        line = getattr(node, "lineno", 0)
        shape = args[0] if args else None
        batch = False
        for key in ("shape", "input_shape"):
            if key in kwargs:
                shape = kwargs[key]
        for key in ("batch_shape", "batch_input_shape"):
            if key in kwargs:
                shape, batch = kwargs[key], True
        name = kwargs.get("name")
        if shape is None:
            raise SpecError(f"line {line}: Input() needs shape=")
        if is_unknown(shape) or (isinstance(shape, (list, tuple)) and any(is_unknown(v) for v in shape)):
            known = None  # e.g. x_train.shape[1:]: the input shape given with the model (--input)
        else:
            if integer(shape):
                shape = (shape,)
            if not isinstance(shape, (tuple, list)):
                raise SpecError(f"line {line}: Input shape must be a tuple like (28, 28, 1)")
            shape = tuple(shape[1:] if batch else shape)
            known = None if any(v is None for v in shape) else shape
        if self.input_shape is not None:
            known = self.input_shape
        self.nodes += 1
        return Node(
            self.nodes,
            line,
            is_input=True,
            input_name=name if isinstance(name, str) else None,
            input_shape=known,
        )

    def as_layer(self, value: Any, node: Any) -> LayerObj:
        if isinstance(value, LayerObj):
            return value
        line = getattr(node, "lineno", 0)
        shown = (
            source_of(node)
            if isinstance(node, ast.expr) and not isinstance(node, ast.Call)
            else _short(value)
        )
        if isinstance(value, Instance):
            raise NotFollowed(
                f"line {line}: {shown} is a layer class of the file ({value.cls.name}): custom layers are not read"
            )
        raise NotFollowed(f"line {line}: {shown} is not a layer the reader follows{_why(value)}")

    # layers ----------------------------------------------------------------------------------------

    def layer(
        self,
        cls: str,
        torch: bool,
        args: list[Any],
        kwargs: dict[str, Any],
        node: Any,
        text: str | None = None,
    ) -> LayerObj:
        line = getattr(node, "lineno", 0)
        call = node if isinstance(node, ast.Call) else None
        obj = LayerObj(cls, call, line, torch=torch, text=text)
        obj.values = (list(args), dict(kwargs))
        obj.builder = self.build_values
        return obj

    def build_values(self, layer: LayerObj) -> tuple[LayerSpec, tuple[int, ...] | None]:
        assert layer.values is not None
        return self.build(layer, list(layer.values[0]), dict(layer.values[1]))

    def build(
        self, layer: LayerObj, positional: list[Any], kw: dict[str, Any]
    ) -> tuple[LayerSpec, tuple[int, ...] | None]:
        call = layer.call
        shown = layer.text or (
            source_of(call) if call is not None and (call.args or call.keywords) else f"{layer.cls}()"
        )
        text = f"line {layer.line}: {shown}"
        try:
            keywords: dict[str, Any] = {}
            name = None
            declared = None
            values = [self.argument(layer, i, None, v) for i, v in enumerate(positional)]
            for key, value in kw.items():
                if key == "name":
                    if not isinstance(value, str):
                        raise SpecError(f"name: {_unknown_text(value)}")
                    name = value
                elif key in INPUT_KEYS or key == "input_dim":
                    if self.input_shape is not None:
                        declared = self.input_shape
                        continue
                    if is_unknown(value) or (
                        isinstance(value, (list, tuple)) and any(is_unknown(v) for v in value)
                    ):
                        bad = value if is_unknown(value) else next(v for v in value if is_unknown(v))
                        raise SpecError(f"{key}: {bad.why}; give the input shape with --input")
                    shape = (value,) if key == "input_dim" else value
                    if not isinstance(shape, (tuple, list)) or not shape:
                        raise SpecError(f"{key} must be a tuple like (28, 28, 1)")
                    declared = tuple(shape[1:] if key.startswith("batch") else shape)
                elif ignored(key) or (key == "trainable" and value is True):
                    continue
                else:
                    keywords[key] = self.argument(layer, None, key, value)
            if layer.torch:
                cls = layer.cls
                order = torch_positional(cls)  # the kind's PyTorch face says
                if order is not None:
                    if len(values) > len(order):
                        raise SpecError(
                            f"nn.{cls} takes at most {len(order)} positional arguments ({', '.join(order)})"
                        )
                    for key, value in zip(order, values, strict=False):
                        if key in keywords:
                            raise SpecError(f"{key} given twice")
                        keywords[key] = value
                    values = []
                found = torch_module_kind(cls)
                dropout = found is not None and found[1] in (TorchCode.DROPOUT, TorchCode.SPATIAL_DROPOUT)
                cls, values, keywords = torch_class(cls, values, keywords)
                keywords = T.torch_keywords(cls, keywords)
                cls, values, keywords = T.torch_module(cls, values, keywords)
                cls = T.kind_name(cls)  # nn.Dropout2d is SpatialDropout2D (the kinds' faces say)
                if dropout and not values and "p" not in keywords and "rate" not in keywords:
                    keywords["p"] = 0.5  # PyTorch's default rate (Keras's Dropout has none)
                if dropout and "p" in keywords:
                    keywords["rate"] = keywords.pop("p")
                built = build_layer(cls, values, keywords, Convention.PYTORCH)
            else:
                built = build_layer(layer.cls, values, keywords)
        except CnncalcError as err:
            raise err.at(text) from None
        return LayerSpec(built, text, name, compact=False, line=layer.line), declared

    def argument(self, layer: LayerObj, index: int | None, key: str | None, value: Any) -> Any:
        what = key or f"argument {(index or 0) + 1}"
        is_image_shape = layer.cls == "ConvPoolLayer" and (key == "image_shape" or index == 1)
        if is_image_shape and isinstance(value, (tuple, list)) and len(value) == 4 and is_unknown(value[0]):
            # network3's image_shape starts with the mini-batch size, which changes no figure.
            self.notes.append(
                f"line {layer.line}: {value[0].why.replace(' is not defined in the file', '')} is not defined in "
                "the file; the mini-batch size changes no figure, read as 1"
            )
            value = (1, *value[1:])
        return _plain_value(value, what)

    # graphs ----------------------------------------------------------------------------------------

    def apply(self, interp: Interpreter, layer: LayerObj, sources: tuple[Node, ...], node: Any) -> Node:
        trace = self.trace
        if layer.torch:
            uses = 0
            if trace is not None:
                uses = trace.uses.get(id(layer), 0)
                trace.uses[id(layer)] = uses + 1
            if uses and not isinstance(_try_spec(layer), CnncalcError):
                from ..enums import Category
                from ..layers import kind_of

                if kind_of(layer.spec()[0].layer).cls.category in (
                    Category.CONV,
                    Category.DENSE,
                    Category.NORM,
                ):
                    path = trace.paths.get(id(layer)) if trace is not None else None
                    raise NotFollowed(
                        f"line {layer.line}: {path or layer.cls} is applied twice (shared weights): not supported"
                    )
            self.nodes += 1
            out = Node(self.nodes, layer.line, layer=layer, sources=sources, torch=True)
            if trace is not None:
                path = trace.paths.get(id(layer))
                if path is not None:
                    trace.names[out.ident] = path if not uses else f"{path}_{uses}"
                else:
                    trace.names[out.ident] = self.label(layer.cls.lower())
            return out
        layer.applied += 1
        if layer.applied > 1:
            raise NotFollowed(
                f"line {getattr(node, 'lineno', layer.line)}: the layer from line {layer.line} is called a "
                "second time; shared layers are not supported"
            )
        self.nodes += 1
        return Node(self.nodes, layer.line, layer=layer, sources=sources)

    def label(self, base: str) -> str:
        trace = self.trace
        assert trace is not None
        taken = set(trace.paths.values()) | set(trace.names.values())
        count = trace.counts.get(base, 0)
        while True:
            name = base if count == 0 else f"{base}_{count}"
            count += 1
            if name not in taken:
                trace.counts[base] = count
                return name

    def op_layer(
        self,
        interp: Interpreter,
        cls: str,
        positional: list[Any],
        sources: tuple[Node, ...],
        node: Any,
        keywords: dict[str, Any],
        label: str,
    ) -> Node:
        """A row the forward code makes with a function (``F.relu``, ``torch.cat``, ``x + y``)."""
        torch = sources[0].torch
        line = getattr(node, "lineno", 0)
        obj = LayerObj(cls, None, line, torch=False, text=source_of(node))
        try:
            built = build_layer(cls, positional, keywords, Convention.PYTORCH if torch else None)
            obj.built = (
                LayerSpec(built, f"line {line}: {source_of(node)}", None, compact=False, line=line),
                None,
            )
        except CnncalcError as err:
            obj.built = err.at(f"line {line}: {source_of(node)}")
        self.nodes += 1
        out = Node(self.nodes, line, layer=obj, sources=sources, torch=torch)
        if torch and self.trace is not None:
            self.trace.names[out.ident] = self.label(label)
        elif not torch:
            obj.applied = 1
        return out

    def opaque(
        self,
        interp: Interpreter,
        op: str,
        sources: tuple[Node, ...],
        shape: tuple[int, ...],
        node: Any,
        label: str,
    ) -> Node:
        """A row for a tensor function cnncalc has no kind for, with the shape PyTorch gives it."""
        keywords = {
            "op": op,
            "shape": list(shape),
            "in_shapes": [list(self.need_shape(s, node)) for s in sources],
            "source": "model code",
        }
        return self.op_layer(interp, "Opaque", [], sources, node, keywords, label)

    def shape_of(self, node: Node) -> tuple[int, ...] | None:
        """The node's shape without the batch axis (None when the input shape is not known)."""
        if node.ident in self.shapes:
            return self.shapes[node.ident]
        if node.layer is None:
            shape = node.input_shape
        else:
            inputs = [self.shape_of(s) for s in node.sources]
            if any(s is None for s in inputs):
                shape = None
            else:
                shape = self.compute(node, inputs)  # type: ignore[arg-type]
        self.shapes[node.ident] = shape
        return shape

    def compute(self, node: Node, inputs: list[tuple[int, ...]]) -> tuple[int, ...]:
        from ..layers.base import gated

        assert node.layer is not None
        spec = node.layer.spec()[0]
        layer = spec.layer
        ctx = _TORCH_CTX if node.torch else _KERAS_CTX
        for _ in range(4):
            try:
                if layer.takes_many:
                    many: Any = layer
                    return tuple(
                        many.compute_many(list(inputs), [str(i) for i in range(len(inputs))], ctx).shape
                    )
                return tuple(gated(layer, layer.compute(inputs[0], ctx)).shape)
            except MismatchError as err:
                layer = _with_argument(layer, err.argument, err.value)  # the engine reports it; go on here
            except CnncalcError as err:
                raise err.at(spec.text) from None
        raise SpecError(f"{spec.text}: cannot settle its arguments")  # pragma: no cover

    def need_shape(self, node: Node, where: Any) -> tuple[int, ...]:
        shape = self.shape_of(node)
        if shape is None:
            raise NotFollowed(
                f"line {getattr(where, 'lineno', '?')}: {source_of(where)} needs the size of a tensor, and the "
                "input shape is not known: give --input"
            )
        return shape

    # tensors -----------------------------------------------------------------------------------------

    def tensor_attribute(self, interp: Interpreter, x: Node, name: str, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        if name == "shape":
            return self.sizes(x, node)
        if name in ("ndim",):
            return len(self.need_shape(x, node)) + 1
        if name.startswith("is_") or name == "requires_grad":
            return False  # a CPU tensor of the usual kind
        if name in ("device", "dtype"):
            return Unknown(line, f"{source_of(node)} is not known")
        if name == "data":
            return x
        if name == "T":
            return self.permute(interp, x, list(range(len(self.need_shape(x, node)) + 1))[::-1], node)
        if not x.torch:
            return Unknown(line, f"{source_of(node)}: Keras tensors are read through layers")
        return Builtin(name, lambda i, a, k, n: self.tensor_method(i, x, name, a, k, n))

    def sizes(self, x: Node, node: Any) -> Any:
        shape = self.shape_of(x)
        if shape is None:
            return SizeTuple(x, node)
        return (BATCH if x.torch else None, *shape)

    def tensor_binop(self, interp: Interpreter, op: ast.operator, left: Any, right: Any, node: Any) -> Any:
        line = getattr(node, "lineno", 0)
        names = {
            ast.Add: ("Add", "add", "add"),
            ast.Sub: ("Subtract", "subtract", "sub"),
            ast.Mult: ("Multiply", "multiply", "mul"),
            ast.Div: (None, "divide", "div"),
            ast.Pow: (None, "power", "pow"),
        }
        entry = names.get(type(op))
        if entry is None:
            raise NotFollowed(f"line {line}: {source_of(node)}: this operator on tensors is not read")
        merge, operator, label = entry
        if isinstance(left, Node) and isinstance(right, Node):
            if merge is None:
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: {operator} of two tensors has no cnncalc kind"
                )
            return self.op_layer(interp, merge, [], (left, right), node, {}, label)
        tensor, other = (left, right) if isinstance(left, Node) else (right, left)
        if number(other) or isinstance(other, bool):
            keywords = {"op": operator, "operand": float(other)}
            if tensor is right:
                keywords["operand_first"] = True
            return self.op_layer(interp, "Operation", [], (tensor,), node, keywords, label)
        raise NotFollowed(
            f"line {line}: {source_of(node)}: a tensor combined with {_short(other)} is not read{_why(other)}"
        )

    def slice_tensor(self, interp: Interpreter, x: Node, key: Any, node: Any) -> Node:
        line = getattr(node, "lineno", 0)
        items = list(key) if isinstance(key, tuple) else [key]
        while len(items) > 1 and items[-1] == slice(None):
            items.pop()  # x[:, :c, :, :] is x[:, :c]
        refused = NotFollowed(
            f"line {line}: {source_of(node)}: only a slice of one axis (x[:, a:b]) is followed"
        )
        if not items or not all(isinstance(i, slice) for i in items):
            raise refused
        *leading, last = items
        if any(i != slice(None) for i in leading):
            raise refused
        bounds = (last.start, last.stop, last.step)
        if not all(b is None or integer(b) for b in bounds):
            raise refused
        if not leading:
            raise refused
        keywords = {
            "start": last.start or 0,
            "stop": last.stop,
            "step": 1 if last.step is None else last.step,
        }
        return self.op_layer(interp, "Slice", [len(leading)], (x,), node, keywords, "getitem")

    def tensor_method(
        self, interp: Interpreter, x: Node, name: str, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        return self.tensor_function(interp, name, [x, *args], kwargs, node)

    def call_torch(
        self, interp: Interpreter, ext: Ext, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        path, last = ext.path, ext.last
        line = getattr(node, "lineno", 0)
        if path.startswith("torch.nn.init") or path.startswith("torch.nn.utils"):
            return None
        if (
            path.startswith("torch.nn.")
            and last[:1].isupper()
            and path.count(".") == 2
            or path.startswith("torch.nn.modules.")
        ):
            return self.torch_class(interp, last, args, kwargs, node)
        if last in T.INPUT_FACTORIES and path == f"torch.{last}":
            sizes: Any = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
            if not all(integer(v) for v in sizes):
                return Unknown(line, f"{source_of(node)}: sizes not known")
            tensor = TorchTensor(line, tuple(sizes))
            if self.trace is None:
                self.torch_inputs.append(tensor)
            return tensor
        if last == "Size":
            return (
                tuple(args[0]) if args and isinstance(args[0], (list, tuple)) else Unknown(line, "torch.Size")
            )
        takes_a_list = last == "stack" or _function_code(last) in _LIST_CODES  # torch.cat([a, b])
        if args and isinstance(args[0], Node) or (takes_a_list and args):
            return self.tensor_function(interp, last, args, kwargs, node)
        return Unknown(line, f"{source_of(node)} is not run")

    def torch_class(
        self, interp: Interpreter, last: str, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        line = getattr(node, "lineno", 0)
        if last == "Sequential":
            model = TorchSequential(line, [])
            if len(args) == 1 and isinstance(args[0], dict):
                items = list(args[0].items())
            else:
                items = [(str(i), a) for i, a in enumerate(args)]
            for child_name, child in items:
                if not _module_like(child):
                    raise NotFollowed(
                        f"line {line}: {source_of(node)}: {_short(child)} is not a module the reader follows{_why(child)}"
                    )
                model.children.append((str(child_name), child))
            return model
        if last == "ModuleList":
            items = args[0] if args else []
            if is_unknown(items) or not interp.iterable(items):
                return Unknown(line, f"{source_of(node)}: its modules are unknown{_why(items)}")
            return ModuleList(line, list(interp.iterate(items, node)))
        if last == "ModuleDict":
            items = args[0] if args else {}
            if not isinstance(items, dict):
                return Unknown(line, f"{source_of(node)}: its modules are unknown")
            return ModuleDict(line, dict(items))
        if last == "Identity":
            return IdentityModule(line)
        if last == "Module":
            return Unknown(line, "an empty nn.Module")
        if last in ("Parameter",):
            return Unknown(line, f"{source_of(node)}: a parameter of its own (not read)")
        layer = self.layer(last, True, args, kwargs, node)
        if not T.known_layer(last):
            layer.builder = None
            layer.built = SpecError(f"line {line}: {source_of(node)}: nn.{last} has no cnncalc kind")
        return layer

    def tensor_function(
        self, interp: Interpreter, name: str, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> Any:
        """``torch.X(x, ...)``, ``F.X(x, ...)`` and ``x.X(...)`` on a traced tensor."""
        line = getattr(node, "lineno", 0)

        def arg(index: int, key: str, default: Any) -> Any:
            if key in kwargs:
                return kwargs[key]
            return args[index] if len(args) > index else default

        if name == "stack":
            tensors = args[0] if args else kwargs.get("tensors")
            if (
                not isinstance(tensors, (list, tuple))
                or not tensors
                or not all(isinstance(t, Node) for t in tensors)
            ):
                if not interp.strict:
                    return Unknown(line, f"{source_of(node)} is computed from data")
                raise NotFollowed(f"line {line}: {source_of(node)}: torch.stack takes a list of tensors")
            shapes = [self.need_shape(t, node) for t in tensors]
            dim = arg(1, "dim", 0)
            rank = len(shapes[0]) + 1
            if not integer(dim) or dim % (rank + 1) == 0 or len(set(shapes)) != 1:
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: only tensors of one shape, stacked after the batch, are read"
                )
            out = list(shapes[0])
            out.insert(dim % (rank + 1) - 1, len(tensors))
            return self.opaque(interp, "torch.stack", tuple(tensors), tuple(out), node, "stack")
        code = _function_code(name)  # which kind the function is: the kinds' PyTorch faces say
        if code is TorchCode.CONCAT:
            tensors = args[0] if args else kwargs.get("tensors")
            if not interp.strict and not (
                isinstance(tensors, (list, tuple)) and any(isinstance(t, Node) for t in tensors)
            ):
                return Unknown(line, f"{source_of(node)} is computed from data")
            if (
                not isinstance(tensors, (list, tuple))
                or not tensors
                or not all(isinstance(t, Node) for t in tensors)
            ):
                raise NotFollowed(f"line {line}: {source_of(node)}: torch.cat takes a list of tensors")
            dim = arg(1, "dim", 0)
            return self.op_layer(interp, "Concatenate", [], tuple(tensors), node, {"axis": dim}, "cat")
        if name in _TENSOR_OPERATORS and len(args) >= 2:
            return self.tensor_binop(interp, _TENSOR_OPERATORS[name](), args[0], args[1], node)
        if not args or not isinstance(args[0], Node):
            return Unknown(line, f"{source_of(node)} is not run")
        x: Node = args[0]
        if name in _SAME:
            return x
        if name in ("size",):
            sizes = self.sizes(x, node)
            if not args[1:] and "dim" not in kwargs:
                return sizes
            dim = arg(1, "dim", 0)
            if isinstance(sizes, SizeTuple):
                return self.subscript(interp, sizes, dim, node)
            try:
                return sizes[dim]
            except (IndexError, TypeError):
                raise NotFollowed(f"line {line}: {source_of(node)}: no dimension {dim}") from None
        if name in ("dim", "ndimension"):
            return len(self.need_shape(x, node)) + 1
        if name == "numel":
            return Unknown(line, f"{source_of(node)} depends on the batch size")
        if (
            name
            in (
                "sum",
                "mean",
                "max",
                "min",
                "amax",
                "amin",
                "norm",
                "item",
                "std",
                "var",
                "any",
                "all",
                "argmax",
            )
            and len(args) == 1
            and not kwargs
        ):
            return Unknown(line, f"{source_of(node)} is computed from the tensor's values")
        if name in _ACTIVATIONS:
            return self.op_layer(interp, "Activation", [_ACTIVATIONS[name]], (x,), node, {}, name)
        if code is TorchCode.SOFTMAX:
            return self.op_layer(interp, "Softmax", [], (x,), node, {"axis": arg(1, "dim", -1)}, name)
        if code is TorchCode.LEAKY_RELU:
            return self.op_layer(
                interp, "LeakyReLU", [], (x,), node, {"negative_slope": arg(1, "negative_slope", 0.01)}, name
            )
        if code in (TorchCode.DROPOUT, TorchCode.SPATIAL_DROPOUT):
            return self.op_layer(interp, "Dropout", [arg(1, "p", 0.5)], (x,), node, {}, name)
        cls = _pool_function(name)
        if cls is not None:
            rest = {k: v for k, v in kwargs.items() if k != "return_indices"}
            layer = self.layer(cls, True, list(args[1:]), rest, node, text=source_of(node))
            pooled = self.apply(interp, layer, (x,), node)
            if self.trace is not None:
                self.trace.names[pooled.ident] = self.label(name)
            return pooled
        if code is TorchCode.FLATTEN:
            start = arg(1, "start_dim", 0)
            end = arg(2, "end_dim", -1)
            if start == 1 and end == -1:
                return self.op_layer(interp, "Flatten", [], (x,), node, {}, name)
            shape = self.need_shape(x, node)
            full: list[Any] = [BATCH, *shape]
            s, e = start % len(full), end % len(full)
            if s == 0:
                raise NotFollowed(f"line {line}: {source_of(node)}: flattening the batch axis is not read")
            target = [*full[1:s], math.prod(full[s : e + 1]), *full[e + 1 :]]
            return self.reshape_to(interp, x, target, node, name)
        if code is TorchCode.RESHAPE:
            sizes = list(args[1:])
            if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
                sizes = list(sizes[0])
            return self.reshape(interp, x, sizes, node, name)
        if name in ("squeeze", "unsqueeze"):
            shape = self.need_shape(x, node)
            full = [BATCH, *shape]
            if name == "unsqueeze":
                dim = arg(1, "dim", None)
                if not integer(dim):
                    raise NotFollowed(f"line {line}: {source_of(node)}: unsqueeze needs a dimension")
                dim = dim % (len(full) + 1)
                if dim == 0:
                    raise NotFollowed(f"line {line}: {source_of(node)}: a new batch axis is not read")
                full.insert(dim, 1)
            else:
                dims = arg(1, "dim", None)
                chosen = (
                    range(1, len(full))
                    if dims is None
                    else [d % len(full) for d in (dims if isinstance(dims, (tuple, list)) else [dims])]
                )
                full = [v for i, v in enumerate(full) if not (i in chosen and i > 0 and v == 1)]
            return self.reshape_to(interp, x, full[1:], node, name)
        if name in ("permute",):
            dims = list(args[1:])
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = list(dims[0])
            return self.permute(interp, x, dims, node)
        if name in ("transpose",):
            shape = self.need_shape(x, node)
            a, b = arg(1, "dim0", None), arg(2, "dim1", None)
            if not (integer(a) and integer(b)):
                raise NotFollowed(f"line {line}: {source_of(node)}: transpose needs two dimensions")
            dims = list(range(len(shape) + 1))
            a, b = a % len(dims), b % len(dims)
            dims[a], dims[b] = dims[b], dims[a]
            return self.permute(interp, x, dims, node)
        if name in ("mean", "sum", "amax", "max", "amin", "min") and (len(args) > 1 or "dim" in kwargs):
            dims = arg(1, "dim", None)
            keep = bool(arg(2, "keepdim", False))
            shape = self.need_shape(x, node)
            rank = len(shape) + 1
            listed = sorted(
                d % rank for d in (dims if isinstance(dims, (list, tuple)) else [dims]) if integer(d)
            )
            spatial = list(range(2, rank))
            if listed == spatial and rank >= 3 and name in ("mean", "amax", "max"):
                kind = "GlobalAveragePooling" if name == "mean" else "GlobalMaxPooling"
                if name == "max" and not keep and len(listed) == 1:
                    raise NotFollowed(
                        f"line {line}: {source_of(node)}: torch.max over a dimension gives values and indices"
                    )
                return self.op_layer(interp, f"{kind}{rank - 2}D", [], (x,), node, {"keepdims": keep}, name)
            raise NotFollowed(
                f"line {line}: {source_of(node)}: {name} over dims {dims} has no cnncalc kind (only the spatial axes)"
            )
        if name == "interpolate" or name == "upsample":
            scale = arg(2, "scale_factor", None)
            size = arg(1, "size", None)
            mode = arg(3, "mode", "nearest")
            known = self.shape_of(x)
            if scale is None and size is not None and known is not None:
                sizes = size if isinstance(size, (tuple, list)) else [size] * (len(known) - 1)
                ratios = [s / n for s, n in zip(sizes, known[1:], strict=False)]
                if all(float(r).is_integer() for r in ratios):
                    scale = [int(r) for r in ratios]
            if scale is None:
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: interpolate to a size is read when it is a whole multiple of the input (give --input)"
                )
            rank = len(known) - 1 if known is not None else 2
            interpolation = "bilinear" if mode in ("bilinear", "linear", "bicubic") else "nearest"
            if mode not in ("nearest", "bilinear", "linear"):
                raise NotFollowed(f"line {line}: {source_of(node)}: mode {mode!r} is not read")
            value = (
                [int(v) for v in scale]
                if isinstance(scale, (list, tuple))
                else int(scale)
                if float(scale).is_integer()
                else scale
            )
            return self.op_layer(
                interp,
                f"UpSampling{rank}D",
                [value],
                (x,),
                node,
                {"interpolation": interpolation} if rank == 2 else {},
                name,
            )
        if name == "pad":
            pad = arg(1, "pad", None)
            mode = arg(2, "mode", "constant")
            value = arg(3, "value", 0)
            if (
                mode != "constant"
                or value not in (0, 0.0, None)
                or not isinstance(pad, (tuple, list))
                or len(pad) % 2
            ):
                raise NotFollowed(f"line {line}: {source_of(node)}: only zero padding is read")
            rank = len(pad) // 2
            pairs = [list(pad[i : i + 2]) for i in range(0, len(pad), 2)][::-1]
            numbers = [v for v in pad if isinstance(v, int) and not isinstance(v, bool)]
            if len(numbers) == len(pad) and any(v < 0 for v in numbers):  # negative padding crops
                if any(v > 0 for v in numbers):
                    raise NotFollowed(
                        f"line {line}: {source_of(node)}: padding that both pads and crops is not read"
                    )
                crop = torch_negative_pad_kind(rank).class_name
                return self.op_layer(interp, crop, [[[-b, -a] for b, a in pairs]], (x,), node, {}, name)
            return self.op_layer(interp, f"ZeroPadding{rank}D", [pairs], (x,), node, {}, name)
        if name in ("split", "chunk"):
            return self.split(interp, x, name, args, kwargs, node)
        if name in _ELEMENTWISE or name.rstrip("_") in _ELEMENTWISE:
            shape = self.need_shape(x, node)
            return self.opaque(interp, f"torch.{name.rstrip('_')}", (x,), shape, node, name.rstrip("_"))
        if name.endswith("_like") and name[:-5] in ("randn", "rand", "zeros", "ones", "empty", "full"):
            shape = self.need_shape(x, node)  # a new tensor the size of x (noise, a mask)
            return self.opaque(interp, f"torch.{name}", (x,), shape, node, name)
        if name == "affine_grid":
            size = arg(1, "size", None)
            if not isinstance(size, (tuple, list)) or not all(integer(v) for v in size[1:]) or len(size) < 3:
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: the grid's size must be known (give --input)"
                )
            return self.opaque(
                interp, "torch.nn.functional.affine_grid", (x,), (*size[2:], len(size) - 2), node, name
            )
        if name == "grid_sample":
            grid = arg(1, "grid", None)
            if not isinstance(grid, Node):
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: the grid is not a tensor the reader follows"
                )
            shape, grid_shape = self.need_shape(x, node), self.need_shape(grid, node)
            return self.opaque(
                interp, "torch.nn.functional.grid_sample", (x, grid), (shape[0], *grid_shape[:-1]), node, name
            )
        if name == "stack":
            raise NotFollowed(f"line {line}: {source_of(node)}: torch.stack is not read")
        raise NotFollowed(
            f"line {line}: {source_of(node)}: {name}() on a tensor is not an operation cnncalc reads"
        )

    def reshape(self, interp: Interpreter, x: Node, sizes: list[Any], node: Any, label: str) -> Node:
        line = getattr(node, "lineno", 0)
        if not sizes:
            raise NotFollowed(f"line {line}: {source_of(node)}: a reshape needs sizes")
        first, rest = sizes[0], sizes[1:]
        if first is not BATCH and first != -1:
            raise NotFollowed(
                f"line {line}: {source_of(node)}: the first size must be the batch (x.size(0) or -1), not {_short(first)}"
            )
        if first == -1 and any(v == -1 for v in rest):
            raise NotFollowed(f"line {line}: {source_of(node)}: two -1 sizes")
        for value in rest:
            if not integer(value):
                raise NotFollowed(
                    f"line {line}: {source_of(node)}: sizes other than the batch must be numbers{_why(value)}"
                )
        if list(rest) == [-1]:
            return self.op_layer(interp, "Flatten", [], (x,), node, {}, label)
        return self.reshape_to(interp, x, list(rest), node, label)

    def reshape_to(self, interp: Interpreter, x: Node, target: list[Any], node: Any, label: str) -> Node:
        shape = self.shape_of(x)
        if shape is not None and list(shape) == list(target):
            return x  # nothing changes (a squeeze of nothing)
        return self.op_layer(interp, "Reshape", [list(target)], (x,), node, {}, label)

    def permute(self, interp: Interpreter, x: Node, dims: list[Any], node: Any) -> Node:
        line = getattr(node, "lineno", 0)
        if not dims or not all(integer(d) for d in dims):
            raise NotFollowed(f"line {line}: {source_of(node)}: permute needs whole-number dimensions")
        rank = len(dims)
        dims = [d % rank for d in dims]
        if dims[0] != 0:
            raise NotFollowed(f"line {line}: {source_of(node)}: moving the batch axis is not read")
        if dims == list(range(rank)):
            return x
        return self.op_layer(interp, "Permute", [dims[1:]], (x,), node, {}, "permute")

    def split(
        self, interp: Interpreter, x: Node, name: str, args: list[Any], kwargs: dict[str, Any], node: Any
    ) -> tuple[Node, ...]:
        line = getattr(node, "lineno", 0)
        shape = self.need_shape(x, node)
        amount = args[1] if len(args) > 1 else kwargs.get("split_size_or_sections", kwargs.get("chunks"))
        dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
        if not integer(dim) or dim % (len(shape) + 1) == 0:
            raise NotFollowed(f"line {line}: {source_of(node)}: splitting along the batch axis is not read")
        axis = dim % (len(shape) + 1)
        length = shape[axis - 1]
        if name == "chunk":
            if not integer(amount) or amount <= 0:
                raise NotFollowed(f"line {line}: {source_of(node)}: chunks must be a number")
            size = -(-length // amount)
            bounds = [(i, min(i + size, length)) for i in range(0, length, size)]
        elif integer(amount):
            bounds = [(i, min(i + amount, length)) for i in range(0, length, amount)]
        elif isinstance(amount, (list, tuple)) and all(integer(a) for a in amount) and sum(amount) == length:
            starts = [sum(amount[:i]) for i in range(len(amount))]
            bounds = [(s, s + a) for s, a in zip(starts, amount, strict=True)]
        else:
            raise NotFollowed(f"line {line}: {source_of(node)}: split sizes must be numbers")
        return tuple(
            self.op_layer(interp, "Slice", [axis], (x,), node, {"start": a, "stop": b, "step": 1}, name)
            for a, b in bounds
        )


@dataclass(eq=False)
class SizeTuple:
    """``x.size()`` of a tensor whose shape is not known (no input shape): only the batch size
    (``[0]``) is known; any other size asks for ``--input``."""

    tensor: Node
    node: Any


def _with_argument(layer: Any, argument: str, value: object) -> Any:
    """The same layer with one argument replaced (the value its input requires)."""
    from ..layers import kind_of

    args = {name: getattr(layer, name) for name, _ in layer.arguments()}
    args[argument] = value
    found = kind_of(layer)
    return found.cls(**args, **dict(found.fixed))


def _document(spec: Any) -> dict[str, Any]:
    """A spec as a cnncalc spec document (``{"type", "name", "config"}`` layers), for the JSON of a
    model used as a layer."""
    from ..layers import kind_of
    from ..layers.base import jsonable
    from .spec import layer_names

    layers = []
    for ls, name in zip(spec.layers, layer_names(spec.layers), strict=True):
        entry: dict[str, Any] = {
            "type": kind_of(ls.layer).type,
            "name": name,
            "config": jsonable(ls.layer.config()),
        }
        if ls.inputs:
            entry["inputs"] = list(ls.inputs)
        layers.append(entry)
    document: dict[str, Any] = {"input_shape": list(spec.input_shape or ()), "layers": layers}
    if spec.name:
        document["name"] = spec.name
    return document


def _setattr_builtin(interp: Interpreter, obj: Instance, args: list[Any], node: Any) -> None:
    if len(args) != 2 or not isinstance(args[0], str):
        interp.taint(
            obj, f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: the attribute name is unknown"
        )
        return None
    interp.set_attribute(obj, args[0], args[1], node)
    return None


def _try_spec(layer: LayerObj) -> Any:
    try:
        return layer.spec()
    except CnncalcError as err:
        return err


def _method(inst: Instance, name: str) -> Function | None:
    try:
        value = inst.cls.lookup(name)
    except KeyError:
        return None
    return value if isinstance(value, Function) else None


def _module_like(value: Any) -> bool:
    if isinstance(value, LayerObj):
        return value.torch
    if isinstance(value, Instance):
        return model_framework(value.cls) == "torch"
    return isinstance(value, (TorchSequential, ModuleList, ModuleDict, IdentityModule))


def children_of(value: Any) -> list[tuple[str, Any]]:
    """A module's registered submodules, in PyTorch's order and names."""
    if isinstance(value, TorchSequential):
        return list(value.children)
    if isinstance(value, ModuleList):
        return [(str(i), v) for i, v in enumerate(value.items)]
    if isinstance(value, ModuleDict):
        return list(value.items.items())
    if isinstance(value, Instance):
        return [
            (k, v)
            for k, v in value.attrs.items()
            if _module_like(v) or (isinstance(v, Instance) and is_model(v))
        ]
    return []


def torch_class(
    cls: str, positional: list[Any], keywords: dict[str, Any]
) -> tuple[str, list[Any], dict[str, Any]]:
    """PyTorch arguments cnncalc reads otherwise or not at all (which kind a module is, its face
    says: :func:`~cnncalc.layers.faces.torch_module_kind`; this is only PyTorch's arguments, by the
    face's writer code)."""
    found = torch_module_kind(cls)
    code = found[1] if found is not None else None
    if cls == "LogSoftmax":  # cnncalc's log_softmax is over the channels (its face implies the kind)
        keywords.pop("dim", None)
    if code is TorchCode.UPSAMPLE:
        keywords.pop("align_corners", None)
        if keywords.get("size", 0) is None:
            keywords.pop("size", None)
    if code is TorchCode.RESHAPE:  # nn.Unflatten
        dim = keywords.pop("dim", None)
        sizes = keywords.pop("unflattened_size", None)
        if dim not in (1, -1) or not isinstance(sizes, (list, tuple)) or keywords:
            raise SpecError(f"nn.{cls} is read as (1, sizes) on a flat (N, features) input")
        return found[0].class_name if found is not None else cls, [list(sizes)], {}
    if cls in ("GELU",):
        keywords.pop("approximate", None)
    if code is TorchCode.FLATTEN:
        start = keywords.pop("start_dim", 1)
        end = keywords.pop("end_dim", -1)
        if start != 1 or end != -1:
            raise SpecError(f"nn.{cls} is read with start_dim=1, end_dim=-1")
    if cls == "ELU" and keywords.get("alpha", 1.0) == 1.0:
        keywords.pop("alpha", None)
    return cls, positional, keywords


def _torch_given(cls: str, positional: list[Any], keywords: dict[str, Any]) -> dict[str, Any]:
    from ..layers.torch_names import torch_signature

    signature = torch_signature(cls)
    order = signature.positional if signature is not None else (torch_positional(cls) or ())
    given = dict(zip(order, positional, strict=False))
    given.update(keywords)
    return given


def _plain_value(value: Any, what: str) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain_value(v, what) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Ext):
        last = value.last
        if last.lower() in _ACTIVATION_NAMES:
            return last
        raise SpecError(f"{what}: {value.path} is not a value cnncalc reads")
    raise SpecError(f"{what}: {_unknown_text(value)}")


def _unknown_text(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.why
    return f"{_short(value)} is not a number, string or tuple"


def _short(value: Any) -> str:
    if isinstance(value, Unknown):
        return "an unknown value"
    if isinstance(value, Ext):
        return value.path
    if isinstance(value, Instance):
        return f"a {value.cls.name} object"
    if isinstance(value, UserClass):
        return f"class {value.name}"
    if isinstance(value, (Function, Bound)):
        return "a function"
    if isinstance(value, BatchSize):
        return "the batch size"
    if isinstance(value, Node):
        return "a tensor"
    if isinstance(value, (SequentialModel, FunctionalModel)):
        return "a model"
    return repr(value)[:40]


def _why(value: Any) -> str:
    return f" ({value.why}, line {value.line})" if isinstance(value, Unknown) else ""


__all__ = ["Hooks", "is_model", "model_framework", "children_of", "replace"]


def _nodes_in(value: Any, depth: int = 0) -> list[Node]:
    """The tensors in a value (a tensor, or tuples, lists and dicts of them)."""
    if isinstance(value, Node):
        return [value]
    if depth < 8 and isinstance(value, (tuple, list)):
        return [node for item in value for node in _nodes_in(item, depth + 1)]
    if depth < 8 and isinstance(value, dict):
        return [node for item in value.values() for node in _nodes_in(item, depth + 1)]
    return []
