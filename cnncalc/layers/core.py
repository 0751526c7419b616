"""Core layers without windows: dense, dropout, the activation layers and constant arithmetic."""

from __future__ import annotations

import math
from typing import Any, ClassVar, TypeVar

from ..enums import Category, Convention, DataFormat, Operator
from ..errors import ShapeError, SpecError
from ..geometry import UNTRACKED, ReceptiveField, Shape, fmt_shape, keras_axis_index, split_channels
from . import args as A
from .autograd import (
    KEEP_OUTPUT,
    Elem,
    Keep,
    Source,
    Storage,
    activation_keeps,
    fused_activation_keeps,
    kept_input,
)
from .base import (
    Context,
    Layer,
    LayerOutput,
    Step,
    Worked,
    activation_ops,
    check_size,
    kind,
    spatial_input,
)
from .faces import (
    TORCH_ACTIVATIONS,
    Counted,
    KerasFace,
    NoFace,
    OnnxFace,
    TorchCode,
    TorchFace,
    TorchSignature,
)
from .rules import Sizes, broadcast_dims, declared, same_sizes, spatial
from .working import num, unchanged

D = TypeVar("D")

#: ``nn.Linear(in_features, out_features, bias)``
LINEAR_SIGNATURE = TorchSignature(
    "Linear",
    ("in_features", "out_features", "bias"),
    {"in_features": ("in_features",), "out_features": ("units",), "bias": ("use_bias",)},
)
#: torch.nn activation modules (and functions) that are an ``activation`` layer (ReLU and ReLU6
#: are the ``relu`` kind; LeakyReLU and Softmax kinds of their own)
ACTIVATION_MODULES = tuple(
    sorted({m for name, m in TORCH_ACTIVATIONS.items() if name not in ("relu", "relu6")})
)
ACTIVATION_FUNCTIONS = tuple(m.lower() for m in ACTIVATION_MODULES)


