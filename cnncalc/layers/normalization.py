"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, InstanceNorm."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

from ..enums import Category, Convention, DataFormat
from ..errors import ShapeError, SpecError
from ..geometry import ReceptiveField, Shape, fmt_shape, keras_axis_index
from . import args as A
from .autograd import Elem, Keep, Source, kept_input
from .base import Context, Layer, LayerOutput, Step, Worked, check_size, expect_rank, kind
from .faces import (
    Counted,
    KerasCode,
    KerasFace,
    NoFace,
    OnnxFace,
    TorchCode,
    TorchFace,
    TorchSignature,
    torch_momentum,
)
from .rules import Sizes, declared, same_sizes, spatial
from .working import num

D = TypeVar("D")

#: ``nn.BatchNorm2d(num_features, eps, momentum, affine)``: PyTorch's momentum is Keras's complement
BATCH_NORM_SIGNATURE = TorchSignature(
    "BatchNorm",
    ("num_features", "eps", "momentum", "affine"),
    {
        "num_features": ("num_features",),
        "eps": ("epsilon",),
        "momentum": ("momentum",),
        "affine": ("center", "scale"),
    },
    convert={"momentum": torch_momentum},
    defaults={"epsilon": 1e-5, "momentum": 0.9},  # PyTorch: eps=1e-5, momentum=0.1
)
#: ``nn.GroupNorm(num_groups, num_channels, eps, affine)``
GROUP_NORM_SIGNATURE = TorchSignature(
    "GroupNorm",
    ("num_groups", "num_channels", "eps", "affine"),
    {
        "num_groups": ("groups",),
        "num_channels": ("num_channels",),
        "eps": ("epsilon",),
        "affine": ("center", "scale"),
    },
    defaults={"epsilon": 1e-5},
)
#: ``nn.InstanceNorm2d(num_features, eps, momentum, affine, track_running_stats)``
INSTANCE_NORM_SIGNATURE = TorchSignature(
    "InstanceNorm{rank}d",
    ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    {"eps": ("epsilon",)},
)


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

    counted: ClassVar[Counted] = Counted.BATCH_NORM
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("BatchNormalization", channel_axis=True)
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
        ("batch_norm",),
        BATCH_NORM_SIGNATURE,
        TorchCode.BATCH_NORM,
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("BatchNormalization",))

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
        steps = [Step("features", f"C_in = size of axis {axis + 1}", "", str(c))]
        if w.ctx.convention is Convention.KERAS:
            steps.append(Step("learned", "gamma (scale=True) + beta (center=True)", "", str(learned)))
            steps.append(
                Step(
                    "params",
                    "C_in*(gamma + beta) + 2*C_in (moving mean, variance)",
                    f"{c}*{learned} + 2*{c}",
                    f"{num(w.params)} ({num(2 * c)} non-trainable)",
                )
            )
        else:
            steps.append(Step("learned", "affine=True: gamma (weight) + beta (bias)", "", str(learned)))
            steps.append(
                Step(
                    "params",
                    "C_in*(gamma + beta) (running mean, variance: buffers)",
                    f"{c}*{learned}",
                    num(w.params),
                )
            )
            if self.batch_counter(w.ctx):
                steps.append(
                    Step(
                        "buffers",
                        "2*C_in + 1 (running mean, variance; num_batches_tracked)",
                        f"2*{c} + 1",
                        num(w.buffers),
                    )
                )
            else:
                steps.append(Step("buffers", "2*C_in", f"2*{c}", num(w.buffers)))
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

    counted: ClassVar[Counted] = Counted.LAYER_NORM
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("LayerNormalization")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("LayerNorm",), ("layer_norm",), code=TorchCode.LAYER_NORM
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("LayerNormalization",))

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


def _groups(value: Any, rank: int) -> int:
    """Keras's ``groups``: a positive count, or -1 for one group per channel (instance norm)."""
    if value == -1 and not isinstance(value, bool):
        return -1
    return A.positive_int(value)


def channel_axis(axis: int | None, layer: Layer, shape: Shape, ctx: Context) -> int:
    """Index (no batch axis) of a normalization's channel axis: ``axis`` if given (Keras
    numbering), else the data format's channel axis."""
    if axis is None:
        first = layer.layout(ctx) is DataFormat.CHANNELS_FIRST and len(shape) > 1
        return 0 if first else len(shape) - 1
    return keras_axis_index(axis, shape)


