"""The naive, obviously-correct loop reference that ``verify`` and the tests compare the fast
executor with: every output value computed on its own from the input cells it reads.

Window kinds (conv, depthwise, separable, transposed, pooling, ConvPoolLayer) are loops here;
kinds without windows are recomputed in float64 by the fast code (said so in ``verify``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
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
    steps = _WORK.get(type(row.layer))
    return 0 if steps is None else steps(row.layer, row, ctx, batch)


def _window_work(layer: Any, row: Any, ctx: Context, batch: int, groups: int | None) -> int:
    """out positions x kernel x groups (``None``: one group per input channel, a depthwise step)."""
    spatial_out, _ = split_channels(row.output_shape, layer.layout(ctx))
    _, channels_in = split_channels(row.input_shape, layer.layout(ctx))
    kernel = math.prod(getattr(layer, "pool_size", None) or layer.kernel_size)
    return batch * math.prod(spatial_out) * kernel * (channels_in if groups is None else groups)


def _transpose_work(layer: ConvTranspose, row: Any, ctx: Context, batch: int) -> int:
    spatial_in, channels_in = split_channels(row.input_shape, layer.layout(ctx))
    return batch * math.prod(spatial_in) * math.prod(layer.kernel_size) * channels_in


def _convpool_work(layer: ConvPool, row: Any, ctx: Context, batch: int) -> int:
    k, c, fh, fw = layer.filter_shape
    return batch * math.prod(row.output_shape[1:]) * math.prod(layer.poolsize) * fh * fw


#: The loop reference's inner-loop steps, by kind (kinds without a loop reference are absent).
_WORK: dict[type, Callable[[Any, Any, Context, int], int]] = {
    Conv: lambda layer, row, ctx, batch: _window_work(layer, row, ctx, batch, layer.groups),
    DepthwiseConv: lambda layer, row, ctx, batch: _window_work(layer, row, ctx, batch, None),
    SeparableConv: lambda layer, row, ctx, batch: _window_work(layer, row, ctx, batch, None),
    MaxPool: lambda layer, row, ctx, batch: _window_work(layer, row, ctx, batch, 1),
    AvgPool: lambda layer, row, ctx, batch: _window_work(layer, row, ctx, batch, 1),
    ConvTranspose: _transpose_work,
    ConvPool: _convpool_work,
}


def naive_forward(layer: Layer, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    """Loop-over-every-output reference (float64) for window kinds; other kinds share ``forward``."""
    if type(layer) is Conv:
        return _naive_conv(layer, x, w, ctx)  # it reads x and w into float64 itself
    x = [a.astype(np.float64) for a in x] if isinstance(x, list) else x.astype(np.float64)
    w = {k: v.astype(np.float64) for k, v in w.items()}
    naive = _NAIVE.get(type(layer))
    return forward(layer, x, w, ctx) if naive is None else naive(layer, x, w, ctx)


def _naive_depthwise(layer: DepthwiseConv | SeparableConv, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    channels = x.shape[1] if layer.layout(ctx) is DataFormat.CHANNELS_FIRST else x.shape[-1]
    depthwise, dw = as_grouped_conv(layer, channels, w, only_depthwise=True)
    return naive_forward(depthwise, x, dw, ctx)


def _naive_separable(layer: SeparableConv, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    channels = x.shape[1] if layer.layout(ctx) is DataFormat.CHANNELS_FIRST else x.shape[-1]
    depthwise, dw = as_grouped_conv(layer, channels, w, only_depthwise=False)
    conv, pw = pointwise_conv(layer, w)
    return naive_forward(conv, naive_forward(depthwise, x, dw, ctx), pw, ctx)


def _naive_convpool(layer: ConvPool, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    k, c, fh, fw = layer.filter_shape
    convolved = naive_forward(
        Conv(filters=k, kernel_size=(fh, fw), use_bias=False), x, {"kernel": w["kernel"]}, ctx
    )
    pooled = naive_forward(MaxPool(pool_size=layer.poolsize), convolved, {}, ctx)
    return activate(pooled + w["bias"].reshape(1, k, 1, 1), layer.activation_fn)


def _naive_conv(layer: Conv, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    """Every output value from the input cells it reads, by index: the bias plus the dot product
    of its window -- for each kernel tap in order, the cell the tap reads (``o*S + t*D - pad``
    per axis), zero where the tap falls in the padding -- with the kernel, group by group, in
    float64.

    Which cell each output reads through each tap depends only on the layer and the input's
    spatial sizes: it is worked out once per distinct pair (:func:`_conv_taps`), by that
    formula, never from the executor's padded copies and strided views. The windows of a block
    of positions are gathered by that table into one matrix, and its product with the kernel is
    one float64 matmul (the dot products in BLAS's order: tests/test_verify_scale.py holds the
    values to the loop over every position within float64 rounding)."""
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt)
    batch, spatial, channels = xl.shape[0], tuple(xl.shape[1:-1]), xl.shape[-1]
    outs, index = _conv_taps(layer, spatial)
    positions, taps = index.shape
    groups, filters = layer.groups, layer.filters
    cg, kg = channels // groups, filters // groups
    # float64 whatever w's type
    kernel = w["kernel"].astype(np.float64, copy=False).reshape(taps, cg, filters)
    bias = w.get("bias")
    # the input's cells in one row per position, and a row of zeros past the last (the padding)
    cells = np.zeros((batch, math.prod(spatial) + 1, channels))
    cells[:, :-1] = xl.reshape(batch, -1, channels)  # in float64 whatever x's type
    # positions per block: the gathered windows and their products stay within _BLOCK_ELEMENTS
    step = max(1, _BLOCK_ELEMENTS // max(1, batch * (taps * (channels + cg) + kg)))
    acc = None if step >= positions and groups == 1 else np.empty((batch, positions, filters))
    for p0 in range(0, positions, step):
        gathered = np.take(cells, index if acc is None else index[p0 : p0 + step], axis=1)  # (B, p, taps, C)
        rows = gathered.shape[0] * gathered.shape[1]
        for g in range(groups):
            ks = slice(g * kg, (g + 1) * kg)
            windows = gathered[..., g * cg : (g + 1) * cg].reshape(rows, taps * cg)
            product = windows @ kernel[:, :, ks].reshape(taps * cg, kg)
            if bias is not None:
                product += bias[ks]
            if acc is None:  # one block, one group: the product is the output
                acc = product.reshape(batch, positions, filters)
            else:
                acc[:, p0 : p0 + step, ks] = product.reshape(batch, -1, kg)
    assert acc is not None  # a conv has at least one output position
    y = activate(acc.reshape(batch, *outs, filters), layer.activation)
    return _from_last(y, fmt)


#: Elements of one block of gathered cells and products in the conv reference (1 MiB of float64).
_BLOCK_ELEMENTS = 2**17
#: Tap tables kept by (layer identity, spatial sizes), small ones only: a repeated block's layer
#: reuses its table. The layer is kept in the value, so its identity cannot be reused meanwhile.
_TAPS: dict[tuple[int, tuple[int, ...]], tuple[Layer, tuple[tuple[int, ...], np.ndarray]]] = {}
_TAPS_KEPT, _TAPS_ELEMENTS = 64, 4096


def _conv_taps(layer: Conv, spatial: tuple[int, ...]) -> tuple[tuple[int, ...], np.ndarray]:
    """(output sizes, table): for each output position (row-major) and kernel tap (offsets in
    order), the flat input cell it reads, or ``prod(spatial)`` where the tap falls in the
    padding. Depends on the layer and the input's spatial sizes only, so small tables are kept."""
    key = (id(layer), spatial)
    kept = _TAPS.get(key)
    if kept is not None and kept[0] is layer:
        return kept[1]
    plans = _plans(layer, spatial, layer.kernel_size, layer.dilation_rate)
    _check_plans(plans, "window")
    outs = tuple(p.out for p in plans)
    # per axis: o*S + t*D - before for every output o (rows) and tap offset t (columns)
    at = [
        np.arange(p.out)[:, None] * s + np.arange(f)[None, :] * d - p.before
        for p, s, f, d in zip(plans, layer.strides, layer.kernel_size, layer.dilation_rate, strict=True)
    ]
    flat = np.zeros((math.prod(outs), math.prod(layer.kernel_size)), dtype=np.intp)
    inside = np.ones(flat.shape, dtype=bool)
    rank = len(spatial)
    for axis, (cells, n) in enumerate(zip(at, spatial, strict=True)):
        # broadcast axis `axis` of the output grid and of the kernel grid into (positions, taps)
        shape = [1] * (2 * rank)
        shape[axis], shape[rank + axis] = cells.shape
        grid = np.broadcast_to(cells.reshape(shape), (*outs, *layer.kernel_size)).reshape(flat.shape)
        inside &= (grid >= 0) & (grid < n)
        flat = flat * n + grid
    table = np.where(inside, flat, math.prod(spatial))
    found = (outs, table)
    if table.size <= _TAPS_ELEMENTS:
        if len(_TAPS) >= _TAPS_KEPT:
            _TAPS.clear()
        _TAPS[key] = (layer, found)
    return found


