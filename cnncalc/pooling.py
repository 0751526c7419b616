"""Pooling layers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from . import values as V
from .base import (
    AXIS_NAMES,
    Context,
    Layer,
    LayerOutput,
    Shape,
    _expect_rank,
    _spatial_layout,
    arg,
    join_channels,
    split_channels,
)
from .conv import resolve_windows
from .errors import ShapeError
from .options import Convention, DataFormat


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
