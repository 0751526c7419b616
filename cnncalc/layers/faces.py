"""Each kind's faces: how Keras, PyTorch and ONNX spell it, declared once on the kind.

Every layer class states, next to its rules, three class attributes:

- ``keras_face``: a :class:`KerasFace` (the ``keras.layers`` class, ``{rank}`` filled from the
  kind, and how export writes it) or a :class:`NoFace` with the reason Keras has none;
- ``torch_face``: a :class:`TorchFace` (``torch.nn`` modules, functions, the constructor's order and
  names, how export writes it) or a :class:`NoFace`;
- ``onnx_face``: an :class:`OnnxFace` (the ONNX op types) or a :class:`NoFace`.

The lookups here run both ways: a framework's name to the kind (:func:`kind_for_keras_class`,
:func:`kind_for_torch_module`, :func:`kind_for_onnx_op`) for the readers, and a kind to its face
(:func:`faces_of`) for the writers (``cnncalc export``), which refuse a kind whose face is a
:class:`NoFace` in one line with its reason (:func:`refusal`). ``tests/test_architecture.py``
fails when a kind declares no face for a framework (inheriting a parent's does not count).

The reverse lookups import every layer module once (readers only); nothing here is imported at
start-up by ``cnncalc summary`` beyond these small records.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any

from ..enums import Framework
from ..errors import SpecError

if TYPE_CHECKING:
    from . import Kind
    from .base import Layer


# ----------------------------------------------------------------------------- PyTorch signatures


def torch_momentum(value: Any) -> Any:
    """BatchNorm momentum between the frameworks: PyTorch's m weighs the new batch, Keras's the
    running value, so each is 1 - the other (rounded to 12 places: 1 - 0.99 is 0.010000000000000009)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(1 - float(value), 12)
    return value  # not a number: the Keras coercer says what is wrong


class _Record:
    """A small frozen record. (A dataclass compiles its methods when its module is imported: the
    faces are imported with every layer module, so they stay plain classes, for start-up time.)"""

    __slots__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, k) for k in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Record) and type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash((type(self), *map(_hashable, self._values())))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            object.__setattr__(self, key, value)


def _hashable(value: Any) -> Any:
    return tuple(sorted((k, _hashable(v)) for k, v in value.items())) if isinstance(value, Mapping) else value


