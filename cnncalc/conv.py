"""Window layers: the geometry resolver and the convolution family."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import formulas as F
from . import values as V
from .base import (
    AXIS_NAMES,
    UNTRACKED,
    Context,
    Layer,
    LayerOutput,
    ReceptiveField,
    Shape,
    Window,
    activation_ops,
    arg,
    fmt_shape,
    join_channels,
    kind,
    required,
    spatial_input,
)
from .errors import ShapeError, SpecError
from .options import Convention, DataFormat


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
            f"strided layers), got strides {fmt_shape(strides)}; use integer padding or --convention keras"
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


def conv_output(
    windows: tuple[Window, ...], fmt: DataFormat, channels: int, weights: int, use_bias: bool, activation: str
) -> LayerOutput:
    """What every conv-family layer reports: shape, params (weights + a bias per output channel),
    MACs (each output position meets every weight once), bias adds and activation ops."""
    out_spatial = tuple(w.out for w in windows)
    positions = math.prod(out_spatial)
    return LayerOutput(
        shape=join_channels(out_spatial, channels, fmt),
        trainable=weights + (channels if use_bias else 0),
        macs=positions * weights,
        bias_adds=positions * channels if use_bias else 0,
        ops=activation_ops(activation, positions * channels),
        windows=windows,
    )


@kind
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
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        _keras_stride_dilation(self, ctx)
        if c_in % self.groups:
            raise ShapeError(f"groups={self.groups} does not divide the {c_in} input channels")
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx
        )
        weights = self.filters * math.prod(self.kernel_size) * (c_in // self.groups)
        return conv_output(windows, fmt, self.filters, weights, self.use_bias, self.activation)


def _keras_stride_dilation(layer: Any, ctx: Context) -> None:
    if ctx.convention is Convention.KERAS and max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ShapeError(
            "Keras does not allow strides > 1 together with dilation_rate > 1 "
            "(use --convention pytorch for PyTorch's rules)"
        )


@kind
class DepthwiseConv(Layer):
    """DepthwiseConv1D/2D: each input channel convolved with ``depth_multiplier`` filters of its own.

    out channels = C_in*dm; params = prod(F)*C_in*dm + C_in*dm (Keras ``DepthwiseConv2D``;
    PyTorch ``Conv2d(C, C*dm, groups=C)``). Keras allows strides together with dilation here.
    """

    kernel_size: Shape = required(V.positive_tuple, aliases=("kernel",))
    strides: Shape = arg(V.positive_tuple, 1, aliases=("stride",))
    padding: V.Padding = arg(V.padding, "valid")
    depth_multiplier: int = arg(V.positive_int, 1)
    data_format: DataFormat | None = arg(V.optional_data_format)
    dilation_rate: Shape = arg(V.positive_tuple, 1, aliases=("dilation",))
    activation: str = arg(V.activation, "linear")
    use_bias: bool = arg(V.boolean, True, aliases=("bias",))
    rank: int = 2

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx
        )
        k = c_in * self.depth_multiplier
        return conv_output(windows, fmt, k, math.prod(self.kernel_size) * k, self.use_bias, self.activation)


@kind
class SeparableConv(Layer):
    """SeparableConv1D/2D: a depthwise conv then a 1x1 pointwise conv, one row.

    params = prod(F)*C_in*dm (depthwise) + C_in*dm*K (pointwise) + K (bias, pointwise only).
    Source: Keras ``SeparableConv2D``. Keras allows strides together with dilation here.
    """

    filters: int = required(V.positive_int)
    kernel_size: Shape = required(V.positive_tuple, aliases=("kernel",))
    strides: Shape = arg(V.positive_tuple, 1, aliases=("stride",))
    padding: V.Padding = arg(V.padding, "valid")
    data_format: DataFormat | None = arg(V.optional_data_format)
    dilation_rate: Shape = arg(V.positive_tuple, 1, aliases=("dilation",))
    depth_multiplier: int = arg(V.positive_int, 1)
    activation: str = arg(V.activation, "linear")
    use_bias: bool = arg(V.boolean, True, aliases=("bias",))
    rank: int = 2

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx
        )
        mid = c_in * self.depth_multiplier
        weights = math.prod(self.kernel_size) * mid + mid * self.filters
        return conv_output(windows, fmt, self.filters, weights, self.use_bias, self.activation)


@dataclass(frozen=True)
class TransposedAxis:
    """One spatial axis of a transposed conv: the full scatter length, the crop and the output."""

    n: int
    kernel: int
    f_eff: int
    stride: int
    dilation: int
    output_padding: int | None
    #: cells cut from the start of the full scatter (PyTorch P, Keras 'same' offset)
    crop: int
    out: int
    rule: str


def transposed_axes(layer: ConvTranspose, spatial: Shape, ctx: Context) -> tuple[TransposedAxis, ...]:
    """Per-axis output length of a transposed conv under the convention in force.

    Keras (``valid``/``same``, keras.src.utils.conv_utils.deconv_output_length): without
    output_padding valid (n-1)*S + max(F_eff, S), same n*S; with it (n-1)*S + F_eff - 2*pad + op,
    pad = F_eff//2 for same, 0 for valid. PyTorch (``ConvTranspose2d`` docs; also any integer
    padding): (n-1)*S - 2P + d*(F-1) + output_padding + 1.
    """
    axes = []
    names = AXIS_NAMES[layer.rank]
    for i, n in enumerate(spatial):
        f, s, d = layer.kernel_size[i], layer.strides[i], layer.dilation_rate[i]
        op = None if layer.output_padding is None else layer.output_padding[i]
        f_eff = F.effective_kernel(f, d)
        keras_rule = ctx.convention is Convention.KERAS and isinstance(layer.padding, str)
        if keras_rule:
            if op is not None and op >= s:
                raise ShapeError(f"Keras requires output_padding < strides, got {op} >= {s} on {names[i]}")
            same = layer.padding == "same"
            out = F.keras_transposed_length(n, f_eff, s, same, op)
            crop = max((n - 1) * s + f_eff - out, 0) // 2 if same else 0
            rule = "keras"
        else:
            before, after = (0, 0) if layer.padding == "valid" else layer.padding[i]
            op = op or 0
            if op >= max(s, d):
                raise ShapeError(
                    f"PyTorch requires output_padding < max(stride, dilation), got {op} on {names[i]}"
                )
            out = F.torch_transposed_length(n, f, s, d, before, after, op)
            crop = before
            rule = "pytorch"
        if out <= 0:
            raise ShapeError(f"padding leaves no output on {names[i]} ({out} cells)")
        axes.append(TransposedAxis(n, f, f_eff, s, d, op, crop, out, rule))
    return tuple(axes)


@kind
class ConvTranspose(Layer):
    """Conv1D/2D/3DTranspose. Length: :func:`transposed_axes`; params = C_in*prod(F)*K/groups + K.

    MACs are counted on the input size (each input value meets every kernel tap once):
    prod(n_in)*C_in*prod(F)*K/groups. ``groups`` exists in PyTorch only.
    """

    filters: int = required(V.positive_int)
    kernel_size: Shape = required(V.positive_tuple, aliases=("kernel",))
    strides: Shape = arg(V.positive_tuple, 1, aliases=("stride",))
    padding: V.Padding = arg(V.padding, "valid")
    output_padding: Shape | None = arg(lambda v, r: None if v is None else V.non_negative_tuple(v, r))
    data_format: DataFormat | None = arg(V.optional_data_format)
    dilation_rate: Shape = arg(V.positive_tuple, 1, aliases=("dilation",))
    groups: int = arg(V.positive_int, 1)
    activation: str = arg(V.activation, "linear")
    use_bias: bool = arg(V.boolean, True, aliases=("bias",))
    rank: int = 2

    def check(self) -> None:
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} does not divide filters={self.filters}")

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.groups == 1:
            del out["groups"]  # Keras's Conv2DTranspose has no groups argument
        return out

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        _keras_stride_dilation(self, ctx)
        if ctx.convention is Convention.KERAS and self.groups > 1:
            raise ShapeError("Keras Conv*Transpose has no groups (use --convention pytorch)")
        if ctx.convention is Convention.PYTORCH and self.padding == "same":
            raise ShapeError("PyTorch ConvTranspose has no padding='same'; give integer padding")
        if c_in % self.groups:
            raise ShapeError(f"groups={self.groups} does not divide the {c_in} input channels")
        axes = transposed_axes(self, spatial, ctx)
        out_spatial = tuple(a.out for a in axes)
        weights = c_in * math.prod(self.kernel_size) * self.filters // self.groups
        positions = math.prod(out_spatial)
        return LayerOutput(
            shape=join_channels(out_spatial, self.filters, fmt),
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=math.prod(spatial) * weights,
            bias_adds=positions * self.filters if self.use_bias else 0,
            ops=activation_ops(self.activation, positions * self.filters),
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return UNTRACKED  # fractional strides: the recurrences do not apply
