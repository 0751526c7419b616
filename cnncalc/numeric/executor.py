"""Reference NumPy executor: real forward passes for every layer kind the core knows.

Only :mod:`cnncalc.numeric` imports numpy: this module, :mod:`.activations`, :mod:`.reference`
(the naive loop implementation) and :mod:`.verify`. Here is the fast path: conv windows via ``sliding_window_view``
and one GEMM per group, output rows tiled so the window matrix stays under a memory budget.

Output lengths come from the windows that actually fit the padded tensor (:func:`plan_axis`),
never from the core's length formulas, so comparing the two checks the formulas against real
tensors. Tensors carry a leading batch axis; window ops work internally in channels_last.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..enums import Convention, DataFormat, DepthOrder, Operator, PaddingMode
from ..formulas import effective_kernel, same_padding
from ..layers.applications import CustomScale, LayerScale
from ..layers.base import Context, Layer
from ..layers.conv import Conv, ConvTranspose, DepthwiseConv, SeparableConv, transposed_axes
from ..layers.core import (
    Activation,
    Arithmetic,
    Dense,
    Dropout,
    LeakyReLU,
    Operation,
    ReLU,
    Softmax,
    SpatialDropout,
)
from ..layers.merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from ..layers.nested import NestedModel
from ..layers.network3 import ConvPool, FullyConnected, SoftmaxLayer
from ..layers.normalization import BatchNorm, GroupNorm, InstanceNorm, LayerNorm
from ..layers.opaque import Opaque
from ..layers.pooling import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AdaptivePool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    GlobalPool,
    MaxPool,
    Pool,
)
from ..layers.preprocessing import Normalization, Rescaling
from ..layers.reshaping import (
    Cropping,
    Flatten,
    Permute,
    PixelShuffle,
    PixelUnshuffle,
    Reshape,
    Slice,
    UpSampling,
    ZeroPadding,
)
from .activations import activate, softmax

#: Bytes of one tile of the conv window matrix. Tiles this small stay in cache, so the im2col copy
#: and the GEMM run at close to GEMM speed (measured in benchmarks/executor.py); they also bound memory.
WINDOW_BUDGET = 4 * 2**20

Weights = dict[str, np.ndarray]


# ----------------------------------------------------------------------------- weights


def weight_shapes(layer: Layer, in_shape: tuple[int, ...], ctx: Context) -> dict[str, tuple[int, ...]]:
    """Shapes of a layer's weight arrays, in Keras's layout and naming (the kind says)."""
    return layer.weight_shapes(in_shape, ctx)


def init_weights(
    layer: Layer, in_shape: tuple[int, ...], ctx: Context, rng: np.random.Generator, dtype: Any
) -> Weights:
    """Random weights of the shapes :func:`weight_shapes` gives (variances kept positive)."""
    plan = _weight_plan(layer, in_shape, ctx)
    if plan is None:  # a whole model as a layer: each inner layer's own weights, inner/weight
        inner = layer.inner_summary(in_shape, ctx)
        assert inner is not None
        return {
            f"{row.name}/{name}": values
            for row in inner.layers
            for name, values in init_weights(row.layer, row.input_shape, ctx, rng, dtype).items()
        }
    draw = np.dtype(dtype).type
    # Drawn in the run's dtype and scaled in place: a float64 draw of VGG16's fc1 (103M
    # weights) would take 822 MB before any conversion.
    values = rng.standard_normal(plan.total, dtype=draw)
    weights = {}
    for name, shape, scale, start, stop in plan.arrays:
        array = values[start:stop].reshape(shape)
        if scale is not None:
            array *= scale  # a Python float: rounded to the array's dtype first
        weights[name] = array
    for name in plan.positive:  # variances stay positive
        weights[name] = (rng.random(weights[name].shape) + 0.5).astype(dtype)
    return weights


@dataclass(frozen=True, eq=False)
class WeightPlan:
    """What :func:`init_weights` draws for a layer on an input shape: every array's values in
    one draw, in order (a generator's stream runs on from one draw to the next, so this is the
    numbers one draw per array gives), cut into pieces: (name, shape, kernel scale or None,
    start, stop) per array; then the variances are drawn again, positive."""

    arrays: tuple[tuple[str, tuple[int, ...], float | None, int, int], ...]
    total: int
    positive: tuple[str, ...]


#: Weight plans by (layer identity, input shape, context identity); the layer and context are
#: kept in the value so their identities cannot be reused while the entry lives. A repeated
#: block's layer reuses its plan.
_WEIGHT_PLANS: dict[tuple[int, tuple[int, ...], int], tuple[Layer, Context, WeightPlan | None]] = {}
_WEIGHT_PLANS_KEPT = 256


def _weight_plan(layer: Layer, in_shape: tuple[int, ...], ctx: Context) -> WeightPlan | None:
    """What :func:`init_weights` draws for a layer (None for a whole model as a layer): the kind's
    weight shapes, and for a kernel its scale 1/sqrt(fan-in), as Glorot/He initializers do:
    values stay near 1 through deep stacks, so errors against the reference are readable
    numbers, not 1e18. Depends on the layer, the input shape and the context only."""
    key = (id(layer), tuple(in_shape), id(ctx))
    found = _WEIGHT_PLANS.get(key)
    if found is not None and found[0] is layer and found[1] is ctx:
        return found[2]
    plan: WeightPlan | None = None
    if layer.inner_summary(in_shape, ctx) is None:
        arrays, start = [], 0
        for name, shape in weight_shapes(layer, in_shape, ctx).items():
            scale = 1 / math.sqrt(fan_in(layer, shape)) if name.endswith("kernel") else None
            arrays.append((name, shape, scale, start, start + math.prod(shape)))
            start += math.prod(shape)
        positive = tuple(
            name for name in ("moving_variance", "variance") if any(a[0] == name for a in arrays)
        )
        plan = WeightPlan(tuple(arrays), start, positive)
    if len(_WEIGHT_PLANS) >= _WEIGHT_PLANS_KEPT:
        _WEIGHT_PLANS.clear()
    _WEIGHT_PLANS[key] = (layer, ctx, plan)
    return plan


def fan_in(layer: Layer, shape: tuple[int, ...]) -> int:
    """Inputs that meet one output through a kernel of this shape (Keras layouts; the kind says)."""
    return layer.fan_in(shape)


#: Weights that are statistics, not learned: PyTorch keeps them as buffers (BatchNorm's moving
#: mean and variance and its batch counter, an adapted Normalization's mean, variance and count).
STATISTICS = frozenset({"moving_mean", "moving_variance", "num_batches_tracked", "mean", "variance", "count"})


def count_weights(layer: Layer, weights: Weights, ctx: Context) -> tuple[int, int]:
    """(parameters, buffers) of real weight arrays, by each framework's own bookkeeping."""
    total = sum([values.size for values in weights.values()])
    if ctx.convention is not Convention.PYTORCH:
        return total, 0  # Keras counts every weight as a parameter
    stats = sum([values.size for key, values in weights.items() if key.rpartition("/")[2] in STATISTICS])
    return total - stats, stats


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
    if padding is PaddingMode.SAME:
        before, after = same_padding(n, f_eff, s)
    elif padding is PaddingMode.CAUSAL:
        before, after = f_eff - 1, 0
    elif padding is PaddingMode.VALID:
        before, after = 0, 0
    else:
        before, after = padding[axis]
    lp = n + before + after
    starts = 0
    # Ceil mode keeps a window that overhangs the padded input by less than a stride, even the
    # first (PyTorch: MaxPool2d(3, 3, ceil_mode=True) on 2x2 gives one output).
    if lp >= f_eff or (ceil_mode and f_eff - lp < s):
        starts = 1
        while (starts * s + f_eff <= lp) or (ceil_mode and (starts - 1) * s + f_eff < lp):
            starts += 1
        while ceil_mode and starts > 1 and (starts - 1) * s >= n + before:
            starts -= 1
    overhang = max(0, (starts - 1) * s + f_eff - lp) if starts else 0
    return AxisPlan(before, after, overhang, starts)


