"""PyTorch's live spelling of the kinds: what a traced module or tensor op is as a cnncalc kind.

``--trace`` (:mod:`cnncalc.trace`) records every module call and tensor op of a real forward pass;
this table says which of them are a cnncalc kind and with which arguments, from plain data only
(no torch here): a module's class name and its attributes (``out_channels``, ``kernel_size``, ...),
an op's name and its arguments with tensors replaced by :class:`TensorArg`. Anything not here is
an opaque row. The trace checks every answer: the kind's computed shape and parameter count
must equal the recorded ones, else the row is opaque too, so a wrong entry can never give a
wrong table.

A face is ``(kind name, positional values, keyword values)`` for :func:`cnncalc.io.spec.build_layer`
under the pytorch convention (PyTorch's names through :mod:`cnncalc.layers.torch_names`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .faces import (
    TORCH_ACTIVATIONS,
    TorchCode,
    kind_for_torch_function,
    kind_for_torch_module,
    rank_of,
    torch_activation_functions,
    torch_face_of,
)

if TYPE_CHECKING:
    from . import Kind
    from .base import Layer

#: (kind name, positional values, keyword values), or None: no kind (an opaque row).
Face = tuple[str, list[Any], dict[str, Any]]

#: A module's attributes: plain values by attribute name (``has_bias`` says whether ``bias`` is set).
Attrs = Mapping[str, Any]


@dataclass(frozen=True)
class TensorArg:
    """A tensor argument of a traced op: its full shape (batch included), whether it carries the
    model's data (else it is a constant: a parameter, a buffer, or made from them)."""

    shape: tuple[int, ...]
    data: bool


#: Activation ops (``F.gelu``, ``torch.sigmoid``, ``x.tanh()``) -> activation: the faces' table
#: (:func:`~cnncalc.layers.faces.torch_activation_functions`), plus two ops with no module cnncalc
#: writes.
ACTIVATIONS = {**torch_activation_functions(), "softsign": "softsign", "tanhshrink": "tanh_shrink"}
#: Ops and tensor methods that change nothing cnncalc reports: their output is their input (no row).
SAME = frozenset(
    {
        "contiguous",
        "clone",
        "detach",
        "to",
        "float",
        "double",
        "half",
        "type_as",
        "type",
        "cpu",
        "cuda",
        "requires_grad_",
        "alias",
    }
)
#: Ops that return no tensor of the model's data (sizes, tests): never rows.
NOT_DATA = frozenset(
    {"size", "dim", "numel", "__get__", "__len__", "__bool__", "item", "tolist", "ndimension"}
)


