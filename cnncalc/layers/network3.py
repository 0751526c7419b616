"""The Theano layers of Michael Nielsen's ``network3.py`` (the second seed course), as written.

``ConvPoolLayer(filter_shape, image_shape, poolsize)``: a valid convolution without bias, max
pooling with ``ignore_border=True`` (floor), then the bias and the activation, all in NCHW.
``FullyConnectedLayer(n_in, n_out)`` and ``SoftmaxLayer(n_in, n_out)`` take the flattened
input. Users of that code work out ``n_in`` by hand; here a wrong value is an error that says
which value it should be.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, ClassVar, TypeVar

from .. import formulas as F
from ..enums import Category, DataFormat
from ..errors import MismatchError, Option, ShapeError, SpecError
from ..geometry import ReceptiveField, Shape, Window, fmt_shape
from . import args as A
from .autograd import Elem, Keep, Source, activation_keeps, kept_input
from .base import Context, Layer, LayerOutput, Step, Worked, kind
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchFace
from .rules import Sizes
from .working import num, quotient

D = TypeVar("D")

ACTIVATION_FNS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "ReLU": "relu", "linear": "linear"}


def _four(value: Any, rank: int) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise SpecError(f"expected 4 numbers, got {value!r}")
    return tuple(A.positive_int(v) for v in value)


def _activation_fn(value: Any, rank: int) -> str:
    if isinstance(value, str) and value in ACTIVATION_FNS:
        return ACTIVATION_FNS[value]
    raise SpecError(f"expected one of {', '.join(ACTIVATION_FNS)}, got {value!r}")


@kind
class ConvPool(Layer):
    """network3 ``ConvPoolLayer``: out = floor((n - F + 1) / pool); params = K*C*F_h*F_w + K."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace("it is network3's (Theano) layer")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("it is network3's (Theano) layer")
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("it is network3's (Theano) layer")

    category: ClassVar[Category] = Category.CONV
    filter_shape: tuple[int, ...] = A.required(_four)
    image_shape: tuple[int, ...] | None = A.arg(A.optional(_four))
    poolsize: tuple[int, ...] = A.arg(lambda v, r: A.positive_tuple(v, 2), 2, aliases=("pool", "pool_size"))
    activation_fn: str = A.arg(_activation_fn, "sigmoid", aliases=("activation",))

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        if p.ctx.data_format is not DataFormat.CHANNELS_FIRST or len(dims) != 3:
            raise ShapeError("ConvPoolLayer needs channels_first (maps, height, width)")
        k, _, fh, fw = self.filter_shape
        out = []
        for i, (g, f, pool) in enumerate(zip(dims[1:], (fh, fw), self.poolsize, strict=True)):
            if self.image_shape is not None:
                fixed = self.image_shape[2 + i]
                p.need(g, fixed, fixed, f"image_shape fixes the size at {fixed}")
            p.need(g, f, None, f"filter {f} needs {f} cells")
            conv = p.plus(g, 1 - f)  # valid, stride 1: n - F + 1
            p.need(conv, pool, None, f"pool {pool} needs {pool} cells after the convolution")
            out.append(p.through(conv, pool, 1, partial(F.floor_div, by=pool)))
        return (p.const(k), *out)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        if ctx.data_format is not DataFormat.CHANNELS_FIRST:
            raise ShapeError(
                "ConvPoolLayer is Theano NCHW: use ",
                Option("data_format", "channels_first"),
                " (input like 1x28x28)",
            )
        if len(shape) != 3:
            raise ShapeError(f"ConvPoolLayer expects (maps, height, width), got {fmt_shape(shape)}")
        k, c, fh, fw = self.filter_shape
        if self.image_shape is not None and tuple(self.image_shape[1:]) != shape:
            fixed = (self.image_shape[0], *shape)
            raise MismatchError(
                f"image_shape {tuple(self.image_shape)} says {fmt_shape(self.image_shape[1:])} per "
                f"sample, but the layer gets {fmt_shape(shape)}: use image_shape=({', '.join(map(str, fixed))})",
                argument="image_shape",
                value=fixed,
            )
        if c != shape[0]:
            raise MismatchError(
                f"filter_shape[1] (input maps) is {c}, but the layer gets {shape[0]} feature maps: "
                f"use filter_shape=({k}, {shape[0]}, {fh}, {fw})",
                argument="filter_shape",
                value=(k, shape[0], fh, fw),
            )
        conv = []
        for n, f, name in zip(shape[1:], (fh, fw), ("height", "width"), strict=True):
            if n < f:
                raise ShapeError(f"filter {f} is larger than the input {n} on {name}")
            conv.append(F.keras_valid_length(n, f, 1))
        pooled = []
        for n, p, name in zip(conv, self.poolsize, ("height", "width"), strict=True):
            if n < p:
                raise ShapeError(f"pool {p} is larger than the convolution output {n} on {name}")
            pooled.append(n // p)  # ignore_border=True drops the partial window
        weights = k * c * fh * fw
        return LayerOutput(
            shape=(k, *pooled),
            trainable=weights + k,
            macs=math.prod(conv) * weights,
            bias_adds=math.prod(pooled) * k,
            ops=math.prod(pooled) * k * (math.prod(self.poolsize) - 1 + (self.activation_fn != "linear")),
        )

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        conv = tuple(
            Window(n, f, f, 1, 1, 0, 0, n - f + 1)
            for n, f in zip(shape[1:], self.filter_shape[2:], strict=True)
        )
        pool = tuple(
            Window(w.out, p, p, p, 1, 0, 0, w.out // p) for w, p in zip(conv, self.poolsize, strict=True)
        )
        return rf.through(conv).through(pool)

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        k, c, fh, fw = self.filter_shape
        return {"kernel": (fh, fw, c, k), "bias": (k,)}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """As PyTorch would run it: the conv keeps its input and kernel, max pooling the conv's
        output (a tensor of the layer's own) and int64 indices, the activation its result."""
        k, _, fh, fw = self.filter_shape
        conv = k * (inputs[0][1] - fh + 1) * (inputs[0][2] - fw + 1)
        pooled = math.prod(output)
        return (
            kept_input(),
            Keep(Source.WEIGHT, weight="kernel"),
            Keep(Source.NEW, elements=conv),
            Keep(Source.NEW, elements=pooled, elem=Elem.INT64),
            *activation_keeps(self.activation_fn, pooled),
        )

    def explain_steps(self, w: Worked) -> list[Step]:
        k, c, fh, fw = self.filter_shape
        steps = []
        for name, n, f, p, out in zip(
            ("height", "width"), w.input_shape[1:], (fh, fw), self.poolsize, w.output_shape[1:], strict=True
        ):
            steps.append(
                Step(
                    name,
                    f"floor(({name[0].upper()}_in - F + 1) / pool) (valid conv, ignore_border pool)",
                    f"floor(({n} - {f} + 1) / {p}) = floor({quotient(n - f + 1, p)})",
                    str(out),
                )
            )
        steps.append(
            Step(
                "params",
                "C_out*C_in*F_h*F_w + C_out (bias added after pooling)",
                f"{k}*{c}*{fh}*{fw} + {k}",
                num(w.params),
            )
        )
        return steps


def _check_n_in(layer: Any, shape: Shape) -> int:
    """The flattened input size; a given ``n_in`` must equal it (left out, it is worked out)."""
    n = math.prod(shape)
    if layer.n_in is not None and layer.n_in != n:
        where = f"{fmt_shape(shape)} = {n:,}" if len(shape) > 1 else f"{n:,}"
        raise MismatchError(
            f"n_in is {layer.n_in:,}, but the layer gets {where} values: use n_in={n}",
            argument="n_in",
            value=n,
        )
    return n


class FlatDense(Layer):
    """network3's dense layers: ``n_in`` values of the flattened input to ``n_out`` (with bias)."""

    category: ClassVar[Category] = Category.DENSE
    n_in: int | None
    n_out: int
    #: elementwise ops per output after the product (activation or softmax)
    ops_per_output: ClassVar[int] = 1

    def flat_sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        """The size rule of network3's dense layers: ``n_in`` fixes the flattened input's size."""
        if self.n_in is not None:
            p.need(p.product(dims), self.n_in, self.n_in, f"n_in={self.n_in:,} fixes the input values")
        return (p.const(self.n_out),)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        n = _check_n_in(self, shape)
        return LayerOutput(
            shape=(self.n_out,),
            trainable=n * self.n_out + self.n_out,
            macs=n * self.n_out,
            bias_adds=self.n_out,
            ops=self.ops_per_output * self.n_out,
        )

    def receptive_field(self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context) -> None:
        return None

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        return {"kernel": (math.prod(in_shape), self.n_out), "bias": (self.n_out,)}

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """As PyTorch would run it: the product keeps its input (after network3's dropout, a
        tensor of its own, with the dropout mask) and kernel, the activation its own rule."""
        n_in = math.prod(inputs[0])
        dropped = getattr(self, "p_dropout", 0.0) > 0
        read = (
            (Keep(Source.NEW, elements=n_in), Keep(Source.NEW, elements=n_in, elem=Elem.MASK))
            if dropped
            else (kept_input(),)
        )
        activation = getattr(self, "activation_fn", "softmax")
        return (*read, Keep(Source.WEIGHT, weight="kernel"), *activation_keeps(activation, self.n_out))

    def explain_steps(self, w: Worked) -> list[Step]:
        n_in = math.prod(w.input_shape)
        return [
            Step("n_in", "values in the (flattened) input", "*".join(map(str, w.input_shape)), num(n_in)),
            Step("params", "n_in*n_out + n_out", f"{n_in}*{self.n_out} + {self.n_out}", num(w.params)),
        ]


@kind
class FullyConnected(FlatDense):
    """network3 ``FullyConnectedLayer(n_in, n_out)``: a dense layer on the flattened input
    (``n_in`` left out: worked out from the input)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace("it is network3's (Theano) layer")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("it is network3's (Theano) layer")
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("it is network3's (Theano) layer")

    n_in: int | None = A.arg(A.optional(A.positive_int))
    n_out: int = A.required(A.positive_int)
    activation_fn: str = A.arg(_activation_fn, "sigmoid", aliases=("activation",))
    p_dropout: float = A.arg(A.rate, 0.0)

    sizes = FlatDense.flat_sizes

    @property
    def ops_per_output(self) -> int:  # type: ignore[override]
        """One activation op per output, none for a linear layer."""
        return 0 if self.activation_fn == "linear" else 1


@kind
class SoftmaxLayer(FlatDense):
    """network3 ``SoftmaxLayer(n_in, n_out)``: a dense layer on the flattened input, then softmax
    (``n_in`` left out: worked out from the input)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace("it is network3's (Theano) layer")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace("it is network3's (Theano) layer")
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("it is network3's (Theano) layer")

    n_in: int | None = A.arg(A.optional(A.positive_int))
    n_out: int = A.required(A.positive_int)
    p_dropout: float = A.arg(A.rate, 0.0)
    ops_per_output: ClassVar[int] = 3
    sizes = FlatDense.flat_sizes  # softmax: exp, sum, divide
