"""Layers that move or resize values without weights: padding, cropping, upsampling, reshape, permute."""

from __future__ import annotations

import math
from typing import Any

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
    arg,
    fmt_shape,
    join_channels,
    kind,
    required,
    spatial_input,
)
from .errors import ShapeError, SpecError
from .options import DataFormat


def _pairs(value: Any, rank: int) -> tuple[tuple[int, int], ...]:
    """Keras's ZeroPadding/Cropping argument: int, one int per axis, or (before, after) per axis."""
    if isinstance(value, str):
        raise SpecError(f"expected integers, got {value!r}")
    return V.padding(value, rank)  # type: ignore[return-value]


@kind
class ZeroPadding(Layer):
    """ZeroPadding1D/2D/3D: out = n + before + after per spatial axis (Keras argument forms)."""

    padding: tuple[tuple[int, int], ...] = arg(_pairs, 1)
    data_format: DataFormat | None = arg(V.optional_data_format)
    rank: int = 2

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        # As a kernel-1 window with padding, each output sees one input cell (or a zero).
        windows = tuple(
            Window(n, 1, 1, 1, 1, b, a, n + b + a) for n, (b, a) in zip(spatial, self.padding, strict=True)
        )
        return LayerOutput(shape=join_channels(tuple(w.out for w in windows), channels, fmt), windows=windows)


@kind
class Cropping(Layer):
    """Cropping1D/2D/3D: out = n - before - after per spatial axis; nothing may be left empty."""

    cropping: tuple[tuple[int, int], ...] = arg(_pairs, 0)
    data_format: DataFormat | None = arg(V.optional_data_format)
    rank: int = 2

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        for n, (b, a), axis in zip(spatial, self.cropping, AXIS_NAMES[self.rank], strict=True):
            if b + a >= n:
                raise ShapeError(f"cropping {b} + {a} removes all {n} cells on {axis}")
        # Cropping is a kernel-1 window with negative padding: the field's start moves inwards.
        windows = tuple(
            Window(n, 1, 1, 1, 1, -b, -a, n - b - a) for n, (b, a) in zip(spatial, self.cropping, strict=True)
        )
        return LayerOutput(shape=join_channels(tuple(w.out for w in windows), channels, fmt), windows=windows)


@kind
class UpSampling(Layer):
    """UpSampling1D/2D/3D: out = n*size per spatial axis. ``interpolation`` nearest, or bilinear (2-D)."""

    size: Shape = arg(V.positive_tuple, 2)
    data_format: DataFormat | None = arg(V.optional_data_format)
    interpolation: str = arg(lambda v, r: _interpolation(v, r), "nearest")
    rank: int = 2

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.rank != 2:
            del out["interpolation"]  # only Keras's UpSampling2D has it
        return out

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        out = tuple(n * s for n, s in zip(spatial, self.size, strict=True))
        interpolated = math.prod(out) * channels if self.interpolation == "bilinear" else 0
        return LayerOutput(shape=join_channels(out, channels, fmt), ops=3 * interpolated)

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return UNTRACKED  # fractional strides: the recurrences do not apply


def _interpolation(value: Any, rank: int) -> str:
    allowed = ("nearest", "bilinear") if rank == 2 else ("nearest",)
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise SpecError(f"expected {' or '.join(allowed)}, got {value!r}")


def _target(value: Any, rank: int) -> Shape:
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"expected a shape like [-1, 32], got {value!r}")
    if sum(1 for v in value if v == -1) > 1:
        raise SpecError("at most one -1 is allowed")
    return tuple(-1 if v == -1 else V.positive_int(v) for v in value)


@kind
class Reshape(Layer):
    """Reshape(target_shape): same number of values; one -1 is inferred (Keras and NumPy rule)."""

    target_shape: Shape = required(_target, aliases=("shape",))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        total = math.prod(shape)
        known = math.prod(v for v in self.target_shape if v != -1)
        if -1 in self.target_shape:
            if total % known:
                raise ShapeError(f"cannot reshape {fmt_shape(shape)} ({total:,} values) to {self._text()}: "
                                 f"{total:,} is not a multiple of {known:,}")  # fmt: skip
            out = tuple(total // known if v == -1 else v for v in self.target_shape)
        else:
            if known != total:
                raise ShapeError(f"cannot reshape {fmt_shape(shape)} ({total:,} values) to {self._text()} "
                                 f"({known:,} values)")  # fmt: skip
            out = self.target_shape
        return LayerOutput(shape=out)

    def _text(self) -> str:
        return "x".join(str(v) for v in self.target_shape)

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return rf if out.shape == shape else UNTRACKED


def _dims(value: Any, rank: int) -> Shape:
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"expected a permutation like [2, 1] (1-based, batch axis excluded), got {value!r}")
    dims = tuple(V.positive_int(v) for v in value)
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise SpecError(f"{list(dims)} is not a permutation of 1..{len(dims)}")
    return dims


@kind
class Permute(Layer):
    """Permute(dims): reorder the non-batch axes; ``dims`` counts from 1, as in Keras."""

    dims: Shape = required(_dims)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        if len(self.dims) != len(shape):
            raise ShapeError(
                f"dims {list(self.dims)} has {len(self.dims)} axes, the input {fmt_shape(shape)} has {len(shape)}"
            )
        return LayerOutput(shape=tuple(shape[d - 1] for d in self.dims))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return rf if list(self.dims) == sorted(self.dims) else UNTRACKED