def _plans(
    layer: Any,
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil_mode: bool = False,
) -> list[AxisPlan]:
    return [
        plan_axis(n, effective_kernel(f, d), s, layer.padding, i, ceil_mode)
        for i, (n, f, d, s) in enumerate(zip(spatial, kernel, dilation, layer.strides, strict=True))
    ]


def _check_plans(plans: list[AxisPlan], what: str) -> None:
    if any(p.out <= 0 for p in plans):
        raise ValueError(f"{what} does not fit the (padded) input")


# ----------------------------------------------------------------------------- fast forward


def _conv(x: np.ndarray, w: Weights, layer: Conv, geometry: ConvGeometry) -> np.ndarray:
    """A conv on a channels_last batch: one GEMM per group and output tile (im2col)."""
    kernel = w["kernel"]
    groups, k = layer.groups, layer.filters
    cg, kg = kernel.shape[-2], k // groups
    out_sizes, taps, view = geometry.out_sizes, geometry.taps, geometry.view
    batch = x.shape[0]
    if view is not None:
        # One tile: the zero-padded copy and its window view made directly from the cached
        # geometry, as np.pad and sliding_window_view make them (same memory order, shape and
        # strides, so the same copy or view below and the same GEMM call).
        xp = np.zeros(view.padded, dtype=x.dtype, order=view.order)
        xp[view.interior] = x
        win = np.ndarray(view.shape, dtype=x.dtype, buffer=xp, strides=view.strides)
        if groups == 1 and kernel.dtype == x.dtype:
            # one GEMM whose product is the output: the values the copy into y below would hold
            cols = win.reshape(batch * math.prod(out_sizes), taps * cg)
            y = (cols @ kernel.reshape(taps * cg, k)).reshape(batch, *out_sizes, k)
            if "bias" in w:
                y += w["bias"]
            return y
        tiles = [(0, out_sizes[0], win)]
    else:
        xp = np.pad(x, [(0, 0), *((p.before, p.after) for p in geometry.plans), (0, 0)])
        rows = geometry.rows
        tiles = [
            (r0, r1, _conv_windows(xp, layer, geometry.f_eff, r0, [r1 - r0, *out_sizes[1:]]))
            for r0 in range(0, out_sizes[0], rows)
            for r1 in (min(out_sizes[0], r0 + rows),)
        ]
    y = np.empty((batch, *out_sizes, k), dtype=x.dtype)
    for r0, r1, win in tiles:
        n_rows = batch * (r1 - r0) * math.prod(out_sizes[1:])
        for g in range(groups):
            cols = win[..., g * cg : (g + 1) * cg].reshape(n_rows, taps * cg)
            wg = kernel[..., g * kg : (g + 1) * kg].reshape(taps * cg, kg)
            y[:, r0:r1, ..., g * kg : (g + 1) * kg] = (cols @ wg).reshape(batch, r1 - r0, *out_sizes[1:], kg)
    if "bias" in w:
        y += w["bias"]
    return y


def _conv_windows(xp: np.ndarray, layer: Conv, f_eff: list[int], r0: int, out_sizes: list[int]) -> np.ndarray:
    """The windows of output rows ``r0 ..`` (``out_sizes[0]`` of them) of a padded channels_last
    input: a view (B, *O, *F, C) over ``xp``, taps dilated, outputs strided."""
    s0, rank = layer.strides[0], layer.rank
    chunk = xp[:, r0 * s0 : (r0 + out_sizes[0] - 1) * s0 + f_eff[0]]
    win = sliding_window_view(chunk, f_eff, axis=tuple(range(1, rank + 1)))
    # win: (B, *O_all, C, *F_eff) -> stride the outputs, dilate the taps
    win = win[
        (
            slice(None),
            *(slice(None, None, s) for s in layer.strides),
            slice(None),
            *(slice(None, None, d) for d in layer.dilation_rate),
        )
    ]
    win = win[(slice(None), *(slice(0, o) for o in out_sizes))]
    # (B, *O, C, *F) -> (B, *O, *F, C): channels innermost, as they lie in memory, so the
    # im2col copy streams contiguous runs; the Keras kernel (*F, C/g, K) already matches.
    return np.moveaxis(win, rank + 1, -1)


@dataclass(frozen=True, eq=False)
class WindowView:
    """Where a one-tile conv's windows lie in its zero-padded input: the padded copy's shape and
    memory order (np.pad's: Fortran for an input that is Fortran- but not C-contiguous), the
    input's place in it, and the window view's shape and strides over it."""

    padded: tuple[int, ...]
    order: Literal["C", "F"]
    interior: tuple[slice, ...]
    shape: tuple[int, ...]
    strides: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class ConvGeometry:
    """A conv's windows on one input (shape, dtype, memory order): the axis plans (checked to
    fit), effective kernel, output sizes, output rows per tile (one tile's window matrix stays
    within WINDOW_BUDGET) and, when one tile holds every row, its :class:`WindowView`."""

    plans: tuple[AxisPlan, ...]
    f_eff: list[int]
    out_sizes: tuple[int, ...]
    taps: int
    rows: int
    view: WindowView | None


#: Conv geometries by (layer identity, input shape, dtype, order): a repeated block's layer
#: reuses its geometry. The layer is kept in the value, so its identity cannot be reused while
#: the entry lives.
_GEOMETRIES: dict[tuple[Any, ...], tuple[Layer, ConvGeometry]] = {}
_GEOMETRIES_KEPT = 256


