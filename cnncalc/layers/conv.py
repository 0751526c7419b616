"""The convolution family: Conv, DepthwiseConv, SeparableConv and ConvTranspose (1-D to 3-D)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar, TypeVar

from .. import formulas as F
from ..enums import Category, Convention, DataFormat, PaddingMode, TransposedRule
from ..errors import Option, Part, ShapeError, SpecError
from ..geometry import (
    AXIS_NAMES,
    AxisMap,
    Padding,
    ReceptiveField,
    Shape,
    Window,
    join_channels,
    resolve_windows,
    split_channels,
)
from ..records import record
from . import args as A
from .autograd import Keep, Source, fused_activation_keeps, permute_moves, window_input
from .base import (
    Context,
    Layer,
    LayerOutput,
    Step,
    Worked,
    activation_ops,
    channels_of,
    check_size,
    kind,
    spatial_input,
)
from .faces import (
    Counted,
    KerasCode,
    KerasFace,
    NoFace,
    OnnxFace,
    TorchCode,
    TorchFace,
    TorchSignature,
)
from .rules import Sizes, declared, joined, spatial, transposed_same_hint, window_same_hint, windowed
from .working import SIDES, SYMBOL, axes_steps, bias_term, num, window_rule

D = TypeVar("D")

_CONV_NAMES = {
    "in_channels": ("in_channels",),
    "out_channels": ("filters",),
    "kernel_size": ("kernel_size",),
    "stride": ("strides",),
    "padding": ("padding",),
    "dilation": ("dilation_rate",),
    "groups": ("groups",),
    "bias": ("use_bias",),
}
#: ``nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)``
CONV_SIGNATURE = TorchSignature(
    "Conv{rank}d",
    ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
    _CONV_NAMES,
)
#: ``nn.ConvTranspose2d(in, out, kernel_size, stride, padding, output_padding, groups, bias, dilation)``
CONV_TRANSPOSE_SIGNATURE = TorchSignature(
    "ConvTranspose{rank}d",
    (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "output_padding",
        "groups",
        "bias",
        "dilation",
    ),
    {**_CONV_NAMES, "output_padding": ("output_padding",)},
)


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


def _bias(layer: Any, n: int) -> dict[str, Shape]:
    return {"bias": (n,)} if layer.use_bias else {}


class WindowConv(Layer):
    """What the windowed conv kinds share: the rule line and the explain rule."""

    category: ClassVar[Category] = Category.CONV
    padding: Padding
    kernel_size: Shape
    strides: Shape
    dilation_rate: Shape
    rank: int

    #: the weights the backward pass reads (saved as the parameters themselves)
    kept_weights: ClassVar[tuple[str, ...]] = ("kernel",)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``ConvolutionBackward0`` keeps ``input`` and ``weight`` (derivatives.yaml
        ``convolution``), whether or not the input needs a gradient; the bias is not read."""
        return conv_keeps(self, inputs[0], output, self.kept_weights, ctx)

    def explain_rule(self, ctx: Context) -> str:
        return window_rule(self.padding, False, ctx.convention)

    def same_hint(self, shape: Shape, ctx: Context) -> tuple[Part, ...] | None:
        if not _refused_same(self, shape, ctx) or max(self.strides) == 1:
            return None
        sizes, _ = split_channels(shape, self.layout(ctx))
        return window_same_hint(sizes, self.kernel_size, self.strides, self.dilation_rate)

    def window_sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[list[D], D, bool]:
        """(output spatial sizes, input channels, channels_first): the window part of the size
        rule every windowed conv kind shares."""
        return windowed(
            p,
            self,
            dims,
            self.rank,
            self.padding,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            False,
            "kernel",
        )


