"""Normalization layers: BatchNormalization and LayerNormalization."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

from ..enums import Category, Convention, DataFormat
from ..errors import SpecError
from ..geometry import Shape, fmt_shape, keras_axis_index
from . import args as A
from .autograd import Elem, Keep, Source, kept_input
from .base import Context, Layer, LayerOutput, Step, Worked, check_size, kind
from .rules import Sizes, declared, same_sizes
from .working import num

D = TypeVar("D")


@kind
class BatchNorm(Layer):
    """BatchNormalization over one axis of C features.

    Trainable: C*(center + scale) (beta, gamma). Moving mean and variance (2*C): non-trainable
    params under keras (``model.summary()`` counts them), buffers under pytorch
    (``BatchNorm2d.running_mean``/``running_var`` are not in ``model.parameters()``), plus
    PyTorch's ``num_batches_tracked`` (one integer): 2*C + 1 buffers, as
    ``sum(b.numel() for b in bn.buffers())`` counts. A model read from ONNX has no such tensor
    (``num_batches_tracked=False``).
    """

    category: ClassVar[Category] = Category.NORM
    axis: int | None = A.arg(A.optional_axis)
    momentum: float = A.arg(A.real, 0.99)
    epsilon: float = A.arg(A.real, 0.001, aliases=("eps",))
    center: bool = A.arg(A.boolean, True)
    scale: bool = A.arg(A.boolean, True)
    #: PyTorch's num_features: checked against the normalized axis when given
    num_features: int | None = A.expected_size()
    #: whether PyTorch's num_batches_tracked buffer exists (None: under the pytorch convention)
    num_batches_tracked: bool | None = A.arg(A.optional(A.boolean))

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.axis is None:
            del out["axis"]  # the channel axis of the data format in force
        if self.num_batches_tracked is None:
            del out["num_batches_tracked"]
        return out

    def batch_counter(self, ctx: Context) -> int:
        """Elements of PyTorch's num_batches_tracked buffer: 1 under the pytorch convention, else 0."""
        tracked = (
            ctx.convention is Convention.PYTORCH
            if self.num_batches_tracked is None
            else self.num_batches_tracked
        )
        return int(tracked and ctx.convention is Convention.PYTORCH)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        declared(p, "num_features", self.num_features, dims[self.feature_axis((1,) * len(dims), p.ctx)])
        return dims

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        channels = shape[self.feature_axis(shape, ctx)]
        check_size("num_features", self.num_features, channels, shape)
        stats = 2 * channels
        return LayerOutput(
            shape=shape,
            trainable=channels * (int(self.center) + int(self.scale)),
            non_trainable=stats if ctx.convention is Convention.KERAS else 0,
            buffers=stats + self.batch_counter(ctx) if ctx.convention is Convention.PYTORCH else 0,
            ops=2 * math.prod(shape),  # inference: one multiply and one add per value, once folded
        )

    def counter_buffers(self, ctx: Context) -> int:
        return self.batch_counter(ctx)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Training: ``input``, ``weight``, the running statistics (buffers, not counted) and
        ``save_mean``/``save_invstd``, one float per channel each (``native_batch_norm`` /
        ``_batch_norm_with_update``: ``result1``, ``result2``, in the accumulation type). Keras's
        layer on the torch backend keeps more (its own ops, see below)."""
        channels = inputs[0][self.feature_axis(inputs[0], ctx)]
        if ctx.convention is Convention.KERAS:
            # Keras computes the moments and the normalization with separate ops on the torch
            # backend: the input, one more tensor of its size and three per-channel vectors (measured).
            extra = Keep(Source.NEW, elements=math.prod(inputs[0]))
            return (kept_input(), extra, Keep(Source.NEW, elements=3 * channels, batched=False))
        return (kept_input(), Keep(Source.NEW, elements=2 * channels, batched=False, elem=Elem.ACCUMULATE))

    def feature_axis(self, shape: Shape, ctx: Context) -> int:
        """Index (no batch axis) of the normalized feature axis."""
        if self.axis is None:
            first = self.layout(ctx) is DataFormat.CHANNELS_FIRST and len(shape) > 1
            return 0 if first else len(shape) - 1
        return keras_axis_index(self.axis, shape)

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c = (in_shape[self.feature_axis(in_shape, ctx)],)
        out = {"gamma": c} if self.scale else {}
        out.update({"beta": c} if self.center else {})
        counter: dict[str, Shape] = {"num_batches_tracked": ()} if self.batch_counter(ctx) else {}
        return {**out, "moving_mean": c, "moving_variance": c, **counter}

    def explain_steps(self, w: Worked) -> list[Step]:
        axis = self.feature_axis(w.input_shape, w.ctx)
        c = w.input_shape[axis]
        learned = int(self.center) + int(self.scale)
        steps = [Step("features", f"size of axis {axis + 1} (C)", "", str(c))]
        if w.ctx.convention is Convention.KERAS:
            steps.append(
                Step(
                    "params",
                    "C*(center + scale) + 2*C (moving mean, variance)",
                    f"{c}*{learned} + 2*{c}",
                    f"{num(w.params)} ({num(2 * c)} non-trainable)",
                )
            )
        else:
            steps.append(
                Step(
                    "params",
                    "C*(center + scale) (running mean, variance are buffers)",
                    f"{c}*{learned}",
                    num(w.params),
                )
            )
            if self.batch_counter(w.ctx):
                steps.append(
                    Step(
                        "buffers",
                        "2*C + 1 (running mean, variance; num_batches_tracked)",
                        f"2*{c} + 1",
                        num(w.buffers),
                    )
                )
            else:
                steps.append(Step("buffers", "2*C", f"2*{c}", num(w.buffers)))
        return steps


def _axes(value: Any, rank: int) -> tuple[int, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise SpecError("expected at least one axis")
    axes = []
    for item in items:
        axis = A.optional_axis(item)
        if axis is None:
            raise SpecError(f"expected an axis integer, got {item!r}")
        axes.append(axis)
    return tuple(axes)


@kind
class LayerNorm(Layer):
    """LayerNormalization over ``axis`` (default the last): params = prod(sizes of those axes)*(center + scale),
    or just the axes' sizes with ``rms_scaling`` (gamma only, as Keras does)."""

    category: ClassVar[Category] = Category.NORM
    axis: tuple[int, ...] = A.arg(_axes, -1)
    epsilon: float = A.arg(A.real, 0.001, aliases=("eps",))
    center: bool = A.arg(A.boolean, True)
    scale: bool = A.arg(A.boolean, True)
    rms_scaling: bool = A.arg(A.boolean, False)

    @property
    def learned(self) -> tuple[str, ...]:
        """The learned vectors: rms_scaling keeps only gamma (Keras ignores center and scale then)."""
        if self.rms_scaling:
            return ("gamma",)
        return (*(("gamma",) if self.scale else ()), *(("beta",) if self.center else ()))

    sizes = same_sizes

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        features = math.prod(shape[i] for i in self.normalized_axes(shape))
        # mean, variance, normalize, scale and shift: about 5 per value
        return LayerOutput(shape=shape, trainable=features * len(self.learned), ops=5 * math.prod(shape))

    def normalized_axes(self, shape: Shape) -> tuple[int, ...]:
        """No-batch indices of the normalized axes."""
        return tuple(sorted({keras_axis_index(a, shape) for a in self.axis}))

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        sizes = tuple(in_shape[i] for i in self.normalized_axes(in_shape))
        return {name: sizes for name in self.learned}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``native_layer_norm`` keeps ``input``, ``weight``, ``bias`` and ``mean``/``rstd``
        (``result1``, ``result2``): one value per normalized group each, in the accumulation type."""
        shape = inputs[0]
        groups = math.prod(shape) // math.prod(shape[i] for i in self.normalized_axes(shape))
        return (kept_input(), Keep(Source.NEW, elements=2 * groups, elem=Elem.ACCUMULATE))

    def explain_steps(self, w: Worked) -> list[Step]:
        sizes = [w.input_shape[i] for i in self.normalized_axes(w.input_shape)]
        vectors = " + ".join(self.learned) or "nothing"
        return [
            Step("shape", "unchanged", "", fmt_shape(w.output_shape)),
            Step(
                "params",
                f"prod(normalized axes)*({vectors})",
                f"{'*'.join(map(str, sizes))}*{len(self.learned)}",
                num(w.params),
            ),
        ]
