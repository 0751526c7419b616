"""Pooling layers."""

from __future__ import annotations

import math
from typing import Any, ClassVar

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
    arg,
    join_channels,
    kind,
    required,
    spatial_input,
    split_channels,
)
from .conv import resolve_windows
from .errors import ShapeError, SpecError
from .options import Convention, DataFormat


@kind
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

    @property
    def window_dilation(self) -> Shape:
        """Dilation of the pooling window (only PyTorch's max pooling has one)."""
        return (1,) * self.rank

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        assert self.strides is not None
        if max(self.window_dilation) > 1 and ctx.convention is Convention.KERAS:
            raise ShapeError(
                "Keras pooling has no dilation (use --convention pytorch for MaxPool2d(dilation=...))"
            )
        if isinstance(self.padding, tuple):
            for (before, after), k, d, axis in zip(
                self.padding, self.pool_size, self.window_dilation, AXIS_NAMES[self.rank], strict=True
            ):
                if ctx.convention is Convention.PYTORCH and max(before, after) > k // 2:
                    raise ShapeError(
                        f"PyTorch requires pooling padding <= kernel_size // 2, "
                        f"got padding {max(before, after)} for kernel {k}"
                    )
                if max(before, after) >= F.effective_kernel(k, d):
                    raise ShapeError(
                        f"padding {max(before, after)} is not smaller than the pool window {k} on {axis}: "
                        "a window would see only padding"
                    )
        windows = resolve_windows(
            spatial,
            self.pool_size,
            self.strides,
            self.window_dilation,
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


@kind
class MaxPool(Pool):
    """MaxPooling1D/2D/3D; ``dilation`` as in PyTorch's ``MaxPool2d`` (pytorch convention only)."""

    dilation: Shape = arg(V.positive_tuple, 1, aliases=("dilation_rate",))

    @property
    def window_dilation(self) -> Shape:
        return self.dilation

    def config(self) -> dict[str, Any]:
        out = super().config()
        if max(self.dilation) == 1:
            del out["dilation"]  # Keras's MaxPooling has no such argument
        return out


@kind
class GlobalPool(Layer):
    """GlobalMax/GlobalAveragePooling1D/2D/3D: one value per channel; ``keepdims`` keeps size-1 axes."""

    data_format: DataFormat | None = arg(V.optional_data_format)
    keepdims: bool = arg(V.boolean, False)
    rank: int = 2
    op: ClassVar[str] = "max"

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        out = join_channels((1,) * self.rank, channels, fmt) if self.keepdims else (channels,)
        return LayerOutput(shape=out, ops=math.prod(shape))  # one compare or add per input value

    def receptive_field(self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context) -> None:
        return None  # each output sees the whole input


@kind
class GlobalMaxPool(GlobalPool):
    """GlobalMaxPooling1D/2D/3D."""


@kind
class GlobalAvgPool(GlobalPool):
    """GlobalAveragePooling1D/2D/3D."""

    op: ClassVar[str] = "avg"


@kind
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


def _output_size(value: Any, rank: int) -> tuple[int | None, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) != rank:
            raise SpecError(f"expected {rank} sizes, got {len(value)}")
        return tuple(None if v is None else V.positive_int(v) for v in value)
    return (V.positive_int(value),) * rank


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: output i covers [floor(i*n/out), ceil((i+1)*n/out))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


@kind
class AdaptivePool(Layer):
    """AdaptiveAvg/MaxPool1d/2d/3d (PyTorch): a fixed output size whatever the input; ``None`` keeps an axis."""

    output_size: tuple[int | None, ...] = required(_output_size)
    data_format: DataFormat | None = arg(V.optional_data_format)
    rank: int = 2
    op: ClassVar[str] = "avg"

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        out = tuple(n if o is None else o for n, o in zip(spatial, self.output_size, strict=True))
        return LayerOutput(shape=join_channels(out, channels, fmt), ops=math.prod(shape))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        spatial, _ = split_channels(shape, self.layout(ctx))
        if all(o is None or o == n for n, o in zip(spatial, self.output_size, strict=True)):
            return rf  # the identity
        return UNTRACKED  # windows of varying size


@kind
class AdaptiveAvgPool(AdaptivePool):
    """AdaptiveAvgPool1d/2d/3d."""


@kind
class AdaptiveMaxPool(AdaptivePool):
    """AdaptiveMaxPool1d/2d/3d."""

    op: ClassVar[str] = "max"
