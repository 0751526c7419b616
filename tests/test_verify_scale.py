"""verify at scale (issue 28): the conv reference (windows gathered by a tap table, one float64
matmul) is the loop over every position to float64 rounding, the executor's cached geometry gives
the sliding windows' bits, and a wrong executor or rule in a repeated block is still caught."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import cnncalc
from cnncalc.errors import CnncalcError
from cnncalc.layers.base import Context
from cnncalc.layers.conv import DepthwiseConv, SeparableConv
from cnncalc.numeric import executor as X
from cnncalc.numeric import reference as R
from cnncalc.numeric.executor import Weights, _check_plans, _from_last, _plans, _to_last, activate
from tests.test_executor import conv_or_pool


def loop_conv(layer: Any, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    """The conv reference as it was before issue 28's round 3: one output value at a time, every
    tap of every group a vector @ matrix product added to that value (the oracle here)."""
    fmt = layer.layout(ctx)
    xl = _to_last(x, fmt).astype(np.float64)
    batch, spatial, channels = xl.shape[0], xl.shape[1:-1], xl.shape[-1]
    kernel, dilation = layer.kernel_size, layer.dilation_rate
    plans = _plans(layer, spatial, kernel, dilation)
    _check_plans(plans, "window")
    y = np.zeros((batch, *(p.out for p in plans), layer.filters))
    for b, pos in itertools.product(range(batch), itertools.product(*(range(p.out) for p in plans))):
        taps = []
        for off in itertools.product(*(range(f) for f in kernel)):
            steps = zip(pos, layer.strides, off, dilation, plans, strict=True)
            idx = tuple(o * s + t * d - p.before for o, s, t, d, p in steps)
            inside = all(0 <= i < n for i, n in zip(idx, spatial, strict=True))
            taps.append((off, idx if inside else None))
        cg, kg = channels // layer.groups, layer.filters // layer.groups
        acc = np.array(w["bias"], dtype=np.float64) if "bias" in w else np.zeros(layer.filters)
        for g in range(layer.groups):
            for off, at in taps:
                if at is not None:
                    cells = (b, *at, slice(g * cg, (g + 1) * cg))
                    taps_w = (*off, slice(None), slice(g * kg, (g + 1) * kg))
                    acc[g * kg : (g + 1) * kg] += xl[cells] @ w["kernel"][taps_w]
        y[(b, *pos)] = acc
    return _from_last(activate(y, layer.activation), fmt)


def _case(text: str, shape: tuple[int, ...], fmt: str, convention: str, batch: int, seed: int) -> Any:
    summary = cnncalc.summarize([text], input_shape=shape, data_format=fmt, convention=convention)
    row = summary.layers[0]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *row.input_shape), dtype=np.float32)
    w = X.init_weights(row.layer, row.input_shape, summary.context, rng, np.float32)
    return row.layer, x, {k: v.astype(np.float64) for k, v in w.items()}, summary.context


def positive(w: Weights) -> Weights:
    return {k: np.abs(v) for k, v in w.items()}


def assert_rounding_apart(got: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> None:
    """Equal up to the order of each sum: a float64 sum of K terms is off by at most about
    K * 1.1e-16 times the sum of the terms' magnitudes (``bound``, the loop run on |x| and |w|);
    1e-12 of it leaves room for K in the thousands. A wrong cell, tap or weight is off by a
    term, about 1e-1 of it."""
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= 1e-12 * bound), np.abs(got - expected).max()


@settings(max_examples=200, deadline=None)
@given(conv_or_pool(), st.integers(1, 3), st.integers(0, 2**16))
def test_gathered_conv_reference_is_the_loop(case: Any, batch: int, seed: int) -> None:
    text, shape, fmt, convention = case
    assume(text.startswith("conv"))
    try:
        layer, x, w, ctx = _case(text, shape, fmt, convention, batch, seed)
    except CnncalcError:
        assume(False)
    try:
        expected = loop_conv(layer, x, w, ctx)
    except ValueError:
        assume(False)
    got = R.naive_forward(layer, x, w, ctx)
    assert_rounding_apart(got, expected, loop_conv(layer, np.abs(x), positive(w), ctx))


def sliding_conv(x: np.ndarray, w: Weights, layer: Any, plans: list[Any]) -> np.ndarray:
    """The executor's conv as it was before issue 28's round 3 (np.pad and sliding_window_view on
    every call, tiled): the oracle of the one-tile path's bits."""
    rank = layer.rank
    kernel = w["kernel"]
    groups, k = layer.groups, layer.filters
    cg, kg = kernel.shape[-2], k // groups
    xp = np.pad(x, [(0, 0), *((p.before, p.after) for p in plans), (0, 0)])
    f_eff = [(f - 1) * d + 1 for f, d in zip(layer.kernel_size, layer.dilation_rate, strict=True)]
    out_sizes = [p.out for p in plans]
    batch = x.shape[0]
    y = np.empty((batch, *out_sizes, k), dtype=x.dtype)
    row_bytes = batch * math.prod(out_sizes[1:]) * cg * math.prod(layer.kernel_size) * x.itemsize
    rows = max(1, min(out_sizes[0], X.WINDOW_BUDGET // max(1, row_bytes)))
    s0 = layer.strides[0]
    for r0 in range(0, out_sizes[0], rows):
        r1 = min(out_sizes[0], r0 + rows)
        chunk = xp[:, r0 * s0 : (r1 - 1) * s0 + f_eff[0]]
        win = sliding_window_view(chunk, f_eff, axis=tuple(range(1, rank + 1)))
        win = win[
            (
                slice(None),
                *(slice(None, None, s) for s in layer.strides),
                slice(None),
                *(slice(None, None, d) for d in layer.dilation_rate),
            )
        ]
        win = win[(slice(None), *(slice(0, o) for o in [r1 - r0, *out_sizes[1:]]))]
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


@settings(max_examples=200, deadline=None)
@given(conv_or_pool(), st.integers(1, 3), st.integers(0, 2**16), st.booleans())
def test_cached_window_view_gives_the_sliding_windows_bits(
    case: Any, batch: int, seed: int, depthwise: bool
) -> None:
    """The executor's one-tile convs build their padded copy and window view from the layer's
    cached geometry; the output is np.pad + sliding_window_view's to the bit (the same copy or
    view, so the same matmul path), depthwise and channels_first (a moved axis) too."""
    text, shape, fmt, convention = case
    assume(text.startswith("conv"))
    if depthwise:  # one group per channel: (rows, taps) @ (taps, 1) matmuls over strided views
        channels = shape[-1] if fmt == "channels_last" else shape[0]
        kind, args = text.split(":")
        kept = [a for a in args.split(",")[1:] if not a.startswith("groups=")]
        text = f"{kind}:{','.join([str(channels), *kept, f'groups={channels}'])}"
    try:
        layer, x, _, ctx = _case(text, shape, fmt, convention, batch, seed)
        w = X.init_weights(layer, tuple(x.shape[1:]), ctx, np.random.default_rng(seed), np.float32)
        xl = X._to_last(x, layer.layout(ctx))
        plans = _plans(layer, xl.shape[1:-1], layer.kernel_size, layer.dilation_rate)
        _check_plans(plans, "kernel")
    except (CnncalcError, ValueError):
        assume(False)
    for _ in range(2):  # the view made, then taken from the cache
        assert np.array_equal(
            X._conv(xl, w, layer, X.conv_geometry(layer, xl)), sliding_conv(xl, w, layer, plans)
        ), text


@pytest.mark.parametrize(
    ("layers", "shape"),
    [
        (["conv:64,3,padding=same", "conv:17,1", "conv:8,3,2"], (6, 6, 40)),
        (["dwconv:3", "sepconv:8,3,padding=same", "dwconv:3,depth_multiplier=2"], (7, 7, 3)),
        (["conv:4,3"] * 3, (9, 9, 4)),  # one layer object on 9x9, 7x7, 5x5: three tables
    ],
)
def test_wide_and_depthwise_references_are_the_loop(layers: list[str], shape: tuple[int, ...]) -> None:
    summary = cnncalc.summarize(layers, input_shape=shape)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, *shape), dtype=np.float32)
    ctx = summary.context
    for row in summary.layers:
        w = X.init_weights(row.layer, row.input_shape, ctx, rng, np.float64)
        got = R.naive_forward(row.layer, x, w, ctx)
        layer = row.layer
        channels = x.shape[-1]
        expected, bound = (
            _loop(layer, channels, v, weights, ctx) for v, weights in [(x, w), (np.abs(x), positive(w))]
        )
        assert_rounding_apart(got, expected, bound)
        x = X.forward(layer, x, {k: v.astype(np.float32) for k, v in w.items()}, ctx)


