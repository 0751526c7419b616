"""Layers without windows: flatten, dense, dropout, activations, normalization."""

from __future__ import annotations

import math
from typing import Any

from . import values as V
from .base import (
    Context,
    Layer,
    LayerOutput,
    ReceptiveField,
    Shape,
    activation_ops,
    arg,
    fmt_shape,
    kind,
    required,
    spatial_input,
)
from .errors import ShapeError, SpecError
from .options import Convention, DataFormat


@kind
class Flatten(Layer):
    """Flatten: (d1, ..., dk) -> (d1*...*dk,)."""

    data_format: DataFormat | None = arg(V.optional_data_format)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=(math.prod(shape),))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        return None  # whatever follows mixes every position


@kind
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


@kind
class Dropout(Layer):
    """Dropout(rate): identity at inference, no parameters."""

    rate: float = required(V.rate, aliases=("p",))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape)


@kind
class Activation(Layer):
    """Activation(name): elementwise (softmax over the last axis, as in Keras)."""

    activation: str = required(V.activation)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=activation_ops(self.activation, math.prod(shape)))


@kind
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
        return keras_axis_index(self.axis, shape)


@kind
class SpatialDropout(Layer):
    """SpatialDropout1D/2D/3D(rate): drops whole channels in training; identity at inference."""

    rate: float = required(V.rate, aliases=("p",))
    data_format: DataFormat | None = arg(V.optional_data_format)
    rank: int = 2

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial_input(self, shape, ctx)
        return LayerOutput(shape=shape)


def _optional_real(value: Any, rank: int) -> float | None:
    return None if value is None else V.real(value)


@kind
class ReLU(Layer):
    """ReLU(max_value, negative_slope, threshold), Keras's layer: x above threshold (capped at
    max_value), negative_slope*(x - threshold) below it."""

    max_value: float | None = arg(_optional_real)
    negative_slope: float = arg(V.real, 0.0)
    threshold: float = arg(V.real, 0.0)

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.max_value is None:
            del out["max_value"]
        return out

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=math.prod(shape))


@kind
class LeakyReLU(Layer):
    """LeakyReLU(negative_slope): Keras's layer default is 0.3 (the ``leaky_relu`` activation's is 0.2)."""

    negative_slope: float = arg(V.real, 0.3, aliases=("alpha",))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=math.prod(shape))


@kind
class Softmax(Layer):
    """Softmax(axis): over the last axis by default (Keras counts the batch axis as 0)."""

    axis: int = arg(V.optional_axis, -1)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        keras_axis_index(self.axis, shape)
        return LayerOutput(shape=shape, ops=3 * math.prod(shape))


def keras_axis_index(axis: int, shape: Shape) -> int:
    """Index into a no-batch shape of a Keras axis (batch axis 0; negative from the end)."""
    index = axis - 1 if axis > 0 else len(shape) + axis
    if axis == 0 or not 0 <= index < len(shape):
        raise ShapeError(f"axis {axis} is not an axis of the input {fmt_shape(shape)} (the batch axis is 0)")
    return index


def _axes(value: Any, rank: int) -> tuple[int, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise SpecError("expected at least one axis")
    return tuple(V.optional_axis(v) for v in items)  # type: ignore[misc]


@kind
class LayerNorm(Layer):
    """LayerNormalization over ``axis`` (default the last): params = prod(sizes of those axes)*(center + scale),
    or just the axes' sizes with ``rms_scaling`` (gamma only, as Keras does)."""

    axis: tuple[int, ...] = arg(_axes, -1)
    epsilon: float = arg(V.real, 0.001, aliases=("eps",))
    center: bool = arg(V.boolean, True)
    scale: bool = arg(V.boolean, True)
    rms_scaling: bool = arg(V.boolean, False)

    @property
    def learned(self) -> tuple[str, ...]:
        """The learned vectors: rms_scaling keeps only gamma (Keras ignores center and scale then)."""
        if self.rms_scaling:
            return ("gamma",)
        return (*(("gamma",) if self.scale else ()), *(("beta",) if self.center else ()))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        features = math.prod(shape[i] for i in self.normalized_axes(shape))
        # mean, variance, normalize, scale and shift: about 5 per value
        return LayerOutput(shape=shape, trainable=features * len(self.learned), ops=5 * math.prod(shape))

    def normalized_axes(self, shape: Shape) -> tuple[int, ...]:
        """No-batch indices of the normalized axes."""
        return tuple(sorted({keras_axis_index(a, shape) for a in self.axis}))
