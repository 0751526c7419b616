"""The machinery every layer kind shares: Layer, Context, LayerOutput, ReceptiveField, Window.

Fields are declared in the Keras constructor's order (that order is the compact grammar's
positional order) and carry their own coercer, so a layer built from a spec and one built in
Python are validated by the same code. Shapes exclude the batch axis and follow the data format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from typing import Any, ClassVar

from .errors import ShapeError, SpecError
from .options import Convention, DataFormat

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Context:
    """The model-wide settings a layer's rules depend on."""

    convention: Convention = Convention.KERAS
    data_format: DataFormat = DataFormat.CHANNELS_LAST


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class LayerOutput:
    """What a layer does to a shape: its output shape, parameter counts and multiply-accumulates.

    ``non_trainable`` are parameters the framework counts but does not train (Keras BatchNorm's
    moving statistics); ``buffers`` are tensors PyTorch keeps outside ``parameters()``.
    """

    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    buffers: int = 0
    #: multiply-accumulates by weights, bias not included
    macs: int = 0
    #: one addition per output element that gets a bias
    bias_adds: int = 0
    #: elementwise work that is not a MAC: pooling comparisons/adds, activations, normalization
    ops: int = 0
    #: the resolved window geometry per spatial axis (conv/pool only)
    windows: tuple[Window, ...] = ()


def activation_ops(name: str, elements: int) -> int:
    """Ops of an activation over ``elements`` values: 0 for linear, 3 per value for softmax
    (exp, sum, divide), 1 per value for every other elementwise function."""
    if name == "linear":
        return 0
    return 3 * elements if name in ("softmax", "log_softmax") else elements


@dataclass(frozen=True)
class ReceptiveField:
    """Per spatial axis: field size ``r``, jump ``j`` (input cells between neighbouring outputs) and
    ``start`` (centre of the first output's field, in input cells from the centre of input cell 0).

    Recurrences (Araujo et al., "Computing Receptive Fields of CNNs", Distill 2019), per window op
    with effective kernel F_eff, stride S and padding P_before:
    r_out = r_in + (F_eff - 1)*j_in;  j_out = j_in*S;  start_out = start_in + ((F_eff - 1)/2 - P_before)*j_in.
    """

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[float, ...]

    @classmethod
    def of_input(cls, rank: int) -> ReceptiveField:
        """Each input cell sees itself."""
        return cls((1,) * rank, (1,) * rank, (0.0,) * rank)

    @property
    def tracked(self) -> bool:
        """False after layers the recurrences do not cover (upsampling, transposed conv, reshape)."""
        return bool(self.size)

    def through(self, windows: tuple[Window, ...]) -> ReceptiveField:
        """The field after a window op."""
        if not self.tracked:
            return self
        return ReceptiveField(
            tuple(r + (w.f_eff - 1) * j for r, j, w in zip(self.size, self.jump, windows, strict=True)),
            tuple(j * w.stride for j, w in zip(self.jump, windows, strict=True)),
            tuple(
                s + ((w.f_eff - 1) / 2 - w.before) * j
                for s, j, w in zip(self.start, self.jump, windows, strict=True)
            ),
        )


def arg(coerce: Callable[[Any, int], Any], default: Any = None, *, aliases: tuple[str, ...] = ()) -> Any:
    """Declare a layer argument: its coercer, Keras default and accepted alternative names."""
    return field(default=default, metadata={"coerce": coerce, "aliases": aliases})


def required(coerce: Callable[[Any, int], Any], *, aliases: tuple[str, ...] = ()) -> Any:
    """Declare a layer argument without a default."""
    return field(metadata={"coerce": coerce, "aliases": aliases})


#: The field after layers whose fractional strides or reordering the recurrences do not cover.
UNTRACKED = ReceptiveField((), (), ())

AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def split_channels(shape: Shape, fmt: DataFormat) -> tuple[Shape, int]:
    """(spatial sizes, channels) of a shape in the given data format."""
    if fmt is DataFormat.CHANNELS_FIRST:
        return shape[1:], shape[0]
    return shape[:-1], shape[-1]


def join_channels(spatial: Shape, channels: int, fmt: DataFormat) -> Shape:
    """The inverse of :func:`split_channels`."""
    if fmt is DataFormat.CHANNELS_FIRST:
        return (channels, *spatial)
    return (*spatial, channels)


