"""Reference NumPy executor: real forward passes for every layer kind the core knows.

The only package module that imports numpy. Two implementations per kind:

* ``forward`` — fast: windows via ``sliding_window_view`` and one GEMM (``tensordot``) per group,
  output rows tiled so the window matrix stays under a memory budget;
* ``naive_forward`` — obviously correct loops over output positions, for small inputs.

Neither uses the core's length formulas: output lengths come from the windows that actually fit
the padded tensor, so comparing them with the core checks the formulas against real tensors.
Tensors carry a leading batch axis; conv/pool work internally in channels_last.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import layers as L
from .formulas import effective_kernel, same_padding
from .layers import Context
from .options import Convention, DataFormat

#: Bytes of one tile of the conv window matrix. Tiles this small stay in cache, so the im2col copy
#: and the GEMM run at close to GEMM speed (measured in benchmarks/executor.py); they also bound memory.
WINDOW_BUDGET = 4 * 2**20

Weights = dict[str, np.ndarray]


# ----------------------------------------------------------------------------- weights


def init_weights(layer: L.Layer, in_shape: tuple[int, ...], ctx: Context, rng: np.random.Generator,
                 dtype: Any) -> Weights:  # fmt: skip
    """Random weights in Keras layout (conv kernels ``(*F, C_in/groups, K)``, dense ``(in, units)``)."""

    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    if isinstance(layer, L.Conv):
        _, c_in = L.split_channels(in_shape, layer.layout(ctx))
        w = {"kernel": normal(*layer.kernel_size, c_in // layer.groups, layer.filters)}
        if layer.use_bias:
            w["bias"] = normal(layer.filters)
        return w
    if isinstance(layer, L.Dense):
        w = {"kernel": normal(in_shape[-1], layer.units)}
        if layer.use_bias:
            w["bias"] = normal(layer.units)
        return w
    if isinstance(layer, L.BatchNorm):
        c = in_shape[layer.feature_axis(in_shape, ctx)]
        w = {}
        if layer.scale:
            w["gamma"] = normal(c)
        if layer.center:
            w["beta"] = normal(c)
        w["moving_mean"] = normal(c)
        w["moving_variance"] = (rng.random(c) + 0.5).astype(dtype)
        return w
    return {}


def count_weights(layer: L.Layer, weights: Weights, ctx: Context) -> tuple[int, int]:
    """(parameters, buffers) of real weight arrays, by each framework's own bookkeeping."""
    stats = sum(weights[k].size for k in ("moving_mean", "moving_variance") if k in weights)
    total = sum(w.size for w in weights.values())
    if ctx.convention is Convention.PYTORCH:
        return total - stats, stats
    return total, 0


# ----------------------------------------------------------------------------- helpers


def _to_last(x: np.ndarray, fmt: DataFormat) -> np.ndarray:
    return np.moveaxis(x, 1, -1) if fmt is DataFormat.CHANNELS_FIRST else x


def _from_last(x: np.ndarray, fmt: DataFormat) -> np.ndarray:
    return np.moveaxis(x, -1, 1) if fmt is DataFormat.CHANNELS_FIRST else x


@dataclass(frozen=True)
class AxisPlan:
    """How one spatial axis is padded and windowed: zeros before/after, extra ceil-mode cells, windows."""

    before: int
    after: int
    overhang: int
    out: int


def plan_axis(n: int, f_eff: int, s: int, padding: Any, axis: int, ceil_mode: bool = False) -> AxisPlan:
    """Pad amounts and window count found by walking the windows, not by the length formula.

    Windows start at 0, S, 2S, ... over the padded length Lp. Floor mode keeps those that fit;
    ceil mode keeps adding windows while the previous one ended before Lp (the last may overhang)
    and then drops any window that starts in the right padding (PyTorch's rule).
    """
    if padding == "same":
        before, after = same_padding(n, f_eff, s)
    elif padding == "causal":
        before, after = f_eff - 1, 0
    elif padding == "valid":
        before, after = 0, 0
    else:
        before, after = padding[axis]
    lp = n + before + after
    starts = 0
    if lp >= f_eff:
        starts = 1
        while (starts * s + f_eff <= lp) or (ceil_mode and (starts - 1) * s + f_eff < lp):
            starts += 1
        while ceil_mode and starts > 1 and (starts - 1) * s >= n + before:
            starts -= 1
    overhang = max(0, (starts - 1) * s + f_eff - lp) if starts else 0
    return AxisPlan(before, after, overhang, starts)


