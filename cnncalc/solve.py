"""Exact inverse questions: which input sizes a network accepts, which layer maps N to M, and
the computed hints that shape errors carry.

The idea. Along one spatial axis every layer maps its input length ``m`` to an output length by
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
solved axis at all (channel counts, groups, a broken other axis) are left to the one check at
the end: the whole model is summarized once at the valid sizes nearest the given ones; if that
fails, no size works and the error says why.

Only :mod:`cnncalc.formulas` computes lengths here, the same functions the layers use.
Standard library only.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import formulas as F
from .errors import CnncalcError, ShapeError, SpecError, describe_layer

#: Largest period a size pattern may have. Real networks stay far below (a U-Net of depth d has
#: 2**d); a product of many strides could exceed it, and then solving stops with a clear error.
MAX_PERIOD = 1 << 16

#: Finite sets are listed in full up to this many members.
MAX_LISTED = 10_000

#: Axis names by the number of spatial axes (as in summaries).
_AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


class SolveError(CnncalcError):
    """A model the solver cannot describe exactly (a size pattern beyond :data:`MAX_PERIOD`, or
    a layer whose size rule is not quasi-affine)."""


class _Unsolvable(Exception):
    """A condition that fails whatever the solved size is (wrong rank, bad settings)."""


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
    interval ``(lo, hi)`` (``hi`` None: unbounded), or no member (None)."""

    period: int
    classes: tuple[Interval | None, ...]

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
        return SizeSet(period, tuple(out))

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
        return _reduced_set(period, tuple(out))

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < 1:
            return False
        q, r = divmod(n - 1, self.period)
        c = self.classes[r]
        return c is not None and c[0] <= q and (c[1] is None or q <= c[1])

    @property
    def empty(self) -> bool:
        """True when no size is in the set."""
        return all(c is None for c in self.classes)

    @property
    def finite(self) -> bool:
        """True when the set has finitely many members."""
        return all(c is None or c[1] is not None for c in self.classes)

    def smallest(self) -> int | None:
        """The smallest member, None when empty."""
        firsts = [r + 1 + c[0] * self.period for r, c in enumerate(self.classes) if c is not None]
        return min(firsts) if firsts else None

    def largest(self) -> int | None:
        """The largest member; None when empty or unbounded."""
        if self.empty or not self.finite:
            return None
        return max(
            r + 1 + c[1] * self.period
            for r, c in enumerate(self.classes)
            if c is not None and c[1] is not None
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
        return best

    def nearest(self, n: int) -> int | None:
        """The member nearest to n (the smaller one on a tie)."""
        lo, hi = self.below(n), self.above(n)
        if lo is None or hi is None:
            return hi if lo is None else lo
        return lo if n - lo <= hi - n else hi

    def members(self, limit: int | None = None) -> Iterator[int]:
        """Members in increasing order, up to ``limit`` (required for an unbounded set)."""
        if limit is None and not self.finite:
            raise ValueError("an unbounded set needs a limit")
        n = self.smallest()
        while n is not None and (limit is None or n <= limit):
            yield n
            n = self.above(n + 1)

    def pattern(self) -> Pattern:
        """The set as ``n >= start and n % modulus in residues``, plus the members below ``start``."""
        if self.empty:
            return Pattern(None, 1, (), ())
        if self.finite:
            return Pattern(None, 1, (), tuple(self.members()))
        rays = [r for r, c in enumerate(self.classes) if c is not None and c[1] is None]
        tail = max(r + 1 + self.classes[r][0] * self.period for r in rays)  # type: ignore[index]
        points = [
            r + 1 + c[1] * self.period
            for r, c in enumerate(self.classes)
            if c is not None and c[1] is not None
        ]
        tail = max([tail, *(p + 1 for p in points)])
        # From `tail` on, membership depends on n % period only; find the smallest modulus.
        residues = {(r + 1) % self.period for r in rays}
        modulus = next(
            d for d in _divisors(self.period) if all(((x + d) % self.period in residues) for x in residues)
        )
        kept = tuple(sorted({x % modulus for x in residues}))
        # Walk down while the periodic description still holds.
        start = tail
        while start > 1 and ((start - 1) in self) == ((start - 1) % modulus in kept):
            start -= 1
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

    def __init__(self, ctx: Any, features: dict[int, int] | None) -> None:
        self.ctx = ctx
        #: Dense input features at the spec's own input, by layer index (None: Dense follows)
        self.features = features
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
        """The model is valid only where a(n) == b(n)."""
        self.need(a - b, 0, 0, what)

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
        raise _Unsolvable(f"expects a rank-{rank + 1} input, gets {len(dims)} axes")
    first = _layout(layer, ctx) == "channels_first"
    return (list(dims[1:]), dims[0], first) if first else (list(dims[:-1]), dims[-1], first)


def _join(spatial: Sequence[SizeFn], channels: SizeFn, first: bool) -> Dims:
    return (channels, *spatial) if first else (*spatial, channels)


def _axis(rank: int, i: int) -> str:
    return _AXIS_NAMES.get(rank, ())[i] if rank in _AXIS_NAMES else f"axis {i}"


def _window_axis(
    p: _Pass, g: SizeFn, f: int, s: int, d: int, padding: Any, ceil_mode: bool, what: str, axis: str
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
    pad = f" + padding {before + after}" if before or after else ""
    p.need(g + SizeFn.const(before + after), f_eff, None, f"{shown} needs {axis}{pad} >= {f_eff}")
    p.need(out, 1, None, f"{shown} leaves no output on {axis}")
    return out


def _windowed(p: _Pass, layer: Any, dims: Dims, kernel: Sequence[int], strides: Sequence[int],
              dilation: Sequence[int], ceil_mode: bool, what: str) -> tuple[list[SizeFn], SizeFn, bool]:  # fmt: skip
    rank = layer.rank
    spatial, channels, first = _split(layer, dims, p.ctx, rank)
    if layer.padding == "same" and (ceil_mode or (p.pytorch and max(strides) > 1)):
        raise _Unsolvable("padding='same' with these settings")
    out = []
    for i, g in enumerate(spatial):
        pad = layer.padding if isinstance(layer.padding, str) else layer.padding[i]
        out.append(
            _window_axis(p, g, kernel[i], strides[i], dilation[i], pad, ceil_mode, what, _axis(rank, i))
        )
    return out, channels, first


def _conv(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _windowed(p, layer, dims, layer.kernel_size, layer.strides, layer.dilation_rate,
                                         False, "kernel")  # fmt: skip
    name = type(layer).__name__
    if name == "DepthwiseConv":
        channels = channels.scaled(layer.depth_multiplier)
    else:
        channels = SizeFn.const(layer.filters)
    return _join(spatial, channels, first)


def _pool(p: _Pass, layer: Any, dims: Dims) -> Dims:
    dilation = getattr(layer, "window_dilation", (1,) * layer.rank)
    spatial, channels, first = _windowed(p, layer, dims, layer.pool_size, layer.strides, dilation,
                                         layer.ceil_mode, "pool window")  # fmt: skip
    return _join(spatial, channels, first)


def _transposed(p: _Pass, layer: Any, dims: Dims) -> Dims:
    rank = layer.rank
    spatial, _, first = _split(layer, dims, p.ctx, rank)
    keras_rule = not p.pytorch and isinstance(layer.padding, str)
    if p.pytorch and layer.padding == "same":
        raise _Unsolvable("PyTorch ConvTranspose has no padding='same'")
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
        p.need(h, 1, None, f"padding leaves no output on {_axis(rank, i)}")
        out.append(h)
    return _join(out, SizeFn.const(layer.filters), first)


def _zero_padding(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, layer.rank)
    out = [g + SizeFn.const(b + a) for g, (b, a) in zip(spatial, layer.padding, strict=True)]
    return _join(out, channels, first)


def _cropping(p: _Pass, layer: Any, dims: Dims) -> Dims:
    spatial, channels, first = _split(layer, dims, p.ctx, layer.rank)
    out = []
    for i, (g, (b, a)) in enumerate(zip(spatial, layer.cropping, strict=True)):
        p.need(
            g, b + a + 1, None, f"cropping {b} + {a} needs more than {b + a} cells on {_axis(layer.rank, i)}"
        )
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
        raise _Unsolvable("permutation of the wrong rank")
    return tuple(dims[d - 1] for d in layer.dims)


def _dense(p: _Pass, layer: Any, dims: Dims) -> Dims:
    features = dims[-1]
    if not features.is_const and p.features is not None:
        built = p.features[p.index]
        p.need(
            features,
            built,
            built,
            f"its weights are built for {built:,} input features (at the spec's input)",
        )
    return (*dims[:-1], SizeFn.const(layer.units))


def _identity(p: _Pass, layer: Any, dims: Dims) -> Dims:
    return dims


def _spatial_identity(p: _Pass, layer: Any, dims: Dims) -> Dims:
    _split(layer, dims, p.ctx, layer.rank)
    return dims


def _convpool(p: _Pass, layer: Any, dims: Dims) -> Dims:
    if p.ctx.data_format != "channels_first" or len(dims) != 3:
        raise _Unsolvable("ConvPoolLayer needs channels_first (maps, height, width)")
    k, _, fh, fw = layer.filter_shape
    out = []
    for i, (g, f, pool) in enumerate(zip(dims[1:], (fh, fw), layer.poolsize, strict=True)):
        axis = _axis(2, i)
        if layer.image_shape is not None:
            fixed = layer.image_shape[2 + i]
            p.need(g, fixed, fixed, f"image_shape fixes the {axis} at {fixed}")
        p.need(g, f, None, f"filter {f} needs {axis} >= {f}")
        conv = g + SizeFn.const(1 - f)  # valid, stride 1: n - F + 1
        p.need(conv, pool, None, f"pool {pool} needs a convolution output >= {pool} on {axis}")
        out.append(conv.through(pool, 1, partial(_floor_div, by=pool)))
    return (SizeFn.const(k), *out)


def _fully_connected(p: _Pass, layer: Any, dims: Dims) -> Dims:
    p.need(_product(dims), layer.n_in, layer.n_in, f"n_in={layer.n_in:,} fixes the input values")
    return (SizeFn.const(layer.n_out),)


def _elementwise(p: _Pass, layer: Any, many: list[Dims]) -> Dims:
    first = many[0]
    for other in many[1:]:
        if len(other) != len(first):
            raise _Unsolvable("inputs of different ranks")
        for i, (a, b) in enumerate(zip(first, other, strict=True)):
            p.equal(a, b, f"the inputs' axis {i + 1} must match")
    return first


def _concatenate(p: _Pass, layer: Any, many: list[Dims]) -> Dims:
    first = many[0]
    axis = layer.concat_axis((1,) * len(first), p.ctx)
    total = first[axis]
    for other in many[1:]:
        if len(other) != len(first):
            raise _Unsolvable("inputs of different ranks")
        for i, (a, b) in enumerate(zip(first, other, strict=True)):
            if i != axis:
                p.equal(a, b, f"the inputs' axis {i + 1} must match")
        total = total + other[axis]
    return tuple(total if i == axis else d for i, d in enumerate(first))


#: The size rule of every layer kind, by class name (the first match along the class's MRO).
RULES: dict[str, Callable[[_Pass, Any, Any], Dims]] = {
    "ConvTranspose": _transposed,
    "Conv": _conv,
    "DepthwiseConv": _conv,
    "SeparableConv": _conv,
    "Pool": _pool,
    "GlobalPool": _global_pool,
    "AdaptivePool": _adaptive_pool,
    "ZeroPadding": _zero_padding,
    "Cropping": _cropping,
    "UpSampling": _upsampling,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "Dense": _dense,
    "SpatialDropout": _spatial_identity,
    "Dropout": _identity,
    "Activation": _identity,
    "ReLU": _identity,
    "LeakyReLU": _identity,
    "Softmax": _identity,
    "BatchNorm": _identity,
    "LayerNorm": _identity,
    "Elementwise": _elementwise,
    "Concatenate": _concatenate,
    "ConvPool": _convpool,
    "FullyConnected": _fully_connected,
    "SoftmaxLayer": _fully_connected,
}


def rule_for(layer: Any) -> Callable[[_Pass, Any, Any], Dims]:
    """The size rule for a layer object; SolveError for a kind solve does not know."""
    for cls in type(layer).__mro__:
        if cls.__name__ in RULES:
            return RULES[cls.__name__]
    raise SolveError(f"solve has no size rule for {type(layer).__name__} layers")


# ----------------------------------------------------------------------------- solve sizes


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


@dataclass(frozen=True)
class SizeSolution:
    """Every solved axis, plus why no size works when something other than sizes fails."""

    name: str
    convention: str
    data_format: str
    input_shape: tuple[int, ...]
    axes: tuple[AxisSizes, ...]
    #: the error that no size avoids (channels, groups, ...); None when sizes decide
    reason: str | None = None

    @property
    def valid(self) -> bool:
        """True when some input size works."""
        return self.reason is None and all(not a.sizes.empty for a in self.axes)

    def shape_with(self, pick: Callable[[AxisSizes], int | None]) -> tuple[int, ...] | None:
        """The input shape (single-input models) with each solved axis set by ``pick``."""
        shape = list(self.input_shape)
        for axis in self.axes:
            if axis.input != self.axes[0].input:
                continue
            value = pick(axis)
            if value is None:
                return None
            shape[axis.index] = value
        return tuple(shape)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "name": self.name,
            "convention": self.convention,
            "data_format": self.data_format,
            "input_shape": list(self.input_shape),
            "valid": self.valid,
            "reason": self.reason,
            "axes": [a.to_dict() for a in self.axes],
        }


def _graph(spec: Any, input_shape: tuple[int, ...] | None) -> tuple[Any, list[tuple[int, str, tuple[str, ...]]], tuple[tuple[str, tuple[int, ...]], ...]]:  # fmt: skip
    """(layer specs, [(index, name, sources)] in topological order, model inputs)."""
    from .summary import layer_names, model_inputs, topological_order, wiring
    from .values import shape as check_shape

    inputs = tuple(
        (name, check_shape(list(shape), f"input {name!r}" if spec.inputs else "input shape"))
        for name, shape in model_inputs(spec, input_shape if input_shape is not None else spec.input_shape)
    )
    names = layer_names(spec.layers)
    sources = wiring(spec, names, inputs)
    order = topological_order(spec, names, sources, {n for n, _ in inputs})
    return spec.layers, [(i, names[i], tuple(sources[i])) for i in order], inputs


def _spatial_indices(shape: tuple[int, ...], data_format: str) -> list[int]:
    if len(shape) < 2:
        return []
    return list(range(1, len(shape))) if data_format == "channels_first" else list(range(len(shape) - 1))


def solve_sizes(
    source: Any,
    *,
    input_shape: Any = None,
    convention: Any = None,
    data_format: Any = None,
    axes: Sequence[int] | None = None,
    fixed_dense: bool = True,
) -> SizeSolution:
    """The exact valid sizes of every spatial axis of the model's input(s).

    ``input_shape`` (tuple or ``"225x225x3"``) replaces the spec's input: it gives the channels,
    the sizes that coupled axes are held at, and the size the nearest valid ones are measured
    from. ``axes`` restricts which spatial axes (indices into the input shape) are solved.
    With ``fixed_dense`` a Dense layer whose input features depend on the size keeps the
    features it has at the spec's own input (its weight matrix is built for them, as a loaded
    model's is); without it Dense follows the input, as ``summarize`` does.
    """
    from . import parse
    from .summary import settings
    from .values import shape as to_shape

    spec = parse(source)
    ctx = settings(spec, convention, data_format)
    given = (
        None
        if input_shape is None
        else to_shape(input_shape if isinstance(input_shape, str) else list(input_shape))
    )
    layers, order, inputs = _graph(spec, given)
    features = _dense_features(spec, given, ctx) if fixed_dense else None
    fmt = str(ctx.data_format)
    results: list[AxisSizes] = []
    for input_name, shape in inputs:
        spatial = _spatial_indices(shape, fmt)
        for position, index in enumerate(spatial):
            if axes is not None and index not in axes:
                continue
            try:
                p = _solve_axis(layers, order, inputs, input_name, index, ctx, features)
            except _Unsolvable as err:
                return _unsolvable(spec, ctx, inputs, str(err))
            name = _axis(len(spatial), position)
            results.append(
                AxisSizes(
                    input_name,
                    index,
                    name if len(inputs) == 1 else f"{input_name} {name}",
                    shape[index],
                    p.valid,
                    tuple(Limit(w, c, s) for w, c, s in p.limits),
                    tuple(p.notes),
                )
            )
    solution = SizeSolution(
        spec.name or ("model" if spec.inputs else "sequential"),
        str(ctx.convention),
        fmt,
        inputs[0][1],
        tuple(results),
    )
    return _confirm(solution, spec, ctx, inputs)


def _dense_features(spec: Any, given: tuple[int, ...] | None, ctx: Any) -> dict[int, int] | None:
    """Input features of every Dense layer at the spec's own input, else the given one (what its
    weights are built for); None when that input is invalid (Dense then follows the input)."""
    from .summary import summarize

    own = spec.input_shape is not None or bool(spec.inputs)
    try:
        summary = summarize(spec, input_shape=None if own else given, convention=ctx.convention,
                            data_format=ctx.data_format)  # fmt: skip
    except CnncalcError:
        return None
    return {row.index: row.input_shape[-1] for row in summary.layers if rule_for(row.layer) is _dense}


def _solve_axis(layers: Any, order: Any, inputs: Any, input_name: str, index: int, ctx: Any,
                features: dict[int, int] | None) -> _Pass:  # fmt: skip
    """One symbolic pass with input ``input_name``'s axis ``index`` as the variable."""
    p = _Pass(ctx, features)
    dims: dict[str, Dims] = {
        name: tuple(
            SizeFn.identity() if (name, i) == (input_name, index) else SizeFn.const(v)
            for i, v in enumerate(shape)
        )
        for name, shape in inputs
    }
    for i, name, sources in order:
        ls = layers[i]
        p.index, p.where = i, describe_layer(i, ls.text)
        rule = rule_for(ls.layer)
        try:
            if getattr(ls.layer, "takes_many", False):
                if len(sources) < 2:
                    raise _Unsolvable("a merge needs at least two inputs")
                dims[name] = rule(p, ls.layer, [dims[s] for s in sources])
            else:
                if len(sources) != 1:
                    raise _Unsolvable("takes one input")
                dims[name] = rule(p, ls.layer, dims[sources[0]])
        except SolveError as err:
            raise err.at(p.where) from None
    return p


def _unsolvable(spec: Any, ctx: Any, inputs: Any, fallback: str) -> SizeSolution:
    from .summary import summarize

    reason = fallback
    try:
        summarize(spec, input_shape=None if spec.inputs else inputs[0][1], convention=ctx.convention,
                  data_format=ctx.data_format)  # fmt: skip
    except CnncalcError as err:
        reason = str(err)
    return SizeSolution(
        spec.name or "sequential", str(ctx.convention), str(ctx.data_format), inputs[0][1], (), reason
    )


def _confirm(solution: SizeSolution, spec: Any, ctx: Any, inputs: Any) -> SizeSolution:
    """Summarize once at the valid sizes nearest the given ones: an error there is one that no
    size avoids (channels, groups, ...), and then nothing is valid."""
    from .summary import summarize

    if any(a.sizes.empty for a in solution.axes):
        return solution
    shapes = {name: list(shape) for name, shape in inputs}
    for axis in solution.axes:
        shapes[axis.input][axis.index] = axis.sizes.nearest(axis.given)  # type: ignore[assignment]
    probe = dataclasses.replace(
        spec,
        input_shape=None if spec.inputs else tuple(shapes[inputs[0][0]]),
        inputs=tuple((name, tuple(shapes[name])) for name, _ in inputs) if spec.inputs else (),
    )
    try:
        summarize(probe, convention=ctx.convention, data_format=ctx.data_format)
    except CnncalcError as err:
        return dataclasses.replace(solution, reason=str(err))
    return solution


# ----------------------------------------------------------------------------- hints


def smallest_input(source: Any, **options: Any) -> tuple[int, ...] | None:
    """The input shape with every spatial axis at its smallest valid size (None if none works).

    Options as :func:`solve_sizes`."""
    solution = solve_sizes(source, **options)
    if not solution.valid:
        return None
    return solution.shape_with(lambda a: a.smallest)


def nearest_inputs(source: Any, **options: Any) -> list[tuple[int, ...]]:
    """Valid input shapes nearest the given one: every axis at its nearest valid size at or below
    the given size, then at or above it (one shape when they coincide, none if nothing works)."""
    solution = solve_sizes(source, **options)
    if not solution.valid:
        return []
    shapes = []
    for pick in (_at_or_below, _at_or_above):
        shape = solution.shape_with(pick)
        if shape is not None and shape not in shapes:
            shapes.append(shape)
    return shapes


def _at_or_below(axis: AxisSizes) -> int | None:
    below, above = axis.nearest()
    return below if below is not None else above


def _at_or_above(axis: AxisSizes) -> int | None:
    below, above = axis.nearest()
    return above if above is not None else below


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
        # to at least ceil(n/S) at p = F_eff - 1: with S >= 2 some p hits the target.
        length = next(
            (q for q in (before, after, *range(f_eff)) if F.padded_length(n, f_eff, s, q, q) == target), None
        )
        out.append(SamePadding(n, f, s, d, target, before, after, length))
    return tuple(out)


# ----------------------------------------------------------------------------- solve layer

#: Search bounds of :func:`solve_layer` for the parameters not given.
KERNELS = range(1, 8)
STRIDES = range(1, 5)
DILATIONS = range(1, 4)

KINDS = ("conv", "transposed", "pool")


@dataclass(frozen=True)
class AxisChoice:
    """One axis of a layer configuration."""

    kernel: int
    stride: int
    dilation: int
    #: PyTorch: the symmetric zero padding; Keras: 0
    padding: int
    output_padding: int | None
    out: int

    def key(self) -> tuple[int, ...]:
        return (self.dilation, self.stride, self.kernel, self.padding, self.output_padding or 0)


@dataclass(frozen=True)
class LayerChoice:
    """A layer that maps the input to the output: its settings, compact spec and constructor calls."""

    kind: str
    convention: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    #: 'same' or 'valid' (keras), or the symmetric padding per axis (pytorch)
    padding: str | tuple[int, ...]
    output_padding: tuple[int, ...] | None
    ceil_mode: bool
    spec: str
    keras: str
    pytorch: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out


@dataclass(frozen=True)
class LayerSolution:
    """Every configuration found, simplest first; when there is none, the reachable outputs
    nearest the target per axis."""

    kind: str
    convention: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    choices: tuple[LayerChoice, ...]
    #: per axis: (largest reachable output < target, smallest > target), when nothing reaches it
    nearest: tuple[tuple[int | None, int | None], ...] = ()
    bounds: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "kind": self.kind,
            "convention": self.convention,
            "input": list(self.input),
            "output": list(self.output),
            "choices": [c.to_dict() for c in self.choices],
            "nearest": [list(pair) for pair in self.nearest],
            "bounds": self.bounds,
        }


def _sizes(value: Any, what: str) -> tuple[int, ...]:
    from .values import shape as to_shape

    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    return to_shape(value if isinstance(value, str) else list(value), what)


def _options(value: Any, rank: int, default: range, what: str) -> list[tuple[int, ...]]:
    """Per-axis candidate values: the given value (int or per-axis) or the default range."""
    if value is None:
        return [tuple(default)] * rank
    given = _sizes(value, what)
    if len(given) == 1:
        given = given * rank
    if len(given) != rank:
        raise SpecError(f"{what} has {len(given)} values for {rank} axes")
    return [(v,) for v in given]


def solve_layer(
    input_size: Any,
    output_size: Any,
    *,
    kind: str = "conv",
    convention: Any = "keras",
    kernel: Any = None,
    stride: Any = None,
    dilation: Any = None,
    filters: int = 16,
    channels: int = 3,
    pool: str = "max",
) -> LayerSolution:
    """Every conv / transposed conv / pooling configuration (within :data:`KERNELS`,
    :data:`STRIDES`, :data:`DILATIONS`; padding 0..F_eff-1, PyTorch pools 0..k//2; output_padding
    below the stride) that maps ``input_size`` to ``output_size`` on every axis, simplest first.

    Keras: padding 'valid' or 'same' (and for transposed convs output_padding None or below the
    stride); PyTorch: symmetric integer padding, output_padding, ceil_mode for pools. Sizes are
    an int, a sequence, or text like ``224x160``.
    """
    from .options import Convention

    conv = Convention.parse(convention, "convention")
    pytorch = conv == "pytorch"
    if kind not in KINDS:
        raise SpecError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if pool not in ("max", "avg"):
        raise SpecError(f"pool must be max or avg, got {pool!r}")
    ins, outs = _sizes(input_size, "input"), _sizes(output_size, "output")
    if len(ins) != len(outs):
        raise SpecError(f"input has {len(ins)} axes, output {len(outs)}")
    if len(ins) > 3:
        raise SpecError("at most 3 spatial axes")
    rank = len(ins)
    kernels = _options(kernel, rank, KERNELS, "kernel")
    strides = _options(stride, rank, STRIDES, "stride")
    dilations = _options(dilation, rank, DILATIONS if kind != "pool" or pytorch else range(1, 2), "dilation")
    # Settings shared by all axes: Keras's padding word (and whether output_padding is given),
    # PyTorch's ceil_mode.
    if pytorch:
        modes: list[tuple[Any, ...]] = [
            ("int", ceil) for ceil in ((False, True) if kind == "pool" else (False,))
        ]
    else:
        ops = ("none", "int") if kind == "transposed" else ("none",)
        modes = [(word, op) for word in ("same", "valid") for op in ops]
    choices: list[tuple[tuple[int, ...], LayerChoice]] = []
    reachable: list[set[int]] = [set() for _ in range(rank)]
    for mode in modes:
        per_axis = []
        for i in range(rank):
            found = []
            for cand in _axis_candidates(kind, pytorch, mode, ins[i], kernels[i], strides[i], dilations[i]):
                reachable[i].add(cand.out)
                if cand.out == outs[i]:
                    found.append(cand)
            per_axis.append(sorted(found, key=AxisChoice.key))
        for combo in itertools.product(*per_axis):
            if (
                not pytorch
                and kind != "pool"
                and any(c.stride > 1 for c in combo)
                and any(c.dilation > 1 for c in combo)
            ):
                continue  # Keras refuses strides > 1 together with dilation_rate > 1
            choice = _choice(kind, pytorch, mode, combo, ins, filters, channels, pool)
            uniform = len({(c.kernel, c.stride, c.dilation, c.padding, c.output_padding) for c in combo}) == 1
            d, st, k, pad, op = (sum(k) for k in zip(*(c.key() for c in combo), strict=True))
            ceil = bool(pytorch and kind == "pool" and mode[1])
            key = (d, st, k, ceil, not uniform, pad, op, modes.index(mode))
            choices.append((key, choice))
    choices.sort(key=lambda kc: kc[0])
    nearest: tuple[tuple[int | None, int | None], ...] = ()
    if not choices:
        nearest = tuple(
            (max((o for o in r if o < t), default=None), min((o for o in r if o > t), default=None))
            for r, t in zip(reachable, outs, strict=True)
        )
    bounds = {
        "kernel": [min(KERNELS), max(KERNELS)],
        "stride": [min(STRIDES), max(STRIDES)],
        "dilation": [min(DILATIONS), max(DILATIONS)],
        "padding": "0..F_eff-1" + (" (pools: 0..kernel//2)" if kind == "pool" else ""),
    }
    return LayerSolution(kind, str(conv), ins, outs, tuple(c for _, c in choices), nearest, bounds)


def _axis_candidates(kind: str, pytorch: bool, mode: tuple[Any, ...], n: int, kernels: Sequence[int],
                     strides: Sequence[int], dilations: Sequence[int]) -> Iterator[AxisChoice]:  # fmt: skip
    """Every single-axis configuration under one shared mode, with its output length (valid ones only)."""
    for f, s, d in itertools.product(kernels, strides, dilations):
        f_eff = F.effective_kernel(f, d)
        if kind == "transposed":
            if pytorch:
                for pad in range(f_eff):
                    for op in range(max(s, d)):
                        out = F.torch_transposed_length(n, f, s, d, pad, pad, op)
                        if out > 0:
                            yield AxisChoice(f, s, d, pad, op, out)
            else:
                word, op_kind = mode
                op_values: Sequence[int | None] = (None,) if op_kind == "none" else range(s)
                for keras_op in op_values:
                    out = F.keras_transposed_length(n, f_eff, s, word == "same", keras_op)
                    if out > 0:
                        yield AxisChoice(f, s, d, 0, keras_op, out)
            continue
        if pytorch:
            ceil_mode = mode[1]
            top = f // 2 + 1 if kind == "pool" else f_eff
            for pad in range(top):
                if kind == "pool" and pad >= f_eff:
                    continue
                if n + 2 * pad < f_eff:
                    continue
                out = F.padded_length(n, f_eff, s, pad, pad, ceil_mode)
                if out > 0:
                    yield AxisChoice(f, s, d, pad, None, out)
        else:
            if mode[0] == "same":
                yield AxisChoice(f, s, d, 0, None, F.keras_same_length(n, s))
            elif n >= f_eff:
                yield AxisChoice(f, s, d, 0, None, F.keras_valid_length(n, f_eff, s))


def _txt(values: Sequence[int]) -> str:
    """One number when all axes agree, else ``3x5``."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def _py(values: Sequence[int]) -> str:
    """A constructor argument: one number when all axes agree, else a tuple."""
    return str(values[0]) if len(set(values)) == 1 else f"({', '.join(map(str, values))})"


def _choice(kind: str, pytorch: bool, mode: tuple[Any, ...], combo: Sequence[AxisChoice], ins: Sequence[int],
            filters: int, channels: int, pool: str) -> LayerChoice:  # fmt: skip
    rank = len(combo)
    k = tuple(c.kernel for c in combo)
    s = tuple(c.stride for c in combo)
    d = tuple(c.dilation for c in combo)
    ops = (
        None if all(c.output_padding is None for c in combo) else tuple(c.output_padding or 0 for c in combo)
    )
    ceil_mode = bool(pytorch and kind == "pool" and mode[1])
    padding: str | tuple[int, ...] = tuple(c.padding for c in combo) if pytorch else mode[0]
    if kind == "conv":
        prefix = {1: "conv1d", 2: "conv", 3: "conv3d"}[rank]
    elif kind == "transposed":
        prefix = {1: "conv1dtranspose", 2: "deconv", 3: "conv3dtranspose"}[rank]
    else:
        prefix = f"{pool}pool" + ("" if rank == 2 else f"{rank}d")
    pad_text = _txt(padding) if isinstance(padding, tuple) else padding
    head = f"{filters}," if kind != "pool" else ""
    spec = f"{prefix}:{head}{_txt(k)},{_txt(s)},{pad_text}"
    if max(d) > 1:
        spec += f",dilation={_txt(d)}"
    if ops is not None:
        spec += f",output_padding={_txt(ops)}"
    if ceil_mode:
        spec += ",ceil_mode=true"
    keras = _keras_text(kind, pytorch, rank, combo, padding, ops, ceil_mode, ins, filters, pool)
    torch = _torch_text(kind, pytorch, rank, combo, padding, ops, ceil_mode, ins, filters, channels, pool)
    return LayerChoice(
        kind, "pytorch" if pytorch else "keras", k, s, d, padding, ops, ceil_mode, spec, keras, torch
    )


def _keras_text(kind: str, pytorch: bool, rank: int, combo: Sequence[AxisChoice], padding: Any, ops: Any,
                ceil_mode: bool, ins: Sequence[int], filters: int, pool: str) -> str:  # fmt: skip
    k = _py([c.kernel for c in combo])
    s = _py([c.stride for c in combo])
    d = [c.dilation for c in combo]
    extra = f", dilation_rate={_py(d)}" if max(d) > 1 else ""
    pre = ""
    if pytorch:
        word = "valid"
        if kind == "transposed":
            # Keras pads 'same' transposed convs by F_eff // 2: use it when that is the padding.
            if all(c.padding == F.effective_kernel(c.kernel, c.dilation) // 2 and c.padding for c in combo):
                word = "same"
            elif any(c.padding for c in combo):
                post = f"layers.Cropping{rank}D({_py([c.padding for c in combo])})"
                return (f"layers.Conv{rank}DTranspose({filters}, {k}, strides={s}, padding=\"valid\", "
                        f"output_padding={_py(list(ops))}{extra}), {post}")  # fmt: skip
            return (f"layers.Conv{rank}DTranspose({filters}, {k}, strides={s}, padding=\"{word}\", "
                    f"output_padding={_py(list(ops))}{extra})")  # fmt: skip
        # Conv/pool with explicit padding: ZeroPadding then valid (shape-equivalent; for ceil_mode
        # the extra cells PyTorch's last window reaches go after).
        pairs = []
        for c, n in zip(combo, ins, strict=True):
            f_eff = F.effective_kernel(c.kernel, c.dilation)
            after = c.padding
            if ceil_mode:
                after = max((c.out - 1) * c.stride + f_eff - n - c.padding, c.padding)
            pairs.append((c.padding, after))
        if any(b or a for b, a in pairs):
            if all(b == a for b, a in pairs):
                pad_arg = _py([b for b, _ in pairs])
            else:
                pad_arg = "(" + ", ".join(f"({b}, {a})" for b, a in pairs) + ")"
            pre = f"layers.ZeroPadding{rank}D({pad_arg}), "
    else:
        word = padding
    if kind == "conv":
        return f'{pre}layers.Conv{rank}D({filters}, {k}, strides={s}, padding="{word}"{extra})'
    if kind == "pool":
        cls = "MaxPooling" if pool == "max" else "AveragePooling"
        return f'{pre}layers.{cls}{rank}D(pool_size={k}, strides={s}, padding="{word}")'
    op_text = "" if ops is None else f", output_padding={_py(list(ops))}"
    return f'layers.Conv{rank}DTranspose({filters}, {k}, strides={s}, padding="{word}"{op_text}{extra})'


def _torch_text(kind: str, pytorch: bool, rank: int, combo: Sequence[AxisChoice], padding: Any, ops: Any,
                ceil_mode: bool, ins: Sequence[int], filters: int, channels: int, pool: str) -> str:  # fmt: skip
    k = _py([c.kernel for c in combo])
    s = _py([c.stride for c in combo])
    d = [c.dilation for c in combo]
    dil = f", dilation={_py(d)}" if max(d) > 1 else ""
    pre = ""
    if pytorch:
        pads: list[int] = list(padding)
        op_list = list(ops) if ops is not None else None
    elif kind == "transposed":
        # Keras: (n-1)*S + F_eff - 2*pad + op (pad F_eff//2 for same, 0 for valid), or without
        # output_padding valid (n-1)*S + max(F_eff, S) and same n*S: find PyTorch's P and op.
        pads, op_list = [], []
        for c, n in zip(combo, ins, strict=True):
            f_eff = F.effective_kernel(c.kernel, c.dilation)
            wanted = c.out
            base = (n - 1) * c.stride + f_eff  # PyTorch length with P = 0, op = 0
            p = max(0, F.ceil_div(base - wanted, 2))
            pads.append(p)
            op_list.append(wanted - base + 2 * p)
    else:
        pads = [0] * rank
        if padding == "same":
            hints = [same_padding_for_pytorch([n], [c.kernel], [c.stride], [c.dilation])[0] for c, n in zip(combo, ins, strict=True)]  # fmt: skip
            if all(h.symmetric is not None for h in hints):
                pads = [h.symmetric or 0 for h in hints]
            else:
                # Keras pads one cell more after: ZeroPad (last axis first) reproduces it exactly.
                flat = ", ".join(f"{h.before}, {h.after}" for h in reversed(hints))
                pre = f"nn.ZeroPad{rank}d(({flat})), " if rank > 1 else f"nn.ConstantPad1d(({flat}), 0.0), "
    pad_arg = _py(pads)
    if kind == "conv":
        return (
            f"{pre}nn.Conv{rank}d({channels}, {filters}, kernel_size={k}, stride={s}, padding={pad_arg}{dil})"
        )
    if kind == "pool":
        cls = "MaxPool" if pool == "max" else "AvgPool"
        dil_text = dil if pool == "max" else ""
        return (f"{pre}nn.{cls}{rank}d(kernel_size={k}, stride={s}, padding={pad_arg}{dil_text}"
                f"{', ceil_mode=True' if ceil_mode else ''})")  # fmt: skip
    op_text = f", output_padding={_py(op_list)}" if op_list and max(op_list) > 0 else ""
    return f"nn.ConvTranspose{rank}d({channels}, {filters}, kernel_size={k}, stride={s}, padding={pad_arg}{op_text}{dil})"


__all__ = [
    "AxisSizes",
    "KERNELS",
    "DILATIONS",
    "STRIDES",
    "LayerChoice",
    "LayerSolution",
    "Limit",
    "Pattern",
    "SamePadding",
    "SizeFn",
    "SizeSet",
    "SizeSolution",
    "SolveError",
    "nearest_inputs",
    "same_padding_for_pytorch",
    "smallest_input",
    "solve_layer",
    "solve_sizes",
]

# Not used directly but part of what callers may catch.
_ = ShapeError