@kind
class GroupNorm(Layer):
    """GroupNormalization(groups): the C channels split into G groups of C/G; each sample is
    normalized over each group's channels and every spatial position, then scaled and shifted
    per channel (Wu & He 2018, "Group Normalization"; Keras ``GroupNormalization``, PyTorch
    ``GroupNorm(num_groups, num_channels)``, ONNX ``GroupNormalization``).

    params = C*(center + scale) (gamma, beta of shape (C,)); C must be a multiple of G;
    ``groups=-1`` is one group per channel (instance normalization, as Keras documents).
    """

    counted: ClassVar[Counted] = Counted.GROUP_NORM
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("GroupNormalization", channel_axis=True)
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("GroupNorm",), ("group_norm",), GROUP_NORM_SIGNATURE, TorchCode.GROUP_NORM
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("GroupNormalization",))

    category: ClassVar[Category] = Category.NORM
    groups: int = A.arg(_groups, 32, aliases=("num_groups",))
    axis: int | None = A.arg(A.optional_axis)
    epsilon: float = A.arg(A.real, 0.001, aliases=("eps",))
    center: bool = A.arg(A.boolean, True)
    scale: bool = A.arg(A.boolean, True)
    #: PyTorch's num_channels: checked against the normalized axis when given
    num_channels: int | None = A.expected_size()
    data_format: DataFormat | None = A.arg(A.optional_data_format)

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.axis is None:
            del out["axis"]  # the channel axis of the data format in force
        return out

    def feature_axis(self, shape: Shape, ctx: Context) -> int:
        """Index (no batch axis) of the channel axis."""
        return channel_axis(self.axis, self, shape, ctx)

    def group_count(self, channels: int) -> int:
        """G for C channels (``groups=-1``: one per channel)."""
        return channels if self.groups == -1 else self.groups

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        channels = dims[self.feature_axis((1,) * len(dims), p.ctx)]
        declared(p, "num_channels", self.num_channels, channels)
        if self.groups != -1:
            p.divisible(
                channels, self.groups, f"{self.groups} groups need a multiple of {self.groups} channels"
            )
        return dims

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        channels = shape[self.feature_axis(shape, ctx)]
        check_size("num_channels", self.num_channels, channels, shape)
        groups = self.group_count(channels)
        if channels % groups:
            raise ShapeError(
                f"GroupNormalization({groups}) needs channels divisible by {groups}, got {channels}"
            )
        # mean, variance, normalize, scale and shift: about 5 per value, as LayerNormalization
        return LayerOutput(
            shape=shape, trainable=channels * (int(self.center) + int(self.scale)), ops=5 * math.prod(shape)
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        # The statistics read every position: each output depends on the whole input.
        return None if len(shape) > 1 else rf

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c = (in_shape[self.feature_axis(in_shape, ctx)],)
        return {**({"gamma": c} if self.scale else {}), **({"beta": c} if self.center else {})}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``native_group_norm`` keeps ``input`` and ``mean``/``rstd``, G values per sample each
        (measured with torch 2.13's saved-tensor hooks: (N, G) twice; the weight is a parameter).
        Keras's layer on the torch backend is not measured: the same rule is used."""
        groups = self.group_count(inputs[0][self.feature_axis(inputs[0], ctx)])
        return (kept_input(), Keep(Source.NEW, elements=2 * groups, elem=Elem.ACCUMULATE))

    def explain_steps(self, w: Worked) -> list[Step]:
        c = w.input_shape[self.feature_axis(w.input_shape, w.ctx)]
        g = self.group_count(c)
        learned = int(self.center) + int(self.scale)
        return [
            Step("groups", "G groups of C_in/G channels each", f"{c}/{g}", f"{g} groups of {c // g}"),
            Step("params", "C_in*(gamma + beta), one per channel", f"{c}*{learned}", num(w.params)),
        ]


@kind
class InstanceNorm(Layer):
    """InstanceNorm1d/2d/3d: each sample's channels normalized over their spatial positions on
    their own (Ulyanov et al. 2016; PyTorch ``InstanceNorm1d/2d/3d``, ONNX
    ``InstanceNormalization``, Keras ``GroupNormalization(groups=-1)``).

    params = 2*C with ``affine`` (weight, bias; PyTorch's default is without). With
    ``track_running_stats`` PyTorch keeps running mean and variance (2*C) and
    ``num_batches_tracked`` (1) as buffers, and uses the running values at inference; under keras
    they count as non-trainable params, as BatchNormalization's do. ``momentum`` is PyTorch's.
    """

    counted: ClassVar[Counted] = Counted.INSTANCE_NORM
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace(
        "GroupNormalization", KerasCode.INSTANCE_NORM, channel_axis=True, written_only=True
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("InstanceNorm{rank}d",), ("instance_norm",), INSTANCE_NORM_SIGNATURE, TorchCode.INSTANCE_NORM
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("InstanceNormalization",))

    category: ClassVar[Category] = Category.NORM
    epsilon: float = A.arg(A.real, 1e-5, aliases=("eps",))
    momentum: float = A.arg(A.real, 0.1)
    affine: bool = A.arg(A.boolean, False)
    track_running_stats: bool = A.arg(A.boolean, False)
    #: PyTorch's num_features: checked against the channel axis when given
    num_features: int | None = A.expected_size()
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    rank: int = 2

    def feature_axis(self, shape: Shape, ctx: Context) -> int:
        """Index (no batch axis) of the channel axis."""
        return channel_axis(None, self, shape, ctx)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        _, channels, _ = spatial(p, self, dims, self.rank)
        declared(p, "num_features", self.num_features, channels)
        return dims

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        expect_rank(self, shape, self.rank + 1, "channels and spatial axes", ctx)
        channels = shape[self.feature_axis(shape, ctx)]
        check_size("num_features", self.num_features, channels, shape)
        stats = 2 * channels if self.track_running_stats else 0
        pytorch = ctx.convention is Convention.PYTORCH
        return LayerOutput(
            shape=shape,
            trainable=2 * channels if self.affine else 0,
            non_trainable=0 if pytorch else stats,
            buffers=stats + int(self.track_running_stats) if pytorch else 0,
            ops=5 * math.prod(shape),
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        # Running statistics make it elementwise; per-instance ones read every position.
        return rf if self.track_running_stats else None

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        c = (in_shape[self.feature_axis(in_shape, ctx)],)
        out: dict[str, Shape] = {"gamma": c, "beta": c} if self.affine else {}
        if self.track_running_stats:
            out.update(moving_mean=c, moving_variance=c)
            if ctx.convention is Convention.PYTORCH:
                out["num_batches_tracked"] = ()
        return out

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """PyTorch runs instance norm as a batch norm over (1, N*C, ...): it keeps the input (a
        view), ``save_mean``/``save_invstd`` (N*C each), and with ``affine`` the weight repeated N
        times, with ``track_running_stats`` the running mean and variance repeated too (measured
        with torch 2.13's saved-tensor hooks)."""
        c = inputs[0][self.feature_axis(inputs[0], ctx)]
        repeated = c * (int(self.affine) + 2 * int(self.track_running_stats))
        stats = Keep(Source.NEW, elements=2 * c, elem=Elem.ACCUMULATE)
        return (kept_input(), stats, *((Keep(Source.NEW, elements=repeated),) if repeated else ()))

    def explain_steps(self, w: Worked) -> list[Step]:
        c = w.input_shape[self.feature_axis(w.input_shape, w.ctx)]
        keras_stats = self.track_running_stats and w.ctx.convention is Convention.KERAS
        formula = (
            "2*C_in (gamma, beta if affine) + 2*C_in (running stats)"
            if keras_stats
            else "2*C_in with affine (gamma, beta), else 0"
        )
        work = " + ".join([*([f"2*{c}"] if self.affine else []), *([f"2*{c}"] if keras_stats else [])])
        steps = [
            Step("features", "C_in channels, each normalized over its own positions", "", str(c)),
            Step("params", formula, work, num(w.params)),
        ]
        if self.track_running_stats and w.ctx.convention is Convention.PYTORCH:
            steps.append(
                Step(
                    "buffers",
                    "2*C_in + 1 (running mean, variance; num_batches_tracked)",
                    f"2*{c} + 1",
                    num(w.buffers),
                )
            )
        return steps
