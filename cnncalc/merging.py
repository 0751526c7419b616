"""Merge layers: several inputs, one output (Keras ``Add``, ``Concatenate``, ...).

A merge's :meth:`compute_many` takes the input shapes with the names of the layers they come
from, so a mismatch names both branches.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from . import values as V
from .base import UNTRACKED, Context, Layer, LayerOutput, ReceptiveField, Shape, arg, fmt_shape, kind
from .basic import keras_axis_index
from .errors import ShapeError
from .options import DataFormat


@kind
class Merge(Layer):
    """Base of the merge kinds: ``compute`` (one input) is an error; ``compute_many`` does the work."""

    takes_many: ClassVar[bool] = True

    #: how many inputs the kind takes at most (None: any number from 2)
    max_inputs: ClassVar[int | None] = None

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        raise ShapeError('a merge layer needs at least two inputs: give "inputs": ["a", "b"] in a JSON spec')

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        """Output shape and costs for several inputs; ``sources`` names where each comes from."""
        raise NotImplementedError

    def check_count(self, sources: list[str]) -> None:
        """Two or more inputs (exactly two for subtract)."""
        if len(sources) < 2 or (self.max_inputs is not None and len(sources) > self.max_inputs):
            wanted = f"exactly {self.max_inputs}" if self.max_inputs else "at least two"
            raise ShapeError(f"takes {wanted} inputs, got {len(sources)}")


@kind
class Elementwise(Merge):
    """Add/Subtract/Multiply/Average/Maximum/Minimum: inputs of one shape, combined value by value."""

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        self.check_count(sources)
        for shape, source in zip(shapes[1:], sources[1:], strict=True):
            if shape != shapes[0]:
                raise ShapeError(
                    f"inputs must have one shape: {sources[0]!r} gives {fmt_shape(shapes[0])}, "
                    f"{source!r} gives {fmt_shape(shape)}"
                )
        return LayerOutput(shape=shapes[0], ops=(len(shapes) - 1) * math.prod(shapes[0]))


@kind
class Add(Elementwise):
    """Add: the sum of the inputs."""


@kind
class Subtract(Elementwise):
    """Subtract: first input minus the second."""

    max_inputs: ClassVar[int | None] = 2


@kind
class Multiply(Elementwise):
    """Multiply: the elementwise product."""


@kind
class Average(Elementwise):
    """Average: the elementwise mean."""


@kind
class Maximum(Elementwise):
    """Maximum: the elementwise maximum."""


@kind
class Minimum(Elementwise):
    """Minimum: the elementwise minimum."""


@kind
class Concatenate(Merge):
    """Concatenate along ``axis`` (Keras counts the batch axis as 0); default: the channel axis of
    the data format (Keras's -1 under channels_last, 1 under channels_first)."""

    axis: int | None = arg(V.optional_axis)

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.axis is None:
            del out["axis"]
        return out

    def concat_axis(self, shape: Shape, ctx: Context) -> int:
        """No-batch index of the axis the inputs are joined along."""
        if self.axis is None:
            return 0 if ctx.data_format is DataFormat.CHANNELS_FIRST and len(shape) > 1 else len(shape) - 1
        return keras_axis_index(self.axis, shape)

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        self.check_count(sources)
        axis = self.concat_axis(shapes[0], ctx)
        for shape, source in zip(shapes[1:], sources[1:], strict=True):
            rest = [n for i, n in enumerate(shape) if i != axis]
            if len(shape) != len(shapes[0]) or rest != [n for i, n in enumerate(shapes[0]) if i != axis]:
                raise ShapeError(
                    f"inputs must agree except on axis {axis + 1}: {sources[0]!r} gives "
                    f"{fmt_shape(shapes[0])}, {source!r} gives {fmt_shape(shape)}"
                )
        out = list(shapes[0])
        out[axis] = sum(shape[axis] for shape in shapes)
        return LayerOutput(shape=tuple(out))


def merge_fields(fields: list[ReceptiveField | None]) -> ReceptiveField | None:
    """The field of a merge: the union of its inputs' fields (same jump needed), or global/untracked."""
    if any(f is None for f in fields):
        return None
    if (
        any(not f.tracked for f in fields)
        or len({f.jump for f in fields}) > 1
        or len({len(f.size) for f in fields}) > 1
    ):  # type: ignore[union-attr]
        return UNTRACKED
    sizes, starts = [], []
    for axis in range(len(fields[0].size)):  # type: ignore[union-attr]
        lo = min(f.start[axis] - (f.size[axis] - 1) / 2 for f in fields)  # type: ignore[union-attr]
        hi = max(f.start[axis] + (f.size[axis] - 1) / 2 for f in fields)  # type: ignore[union-attr]
        sizes.append(int(round(hi - lo)) + 1)
        starts.append((lo + hi) / 2)
    return ReceptiveField(tuple(sizes), fields[0].jump, tuple(starts))  # type: ignore[union-attr]