def _tuple(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


def _conv(rank: int, transposed: bool) -> Callable[[Attrs], Face | None]:
    def face(a: Attrs) -> Face | None:
        if a.get("padding_mode", "zeros") != "zeros":
            return None  # reflect/circular padding: same shapes, other values: not cnncalc's conv
        kw: dict[str, Any] = {
            "in_channels": a["in_channels"],
            "out_channels": a["out_channels"],
            "kernel_size": _tuple(a["kernel_size"]),
            "stride": _tuple(a["stride"]),
            "padding": _tuple(a["padding"]),
            "dilation": _tuple(a["dilation"]),
            "groups": a["groups"],
            "bias": a["has_bias"],
        }
        if transposed:
            kw["output_padding"] = _tuple(a["output_padding"])
        return (f"ConvTranspose{rank}d" if transposed else f"Conv{rank}d"), [], kw

    return face


def _batchnorm(a: Attrs) -> Face | None:
    if not a.get("track_running_stats", True) or a.get("has_weight", True) != a.get("has_bias", True):
        return None
    kw: dict[str, Any] = {"num_features": a["num_features"], "eps": a["eps"], "affine": a["affine"]}
    if isinstance(a.get("momentum"), float):
        kw["momentum"] = a["momentum"]
    return "BatchNorm2d", [], kw


def _pool(kind: str, rank: int) -> Callable[[Attrs], Face | None]:
    def face(a: Attrs) -> Face | None:
        if a.get("return_indices") or a.get("divisor_override") is not None:
            return None
        kw: dict[str, Any] = {
            "kernel_size": _tuple(a["kernel_size"]),
            "stride": _tuple(a["stride"] if a.get("stride") is not None else a["kernel_size"]),
            "padding": _tuple(a.get("padding", 0)),
            "ceil_mode": bool(a.get("ceil_mode", False)),
        }
        if kind == "MaxPool":
            kw["dilation"] = _tuple(a.get("dilation", 1))
        else:
            kw["count_include_pad"] = bool(a.get("count_include_pad", True))
        return f"{kind}{rank}d", [], kw

    return face


def _adaptive(kind: str, rank: int) -> Callable[[Attrs], Face | None]:
    def face(a: Attrs) -> Face | None:
        if a.get("return_indices"):
            return None
        return f"{kind}{rank}d", [], {"output_size": _tuple(a["output_size"])}

    return face


def _activation(name: str) -> Callable[[Attrs], Face | None]:
    return lambda a: ("activation", [], {"activation": name})


def _layernorm(a: Attrs) -> Face | None:
    shape = a["normalized_shape"]
    dims = len(shape) if isinstance(shape, (list, tuple)) else 1
    affine = bool(a.get("elementwise_affine", True))
    return (
        "layernormalization",
        [],
        {
            "axis": list(range(-dims, 0)) if dims > 1 else -1,
            "epsilon": a["eps"],
            "center": affine and a.get("has_bias", True),
            "scale": affine and a.get("has_weight", True),
        },
    )


def _upsample(a: Attrs) -> Face | None:
    scale = a.get("scale_factor")
    mode = a.get("mode", "nearest")
    if a.get("size") is not None or scale is None or mode not in ("nearest", "bilinear"):
        return None
    if a.get("align_corners"):
        return None
    scales = list(scale) if isinstance(scale, (list, tuple)) else [scale, scale]
    if not all(float(s).is_integer() for s in scales):
        return None
    return "upsampling2d", [[int(s) for s in scales]], {"interpolation": mode}


def _zeropad(rank: int) -> Callable[[Attrs], Face | None]:
    def face(a: Attrs) -> Face | None:
        padding = a["padding"]
        if isinstance(padding, int):
            return f"zeropadding{rank}d", [padding], {}
        pairs = [list(padding[i : i + 2]) for i in range(0, 2 * rank, 2)]
        return f"zeropadding{rank}d", [pairs[::-1]], {}  # PyTorch lists the last axis first

    return face


def _flatten(a: Attrs) -> Face | None:
    return ("flatten", [], {}) if (a.get("start_dim"), a.get("end_dim")) == (1, -1) else None


def _softmax(a: Attrs) -> Face | None:
    return ("softmax", [], {"axis": a["dim"]}) if isinstance(a.get("dim"), int) else None


def _module_conv(kind: Kind, module: str, a: Attrs) -> Face | None:
    return _conv(rank_of(kind), False)(a)


def _module_transposed(kind: Kind, module: str, a: Attrs) -> Face | None:
    return _conv(rank_of(kind), True)(a)


def _module_pool(kind: Kind, module: str, a: Attrs) -> Face | None:
    return _pool(module[: -len("2d")], rank_of(kind))(a)  # MaxPool or AvgPool


def _module_adaptive(kind: Kind, module: str, a: Attrs) -> Face | None:
    return _adaptive(kind.type[: -len("2d")], rank_of(kind))(a)


def _module_relu(kind: Kind, module: str, a: Attrs) -> Face | None:
    # nn.ReLU6 is the relu kind with a ceiling (the face reads both modules as relu)
    return (kind.type, [], {"max_value": 6.0} if module.endswith("6") else {})


def _module_activation(kind: Kind, module: str, a: Attrs) -> Face | None:
    name = _ACTIVATION_OF_MODULE.get(module)
    if name is None or any(a.get(k, v) != v for k, v in _DEFAULTS.get(name, {}).items()):
        return None  # another alpha/beta than the activation's own: not this kind
    return (kind.type, [], {"activation": name})


#: The settings of PyTorch activations the cnncalc activation has fixed (Keras's ``elu`` and
#: ``softplus``): another value is not the kind (an opaque row).
_DEFAULTS: dict[str, dict[str, float]] = {"elu": {"alpha": 1.0}, "softplus": {"beta": 1.0, "threshold": 20.0}}


#: The activation each torch.nn activation module is (the faces' table read backwards; ``SiLU``
#: is silu, not its alias swish).
_ACTIVATION_OF_MODULE = {module: name for name, module in TORCH_ACTIVATIONS.items() if name != "swish"}

#: How a live module's attributes become its kind's arguments, by the writer code the kind's
#: PyTorch face declares (the module -> kind map is the faces': ``kind_for_torch_module``).
_MODULE_READERS: dict[TorchCode, Callable[[Kind, str, Attrs], Face | None]] = {
    TorchCode.CONV: _module_conv,
    TorchCode.TRANSPOSED: _module_transposed,
    TorchCode.BATCH_NORM: lambda kind, module, a: _batchnorm(a),
    TorchCode.POOL: _module_pool,
    TorchCode.ADAPTIVE_POOL: _module_adaptive,
    TorchCode.ZERO_PAD: lambda kind, module, a: _zeropad(rank_of(kind))(a),
    TorchCode.LINEAR: lambda kind, module, a: (
        module,
        [],
        {"in_features": a["in_features"], "out_features": a["out_features"], "bias": a["has_bias"]},
    ),
    TorchCode.RELU: _module_relu,
    TorchCode.LEAKY_RELU: lambda kind, module, a: (kind.type, [], {"negative_slope": a["negative_slope"]}),
    TorchCode.ACTIVATION: _module_activation,
    TorchCode.SOFTMAX: lambda kind, module, a: _softmax(a),
    TorchCode.FLATTEN: lambda kind, module, a: _flatten(a),
    TorchCode.DROPOUT: lambda kind, module, a: (kind.type, [a["p"]], {}),
    TorchCode.SPATIAL_DROPOUT: lambda kind, module, a: (kind.type, [a["p"]], {}),
    TorchCode.LAYER_NORM: lambda kind, module, a: _layernorm(a),
    TorchCode.UPSAMPLE: lambda kind, module, a: _upsample(a),
}


def _module_reader(class_name: str) -> tuple[Kind, Callable[[Kind, str, Attrs], Face | None]] | None:
    """The kind a torch.nn module class is (its PyTorch face says) and how its attributes are read."""
    kind = kind_for_torch_module(class_name)
    face = torch_face_of(kind.cls) if kind is not None else None
    if kind is None or face is None or face.code not in _MODULE_READERS:
        return None
    return kind, _MODULE_READERS[face.code]


#: Modules that are their input (no row), as ``nn.Identity`` is.
IDENTITY_MODULES = frozenset({"Identity"})


def module_face(class_name: str, attrs: Attrs) -> Face | None:
    """The kind a module of class ``class_name`` (PyTorch's own ``torch.nn`` classes only: the
    trace passes the qualified module) is, from its attributes; None: an opaque row (or descend)."""
    found = _module_reader(class_name)
    try:
        return found[1](found[0], class_name, attrs) if found else None
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # an attribute of another shape than torch.nn's: not this kind


def attribute_names(class_name: str) -> tuple[str, ...]:
    """Every attribute a face may read (the trace copies these out of the module as plain values)."""
    return _ATTRIBUTES if _module_reader(class_name) is not None else ()


_ATTRIBUTES = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "output_padding",
    "padding_mode",
    "num_features",
    "eps",
    "momentum",
    "affine",
    "track_running_stats",
    "return_indices",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
    "output_size",
    "in_features",
    "out_features",
    "negative_slope",
    "dim",
    "start_dim",
    "end_dim",
    "p",
    "normalized_shape",
    "elementwise_affine",
    "scale_factor",
    "mode",
    "size",
    "align_corners",
    "alpha",
    "beta",
    "threshold",
)