@kind
class Dense(Layer):
    """Dense on the last axis (Keras): params = units*(in + 1) with bias, units*in without."""

    counted: ClassVar[Counted] = Counted.DENSE
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Dense")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Linear",), ("linear",), LINEAR_SIGNATURE, TorchCode.LINEAR
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Gemm", "MatMul"))

    category: ClassVar[Category] = Category.DENSE
    units: int = A.required(A.positive_int)
    activation: str = A.arg(A.activation, "linear")
    use_bias: bool = A.arg(A.boolean, True, aliases=("bias",))
    #: PyTorch's in_features: checked against the input's last axis when given
    in_features: int | None = A.expected_size()

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        declared(p, "in_features", self.in_features, dims[-1])
        if self.in_features is None:
            p.built_for(dims[-1])
        return (*dims[:-1], p.const(self.units))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        n_in = shape[-1]
        check_size("in_features", self.in_features, n_in, shape)
        weights = n_in * self.units
        positions = math.prod(shape[:-1])
        return LayerOutput(
            shape=(*shape[:-1], self.units),
            trainable=weights + (self.units if self.use_bias else 0),
            macs=positions * weights,
            bias_adds=positions * self.units if self.use_bias else 0,
            ops=activation_ops(self.activation, positions * self.units),
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        # Dense mixes the last axis: the channels under channels_last (the field is kept), a spatial
        # axis under channels_first (every output then sees that whole axis: global).
        return rf if len(shape) > 1 and ctx.data_format is DataFormat.CHANNELS_LAST else None

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        return {"kernel": (in_shape[-1], self.units), **({"bias": (self.units,)} if self.use_bias else {})}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``AddmmBackward0``/``MmBackward0`` (``linear`` folds the leading axes into one view):
        ``mat1`` (the input, for the weight's gradient) and ``mat2`` (the weight); then what a
        Keras ``activation=`` keeps."""
        pre = math.prod(output) * (2 if self.activation == "glu" else 1)
        kept = (kept_input(), Keep(Source.WEIGHT, weight="kernel"))
        return (*kept, *fused_activation_keeps(self.activation, pre))

    def explain_steps(self, w: Worked) -> list[Step]:
        n_in = w.input_shape[-1]
        positions = math.prod(w.input_shape[:-1])
        formula, work = (
            ("C_out*(C_in + 1)", f"{self.units}*({n_in} + 1)")
            if self.use_bias
            else ("C_out*C_in", f"{self.units}*{n_in}")
        )
        macs_work = f"{positions}*{n_in}*{self.units}" if positions > 1 else f"{n_in}*{self.units}"
        word = "out_features" if w.ctx.convention is Convention.PYTORCH else "units"
        return [
            Step("features", f"C_out = {word} (the last axis)", "", str(self.units)),
            Step("params", formula, work, num(w.params)),
            Step("MACs", "positions*C_in*C_out" if positions > 1 else "C_in*C_out", macs_work, num(w.macs)),
        ]


class Identity(Layer):
    """Kinds that are the identity at inference (dropouts)."""

    category: ClassVar[Category] = Category.ELEMENTWISE

    def explain_steps(self, w: Worked) -> list[Step]:
        return unchanged(w, "identity at inference")


def _noise_shape(value: Any, rank: int) -> tuple[int | None, ...]:
    """Keras's ``noise_shape``: one entry per axis, the batch axis first; ``None`` (null) takes
    the input's size, 1 shares one draw along the axis."""
    if not isinstance(value, (list, tuple)) or not 2 <= len(value) <= 9:
        raise SpecError(f"expected a shape with the batch axis first, like [null, 1, 1, 1], got {value!r}")
    return tuple(None if v is None else A.positive_int(v) for v in value)


@kind
class Dropout(Identity):
    """Dropout(rate, noise_shape): identity at inference, no parameters. ``noise_shape`` (Keras)
    draws one value per cell of that shape: ``[null, 1, 1, 1]`` drops whole samples, which is
    torchvision's ``StochasticDepth(p, "row")``."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Dropout")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Dropout",),
        ("dropout", "alpha_dropout", "feature_alpha_dropout"),
        code=TorchCode.DROPOUT,
        orders={"Dropout": ("p", "inplace")},
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Dropout",))

    rate: float = A.required(A.rate, aliases=("p",))
    noise_shape: tuple[int | None, ...] | None = A.arg(A.optional(_noise_shape))

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.noise_shape is None:
            del out["noise_shape"]  # the input's own shape
        return out

    sizes = same_sizes

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        noise = self.noise_shape
        if noise is not None:
            if len(noise) != len(shape) + 1:
                raise ShapeError(
                    f"noise_shape {list(noise)} has {len(noise)} axes, the input {fmt_shape(shape)} "
                    f"has {len(shape) + 1} with the batch axis"
                )
            for size, n in zip(noise[1:], shape, strict=True):
                if size not in (None, 1, n):
                    raise ShapeError(f"noise_shape {list(noise)} does not broadcast to {fmt_shape(shape)}")
        return LayerOutput(shape=shape)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """A mask of the input's size (``native_dropout``'s bool ``result1`` on CUDA; on CPU
        ``_dropout_impl``'s noise ``empty_like(input)``, kept by ``MulBackward0``); nothing at
        rate 0 (``_dropout_impl`` returns the input). With ``noise_shape``, the noise tensor of
        that shape in the value's dtype (torchvision's ``stochastic_depth``: ``input * noise``)."""
        if not self.rate:
            return ()
        if self.noise_shape is None:
            return (Keep(Source.NEW, elements=math.prod(output), elem=Elem.MASK),)
        batch, *axes = self.noise_shape
        elements = math.prod(n if size is None else size for size, n in zip(axes, output, strict=True))
        return (Keep(Source.NEW, elements=elements, batched=batch != 1),)

    def output_storage(self, training: bool) -> Storage:
        """A new tensor in training; the input itself at inference or at rate 0."""
        return Storage.NEW if training and self.rate else Storage.VIEW


@kind
class SpatialDropout(Identity):
    """SpatialDropout1D/2D/3D(rate): drops whole channels in training; identity at inference."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("SpatialDropout{rank}D")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Dropout{rank}d",),
        ("dropout{rank}d",),
        code=TorchCode.SPATIAL_DROPOUT,
        orders={"Dropout{rank}d": ("p", "inplace")},
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("ONNX has one Dropout op, read as dropout")

    rate: float = A.required(A.rate, aliases=("p",))
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    rank: int = 2

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        spatial(p, self, dims, self.rank)
        return dims

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial_input(self, shape, ctx)
        return LayerOutput(shape=shape)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """The noise, one value per sample and channel (``_dropout_impl`` with
        ``feature_dropout``: ``input * noise``, noise in the input's dtype on CPU and CUDA alike)."""
        _, channels = split_channels(output, self.layout(ctx))
        return (Keep(Source.NEW, elements=channels),) if self.rate else ()

    def output_storage(self, training: bool) -> Storage:
        """A new tensor in training; the input itself at inference or at rate 0."""
        return Storage.NEW if training and self.rate else Storage.VIEW


