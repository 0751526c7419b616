"""Pooling layers: windowed max/average pooling, global pooling, PyTorch's adaptive pooling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from .. import formulas as F
from ..enums import Category, Convention, DataFormat, PaddingMode
from ..errors import Option, Part, ShapeError, SpecError
from ..geometry import (
    AXIS_NAMES,
    AxisMap,
    Padding,
    ReceptiveField,
    Shape,
    Window,
    fmt_shape,
    join_channels,
    resolve_windows,
    split_channels,
)
from . import args as A
from .autograd import KEEP_OUTPUT, Elem, Keep, Source, kept_input, window_input
from .base import Context, Layer, LayerOutput, Step, Worked, kind, spatial_input
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
from .rules import Sizes, joined, spatial, window_same_hint, windowed
from .working import SYMBOL, axes_steps, no_params, window_rule

D = TypeVar("D")

_POOL_NAMES = {
    "kernel_size": ("pool_size",),
    "stride": ("strides",),
    "padding": ("padding",),
    "ceil_mode": ("ceil_mode",),
}
#: ``nn.MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode)``
MAX_POOL_SIGNATURE = TorchSignature(
    "MaxPool{rank}d",
    ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
    {**_POOL_NAMES, "dilation": ("dilation",), "return_indices": ()},
)
#: ``nn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad)``
AVG_POOL_SIGNATURE = TorchSignature(
    "AvgPool{rank}d",
    ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    {**_POOL_NAMES, "count_include_pad": ("count_include_pad",)},
)


def torch_max_padding(kernel: int) -> int:
    """PyTorch's pooling takes padding <= kernel_size // 2 (``pool2d_shape_check`` in aten)."""
    return kernel // 2


def torch_padding_allowed(pad: int, kernel: int) -> bool:
    """Whether PyTorch's pooling takes ``pad`` cells of padding with this kernel."""
    return pad <= torch_max_padding(kernel)


def kernel_within_input(op: str, rank: int, convention: Convention) -> bool:
    """PyTorch's AvgPool3d refuses an input smaller than the kernel, padding aside (aten
    ``pool3d_shape_check``); no other pooling does."""
    return op == "avg" and rank == 3 and convention is Convention.PYTORCH


def unpadded_minimum(op: str, rank: int, convention: Convention, pool_size: Sequence[int]) -> tuple[int, ...]:
    """The smallest input per axis a pooling kind takes before padding: PyTorch's AvgPool3d
    refuses an input smaller than the kernel, padding aside (aten ``pool3d_shape_check``); every
    other pooling takes any size (1), its padding decides."""
    if kernel_within_input(op, rank, convention):
        return tuple(pool_size)
    return (1,) * rank


