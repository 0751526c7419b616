"""The Theano layers of Michael Nielsen's ``network3.py`` (the second seed course), as written.

``ConvPoolLayer(filter_shape, image_shape, poolsize)``: a valid convolution without bias, max
pooling with ``ignore_border=True`` (floor), then the bias and the activation, all in NCHW.
``FullyConnectedLayer(n_in, n_out)`` and ``SoftmaxLayer(n_in, n_out)`` take the flattened
input. Users of that code work out ``n_in`` by hand; here a wrong value is an error that says
which value it should be.
"""

from __future__ import annotations

import math
from typing import Any

from . import formulas as F
from . import values as V
from .base import Context, Layer, LayerOutput, ReceptiveField, Shape, Window, arg, fmt_shape, kind, required
from .errors import ShapeError, SpecError
from .options import DataFormat

ACTIVATION_FNS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "ReLU": "relu", "linear": "linear"}


def _four(value: Any, rank: int) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise SpecError(f"expected 4 numbers, got {value!r}")
    return tuple(V.positive_int(v) for v in value)


def _activation_fn(value: Any, rank: int) -> str:
    if isinstance(value, str) and value in ACTIVATION_FNS:
        return ACTIVATION_FNS[value]
    raise SpecError(f"expected one of {', '.join(ACTIVATION_FNS)}, got {value!r}")


@kind
class ConvPool(Layer):
    """network3 ``ConvPoolLayer``: out = floor((n - F + 1) / pool); params = K*C*F_h*F_w + K."""

    filter_shape: tuple[int, ...] = required(_four)
    image_shape: tuple[int, ...] | None = arg(lambda v, r: None if v is None else _four(v, r))
    poolsize: tuple[int, ...] = arg(lambda v, r: V.positive_tuple(v, 2), 2, aliases=("pool", "pool_size"))
    activation_fn: str = arg(_activation_fn, "sigmoid", aliases=("activation",))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        if ctx.data_format is not DataFormat.CHANNELS_FIRST:
            raise ShapeError(
                "ConvPoolLayer is Theano NCHW: use --data-format channels_first (input like 1x28x28)"
            )
        if len(shape) != 3:
            raise ShapeError(f"ConvPoolLayer expects (maps, height, width), got {fmt_shape(shape)}")
        k, c, fh, fw = self.filter_shape
        if self.image_shape is not None and tuple(self.image_shape[1:]) != shape:
            fixed = ", ".join(map(str, (self.image_shape[0], *shape)))
            raise ShapeError(f"image_shape {tuple(self.image_shape)} says {fmt_shape(self.image_shape[1:])} per "
                             f"sample, but the layer gets {fmt_shape(shape)}: use image_shape=({fixed})")  # fmt: skip
        if c != shape[0]:
            raise ShapeError(f"filter_shape[1] (input maps) is {c}, but the layer gets {shape[0]} feature maps: "
                             f"use filter_shape=({k}, {shape[0]}, {fh}, {fw})")  # fmt: skip
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


def _check_n_in(layer: Any, shape: Shape) -> int:
    n = math.prod(shape)
    if layer.n_in != n:
        where = f"{fmt_shape(shape)} = {n:,}" if len(shape) > 1 else f"{n:,}"
        raise ShapeError(f"n_in is {layer.n_in:,}, but the layer gets {where} values: use n_in={n}")
    return n


@kind
class FullyConnected(Layer):
    """network3 ``FullyConnectedLayer(n_in, n_out)``: a dense layer on the flattened input."""

    n_in: int = required(V.positive_int)
    n_out: int = required(V.positive_int)
    activation_fn: str = arg(_activation_fn, "sigmoid", aliases=("activation",))
    p_dropout: float = arg(V.rate, 0.0)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        n = _check_n_in(self, shape)
        return LayerOutput(shape=(self.n_out,), trainable=n * self.n_out + self.n_out, macs=n * self.n_out,
                           bias_adds=self.n_out, ops=self.n_out if self.activation_fn != "linear" else 0)  # fmt: skip

    def receptive_field(self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context) -> None:
        return None


@kind
class SoftmaxLayer(Layer):
    """network3 ``SoftmaxLayer(n_in, n_out)``: a dense layer on the flattened input, then softmax."""

    n_in: int = required(V.positive_int)
    n_out: int = required(V.positive_int)
    p_dropout: float = arg(V.rate, 0.0)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        n = _check_n_in(self, shape)
        return LayerOutput(shape=(self.n_out,), trainable=n * self.n_out + self.n_out, macs=n * self.n_out,
                           bias_adds=self.n_out, ops=3 * self.n_out)  # fmt: skip

    def receptive_field(self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context) -> None:
        return None