def _naive_pool(layer: Pool, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    """Every output value on its own: the max (or the mean) of the input cells its window reads
    (``o*S + t*D - pad`` per axis; none in the padding), taken one tap at a time. Only the
    running max or sum is kept: a window of 410x410 taps is not a list of 168,100 of them."""
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt).astype(np.float64)
    batch, spatial, channels = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    kernel, dilation = layer.pool_size, layer.window_dilation
    plans = _plans(layer, spatial, kernel, dilation, layer.ceil_mode)
    _check_plans(plans, "window")
    largest = layer.op == "max"
    counts_pad = not largest and include_pad(layer, ctx)
    y = np.zeros((batch, *(p.out for p in plans), channels))
    for b, pos in itertools.product(range(batch), itertools.product(*(range(p.out) for p in plans))):
        acc: np.ndarray | None = None
        count = 0  # the cells an average divides by
        for off in itertools.product(*(range(f) for f in kernel)):
            steps = zip(pos, layer.strides, off, dilation, plans, strict=True)
            idx = tuple(o * s + t * d - p.before for o, s, t, d, p in steps)
            inside = all(0 <= i < n for i, n in zip(idx, spatial, strict=True))
            if inside:
                cell = xl[(b, *idx)]
                acc = cell.copy() if acc is None else np.maximum(acc, cell) if largest else acc + cell
            if counts_pad:  # PyTorch's count_include_pad: explicit padding counts, the overhang not
                count += all(
                    -p.before <= i < n + p.after for i, n, p in zip(idx, spatial, plans, strict=True)
                )
            else:
                count += inside
        if largest:
            # A dilated window may fall wholly in the padding: -inf, as PyTorch gives.
            y[(b, *pos)] = -np.inf if acc is None else acc
        else:
            y[(b, *pos)] = (np.float64(0.0) if acc is None else acc) / count  # 0/0: NaN, as before
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


#: The loop reference of each window kind (other kinds share the fast ``forward``).
_NAIVE: dict[type, Callable[[Any, Any, Weights, Context], np.ndarray]] = {
    Conv: _naive_conv,
    DepthwiseConv: _naive_depthwise,
    SeparableConv: _naive_separable,
    ConvTranspose: naive_transpose,
    MaxPool: _naive_pool,
    AvgPool: _naive_pool,
    ConvPool: _naive_convpool,
}
