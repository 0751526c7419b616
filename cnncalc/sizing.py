"""Exact size arithmetic: which input sizes a wired network accepts, per spatial axis.

The machinery behind :mod:`cnncalc.solve` and the hints :mod:`cnncalc.engine` attaches to shape
errors (it imports neither). The idea. Along one spatial axis every layer maps its input length ``m`` to an output length by
a *quasi-affine* rule: there are integers ``s >= 1`` and ``t >= 0`` with
``out(m + s) == out(m) + t`` for every integer ``m`` (floor/ceil divisions by the stride have
``s = stride, t = 1``; transposed convs and upsampling ``s = 1, t = stride``; padding and
cropping ``s = t = 1``; PyTorch's ``ceil_mode`` correction is periodic in ``m`` with period
``s`` too). A composition of such rules is again quasi-affine in the network's input size ``n``:
``g(n + P) == g(n) + K`` for all ``n >= 1`` (:class:`SizeFn`), where the period ``P`` grows by
``s / gcd(K, s)`` through each division and never through a multiplication. So one table of
``P`` values describes ``g`` for every ``n`` exactly.

Every validity condition is then ``lo <= h(n) <= hi`` for such an ``h`` (a kernel needs
``g(n) + pad >= F_eff``; a merge needs ``g1(n) - g2(n) == 0``; a Flatten+Dense built for the
given input needs ``flat(n) == flat(n_given)``), and the set of ``n`` meeting it is, per residue
class of ``n`` modulo ``P``, an interval of the class (:class:`SizeSet`). Intersections stay in
that form, so the result is exact for every ``n``: described as ``n >= a and n % p in {r...}``
(plus finitely many exceptions) or a finite list. Nothing here evaluates the network at sample
sizes; tests do, to confirm.

Axes. Each spatial axis of each model input is solved on its own. Other axes stay symbolic where
they do not interact; where they do (Flatten, Reshape, Dense, network3's fully connected layers
multiply axes together) they are held at their given sizes. Conditions that do not depend on the
solved axis at all (channel counts, groups, a broken other axis) are left to the caller, which
summarizes once at a solved size to see them.

Only :mod:`cnncalc.formulas` computes lengths here, the same functions the layers use.
Standard library only.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import formulas as F
from .errors import CnncalcError, Option, Part, describe_layer
from .geometry import Shape, axis_names, keras_axis_index
from .layers.applications import CustomScale, LayerScale
from .layers.base import Context, Layer
from .layers.conv import Conv, ConvTranspose, DepthwiseConv, SeparableConv
from .layers.core import Arithmetic, Dense, Elementwise, Identity, SpatialDropout
from .layers.merging import Concatenate
from .layers.merging import Elementwise as ElementwiseMerge
from .layers.network3 import ConvPool, FlatDense
from .layers.normalization import BatchNorm, GroupNorm, InstanceNorm, LayerNorm
from .layers.opaque import Opaque
from .layers.pooling import AdaptivePool, GlobalPool, Pool
from .layers.preprocessing import Normalization, Rescaling, array_shape
from .layers.reshaping import (
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

#: Largest period a size pattern may have. Real networks stay far below (a U-Net of depth d has
#: 2**d); a product of many strides could exceed it, and then solving stops with a clear error.
MAX_PERIOD = 1 << 16

#: Finite sets (and a pattern's exceptions) are listed up to this many members.
MAX_LISTED = 10_000


class SolveError(CnncalcError):
    """A model the solver cannot describe exactly (a size pattern beyond :data:`MAX_PERIOD`, or
    a layer kind without a size rule)."""


class Unsolvable(Exception):
    """A condition that fails whatever the solved size is (wrong rank, settings a kind refuses);
    the caller's summarize says which."""


# ----------------------------------------------------------------------------- sizes as functions


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