def conv_geometry(layer: Conv, x: np.ndarray) -> ConvGeometry:
    """The :class:`ConvGeometry` of a conv on a channels_last batch like ``x``. Depends on the
    layer and x's shape, dtype and memory order only: worked out once per distinct tuple."""
    order: Literal["C", "F"] = "F" if x.flags.fnc else "C"
    key = (id(layer), x.shape, x.dtype, order)
    kept = _GEOMETRIES.get(key)
    if kept is not None and kept[0] is layer:
        return kept[1]
    plans = _plans(layer, x.shape[1:-1], layer.kernel_size, layer.dilation_rate)
    _check_plans(plans, "kernel")
    f_eff = [effective_kernel(f, d) for f, d in zip(layer.kernel_size, layer.dilation_rate, strict=True)]
    out_sizes = tuple(p.out for p in plans)
    taps = math.prod(layer.kernel_size)
    cg = x.shape[-1] // layer.groups
    row_bytes = x.shape[0] * math.prod(out_sizes[1:]) * cg * taps * x.itemsize
    rows = max(1, min(out_sizes[0], WINDOW_BUDGET // max(1, row_bytes)))
    view = _window_view(layer, x, order, plans, f_eff, out_sizes) if rows == out_sizes[0] else None
    found = ConvGeometry(tuple(plans), f_eff, out_sizes, taps, rows, view)
    if len(_GEOMETRIES) >= _GEOMETRIES_KEPT:
        _GEOMETRIES.clear()
    _GEOMETRIES[key] = (layer, found)
    return found


def _window_view(
    layer: Conv,
    x: np.ndarray,
    order: Literal["C", "F"],
    plans: list[AxisPlan],
    f_eff: list[int],
    out_sizes: tuple[int, ...],
) -> WindowView:
    """The :class:`WindowView` of a conv on ``x``'s shape: :func:`_conv_windows` -- the windows
    the tiled path takes -- run once over an empty padded array of that shape."""
    pads = [(0, 0), *((p.before, p.after) for p in plans), (0, 0)]
    padded = tuple(n + before + after for n, (before, after) in zip(x.shape, pads, strict=True))
    probe = np.empty(padded, dtype=x.dtype, order=order)
    win = _conv_windows(probe, layer, f_eff, 0, list(out_sizes))
    # every window starts at or after the first cell: the view begins at the copy's start
    assert win.__array_interface__["data"][0] == probe.__array_interface__["data"][0]
    interior = tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, pads, strict=True))
    return WindowView(padded, order, interior, win.shape, win.strides)


def _pool(x: np.ndarray, layer: Pool, plans: list[AxisPlan], include_pad: bool) -> np.ndarray:
    rank = layer.rank
    pads = [(0, 0), *((p.before, p.after + p.overhang) for p in plans), (0, 0)]
    axes = tuple(range(1, rank + 1))
    out_sizes = [p.out for p in plans]
    dilation = layer.window_dilation
    f_eff = [effective_kernel(k, d) for k, d in zip(layer.pool_size, dilation, strict=True)]

    def windows(a: np.ndarray) -> np.ndarray:
        win = sliding_window_view(a, f_eff, axis=axes)
        win = win[
            (
                slice(None),
                *(slice(None, None, s) for s in layer.strides),
                slice(None),
                *(slice(None, None, d) for d in dilation),
            )
        ]
        return win[(slice(None), *(slice(0, o) for o in out_sizes))]

    window_axes = tuple(range(-rank, 0))
    if layer.op == "max":
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


def conv_transpose_full(x: np.ndarray, kernel: np.ndarray, layer: ConvTranspose) -> np.ndarray:
    """Every input value scattered through every kernel tap: length (n - 1)*S + F_eff per axis.

    Channels last; ``kernel`` in Keras layout ``(*F, K/groups, C_in)``. One small GEMM per tap
    and group, added into a strided slice of the output.
    """
    groups = layer.groups
    batch, spatial, c_in = x.shape[0], x.shape[1:-1], x.shape[-1]
    kg, cg = layer.filters // groups, c_in // groups
    full = [
        (n - 1) * s + effective_kernel(f, d)
        for n, s, f, d in zip(spatial, layer.strides, layer.kernel_size, layer.dilation_rate, strict=True)
    ]
    y = np.zeros((batch, *full, layer.filters), dtype=x.dtype)
    for tap in np.ndindex(*layer.kernel_size):
        region = tuple(
            slice(t * d, t * d + (n - 1) * s + 1, s)
            for t, d, n, s in zip(tap, layer.dilation_rate, spatial, layer.strides, strict=True)
        )
        for g in range(groups):
            w = kernel[tap][:, g * cg : (g + 1) * cg]  # (kg, cg)
            y[(slice(None), *region, slice(g * kg, (g + 1) * kg))] += x[..., g * cg : (g + 1) * cg] @ w.T
    return y


def crop_transposed(y: np.ndarray, axes: tuple[Any, ...]) -> np.ndarray:
    """Cut ``crop`` cells from the start of each axis and keep ``out`` (zeros past the scatter)."""
    for i, a in enumerate(axes, start=1):
        have = y.shape[i] - a.crop
        if have < a.out:
            pad = [(0, 0)] * y.ndim
            pad[i] = (0, a.out - have)
            y = np.pad(y, pad)
        y = np.take(y, range(a.crop, a.crop + a.out), axis=i)
    return y


def include_pad(layer: Pool, ctx: Context) -> bool:
    """count_include_pad as set, else the convention's default (Keras excludes, PyTorch includes)."""
    return layer.includes_padding(ctx)


def _batchnorm(x: np.ndarray, w: Weights, layer: BatchNorm, ctx: Context) -> np.ndarray:
    axis = layer.feature_axis(x.shape[1:], ctx) + 1
    # a vector on the last axis broadcasts as it is; on another axis it needs size-1 axes
    shape = None if axis == x.ndim - 1 else [x.shape[axis] if i == axis else 1 for i in range(x.ndim)]
    mean = _on_axis(w.get("moving_mean"), 0, shape, x.dtype)
    variance = _on_axis(w.get("moving_variance"), 1, shape, x.dtype)
    norm = (x - mean) / np.sqrt(variance + layer.epsilon)
    gamma, beta = _on_axis(w.get("gamma"), 1, shape, x.dtype), _on_axis(w.get("beta"), 0, shape, x.dtype)
    return (norm * gamma + beta).astype(x.dtype, copy=False)


def _on_axis(values: np.ndarray | None, default: float, shape: list[int] | None, dtype: Any) -> np.ndarray:
    """A per-channel vector shaped to broadcast on its axis (``shape``; None: the last axis, as it
    is), or the default when the layer has none."""
    if values is None:
        return np.asarray(default, dtype=dtype)
    return values if shape is None else values.reshape(shape)


