"""Keras preprocessing layers that live inside models: Rescaling and Normalization."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

from ..enums import Category, Convention
from ..errors import ShapeError, SpecError
from ..geometry import Shape, fmt_shape, keras_axis_index
from . import args as A
from . import rules
from .autograd import Keep
from .base import Context, Layer, LayerOutput, Step, Worked, kind
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchFace
from .rules import Sizes
from .working import num, unchanged

D = TypeVar("D")

Numbers = float | tuple[Any, ...]


def numbers(value: Any, rank: int = 0) -> Numbers:
    """A number, or a (nested, rectangular) list of numbers, kept as nested tuples."""
    if isinstance(value, (list, tuple)):
        items = tuple(numbers(v) for v in value)
        if len({array_shape(item) for item in items}) > 1:
            raise SpecError(f"expected a rectangular list of numbers, got {value!r}")
        return items
    return A.real(value)


def array_shape(value: Numbers) -> tuple[int, ...]:
    """The shape of a number (``()``) or of nested tuples of numbers."""
    if isinstance(value, tuple):
        return (len(value), *(array_shape(value[0]) if value else ()))
    return ()


def _axes(value: Any, rank: int = 0) -> tuple[int, ...]:
    """Keras's Normalization ``axis``: an int, a list of ints, or None (no kept axis)."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    axes = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or abs(item) > 64:
            raise SpecError(f"expected axis integers, got {value!r}")
        axes.append(item)
    return tuple(axes)


@kind
class Rescaling(Layer):
    """Rescaling(scale, offset): ``x*scale + offset`` (Keras); no params. ``scale`` and ``offset``
    are numbers or lists that broadcast to the input (one per channel, say)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Rescaling")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "PyTorch has no rescaling module (torchvision transforms are not layers)"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("ONNX writes it as Mul and Add, read as arithmetic")

    category: ClassVar[Category] = Category.ELEMENTWISE
    scale: Numbers = A.required(numbers)
    offset: Numbers = A.arg(numbers, 0.0)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        for name in ("scale", "offset"):
            rules.fits(p, array_shape(getattr(self, name)), dims, name)
        return dims

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        for name in ("scale", "offset"):
            fits(array_shape(getattr(self, name)), shape, name)
        return LayerOutput(shape=shape, ops=2 * math.prod(shape))  # a multiply and an add per value

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Constants multiplied and added: nothing kept (a constant tensor is the model's)."""
        return ()

    def explain_steps(self, w: Worked) -> list[Step]:
        return unchanged(w, "x*scale + offset, value by value")


def fits(constant: tuple[int, ...], shape: Shape, name: str) -> None:
    """A constant of shape ``constant`` broadcasts onto ``shape`` without changing it (right-aligned)."""
    if len(constant) > len(shape) or any(
        c not in (1, n) for c, n in zip(reversed(constant), reversed(shape), strict=False)
    ):
        raise ShapeError(
            f"{name} of shape {fmt_shape(constant)} does not broadcast to the input {fmt_shape(shape)}"
        )


@kind
class Normalization(Layer):
    """Normalization(axis, mean, variance, invert): ``(x - mean)/sqrt(variance)`` per feature of
    the kept ``axis`` (Keras counts the batch axis as 0; default -1).

    Params, as Keras counts them: without ``mean``/``variance`` the layer is adapted state, three
    non-trainable weights ``mean`` and ``variance`` (one per kept feature, F = product of the kept
    axes' sizes) and the scalar ``count``: 2*F + 1. Given ``mean`` and ``variance`` are constants,
    not weights: 0 params (``keras.layers.Normalization.build``).
    """

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Normalization")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "PyTorch has no normalization-by-statistics module (torchvision transforms are not layers)"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("ONNX writes it as Sub and Div, read as arithmetic")

    category: ClassVar[Category] = Category.NORM
    axis: tuple[int, ...] = A.arg(_axes, (-1,))
    mean: Numbers | None = A.arg(A.optional(numbers))
    variance: Numbers | None = A.arg(A.optional(numbers))
    invert: bool = A.arg(A.boolean, False)

    def check(self) -> None:
        if (self.mean is None) != (self.variance is None):
            raise SpecError("give both mean and variance, or neither (the layer is then adapted state)")

    def config(self) -> dict[str, Any]:
        out = super().config()
        for key in ("mean", "variance"):
            if out[key] is None:
                del out[key]
        return out

    def kept(self, shape: Shape) -> tuple[int, ...]:
        """No-batch indices of the kept (per-feature) axes, sorted."""
        return tuple(sorted({keras_axis_index(a, shape) for a in self.axis}))

    def features(self, shape: Shape) -> tuple[int, ...]:
        """Sizes of the kept axes: the shape of the mean and variance weights."""
        return tuple(shape[i] for i in self.kept(shape))

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        kept = [dims[i] for i in self.kept((1,) * len(dims))]
        for name, value in (("mean", self.mean), ("variance", self.variance)):
            if value is not None:
                rules.fits(p, array_shape(value), kept, name)
        return dims

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``(x - mean) / sqrt(variance)`` with constants: nothing of the input kept."""
        return ()

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        sizes = self.features(shape)
        for name in ("mean", "variance"):
            value = getattr(self, name)
            if value is None:
                continue
            given = array_shape(value)
            # Keras maps the given dims onto the kept axes from the right, then broadcasts.
            if len(given) > len(sizes) or any(
                g not in (1, n) for g, n in zip(reversed(given), reversed(sizes), strict=False)
            ):
                axes = ", ".join(str(a) for a in self.axis) or "none"
                raise ShapeError(
                    f"{name} has shape {fmt_shape(given) if given else '()'} but the kept axis ({axes}) "
                    f"of the input {fmt_shape(shape)} has {fmt_shape(sizes) if sizes else 'one value'}"
                )
        state = 0 if self.mean is not None else 2 * math.prod(sizes) + 1
        keras = ctx.convention is Convention.KERAS
        return LayerOutput(
            shape=shape,
            non_trainable=state if keras else 0,
            buffers=0 if keras else state,
            ops=2 * math.prod(shape),  # subtract, divide (the sqrt is folded into a constant)
        )

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        if self.mean is not None:
            return {}
        sizes = self.features(in_shape)
        return {"mean": sizes, "variance": sizes, "count": ()}

    def explain_steps(self, w: Worked) -> list[Step]:
        sizes = self.features(w.input_shape)
        f = math.prod(sizes)
        if self.mean is not None:
            params = Step("params", "mean and variance given: constants, not weights", "", "0")
        else:
            params = Step(
                "params", "2*F + 1 (mean, variance, count; non-trainable)", f"2*{f} + 1", num(2 * f + 1)
            )
        return [
            Step("features", "product of the kept axes (F)", "*".join(map(str, sizes)) or "1", str(f)),
            params,
        ]
