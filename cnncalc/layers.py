"""One frozen dataclass per layer kind: output shape, parameter count and MACs from an input shape.

Fields are declared in the Keras constructor's order (that order is the compact grammar's
positional order) and carry their own coercer, so a layer built from a spec and one built in
Python are validated by the same code. Shapes exclude the batch axis and follow the data format.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from . import formulas as F
from . import values as V
from .errors import ShapeError, SpecError
from .options import Convention, DataFormat

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Context:
    """The model-wide settings a layer's rules depend on."""

    convention: Convention = Convention.KERAS
    data_format: DataFormat = DataFormat.CHANNELS_LAST


@dataclass(frozen=True)
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

    def through(self, windows: tuple[Window, ...]) -> ReceptiveField:
        """The field after a window op."""
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


@dataclass(frozen=True)
class Layer:
    """Base class. Subclasses declare fields with :func:`arg` and implement :meth:`compute`."""

    #: lowercase Keras class name used as the JSON ``type``, e.g. ``conv2d``
    type: ClassVar[str] = ""
    #: Keras class name shown in tables, e.g. ``Conv2D``
    class_name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        rank = getattr(self, "rank", 0)
        for f in fields(self):
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


def _expect_rank(layer: Layer, shape: Shape, rank: int, what: str) -> None:
    if len(shape) != rank:
        raise ShapeError(
            f"{layer.class_name} expects a rank-{rank} input ({what}, no batch axis), "
            f"got {len(shape)} axes {_fmt(shape)}"
        )


def _fmt(shape: Shape) -> str:
    return "x".join(str(n) for n in shape)


def _spatial_layout(rank: int, fmt: DataFormat) -> str:
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


def resolve_windows(
    spatial: Shape,
    kernel: Shape,
    strides: Shape,
    dilation: Shape,
    padding: V.Padding,
    ctx: Context,
    *,
    ceil_mode: bool = False,
    what: str = "kernel",
) -> tuple[Window, ...]:
    """Per-axis output length and padding for conv/pool, under the convention in force.

    valid: Keras ceil((n - F_eff + 1)/S); same: Keras ceil(n/S) with TensorFlow's split of the
    padding; explicit (and valid with ceil_mode): the PyTorch floor/ceil formula.
    See :mod:`cnncalc.formulas` for the sources.
    """
    if padding == "same" and ceil_mode:
        raise SpecError("ceil_mode goes with valid or integer padding, not 'same'")
    if padding == "same" and ctx.convention is Convention.PYTORCH and max(strides) > 1:
        raise ShapeError(
            f"padding='same' needs stride 1 under the pytorch convention (PyTorch refuses it for "
            f"strided layers), got strides {_fmt(strides)}; use integer padding or --convention keras"
        )
    names = AXIS_NAMES.get(len(spatial), tuple(f"axis {i}" for i in range(len(spatial))))
    out: list[Window] = []
    for i, n in enumerate(spatial):
        f, s, d = kernel[i], strides[i], dilation[i]
        f_eff = F.effective_kernel(f, d)
        shown = f"{f_eff} (dilated from {f})" if d > 1 else str(f_eff)
        if padding == "same":
            before, after = F.same_padding(n, f_eff, s)
            length = F.keras_same_length(n, s)
        elif padding == "causal":
            before, after = F.causal_padding(f_eff)
            length = F.padded_length(n, f_eff, s, before, after)
        else:
            before, after = (0, 0) if padding == "valid" else padding[i]
            if padding == "valid" and not ceil_mode:
                length = F.keras_valid_length(n, f_eff, s)
            else:
                length = F.padded_length(n, f_eff, s, before, after, ceil_mode)
            if n + before + after < f_eff or length <= 0:
                padded = f"padded input {n + before + after}" if before or after else f"input {n}"
                raise ShapeError(f"{what} {shown} is larger than the {padded} on {names[i]}")
        out.append(Window(n, f, f_eff, s, d, before, after, length))
    return tuple(out)


# ----------------------------------------------------------------------------- convolution


