"""Merge layers: several inputs, one output (Keras ``Add``, ``Concatenate``, ...).

A merge's :meth:`compute_many` takes the input shapes with the names of the layers they come
from, so a mismatch names both branches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from ..enums import Category, DataFormat
from ..errors import ShapeError
from ..geometry import Shape, fmt_shape, keras_axis_index
from . import args as A
from .autograd import Keep, Source, kept_input
from .base import Context, Layer, LayerOutput, ManyInputs, Step, Worked, kind
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchCode, TorchFace
from .rules import Sizes, broadcast_dims
from .working import no_params

D = TypeVar("D")


@kind
class Merge(Layer):
    """Base of the merge kinds: ``compute`` (one input) is an error; ``compute_many`` does the work."""

    takes_many: ClassVar[bool] = True
    category: ClassVar[Category] = Category.MERGE

    #: how many inputs the kind takes at most (None: any number from 2)
    max_inputs: ClassVar[int | None] = None

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        raise ShapeError('a merge layer needs at least two inputs: give "inputs": ["a", "b"] in a JSON spec')

    def many(self) -> ManyInputs:
        return self

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        """Output shape and costs for several inputs; ``sources`` names where each comes from."""
        raise NotImplementedError

    def sizes_many(self, p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
        """The size rule over several inputs (every merge kind declares its own)."""
        raise NotImplementedError

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Add, subtract, average and concatenate read sizes only in backward (nothing kept)."""
        return ()

    def check_count(self, sources: list[str]) -> None:
        """Two or more inputs (exactly two for subtract)."""
        if len(sources) < 2 or (self.max_inputs is not None and len(sources) > self.max_inputs):
            wanted = f"exactly {self.max_inputs}" if self.max_inputs else "at least two"
            raise ShapeError(f"takes {wanted} inputs, got {len(sources)}")


def broadcast(shapes: list[Shape], sources: list[str]) -> Shape:
    """The shape elementwise merges give, by Keras's rule (``Merge._compute_elemwise_op_output_shape``):
    shapes are aligned on the right (a lower-rank input gains leading 1s); along each axis the
    sizes agree, or one of them is 1 and the other wins. 1x1xC times HxWxC is HxWxC (squeeze-and-
    excite); 4x4x3 and 5x5x3 do not broadcast.

    >>> broadcast([(7, 7, 16), (1, 1, 16)], ["a", "b"])
    (7, 7, 16)
    """
    out = list(shapes[0])
    for shape, source in zip(shapes[1:], sources[1:], strict=True):
        longer, shorter = (out, list(shape)) if len(out) >= len(shape) else (list(shape), out)
        merged = longer[: len(longer) - len(shorter)]
        for i, j in zip(longer[len(longer) - len(shorter) :], shorter, strict=True):
            if i != j and 1 not in (i, j):
                raise ShapeError(
                    f"inputs do not broadcast: {sources[0]!r} gives {fmt_shape(shapes[0])}, "
                    f"{source!r} gives {fmt_shape(shape)} (sizes must agree or be 1 on each axis, "
                    "aligned on the right)"
                )
            merged.append(j if i == 1 else i)
        out = merged
    return tuple(out)


@kind
class Elementwise(Merge):
    """Add/Subtract/Multiply/Average/Maximum/Minimum: inputs combined value by value, broadcast as
    Keras broadcasts them (:func:`broadcast`)."""

    def sizes_many(self, p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
        return broadcast_dims(p, many)

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        self.check_count(sources)
        out = broadcast(shapes, sources)
        return LayerOutput(shape=out, ops=(len(shapes) - 1) * math.prod(out))

    #: what the combination is called in explain ("sum of the inputs")
    combined: ClassVar[str] = ""

    def explain_steps(self, w: Worked) -> list[Step]:
        sources = ", ".join(w.sources)
        if all(shape == w.output_shape for shape in w.input_shapes):
            return [
                Step(
                    "shape",
                    f"{self.combined} of inputs of one shape ({sources})",
                    "",
                    fmt_shape(w.output_shape),
                ),
                no_params(),
            ]
        shown = " and ".join(fmt_shape(shape) for shape in w.input_shapes)
        return [
            Step(
                "shape",
                f"{self.combined} of the inputs ({sources}), broadcast",
                shown,
                fmt_shape(w.output_shape),
            ),
            no_params(),
        ]


@kind
class Add(Elementwise):
    """Add: the sum of the inputs."""

    counted: ClassVar[Counted] = Counted.RESIDUAL_ADD
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Add")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(functions=("add",), code=TorchCode.ADD)
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Add", "Sum"))

    sizes_many = Elementwise.sizes_many
    combined: ClassVar[str] = "sum"


@kind
class Subtract(Elementwise):
    """Subtract: first input minus the second."""

    counted: ClassVar[Counted] = Counted.DIFFERENCE
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Subtract")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "cnncalc writes no x - y (its PyTorch reader reads +, * and torch.cat)"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Sub",))

    sizes_many = Elementwise.sizes_many
    combined: ClassVar[str] = "difference"

    max_inputs: ClassVar[int | None] = 2