# ----------------------------------------------------------------------------- tensor ops

_BINARY = {
    "add": "add",
    "__add__": "add",
    "__radd__": "add",
    "__iadd__": "add",
    "add_": "add",
    "sub": "subtract",
    "__sub__": "subtract",
    "__isub__": "subtract",
    "sub_": "subtract",
    "mul": "multiply",
    "__mul__": "multiply",
    "__rmul__": "multiply",
    "__imul__": "multiply",
    "mul_": "multiply",
    "div": "divide",
    "__truediv__": "divide",
    "__itruediv__": "divide",
    "div_": "divide",
}
_REVERSED = {"__rsub__": "subtract", "rsub": "subtract", "__rtruediv__": "divide"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _binary(name: str, args: list[Any], data_rank: int) -> Face | None:
    a, b = (args + [None, None])[:2]
    reverse = name in _REVERSED
    op = _REVERSED.get(name) or _BINARY[name]
    if isinstance(a, TensorArg) and isinstance(b, TensorArg) and a.data and b.data:
        return (op, [], {}) if op != "divide" and not reverse else None
    data, other = (a, b) if isinstance(a, TensorArg) and a.data else (b, a)
    if not isinstance(data, TensorArg):
        return None
    reverse = reverse or other is a
    if _number(other):
        return "arithmetic", [op], {"operand_shape": [], "value": float(other), "reverse": reverse}
    if isinstance(other, TensorArg):
        shape = list(other.shape)
        while len(shape) > data_rank and shape and shape[0] == 1:
            shape = shape[1:]  # a (1, N, C) constant against per-sample (N, C) data
        return "arithmetic", [op], {"operand_shape": shape, "learned": True, "reverse": reverse}
    return None


def _dim_list(value: Any) -> list[int] | None:
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return list(value)
    return None


def _getitem(index: Any, rank: int) -> Face | None:
    """``x[:, a:b]`` (one sliced axis after full ones) -> slice; anything else: opaque."""
    items = list(index) if isinstance(index, tuple) else [index]
    if len(items) > rank or any(not isinstance(i, slice) for i in items):
        return None
    sliced = [(axis, i) for axis, i in enumerate(items) if i != slice(None)]
    if len(sliced) != 1 or sliced[0][0] == 0:
        return None
    axis, s = sliced[0]
    if not all(v is None or isinstance(v, int) for v in (s.start, s.stop, s.step)):
        return None
    return "slice", [], {"axis": axis, "start": s.start or 0, "stop": s.stop, "step": s.step or 1}


def _permute_class() -> type[Layer]:
    from .reshaping import Permute

    return Permute


def _global_pool_class() -> type[Layer]:
    from .pooling import GlobalPool

    return GlobalPool


def _of_rank(kind: Kind, rank: int) -> Kind | None:
    """The kind of the same class with this rank (a face names one function for every rank)."""
    from . import KINDS

    return next((k for k in KINDS if k.cls is kind.cls and rank_of(k) == rank), None)


def op_face(
    name: str, args: list[Any], kwargs: dict[str, Any], out_shape: tuple[int, ...]
) -> Face | list[Face] | None:
    """The kind a traced tensor op is (``name``: the function's or method's own name, ``relu``,
    ``__add__``, ``view``), from its arguments (tensors as :class:`TensorArg`) and the recorded
    output shape (batch included); None: an opaque row."""
    first = args[0] if args else None
    if isinstance(first, (list, tuple)) and first and isinstance(first[0], TensorArg):
        first = first[0]  # torch.cat([a, b], 1)
    if not isinstance(first, TensorArg):
        first = next((a for a in args if isinstance(a, TensorArg) and a.data), None)
    if first is None:
        return None
    rank = len(first.shape)
    data_rank = rank - 1
    base = name.rstrip("_") if name.endswith("_") and not name.startswith("__") else name
    try:
        if base in ACTIVATIONS or base == "hardtanh":
            if base == "hardtanh":
                lo, hi = (
                    kwargs.get("min_val", args[1] if len(args) > 1 else -1.0),
                    kwargs.get("max_val", args[2] if len(args) > 2 else 1.0),
                )
                return ("relu", [], {"max_value": 6.0}) if (lo, hi) == (0.0, 6.0) else None
            if base == "gelu" and kwargs.get("approximate", "none") != "none":
                return None
            fixed = _DEFAULTS.get(ACTIVATIONS[base], {})
            given = dict(zip(fixed, args[1:], strict=False))
            if any({**given, **kwargs}.get(k, v) != v for k, v in fixed.items()):
                return None
            return "activation", [], {"activation": ACTIVATIONS[base]}
        if name in _BINARY or name in _REVERSED:
            return _binary(name, args, data_rank)
        # Which kind the function is, the kinds' PyTorch faces say (their ``functions``, or a
        # NoFace's ``reads``); how its arguments are read is PyTorch's, by the face's writer code.
        kind = kind_for_torch_function(base)
        if kind is None:
            return _getitem(args[1], rank) if base == "__getitem__" and len(args) > 1 else None
        torch_face = torch_face_of(kind.cls)
        code = torch_face.code if torch_face is not None else None
        if code is TorchCode.LEAKY_RELU:
            slope = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
            return kind.type, [], {"negative_slope": slope}
        if code in (TorchCode.DROPOUT, TorchCode.SPATIAL_DROPOUT):
            if code is TorchCode.SPATIAL_DROPOUT:  # F.dropout2d on a tensor of another rank: its rank's
                kind = _of_rank(kind, rank - 2) or kind_for_torch_function("dropout") or kind
            return kind.type, [kwargs.get("p", args[1] if len(args) > 1 else 0.5)], {}
        if code is TorchCode.SOFTMAX:
            dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
            return ("softmax", [], {"axis": dim}) if isinstance(dim, int) else None
        if code is TorchCode.FLATTEN:
            start = kwargs.get("start_dim", args[1] if len(args) > 1 else 0)
            end = kwargs.get("end_dim", args[2] if len(args) > 2 else -1)
            if (start, end) == (1, -1) and rank > 2:
                return kind.type, [], {}
            if start % rank == 0 or out_shape[:1] != first.shape[:1] or len(out_shape) < 2:
                return None
            return "reshape", [], {"target_shape": list(out_shape[1:])}  # a partial flatten
        if code is TorchCode.RESHAPE:
            if out_shape[:1] != first.shape[:1] or len(out_shape) < 2:
                return None
            return kind.type, [], {"target_shape": list(out_shape[1:])}
        if kind.cls is _permute_class():
            if base == "transpose":
                a, b = (
                    kwargs.get("dim0", args[1] if len(args) > 1 else None),
                    kwargs.get("dim1", args[2] if len(args) > 2 else None),
                )
                if not isinstance(a, int) or not isinstance(b, int) or 0 in (a % rank, b % rank):
                    return None
                swapped = list(range(1, rank))
                swapped[a % rank - 1], swapped[b % rank - 1] = swapped[b % rank - 1], swapped[a % rank - 1]
                return kind.type, [], {"dims": swapped}
            dims = _dim_list(
                kwargs.get("dims", args[1:] if len(args) > 2 else (args[1] if len(args) > 1 else None))
            )
            if not dims or [d % rank for d in dims][0] != 0:
                return None
            return kind.type, [], {"dims": [d % rank for d in dims[1:]]}
        if code is TorchCode.CONCAT:
            tensors = args[0] if args and isinstance(args[0], (list, tuple)) else None
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
            if (
                not tensors
                or not all(isinstance(t, TensorArg) and t.data for t in tensors)
                or not isinstance(dim, int)
            ):
                return None
            if dim % rank == 0:
                return None
            return kind.type, [], {"axis": dim % rank}
        if issubclass(kind.cls, _global_pool_class()):
            # x.mean(dim=(2, 3)) / x.amax(...): the face names the rank-2 kind; the tensor says
            dims = _dim_list(kwargs.get("dim", args[1] if len(args) > 1 else None))
            keep = bool(kwargs.get("keepdim", args[2] if len(args) > 2 else False))
            if rank < 3 or dims is None or sorted(d % rank for d in dims) != list(range(2, rank)):
                return None
            ranked = _of_rank(kind, rank - 2)
            return (ranked.type, [], {"keepdims": keep}) if ranked is not None else None
        if code is TorchCode.ADAPTIVE_POOL:
            size = kwargs.get("output_size", args[1] if len(args) > 1 else None)
            if kwargs.get("return_indices"):
                return None
            return kind.type, [], {"output_size": _tuple(size)}
        if code is TorchCode.POOL and torch_face is not None:
            module = torch_face.names(rank_of(kind))[0]  # MaxPool2d or AvgPool2d
            names = (
                ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
                if module.startswith("MaxPool")
                else (
                    "kernel_size",
                    "stride",
                    "padding",
                    "ceil_mode",
                    "count_include_pad",
                    "divisor_override",
                )
            )
            attrs = dict(zip(names, args[1:], strict=False))
            attrs.update(kwargs)
            return _pool(module[: -len("2d")], rank_of(kind))(attrs)
        if code is TorchCode.UPSAMPLE:
            attrs = dict(zip(("size", "scale_factor", "mode", "align_corners"), args[1:], strict=False))
            attrs.update(kwargs)
            if attrs.get("size") is not None and attrs.get("scale_factor") is None and rank == 4:
                # F.interpolate(x, size=...) to whole multiples of the input: ATen's source index
                # is then the same as with scale_factor (scale = in/out both ways), as the
                # model-code reader reads it (smp's U-Net decoder calls it so)
                ratios = [o / n for o, n in zip(out_shape[2:], first.shape[2:], strict=True)]
                if all(r >= 1 and float(r).is_integer() for r in ratios):
                    attrs = {**attrs, "size": None, "scale_factor": [int(r) for r in ratios]}
            return _upsample(attrs) if rank == 4 else None
        if code is TorchCode.LAYER_NORM:
            shape = kwargs.get("normalized_shape", args[1] if len(args) > 1 else None)
            weight = kwargs.get("weight", args[2] if len(args) > 2 else None)
            bias = kwargs.get("bias", args[3] if len(args) > 3 else None)
            eps = kwargs.get("eps", args[4] if len(args) > 4 else 1e-5)
            return _layernorm(
                {
                    "normalized_shape": shape,
                    "eps": eps,
                    "has_weight": isinstance(weight, TensorArg),
                    "has_bias": isinstance(bias, TensorArg),
                }
            )
        if code is TorchCode.LINEAR:
            weight = kwargs.get("weight", args[1] if len(args) > 1 else None)
            bias = kwargs.get("bias", args[2] if len(args) > 2 else None)
            if not isinstance(weight, TensorArg) or weight.data or len(weight.shape) != 2:
                return None
            return kind.type, [weight.shape[0]], {"use_bias": isinstance(bias, TensorArg)}
        if code is TorchCode.CONV and torch_face is not None:
            weight = kwargs.get("weight", args[1] if len(args) > 1 else None)
            if not isinstance(weight, TensorArg) or weight.data:
                return None
            conv_names = ("bias", "stride", "padding", "dilation", "groups")
            attrs = dict(zip(conv_names, args[2:], strict=False))
            attrs.update(kwargs)
            return (
                torch_face.names(rank_of(kind))[0],  # Conv2d: read with PyTorch's names
                [],
                {
                    "in_channels": first.shape[1],
                    "out_channels": weight.shape[0],
                    "kernel_size": list(weight.shape[2:]),
                    "stride": _tuple(attrs.get("stride", 1)),
                    "padding": _tuple(attrs.get("padding", 0)),
                    "dilation": _tuple(attrs.get("dilation", 1)),
                    "groups": attrs.get("groups", 1),
                    "bias": isinstance(attrs.get("bias"), TensorArg),
                },
            )
        if code is TorchCode.BATCH_NORM and rank >= 2:
            bn_names = ("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
            attrs = dict(zip(bn_names, args[1:], strict=False))
            attrs.update(kwargs)
            if not isinstance(attrs.get("running_mean"), TensorArg):
                return None
            kw: dict[str, Any] = {
                "num_features": first.shape[1],
                "eps": attrs.get("eps", 1e-5),
                "affine": isinstance(attrs.get("weight"), TensorArg),
            }
            if isinstance(attrs.get("momentum"), float):
                kw["momentum"] = attrs["momentum"]
            # read with PyTorch's names (BatchNorm2d's, which are every rank's); with the module's
            # batch counter among the buffers, or without (a bare F.batch_norm)
            return [("BatchNorm2d", [], kw), ("BatchNorm2d", [], {**kw, "num_batches_tracked": False})]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return None


def split_faces(
    name: str, args: list[Any], kwargs: dict[str, Any], outs: list[tuple[int, ...]]
) -> list[Face] | None:
    """``chunk``/``split``/``unbind``-like ops with several outputs -> one slice per output along
    the split axis (the recorded output sizes say where each starts); None: opaque rows."""
    first = args[0] if args else None
    if name not in ("chunk", "split", "tensor_split") or not isinstance(first, TensorArg):
        return None
    rank = len(first.shape)
    dim = kwargs.get("dim", args[2] if len(args) > 2 else 0)
    if not isinstance(dim, int) or dim % rank == 0:
        return None
    axis = dim % rank
    faces: list[Face] = []
    start = 0
    for shape in outs:
        stop = start + shape[axis]
        faces.append(("slice", [], {"axis": axis, "start": start, "stop": stop, "step": 1}))
        start = stop
    return faces
