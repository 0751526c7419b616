"""Opaque rows: a layer or op cnncalc has no kind for, whose shapes were recorded, not computed.

Three readers make them: ``--trace`` (a module or tensor op PyTorch/Keras ran that maps to no kind),
the ONNX reader (an op resolved by ONNX's own shape inference) and the Keras reader (a custom layer
whose output shape the file records). The row carries what was recorded -- the op's name, its
output shape, the input shapes it was recorded for, its own trainable/non-trainable parameters
and buffers -- and nothing else: its MACs and other costs are unknown, it has no formula to
explain, no forward pass to verify, no size rule to solve with, and no code to export.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from ..enums import Category
from ..errors import ShapeError, SpecError
from ..geometry import UNTRACKED, ReceptiveField, Shape, fmt_shape
from ..symbolic import SolveError
from . import args as A
from .base import Context, Layer, LayerOutput, ManyInputs, Step, Worked, kind
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchFace
from .rules import Sizes
from .working import num

D = TypeVar("D")

#: Longest op/class name or source text an opaque row keeps (a name, never code).
MAX_TEXT = 300


def _text(value: Any, rank: int = 0) -> str:
    """A short one-line text (an op's qualified name, where it was recorded)."""
    if not isinstance(value, str):
        raise SpecError(f"expected a string, got {value!r:.60}")
    text = value.strip()
    if len(text) > MAX_TEXT or "\n" in text:
        raise SpecError(f"expected one line of at most {MAX_TEXT} characters, got {value!r:.60}...")
    return text


def _op(value: Any, rank: int = 0) -> str:
    text = _text(value)
    if not text:
        raise SpecError("expected the op or class name, got an empty string")
    return text


def _count(value: Any, rank: int = 0) -> int:
    """A count >= 0 (parameters, buffers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"expected a whole number >= 0, got {value!r}")
    return value


def _shape(value: Any, rank: int = 0, what: str = "the output shape") -> Shape:
    """A recorded shape: a list of sizes, ``4x4x3`` text, or one integer (one axis)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    return A.shape(value, what)


def _in_shapes(value: Any, rank: int = 0) -> tuple[Shape, ...] | None:
    """The input shapes the row was recorded for: a list of shapes (one shape alone is one input)."""
    if value is None:
        return None
    one = isinstance(value, (str, int)) or (
        isinstance(value, (list, tuple)) and value and isinstance(value[0], int)
    )
    if one:
        return (_shape(value, what="an input shape"),)
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"expected a list of input shapes like [[32, 32, 3]], got {value!r:.60}")
    return tuple(_shape(v, what="an input shape") for v in value)


@kind
class Opaque(Layer):
    """A recorded layer or op without a cnncalc kind: out = the recorded ``shape``; params = the
    recorded ``trainable_count`` (+ ``non_trainable_count``), buffers = ``buffer_count``; MACs,
    bias adds and ops unknown (0 until unknown costs are representable, with the row marked
    opaque). ``op`` names what was recorded (``torch.roll``, ``timm.layers.DropPath``, an ONNX op
    type, a Keras custom class); ``source`` says who recorded it (``torch trace``, ``onnx shape
    inference``, ``keras file``). With ``in_shapes`` the row checks that it is read with the inputs
    it was recorded for: its output for any other input is unknown. Reads one input or several.
    """

    takes_many: ClassVar[bool] = True
    opaque: ClassVar[bool] = True
    category: ClassVar[Category] = Category.OPAQUE
    counted: ClassVar[Counted] = Counted.OPAQUE
    keras_face: ClassVar[KerasFace | NoFace] = NoFace("an opaque row: cnncalc does not know what it computes")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("an opaque row: cnncalc does not know what it computes")
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("an opaque row: cnncalc does not know what it computes")

    op: str = A.required(_op)
    shape: Shape = A.required(_shape, aliases=("out_shape",))
    trainable_count: int = A.arg(_count, 0)
    non_trainable_count: int = A.arg(_count, 0)
    buffer_count: int = A.arg(_count, 0)
    in_shapes: tuple[Shape, ...] | None = A.arg(_in_shapes)
    source: str = A.arg(_text, "")

    def config(self) -> dict[str, Any]:
        out = super().config()
        for key in ("trainable_count", "non_trainable_count", "buffer_count", "source"):
            if not out[key]:
                del out[key]  # defaults left out: a trace writes thousands of these rows
        if out["in_shapes"] is None:
            del out["in_shapes"]
        return out

    @property
    def what(self) -> str:
        """``torch.roll (torch trace)``: the op and who recorded it."""
        return f"{self.op} ({self.source})" if self.source else self.op

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return self.compute_many([shape], ["input"], ctx)

    def many(self) -> ManyInputs:
        return self

    def sizes_many(self, p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
        """The recorded shape, for the recorded inputs only: an input size that is unknown or
        solved for has no answer here (the shapes were recorded for one input)."""
        if any(p.value(d) is None for dims in many for d in dims):
            raise SolveError(
                f"this opaque row ({self.op}) decides the size: cnncalc only has its shapes recorded for one input"
            )
        self.compute_many(
            [tuple(p.value(d) or 0 for d in dims) for dims in many], ["input"] * len(many), p.ctx
        )
        return tuple(p.const(n) for n in self.shape)

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        """The recorded shape and counts; a ShapeError when the inputs are not the recorded ones."""
        if self.in_shapes is not None and tuple(map(tuple, shapes)) != self.in_shapes:
            recorded = ", ".join(fmt_shape(s) for s in self.in_shapes)
            given = ", ".join(fmt_shape(s) for s in shapes)
            raise ShapeError(
                f"opaque row ({self.what}) was recorded for input {recorded}, got {given}: "
                "its output for other inputs is unknown (record the model again with this input)"
            )
        return LayerOutput(
            shape=self.shape,
            trainable=self.trainable_count,
            non_trainable=self.non_trainable_count,
            buffers=self.buffer_count,
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        # Nothing is known of what the op reads: the field is not tracked past it.
        return UNTRACKED

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        """The recorded counts as flat arrays (the op's own layout is unknown)."""
        counts = {
            "trainable": self.trainable_count,
            "non_trainable": self.non_trainable_count,
            "buffers": self.buffer_count,
        }
        return {name: (n,) for name, n in counts.items() if n}

    def refusal(self) -> str:
        """Why nothing can run, solve or export this row (one line, no layer name: callers add it)."""
        return f"cnncalc has no kind for {self.what}, only its recorded shapes and counts"

    def explain_steps(self, w: Worked) -> list[Step]:
        inputs = ", ".join(fmt_shape(s) for s in w.input_shapes)
        steps = [
            Step("opaque", f"cnncalc has no kind for {self.what}: it cannot look inside", "", ""),
            Step("shape", "recorded, not computed", f"from {inputs}", fmt_shape(w.output_shape)),
            Step("params", "recorded (the op's own weights)", "", num(w.params)),
        ]
        if w.buffers:
            steps.append(Step("buffers", "recorded", "", num(w.buffers)))
        steps.append(Step("MACs", "unknown (not counted in the totals)", "", "?"))
        return steps