@kind
class Conv(WindowConv):
    """Conv1D/2D/3D. out = see :func:`~cnncalc.geometry.resolve_windows`; params = K*prod(F)*(C_in/groups) + K."""

    window_reduce: ClassVar[str] = "dot"
    counted: ClassVar[Counted] = Counted.CONV
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "Conv{rank}D",
        KerasCode.WINDOWED,
        data_format=True,
        strided_dilation=False,
        aliases=("Convolution{rank}D",),
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Conv{rank}d",), ("conv{rank}d",), CONV_SIGNATURE, TorchCode.CONV
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Conv",))

    filters: int = A.required(A.positive_int)
    kernel_size: Shape = A.required(A.positive_tuple, aliases=("kernel",))
    strides: Shape = A.arg(A.positive_tuple, 1, aliases=("stride",))
    padding: Padding = A.arg(A.padding, "valid")
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    dilation_rate: Shape = A.arg(A.positive_tuple, 1, aliases=("dilation",))
    groups: int = A.arg(A.positive_int, 1)
    activation: str = A.arg(A.activation, "linear")
    use_bias: bool = A.arg(A.boolean, True, aliases=("bias",))
    #: PyTorch's in_channels: checked against the input when given
    in_channels: int | None = A.expected_size()
    rank: int = 2

    def check(self) -> None:
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} does not divide filters={self.filters}")

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        _keras_stride_dilation(self, p.ctx)
        out, channels, first = self.window_sizes(p, dims)
        declared(p, "in_channels", self.in_channels, channels)
        return joined(out, p.const(self.filters), first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        check_size("in_channels", self.in_channels, c_in, shape)
        _keras_stride_dilation(self, ctx)
        if c_in % self.groups:
            raise ShapeError(f"groups={self.groups} does not divide the {c_in} input channels")
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx.convention
        )
        weights = self.filters * math.prod(self.kernel_size) * (c_in // self.groups)
        return conv_output(windows, fmt, self.filters, weights, self.use_bias, self.activation)

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c_in = channels_of(self, in_shape, ctx)
        return {"kernel": (*self.kernel_size, c_in // self.groups, self.filters), **_bias(self, self.filters)}

    def explain_steps(self, w: Worked) -> list[Step]:
        fmt = self.layout(w.ctx)
        _, c_in = split_channels(w.input_shape, fmt)
        spatial_out, _ = split_channels(w.output_shape, fmt)
        names = AXIS_NAMES[self.rank]
        steps = axes_steps(names, w.windows, self.padding, False, w.ctx.convention)
        steps.append(Step("channels", f"C_out = {out_channels(w.ctx)}", "", str(self.filters)))
        f_syms = kernel_symbols(names)
        f_vals = "*".join(map(str, self.kernel_size))
        groups = f"/{self.groups}" if self.groups > 1 else ""
        per_group = "/groups" if groups else ""
        bias = bias_term("C_out", self.filters, self.use_bias)
        steps.append(
            Step(
                "params",
                f"C_out*{f_syms}*C_in{per_group}{bias[0]}",
                f"{self.filters}*{f_vals}*{c_in}{groups}{bias[1]}",
                num(w.params),
            )
        )
        o_syms = "*".join(f"{SYMBOL[a]}_out" for a in names)
        steps.append(
            Step(
                "MACs",
                f"{o_syms}*C_out*{f_syms}*C_in{per_group}",
                f"{'*'.join(map(str, spatial_out))}*{self.filters}*{f_vals}*{c_in}{groups}",
                num(w.macs),
            )
        )
        return steps


def out_channels(ctx: Context) -> str:
    """The argument that sets a conv's output channels, in the convention's words."""
    return "out_channels" if ctx.convention is Convention.PYTORCH else "filters"


def kernel_symbols(names: tuple[str, ...]) -> str:
    """``F_h*F_w``: the kernel's size per spatial axis, as the formulas multiply it."""
    return "*".join(f"F_{SYMBOL[a].lower()}" for a in names)


def _refused_same(layer: Any, shape: Shape, ctx: Context) -> bool:
    """padding='same' under pytorch on an input of the layer's rank (the hint then applies)."""
    return (
        ctx.convention is Convention.PYTORCH
        and layer.padding is PaddingMode.SAME
        and len(shape) == layer.rank + 1
    )


def keras_refuses(strides: Sequence[int], dilation: Sequence[int]) -> bool:
    """Keras's convolutions (``Conv``, ``Conv*Transpose``) refuse strides > 1 together with
    dilation_rate > 1 (``keras.src.layers.convolutional.base_conv``); depthwise and separable
    convs allow it."""
    return max(strides) > 1 and max(dilation) > 1


def _keras_stride_dilation(layer: Any, ctx: Context) -> None:
    if ctx.convention is Convention.KERAS and keras_refuses(layer.strides, layer.dilation_rate):
        raise ShapeError(
            "Keras does not allow strides > 1 together with dilation_rate > 1 (use ",
            Option("convention", "pytorch"),
            " for PyTorch's rules)",
        )


def _depthwise_weights(layer: Any, c_in: int) -> dict[str, Shape]:
    return {"depthwise_kernel": (*layer.kernel_size, c_in, layer.depth_multiplier)}


@kind
class DepthwiseConv(WindowConv):
    """DepthwiseConv1D/2D: each input channel convolved with ``depth_multiplier`` filters of its own.

    out channels = C_in*dm; params = prod(F)*C_in*dm + C_in*dm (Keras ``DepthwiseConv2D``;
    PyTorch ``Conv2d(C, C*dm, groups=C)``). Keras allows strides together with dilation here.
    """

    counted: ClassVar[Counted] = Counted.CONV
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "DepthwiseConv{rank}D", KerasCode.WINDOWED, data_format=True, aliases=("DepthwiseConvolution2D",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Conv{rank}d",), code=TorchCode.CONV, written_only=True
    )  # a grouped conv, groups = C
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Conv",))  # group = C

    kernel_size: Shape = A.required(A.positive_tuple, aliases=("kernel",))
    strides: Shape = A.arg(A.positive_tuple, 1, aliases=("stride",))
    padding: Padding = A.arg(A.padding, "valid")
    depth_multiplier: int = A.arg(A.positive_int, 1)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    dilation_rate: Shape = A.arg(A.positive_tuple, 1, aliases=("dilation",))
    activation: str = A.arg(A.activation, "linear")
    use_bias: bool = A.arg(A.boolean, True, aliases=("bias",))
    rank: int = 2
    kept_weights: ClassVar[tuple[str, ...]] = ("depthwise_kernel",)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        out, channels, first = self.window_sizes(p, dims)
        return joined(out, p.times(channels, self.depth_multiplier), first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx.convention
        )
        k = c_in * self.depth_multiplier
        return conv_output(windows, fmt, k, math.prod(self.kernel_size) * k, self.use_bias, self.activation)

    def fan_in(self, kernel_shape: Shape) -> int:
        if len(kernel_shape) == self.rank + 2 and kernel_shape[-1] == self.depth_multiplier:
            if kernel_shape[:-2] == self.kernel_size:
                return max(1, math.prod(kernel_shape[:-2]))  # (*F, C, dm): each output reads one channel
        return super().fan_in(kernel_shape)

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c_in = channels_of(self, in_shape, ctx)
        return {**_depthwise_weights(self, c_in), **_bias(self, c_in * self.depth_multiplier)}

    def explain_steps(self, w: Worked) -> list[Step]:
        c_in, dm, f_vals, positions, steps = _depthwise_parts(self, w)
        f_syms, o_syms = _depthwise_symbols(self)
        if w.ctx.convention is Convention.PYTORCH:  # PyTorch has no depthwise class: a grouped conv
            steps.append(Step("depthwise", "Conv2d(C_in, C_in*dm, F, groups=C_in)", "", f"groups={c_in}"))
            steps.append(Step("channels", "out_channels = C_in*dm", f"{c_in}*{dm}", str(c_in * dm)))
        else:
            steps.append(Step("channels", "C_in*depth_multiplier", f"{c_in}*{dm}", str(c_in * dm)))
        bias = bias_term("C_in*dm", c_in * dm, self.use_bias)
        steps.append(
            Step("params", f"{f_syms}*C_in*dm{bias[0]}", f"{f_vals}*{c_in}*{dm}{bias[1]}", num(w.params))
        )
        steps.append(
            Step("MACs", f"{o_syms}*{f_syms}*C_in*dm", f"{positions}*{f_vals}*{c_in}*{dm}", num(w.macs))
        )
        return steps


def _depthwise_symbols(layer: Any) -> tuple[str, str]:
    """(``F_h*F_w``, ``H_out*W_out``) of a depthwise-based kind."""
    names = AXIS_NAMES[layer.rank]
    return kernel_symbols(names), "*".join(f"{SYMBOL[a]}_out" for a in names)


def _depthwise_parts(layer: Any, w: Worked) -> tuple[int, int, str, str, list[Step]]:
    """(C_in, dm, kernel product text, output positions text, length steps) of a depthwise-based kind."""
    fmt = layer.layout(w.ctx)
    _, c_in = split_channels(w.input_shape, fmt)
    spatial_out, _ = split_channels(w.output_shape, fmt)
    steps = axes_steps(AXIS_NAMES[layer.rank], w.windows, layer.padding, False, w.ctx.convention)
    f_vals = "*".join(map(str, layer.kernel_size))
    return c_in, layer.depth_multiplier, f_vals, "*".join(map(str, spatial_out)), steps


@kind
class SeparableConv(WindowConv):
    """SeparableConv1D/2D: a depthwise conv then a 1x1 pointwise conv, one row.

    params = prod(F)*C_in*dm (depthwise) + C_in*dm*K (pointwise) + K (bias, pointwise only).
    Source: Keras ``SeparableConv2D``. Keras allows strides together with dilation here.
    """

    counted: ClassVar[Counted] = Counted.CONV
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "SeparableConv{rank}D", KerasCode.WINDOWED, data_format=True, aliases=("SeparableConvolution{rank}D",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Conv{rank}d",), code=TorchCode.CONV, written_only=True
    )  # depthwise + pointwise
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace(
        "ONNX has two Conv nodes for it (depthwise, pointwise), read as two layers"
    )

    filters: int = A.required(A.positive_int)
    kernel_size: Shape = A.required(A.positive_tuple, aliases=("kernel",))
    strides: Shape = A.arg(A.positive_tuple, 1, aliases=("stride",))
    padding: Padding = A.arg(A.padding, "valid")
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    dilation_rate: Shape = A.arg(A.positive_tuple, 1, aliases=("dilation",))
    depth_multiplier: int = A.arg(A.positive_int, 1)
    activation: str = A.arg(A.activation, "linear")
    use_bias: bool = A.arg(A.boolean, True, aliases=("bias",))
    rank: int = 2
    kept_weights: ClassVar[tuple[str, ...]] = ("depthwise_kernel", "pointwise_kernel")

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Two convolutions: the depthwise one keeps the input, the pointwise one keeps the
        depthwise output (a tensor of the layer's own: output positions x C_in*dm)."""
        spatial, c_in = split_channels(inputs[0], self.layout(ctx))
        out_spatial, _ = split_channels(output, self.layout(ctx))
        mid = Keep(Source.NEW, elements=math.prod(out_spatial) * c_in * self.depth_multiplier)
        return (*conv_keeps(self, inputs[0], output, self.kept_weights, ctx), mid)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        out, _, first = self.window_sizes(p, dims)
        return joined(out, p.const(self.filters), first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx.convention
        )
        mid = c_in * self.depth_multiplier
        weights = math.prod(self.kernel_size) * mid + mid * self.filters
        return conv_output(windows, fmt, self.filters, weights, self.use_bias, self.activation)

    def fan_in(self, kernel_shape: Shape) -> int:
        if len(kernel_shape) == self.rank + 2 and kernel_shape[-1] == self.depth_multiplier:
            if kernel_shape[:-2] == self.kernel_size:
                return max(1, math.prod(kernel_shape[:-2]))  # (*F, C, dm): each output reads one channel
        return super().fan_in(kernel_shape)

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c_in = channels_of(self, in_shape, ctx)
        mid = c_in * self.depth_multiplier
        return {
            **_depthwise_weights(self, c_in),
            "pointwise_kernel": (*(1,) * self.rank, mid, self.filters),
            **_bias(self, self.filters),
        }

    def explain_steps(self, w: Worked) -> list[Step]:
        c_in, dm, f_vals, positions, steps = _depthwise_parts(self, w)
        f_syms, o_syms = _depthwise_symbols(self)
        k = self.filters
        bias = bias_term("C_out", k, self.use_bias)
        steps.append(Step("channels", f"C_out = {out_channels(w.ctx)}", "", str(k)))
        steps.append(
            Step(
                "params",
                f"{f_syms}*C_in*dm + C_in*dm*C_out{bias[0]}",
                f"{f_vals}*{c_in}*{dm} + {c_in}*{dm}*{k}{bias[1]}",
                num(w.params),
            )
        )
        steps.append(
            Step(
                "MACs",
                f"{o_syms}*({f_syms}*C_in*dm + C_in*dm*C_out)",
                f"{positions}*({f_vals}*{c_in}*{dm} + {c_in}*{dm}*{k})",
                num(w.macs),
            )
        )
        return steps


@record(frozen=True)
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
    rule: TransposedRule


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
        length = layer.length_rule(i, ctx)
        if layer.keras_rule(ctx):
            if op is not None and op >= s:
                raise ShapeError(f"Keras requires output_padding < strides, got {op} >= {s} on {names[i]}")
            same = layer.padding is PaddingMode.SAME
            out = length(n)
            crop = max((n - 1) * s + f_eff - out, 0) // 2 if same else 0
            rule = TransposedRule.KERAS
        else:
            before = 0 if isinstance(layer.padding, PaddingMode) else layer.padding[i][0]
            op = op or 0
            if op >= max(s, d):
                raise ShapeError(
                    f"PyTorch requires output_padding < max(stride, dilation), got {op} on {names[i]}"
                )
            out = length(n)
            crop = before
            rule = TransposedRule.PYTORCH
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

    counted: ClassVar[Counted] = Counted.CONV_TRANSPOSE
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "Conv{rank}DTranspose",
        KerasCode.TRANSPOSED,
        data_format=True,
        strided_dilation=False,
        aliases=("Convolution{rank}DTranspose",),
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("ConvTranspose{rank}d",), ("conv_transpose{rank}d",), CONV_TRANSPOSE_SIGNATURE, TorchCode.TRANSPOSED
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("ConvTranspose",))

    category: ClassVar[Category] = Category.CONV
    filters: int = A.required(A.positive_int)
    kernel_size: Shape = A.required(A.positive_tuple, aliases=("kernel",))
    strides: Shape = A.arg(A.positive_tuple, 1, aliases=("stride",))
    padding: Padding = A.arg(A.padding, "valid")
    output_padding: Shape | None = A.arg(A.optional(A.non_negative_tuple))
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    dilation_rate: Shape = A.arg(A.positive_tuple, 1, aliases=("dilation",))
    groups: int = A.arg(A.positive_int, 1)
    activation: str = A.arg(A.activation, "linear")
    use_bias: bool = A.arg(A.boolean, True, aliases=("bias",))
    #: PyTorch's in_channels: checked against the input when given
    in_channels: int | None = A.expected_size()
    rank: int = 2

    def check(self) -> None:
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} does not divide filters={self.filters}")

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.groups == 1:
            del out["groups"]  # Keras's Conv2DTranspose has no groups argument
        return out

    def keras_rule(self, ctx: Context) -> bool:
        """True when Keras's length rule applies (keras convention, padding by name)."""
        return ctx.convention is Convention.KERAS and isinstance(self.padding, PaddingMode)

    def length_rule(self, i: int, ctx: Context) -> Callable[[int], int]:
        """Axis ``i``'s output length as a function of its input length: Keras's
        ``deconv_output_length`` or PyTorch's ``ConvTranspose`` formula (:mod:`cnncalc.formulas`)."""
        f, s, d = self.kernel_size[i], self.strides[i], self.dilation_rate[i]
        op = None if self.output_padding is None else self.output_padding[i]
        if self.keras_rule(ctx):
            same = self.padding is PaddingMode.SAME
            return partial(
                F.keras_transposed_length, f_eff=F.effective_kernel(f, d), s=s, same=same, output_padding=op
            )
        before, after = (0, 0) if isinstance(self.padding, PaddingMode) else self.padding[i]
        return partial(
            F.torch_transposed_length, f=f, s=s, d=d, before=before, after=after, output_padding=op or 0
        )

    def same_hint(self, shape: Shape, ctx: Context) -> tuple[Part, ...] | None:
        if not _refused_same(self, shape, ctx):
            return None
        sizes, _ = split_channels(shape, self.layout(ctx))
        return transposed_same_hint(sizes, self.kernel_size, self.strides, self.dilation_rate)

    def check_settings(self, ctx: Context) -> None:
        """What the convention refuses whatever the input (strides with dilation, groups, 'same')."""
        _keras_stride_dilation(self, ctx)
        if ctx.convention is Convention.KERAS and self.groups > 1:
            raise ShapeError("Keras Conv*Transpose has no groups (use ", Option("convention", "pytorch"), ")")
        if ctx.convention is Convention.PYTORCH and self.padding is PaddingMode.SAME:
            raise ShapeError("PyTorch ConvTranspose has no padding='same'; give integer padding")

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, self.rank)
        declared(p, "in_channels", self.in_channels, channels)
        self.check_settings(p.ctx)
        out = []
        for i, g in enumerate(sizes):
            h = p.through(g, 1, self.strides[i], self.length_rule(i, p.ctx))
            p.need(h, 1, None, "padding leaves no output")
            out.append(h)
        return joined(out, p.const(self.filters), first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, c_in, fmt = spatial_input(self, shape, ctx)
        check_size("in_channels", self.in_channels, c_in, shape)
        self.check_settings(ctx)
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
        """Output o reads input i = (o + crop - k*d)/S for each tap k that divides
        (:meth:`AxisMap.transposed`): a fractional stride 1/S, the field exact per position."""
        spatial, _ = split_channels(shape, self.layout(ctx))
        axes = transposed_axes(self, spatial, ctx)
        return rf.mapped(tuple(AxisMap.transposed(a.stride, a.kernel, a.dilation, a.crop) for a in axes))

    def fan_in(self, kernel_shape: Shape) -> int:
        return max(1, math.prod(kernel_shape[:-2]) * kernel_shape[-1])  # (*F, K/groups, C_in)

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c_in = channels_of(self, in_shape, ctx)
        return {"kernel": (*self.kernel_size, self.filters // self.groups, c_in), **_bias(self, self.filters)}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``ConvolutionBackward0`` (transposed=True) keeps ``input`` and ``weight``, as a conv
        does (Keras's kernel is already in torch's layout here: no copy, measured)."""
        pre = math.prod(output) * (2 if self.activation == "glu" else 1)
        kept = (window_input(self, inputs[0], ctx), Keep(Source.WEIGHT, weight="kernel"))
        return (*kept, *fused_activation_keeps(self.activation, pre))

    def explain_rule(self, ctx: Context) -> str:
        if ctx.convention is Convention.KERAS and isinstance(self.padding, PaddingMode):
            return f"Keras transposed conv, '{self.padding.value}': each input scattered through the kernel"
        return "PyTorch transposed conv: scatter, cut P from each end, add output_padding"

    def explain_steps(self, w: Worked) -> list[Step]:
        spatial_in, c_in = split_channels(w.input_shape, self.layout(w.ctx))
        steps = []
        for i, (name, a) in enumerate(
            zip(AXIS_NAMES[self.rank], transposed_axes(self, spatial_in, w.ctx), strict=True)
        ):
            n_in = f"{SYMBOL[name]}_in"
            if a.rule is TransposedRule.PYTORCH:
                pads = (0, 0) if isinstance(self.padding, PaddingMode) else self.padding[i]
                cut, cut_numbers = (
                    ("2P", f"2*{pads[0]}")
                    if pads[0] == pads[1]
                    else (f"P_{SIDES[name][0]} - P_{SIDES[name][1]}", f"{pads[0]} - {pads[1]}")
                )
                steps.append(
                    Step(
                        name,
                        f"({n_in} - 1)*S - {cut} + d*(F - 1) + out_pad + 1",
                        f"({a.n} - 1)*{a.stride} - {cut_numbers} + {a.dilation}*({a.kernel} - 1) + "
                        f"{a.output_padding} + 1",
                        str(a.out),
                    )
                )
            elif a.output_padding is None and self.padding is PaddingMode.SAME:
                steps.append(Step(name, f"{n_in}*S (Keras 'same')", f"{a.n}*{a.stride}", str(a.out)))
            elif a.output_padding is None:
                steps.append(
                    Step(
                        name,
                        f"({n_in} - 1)*S + max(F_eff, S) (Keras 'valid')",
                        f"({a.n} - 1)*{a.stride} + max({a.f_eff}, {a.stride})",
                        str(a.out),
                    )
                )
            else:
                pad = a.f_eff // 2 if self.padding is PaddingMode.SAME else 0
                steps.append(
                    Step(
                        name,
                        f"({n_in} - 1)*S + F_eff - 2*pad + out_pad (Keras)",
                        f"({a.n} - 1)*{a.stride} + {a.f_eff} - 2*{pad} + {a.output_padding}",
                        str(a.out),
                    )
                )
        f_vals = "*".join(map(str, self.kernel_size))
        groups = f"/{self.groups}" if self.groups > 1 else ""
        bias = bias_term("C_out", self.filters, self.use_bias)
        f_syms = kernel_symbols(AXIS_NAMES[self.rank])
        i_syms = "*".join(f"{SYMBOL[a]}_in" for a in AXIS_NAMES[self.rank])
        steps.append(Step("channels", f"C_out = {out_channels(w.ctx)}", "", str(self.filters)))
        steps.append(
            Step(
                "params",
                f"C_in*{f_syms}*C_out{'/groups' if groups else ''}{bias[0]}",
                f"{c_in}*{f_vals}*{self.filters}{groups}{bias[1]}",
                num(w.params),
            )
        )
        steps.append(
            Step(
                "MACs",
                f"{i_syms}*C_in*{f_syms}*C_out (counted on the input)",
                f"{'*'.join(map(str, spatial_in))}*{c_in}*{f_vals}*{self.filters}{groups}",
                num(w.macs),
            )
        )
        return steps


def _kernel_moves(name: str, shape: Shape) -> bool:
    """Whether Keras's torch backend copies the kernel into torch's (out, in, *k) layout: a
    depthwise kernel is first reshaped to (*k, 1, C*dm), a view; the permutation copies unless
    the axes longer than 1 keep their order (measured: a 1x1 depthwise kernel is not copied)."""
    if name == "depthwise_kernel":
        shape = (*shape[:-2], 1, shape[-2] * shape[-1])
    rank = len(shape)
    return permute_moves(shape, (rank - 1, rank - 2, *range(rank - 2)))


def conv_keeps(
    layer: Any, shape: Shape, output: Shape, weights: tuple[str, ...], ctx: Context
) -> tuple[Keep, ...]:
    """A conv's input and weights (``ConvolutionBackward0``), then what a Keras ``activation=``
    on its output keeps (:func:`~cnncalc.layers.autograd.fused_activation_keeps`). Keras on the
    torch backend keeps the kernel permuted to torch's layout, a copy (measured)."""
    pre = math.prod(output) * (2 if layer.activation == "glu" else 1)
    shapes = layer.weight_shapes(shape, ctx)
    kept = (
        window_input(layer, shape, ctx, layer.kernel_size, layer.dilation_rate),
        *(
            Keep(Source.WEIGHT, weight=name, layout_copy=_kernel_moves(name, shapes[name]))
            for name in weights
        ),
    )
    return (*kept, *fused_activation_keeps(layer.activation, pre))
