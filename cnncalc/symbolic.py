"""Sizes as functions of the input size, and sets of sizes: the symbolic size domain.

Along one spatial axis every layer maps its input length ``m`` to an output length by a
*quasi-affine* rule: there are integers ``s >= 1`` and ``t >= 0`` with ``out(m + s) == out(m) + t``
for every integer ``m`` (floor/ceil divisions by the stride have ``s = stride, t = 1``;
transposed convs and upsampling ``s = 1, t = stride``; padding and cropping ``s = t = 1``;
PyTorch's ``ceil_mode`` correction is periodic in ``m`` with period ``s`` too). A composition of
such rules is again quasi-affine in the network's input size ``n``: ``g(n + P) == g(n) + K`` for
all ``n >= 1`` (:class:`SizeFn`), where the period ``P`` grows by ``s / gcd(K, s)`` through each
division and never through a multiplication. So one table of ``P`` values describes ``g`` for
every ``n`` exactly. Every validity condition is then ``lo <= h(n) <= hi`` for such an ``h``, and
the set of ``n`` meeting it is, per residue class of ``n`` modulo ``P``, an interval of the class
(:class:`SizeSet`).

Pure arithmetic, below the layer kinds: each kind's size rule (``Layer.sizes``) is evaluated over
this domain by :mod:`cnncalc.sizing` (``solve``, hints) and over known-or-unknown integers by the
engine. Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import formulas as F
from .errors import CnncalcError

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


def divisors(n: int) -> list[int]:
    """The divisors of n, ascending."""
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
        check_period(period)
        grown = self.step * (period // self.period)
        return _reduced(period, grown // s * t, tuple(rule(self(n)) for n in range(1, period + 1)))

    def __add__(self, other: SizeFn) -> SizeFn:
        period = math.lcm(self.period, other.period)
        check_period(period)
        a, b = self.over(period), other.over(period)
        return _reduced(period, a.step + b.step, tuple(x + y for x, y in zip(a.base, b.base, strict=True)))

    def __sub__(self, other: SizeFn) -> SizeFn:
        return self + other.scaled(-1)

    def scaled(self, factor: int) -> SizeFn:
        """``factor * f``."""
        return _reduced(self.period, self.step * factor, tuple(v * factor for v in self.base))


def check_period(period: int) -> None:
    """SolveError for a pattern longer than :data:`MAX_PERIOD`."""
    if period > MAX_PERIOD:
        raise SolveError(
            f"the size pattern repeats only every {period:,} sizes, more than the {MAX_PERIOD:,} "
            "solve handles (a product of many strides)"
        )


def _reduced(period: int, step: int, base: tuple[int, ...]) -> SizeFn:
    for d in divisors(period)[:-1]:
        if (step * d) % period:
            continue
        k = step * d // period
        if all(base[i + d] == base[i] + k for i in range(period - d)):
            return SizeFn(d, k, base[:d])
    return SizeFn(period, step, base)


def product(fns: Sequence[SizeFn]) -> SizeFn:
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
        check_period(period)
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
        check_period(period)
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
            d for d in divisors(self.period) if all(((x + d) % self.period in residues) for x in residues)
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
    for d in divisors(period)[:-1]:
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
            parts.append(listed(self.exceptions))
        return " or ".join(parts) if parts else "no size"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "from": self.start,
            "modulus": self.modulus,
            "residues": list(self.residues),
            "also": list(self.exceptions),
        }


def listed(values: Sequence[int]) -> str:
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
