"""Layers that ``keras.applications`` defines and serializes by class name: ConvNeXt's
``LayerScale`` and InceptionResNetV2's ``CustomScaleLayer``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar, TypeVar

from ..enums import Category
from ..errors import ShapeError
from ..geometry import Shape, fmt_shape
from . import args as A
from .autograd import Keep
from .base import Context, Layer, LayerOutput, Step, Worked, kind
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchFace
from .merging import Merge, broadcast
from .rules import Sizes, broadcast_dims
from .working import num

D = TypeVar("D")


@kind
class LayerScale(Layer):
    """LayerScale(init_values, projection_dim) (``keras.applications.convnext``): ``x * gamma``
    with a trainable ``gamma`` of projection_dim values, broadcast over the last axis.
    Params = projection_dim."""

    counted: ClassVar[Counted] = Counted.LAYER_SCALE
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "it is keras.applications.convnext's own layer, not in keras.layers", reads=("LayerScale",)
    )
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "torchvision writes it as a learned multiply (the arithmetic kind)"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace(
        "ONNX writes it as Mul by a constant (the arithmetic kind)"
    )

    category: ClassVar[Category] = Category.ELEMENTWISE
    init_values: float = A.required(A.real)
    projection_dim: int = A.required(A.positive_int)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        return broadcast_dims(p, [dims, (p.const(self.projection_dim),)])

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        out = broadcast([shape, (self.projection_dim,)], ["the input", "gamma"])
        return LayerOutput(shape=out, trainable=self.projection_dim, ops=math.prod(out))

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        return {"gamma": (self.projection_dim,)}

    def explain_steps(self, w: Worked) -> list[Step]:
        return [
            Step("shape", "x * gamma, gamma broadcast over the last axis", "", fmt_shape(w.output_shape)),
            Step("params", "projection_dim (gamma)", str(self.projection_dim), num(w.params)),
        ]


@kind
class CustomScale(Merge):
    """CustomScaleLayer(scale) (``keras.applications.inception_resnet_v2``): two inputs,
    ``inputs[0] + inputs[1]*scale`` (the scaled residual); no params."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "it is keras.applications.inception_resnet_v2's own layer, not in keras.layers",
        reads=("CustomScaleLayer",),
    )
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "it is a Keras application's layer; cnncalc writes no x + y * scale"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("ONNX writes it as Mul and Add")

    max_inputs: ClassVar[int | None] = 2
    scale: float = A.required(A.real)

    def sizes_many(self, p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
        return broadcast_dims(p, many)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """A scalar scale and an add: nothing kept."""
        return ()

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        if len(sources) != 2:
            raise ShapeError(f"takes exactly 2 inputs (shortcut, residual), got {len(sources)}")
        out = broadcast(shapes, sources)
        return LayerOutput(shape=out, ops=2 * math.prod(out))

    def explain_steps(self, w: Worked) -> list[Step]:
        a, b = w.sources
        return [
            Step("shape", f"{a} + {b}*scale (scale {self.scale:g})", "", fmt_shape(w.output_shape)),
            Step("params", "none", "", "0"),
        ]