@kind
class Multiply(Elementwise):
    """Multiply: the elementwise product."""

    counted: ClassVar[Counted] = Counted.PRODUCT
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Multiply")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(functions=("mul",), code=TorchCode.MULTIPLY)
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Mul",))

    sizes_many = Elementwise.sizes_many
    combined: ClassVar[str] = "product"

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        return chained_keeps(len(inputs), output)


@kind
class Average(Elementwise):
    """Average: the elementwise mean."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Average")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("cnncalc writes no (x + y) / 2")
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Mean",))

    sizes_many = Elementwise.sizes_many
    combined: ClassVar[str] = "mean"


@kind
class Maximum(Elementwise):
    """Maximum: the elementwise maximum."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Maximum")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("cnncalc writes no torch.maximum")
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Max",))

    sizes_many = Elementwise.sizes_many
    combined: ClassVar[str] = "maximum"

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        return chained_keeps(len(inputs), output)


@kind
class Minimum(Elementwise):
    """Minimum: the elementwise minimum."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Minimum")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("cnncalc writes no torch.minimum")
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Min",))

    sizes_many = Elementwise.sizes_many
    combined: ClassVar[str] = "minimum"

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        return chained_keeps(len(inputs), output)


@kind
class Concatenate(Merge):
    """Concatenate along ``axis`` (Keras counts the batch axis as 0); default: the channel axis of
    the data format (Keras's -1 under channels_last, 1 under channels_first)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Concatenate")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        functions=("cat", "concat", "concatenate"), code=TorchCode.CONCAT
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Concat",))

    axis: int | None = A.arg(A.optional_axis)

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

    def sizes_many(self, p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
        first = many[0]
        axis = self.concat_axis((1,) * len(first), p.ctx)
        # An input read several times (concatenate([x, x, ...])) is compared once and its size
        # on the axis added as often as it is read, by doubling: 250,000 reads of one input are
        # not 250,000 symbolic comparisons and additions.
        reads: dict[int, tuple[tuple[D, ...], int]] = {}
        for dims in many:
            _, count = reads.get(id(dims), (dims, 0))
            reads[id(dims)] = (dims, count + 1)
        for other, _ in list(reads.values())[1:]:
            if len(other) != len(first):
                raise ShapeError("inputs of different ranks")
            for i, (a, b) in enumerate(zip(first, other, strict=True)):
                if i != axis:
                    p.equal(a, b, "its inputs' sizes must match")
        total = p.total([_times(p, dims[axis], count) for dims, count in reads.values()])
        return tuple(total if i == axis else d for i, d in enumerate(first))

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

    def explain_steps(self, w: Worked) -> list[Step]:
        axis = self.concat_axis(w.output_shape, w.ctx)
        parts = " + ".join(str(shape[axis]) for shape in w.input_shapes)
        sources = ", ".join(w.sources)
        return [
            Step(f"axis {axis + 1}", f"sum over the inputs ({sources})", parts, str(w.output_shape[axis])),
            Step("shape", "the other axes agree", "", fmt_shape(w.output_shape)),
        ]


def _times(p: Sizes[D], size: D, count: int) -> D:
    """``size`` added to itself to make ``count`` of it, in about log2(count) additions."""
    out: D | None = None
    power = size
    while True:
        if count & 1:
            out = power if out is None else p.total([out, power])
        count >>= 1
        if not count:
            assert out is not None  # count was at least 1
            return out
        power = p.total([power, power])


def chained_keeps(count: int, output: Shape) -> tuple[Keep, ...]:
    """Multiply, maximum and minimum are chained binary ops (``out = out * x``, as Keras's merge
    loops): each keeps both operands (``mul: self, other``; ``maximum: self, other``), so every
    input and each of the ``count - 2`` partial results."""
    partial = Keep(Source.NEW, elements=math.prod(output))
    return (*(kept_input(i) for i in range(count)), *(partial,) * (count - 2))
