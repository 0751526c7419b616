"""The naive, obviously-correct loop reference that ``verify`` and the tests compare the fast
executor with: every output value computed on its own from the input cells it reads.

Window kinds (conv, depthwise, separable, transposed, pooling, ConvPoolLayer) are loops here;
kinds without windows are recomputed in float64 by the fast code (said so in ``verify``).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..enums import DataFormat
from ..geometry import split_channels
from ..layers.base import Context, Layer
from ..layers.conv import Conv, ConvTranspose, DepthwiseConv, SeparableConv, transposed_axes
from ..layers.network3 import ConvPool
from ..layers.pooling import AvgPool, MaxPool, Pool
from .executor import (
    Weights,
    _check_plans,
    _from_last,
    _plans,
    _to_last,
    activate,
    as_grouped_conv,
    forward,
    include_pad,
    pointwise_conv,
)


def work(row: Any, ctx: Context, batch: int) -> int:
    """Inner-loop steps the loop reference takes for a summary row (0: no loop reference)."""
    layer = row.layer
    if isinstance(layer, ConvPool):
        k, c, fh, fw = layer.filter_shape
        return batch * math.prod(row.output_shape[1:]) * math.prod(layer.poolsize) * fh * fw
    if not isinstance(layer, (Conv, DepthwiseConv, SeparableConv, ConvTranspose, Pool)):
        return 0
    spatial_out, _ = split_channels(row.output_shape, layer.layout(ctx))
    spatial_in, channels_in = split_channels(row.input_shape, layer.layout(ctx))
    kernel = math.prod(layer.pool_size if isinstance(layer, Pool) else layer.kernel_size)
    if isinstance(layer, ConvTranspose):
        return batch * math.prod(spatial_in) * kernel * channels_in
    if isinstance(layer, Pool):
        groups = 1
    elif isinstance(layer, Conv):
        groups = layer.groups
    else:
        groups = channels_in  # the depthwise step: one group per input channel
    return batch * math.prod(spatial_out) * kernel * groups


def naive_forward(layer: Layer, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    """Loop-over-every-output reference (float64) for window kinds; other kinds share ``forward``."""
    x = [a.astype(np.float64) for a in x] if isinstance(x, list) else x.astype(np.float64)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    if isinstance(layer, (DepthwiseConv, SeparableConv)):
        channels = x.shape[1] if layer.layout(ctx) is DataFormat.CHANNELS_FIRST else x.shape[-1]
        depthwise, dw = as_grouped_conv(layer, channels, w)
        y = naive_forward(depthwise, x, dw, ctx)
        if isinstance(layer, SeparableConv):
            conv, pw = pointwise_conv(layer, w)
            y = naive_forward(conv, y, pw, ctx)
        return y
    if isinstance(layer, ConvTranspose):
        return naive_transpose(layer, x, w, ctx)
    if isinstance(layer, ConvPool):
        k, c, fh, fw = layer.filter_shape
        convolved = naive_forward(
            Conv(filters=k, kernel_size=(fh, fw), use_bias=False), x, {"kernel": w["kernel"]}, ctx
        )
        pooled = naive_forward(MaxPool(pool_size=layer.poolsize), convolved, {}, ctx)
        return activate(pooled + w["bias"].reshape(1, k, 1, 1), layer.activation_fn)
    if not isinstance(layer, (Conv, Pool)):
        return forward(layer, x, w, ctx)
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt).astype(np.float64)
    batch, spatial, channels = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    kernel: tuple[int, ...]
    if isinstance(layer, Conv):
        kernel, dilation = layer.kernel_size, layer.dilation_rate
        plans = _plans(layer, spatial, kernel, dilation)
    else:
        kernel, dilation = layer.pool_size, layer.window_dilation
        plans = _plans(layer, spatial, kernel, dilation, layer.ceil_mode)
    counts_pad = isinstance(layer, AvgPool) and include_pad(layer, ctx)
    _check_plans(plans, "window")
    n_out = layer.filters if isinstance(layer, Conv) else channels
    y = np.zeros((batch, *(p.out for p in plans), n_out))
    for b, pos in itertools.product(range(batch), itertools.product(*(range(p.out) for p in plans))):
        # (kernel offset, input index or None when it falls in the padding, inside the padded input)
        taps: list[tuple[tuple[int, ...], tuple[int, ...] | None, bool]] = []
        for off in itertools.product(*(range(f) for f in kernel)):
            steps = zip(pos, layer.strides, off, dilation, plans, strict=True)
            idx = tuple(o * s + t * d - p.before for o, s, t, d, p in steps)
            inside = all(0 <= i < n for i, n in zip(idx, spatial, strict=True))
            in_padded = all(-p.before <= i < n + p.after for i, n, p in zip(idx, spatial, plans, strict=True))
            taps.append((off, idx if inside else None, in_padded))
        if isinstance(layer, Conv):
            cg, kg = channels // layer.groups, layer.filters // layer.groups
            acc = np.array(w["bias"], dtype=np.float64) if "bias" in w else np.zeros(layer.filters)
            for g in range(layer.groups):
                for off, at, _ in taps:
                    if at is not None:  # y[k] += sum_c x[at, c] * W[off, c, k] over the group's c, k
                        cells: tuple[Any, ...] = (b, *at, slice(g * cg, (g + 1) * cg))
                        taps_w: tuple[Any, ...] = (*off, slice(None), slice(g * kg, (g + 1) * kg))
                        acc[g * kg : (g + 1) * kg] += xl[cells] @ w["kernel"][taps_w]
            y[(b, *pos)] = acc
        elif isinstance(layer, MaxPool):
            seen = [xl[(b, *idx)] for _, idx, _ in taps if idx is not None]
            # A dilated window may fall wholly in the padding: -inf, as PyTorch gives.
            y[(b, *pos)] = np.max(seen, axis=0) if seen else -np.inf
        else:
            values = [xl[(b, *idx)] for _, idx, _ in taps if idx is not None]
            count = sum(1 for _, idx, pad in taps if (pad if counts_pad else idx is not None))
            y[(b, *pos)] = np.sum(values, axis=0) / count
    if isinstance(layer, Conv):
        y = activate(y, layer.activation)
    return _from_last(y, fmt)


def naive_transpose(layer: ConvTranspose, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    """Scatter each input value through each kernel tap, one at a time, then crop."""
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt)
    batch, spatial, c_in = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    axes = transposed_axes(layer, spatial, ctx)
    kg, cg = layer.filters // layer.groups, c_in // layer.groups
    y = np.zeros((batch, *(a.out for a in axes), layer.filters))
    for b, pos, tap in itertools.product(range(batch), np.ndindex(*spatial), np.ndindex(*layer.kernel_size)):
        # input cell pos, through tap t, lands on pos*S + t*d in the full scatter, minus the crop
        out = tuple(p * a.stride + t * a.dilation - a.crop for p, t, a in zip(pos, tap, axes, strict=True))
        if all(0 <= o < a.out for o, a in zip(out, axes, strict=True)):
            for c in range(c_in):
                g = c // cg
                y[(b, *out, slice(g * kg, (g + 1) * kg))] += (
                    xl[(b, *pos, c)] * w["kernel"][(*tap, slice(None), c)]
                )
    if "bias" in w:
        y += w["bias"]
    return _from_last(activate(y, layer.activation), fmt)