@kind
class Pool(Layer):
    """Max/AveragePooling1D/2D/3D; strides default to pool_size (Keras and PyTorch alike)."""

    category: ClassVar[Category] = Category.POOL
    pool_size: Shape = A.arg(A.positive_tuple, 2, aliases=("pool", "kernel_size", "kernel"))
    strides: Shape = A.arg(A.optional(A.positive_tuple), aliases=("stride",))
    padding: Padding = A.arg(A.padding, "valid")
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    ceil_mode: bool = A.arg(A.boolean, False)
    rank: int = 2
    op: ClassVar[str] = "max"
    window_reduce: ClassVar[str] = "max"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.strides is None:  # the coercer keeps None: "the same as pool_size"
            object.__setattr__(self, "strides", self.pool_size)

    @property
    def window_dilation(self) -> Shape:
        """Dilation of the pooling window (only PyTorch's max pooling has one)."""
        return (1,) * self.rank

    def includes_padding(self, ctx: Context) -> bool:
        """Whether padded zeros count in the window's result (an average's divisor): never for max."""
        return False

    def same_hint(self, shape: Shape, ctx: Context) -> tuple[Part, ...] | None:
        if not (
            ctx.convention is Convention.PYTORCH
            and self.padding is PaddingMode.SAME
            and len(shape) == self.rank + 1
        ):
            return None
        sizes, _ = split_channels(shape, self.layout(ctx))
        return window_same_hint(sizes, self.pool_size, self.strides, self.window_dilation)

    def check_settings(self, ctx: Context) -> None:
        """What the convention refuses whatever the input: Keras's pooling has no dilation,
        PyTorch's padding is at most kernel_size // 2, and no window may see only padding.
        PyTorch's pooling takes integer padding only (``nn.MaxPool2d(3, 1, padding="same")``
        raises at any stride); the hint computes the padding Keras's 'same' would apply."""
        if self.padding is PaddingMode.SAME and ctx.convention is Convention.PYTORCH:
            raise ShapeError(
                "PyTorch's pooling has no padding='same' (MaxPool2d/AvgPool2d take integer padding): "
                "give the padding, or use ",
                Option("convention", "keras"),
            )
        if max(self.window_dilation) > 1 and ctx.convention is Convention.KERAS:
            raise ShapeError(
                "Keras pooling has no dilation (use ",
                Option("convention", "pytorch"),
                " for MaxPool2d(dilation=...))",
            )
        if isinstance(self.padding, tuple):
            for (before, after), k, d, axis in zip(
                self.padding, self.pool_size, self.window_dilation, AXIS_NAMES[self.rank], strict=True
            ):
                if ctx.convention is Convention.PYTORCH and not torch_padding_allowed(max(before, after), k):
                    raise ShapeError(
                        f"PyTorch requires pooling padding <= kernel_size // 2, "
                        f"got padding {max(before, after)} for kernel {k}"
                    )
                if max(before, after) >= F.effective_kernel(k, d):
                    raise ShapeError(
                        f"padding {max(before, after)} is not smaller than the pool window {k} on {axis}: "
                        "a window would see only padding"
                    )

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        self.check_settings(p.ctx)
        sizes, _, _ = spatial(p, self, dims, self.rank)
        for g, k in zip(
            sizes, unpadded_minimum(self.op, self.rank, p.ctx.convention, self.pool_size), strict=True
        ):
            if k > 1:
                p.need(g, k, None, f"AvgPool3d needs {k} cells before padding")
        out, channels, first = windowed(
            p,
            self,
            dims,
            self.rank,
            self.padding,
            self.pool_size,
            self.strides,
            self.window_dilation,
            self.ceil_mode,
            "pool window",
        )
        return joined(out, channels, first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        self.check_settings(ctx)
        minimum = unpadded_minimum(self.op, self.rank, ctx.convention, self.pool_size)
        small = [
            (axis, n, k) for axis, n, k in zip(AXIS_NAMES[self.rank], spatial, minimum, strict=True) if n < k
        ]
        if small:
            axis, n, k = small[0]
            raise ShapeError(
                f"PyTorch's AvgPool3d refuses an input smaller than the kernel, padding aside: "
                f"{axis} {n} < {k} (aten pool3d_shape_check)"
            )
        windows = resolve_windows(
            spatial,
            self.pool_size,
            self.strides,
            self.window_dilation,
            self.padding,
            ctx.convention,
            ceil_mode=self.ceil_mode,
            what="pool window",
        )
        out_shape = join_channels(tuple(w.out for w in windows), channels, fmt)
        window = math.prod(self.pool_size)
        # max: window-1 comparisons per output; average: window-1 adds and one divide
        per_output = window - 1 if self.op == "max" else window
        return LayerOutput(shape=out_shape, ops=math.prod(out_shape) * per_output, windows=windows)

    def explain_rule(self, ctx: Context) -> str:
        return window_rule(self.padding, self.ceil_mode, ctx.convention)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Max: ``max_pool2d_with_indices`` keeps ``self`` and the int64 indices of each output
        (``result1``); average: ``avg_pool2d`` keeps ``self``."""
        kept = window_input(self, inputs[0], ctx, self.pool_size)
        return (kept, *_pool_keeps(self.op, output)[1:])

    def explain_steps(self, w: Worked) -> list[Step]:
        steps = axes_steps(AXIS_NAMES[self.rank], w.windows, self.padding, self.ceil_mode, w.ctx.convention)
        _, channels = split_channels(w.output_shape, self.layout(w.ctx))
        steps.append(Step("channels", "unchanged (pooling acts on each channel)", "", str(channels)))
        steps.append(Step("params", "none (pooling has no weights)", "", "0"))
        return steps


@kind
class MaxPool(Pool):
    """MaxPooling1D/2D/3D; ``dilation`` as in PyTorch's ``MaxPool2d`` (pytorch convention only)."""

    counted: ClassVar[Counted] = Counted.MAX_POOL
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "MaxPooling{rank}D", KerasCode.WINDOWED, data_format=True, aliases=("MaxPool{rank}D",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("MaxPool{rank}d",), ("max_pool{rank}d",), MAX_POOL_SIGNATURE, TorchCode.POOL
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("MaxPool",))

    dilation: Shape = A.arg(A.positive_tuple, 1, aliases=("dilation_rate",))

    sizes = Pool.sizes

    @property
    def window_dilation(self) -> Shape:
        return self.dilation

    def config(self) -> dict[str, Any]:
        out = super().config()
        if max(self.dilation) == 1:
            del out["dilation"]  # Keras's MaxPooling has no such argument
        return out


@kind
class AvgPool(Pool):
    """AveragePooling1D/2D/3D. ``count_include_pad`` (PyTorch) only changes values, not shapes:
    None means the convention's default (Keras excludes padded cells, PyTorch includes them)."""

    counted: ClassVar[Counted] = Counted.AVG_POOL
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "AveragePooling{rank}D", KerasCode.WINDOWED, data_format=True, aliases=("AvgPool{rank}D",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("AvgPool{rank}d",), ("avg_pool{rank}d",), AVG_POOL_SIGNATURE, TorchCode.POOL
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("AveragePool",))

    count_include_pad: bool | None = A.arg(A.optional(A.boolean))
    op: ClassVar[str] = "avg"
    window_reduce: ClassVar[str] = "avg"

    def includes_padding(self, ctx: Context) -> bool:
        """Whether padded zeros count in the average: ``count_include_pad`` as set, else the
        convention's default (Keras's AveragePooling excludes them, PyTorch's AvgPool2d includes them)."""
        if self.count_include_pad is not None:
            return self.count_include_pad
        return ctx.convention is Convention.PYTORCH

    sizes = Pool.sizes

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.count_include_pad is None:
            del out["count_include_pad"]
        return out


@kind
class GlobalPool(Layer):
    """GlobalMax/GlobalAveragePooling1D/2D/3D: one value per channel; ``keepdims`` keeps size-1 axes."""

    category: ClassVar[Category] = Category.POOL
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    keepdims: bool = A.arg(A.boolean, False)
    rank: int = 2
    op: ClassVar[str] = "max"

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        _, channels, first = spatial(p, self, dims, self.rank)
        return joined([p.const(1)] * self.rank, channels, first) if self.keepdims else (channels,)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        out = join_channels((1,) * self.rank, channels, fmt) if self.keepdims else (channels,)
        return LayerOutput(shape=out, ops=math.prod(shape))  # one compare or add per input value

    def receptive_field(self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context) -> None:
        return None  # each output sees the whole input

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Average: a ``mean`` over the spatial axes, whose backward needs only sizes (nothing).
        Max: PyTorch's ``AdaptiveMaxPool(1)`` keeps the input and int64 indices; Keras's
        ``ops.max`` (``amax``) keeps the input and the result."""
        if self.op == "avg":
            return ()
        if ctx.convention is Convention.PYTORCH:
            return _pool_keeps("max", output)
        return (kept_input(), KEEP_OUTPUT)

    def explain_steps(self, w: Worked) -> list[Step]:
        what = "one value per channel" + (" (keepdims)" if self.keepdims else "")
        return [Step("shape", what, "", fmt_shape(w.output_shape)), no_params()]


@kind
class GlobalMaxPool(GlobalPool):
    """GlobalMaxPooling1D/2D/3D."""

    counted: ClassVar[Counted] = Counted.GLOBAL_MAX
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "GlobalMaxPooling{rank}D", data_format=True, aliases=("GlobalMaxPool{rank}D",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "PyTorch has no global max pooling module (AdaptiveMaxPool with output 1 is the adaptive kind)",
        reads=("amax",),  # --trace: x.amax(dim=(2, 3)) over every spatial axis
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("GlobalMaxPool", "ReduceMax"))
    sizes = GlobalPool.sizes


@kind
class GlobalAvgPool(GlobalPool):
    """GlobalAveragePooling1D/2D/3D."""

    counted: ClassVar[Counted] = Counted.GLOBAL_AVG
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "GlobalAveragePooling{rank}D", data_format=True, aliases=("GlobalAvgPool{rank}D",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(functions=("mean",), code=TorchCode.GLOBAL_AVG)
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("GlobalAveragePool", "ReduceMean"))

    op: ClassVar[str] = "avg"
    sizes = GlobalPool.sizes


def _output_size(value: Any, rank: int) -> tuple[int | None, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) != rank:
            raise SpecError(f"expected {rank} sizes, got {len(value)}")
        return tuple(None if v is None else A.positive_int(v) for v in value)
    return (A.positive_int(value),) * rank


@kind
class AdaptivePool(Layer):
    """AdaptiveAvg/MaxPool1d/2d/3d (PyTorch): a fixed output size whatever the input; ``None`` keeps an axis."""

    category: ClassVar[Category] = Category.POOL
    output_size: tuple[int | None, ...] = A.required(_output_size)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    rank: int = 2
    op: ClassVar[str] = "avg"

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, self.rank)
        out = [g if o is None else p.const(o) for g, o in zip(sizes, self.output_size, strict=True)]
        return joined(out, channels, first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        out = tuple(n if o is None else o for n, o in zip(spatial, self.output_size, strict=True))
        return LayerOutput(shape=join_channels(out, channels, fmt), ops=math.prod(shape))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        """To 1 on every axis the whole input (global, like a global pool); where an axis's
        windows have one size and one stride (o divides n, or the like), a plain pool; otherwise
        ATen's windows themselves, output by output (the field then varies by position)."""
        spatial, _ = split_channels(shape, self.layout(ctx))
        sizes = [n if o is None else o for n, o in zip(spatial, self.output_size, strict=True)]
        if all(o == 1 for o in sizes):
            return None
        maps: list[AxisMap | None] = []
        for n, o in zip(spatial, sizes, strict=True):
            window = adaptive_window(n, o)
            maps.append(AxisMap.adaptive(n, o) if window is None else AxisMap.window(window))
        return rf.mapped(tuple(maps))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Average to 1 per axis is a ``mean`` (``adaptive_avg_pool2d`` takes that path in
        ATen: nothing kept); any other average keeps ``self`` (``_adaptive_avg_pool2d``); max
        keeps ``self`` and int64 indices (``adaptive_max_pool2d``)."""
        if self.op == "avg" and all(o == 1 for o in self.output_size):
            return ()
        return _pool_keeps(self.op, output)

    def explain_steps(self, w: Worked) -> list[Step]:
        sizes = "x".join("n" if o is None else str(o) for o in self.output_size)
        spatial, _ = split_channels(w.input_shape, self.layout(w.ctx))
        out, _ = split_channels(w.output_shape, self.layout(w.ctx))
        steps = [Step("shape", f"output_size {sizes}, whatever the input", "", fmt_shape(w.output_shape))]
        for axis, n, o in zip(AXIS_NAMES[self.rank], spatial, out, strict=True):
            plain = adaptive_window(n, o)
            n_in, n_out = f"{SYMBOL[axis]}_in", f"{SYMBOL[axis]}_out"
            if plain is not None:
                work = f"{n} -> {o}: {plain.kernel} cells each, stride {plain.stride}"
            else:
                cells = [-(-(i + 1) * n // o) - i * n // o for i in range(o)]
                work = f"{n} -> {o}: {min(cells)} to {max(cells)} cells by position"
            rule = f"floor(i*{n_in}/{n_out}) .. ceil((i+1)*{n_in}/{n_out}) - 1"
            steps.append(Step(f"{axis} window i", rule, work, f"{o} windows"))
        steps.append(no_params())
        return steps


@kind
class AdaptiveAvgPool(AdaptivePool):
    """AdaptiveAvgPool1d/2d/3d."""

    counted: ClassVar[Counted] = Counted.ADAPTIVE_AVG
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "AveragePooling{rank}D", KerasCode.ADAPTIVE, data_format=True, written_only=True
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("AdaptiveAvgPool{rank}d",), ("adaptive_avg_pool{rank}d",), code=TorchCode.ADAPTIVE_POOL
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace(
        "ONNX has no adaptive pooling op (exporters write AveragePool or GlobalAveragePool)"
    )
    sizes = AdaptivePool.sizes


@kind
class AdaptiveMaxPool(AdaptivePool):
    """AdaptiveMaxPool1d/2d/3d."""

    counted: ClassVar[Counted] = Counted.ADAPTIVE_MAX
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "MaxPooling{rank}D", KerasCode.ADAPTIVE, data_format=True, written_only=True
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("AdaptiveMaxPool{rank}d",), ("adaptive_max_pool{rank}d",), code=TorchCode.ADAPTIVE_POOL
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace(
        "ONNX has no adaptive pooling op (exporters write MaxPool or GlobalMaxPool)"
    )

    op: ClassVar[str] = "max"
    sizes = AdaptivePool.sizes


def _pool_keeps(op: str, output: Shape) -> tuple[Keep, ...]:
    """The input; for max pooling also one int64 index per output value."""
    if op == "max":
        return (kept_input(), Keep(Source.NEW, elements=math.prod(output), elem=Elem.INT64))
    return (kept_input(),)


def adaptive_window(n: int, o: int) -> Window | None:
    """The one window an adaptive pool from ``n`` to ``o`` slides, when its windows all have one
    size and one stride, else None. Output i pools input floor(i*n/o) .. ceil((i+1)*n/o) - 1
    (ATen's ``start_index``/``end_index`` in AdaptiveAveragePooling.cpp)."""
    starts = [i * n // o for i in range(o)]
    ends = [-(-(i + 1) * n // o) for i in range(o)]
    sizes = {e - b for b, e in zip(starts, ends, strict=True)}
    steps = {b - a for a, b in zip(starts, starts[1:], strict=False)}
    if len(sizes) != 1 or len(steps) > 1:
        return None
    size = sizes.pop()
    stride = steps.pop() if steps else size
    return Window(n, size, size, stride, 1, 0, 0, o)