def _loop(layer: Any, channels: int, x: np.ndarray, w: Weights, ctx: Context) -> np.ndarray:
    """The loop oracle of a conv, depthwise or separable layer (the grouped and pointwise convs
    the reference runs them as)."""
    if isinstance(layer, SeparableConv):
        depthwise, dw = X.as_grouped_conv(layer, channels, w, only_depthwise=False)
        pointwise, pw = X.pointwise_conv(layer, w)
        return loop_conv(pointwise, loop_conv(depthwise, x, dw, ctx), pw, ctx)
    if isinstance(layer, DepthwiseConv):
        depthwise, dw = X.as_grouped_conv(layer, channels, w, only_depthwise=True)
        return loop_conv(depthwise, x, dw, ctx)
    return loop_conv(layer, x, w, ctx)


BLOCKS = ["conv:8,3,padding=same", "bn", "relu"] * 4  # one conv, one bn, one relu object, 4 times


def _report(**kw: Any) -> Any:
    from cnncalc.numeric.verify import verify

    return verify(cnncalc.summarize(BLOCKS, input_shape=(4, 4, 8)), **kw)


def test_a_repeated_block_is_compared_with_the_reference_at_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = cnncalc.summarize(BLOCKS, input_shape=(4, 4, 8))
    assert len({id(row.layer) for row in summary.layers}) == 3  # the block's layers are shared
    calls: list[int] = []
    naive = R.naive_forward
    monkeypatch.setattr(R, "naive_forward", lambda *a: calls.append(1) or naive(*a))
    report = _report()
    assert report.ok and len(calls) == len(BLOCKS)
    conv_errors = [row.max_abs_error for row in report.rows if row.type == "conv2d"]
    # each occurrence's error is its own (its own input and weights), never a copy of the first
    assert len(set(conv_errors)) == 4 and all(0 < e < 1e-5 for e in conv_errors)