class Elementwise(Layer):
    """Kinds applied to each value on its own (activations)."""

    category: ClassVar[Category] = Category.ELEMENTWISE

    def explain_steps(self, w: Worked) -> list[Step]:
        return unchanged(w, "applied to each value")


class InPlace(Elementwise):
    """Activations PyTorch can apply in place (``nn.ReLU(inplace=True)``): the output overwrites
    the input, so it needs no memory of its own. PyTorch's argument: Keras has no in-place
    layers (its export leaves it out), so a spec that says it is read as written, whatever the
    convention (``nn.ReLU(inplace=True)`` is PyTorch code under any)."""

    inplace: bool

    def config(self) -> dict[str, Any]:
        out = super().config()
        if not self.inplace:
            del out["inplace"]  # the default, and an argument Keras does not know
        return out

    def output_storage(self, training: bool) -> Storage:
        return Storage.INPLACE if self.inplace else Storage.NEW

    def activation_name(self) -> str:
        """The activation as :func:`~cnncalc.layers.autograd.activation_keeps` knows it."""
        raise NotImplementedError

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """relu, sigmoid, tanh and softmax keep their result; the others their input (a copy
        of it in place). Sources: derivatives.yaml ``relu: threshold_backward(grad, result, 0)``,
        ``hardtanh: self``, ``silu: self``, ``gelu: self``; measured with saved_tensors_hooks."""
        return activation_keeps(self.activation_name(), math.prod(inputs[0]), self.inplace)