@dataclass(frozen=True)
class Conv(Layer):
    """Conv1D/2D/3D. out = see :func:`resolve_windows`; params = K*prod(F)*(C_in/groups) + K."""

    filters: int = required(V.positive_int)
    kernel_size: Shape = required(V.positive_tuple, aliases=("kernel",))
    strides: Shape = arg(V.positive_tuple, 1, aliases=("stride",))
    padding: V.Padding = arg(V.padding, "valid")
    data_format: DataFormat | None = arg(V.optional_data_format)
    dilation_rate: Shape = arg(V.positive_tuple, 1, aliases=("dilation",))
    groups: int = arg(V.positive_int, 1)
    activation: str = arg(V.activation, "linear")
    use_bias: bool = arg(V.boolean, True, aliases=("bias",))
    rank: int = 2

    def check(self) -> None:
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} does not divide filters={self.filters}")

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        fmt = self.layout(ctx)
        _expect_rank(self, shape, self.rank + 1, _spatial_layout(self.rank, fmt))
        if ctx.convention is Convention.KERAS and max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ShapeError(
                "Keras does not allow strides > 1 together with dilation_rate > 1 "
                "(use --convention pytorch for PyTorch's rules)"
            )
        spatial, c_in = split_channels(shape, fmt)
        if c_in % self.groups:
            raise ShapeError(f"groups={self.groups} does not divide the {c_in} input channels")
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx
        )
        out_spatial = tuple(w.out for w in windows)
        weights = self.filters * math.prod(self.kernel_size) * (c_in // self.groups)
        return LayerOutput(
            shape=join_channels(out_spatial, self.filters, fmt),
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=math.prod(out_spatial) * weights,
            bias_adds=math.prod(out_spatial) * self.filters if self.use_bias else 0,
            ops=activation_ops(self.activation, math.prod(out_spatial) * self.filters),
            windows=windows,
        )


# ----------------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class Pool(Layer):
    """Max/AveragePooling1D/2D/3D; strides default to pool_size (Keras and PyTorch alike)."""

    pool_size: Shape = arg(V.positive_tuple, 2, aliases=("pool", "kernel_size", "kernel"))
    strides: Shape | None = arg(
        lambda v, r: None if v is None else V.positive_tuple(v, r), aliases=("stride",)
    )
    padding: V.Padding = arg(V.padding, "valid")
    data_format: DataFormat | None = arg(V.optional_data_format)
    ceil_mode: bool = arg(V.boolean, False)
    rank: int = 2
    op: ClassVar[str] = "max"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.strides is None:
            object.__setattr__(self, "strides", self.pool_size)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        fmt = self.layout(ctx)
        _expect_rank(self, shape, self.rank + 1, _spatial_layout(self.rank, fmt))
        spatial, channels = split_channels(shape, fmt)
        assert self.strides is not None
        if isinstance(self.padding, tuple):
            for (before, after), k, axis in zip(
                self.padding, self.pool_size, AXIS_NAMES[self.rank], strict=True
            ):
                if ctx.convention is Convention.PYTORCH and max(before, after) > k // 2:
                    raise ShapeError(
                        f"PyTorch requires pooling padding <= kernel_size // 2, "
                        f"got padding {max(before, after)} for kernel {k}"
                    )
                if max(before, after) >= k:
                    raise ShapeError(
                        f"padding {max(before, after)} is not smaller than the pool window {k} on {axis}: "
                        "a window would see only padding"
                    )
        windows = resolve_windows(
            spatial,
            self.pool_size,
            self.strides,
            (1,) * self.rank,
            self.padding,
            ctx,
            ceil_mode=self.ceil_mode,
            what="pool window",
        )
        out_shape = join_channels(tuple(w.out for w in windows), channels, fmt)
        window = math.prod(self.pool_size)
        # max: window-1 comparisons per output; average: window-1 adds and one divide
        per_output = window - 1 if self.op == "max" else window
        return LayerOutput(shape=out_shape, ops=math.prod(out_shape) * per_output, windows=windows)


@dataclass(frozen=True)
class MaxPool(Pool):
    """MaxPooling1D/2D/3D."""


@dataclass(frozen=True)
class AvgPool(Pool):
    """AveragePooling1D/2D/3D. ``count_include_pad`` (PyTorch) only changes values, not shapes:
    None means the convention's default (Keras excludes padded cells, PyTorch includes them)."""

    count_include_pad: bool | None = arg(lambda v, r: None if v is None else V.boolean(v))
    op: ClassVar[str] = "avg"

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.count_include_pad is None:
            del out["count_include_pad"]
        return out


# ----------------------------------------------------------------------------- the rest


@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten: (d1, ..., dk) -> (d1*...*dk,)."""

    data_format: DataFormat | None = arg(V.optional_data_format)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=(math.prod(shape),))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        return None  # whatever follows mixes every position


@dataclass(frozen=True)
class Dense(Layer):
    """Dense on the last axis (Keras): params = units*(in + 1) with bias, units*in without."""

    units: int = required(V.positive_int)
    activation: str = arg(V.activation, "linear")
    use_bias: bool = arg(V.boolean, True, aliases=("bias",))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        n_in = shape[-1]
        weights = n_in * self.units
        positions = math.prod(shape[:-1])
        return LayerOutput(
            shape=(*shape[:-1], self.units),
            trainable=weights + (self.units if self.use_bias else 0),
            macs=positions * weights,
            bias_adds=positions * self.units if self.use_bias else 0,
            ops=activation_ops(self.activation, positions * self.units),
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        # Dense mixes the last axis: the channels under channels_last (the field is kept), a spatial
        # axis under channels_first (every output then sees that whole axis: global).
        return rf if len(shape) > 1 and ctx.data_format is DataFormat.CHANNELS_LAST else None


@dataclass(frozen=True)
class Dropout(Layer):
    """Dropout(rate): identity at inference, no parameters."""

    rate: float = required(V.rate, aliases=("p",))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape)


@dataclass(frozen=True)
class Activation(Layer):
    """Activation(name): elementwise (softmax over the last axis, as in Keras)."""

    activation: str = required(V.activation)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=activation_ops(self.activation, math.prod(shape)))


@dataclass(frozen=True)
class BatchNorm(Layer):
    """BatchNormalization over one axis of C features.

    Trainable: C*(center + scale) (beta, gamma). Moving mean and variance (2*C): non-trainable
    params under keras (``model.summary()`` counts them), buffers under pytorch
    (``BatchNorm2d.running_mean``/``running_var`` are not in ``model.parameters()``).
    """

    axis: int | None = arg(V.optional_axis)
    momentum: float = arg(V.real, 0.99)
    epsilon: float = arg(V.real, 0.001, aliases=("eps",))
    center: bool = arg(V.boolean, True)
    scale: bool = arg(V.boolean, True)

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.axis is None:
            del out["axis"]  # the channel axis of the data format in force
        return out

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        channels = shape[self.feature_axis(shape, ctx)]
        stats = 2 * channels
        return LayerOutput(
            shape=shape,
            trainable=channels * (int(self.center) + int(self.scale)),
            non_trainable=stats if ctx.convention is Convention.KERAS else 0,
            buffers=stats if ctx.convention is Convention.PYTORCH else 0,
            ops=2 * math.prod(shape),  # inference: one multiply and one add per value, once folded
        )

    def feature_axis(self, shape: Shape, ctx: Context) -> int:
        """Index (no batch axis) of the normalized feature axis."""
        if self.axis is None:
            first = self.layout(ctx) is DataFormat.CHANNELS_FIRST and len(shape) > 1
            return 0 if first else len(shape) - 1
        # Keras counts the batch axis as 0.
        index = self.axis - 1 if self.axis > 0 else len(shape) + self.axis
        if not 0 <= index < len(shape) or self.axis == 0:
            raise ShapeError(f"axis {self.axis} is not a feature axis of the input {_fmt(shape)}")
        return index