def test_a_wrong_executor_in_the_third_occurrence_of_a_block_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cnncalc.layers.conv import Conv

    right = X._FORWARD[Conv]
    seen: list[int] = []

    def wrong(layer: Any, x: Any, w: Any, ctx: Any) -> Any:
        y = right(layer, x, w, ctx)
        seen.append(1)
        if len(seen) == 3:  # the same layer object, the same shapes: only this call is wrong
            y = y.copy()
            y[0, 1, 2, 3] += 0.01
        return y

    monkeypatch.setitem(X._FORWARD, Conv, wrong)
    report = _report()
    statuses = [(row.name, row.status.value, row.message) for row in report.rows]
    assert statuses[:6] == [(row.name, "ok", "") for row in report.rows[:6]]
    assert statuses[6] == ("conv2d_2", "mismatch", "values differ from the reference")
    assert 0.009 < report.rows[6].max_abs_error < 0.011  # the 0.01 put in, to float32 rounding
    assert all(status == "not run" for _, status, _ in statuses[7:])


def test_a_wrong_window_view_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The executor's cached geometry is checked too: a view one channel off (what a stale cache
    entry could do) makes the first conv differ from the loop reference."""
    real = X._window_view

    def shifted(*args: Any) -> Any:
        view = real(*args)
        interior = (*view.interior[:-1], slice(1, None))  # the input lands one channel over
        padded = (*view.padded[:-1], view.padded[-1] + 1)
        return dataclasses.replace(view, padded=padded, interior=interior)

    monkeypatch.setattr(X, "_window_view", shifted)
    monkeypatch.setattr(X, "_GEOMETRIES", {})  # no geometry an earlier test left
    report = _report()
    assert report.rows[0].status.value == "mismatch"
    assert report.rows[0].message == "values differ from the reference"


@pytest.mark.parametrize(
    ("field", "message"),
    [("trainable", "params: predicted 585, real 584"), ("shape", "shape: predicted 4x4x9, real 4x4x8")],
)
def test_a_wrong_rule_of_a_repeated_kind_is_caught(
    monkeypatch: pytest.MonkeyPatch, field: str, message: str
) -> None:
    from cnncalc.layers.conv import Conv

    right = Conv.compute

    def wrong(self: Any, shape: Any, ctx: Any) -> Any:
        out = right(self, shape, ctx)
        value = out.trainable + 1 if field == "trainable" else (*out.shape[:-1], out.shape[-1] + 1)
        return dataclasses.replace(out, **{field: value})

    monkeypatch.setattr(Conv, "compute", wrong)
    report = _report()
    assert (report.rows[0].status.value, report.rows[0].message) == ("mismatch", message)


def test_the_caches_change_no_bit_of_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables, tap lists and weight plans reused across a repeated block give the report computed
    with every cache emptied before each layer."""
    cached = _report(batch=2)
    run = X.forward

    def uncached(*args: Any) -> Any:
        X._GEOMETRIES.clear()
        X._DERIVED.clear()
        R._TAPS.clear()
        X._WEIGHT_PLANS.clear()
        return run(*args)

    monkeypatch.setattr(X, "forward", uncached)
    assert _report(batch=2).rows == cached.rows


@pytest.mark.parametrize("per_piece", [1, 2, 1000])
def test_json_in_pieces_is_the_whole_document(monkeypatch: pytest.MonkeyPatch, per_piece: int) -> None:
    """``verify --format json`` is written a layer at a time: the pieces join to json.dumps of
    the whole report, for a report that matched and for one that failed half way."""
    from cnncalc.layers.normalization import BatchNorm
    from cnncalc.render.documents import verify_json, verify_json_pieces

    good = _report()
    pieces = list(verify_json_pieces(good, per_piece))
    assert "".join(pieces) == verify_json(good) and len(pieces) == 2 + -(-len(BLOCKS) // per_piece)
    monkeypatch.setitem(X._FORWARD, BatchNorm, lambda layer, x, w, ctx: x[..., :4])
    bad = _report()
    assert not bad.ok and bad.rows[1].message == "shape: predicted 4x4x8, real 4x4x4"
    assert "".join(verify_json_pieces(bad, per_piece)) == verify_json(bad)