@kind
class Activation(InPlace):
    """Activation(name): elementwise (softmax over the last axis, as in Keras). ``inplace`` as in
    PyTorch's ``nn.SiLU(inplace=True)`` (pytorch convention only)."""

    counted: ClassVar[Counted] = Counted.ACTIVATION
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Activation")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        (*ACTIVATION_MODULES, "LogSoftmax"),
        (*ACTIVATION_FUNCTIONS, "log_softmax"),
        code=TorchCode.ACTIVATION,
        orders={
            **{name: ("inplace",) for name in ("SELU", "SiLU", "Mish", "Hardswish", "Hardsigmoid")},
            "ELU": ("alpha", "inplace"),
            "GELU": ("approximate",),
            "LogSoftmax": ("dim",),
            "Softplus": ("beta", "threshold"),
        },
        implies={
            "Hardswish": {"activation": "hard_swish"},
            "Hardsigmoid": {"activation": "hard_sigmoid"},
            "LogSoftmax": {"activation": "log_softmax"},
        },
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(
        (
            "Sigmoid",
            "Tanh",
            "Erf",
            "HardSigmoid",
            "HardSwish",
            "Gelu",
            "Elu",
            "Selu",
            "Celu",
            "Softplus",
            "Softsign",
            "Exp",
            "Mish",
            "LogSoftmax",
        )
    )

    activation: str = A.required(A.activation)
    inplace: bool = A.arg(A.boolean, False)

    sizes = same_sizes  # glu's halving is the engine's, as for every activation argument

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        if self.inplace and self.activation == "glu":
            raise SpecError("glu halves the last axis: it cannot be applied in place")
        return LayerOutput(shape=shape, ops=activation_ops(self.activation, math.prod(shape)))

    def activation_name(self) -> str:
        return self.activation

    def explain_steps(self, w: Worked) -> list[Step]:
        if self.activation != "glu":
            return super().explain_steps(w)
        last = w.input_shape[-1]
        return [
            Step("last axis", "glu: first half * sigmoid(second half)", f"{last}/2", str(last // 2)),
            Step("params", "none", "", "0"),
        ]


@kind
class ReLU(InPlace):
    """ReLU(max_value, negative_slope, threshold), Keras's layer: x above threshold (capped at
    max_value), negative_slope*(x - threshold) below it. ``inplace`` as in PyTorch's
    ``nn.ReLU(inplace=True)`` (pytorch convention only)."""

    counted: ClassVar[Counted] = Counted.RELU
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("ReLU")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("ReLU", "ReLU6"),
        ("relu", "relu6"),
        code=TorchCode.RELU,
        orders={"ReLU": ("inplace",), "ReLU6": ("inplace",)},
        implies={"ReLU6": {"max_value": 6.0}},  # as torchvision's zoo rows are
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Relu", "Clip"))

    max_value: float | None = A.arg(A.optional(A.real))
    negative_slope: float = A.arg(A.real, 0.0)
    threshold: float = A.arg(A.real, 0.0)
    inplace: bool = A.arg(A.boolean, False)

    sizes = same_sizes

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.max_value is None:
            del out["max_value"]
        return out

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=math.prod(shape))

    def activation_name(self) -> str:
        """Plain relu keeps its result; relu6 is ``hardtanh`` and a sloped one ``leaky_relu``,
        which keep their input."""
        plain = self.max_value is None and self.negative_slope == 0 and self.threshold == 0
        return "relu" if plain else "relu6"


@kind
class LeakyReLU(Elementwise):
    """LeakyReLU(negative_slope): Keras's layer default is 0.3 (the ``leaky_relu`` activation's is 0.2)."""

    counted: ClassVar[Counted] = Counted.LEAKY_RELU
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("LeakyReLU")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("LeakyReLU",),
        ("leaky_relu",),
        code=TorchCode.LEAKY_RELU,
        orders={"LeakyReLU": ("negative_slope", "inplace")},
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("LeakyRelu",))

    negative_slope: float = A.arg(A.real, 0.3, aliases=("alpha",))

    sizes = same_sizes

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=math.prod(shape))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``leaky_relu: leaky_relu_backward(grad, self, ...)``: the input."""
        return (kept_input(),)


@kind
class Softmax(Elementwise):
    """Softmax(axis): over the last axis by default (Keras counts the batch axis as 0)."""

    counted: ClassVar[Counted] = Counted.SOFTMAX
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Softmax")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Softmax",), ("softmax",), code=TorchCode.SOFTMAX, orders={"Softmax": ("dim",)}
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Softmax",))

    axis: int = A.arg(A.optional_axis, -1)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        keras_axis_index(self.axis, (1,) * len(dims))
        return dims

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        keras_axis_index(self.axis, shape)
        return LayerOutput(shape=shape, ops=3 * math.prod(shape))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``_softmax: _softmax_backward_data(grad, result, ...)``: the output."""
        return (KEEP_OUTPUT,)


@kind
class Operation(Elementwise):
    """A ``keras.ops`` call between the input and a constant, recorded in ``to_json()`` as an
    operation node (MobileNetV3's ``x + 3.0``, ``x * (1/6)``): the shape passes through, no params.
    ``operand_first`` puts the constant on the left (``3.0 - x``)."""

    counted: ClassVar[Counted] = Counted.CONSTANT_ARITHMETIC
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "a keras.ops call on a tensor and a constant is an operation node, not a keras.layers class (cnncalc writes no Lambda)"
    )
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "a tensor-constant operator (x + 3.0): cnncalc writes no such expression"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace(
        "ONNX writes a constant's arithmetic as Add/Mul/..., read as the arithmetic kind"
    )

    op: Operator = A.required(lambda value, rank: Operator.parse(value, "op"))
    operand: float = A.required(A.real)
    operand_first: bool = A.arg(A.boolean, False)

    sizes = same_sizes

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=shape, ops=math.prod(shape))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        return scalar_op_keeps(self.op)

    def explain_steps(self, w: Worked) -> list[Step]:
        what = (
            f"{self.operand:g} {self.op.value} x"
            if self.operand_first
            else f"x {self.op.value} {self.operand:g}"
        )
        return unchanged(w, what)