@dataclass(frozen=True)
class SizeFn:
    """An integer function of the input size ``n >= 1`` with ``f(n + period) == f(n) + step``.

    ``base`` holds ``f(1), ..., f(period)``; the period is kept minimal.

    >>> SizeFn.identity().through(2, 1, lambda m: m // 2).base
    (0, 1)
    """

    period: int
    step: int
    base: tuple[int, ...]

    @classmethod
    def const(cls, value: int) -> SizeFn:
        """The constant function."""
        return cls(1, 0, (value,))

    @classmethod
    def identity(cls) -> SizeFn:
        """f(n) = n."""
        return cls(1, 1, (1,))

    def __call__(self, n: int) -> int:
        q, r = divmod(n - 1, self.period)
        return self.base[r] + q * self.step

    @property
    def is_const(self) -> bool:
        """True when ``f`` does not depend on ``n``."""
        return self.period == 1 and self.step == 0

    def over(self, period: int) -> SizeFn:
        """The same function tabulated over a multiple of its period."""
        if period == self.period:
            return self
        return SizeFn(
            period, self.step * (period // self.period), tuple(self(n) for n in range(1, period + 1))
        )

    def through(self, s: int, t: int, rule: Callable[[int], int]) -> SizeFn:
        """``rule(f(n))`` for a rule with ``rule(m + s) == rule(m) + t`` for every integer m."""
        period = self.period if self.step % s == 0 else self.period * s // math.gcd(self.step, s)
        _check_period(period)
        grown = self.step * (period // self.period)
        return _reduced(period, grown // s * t, tuple(rule(self(n)) for n in range(1, period + 1)))

    def __add__(self, other: SizeFn) -> SizeFn:
        period = math.lcm(self.period, other.period)
        _check_period(period)
        a, b = self.over(period), other.over(period)
        return _reduced(period, a.step + b.step, tuple(x + y for x, y in zip(a.base, b.base, strict=True)))

    def __sub__(self, other: SizeFn) -> SizeFn:
        return self + other.scaled(-1)

    def scaled(self, factor: int) -> SizeFn:
        """``factor * f``."""
        return _reduced(self.period, self.step * factor, tuple(v * factor for v in self.base))


def _check_period(period: int) -> None:
    if period > MAX_PERIOD:
        raise SolveError(
            f"the size pattern repeats only every {period:,} sizes, more than the {MAX_PERIOD:,} "
            "solve handles (a product of many strides)"
        )


def _reduced(period: int, step: int, base: tuple[int, ...]) -> SizeFn:
    for d in _divisors(period)[:-1]:
        if (step * d) % period:
            continue
        k = step * d // period
        if all(base[i + d] == base[i] + k for i in range(period - d)):
            return SizeFn(d, k, base[:d])
    return SizeFn(period, step, base)


def _floor_div(m: int, by: int) -> int:
    return m // by


def _product(fns: Sequence[SizeFn]) -> SizeFn:
    """The product of sizes of which at most one depends on ``n`` (Flatten, Reshape, Dense)."""
    varying = [f for f in fns if not f.is_const]
    if len(varying) > 1:
        raise SolveError("two axes of one tensor both depend on the solved size; solve cannot multiply them")
    factor = math.prod(f.base[0] for f in fns if f.is_const)
    return varying[0].scaled(factor) if varying else SizeFn.const(factor)


# ----------------------------------------------------------------------------- sets of sizes

Interval = tuple[int, int | None]  # (first q, last q or None) of n = r + 1 + q*period


@dataclass(frozen=True)
class SizeSet:
    """A set of sizes ``n >= 1``: per residue class ``n = r + 1 + q*period`` (q >= 0), the q in an
    interval ``(lo, hi)`` (``hi`` None: unbounded), or no member (None); plus finitely many
    ``points`` outside those intervals."""

    period: int
    classes: tuple[Interval | None, ...]
    points: frozenset[int] = frozenset()

    @classmethod
    def every(cls) -> SizeSet:
        """All sizes n >= 1."""
        return cls(1, ((0, None),))

    @classmethod
    def nothing(cls) -> SizeSet:
        """The empty set."""
        return cls(1, (None,))

    @classmethod
    def where(cls, fn: SizeFn, lo: int | None = None, hi: int | None = None) -> SizeSet:
        """``{n : lo <= fn(n) <= hi}`` (a missing bound is no bound)."""
        return _reduced_set(fn.period, tuple(_q_range(b, fn.step, lo, hi) for b in fn.base))

    @classmethod
    def divisible(cls, fn: SizeFn, divisor: int) -> SizeSet:
        """``{n : fn(n) % divisor == 0}``."""
        period = fn.period * divisor // math.gcd(fn.step, divisor)
        _check_period(period)
        table = fn.over(period)
        return _reduced_set(period, tuple((0, None) if b % divisor == 0 else None for b in table.base))

    def over(self, period: int) -> SizeSet:
        """The same set described over a multiple of its period."""
        if period == self.period:
            return self
        k = period // self.period
        out: list[Interval | None] = []
        for r in range(period):
            c = self.classes[r % self.period]
            j = r // self.period  # n = r+1 + q*period  ->  q_old = j + q*k
            if c is None:
                out.append(None)
                continue
            lo = max(0, F.ceil_div(c[0] - j, k))
            hi = None if c[1] is None else (c[1] - j) // k
            out.append(None if hi is not None and hi < lo else (lo, hi))
        return SizeSet(period, tuple(out), self.points)

    def with_points(self, points: set[int] | frozenset[int]) -> SizeSet:
        """The set with ``points`` added."""
        base = SizeSet(self.period, self.classes)
        kept = frozenset(n for n in (*self.points, *points) if n >= 1 and n not in base)
        return SizeSet(self.period, self.classes, kept)

    def __and__(self, other: SizeSet) -> SizeSet:
        period = math.lcm(self.period, other.period)
        _check_period(period)
        a, b = self.over(period), other.over(period)
        out: list[Interval | None] = []
        for x, y in zip(a.classes, b.classes, strict=True):
            if x is None or y is None:
                out.append(None)
                continue
            lo = max(x[0], y[0])
            his = [h for h in (x[1], y[1]) if h is not None]
            hi = min(his) if his else None
            out.append(None if hi is not None and hi < lo else (lo, hi))
        base = _reduced_set(period, tuple(out))
        if not self.points and not other.points:
            return base
        shared = {n for n in self.points if n in other} | {n for n in other.points if n in self}
        return base.with_points(shared)

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < 1:
            return False
        q, r = divmod(n - 1, self.period)
        c = self.classes[r]
        return (c is not None and c[0] <= q and (c[1] is None or q <= c[1])) or n in self.points

    @property
    def empty(self) -> bool:
        """True when no size is in the set."""
        return all(c is None for c in self.classes) and not self.points

    @property
    def finite(self) -> bool:
        """True when the set has finitely many members."""
        return all(c is None or c[1] is not None for c in self.classes)

    def smallest(self) -> int | None:
        """The smallest member, None when empty."""
        firsts = [r + 1 + c[0] * self.period for r, c in enumerate(self.classes) if c is not None]
        firsts += self.points
        return min(firsts) if firsts else None

    def largest(self) -> int | None:
        """The largest member; None when empty or unbounded."""
        if self.empty or not self.finite:
            return None
        return max(
            [
                r + 1 + c[1] * self.period
                for r, c in enumerate(self.classes)
                if c is not None and c[1] is not None
            ]
            + list(self.points)
        )

    def below(self, n: int) -> int | None:
        """The largest member <= n, None if there is none."""
        best = None
        for r, c in enumerate(self.classes):
            if c is None:
                continue
            q = (n - 1 - r) // self.period
            if c[1] is not None:
                q = min(q, c[1])
            if q >= c[0]:
                best = max(best or 0, r + 1 + q * self.period)
        for m in self.points:
            if m <= n:
                best = max(best or 0, m)
        return best

    def above(self, n: int) -> int | None:
        """The smallest member >= n, None if there is none."""
        best = None
        for r, c in enumerate(self.classes):
            if c is None:
                continue
            q = max(c[0], F.ceil_div(n - 1 - r, self.period))
            if c[1] is not None and q > c[1]:
                continue
            m = r + 1 + q * self.period
            best = m if best is None else min(best, m)
        for m in self.points:
            if m >= n:
                best = m if best is None else min(best, m)
        return best

    def nearest(self, n: int) -> int | None:
        """The member nearest to n (the smaller one on a tie)."""
        lo, hi = self.below(n), self.above(n)
        if lo is None or hi is None:
            return hi if lo is None else lo
        return lo if n - lo <= hi - n else hi

    def members(self, limit: int | None = None) -> Iterator[int]:
        """Members in increasing order, up to ``limit`` (required for an unbounded set), at most
        :data:`MAX_LISTED` of them."""
        if limit is None and not self.finite:
            raise ValueError("an unbounded set needs a limit")
        found: list[int] = []
        for r, c in enumerate(self.classes):
            if c is None:
                continue
            bounds = [
                b for b in (c[1], None if limit is None else (limit - 1 - r) // self.period) if b is not None
            ]
            last = min(bounds)  # one of them is set: the set is finite or a limit is given
            found += range(r + 1 + c[0] * self.period, r + 2 + last * self.period, self.period)
            if len(found) > 4 * MAX_LISTED:
                break
        found += [m for m in self.points if limit is None or m <= limit]
        yield from sorted(found)[:MAX_LISTED]

    def pattern(self) -> Pattern:
        """The set as ``n >= start and n % modulus in residues``, plus the members below ``start``."""
        if self.empty:
            return Pattern(None, 1, (), ())
        if self.finite:
            return Pattern(None, 1, (), tuple(self.members()))
        rays = [r for r, c in enumerate(self.classes) if c is not None and c[1] is None]
        # From some size on, membership depends on n % period only (the ray classes); find the
        # smallest modulus that describes those classes.
        residues = {(r + 1) % self.period for r in rays}
        modulus = next(
            d for d in _divisors(self.period) if all(((x + d) % self.period in residues) for x in residues)
        )
        kept = tuple(sorted({x % modulus for x in residues}))
        # The description "n % modulus in kept" holds from `start` on: it fails just below each
        # ray's first member, and at every member of the other classes.
        breaks = [0]
        for r, c in enumerate(self.classes):
            if c is None:
                continue
            if c[1] is None:
                if c[0] > 0:
                    breaks.append(r + 1 + (c[0] - 1) * self.period)
            else:
                breaks.append(r + 1 + c[1] * self.period)
        breaks += self.points
        start = max(breaks) + 1
        first = self.above(start)
        assert first is not None
        exceptions = tuple(self.members(start - 1)) if start > 1 else ()
        return Pattern(first, modulus, kept, exceptions)

    def describe(self) -> str:
        """``n >= 16 and n % 16 == 0``, ``224 <= n <= 255``, ``n in {28}``, or ``no size``."""
        return self.pattern().text


def _q_range(b: int, k: int, lo: int | None, hi: int | None) -> Interval | None:
    """The q >= 0 with lo <= b + q*k <= hi."""
    if k == 0:
        ok = (lo is None or b >= lo) and (hi is None or b <= hi)
        return (0, None) if ok else None
    qlo, qhi = 0, None
    if lo is not None:
        if k > 0:
            qlo = max(qlo, F.ceil_div(lo - b, k))
        else:
            qhi = (b - lo) // -k
    if hi is not None:
        if k > 0:
            qhi = (hi - b) // k if qhi is None else min(qhi, (hi - b) // k)
        else:
            qlo = max(qlo, F.ceil_div(b - hi, -k))
    return None if qhi is not None and qhi < qlo else (qlo, qhi)


def _reduced_set(period: int, classes: tuple[Interval | None, ...]) -> SizeSet:
    whole = SizeSet(period, classes)
    for d in _divisors(period)[:-1]:
        k = period // d
        candidate: list[Interval | None] = []
        for r in range(d):
            parts = [(j, classes[r + j * d]) for j in range(k)]
            if all(c is None for _, c in parts):
                candidate.append(None)
                continue
            if any(c is None for _, c in parts):
                break
            lo = min(j + c[0] * k for j, c in parts)  # type: ignore[index]
            his = [j + c[1] * k for j, c in parts if c[1] is not None]  # type: ignore[index]
            hi = None if len(his) < k else max(his)
            candidate.append((lo, hi))
        else:
            small = SizeSet(d, tuple(candidate))
            if small.over(period) == whole:
                return small
    return whole


@dataclass(frozen=True)
class Pattern:
    """A set of sizes as ``n >= start and n % modulus in residues``, or ``n in exceptions`` below
    ``start`` (``start`` None: the set is exactly ``exceptions``, a finite list)."""

    start: int | None
    modulus: int
    residues: tuple[int, ...]
    exceptions: tuple[int, ...]

    @property
    def text(self) -> str:
        """Readable form, e.g. ``n >= 16 and n % 16 == 0``."""
        parts = []
        if self.start is not None:
            rule = f"n >= {self.start}"
            if self.modulus > 1:
                if len(self.residues) == 1:
                    rule += f" and n % {self.modulus} == {self.residues[0]}"
                else:
                    rule += f" and n % {self.modulus} in {{{', '.join(map(str, self.residues))}}}"
            parts.append(rule)
        if self.exceptions:
            parts.append(_listed(self.exceptions))
        return " or ".join(parts) if parts else "no size"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "from": self.start,
            "modulus": self.modulus,
            "residues": list(self.residues),
            "also": list(self.exceptions),
        }


def _listed(values: Sequence[int]) -> str:
    """``n in {3, 5}``, ``224 <= n <= 255`` or ``n in {3, 10..12}`` for sorted values."""
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    if len(runs) == 1 and runs[0][0] != runs[0][1]:
        return f"{runs[0][0]} <= n <= {runs[0][1]}"
    shown = [str(a) if a == b else f"{a}..{b}" for a, b in runs[:20]]
    if len(runs) > 20:
        shown.append("...")
    return f"n in {{{', '.join(shown)}}}"


# ----------------------------------------------------------------------------- layer rules

Dims = tuple[SizeFn, ...]


class _Pass:
    """One symbolic run of the model for one solved axis: sizes as :class:`SizeFn`, conditions
    collected into a :class:`SizeSet`."""

    def __init__(self, ctx: Context, features: dict[int, int] | None, wire: Wire | None = None) -> None:
        self.ctx = ctx
        #: Dense input features at the spec's own input, by layer index (None: Dense follows)
        self.features = features
        #: how an inner model's layers are named and ordered (the engine's wiring)
        self.wire = wire
        #: sizes where a broadcast made a merge valid although its inputs differ: checked
        #: concretely by the caller (finitely many, found symbolically)
        self.candidates: set[int] = set()
        self.index = 0
        self.valid = SizeSet.every()
        self.notes: list[str] = []
        self.where = ""
        #: (layer, condition, its set) for every condition that excludes some size
        self.limits: list[tuple[str, str, SizeSet]] = []

    @property
    def pytorch(self) -> bool:
        return self.ctx.convention == "pytorch"

    def need(self, fn: SizeFn, lo: int | None, hi: int | None, what: str) -> None:
        """The model is valid only where lo <= fn(n) <= hi."""
        if fn.is_const:
            return  # not about the solved axis: the final check sees it
        allowed = SizeSet.where(fn, lo, hi)
        self._add(allowed, what)

    def equal(self, a: SizeFn, b: SizeFn, what: str) -> None:
        """The model is valid only where a(n) == b(n) (sizes that never meet, such as n + 1 and
        n, rule out every size: that is about the solved axis too)."""
        if a.is_const and b.is_const:
            return  # not about the solved axis: the final check sees it
        self._add(SizeSet.where(a - b, 0, 0), what)

    def divisible(self, fn: SizeFn, divisor: int, what: str) -> None:
        if not fn.is_const:
            self._add(SizeSet.divisible(fn, divisor), what)

    def _add(self, allowed: SizeSet, what: str) -> None:
        if allowed != SizeSet.every():
            self.limits.append((self.where, what, allowed))
            self.valid = self.valid & allowed


def _layout(layer: Any, ctx: Any) -> str:
    own = getattr(layer, "data_format", None)
    return str(own if own is not None else ctx.data_format)


def _split(layer: Any, dims: Dims, ctx: Any, rank: int) -> tuple[list[SizeFn], SizeFn, bool]:
    """(spatial sizes, channels, channels_first) of a rank-``rank`` window layer's input."""
    if len(dims) != rank + 1:
        raise Unsolvable(f"expects a rank-{rank + 1} input, gets {len(dims)} axes")
    first = _layout(layer, ctx) == "channels_first"
    return (list(dims[1:]), dims[0], first) if first else (list(dims[:-1]), dims[-1], first)


def _join(spatial: Sequence[SizeFn], channels: SizeFn, first: bool) -> Dims:
    return (channels, *spatial) if first else (*spatial, channels)


def _axis(rank: int, i: int) -> str:
    return axis_names(rank)[i]


def _window_axis(
    p: _Pass, g: SizeFn, f: int, s: int, d: int, padding: Any, ceil_mode: bool, what: str
) -> SizeFn:
    """One axis through a conv/pool window, as :func:`cnncalc.conv.resolve_windows` computes it."""
    f_eff = F.effective_kernel(f, d)
    if padding == "same":
        return g.through(s, 1, lambda m: F.keras_same_length(m, s))
    if padding == "causal":
        before, after = F.causal_padding(f_eff)
        return g.through(s, 1, lambda m: F.padded_length(m, f_eff, s, before, after))
    before, after = (0, 0) if padding == "valid" else padding
    if padding == "valid" and not ceil_mode:
        out = g.through(s, 1, lambda m: F.keras_valid_length(m, f_eff, s))
    else:
        out = g.through(s, 1, lambda m: F.padded_length(m, f_eff, s, before, after, ceil_mode))
    shown = f"{what} {f_eff}" + (f" (dilated from {f})" if d > 1 else "")
    pad = f" with padding {before} + {after}" if before or after else ""
    if not ceil_mode:  # PyTorch's ceil_mode lets the last window overhang, as long as there is one
        p.need(g + SizeFn.const(before + after), f_eff, None, f"{shown} needs {f_eff} cells{pad}")
    p.need(out, 1, None, f"{shown} leaves no output")
    return out


def _windowed(
    p: _Pass,
    layer: Any,
    dims: Dims,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
    what: str,
) -> tuple[list[SizeFn], SizeFn, bool]:
    rank = layer.rank
    spatial, channels, first = _split(layer, dims, p.ctx, rank)
    if layer.padding == "same" and (ceil_mode or (p.pytorch and max(strides) > 1)):
        raise Unsolvable("padding='same' with these settings")
    out = []
    for i, g in enumerate(spatial):
        pad = layer.padding if isinstance(layer.padding, str) else layer.padding[i]
        out.append(_window_axis(p, g, kernel[i], strides[i], dilation[i], pad, ceil_mode, what))
    return out, channels, first


def _conv(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _windowed(
        p, layer, dims, layer.kernel_size, layer.strides, layer.dilation_rate, False, "kernel"
    )
    _declared(p, layer, "in_channels", channels)
    name = type(layer).__name__
    if name == "DepthwiseConv":
        channels = channels.scaled(layer.depth_multiplier)
    else:
        channels = SizeFn.const(layer.filters)
    return _join(spatial, channels, first)


def _pool(p: _Pass, layer: Any, dims: Dims) -> Dims:
    if layer.op == "avg" and layer.rank == 3 and p.pytorch:
        # PyTorch's AvgPool3d refuses an input smaller than the kernel, padding aside
        for g, k in zip(_split(layer, dims, p.ctx, 3)[0], layer.pool_size, strict=True):
            p.need(g, k, None, f"AvgPool3d needs {k} cells before padding")
    dilation = getattr(layer, "window_dilation", (1,) * layer.rank)
    spatial, channels, first = _windowed(
        p, layer, dims, layer.pool_size, layer.strides, dilation, layer.ceil_mode, "pool window"
    )
    return _join(spatial, channels, first)


def _transposed(p: _Pass, layer: Any, dims: Dims) -> Dims:
    rank = layer.rank
    spatial, channels, first = _split(layer, dims, p.ctx, rank)
    _declared(p, layer, "in_channels", channels)
    keras_rule = not p.pytorch and isinstance(layer.padding, str)
    if p.pytorch and layer.padding == "same":
        raise Unsolvable("PyTorch ConvTranspose has no padding='same'")
    out = []
    for i, g in enumerate(spatial):
        f, s, d = layer.kernel_size[i], layer.strides[i], layer.dilation_rate[i]
        op = None if layer.output_padding is None else layer.output_padding[i]
        f_eff = F.effective_kernel(f, d)
        if keras_rule:
            same = layer.padding == "same"
            rule = partial(F.keras_transposed_length, f_eff=f_eff, s=s, same=same, output_padding=op)
            h = g.through(1, s, rule)
        else:
            before, after = (0, 0) if layer.padding == "valid" else layer.padding[i]
            rule = partial(
                F.torch_transposed_length, f=f, s=s, d=d, before=before, after=after, output_padding=op or 0
            )
            h = g.through(1, s, rule)
        p.need(h, 1, None, "padding leaves no output")
        out.append(h)
    return _join(out, SizeFn.const(layer.filters), first)


def _zero_padding(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, layer.rank)
    out = [g + SizeFn.const(b + a) for g, (b, a) in zip(spatial, layer.padding, strict=True)]
    return _join(out, channels, first)


def _cropping(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, layer.rank)
    out = []
    for g, (b, a) in zip(spatial, layer.cropping, strict=True):
        p.need(g, b + a + 1, None, f"cropping {b} + {a} needs more than {b + a} cells")
        out.append(g + SizeFn.const(-b - a))
    return _join(out, channels, first)


def _upsampling(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, layer.rank)
    out = [g.scaled(k) for g, k in zip(spatial, layer.size, strict=True)]
    return _join(out, channels, first)


def _global_pool(p: _Pass, layer: Any, dims: Dims) -> Dims:
    _, channels, first = _split(layer, dims, p.ctx, layer.rank)
    if layer.keepdims:
        return _join([SizeFn.const(1)] * layer.rank, channels, first)
    return (channels,)


def _adaptive_pool(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, layer.rank)
    out = [g if o is None else SizeFn.const(o) for g, o in zip(spatial, layer.output_size, strict=True)]
    return _join(out, channels, first)


def _flatten(p: _Pass, layer: Any, dims: Dims) -> Dims:
    return (_product(dims),)


def _reshape(p: _Pass, layer: Any, dims: Dims) -> Dims:
    total = _product(dims)
    known = math.prod(v for v in layer.target_shape if v != -1)
    if -1 in layer.target_shape:
        p.divisible(total, known, f"reshape needs a multiple of {known:,} values")
        fill = total.through(known, 1, lambda m: m // known)
        return tuple(fill if v == -1 else SizeFn.const(v) for v in layer.target_shape)
    p.need(total, known, known, f"reshape needs exactly {known:,} values")
    return tuple(SizeFn.const(v) for v in layer.target_shape)


def _permute(p: _Pass, layer: Any, dims: Dims) -> Dims:
    if len(layer.dims) != len(dims):
        raise Unsolvable("permutation of the wrong rank")
    return tuple(dims[d - 1] for d in layer.dims)


def _declared(p: _Pass, layer: Any, name: str, size: SizeFn) -> None:
    """A size the layer declares (PyTorch's ``in_channels``, ``in_features``, ``num_features``)
    must be the incoming one."""
    value = getattr(layer, name, None)
    if value is not None:
        p.need(size, value, value, f"{name}={value:,} fixes it")


def _dense(p: _Pass, layer: Any, dims: Dims) -> Dims:
    features = dims[-1]
    _declared(p, layer, "in_features", features)
    if not features.is_const and p.features is not None and getattr(layer, "in_features", None) is None:
        built = p.features[p.index]
        p.need(
            features,
            built,
            built,
            f"built for {built:,} input features",
        )
    return (*dims[:-1], SizeFn.const(layer.units))


def _identity(p: _Pass, layer: Any, dims: Dims) -> Dims:
    return dims


def _batch_norm(p: _Pass, layer: Any, dims: Dims) -> Dims:
    _declared(p, layer, "num_features", dims[layer.feature_axis((1,) * len(dims), p.ctx)])
    return dims


def _group_norm(p: _Pass, layer: GroupNorm, dims: Dims) -> Dims:
    channels = dims[layer.feature_axis((1,) * len(dims), p.ctx)]
    _declared(p, layer, "num_channels", channels)
    if layer.groups != -1:
        p.divisible(
            channels, layer.groups, f"{layer.groups} groups need a multiple of {layer.groups} channels"
        )
    return dims


def _instance_norm(p: _Pass, layer: InstanceNorm, dims: Dims) -> Dims:
    _, channels, _ = _split(layer, dims, p.ctx, layer.rank)
    _declared(p, layer, "num_features", channels)
    return dims


def _pixel_shuffle(p: _Pass, layer: PixelShuffle, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, 2)
    rr = layer.upscale_factor**2
    p.divisible(channels, rr, f"pixel shuffle needs a multiple of {rr} channels")
    out = [g.scaled(layer.upscale_factor) for g in spatial]
    return _join(out, channels.through(rr, 1, partial(_floor_div, by=rr)), first)


def _pixel_unshuffle(p: _Pass, layer: PixelUnshuffle, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, 2)
    r = layer.downscale_factor
    for g in spatial:
        p.divisible(g, r, f"pixel unshuffle needs a multiple of {r}")
    out = [g.through(r, 1, partial(_floor_div, by=r)) for g in spatial]
    return _join(out, channels.scaled(r * r), first)


def _arithmetic(p: _Pass, layer: Any, dims: Dims) -> Dims:
    if len(layer.operand_shape) > len(dims):
        raise Unsolvable("the operand has more axes than the input")
    return _broadcast_dims(p, [dims, tuple(SizeFn.const(m) for m in layer.operand_shape)])


def _slice_length(m: int, start: int, stop: int | None, step: int) -> int:
    """Python's slice length on an axis of ``m`` cells, in its form for large ``m`` (negative
    bounds count from the end, nothing clipped): quasi-affine in ``m``."""
    first = start if start >= 0 else m + start
    last = m if stop is None else stop if stop >= 0 else m + stop
    return -((first - last) // step)  # ceil((last - first) / step)


def _slice(p: _Pass, layer: Any, dims: Dims) -> Dims:
    """``x[..., start:stop:step]`` on one axis. Once the axis is at least as long as every bound,
    the length is :func:`_slice_length` (quasi-affine); the finitely many shorter sizes are
    candidates the caller checks one by one."""
    index = keras_axis_index(layer.axis, (1,) * len(dims))
    g = dims[index]
    start, stop, step = layer.start, layer.stop, layer.step
    if g.is_const:
        size = len(range(g.base[0])[start:stop:step])
        return tuple(SizeFn.const(size) if i == index else d for i, d in enumerate(dims))
    reach = max(abs(start), abs(stop or 0))
    short = SizeSet.where(g, None, reach - 1) if reach else SizeSet.nothing()
    if not short.empty:
        if not short.finite:
            raise SolveError("a sliced axis is shorter than the slice's bounds for infinitely many sizes")
        p.candidates.update(short.members())
    p._add(SizeSet.where(g, reach, None), f"slice {start}:{stop}:{step} (the exact form from {reach} cells)")
    stop_sign = 0 if stop is None else stop
    moves = (stop is None or stop_sign < 0) - (start < 0)  # how the length moves as the axis grows
    out = g.through(step, moves, partial(_slice_length, start=start, stop=stop, step=step))
    p.need(out, 1, None, f"slice {start}:{stop}:{step} leaves nothing")
    return tuple(out if i == index else d for i, d in enumerate(dims))


def _spatial_identity(p: _Pass, layer: Any, dims: Dims) -> Dims:
    _split(layer, dims, p.ctx, layer.rank)
    return dims


def _convpool(p: _Pass, layer: Any, dims: Dims) -> Dims:
    if p.ctx.data_format != "channels_first" or len(dims) != 3:
        raise Unsolvable("ConvPoolLayer needs channels_first (maps, height, width)")
    k, _, fh, fw = layer.filter_shape
    out = []
    for i, (g, f, pool) in enumerate(zip(dims[1:], (fh, fw), layer.poolsize, strict=True)):
        if layer.image_shape is not None:
            fixed = layer.image_shape[2 + i]
            p.need(g, fixed, fixed, f"image_shape fixes the size at {fixed}")
        p.need(g, f, None, f"filter {f} needs {f} cells")
        conv = g + SizeFn.const(1 - f)  # valid, stride 1: n - F + 1
        p.need(conv, pool, None, f"pool {pool} needs {pool} cells after the convolution")
        out.append(conv.through(pool, 1, partial(_floor_div, by=pool)))
    return (SizeFn.const(k), *out)


def _fully_connected(p: _Pass, layer: Any, dims: Dims) -> Dims:
    p.need(_product(dims), layer.n_in, layer.n_in, f"n_in={layer.n_in:,} fixes the input values")
    return (SizeFn.const(layer.n_out),)


def _broadcast(p: _Pass, a: SizeFn, b: SizeFn) -> SizeFn:
    """One axis of Keras's broadcast (:func:`cnncalc.layers.merging.broadcast`): the sizes agree,
    or one is 1 and the other wins. Where they agree the result is ``a``, exactly; the sizes where
    only a 1 makes them fit are finitely many (a growing size is 1 for few inputs) and become
    candidates the caller checks one by one."""
    if a.is_const and a.base[0] == 1:
        return b
    if b.is_const and b.base[0] == 1:
        return a
    if a.is_const and b.is_const:
        return a  # not about the solved axis: the final check sees it
    equal = SizeSet.where(a - b, 0, 0)
    p.equal(a, b, "its inputs' sizes must match (or be 1)")
    for side in (a, b):
        ones = SizeSet.where(side, 1, 1)
        if ones.empty:
            continue
        if not ones.finite:
            raise SolveError("an input of a broadcasting merge is 1 for infinitely many sizes")
        p.candidates.update(n for n in ones.members() if n not in equal)
    return a


def _broadcast_dims(p: _Pass, many: Sequence[Dims]) -> Dims:
    """Shapes aligned on the right, each axis broadcast."""
    out = list(many[0])
    for other in many[1:]:
        longer, shorter = (out, list(other)) if len(out) >= len(other) else (list(other), out)
        head = longer[: len(longer) - len(shorter)]
        out = head + [_broadcast(p, x, y) for x, y in zip(longer[len(head) :], shorter, strict=True)]
    return tuple(out)


def _elementwise(p: _Pass, layer: Any, many: list[Dims]) -> Dims:
    return _broadcast_dims(p, many)


def _layer_scale(p: _Pass, layer: Any, dims: Dims) -> Dims:
    return _broadcast_dims(p, [dims, (SizeFn.const(layer.projection_dim),)])


def _fits(p: _Pass, constant: Sequence[int], dims: Sequence[SizeFn], name: str) -> None:
    """A constant of shape ``constant`` broadcasts onto ``dims`` unchanged: each of its sizes
    (aligned on the right) is 1 or the size it meets."""
    if len(constant) > len(dims):
        raise Unsolvable(f"{name} has more axes than the input")
    for c, d in zip(reversed(constant), reversed(dims), strict=False):
        if c != 1:
            p.need(d, c, c, f"{name} of size {c} needs that size")


def _rescaling(p: _Pass, layer: Any, dims: Dims) -> Dims:
    for name in ("scale", "offset"):
        _fits(p, array_shape(getattr(layer, name)), dims, name)
    return dims


def _normalization(p: _Pass, layer: Any, dims: Dims) -> Dims:
    kept = [dims[i] for i in layer.kept((1,) * len(dims))]
    for name in ("mean", "variance"):
        value = getattr(layer, name)
        if value is not None:
            _fits(p, array_shape(value), kept, name)
    return dims


def _nested(p: _Pass, layer: Any, dims: Dims) -> Dims:
    """The inner model's layers, run on the outer sizes."""
    if p.wire is None:
        raise SolveError("a nested model needs the engine's wiring")
    spec = layer.inner_spec()
    order, inputs = p.wire(spec, tuple(1 for _ in dims))
    if len(inputs) != 1:
        raise SolveError("a nested model with several inputs")
    outer, outer_index = p.where, p.index
    saved, p.features = p.features, None  # inner Dense layers follow their input
    try:
        out = _run(p, spec.layers, order, {inputs[0][0]: dims}, prefix=f"{outer} / ")
    finally:
        p.where, p.index, p.features = outer, outer_index, saved
    return out


def _concatenate(p: _Pass, layer: Any, many: list[Dims]) -> Dims:
    first = many[0]
    axis = layer.concat_axis((1,) * len(first), p.ctx)
    total = first[axis]
    for other in many[1:]:
        if len(other) != len(first):
            raise Unsolvable("inputs of different ranks")
        for i, (a, b) in enumerate(zip(first, other, strict=True)):
            if i != axis:
                p.equal(a, b, "its inputs' sizes must match")
        total = total + other[axis]
    return tuple(total if i == axis else d for i, d in enumerate(first))


def _opaque(p: _Pass, layer: Any, many: list[Dims]) -> Dims:
    """An opaque row has no size rule: its shapes were recorded for one input only."""
    raise SolveError(
        f"this opaque row ({layer.op}) decides the size: cnncalc only has its shapes recorded for one input"
    )


Rule = Callable[["_Pass", Any, Any], "Dims"]

#: The size rule of every layer kind, by class (the most derived match along the MRO wins).
RULES: dict[type, Rule] = {
    ConvTranspose: _transposed,
    Conv: _conv,
    DepthwiseConv: _conv,
    SeparableConv: _conv,
    Pool: _pool,
    GlobalPool: _global_pool,
    AdaptivePool: _adaptive_pool,
    ZeroPadding: _zero_padding,
    Cropping: _cropping,
    UpSampling: _upsampling,
    Flatten: _flatten,
    Reshape: _reshape,
    Permute: _permute,
    Dense: _dense,
    Identity: _identity,
    SpatialDropout: _spatial_identity,
    Elementwise: _identity,
    BatchNorm: _batch_norm,
    Arithmetic: _arithmetic,
    Slice: _slice,
    LayerNorm: _identity,
    GroupNorm: _group_norm,
    InstanceNorm: _instance_norm,
    PixelShuffle: _pixel_shuffle,
    PixelUnshuffle: _pixel_unshuffle,
    ElementwiseMerge: _elementwise,
    CustomScale: _elementwise,
    LayerScale: _layer_scale,
    Rescaling: _rescaling,
    Normalization: _normalization,
    Concatenate: _concatenate,
    ConvPool: _convpool,
    FlatDense: _fully_connected,
    Opaque: _opaque,
}


def has_rule(cls: type) -> bool:
    """True when layers of class ``cls`` have a size rule."""
    return any(c in RULES for c in cls.__mro__) or getattr(cls, "inner_spec", None) is not Layer.inner_spec


def rule_for(layer: Layer) -> Rule:
    """The size rule for a layer object; SolveError for a kind solve has no rule for."""
    for cls in type(layer).__mro__:
        if cls in RULES:
            return RULES[cls]
    # A model used as a layer (cnncalc.layers.nested, which imports the engine: known by its
    # inner spec rather than imported here).
    inner = getattr(layer, "inner_spec", None)
    if inner is not None and inner() is not None:
        return _nested
    raise SolveError(f"solve has no size rule for {type(layer).__name__} layers")


# ----------------------------------------------------------------------------- a wired graph


@dataclass(frozen=True)
class Limit:
    """One condition that excludes sizes: the layer, what it needs, and the sizes it allows."""

    layer: str
    condition: str
    allowed: SizeSet

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"layer": self.layer, "condition": self.condition, "allows": self.allowed.describe()}


@dataclass(frozen=True)
class AxisSizes:
    """The valid sizes of one spatial axis of one model input (other axes at their given sizes
    where the model couples them)."""

    input: str
    #: index of the axis in the input shape (no batch axis)
    index: int
    name: str
    given: int
    sizes: SizeSet
    #: the conditions that shape the set, in layer order (the binding ones of :meth:`binding`)
    limits: tuple[Limit, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def smallest(self) -> int | None:
        """The smallest valid size, None when none is."""
        return self.sizes.smallest()

    @property
    def pattern(self) -> Pattern:
        """The set as a pattern (see :class:`Pattern`)."""
        return self.sizes.pattern()

    @property
    def valid(self) -> bool:
        """True when the given size is valid."""
        return self.given in self.sizes

    def nearest(self, n: int | None = None) -> tuple[int | None, int | None]:
        """(largest valid <= n, smallest valid >= n) around n (default: the given size)."""
        n = self.given if n is None else n
        return self.sizes.below(n), self.sizes.above(n)

    def binding(self) -> list[Limit]:
        """The conditions that decide the set: each one that alone excludes a size all the others
        allow, and the first (in layer order) that excludes the size just below the smallest."""
        count = len(self.limits)
        before = [SizeSet.every()]  # before[i]: intersection of limits[:i]
        for limit in self.limits:
            before.append(before[-1] & limit.allowed)
        after = SizeSet.every()
        unique = [False] * count
        for i in range(count - 1, -1, -1):
            unique[i] = (before[i] & after) != self.sizes
            after = after & self.limits[i].allowed
        smallest = self.smallest
        if smallest is not None and smallest > 1:
            first = next((i for i, lim in enumerate(self.limits) if smallest - 1 not in lim.allowed), None)
            if first is not None:
                unique[first] = True
        return [limit for limit, keep in zip(self.limits, unique, strict=True) if keep]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        below, above = self.nearest()
        return {
            "input": self.input,
            "axis": self.name,
            "index": self.index,
            "given": self.given,
            "given_valid": self.valid,
            "sizes": self.sizes.describe(),
            "smallest": self.smallest,
            "largest": self.sizes.largest(),
            "pattern": self.pattern.to_dict(),
            "nearest": {"below": below, "above": above},
            "limits": [limit.to_dict() for limit in self.binding()],
            "notes": list(self.notes),
        }


def _spatial_indices(shape: tuple[int, ...], data_format: str) -> list[int]:
    if len(shape) < 2:
        return []
    return list(range(1, len(shape))) if data_format == "channels_first" else list(range(len(shape) - 1))


Order = Sequence[tuple[int, str, tuple[str, ...]]]
#: The engine's wiring of a spec: ([(index, name, sources)] in topological order, model inputs);
#: given a spec and an input shape (only its rank matters here).
Wire = Callable[[Any, Shape], tuple[Order, Sequence[tuple[str, Shape]]]]


def _run(p: _Pass, layers: Sequence[Any], order: Order, dims: dict[str, Dims], prefix: str = "") -> Dims:
    """Every layer of a wired graph through its size rule; the last layer's sizes."""
    out: Dims = ()
    for i, name, sources in order:
        ls = layers[i]
        p.index, p.where = i, prefix + describe_layer(i, ls.text)
        rule = rule_for(ls.layer)
        try:
            if getattr(ls.layer, "takes_many", False):
                if len(sources) < 2 and rule is not _opaque:  # an opaque row may read one input
                    raise Unsolvable("a merge needs at least two inputs")
                out = rule(p, ls.layer, [dims[s] for s in sources])
            else:
                if len(sources) != 1:
                    raise Unsolvable("takes one input")
                out = rule(p, ls.layer, dims[sources[0]])
        except SolveError as err:
            raise err.at(p.where) from None
        except CnncalcError as err:  # a layer's own check on an axis or argument: size-independent
            raise Unsolvable(str(err)) from None
        dims[name] = out
    return out


def _solve_axis(
    layers: Sequence[Any],
    order: Order,
    inputs: Sequence[tuple[str, Shape]],
    input_name: str,
    index: int,
    ctx: Context,
    features: dict[int, int] | None,
    wire: Wire | None,
) -> _Pass:
    """One symbolic pass with input ``input_name``'s axis ``index`` as the variable."""
    p = _Pass(ctx, features, wire)
    dims: dict[str, Dims] = {
        name: tuple(
            SizeFn.identity() if (name, i) == (input_name, index) else SizeFn.const(v)
            for i, v in enumerate(shape)
        )
        for name, shape in inputs
    }
    _run(p, layers, order, dims)
    return p


def solve_graph(
    layers: Sequence[Any],
    order: Order,
    inputs: Sequence[tuple[str, Shape]],
    ctx: Context,
    *,
    features: dict[int, int] | None = None,
    axes: Sequence[int] | None = None,
    wire: Wire | None = None,
    check: Callable[[dict[tuple[str, int], int]], bool] | None = None,
) -> list[AxisSizes]:
    """The valid sizes of every spatial axis of every input of a wired graph.

    ``layers`` are the spec's layer specs (``.layer``, ``.text``), ``order`` is (index, name,
    sources) in topological order, ``inputs`` the model inputs. ``features`` holds the input
    features each Dense layer is built for, by layer index (None: Dense follows the input).
    ``axes`` restricts which spatial axes (indices into the input shape) are solved. ``wire``
    wires nested models. ``check({(input, axis index): size, ...})`` says whether the model works
    with those sizes; it decides the finitely many sizes where only a broadcast 1 makes a merge
    fit (without it they are left out). Raises
    :class:`Unsolvable` when some condition fails whatever the size.
    """
    fmt = str(ctx.data_format)
    passes: list[tuple[str, int, str, int, _Pass]] = []
    for input_name, shape in inputs:
        spatial = _spatial_indices(shape, fmt)
        for position, index in enumerate(spatial):
            if axes is None or index in axes:
                p = _solve_axis(layers, order, inputs, input_name, index, ctx, features, wire)
                passes.append((input_name, index, _axis(len(spatial), position), shape[index], p))
    # The sizes found symbolically but decided one by one (a broadcast 1, a short slice): each
    # checked with the other axes at valid sizes (their given size when valid, else the nearest
    # valid one) or at one of their own such sizes.
    options: dict[tuple[str, int], list[int]] = {}
    for input_name, index, _, given, p in passes:
        near = given if given in p.valid else p.valid.nearest(given)
        options[(input_name, index)] = ([near] if near is not None else []) + sorted(p.candidates)[:8] or [
            given
        ]

    def works(key: tuple[str, int], n: int) -> bool:
        assert check is not None
        others = [[(k, v) for v in values] for k, values in options.items() if k != key]
        return any(
            check({**dict(combo), key: n}) for combo in itertools.islice(itertools.product(*others), 64)
        )

    results: list[AxisSizes] = []
    for input_name, index, name, given, p in passes:
        valid = p.valid
        if check is not None and p.candidates:
            extra = {n for n in p.candidates if n not in valid and works((input_name, index), n)}
            if extra:
                valid = valid.with_points(extra)
                p.notes.append(f"{_listed(sorted(extra))} work only because an input of size 1 broadcasts")
        results.append(
            AxisSizes(
                input_name,
                index,
                name if len(inputs) == 1 else f"{input_name} {name}",
                given,
                valid,
                tuple(Limit(w, c, s) for w, c, s in p.limits),
                tuple(p.notes),
            )
        )
    return results


# ----------------------------------------------------------------------------- hints


@dataclass(frozen=True)
class SamePadding:
    """What Keras's ``padding='same'`` does on one axis, and the PyTorch padding that matches it."""

    size: int
    kernel: int
    stride: int
    dilation: int
    #: Keras's output length, ceil(size / stride)
    output: int
    #: TensorFlow's split of the padding (an odd total puts the extra cell after)
    before: int
    after: int
    #: a symmetric PyTorch ``padding=p`` giving Keras's output length (TensorFlow's ``before`` or
    #: ``after`` when one does), None when none does (stride 1 with an even F_eff: the length
    #: moves by 2 per step of p); when ``before != after`` its windows sit a cell off Keras's
    length_padding: int | None

    @property
    def symmetric(self) -> int | None:
        """The PyTorch padding that is exactly Keras's (same cells, same windows), or None when
        Keras pads asymmetrically (then ``ZeroPad`` with (before, after) and padding 0 is exact)."""
        return self.before if self.before == self.after else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {**dataclasses.asdict(self), "symmetric": self.symmetric}


def same_padding_for_pytorch(
    sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int] | None = None
) -> tuple[SamePadding, ...]:
    """Per axis: Keras's ``'same'`` output length and padding split, and the PyTorch padding that
    reproduces it (PyTorch refuses ``padding='same'`` with stride > 1).

    >>> hint = same_padding_for_pytorch([224], [3], [2])[0]
    >>> hint.output, hint.before, hint.after, hint.symmetric, hint.length_padding
    (112, 0, 1, None, 1)
    """
    dilation = dilation or [1] * len(sizes)
    out = []
    for n, f, s, d in zip(sizes, kernel, stride, dilation, strict=True):
        f_eff = F.effective_kernel(f, d)
        target = F.keras_same_length(n, s)
        before, after = F.same_padding(n, f_eff, s)
        # padded_length grows by 2/S per step of p, from the valid length (<= target) at p = 0
        # to at least ceil(n/S) at p = F_eff - 1: with S >= 2 some p hits the target. The
        # smallest such p solves floor((n + 2p - F_eff)/S) + 1 >= target (no search over p).
        smallest = max(0, -(-((target - 1) * s + f_eff - n) // 2))
        tried = (before, after, *((smallest,) if smallest < f_eff else ()))
        length = next((q for q in tried if F.padded_length(n, f_eff, s, q, q) == target), None)
        out.append(SamePadding(n, f, s, d, target, before, after, length))
    return tuple(out)


def _names(axes: Sequence[AxisSizes]) -> str:
    return " and ".join(a.name for a in axes)


def _shape_text(shape: Shape) -> str:
    return "x".join(map(str, shape))


def size_hint(
    layers: Sequence[Any],
    order: Sequence[tuple[int, str, tuple[str, ...]]],
    inputs: Sequence[tuple[str, Shape]],
    ctx: Context,
    works: Callable[[Shape], bool],
    wire: Wire | None = None,
) -> tuple[Part, ...] | None:
    """For a model that fails at its given (single) input: the sizes that work, and the nearest
    input shapes that do (the smallest when the input is too small), each confirmed by ``works``."""
    if len(inputs) != 1:
        return None
    given_shape = inputs[0][1]

    def check(moved: dict[tuple[str, int], int]) -> bool:
        shape = list(given_shape)
        for (_, index), n in moved.items():
            shape[index] = n
        return works(tuple(shape))

    try:
        axes = solve_graph(layers, order, inputs, ctx, wire=wire, check=check)
    except (Unsolvable, SolveError):
        return None
    bad = [a for a in axes if not a.valid]
    if not bad or any(a.sizes.empty for a in axes):
        return None
    given = inputs[0][1]
    too_small = all(a.given < (a.smallest or 0) for a in bad)
    candidates: list[Shape] = []
    if too_small:
        picks: list[Callable[[AxisSizes], int | None]] = [lambda a: a.smallest]
    else:
        picks = [lambda a: a.nearest()[0], lambda a: a.nearest()[1]]
    # Every failing axis moved at once; when the model ties axes together (Flatten, n_in), one
    # axis at a time (each axis was solved with the others at their given sizes).
    moved: list[AxisSizes] = []
    for group in ([bad], [[axis] for axis in bad]):
        for axes_moved in group:
            for pick in picks:
                shape = list(given)
                values = [pick(axis) for axis in axes_moved]
                if any(v is None for v in values):
                    continue
                for axis, value in zip(axes_moved, values, strict=True):
                    shape[axis.index] = value or 0
                if tuple(shape) not in candidates and works(tuple(shape)):
                    candidates.append(tuple(shape))
                    moved += [axis for axis in axes_moved if axis not in moved]
        if candidates:
            break
    if not candidates:
        return None
    bad = moved
    patterns = " / ".join(sorted({a.sizes.describe() for a in bad}))
    shown: list[Part] = []
    for candidate in candidates:
        shown += [" or " if shown else "", Option("input_shape", _shape_text(candidate))]
    which = "smallest input" if too_small else "nearest inputs" if len(candidates) > 1 else "nearest input"
    return (
        f"{which} that work{'s' if len(candidates) == 1 else ''}: ",
        *shown,
        f" (sizes that work on {_names(bad)}: {patterns})",
    )


def same_hint(layer: Layer, in_shape: Shape, ctx: Context) -> tuple[Part, ...] | None:
    """For ``padding='same'`` refused under pytorch: the explicit padding with Keras's shape."""
    spatial = list(in_shape[1:] if str(layer.layout(ctx)) == "channels_first" else in_shape[:-1])
    if isinstance(layer, ConvTranspose):
        pads, extras = [], []
        for n, f, s, d in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate, strict=True):
            f_eff = F.effective_kernel(f, d)
            p = max(0, F.ceil_div(f_eff - s, 2))
            op = n * s - ((n - 1) * s + f_eff - 2 * p)
            if not 0 <= op < max(s, d):
                return None
            pads.append(p)
            extras.append(op)
        out = _shape_text(tuple(n * s for n, s in zip(spatial, layer.strides, strict=True)))
        return (
            f"padding={_joined(pads)}, output_padding={_joined(extras)} gives Keras's 'same' output {out} here",
        )
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    dilation = getattr(layer, "dilation_rate", None) or getattr(layer, "window_dilation", None)
    if kernel is None or dilation is None:
        return None
    strides = getattr(layer, "strides", None)
    if strides is None:
        return None
    same = same_padding_for_pytorch(spatial, kernel, strides, dilation)
    out = _shape_text(tuple(h.output for h in same))
    if all(h.symmetric is not None for h in same):
        return (
            f"padding={_joined([h.before for h in same])} gives exactly Keras's 'same' here (output {out})",
        )
    rank = len(same)
    names = axis_names(rank)
    split = ", ".join(
        f"{h.before} before and {h.after} after on {name}" for h, name in zip(same, names, strict=True)
    )
    torch_pad = ", ".join(f"{h.before}, {h.after}" for h in reversed(same))  # ZeroPad2d: last axis first
    text = f"Keras pads {split} here (output {out}); nn.ZeroPad{rank}d(({torch_pad})) then padding=0 is exactly that"
    lengths = [h.length_padding for h in same]
    if all(q is not None for q in lengths):
        text += f"; padding={_joined([q or 0 for q in lengths])} gives the same output size, windows a cell earlier"
    return (text,)


def _joined(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"


def n_in_hint(layer: Layer, in_shape: Shape) -> tuple[Part, ...]:
    """For network3's n_in mismatch: the value it must be."""
    return (f"n_in={math.prod(in_shape)} ({_shape_text(in_shape)} values reach it)",)


def is_refused_same(layer: Layer, in_shape: Shape, ctx: Context) -> bool:
    """True for ``padding='same'`` that PyTorch refuses (strided conv/pool, any transposed conv)
    on an input of the layer's rank."""
    if ctx.convention != "pytorch" or getattr(layer, "padding", None) != "same":
        return False
    if len(in_shape) != getattr(layer, "rank", -1) + 1:
        return False
    return isinstance(layer, ConvTranspose) or max(getattr(layer, "strides", None) or (1,)) > 1


def is_n_in_mismatch(layer: Layer, in_shape: Shape) -> bool:
    """True when a network3 fully connected layer's n_in is not what reaches it."""
    return isinstance(layer, FlatDense) and layer.n_in != math.prod(in_shape)