def kind(cls: type) -> type:
    """Declare a layer kind: a dataclass of its fields, whose init, equality, hash, repr and
    frozenness come from :class:`Layer`. (``dataclass(frozen=True)`` generates and compiles all of
    those for every class; for the forty-odd kinds that alone doubled cnncalc's start-up.)"""
    return dataclass(init=False, repr=False, eq=False)(cls)


class Layer:
    """Base class: a frozen record of Keras-named arguments. Subclasses are declared with
    :func:`kind`, list fields with :func:`arg`/:func:`required` and implement :meth:`compute`;
    names (``conv2d``, ``Conv2D``) live in :mod:`cnncalc.registry`."""

    #: True for merges, which read several inputs (``compute_many``)
    takes_many: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        declared = fields(self)  # type: ignore[arg-type]
        if len(args) > len(declared):
            raise TypeError(f"{type(self).__name__} takes at most {len(declared)} arguments")
        values = dict(zip((f.name for f in declared), args, strict=False))
        for name, value in kwargs.items():
            if name in values or name not in {f.name for f in declared}:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated argument {name!r}")
            values[name] = value
        for f in declared:
            if f.name in values:
                value = values[f.name]
            elif f.default is not MISSING:
                value = f.default
            else:
                raise TypeError(f"{type(self).__name__} needs {f.name}")
            object.__setattr__(self, f.name, value)
        self.__post_init__()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({args})"

    def __post_init__(self) -> None:
        rank = getattr(self, "rank", 0)
        for f in fields(self):  # type: ignore[arg-type]
            coerce = f.metadata.get("coerce")
            if coerce is None:
                continue
            try:
                object.__setattr__(self, f.name, coerce(getattr(self, f.name), rank))
            except SpecError as err:
                raise SpecError(f"{f.name}: {err.reason}") from None
        self.check()

    def check(self) -> None:
        """Validate argument combinations that no single coercer can see."""

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        """Output shape, params and MACs for an input ``shape`` (no batch axis)."""
        raise NotImplementedError

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        """The field after this layer, or None once every output sees the whole input (global).

        Default: elementwise layers keep the field; window ops extend it.
        """
        return rf.through(out.windows) if out.windows else rf

    def config(self) -> dict[str, Any]:
        """The layer's full arguments by their Keras names (JSON-ready; tuples become lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if "coerce" not in f.metadata:
                continue
            value = getattr(self, f.name)
            if f.name == "data_format" and value is None:
                continue  # None means "the model's": leave it to the model-level setting
            out[f.name] = _jsonable(value)
        return out

    @classmethod
    def arguments(cls) -> list[tuple[str, tuple[str, ...]]]:
        """(name, aliases) of every user-settable argument, in positional order."""
        return [(f.name, f.metadata["aliases"]) for f in fields(cls) if "coerce" in f.metadata]

    def layout(self, ctx: Context) -> DataFormat:
        """The layer's own data format if it set one, else the model's."""
        own = getattr(self, "data_format", None)
        return own if isinstance(own, DataFormat) else ctx.data_format


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, DataFormat):
        return value.value
    return value


def spatial_input(layer: Any, shape: Shape, ctx: Context) -> tuple[Shape, int, DataFormat]:
    """(spatial sizes, channels, data format) of a rank-matching input, else a clear ShapeError."""
    fmt = layer.layout(ctx)
    expect_rank(layer, shape, layer.rank + 1, spatial_layout(layer.rank, fmt))
    spatial, channels = split_channels(shape, fmt)
    return spatial, channels, fmt


def expect_rank(layer: Layer, shape: Shape, rank: int, what: str) -> None:
    """A clear error when an input's rank does not fit the kind (a Conv1D gets length x channels)."""
    if len(shape) != rank:
        from .registry import kind_of  # the registry imports the layer modules

        raise ShapeError(
            f"{kind_of(layer).class_name} expects a rank-{rank} input ({what}, no batch axis), "
            f"got {len(shape)} axes {fmt_shape(shape)}"
        )


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(n) for n in shape)


def spatial_layout(rank: int, fmt: DataFormat) -> str:
    names = " x ".join(AXIS_NAMES[rank])
    return f"channels x {names}" if fmt is DataFormat.CHANNELS_FIRST else f"{names} x channels"


@dataclass(frozen=True)
class Window:
    """The resolved geometry of one spatial axis under a window op (conv or pooling)."""

    n: int
    kernel: int
    f_eff: int
    stride: int
    dilation: int
    before: int
    after: int
    out: int