def _operand_shape(value: Any, rank: int) -> Shape:
    if isinstance(value, str):
        value = [] if value.strip() in ("", "()", "[]") else A.shape(value, "operand_shape")
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or len(value) > 8:
        raise SpecError(f"expected a shape like [64, 1, 1] ([] for a scalar), got {value!r}")
    return tuple(A.positive_int(v) for v in value)


@kind
class Arithmetic(Layer):
    """Arithmetic(op, operand_shape, learned): the input combined elementwise with one constant
    tensor (add, subtract, multiply, divide, ...), broadcast from the right as NumPy and PyTorch do.

    params = prod(operand_shape) when the operand is learned (ConvNeXt's layer scale
    ``gamma * x``, a bias added after a MatMul), else 0 (GELU's ``x / sqrt(2)``, ``+ 1``).
    out = the broadcast shape; ops = one per output value. ``value`` fills an unlearned operand
    in verify; ``reverse`` puts the constant on the left (``1 - x``).
    """

    counted: ClassVar[Counted] = Counted.CONSTANT_ARITHMETIC
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "keras.layers has no layer for it", what="a tensor combined with a (learned) constant"
    )
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "a tensor-constant operator: cnncalc writes no such expression"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Add", "Sub", "Mul", "Div"))

    category: ClassVar[Category] = Category.ELEMENTWISE
    op: Operator = A.required(lambda v, r: Operator.parse(v, "op"))
    operand_shape: Shape = A.arg(_operand_shape, ())
    learned: bool = A.arg(A.boolean, False)
    value: float = A.arg(A.real, 1.0)
    reverse: bool = A.arg(A.boolean, False)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        if len(self.operand_shape) > len(dims):
            raise ShapeError(f"the operand {fmt_shape(self.operand_shape)} has more axes than the input")
        return broadcast_dims(p, [dims, tuple(p.const(m) for m in self.operand_shape)])

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        out = self.output(shape)
        params = math.prod(self.operand_shape) if self.learned else 0
        return LayerOutput(shape=out, trainable=params, ops=math.prod(out))

    def output(self, shape: Shape) -> Shape:
        """The broadcast shape (the operand aligned on the input's last axes)."""
        operand = self.operand_shape
        if len(operand) > len(shape):
            raise ShapeError(
                f"the operand {fmt_shape(operand)} has more axes than the input {fmt_shape(shape)}"
            )
        lead = shape[: len(shape) - len(operand)]
        tail = []
        for n, m in zip(shape[len(lead) :], operand, strict=True):
            if n != m and 1 not in (n, m):
                raise ShapeError(f"the operand {fmt_shape(operand)} does not broadcast to {fmt_shape(shape)}")
            tail.append(max(n, m) if 1 in (n, m) else n)
        return (*lead, *tail)

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return rf if out.shape == shape else UNTRACKED

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        return {"operand": self.operand_shape} if self.learned else {}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """A learned multiply or divide keeps the input (the operand's gradient reads it:
        ``MulBackward0`` saves ``self`` for ``other``'s gradient, ConvNeXt's ``gamma * x``); a
        constant operand is the model's, not counted; add and subtract keep nothing."""
        if self.learned and self.op in (Operator.MULTIPLY, Operator.DIVIDE):
            return (kept_input(),)
        return scalar_op_keeps(self.op)

    def explain_steps(self, w: Worked) -> list[Step]:
        operand = fmt_shape(self.operand_shape) or "scalar"
        what = f"{self.op.value} a {'learned' if self.learned else 'constant'} {operand}, broadcast"
        params = (
            Step(
                "params", "prod(operand_shape)", "*".join(map(str, self.operand_shape)) or "1", num(w.params)
            )
            if self.learned
            else Step("params", "none (a constant)", "", "0")
        )
        return [Step("shape", what, "", fmt_shape(w.output_shape)), params]


def scalar_op_keeps(op: Operator) -> tuple[Keep, ...]:
    """An op with a constant: add, subtract, multiply, divide keep nothing (``MulBackward1`` keeps
    the scalar only); power, maximum and minimum keep the input (``pow: self``, ``clamp: self``)."""
    return (kept_input(),) if op in (Operator.POWER, Operator.MAXIMUM, Operator.MINIMUM) else ()