class TorchSignature(_Record):
    """How one PyTorch class spells a cnncalc kind's arguments."""

    __slots__ = ("class_name", "positional", "names", "convert", "defaults")
    #: the PyTorch class name (``Conv2d``; ``Conv{rank}d`` in a face, filled by :meth:`for_rank`)
    class_name: str
    #: PyTorch argument names in constructor order (the positional order)
    positional: tuple[str, ...]
    #: PyTorch argument name -> cnncalc argument name(s)
    names: Mapping[str, tuple[str, ...]]
    #: value conversions, by PyTorch argument name
    convert: Mapping[str, Callable[[Any], Any]]
    #: PyTorch's defaults where they differ from Keras's, by cnncalc argument name
    defaults: Mapping[str, Any]

    def __init__(
        self,
        class_name: str,
        positional: tuple[str, ...],
        names: Mapping[str, tuple[str, ...]],
        convert: Mapping[str, Callable[[Any], Any]] | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self._set(
            class_name=class_name,
            positional=positional,
            names=names,
            convert=convert or {},
            defaults=defaults or {},
        )

    def for_rank(self, rank: int) -> TorchSignature:
        """The signature with the class name of a kind of this rank."""
        return TorchSignature(
            self.class_name.format(rank=rank), self.positional, self.names, self.convert, self.defaults
        )

    def arguments(self, positional: list[Any], keywords: Mapping[str, Any]) -> dict[str, Any]:
        """PyTorch positional and keyword values -> cnncalc keyword values."""
        if len(positional) > len(self.positional):
            raise SpecError(
                f"{self.class_name} takes at most {len(self.positional)} positional arguments "
                f"({', '.join(self.positional)}), got {len(positional)}"
            )
        given = dict(zip(self.positional, positional, strict=False))
        for key, value in keywords.items():
            if key in given:
                raise SpecError(f"{key} given twice")
            given[key] = value
        out: dict[str, Any] = {}
        for key, value in given.items():
            # cnncalc's own (Keras) names pass through: a --format json document reads back
            targets = self.names.get(key, (key,))
            value = self.convert.get(key, lambda v: v)(value)
            for target in targets:
                if target in out:
                    raise SpecError(f"{target} given twice (as {key})")
                out[target] = value
        return {**self.defaults, **out}


def torch_signature(spelled: str) -> TorchSignature | None:
    """The PyTorch signature of a kind spelled with its PyTorch class name (``Conv2d``,
    ``nn.Linear``), or None: the kind's own PyTorch face (:mod:`cnncalc.layers.faces`) says."""
    from . import lookup

    key = spelled.strip()
    try:
        kind = lookup(key[3:] if key.lower().startswith("nn.") else key)
    except SpecError:
        return None
    return torch_signature_of(kind, spelled)


# ----------------------------------------------------------------------------- faces


class KerasCode(Enum):
    """How ``cnncalc export --to keras`` writes a kind (its writer in :mod:`cnncalc.export`)."""

    #: ``layers.X(non-default arguments)``
    LAYER = "layer"
    #: a conv or pooling: PyTorch's integer padding and ceil_mode as a ZeroPadding layer before it
    WINDOWED = "windowed"
    #: a transposed conv: PyTorch's padding as a Cropping layer after it
    TRANSPOSED = "transposed"
    #: PyTorch's adaptive pooling as upsampling and pooling (or global pooling)
    ADAPTIVE = "adaptive"
    #: PyTorch's InstanceNorm as ``GroupNormalization(groups=-1)``
    INSTANCE_NORM = "instance_norm"


class TorchCode(Enum):
    """How ``cnncalc export --to pytorch`` writes a kind (its writer in :mod:`cnncalc.export_torch`)."""

    CONV = "conv"
    TRANSPOSED = "transposed"
    LINEAR = "linear"
    BATCH_NORM = "batch_norm"
    POOL = "pool"
    ADAPTIVE_POOL = "adaptive_pool"
    GLOBAL_AVG = "global_avg"
    ZERO_PAD = "zero_pad"
    UPSAMPLE = "upsample"
    FLATTEN = "flatten"
    DROPOUT = "dropout"
    SPATIAL_DROPOUT = "spatial_dropout"
    ACTIVATION = "activation"
    RELU = "relu"
    LEAKY_RELU = "leaky_relu"
    SOFTMAX = "softmax"
    ADD = "add"
    MULTIPLY = "multiply"
    CONCAT = "concat"
    SLICE = "slice"
    LAYER_NORM = "layer_norm"
    RESHAPE = "reshape"
    PIXEL_SHUFFLE = "pixel_shuffle"
    GROUP_NORM = "group_norm"
    INSTANCE_NORM = "instance_norm"


class Counted(Enum):
    """Which counting rule other tools (torchinfo, fvcore, ptflops, thop, torch) apply to a kind:
    each kind declares one as ``counted``; :mod:`cnncalc.counters` keys its rules on it."""

    CONV = "conv"
    CONV_TRANSPOSE = "conv_transpose"
    DENSE = "dense"
    BATCH_NORM = "batch_norm"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    INSTANCE_NORM = "instance_norm"
    RELU = "relu"
    LEAKY_RELU = "leaky_relu"
    ACTIVATION = "activation"
    SOFTMAX = "softmax"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    ADAPTIVE_AVG = "adaptive_avg"
    ADAPTIVE_MAX = "adaptive_max"
    GLOBAL_AVG = "global_avg"
    GLOBAL_MAX = "global_max"
    UPSAMPLING = "upsampling"
    LAYER_SCALE = "layer_scale"
    #: the + operator on two tensors
    RESIDUAL_ADD = "residual_add"
    #: the - operator on two tensors
    DIFFERENCE = "difference"
    #: the * operator on two tensors
    PRODUCT = "product"
    #: an operator on a tensor and a constant
    CONSTANT_ARITHMETIC = "constant_arithmetic"
    #: a recorded op cnncalc has no kind for: its cost is unknown, counted as 0
    OPAQUE = "opaque"
    #: no rule of its own: its multiply-adds if it has any (network3, a nested model), else none
    OTHER = "other"


class NoFace(_Record):
    """The kind has no face in this framework, and why (export refuses it with this reason)."""

    __slots__ = ("reason", "what", "reads")
    reason: str
    #: what the kind is, in a few words, when its class name does not say (``a slice of a tensor``)
    what: str
    #: names the framework's files hold that read as this kind though cnncalc writes none
    #: (Keras: a keras.applications layer class such as ``LayerScale``; PyTorch: a function or
    #: tensor method ``--trace`` reads, such as ``x.permute``)
    reads: tuple[str, ...]

    def __init__(self, reason: str, what: str = "", *, reads: tuple[str, ...] = ()) -> None:
        self._set(reason=reason, what=what, reads=reads)


class KerasFace(_Record):
    """How Keras spells a kind: the ``keras.layers`` class (``Conv{rank}D``) and its arguments."""

    __slots__ = (
        "class_name",
        "code",
        "data_format",
        "channel_axis",
        "written_only",
        "strided_dilation",
        "aliases",
    )
    #: the keras.layers class name, ``{rank}`` filled from the kind's rank
    class_name: str
    #: how export writes it
    code: KerasCode
    #: the class takes ``data_format`` (written under channels_first)
    data_format: bool
    #: its ``axis`` argument is the channel axis (``axis=1`` written under channels_first)
    channel_axis: bool
    #: a class other kinds read as (this kind is only written this way, never read back as it)
    written_only: bool
    #: the class takes strides > 1 together with dilation_rate > 1 (``Conv*D`` and
    #: ``Conv*DTranspose`` refuse it: ``keras.src.layers.convolutional.base_conv``)
    strided_dilation: bool
    #: Keras's other names for the same class (``MaxPool{rank}D``, Keras 1's ``Convolution{rank}D``)
    aliases: tuple[str, ...]

    def __init__(
        self,
        class_name: str,
        code: KerasCode = KerasCode.LAYER,
        *,
        data_format: bool = False,
        channel_axis: bool = False,
        written_only: bool = False,
        strided_dilation: bool = True,
        aliases: tuple[str, ...] = (),
    ) -> None:
        self._set(
            class_name=class_name,
            code=code,
            data_format=data_format,
            channel_axis=channel_axis,
            written_only=written_only,
            strided_dilation=strided_dilation,
            aliases=aliases,
        )

    def name(self, rank: int) -> str:
        """The class name for a kind of this rank."""
        return self.class_name.format(rank=rank)


class TorchFace(_Record):
    """How PyTorch spells a kind: ``torch.nn`` modules (``{rank}`` filled), functions, arguments."""

    __slots__ = (
        "modules",
        "functions",
        "signature",
        "code",
        "unwritten",
        "written_only",
        "orders",
        "implies",
    )
    #: torch.nn module class names that are this kind
    modules: tuple[str, ...]
    #: ``F.x`` / ``torch.x`` functions that are this kind
    functions: tuple[str, ...]
    #: the constructor's positional order and names (None: cnncalc's own names)
    signature: TorchSignature | None
    #: how export writes it (None: read, never written; ``unwritten`` says why)
    code: TorchCode | None
    unwritten: str
    #: modules another kind also reads as (this kind is not what reading them gives)
    written_only: bool
    #: PyTorch's positional argument order of modules without a :class:`TorchSignature`, by
    #: module name (``{rank}`` filled): ``nn.ReLU(True)`` is ``inplace=True``, never ``max_value``
    orders: Mapping[str, tuple[str, ...]]
    #: the kind's arguments a module is by its name alone, by module name (``{rank}`` filled):
    #: ``nn.ReLU6()`` is the relu kind with ``max_value=6``, ``nn.Hardswish()`` the activation
    #: ``hard_swish`` (the model-code reader builds the kind with them)
    implies: Mapping[str, Mapping[str, Any]]

    def __init__(
        self,
        modules: tuple[str, ...] = (),
        functions: tuple[str, ...] = (),
        signature: TorchSignature | None = None,
        code: TorchCode | None = None,
        unwritten: str = "",
        *,
        written_only: bool = False,
        orders: Mapping[str, tuple[str, ...]] | None = None,
        implies: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._set(
            modules=modules,
            functions=functions,
            signature=signature,
            code=code,
            unwritten=unwritten,
            written_only=written_only,
            orders=orders or {},
            implies=implies or {},
        )

    def names(self, rank: int) -> tuple[str, ...]:
        """The module class names for a kind of this rank."""
        return tuple(m.format(rank=rank) for m in self.modules)


class OnnxFace(_Record):
    """Which ONNX op types are this kind."""

    __slots__ = ("ops",)
    ops: tuple[str, ...]

    def __init__(self, ops: tuple[str, ...]) -> None:
        self._set(ops=ops)


Face = KerasFace | TorchFace | OnnxFace | NoFace


class Faces(_Record):
    """A kind's face in each framework."""

    __slots__ = ("keras", "torch", "onnx")
    keras: KerasFace | NoFace
    torch: TorchFace | NoFace
    onnx: OnnxFace | NoFace

    def __init__(self, keras: KerasFace | NoFace, torch: TorchFace | NoFace, onnx: OnnxFace | NoFace) -> None:
        self._set(keras=keras, torch=torch, onnx=onnx)

    def of(self, framework: Framework) -> Face:
        """The face in ``framework``."""
        return {Framework.KERAS: self.keras, Framework.PYTORCH: self.torch, Framework.ONNX: self.onnx}[
            framework
        ]


#: The attribute of a layer class holding its face in each framework.
ATTRIBUTES: Mapping[Framework, str] = {
    Framework.KERAS: "keras_face",
    Framework.PYTORCH: "torch_face",
    Framework.ONNX: "onnx_face",
}


def faces_of(cls: builtins.type[Layer]) -> Faces:
    """The faces a layer class declares."""
    return Faces(cls.keras_face, cls.torch_face, cls.onnx_face)


def rank_of(kind: Kind) -> int:
    """The kind's rank (its fixed ``rank`` argument; 2 when it has none)."""
    return int(dict(kind.fixed).get("rank", 2))


def refusal(layer: Layer, framework: Framework) -> str | None:
    """Why export cannot write ``layer`` for ``framework`` ("<Kind> has no ... : reason"), or None."""
    from . import kind_of

    kind = kind_of(layer)
    face = faces_of(type(layer)).of(framework)
    if isinstance(face, NoFace):
        where = {
            Framework.KERAS: "keras.layers class",
            Framework.PYTORCH: "PyTorch module",
            Framework.ONNX: "ONNX op",
        }
        what = f" ({face.what})" if face.what else ""
        return f"{kind.class_name}{what} has no {where[framework]} cnncalc writes: {face.reason}"
    if isinstance(face, TorchFace) and face.code is None:
        return f"{kind.class_name} has no PyTorch module cnncalc writes: {face.unwritten}"
    return None


# ----------------------------------------------------------------------------- framework -> kind


class _Index:
    """Every face's names, to the kind (built once, on a reader's first lookup)."""

    def __init__(self) -> None:
        self.keras: dict[str, Kind] = {}
        self.torch_modules: dict[str, Kind] = {}
        self.torch_functions: dict[str, Kind] = {}
        self.onnx: dict[str, tuple[Kind, ...]] = {}


@cache
def _index() -> _Index:
    """Every face's names, to the kind (imports every layer module: readers only)."""
    from . import KINDS

    index = _Index()
    # A name several ranks share (``Upsample``, ``instance_norm``) reads as the 2-D kind.
    for kind in sorted(KINDS, key=lambda k: rank_of(k) != 2):
        faces = faces_of(kind.cls)
        rank = rank_of(kind)
        if isinstance(faces.keras, KerasFace) and not faces.keras.written_only:
            for name in (faces.keras.class_name, *faces.keras.aliases):
                index.keras.setdefault(name.format(rank=rank).lower(), kind)
        if isinstance(faces.keras, NoFace):
            for name in faces.keras.reads:
                index.keras.setdefault(name.lower(), kind)
        if isinstance(faces.torch, NoFace):
            for name in faces.torch.reads:
                index.torch_functions.setdefault(name.format(rank=rank).lower(), kind)
        if isinstance(faces.torch, TorchFace) and not faces.torch.written_only:
            for name in faces.torch.names(rank):
                index.torch_modules.setdefault(name.lower(), kind)
            for name in faces.torch.functions:
                index.torch_functions.setdefault(name.format(rank=rank).lower(), kind)
        if isinstance(faces.onnx, OnnxFace):
            for op in faces.onnx.ops:
                if kind not in index.onnx.get(op, ()):
                    index.onnx[op] = (*index.onnx.get(op, ()), kind)
    return index


def keras_class_name(name: str) -> str:
    """Keras's main name for a class given by one of its other names, exactly as a face spells it
    (``MaxPool2D`` -> ``MaxPooling2D``); any other name as given."""
    kind = kind_for_keras_class(name)
    face = kind.cls.keras_face if kind is not None else None
    if kind is None or not isinstance(face, KerasFace):
        return name
    rank = rank_of(kind)
    return face.name(rank) if name in {alias.format(rank=rank) for alias in face.aliases} else name


def kind_for_keras_class(name: str) -> Kind | None:
    """The kind a ``keras.layers`` class is (``Conv2D`` -> conv2d; a ``NoFace``'s ``reads``:
    ``LayerScale`` -> layerscale), or None."""
    return _index().keras.get(name.strip().lower())


def kind_for_torch_module(name: str) -> Kind | None:
    """The kind a ``torch.nn`` module class is (``PixelShuffle``, ``nn.GroupNorm``), or None."""
    key = name.strip().lower()
    return _index().torch_modules.get(key[3:] if key.startswith("nn.") else key)


def kind_for_torch_function(name: str) -> Kind | None:
    """The kind a ``torch.nn.functional``/``torch`` function or tensor method is (``pixel_shuffle``,
    ``max_pool2d``; a ``NoFace``'s ``reads``: ``permute``), or None."""
    return _index().torch_functions.get(name.strip().lower())


def kinds_for_onnx_op(op: str) -> tuple[Kind, ...]:
    """The kinds an ONNX op type can be (``Add``: a merge or a constant's arithmetic)."""
    return _index().onnx.get(op, ())


def kind_for_onnx_op(op: str) -> Kind | None:
    """The (first) kind an ONNX op type is, or None."""
    kinds = kinds_for_onnx_op(op)
    return kinds[0] if kinds else None


@cache
def torch_modules() -> frozenset[str]:
    """Every torch.nn module class name a kind reads as (original spelling)."""
    from . import KINDS

    out: set[str] = set()
    for kind in KINDS:
        face = kind.cls.torch_face
        if isinstance(face, TorchFace) and not face.written_only:
            out.update(face.names(rank_of(kind)))
    return frozenset(out)


def torch_positional(module: str) -> tuple[str, ...] | None:
    """PyTorch's positional argument order of a torch.nn module its kind's face gives without a
    signature (``ELU``: alpha, inplace), or None."""
    kind = kind_for_torch_module(module)
    face = kind.cls.torch_face if kind is not None else None
    if kind is None or not isinstance(face, TorchFace):
        return None
    rank = rank_of(kind)
    return {name.format(rank=rank): order for name, order in face.orders.items()}.get(module)


def torch_module_kind(module: str) -> tuple[Kind, TorchCode | None, dict[str, Any]] | None:
    """The kind a ``torch.nn`` module class is, the writer code of its PyTorch face (how its
    arguments read) and the arguments its name alone implies (``ReLU6``: ``max_value=6.0``), or None."""
    kind = kind_for_torch_module(module)
    face = kind.cls.torch_face if kind is not None else None
    if kind is None or not isinstance(face, TorchFace):
        return None
    rank = rank_of(kind)
    implies = {name.format(rank=rank): dict(values) for name, values in face.implies.items()}
    return kind, face.code, implies.get(module.strip().removeprefix("nn."), {})


def torch_signature_of(kind: Kind, spelled: str) -> TorchSignature | None:
    """The PyTorch constructor signature when ``spelled`` is one of the kind's module names."""
    face = kind.cls.torch_face
    if not isinstance(face, TorchFace) or face.signature is None:
        return None
    key = spelled.strip().lower()
    key = key[3:] if key.startswith("nn.") else key
    rank = rank_of(kind)
    return face.signature.for_rank(rank) if key in {m.lower() for m in face.names(rank)} else None


# ----------------------------------------------------------------------------- shared PyTorch words

#: cnncalc activation names and the torch.nn module of each (export writes these; the PyTorch
#: reader reads the modules, and the same names lower-cased as ``F.x``/``torch.x`` functions).
TORCH_ACTIVATIONS: Mapping[str, str] = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "gelu": "GELU",
    "silu": "SiLU",
    "swish": "SiLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "elu": "ELU",
    "selu": "SELU",
    "softplus": "Softplus",
    "mish": "Mish",
    "hard_swish": "Hardswish",
    "hard_sigmoid": "Hardsigmoid",
}


def torch_values(values: Any) -> str:
    """A PyTorch size argument's value: one number when every axis agrees, else a tuple
    (``3``, ``(1, 2)``). Export's writer and the fix-it hints spell sizes with it."""
    if not isinstance(values, (list, tuple)):
        return str(values)
    return str(values[0]) if len(set(values)) == 1 else f"({', '.join(map(str, values))})"


def torch_zero_pad(pairs: Any) -> str:
    """``nn.ZeroPad{rank}d((...))`` padding (before, after) per axis; PyTorch lists the last axis
    first. Export's writer and the fix-it hints spell zero padding with it."""
    flat = ", ".join(str(v) for pair in reversed(list(pairs)) for v in pair)
    return f"nn.ZeroPad{len(pairs)}d(({flat}))"


def torch_negative_pad_kind(rank: int) -> Kind:
    """The kind an ``nn.ZeroPad{rank}d`` with negative amounts reads as: PyTorch's negative padding
    crops (``F.pad``: "negative padding removes elements"), cnncalc's Cropping of that rank (export
    writes one after a transposed conv whose Keras 'same' crops an odd count)."""
    kind = kind_for_keras_class(f"Cropping{rank}D")
    if kind is None:  # pragma: no cover - Cropping1D/2D/3D are registered
        raise KeyError(f"Cropping{rank}D")
    return kind


def torch_transposed_padding(
    n: int, out: int, kernel: int, stride: int, dilation: int
) -> tuple[int, int, int]:
    """PyTorch's (padding, output_padding, cells cropped at the end) of a ConvTranspose giving
    Keras's ``out`` cells from ``n``, the same cells as Keras. Keras (every backend; TensorFlow's
    conv2d_transpose) computes the full output, L = (n - 1)*s + d*(k - 1) + 1, and crops
    t = L - out cells, floor(t/2) at the start and ceil(t/2) at the end (t < 0: -t cells added at
    the end, as PyTorch's output_padding adds them); PyTorch's padding=p crops p at both ends, so
    an odd t is padding=floor(t/2) and one more cell cropped at the end (a negative ``nn.ZeroPad``).
    The caller checks output_padding < max(s, d), as PyTorch requires (export's writer, the hints)."""
    crop = (n - 1) * stride + dilation * (kernel - 1) + 1 - out
    if crop >= 0:
        return crop // 2, 0, crop % 2
    return 0, -crop, 0


def torch_same_size_padding(n: int, out: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """PyTorch's (padding, output_padding) giving ``out`` cells from ``n`` with the least padding:
    out = (n - 1)*s - 2p + d*(k - 1) + output_padding + 1 solved for p. The output size only: when
    Keras crops an odd count its cells are one later than these (:func:`torch_transposed_padding`)."""
    diff = (n - 1) * stride + dilation * (kernel - 1) + 1 - out
    pad = max(0, -(-diff // 2))
    return pad, 2 * pad - diff


#: The torch.nn activation modules that take ``inplace`` (the model-code reader keeps it, for
#: ``cnncalc memory``; export writes it).
TORCH_INPLACE: frozenset[str] = frozenset(
    {"ReLU", "ReLU6", "SiLU", "ELU", "SELU", "Mish", "Hardswish", "Hardsigmoid"}
)


def torch_activation_functions() -> dict[str, str]:
    """``F.x``/``torch.x``/``x.method()`` activation names -> cnncalc activation names."""
    out = {module.lower(): name for name, module in TORCH_ACTIVATIONS.items() if name != "swish"}
    return {**out, "log_softmax": "log_softmax"}


def declared(cls: builtins.type[Any], framework: Framework) -> bool:
    """True when the class itself (not a parent) declares its face in ``framework``."""
    return ATTRIBUTES[framework] in vars(cls)


def keras_face_of(cls: builtins.type[Layer]) -> KerasFace | None:
    """A kind's Keras face, or None when the kind has none (a ``NoFace``): readers and writers
    ask this instead of testing face classes themselves."""
    face = cls.keras_face
    return face if isinstance(face, KerasFace) else None


def torch_face_of(cls: builtins.type[Layer]) -> TorchFace | None:
    """A kind's PyTorch face, or None when the kind has none (a ``NoFace``)."""
    face = cls.torch_face
    return face if isinstance(face, TorchFace) else None


def written_keras(layer: Layer) -> KerasFace | None:
    """The Keras face a writer follows, or None when the kind has none (a ``NoFace``)."""
    return keras_face_of(type(layer))


def written_torch(layer: Layer) -> TorchFace | None:
    """The PyTorch face a writer follows, or None when the kind has none (a ``NoFace``)."""
    return torch_face_of(type(layer))