def _layernorm(x: np.ndarray, w: Weights, layer: LayerNorm) -> np.ndarray:
    axes = tuple(i + 1 for i in layer.normalized_axes(x.shape[1:]))
    if layer.rms_scaling:  # Keras: x / sqrt(mean(x^2) + eps) * gamma
        y = x / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + layer.epsilon)
    else:
        y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + layer.epsilon)
    shape = [1] + [x.shape[i] if i in axes else 1 for i in range(1, x.ndim)]
    if "gamma" in w:
        y = y * w["gamma"].reshape(shape)
    if "beta" in w:
        y = y + w["beta"].reshape(shape)
    return y.astype(x.dtype)


def _affine(y: np.ndarray, w: Weights, axis: int) -> np.ndarray:
    """``y * gamma + beta`` with per-channel vectors on ``axis`` (each only when present)."""
    shape = [1] * y.ndim
    shape[axis] = y.shape[axis]
    if "gamma" in w:
        y = y * w["gamma"].reshape(shape)
    if "beta" in w:
        y = y + w["beta"].reshape(shape)
    return y


def _groupnorm(x: np.ndarray, w: Weights, layer: GroupNorm, ctx: Context) -> np.ndarray:
    """Each sample's G channel groups normalized over (their channels, every position): Keras's
    GroupNormalization and PyTorch's GroupNorm (population variance, eps inside the root)."""
    axis = layer.feature_axis(x.shape[1:], ctx) + 1
    last = np.moveaxis(x, axis, -1)
    c = last.shape[-1]
    g = layer.group_count(c)
    grouped = last.reshape(x.shape[0], -1, g, c // g)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    var = grouped.var(axis=(1, 3), keepdims=True)
    y = np.moveaxis(((grouped - mean) / np.sqrt(var + layer.epsilon)).reshape(last.shape), -1, axis)
    return _affine(y, w, axis).astype(x.dtype)


def _instancenorm(x: np.ndarray, w: Weights, layer: InstanceNorm, ctx: Context) -> np.ndarray:
    """Each sample's channels normalized over their positions (PyTorch InstanceNorm, eval mode:
    the running statistics when it tracks them)."""
    axis = layer.feature_axis(x.shape[1:], ctx) + 1
    if "moving_mean" in w:
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        mean, var = w["moving_mean"].reshape(shape), w["moving_variance"].reshape(shape)
    else:
        spatial = tuple(i for i in range(1, x.ndim) if i != axis)
        mean, var = x.mean(axis=spatial, keepdims=True), x.var(axis=spatial, keepdims=True)
    return _affine((x - mean) / np.sqrt(var + layer.epsilon), w, axis).astype(x.dtype)


def _pixel_shuffle(layer: PixelShuffle, x: np.ndarray, ctx: Context) -> np.ndarray:
    """Channels to r x r blocks, in the layer's channel order: crd reads channel c*r*r + i*r + j
    (PyTorch), dcr (i*r + j)*C + c (TensorFlow, ONNX's default)."""
    fmt = layer.layout(ctx)
    t = _to_last(x, fmt)
    n, h, wd, c = t.shape
    r = layer.upscale_factor
    k = c // (r * r)
    if layer.mode is DepthOrder.CRD:
        out = t.reshape(n, h, wd, k, r, r).transpose(0, 1, 4, 2, 5, 3)
    else:
        out = t.reshape(n, h, wd, r, r, k).transpose(0, 1, 3, 2, 4, 5)
    return _from_last(np.ascontiguousarray(out.reshape(n, h * r, wd * r, k)), fmt)


def _pixel_unshuffle(layer: PixelUnshuffle, x: np.ndarray, ctx: Context) -> np.ndarray:
    """r x r blocks to channels: the inverse of :func:`_pixel_shuffle` in the same order."""
    fmt = layer.layout(ctx)
    t = _to_last(x, fmt)
    n, h, wd, c = t.shape
    r = layer.downscale_factor
    blocks = t.reshape(n, h // r, r, wd // r, r, c)
    order = (0, 1, 3, 5, 2, 4) if layer.mode is DepthOrder.CRD else (0, 1, 3, 2, 4, 5)
    return _from_last(
        np.ascontiguousarray(blocks.transpose(order).reshape(n, h // r, wd // r, c * r * r)), fmt
    )


def _normalization(x: np.ndarray, w: Weights, layer: Normalization) -> np.ndarray:
    """(x - mean)/sqrt(variance) (x*sqrt(variance) + mean with ``invert``), the statistics
    broadcast over the reduced axes as Keras does (given ones aligned to the kept axes on the right)."""
    kept = [i + 1 for i in layer.kept(x.shape[1:])]
    shape = [x.shape[i] if i in kept else 1 for i in range(x.ndim)]
    if layer.mean is None:
        mean, variance = w["mean"].reshape(shape), w["variance"].reshape(shape)
    else:
        given = [np.asarray(layer.mean, dtype=x.dtype), np.asarray(layer.variance, dtype=x.dtype)]
        expanded = []
        for value in given:
            target = [1] * x.ndim
            for i in range(1, value.ndim + 1):
                target[kept[-i]] = value.shape[-i]
            expanded.append(value.reshape(target))
        mean, variance = expanded
    root = np.maximum(np.sqrt(variance), 1e-7)  # Keras: maximum(sqrt(variance), epsilon())
    y = x * root + mean if layer.invert else (x - mean) / root
    return y.astype(x.dtype)


def _operation(x: np.ndarray, layer: Operation) -> np.ndarray:
    """The keras.ops call between the tensor and the constant, in the order it was written."""
    run = {
        Operator.ADD: np.add,
        Operator.SUBTRACT: np.subtract,
        Operator.MULTIPLY: np.multiply,
        Operator.DIVIDE: np.divide,
        Operator.POWER: np.power,
        Operator.MAXIMUM: np.maximum,
        Operator.MINIMUM: np.minimum,
    }[layer.op]
    c = x.dtype.type(layer.operand)
    return np.asarray(run(c, x) if layer.operand_first else run(x, c)).astype(x.dtype)


def _nested(x: np.ndarray, w: Weights, layer: NestedModel, ctx: Context) -> np.ndarray:
    """The inner model run layer by layer, each with its own slice (``inner/weight``) of ``w``."""
    inner = layer.inner(x.shape[1:], ctx)

    def weights_of(row: Any, _: Any) -> Weights:
        prefix = f"{row.name}/"
        return {k[len(prefix) :]: v for k, v in w.items() if k.startswith(prefix)}

    return run_graph(inner, {inner.model_inputs[0][0]: x}, weights_of)


def keras_relu(x: np.ndarray, max_value: float | None, negative_slope: float, threshold: float) -> np.ndarray:
    """Keras's ReLU layer: x from the threshold up (capped at max_value), negative_slope*(x - threshold) below."""
    if negative_slope == 0 and threshold == 0:  # the plain ReLU (NaN stays NaN either way)
        y = np.maximum(x, 0)
    else:
        y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return np.minimum(y, max_value) if max_value is not None else y


def bilinear_2d(x: np.ndarray, size: tuple[int, ...]) -> np.ndarray:
    """Bilinear upsampling with half-pixel centres (TensorFlow's ``resize``, which Keras uses)."""
    for axis, scale in ((1, size[0]), (2, size[1])):
        n = x.shape[axis]
        src = np.clip((np.arange(n * scale) + 0.5) / scale - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        frac = (src - lo).reshape([-1 if i == axis else 1 for i in range(x.ndim)])
        x = np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac
    return x


# ----------------------------------------------------------------------------- forward, per kind


def _window_layer(
    layer: Any, x: np.ndarray, ctx: Context, body: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Run ``body`` on the channels_last view of ``x`` and return it in the layer's data format."""
    fmt = layer.layout(ctx)
    return _from_last(body(_to_last(x, fmt)), fmt)


def _conv_forward(layer: Conv, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt)
    y = _from_last(_conv(xl, w, layer, conv_geometry(layer, xl)), fmt)
    # The activation sees the tensor in the layer's own layout: softmax and glu act on its last axis.
    return activate(y, layer.activation)


def as_grouped_conv(
    layer: DepthwiseConv | SeparableConv, channels: int, w: Weights, *, only_depthwise: bool
) -> tuple[Conv, Weights]:
    """A depthwise conv is a grouped conv with groups = C_in; its Keras kernel (*F, C, dm) becomes
    (*F, 1, C*dm) with output channel c*dm + m, TensorFlow's order. ``only_depthwise``: the layer
    is the depthwise step alone (its activation and bias), not a separable conv's first step."""
    dm = layer.depth_multiplier
    kernel = w["depthwise_kernel"].reshape(*layer.kernel_size, 1, channels * dm)
    conv = _derived(
        layer,
        ("grouped", channels, only_depthwise),
        lambda: Conv(
            filters=channels * dm,
            kernel_size=layer.kernel_size,
            strides=layer.strides,
            padding=layer.padding,
            data_format=layer.data_format,
            dilation_rate=layer.dilation_rate,
            groups=channels,
            activation=layer.activation if only_depthwise else "linear",
            use_bias=layer.use_bias and only_depthwise,
            rank=layer.rank,
        ),
    )
    weights = {"kernel": kernel, **({"bias": w["bias"]} if only_depthwise and "bias" in w else {})}
    return conv, weights


#: The convs a depthwise or separable layer runs as, by (layer identity, role, ...): one object
#: per layer, so a repeated block's caches keyed by layer identity (window views, tap tables) hit.
_DERIVED: dict[tuple[Any, ...], tuple[Layer, Conv]] = {}
_DERIVED_KEPT = 256


def _derived(layer: Layer, role: tuple[Any, ...], make: Callable[[], Conv]) -> Conv:
    """The conv ``make`` builds for ``layer`` in ``role``, built once per layer object."""
    key = (id(layer), *role)
    kept = _DERIVED.get(key)
    if kept is not None and kept[0] is layer:
        return kept[1]
    conv = make()
    if len(_DERIVED) >= _DERIVED_KEPT:
        _DERIVED.clear()
    _DERIVED[key] = (layer, conv)
    return conv


def pointwise_conv(layer: SeparableConv, w: Weights) -> tuple[Conv, Weights]:
    """The 1x1 conv that follows a separable conv's depthwise step."""
    conv = _derived(
        layer,
        ("pointwise",),
        lambda: Conv(
            filters=layer.filters,
            kernel_size=1,
            data_format=layer.data_format,
            activation=layer.activation,
            use_bias=layer.use_bias,
            rank=layer.rank,
        ),
    )
    return conv, {"kernel": w["pointwise_kernel"], **({"bias": w["bias"]} if "bias" in w else {})}


def _channels(layer: Any, x: np.ndarray, ctx: Context) -> int:
    return x.shape[1] if layer.layout(ctx) is DataFormat.CHANNELS_FIRST else x.shape[-1]


def _depthwise_forward(layer: DepthwiseConv, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    conv, weights = as_grouped_conv(layer, _channels(layer, x, ctx), w, only_depthwise=True)
    return _conv_forward(conv, x, weights, ctx)


def _separable_forward(layer: SeparableConv, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    depthwise, dw = as_grouped_conv(layer, _channels(layer, x, ctx), w, only_depthwise=False)
    conv, pw = pointwise_conv(layer, w)
    return _conv_forward(conv, _conv_forward(depthwise, x, dw, ctx), pw, ctx)


def _transpose_forward(layer: ConvTranspose, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    def body(xl: np.ndarray) -> np.ndarray:
        # The output length is each framework's definition (kept in the core); the scatter is real.
        axes = transposed_axes(layer, xl.shape[1:-1], ctx)
        y = crop_transposed(conv_transpose_full(xl, w["kernel"], layer), axes)
        return y + w["bias"] if "bias" in w else y

    return activate(_window_layer(layer, x, ctx, body), layer.activation)


def _pool_forward(layer: Pool, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    def body(xl: np.ndarray) -> np.ndarray:
        plans = _plans(layer, xl.shape[1:-1], layer.pool_size, layer.window_dilation, layer.ceil_mode)
        _check_plans(plans, "pool window")
        if any(max(p.before, p.after) >= k for p, k in zip(plans, layer.pool_size, strict=True)):
            raise ValueError("a pool window would see only padding")
        inc = include_pad(layer, ctx) if layer.op == "avg" else False
        return _pool(xl, layer, plans, inc).astype(x.dtype)

    return _window_layer(layer, x, ctx, body)


def _global_pool_forward(layer: GlobalPool, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    def body(xl: np.ndarray) -> np.ndarray:
        axes = tuple(range(1, xl.ndim - 1))
        reduce = np.max if layer.op == "max" else np.mean
        return reduce(xl, axis=axes, keepdims=True)

    y = _window_layer(layer, x, ctx, body)
    return y if layer.keepdims else y.reshape(y.shape[0], -1)


def _zero_padding_forward(layer: ZeroPadding, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    return _window_layer(layer, x, ctx, lambda xl: np.pad(xl, [(0, 0), *layer.padding, (0, 0)]))


def _cropping_forward(layer: Cropping, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    def body(xl: np.ndarray) -> np.ndarray:
        index = tuple(slice(b, n - a) for (b, a), n in zip(layer.cropping, xl.shape[1:-1], strict=True))
        if any(s.start >= s.stop for s in index):
            raise ValueError("cropping leaves nothing")
        return xl[(slice(None), *index)]

    return _window_layer(layer, x, ctx, body)


def _upsampling_forward(layer: UpSampling, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    def body(xl: np.ndarray) -> np.ndarray:
        if layer.interpolation == "bilinear":
            return bilinear_2d(xl, layer.size).astype(x.dtype)
        for axis, size in enumerate(layer.size, start=1):
            xl = np.repeat(xl, size, axis=axis)
        return xl

    return _window_layer(layer, x, ctx, body)


def _adaptive_forward(layer: AdaptivePool, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    from ..geometry import adaptive_windows

    def body(xl: np.ndarray) -> np.ndarray:
        spatial = xl.shape[1:-1]
        out = [n if o is None else o for n, o in zip(spatial, layer.output_size, strict=True)]
        y = np.empty((xl.shape[0], *out, xl.shape[-1]), dtype=xl.dtype)
        reduce = np.max if layer.op == "max" else np.mean
        windows = [adaptive_windows(n, o) for n, o in zip(spatial, out, strict=True)]
        for index in np.ndindex(*out):
            region = tuple(slice(*windows[a][i]) for a, i in enumerate(index))
            y[(slice(None), *index)] = reduce(xl[(slice(None), *region)], axis=tuple(range(1, xl.ndim - 1)))
        return y

    return _window_layer(layer, x, ctx, body)


def _dense(x: np.ndarray, w: Weights, activation: str) -> np.ndarray:
    y = x @ w["kernel"]
    return activate(y + w["bias"] if "bias" in w else y, activation)


def _conv_pool_forward(layer: ConvPool, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    k, c, fh, fw = layer.filter_shape
    conv = Conv(filters=k, kernel_size=(fh, fw), use_bias=False, rank=2)
    pool = MaxPool(pool_size=layer.poolsize, rank=2)  # valid: ignore_border=True
    y = _pool_forward(pool, _conv_forward(conv, x, {"kernel": w["kernel"]}, ctx), {}, ctx)
    return activate(y + w["bias"].reshape(1, k, 1, 1), layer.activation_fn)  # bias after pooling


def _slicer(layer: Slice, x: np.ndarray) -> tuple[slice, ...]:
    index = layer.axis if layer.axis > 0 else x.ndim + layer.axis
    return (*(slice(None),) * index, slice(layer.start, layer.stop, layer.step))


def _arithmetic(layer: Arithmetic, x: np.ndarray, w: Weights) -> np.ndarray:
    operand = w["operand"] if layer.learned else np.full(layer.operand_shape, layer.value, dtype=x.dtype)
    a, b = (operand, x) if layer.reverse else (x, operand)
    ufunc = {
        "add": np.add,
        "subtract": np.subtract,
        "multiply": np.multiply,
        "divide": np.divide,
        "power": np.power,
        "maximum": np.maximum,
        "minimum": np.minimum,
    }
    return np.asarray(ufunc[layer.op.value](a, b), dtype=x.dtype)


_FORWARD: dict[type, Callable[[Any, np.ndarray, Weights, Context], np.ndarray]] = {
    Conv: _conv_forward,
    DepthwiseConv: _depthwise_forward,
    SeparableConv: _separable_forward,
    ConvTranspose: _transpose_forward,
    MaxPool: _pool_forward,
    AvgPool: _pool_forward,
    GlobalMaxPool: _global_pool_forward,
    GlobalAvgPool: _global_pool_forward,
    AdaptiveMaxPool: _adaptive_forward,
    AdaptiveAvgPool: _adaptive_forward,
    ZeroPadding: _zero_padding_forward,
    Cropping: _cropping_forward,
    UpSampling: _upsampling_forward,
    Flatten: lambda layer, x, w, ctx: x.reshape(x.shape[0], -1),
    Reshape: lambda layer, x, w, ctx: x.reshape(x.shape[0], *layer.target_shape),
    Permute: lambda layer, x, w, ctx: x.transpose(0, *layer.dims),
    Slice: lambda layer, x, w, ctx: x[_slicer(layer, x)],
    Arithmetic: lambda layer, x, w, ctx: _arithmetic(layer, x, w),
    Dense: lambda layer, x, w, ctx: _dense(x, w, layer.activation),
    Dropout: lambda layer, x, w, ctx: x,  # identity at inference
    SpatialDropout: lambda layer, x, w, ctx: x,
    Activation: lambda layer, x, w, ctx: activate(x, layer.activation),
    ReLU: lambda layer, x, w, ctx: keras_relu(x, layer.max_value, layer.negative_slope, layer.threshold),
    LeakyReLU: lambda layer, x, w, ctx: np.where(x > 0, x, layer.negative_slope * x),
    Softmax: lambda layer, x, w, ctx: softmax(x, layer.axis),
    BatchNorm: lambda layer, x, w, ctx: _batchnorm(x, w, layer, ctx),
    LayerNorm: lambda layer, x, w, ctx: _layernorm(x, w, layer),
    GroupNorm: lambda layer, x, w, ctx: _groupnorm(x, w, layer, ctx),
    InstanceNorm: lambda layer, x, w, ctx: _instancenorm(x, w, layer, ctx),
    PixelShuffle: lambda layer, x, w, ctx: _pixel_shuffle(layer, x, ctx),
    PixelUnshuffle: lambda layer, x, w, ctx: _pixel_unshuffle(layer, x, ctx),
    Rescaling: lambda layer, x, w, ctx: (x * np.asarray(layer.scale) + np.asarray(layer.offset)).astype(
        x.dtype
    ),
    Normalization: lambda layer, x, w, ctx: _normalization(x, w, layer),
    LayerScale: lambda layer, x, w, ctx: x * w["gamma"],
    Operation: lambda layer, x, w, ctx: _operation(x, layer),
    NestedModel: lambda layer, x, w, ctx: _nested(x, w, layer, ctx),
    ConvPool: _conv_pool_forward,
    FullyConnected: lambda layer, x, w, ctx: _dense(x.reshape(x.shape[0], -1), w, layer.activation_fn),
    SoftmaxLayer: lambda layer, x, w, ctx: _dense(x.reshape(x.shape[0], -1), w, "softmax"),
}


def aligned(xs: list[np.ndarray]) -> list[np.ndarray]:
    """Batches of different ranks made broadcastable as Keras's merges do: the lower-rank ones
    gain size-1 axes right after the batch axis (their own axes stay aligned on the right)."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[0], *([1] * (rank - x.ndim)), *x.shape[1:]) for x in xs]


def _concatenate_forward(layer: Concatenate, xs: list[np.ndarray], w: Weights, ctx: Context) -> np.ndarray:
    return np.concatenate(xs, axis=layer.concat_axis(xs[0].shape[1:], ctx) + 1)


def _reduced(reduce: np.ufunc, xs: list[np.ndarray]) -> np.ndarray:
    """The inputs combined pairwise (numpy broadcasts size-1 axes as Keras does)."""
    xs = aligned(xs)
    out = xs[0]
    for x in xs[1:]:
        out = reduce(out, x)
    return out


#: Elementwise merges, by kind: each reads a list of batches.
_MERGES: dict[type, Callable[[Any, list[np.ndarray], Weights, Context], np.ndarray]] = {
    Add: lambda layer, xs, w, ctx: _reduced(np.add, xs),
    Subtract: lambda layer, xs, w, ctx: _reduced(np.subtract, xs),
    Multiply: lambda layer, xs, w, ctx: _reduced(np.multiply, xs),
    Maximum: lambda layer, xs, w, ctx: _reduced(np.maximum, xs),
    Minimum: lambda layer, xs, w, ctx: _reduced(np.minimum, xs),
    Average: lambda layer, xs, w, ctx: _reduced(np.add, xs) / len(xs),
    Concatenate: _concatenate_forward,
}


def _custom_scale_forward(layer: CustomScale, xs: list[np.ndarray], w: Weights, ctx: Context) -> np.ndarray:
    shortcut, residual = aligned(xs)
    return (shortcut + residual * layer.scale).astype(xs[0].dtype)


class OpaqueRow(ValueError):
    """The executor cannot run an opaque row: cnncalc does not know what it computes."""


def refusal(layer: Layer) -> str | None:
    """Why the executor cannot run a layer (one line), or None when it can: an opaque row."""
    return layer.refusal()


def _opaque_forward(layer: Opaque, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    raise OpaqueRow(f"opaque row: {layer.refusal()}")


_FORWARD[Opaque] = _opaque_forward  # refuses in one line (verify asks `refusal` first)
_FORWARD[CustomScale] = _custom_scale_forward  # type: ignore[assignment]  # reads a list of batches
_FORWARD.update(_MERGES)  # type: ignore[arg-type]  # a merge reads a list of batches


def forward_for(kind: type) -> Callable[[Any, Any, Weights, Context], np.ndarray] | None:
    """The forward function of a kind's own class, or None (no fallback to a parent class: a new
    subclass needs a forward pass of its own)."""
    return _FORWARD.get(kind)


def forward(layer: Layer, x: Any, w: Weights, ctx: Context) -> np.ndarray:
    """The fast forward pass of one layer on a batch ``x`` (a list of batches for a merge)."""
    run = _FORWARD.get(type(layer))  # forward_for, one call fewer
    if run is None:
        raise TypeError(f"no executor for {type(layer).__name__}")
    return run(layer, x, w, ctx)


# ----------------------------------------------------------------------------- memory


def _pads(padding: Any, n: int, f_eff: int, s: int, axis: int) -> tuple[int, int]:
    """(before, after) zeros :func:`plan_axis` adds, without walking the windows."""
    if padding is PaddingMode.SAME:
        return same_padding(n, f_eff, s)
    if padding is PaddingMode.CAUSAL:
        return f_eff - 1, 0
    if padding is PaddingMode.VALID:
        return 0, 0
    before, after = padding[axis]
    return int(before), int(after)


def _padded_lengths(
    layer: Any, spatial: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...], ceil: bool
) -> list[int]:
    """Per axis, the padded length the window forward allocates (plus a stride of ceil overhang)."""
    lengths = []
    for i, (n, f, d, s) in enumerate(zip(spatial, kernel, dilation, layer.strides, strict=True)):
        f_eff = effective_kernel(f, d)
        before, after = _pads(layer.padding, n, f_eff, s, i)
        lengths.append(n + before + after + (s + f_eff if ceil else 0))
    return lengths


def _conv_scratch(layer: Conv, spatial: tuple[int, ...], c_in: int, out: tuple[int, ...], b: int) -> int:
    """Elements :func:`_conv` allocates besides its input and output: the padded copy, one tile
    of the window matrix (at least one output row, whatever WINDOW_BUDGET says) and its GEMM
    result."""
    padded = b * math.prod(_padded_lengths(layer, spatial, layer.kernel_size, layer.dilation_rate, False))
    row = b * math.prod(out[1:]) * (c_in // layer.groups) * math.prod(layer.kernel_size)
    return padded * c_in + 2 * max(row, min(row * out[0], WINDOW_BUDGET)) + b * math.prod(out) * layer.filters


def scratch_elements(
    layer: Layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    """Elements a layer's forward pass allocates beyond its input, its output and two output-sized
    temporaries (activation, bias): padded copies, window tiles, a transposed conv's full
    scatter, intermediate tensors. An upper bound used by verify's memory estimate (checked
    against tracemalloc in tests/test_robustness.py); float64 temporaries count twice. Each
    kind's own figure (:data:`_SCRATCH`); by default one contiguous copy of the input."""
    scratch = _SCRATCH.get(type(layer))
    if scratch is None:
        return b * math.prod(in_shape)  # a contiguous copy (reshape of a moved axis, stack)
    return scratch(layer, in_shape, out_shape, ctx, b)


def _window_geometry(
    layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context
) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """(input spatial sizes, input channels, output spatial sizes) of a window layer."""
    first = layer.layout(ctx) is DataFormat.CHANNELS_FIRST
    spatial = in_shape[1:] if first else in_shape[:-1]
    c_in = in_shape[0] if first else in_shape[-1]
    return spatial, c_in, out_shape[1:] if first else out_shape[:-1]


def _depthwise_step(layer: DepthwiseConv | SeparableConv, c_in: int) -> Conv:
    """The depthwise step as the grouped conv the executor runs."""
    return Conv(
        filters=c_in * layer.depth_multiplier,
        kernel_size=layer.kernel_size,
        strides=layer.strides,
        padding=layer.padding,
        dilation_rate=layer.dilation_rate,
        groups=c_in,
        rank=layer.rank,
    )


def _conv_scratch_of(
    layer: Conv, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    spatial, c_in, out_spatial = _window_geometry(layer, in_shape, out_shape, ctx)
    return _conv_scratch(layer, spatial, c_in, out_spatial, b)


def _depthwise_scratch(
    layer: DepthwiseConv, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    spatial, c_in, out_spatial = _window_geometry(layer, in_shape, out_shape, ctx)
    return _conv_scratch(_depthwise_step(layer, c_in), spatial, c_in, out_spatial, b)


def _separable_scratch(
    layer: SeparableConv, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    spatial, c_in, out_spatial = _window_geometry(layer, in_shape, out_shape, ctx)
    middle = b * math.prod(out_spatial) * c_in * layer.depth_multiplier
    pointwise = 2 * max(middle // out_spatial[0], min(middle, WINDOW_BUDGET)) + middle
    return _conv_scratch(_depthwise_step(layer, c_in), spatial, c_in, out_spatial, b) + 3 * middle + pointwise


def _transpose_scratch(
    layer: ConvTranspose, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    spatial, _, _ = _window_geometry(layer, in_shape, out_shape, ctx)
    full = (
        b
        * layer.filters
        * math.prod(
            (n - 1) * s + effective_kernel(f, d)
            for n, s, f, d in zip(spatial, layer.strides, layer.kernel_size, layer.dilation_rate, strict=True)
        )
    )
    # the scatter, one tap's GEMM result, and the crop's copies (each at most the larger one)
    return 2 * full + 3 * b * math.prod(out_shape) + b * math.prod(spatial) * layer.filters


def _pool_scratch(
    layer: Pool, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    spatial, c_in, out_spatial = _window_geometry(layer, in_shape, out_shape, ctx)
    padded = math.prod(
        _padded_lengths(layer, spatial, layer.pool_size, layer.window_dilation, layer.ceil_mode)
    )
    extra = b * padded * c_in
    if layer.op == "avg":  # the divisor: a padded mask of ones, and its window sums
        extra += 3 * padded + 2 * math.prod(out_spatial)
    return extra + b * math.prod(out_shape)


def _adaptive_scratch(
    layer: AdaptivePool, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    spatial, c_in, _ = _window_geometry(layer, in_shape, out_shape, ctx)
    return b * math.prod(spatial) * c_in  # one window's reduction, at most the whole input


def _upsampling_scratch(
    layer: UpSampling, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    if layer.interpolation == "bilinear":
        return 2 * 6 * b * math.prod(out_shape)  # float64 gathers and weights per axis
    return b * math.prod(in_shape)


def _convpool_scratch(
    layer: ConvPool, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context, b: int
) -> int:
    k, c, fh, fw = layer.filter_shape
    conv = Conv(filters=k, kernel_size=(fh, fw), use_bias=False, rank=2)
    h, w_ = in_shape[1] - fh + 1, in_shape[2] - fw + 1
    return _conv_scratch(conv, in_shape[1:], c, (h, w_), b) + 4 * b * k * h * w_


def _norm_scratch(copies: int) -> Callable[[Any, tuple[int, ...], tuple[int, ...], Context, int], int]:
    """Centred, squared, scaled, shifted copies of the input (and a grouped view's copies)."""
    return lambda layer, in_shape, out_shape, ctx, b: copies * b * math.prod(in_shape)


_Scratch = Callable[[Any, tuple[int, ...], tuple[int, ...], Context, int], int]
#: Each kind's scratch figure (absent: one contiguous copy of the input).
_SCRATCH: dict[type, _Scratch] = {
    Conv: _conv_scratch_of,
    DepthwiseConv: _depthwise_scratch,
    SeparableConv: _separable_scratch,
    ConvTranspose: _transpose_scratch,
    MaxPool: _pool_scratch,
    AvgPool: _pool_scratch,
    AdaptiveAvgPool: _adaptive_scratch,
    AdaptiveMaxPool: _adaptive_scratch,
    UpSampling: _upsampling_scratch,
    BatchNorm: _norm_scratch(4),
    LayerNorm: _norm_scratch(4),
    GroupNorm: _norm_scratch(6),
    InstanceNorm: _norm_scratch(6),
    ConvPool: _convpool_scratch,
}


def python_steps(layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context) -> int:
    """Python-level iterations of a layer's forward pass (numpy calls in a loop): an adaptive
    pool's windows, a transposed conv's taps and groups, a conv's tiles and groups."""
    steps = _PYTHON_STEPS.get(type(layer))
    return 0 if steps is None else steps(layer, in_shape, out_shape, ctx)


def _adaptive_steps(
    layer: AdaptivePool, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context
) -> int:
    return math.prod(_window_geometry(layer, in_shape, out_shape, ctx)[2])


def _depthwise_steps(layer: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...], ctx: Context) -> int:
    return _window_geometry(layer, in_shape, out_shape, ctx)[1]


#: Each kind's Python-level loop count (absent: none).
_PYTHON_STEPS: dict[type, Callable[[Any, tuple[int, ...], tuple[int, ...], Context], int]] = {
    AdaptiveAvgPool: _adaptive_steps,
    AdaptiveMaxPool: _adaptive_steps,
    ConvTranspose: lambda layer, in_shape, out_shape, ctx: math.prod(layer.kernel_size) * layer.groups,
    Conv: lambda layer, in_shape, out_shape, ctx: layer.groups,
    DepthwiseConv: _depthwise_steps,
    SeparableConv: _depthwise_steps,
}


# ----------------------------------------------------------------------------- graphs


def last_uses(summary: Any) -> dict[str, int]:
    """For each tensor name, the position of the last row that reads it (so it can be freed)."""
    last: dict[str, int] = {}
    for position, row in enumerate(summary.layers):
        for source in row.inputs:
            last[source] = position
    return last


def gather(tensors: dict[str, np.ndarray], row: Any) -> Any:
    """A row's input: one batch, or the list of batches a merge reads."""
    xs = [tensors[source] for source in row.inputs]
    return xs if row.layer.takes_many else xs[0]


def run_graph(
    summary: Any, inputs: dict[str, np.ndarray], make_weights: Callable[[Any, Any], Weights]
) -> np.ndarray:
    """Run every row in order, freeing tensors after their last reader; return the last output."""
    tensors = dict(inputs)
    last = last_uses(summary)
    y = next(iter(inputs.values()))
    for position, row in enumerate(summary.layers):
        x = gather(tensors, row)
        y = tensors[row.name] = forward(row.layer, x, make_weights(row, x), summary.context)
        for source in set(row.inputs):  # a layer may read one tensor twice (Multiply()([a, a]))
            if last.get(source) == position:
                del tensors[source]
    return y


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
        index: list[int | slice] = [i + 1, *([slice(None)] * len(shape))]
        index[spatial_axis] = i
        x[tuple(index)] += 100.0
    if len(summary.model_inputs) > 1:
        raise ValueError("the probe takes a model with one input")

    def positive(row: Any, x: Any) -> Weights:
        first = x[0] if isinstance(x, list) else x
        weights = {
            k: np.abs(v) + 0.1
            for k, v in init_weights(row.layer, first.shape[1:], ctx, rng, np.float64).items()
        }
        if "moving_mean" in weights:
            weights["moving_mean"] = np.zeros_like(weights["moving_mean"])
        return weights

    x = run_graph(summary, {summary.model_inputs[0][0]: x}, positive)
    out_axis = axis + (2 if channels_first else 1)
    picked = np.take(x, output_index, axis=out_axis).reshape(n + 1, -1)
    changed = np.flatnonzero(np.abs(picked[1:] - picked[0]).max(axis=1) > 1e-9 * np.abs(picked[0]).max())
    return (int(changed.min()), int(changed.max())) if changed.size else None