def _plans(layer: Any, spatial: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...],
           ceil_mode: bool = False) -> list[AxisPlan]:  # fmt: skip
    return [
        plan_axis(n, effective_kernel(f, d), s, layer.padding, i, ceil_mode)
        for i, (n, f, d, s) in enumerate(zip(spatial, kernel, dilation, layer.strides, strict=True))
    ]


def _check_plans(plans: list[AxisPlan], what: str) -> None:
    if any(p.out <= 0 for p in plans):
        raise ValueError(f"{what} does not fit the (padded) input")


# ----------------------------------------------------------------------------- fast forward


def _conv(x: np.ndarray, w: Weights, layer: L.Conv, plans: list[AxisPlan]) -> np.ndarray:
    rank = layer.rank
    kernel = w["kernel"]
    groups, k = layer.groups, layer.filters
    cg, kg = kernel.shape[-2], k // groups
    pads = [(0, 0), *((p.before, p.after) for p in plans), (0, 0)]
    xp = np.pad(x, pads)
    f_eff = [effective_kernel(f, d) for f, d in zip(layer.kernel_size, layer.dilation_rate, strict=True)]
    out_sizes = [p.out for p in plans]
    batch = x.shape[0]
    y = np.empty((batch, *out_sizes, k), dtype=x.dtype)
    # Tile the first output axis so one window matrix stays within WINDOW_BUDGET.
    row_bytes = batch * math.prod(out_sizes[1:]) * cg * math.prod(layer.kernel_size) * x.itemsize
    rows = max(1, min(out_sizes[0], WINDOW_BUDGET // max(1, row_bytes)))
    s0 = layer.strides[0]
    for r0 in range(0, out_sizes[0], rows):
        r1 = min(out_sizes[0], r0 + rows)
        chunk = xp[:, r0 * s0 : (r1 - 1) * s0 + f_eff[0]]
        win = sliding_window_view(chunk, f_eff, axis=tuple(range(1, rank + 1)))
        # win: (B, *O_all, C, *F_eff) -> stride the outputs, dilate the taps
        win = win[(slice(None), *(slice(None, None, s) for s in layer.strides), slice(None),
                   *(slice(None, None, d) for d in layer.dilation_rate))]  # fmt: skip
        win = win[(slice(None), *(slice(0, o) for o in [r1 - r0, *out_sizes[1:]]))]
        # (B, *O, C, *F) -> (B, *O, *F, C): channels innermost, as they lie in memory, so the
        # im2col copy below streams contiguous runs; the Keras kernel (*F, C/g, K) already matches.
        win = np.moveaxis(win, rank + 1, -1)
        n_rows = batch * (r1 - r0) * math.prod(out_sizes[1:])
        taps = math.prod(layer.kernel_size)
        for g in range(groups):
            cols = win[..., g * cg : (g + 1) * cg].reshape(n_rows, taps * cg)
            wg = kernel[..., g * kg : (g + 1) * kg].reshape(taps * cg, kg)
            y[:, r0:r1, ..., g * kg : (g + 1) * kg] = (cols @ wg).reshape(batch, r1 - r0, *out_sizes[1:], kg)
    if "bias" in w:
        y += w["bias"]
    return y


def _pool(x: np.ndarray, layer: L.Pool, plans: list[AxisPlan], include_pad: bool) -> np.ndarray:
    rank = layer.rank
    pads = [(0, 0), *((p.before, p.after + p.overhang) for p in plans), (0, 0)]
    axes = tuple(range(1, rank + 1))
    out_sizes = [p.out for p in plans]

    def windows(a: np.ndarray) -> np.ndarray:
        win = sliding_window_view(a, layer.pool_size, axis=axes)
        win = win[(slice(None), *(slice(None, None, s) for s in layer.strides))]
        return win[(slice(None), *(slice(0, o) for o in out_sizes))]

    window_axes = tuple(range(-rank, 0))
    if isinstance(layer, L.MaxPool):
        return windows(np.pad(x, pads, constant_values=-np.inf)).max(axis=window_axes)
    total = windows(np.pad(x, pads)).sum(axis=window_axes)
    # The divisor counts the cells a window covers: input cells, plus explicit padding when
    # count_include_pad (never the ceil-mode overhang, as in PyTorch).
    ones = np.ones((1, *x.shape[1:-1], 1), dtype=x.dtype)
    if include_pad:
        ones = np.pad(ones, [(0, 0), *((p.before, p.after) for p in plans), (0, 0)], constant_values=1)
        mask_pads = [(0, 0), *((0, p.overhang) for p in plans), (0, 0)]
    else:
        mask_pads = pads
    counts = windows(np.pad(ones, mask_pads)).sum(axis=window_axes)
    return total / counts


def include_pad(layer: L.AvgPool, ctx: Context) -> bool:
    """count_include_pad as set, else the convention's default (Keras excludes, PyTorch includes)."""
    if layer.count_include_pad is not None:
        return layer.count_include_pad
    return ctx.convention is Convention.PYTORCH


def activate(x: np.ndarray, name: str) -> np.ndarray:
    """Elementwise activations as Keras defines them (softmax over the last axis)."""
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "relu6":
        return np.clip(x, 0, 6)
    if name == "leaky_relu":
        return np.where(x > 0, x, 0.2 * x)  # Keras's default negative_slope
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    if name == "selu":
        alpha, scale = 1.6732632423543772, 1.0507009873554805
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    if name == "gelu":  # Keras's default approximate=False: x * Phi(x)
        from math import erf

        return x * 0.5 * (1 + np.vectorize(erf, otypes=[x.dtype])(x / np.sqrt(2)))
    if name in ("silu", "swish"):
        return x * _sigmoid(x)
    if name == "mish":
        return x * np.tanh(np.logaddexp(0, x))
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6
        return np.clip(x + 3, 0, 6) / 6
    if name == "tanh":
        return np.tanh(x)
    if name in ("softmax", "log_softmax"):
        shifted = x - x.max(axis=-1, keepdims=True)
        log = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return log if name == "log_softmax" else np.exp(log)
    if name == "softplus":
        return np.logaddexp(0, x)
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "exponential":
        return np.exp(x)
    raise ValueError(f"no executor for activation {name!r}")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))  # overflow-free logistic


