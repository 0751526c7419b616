"""A model used as a layer of another (Keras: a ``Sequential`` or ``Functional`` model called on a
tensor, as ConvNeXt's stem and downsampling blocks are)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ..enums import Category
from ..errors import CnncalcError, SpecError
from ..geometry import UNTRACKED, ReceptiveField, Shape, fmt_shape
from . import args as A
from .autograd import Keep
from .base import Context, Layer, LayerOutput, Step, Worked, kind
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchFace
from .working import num

if TYPE_CHECKING:
    from ..io.spec import Spec
    from ..summary import Summary
    from .rules import Sizes

D = TypeVar("D")


@dataclass(frozen=True, eq=False)  # compared by identity: the document is not hashable
class InnerModel:
    """The inner model: its spec document as given (what ``config`` writes back) and the Spec."""

    document: dict[str, Any]
    spec: Spec


def inner_model(value: Any, rank: int = 0) -> InnerModel:
    """A spec document (cnncalc's own or a Keras model's) -> :class:`InnerModel`."""
    if isinstance(value, InnerModel):
        return value
    if not isinstance(value, dict):
        raise SpecError(f'expected a model: a spec object with "layers", got {value!r:.60}')
    from ..io.document import parse_spec

    try:
        return InnerModel(value, parse_spec(value))
    except CnncalcError as err:
        raise err.prefixed("in the inner model: ") from None


@kind
class NestedModel(Layer):
    """A whole model as one layer: its output shape is the inner model's, its params, MACs and
    ops are the inner model's totals (Keras's ``model.summary()`` shows one row with them;
    ``expand`` shows the inner layers instead, named ``outer/inner``)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "a nested model is written layer by layer (cnncalc summary --expand), not as one layer"
    )
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "a nested model is written layer by layer, not as one module"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("ONNX graphs are flat")

    category: ClassVar[Category] = Category.CONV
    spec: InnerModel = A.required(inner_model)

    def config(self) -> dict[str, Any]:
        return {"spec": self.spec.document}

    def inner_spec(self) -> Spec:
        return self.spec.spec

    def inner_summary(self, shape: Shape, ctx: Context) -> Summary:
        return self.inner(shape, ctx)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        return p.inner(self.spec.spec, dims)

    def inner(self, shape: Shape, ctx: Context) -> Summary:
        """The inner model's summary on ``shape``, under the outer model's settings."""
        from ..engine import summarize

        try:
            return summarize(
                self.spec.spec, input_shape=shape, convention=ctx.convention, data_format=ctx.data_format
            )
        except CnncalcError as err:
            raise err.prefixed("in the inner model: ") from None

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        from ..summary import known

        inner = self.inner(shape, ctx)
        return LayerOutput(
            shape=inner.output_shape,
            trainable=inner.trainable_params,
            non_trainable=inner.non_trainable_params,
            buffers=inner.total_buffers,
            macs=known(inner.total_macs, "the inner model's MACs"),
            bias_adds=known(inner.total_bias_adds, "the inner model's bias adds"),
            ops=known(inner.total_ops, "the inner model's ops"),
        )

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Not one op: the memory model needs the inner layers (``summarize(..., expand=True)``)."""
        raise SpecError("a nested model's memory is counted layer by layer: summarize it with expand=True")

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        # Not composed through the inner layers here; expanding the model tracks it layer by layer.
        return UNTRACKED

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        return {
            f"{row.name}/{name}": shape
            for row in self.inner(in_shape, ctx).layers
            if row.layer is not None
            for name, shape in row.layer.weight_shapes(row.input_shape, ctx).items()
        }

    def explain_steps(self, w: Worked) -> list[Step]:
        inner = self.inner(w.input_shape, w.ctx)
        return [
            Step("layers", "an inner model, computed layer by layer", "", str(len(inner.layers))),
            Step("shape", "its last layer's output", "", fmt_shape(w.output_shape)),
            Step("params", "sum over its layers", "", num(w.params)),
        ]