def _batchnorm(x: np.ndarray, w: Weights, layer: L.BatchNorm, ctx: Context) -> np.ndarray:
    axis = layer.feature_axis(x.shape[1:], ctx) + 1
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def get(key: str, default: float) -> np.ndarray:
        return w[key].reshape(shape) if key in w else np.asarray(default, dtype=x.dtype)

    norm = (x - get("moving_mean", 0)) / np.sqrt(get("moving_variance", 1) + layer.epsilon)
    return (norm * get("gamma", 1) + get("beta", 0)).astype(x.dtype)


def forward(layer: L.Layer, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    """The fast forward pass of one layer on a batch ``x``."""
    if isinstance(layer, L.Conv):
        fmt = layer.layout(ctx)
        xl = _to_last(x, fmt)
        plans = _plans(layer, xl.shape[1:-1], layer.kernel_size, layer.dilation_rate)
        _check_plans(plans, "kernel")
        return _from_last(activate(_conv(xl, w, layer, plans), layer.activation), fmt)
    if isinstance(layer, L.Pool):
        fmt = layer.layout(ctx)
        xl = _to_last(x, fmt)
        plans = _plans(layer, xl.shape[1:-1], layer.pool_size, (1,) * layer.rank, layer.ceil_mode)
        _check_plans(plans, "pool window")
        if any(max(p.before, p.after) >= k for p, k in zip(plans, layer.pool_size, strict=True)):
            raise ValueError("a pool window would see only padding")
        inc = include_pad(layer, ctx) if isinstance(layer, L.AvgPool) else False
        return _from_last(_pool(xl, layer, plans, inc).astype(x.dtype), fmt)
    if isinstance(layer, L.Dense):
        y = x @ w["kernel"]
        if "bias" in w:
            y = y + w["bias"]
        return activate(y, layer.activation)
    if isinstance(layer, L.Flatten):
        return x.reshape(x.shape[0], -1)
    if isinstance(layer, L.Dropout):
        return x  # identity at inference
    if isinstance(layer, L.Activation):
        return activate(x, layer.activation)
    if isinstance(layer, L.BatchNorm):
        return _batchnorm(x, w, layer, ctx)
    raise TypeError(f"no executor for {type(layer).__name__}")


# ----------------------------------------------------------------------------- naive reference


def naive_forward(layer: L.Layer, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    """Loop-over-every-output reference for conv and pooling (float64); other kinds share ``forward``."""
    if not isinstance(layer, (L.Conv, L.Pool)):
        return forward(layer, x.astype(np.float64), {k: v.astype(np.float64) for k, v in w.items()}, ctx)
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt).astype(np.float64)
    batch, spatial, channels = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    if isinstance(layer, L.Conv):
        kernel, dilation = layer.kernel_size, layer.dilation_rate
        plans = _plans(layer, spatial, kernel, dilation)
    else:
        kernel, dilation = layer.pool_size, (1,) * layer.rank
        plans = _plans(layer, spatial, kernel, dilation, layer.ceil_mode)
    _check_plans(plans, "window")
    n_out = layer.filters if isinstance(layer, L.Conv) else channels
    y = np.zeros((batch, *(p.out for p in plans), n_out))
    for b, pos in itertools.product(range(batch), itertools.product(*(range(p.out) for p in plans))):
        taps = []  # (kernel offset, input index or None when it falls in the padding)
        for off in itertools.product(*(range(f) for f in kernel)):
            idx = tuple(o * s + t * d - p.before
                        for o, s, t, d, p in zip(pos, layer.strides, off, dilation, plans, strict=True))  # fmt: skip
            inside = all(0 <= i < n for i, n in zip(idx, spatial, strict=True))
            in_padded = all(-p.before <= i < n + p.after for i, n, p in zip(idx, spatial, plans, strict=True))
            taps.append((off, idx if inside else None, in_padded))
        if isinstance(layer, L.Conv):
            cg, kg = channels // layer.groups, layer.filters // layer.groups
            acc = np.array(w["bias"], dtype=np.float64) if "bias" in w else np.zeros(layer.filters)
            for g in range(layer.groups):
                for off, idx, _ in taps:
                    if idx is not None:  # y[k] += sum_c x[idx, c] * W[off, c, k] over the group's c, k
                        xs = xl[(b, *idx, slice(g * cg, (g + 1) * cg))]
                        acc[g * kg : (g + 1) * kg] += (
                            xs @ w["kernel"][(*off, slice(None), slice(g * kg, (g + 1) * kg))]
                        )
            y[(b, *pos)] = acc
        elif isinstance(layer, L.MaxPool):
            y[(b, *pos)] = np.max([xl[(b, *idx)] for _, idx, _ in taps if idx is not None], axis=0)
        else:
            inside = [xl[(b, *idx)] for _, idx, _ in taps if idx is not None]
            count = sum(1 for _, idx, pad in taps if (pad if include_pad(layer, ctx) else idx is not None))
            y[(b, *pos)] = np.sum(inside, axis=0) / count
    if isinstance(layer, L.Conv):
        y = activate(y, layer.activation)
    return _from_last(y, fmt)


# ----------------------------------------------------------------------------- receptive field probe


def probe_receptive_field(summary: Any, axis: int, output_index: int) -> tuple[int, int] | None:
    """The input cells along spatial ``axis`` that can change output ``output_index`` of the last layer.

    Gradient-free: one sample per input position, each with that whole slice raised well above
    the others; with positive inputs, weights, biases and BN shifts nothing clips a change to
    zero (ReLU stays on, a raised cell wins its max-pool window), so an output changes exactly
    when the raised slice lies in its field. Returns (first, last) input index, or None.
    """
    ctx = summary.context
    shape = summary.input_shape
    channels_first = ctx.data_format is DataFormat.CHANNELS_FIRST
    spatial_axis = axis + (2 if channels_first else 1)  # in the batched tensor
    n = shape[spatial_axis - 1]
    rng = np.random.default_rng(0)
    base = 1.0 + rng.random(shape)
    x = np.repeat(base[None], n + 1, axis=0)
    for i in range(n):  # sample i + 1 raises slice i; sample 0 is the baseline
        index = [i + 1, *([slice(None)] * len(shape))]
        index[spatial_axis] = i
        x[tuple(index)] += 100.0
    for row in summary.layers:
        weights = init_weights(row.layer, tuple(x.shape[1:]), ctx, rng, np.float64)
        weights = {k: np.abs(v) + 0.1 for k, v in weights.items()}
        if "moving_mean" in weights:
            weights["moving_mean"] = np.zeros_like(weights["moving_mean"])
        x = forward(row.layer, x, weights, ctx)
    out_axis = axis + (2 if channels_first else 1)
    picked = np.take(x, output_index, axis=out_axis).reshape(n + 1, -1)
    changed = np.flatnonzero(np.abs(picked[1:] - picked[0]).max(axis=1) > 1e-9 * np.abs(picked[0]).max())
    return (int(changed.min()), int(changed.max())) if changed.size else None
