"""Exact size arithmetic: which input sizes a wired network accepts, per spatial axis.

The machinery behind :mod:`cnncalc.solve` and the hints :mod:`cnncalc.engine` attaches to shape
errors (it imports neither). Each layer kind states its size rule once (``Layer.sizes``, in
:mod:`cnncalc.layers`); here it is evaluated over the symbolic domain
(:class:`SymbolicSizes`): along one spatial axis every size is a quasi-affine function of the
network's input size ``n`` (:class:`~cnncalc.symbolic.SizeFn`), and every validity condition is
``lo <= h(n) <= hi`` for such an ``h`` (a kernel needs ``g(n) + pad >= F_eff``; a merge needs
``g1(n) - g2(n) == 0``; a Flatten+Dense built for the given input needs
``flat(n) == flat(n_given)``), whose solutions are, per residue class of ``n`` modulo the
period, an interval of the class (:class:`~cnncalc.symbolic.SizeSet`). Intersections stay in
that form, so the result is exact for every ``n``: described as ``n >= a and n % p in {r...}``
(plus finitely many exceptions) or a finite list. Nothing here evaluates the network at sample
sizes; tests do, to confirm.

Axes. Each spatial axis of each model input is solved on its own. Other axes stay symbolic where
they do not interact; where they do (Flatten, Reshape, Dense, network3's fully connected layers
multiply axes together) they are held at their given sizes. Conditions that do not depend on the
solved axis at all (channel counts, groups, a broken other axis) are left to the caller, which
summarizes once at a solved size to see them.

Standard library only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from . import formulas as F
from .errors import CnncalcError, Option, Part, describe_layer
from .geometry import OpenShape, SamePadding, Shape, axis_names, same_padding_for_pytorch
from .layers.base import Context, Layer, declares_sizes
from .layers.rules import gated_sizes
from .symbolic import (
    MAX_LISTED,
    MAX_PERIOD,
    Interval,
    Pattern,
    SizeFn,
    SizeSet,
    SolveError,
    Unsolvable,
    listed,
    product,
)

#: Names kept importable from here, their home before the size domains moved below the kinds.
__all__ = [
    "MAX_LISTED",
    "MAX_PERIOD",
    "AxisSizes",
    "Interval",
    "Limit",
    "Pattern",
    "SamePadding",
    "SizeFn",
    "SizeSet",
    "SolveError",
    "SymbolicSizes",
    "Unsolvable",
    "has_rule",
    "rule_for",
    "same_padding_for_pytorch",
    "size_hint",
    "solve_graph",
]

if TYPE_CHECKING:
    from .io.spec import LayerSpec, Spec

Dims = tuple[SizeFn, ...]


#: Dense input features at the spec's own input, by layer index (a list for a stack).
Features = Mapping[int, int] | Sequence[int]


class SymbolicSizes:
    """The symbolic size domain (:class:`~cnncalc.layers.rules.Sizes` over
    :class:`~cnncalc.symbolic.SizeFn`): one run of the model for one solved axis, sizes as
    functions of it, every condition collected into a :class:`~cnncalc.symbolic.SizeSet`."""

    def __init__(self, ctx: Context, features: Features | None, wire: Wire | None = None) -> None:
        self.context = ctx
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
    def ctx(self) -> Context:
        return self.context

    def const(self, value: int) -> SizeFn:
        return SizeFn.const(value)

    def value(self, size: SizeFn) -> int | None:
        return size.base[0] if size.is_const else None

    def through(self, size: SizeFn, s: int, t: int, rule: Callable[[int], int]) -> SizeFn:
        return size.through(s, t, rule)

    def plus(self, size: SizeFn, cells: int) -> SizeFn:
        return size + SizeFn.const(cells)

    def times(self, size: SizeFn, factor: int) -> SizeFn:
        return size.scaled(factor)

    def total(self, sizes: Sequence[SizeFn]) -> SizeFn:
        out = sizes[0]
        for size in sizes[1:]:
            out = out + size
        return out

    def product(self, sizes: Sequence[SizeFn]) -> SizeFn:
        return product(sizes)

    def need(self, size: SizeFn, lo: int | None, hi: int | None, what: str) -> None:
        """The model is valid only where lo <= size(n) <= hi."""
        if size.is_const:
            return  # not about the solved axis: the final check sees it
        self._add(SizeSet.where(size, lo, hi), what)

    def equal(self, a: SizeFn, b: SizeFn, what: str) -> None:
        """The model is valid only where a(n) == b(n) (sizes that never meet, such as n + 1 and
        n, rule out every size: that is about the solved axis too)."""
        if a.is_const and b.is_const:
            return  # not about the solved axis: the final check sees it
        self._add(SizeSet.where(a - b, 0, 0), what)

    def divisible(self, size: SizeFn, divisor: int, what: str) -> None:
        if not size.is_const:
            self._add(SizeSet.divisible(size, divisor), what)

    def broadcast(self, a: SizeFn, b: SizeFn) -> SizeFn:
        """One axis of Keras's broadcast (:func:`cnncalc.layers.merging.broadcast`): the sizes
        agree, or one is 1 and the other wins. Where they agree the result is ``a``, exactly; the
        sizes where only a 1 makes them fit are finitely many (a growing size is 1 for few
        inputs) and become candidates the caller checks one by one."""
        if a.is_const and a.base[0] == 1:
            return b
        if b.is_const and b.base[0] == 1:
            return a
        if a.is_const and b.is_const:
            return a  # not about the solved axis: the final check sees it
        equal = SizeSet.where(a - b, 0, 0)
        self.equal(a, b, "its inputs' sizes must match (or be 1)")
        for side in (a, b):
            ones = SizeSet.where(side, 1, 1)
            if ones.empty:
                continue
            if not ones.finite:
                raise SolveError("an input of a broadcasting merge is 1 for infinitely many sizes")
            self.candidates.update(n for n in ones.members() if n not in equal)
        return a

    def sliced(self, size: SizeFn, start: int, stop: int | None, step: int) -> SizeFn:
        """``x[start:stop:step]`` on one axis. Once the axis is at least as long as every bound,
        the length is :func:`~cnncalc.formulas.slice_length` (quasi-affine); the finitely many
        shorter sizes are candidates the caller checks one by one."""
        if size.is_const:
            return SizeFn.const(len(range(size.base[0])[start:stop:step]))
        reach = max(abs(start), abs(stop or 0))
        short = SizeSet.where(size, None, reach - 1) if reach else SizeSet.nothing()
        if not short.empty:
            if not short.finite:
                raise SolveError("a sliced axis is shorter than the slice's bounds for infinitely many sizes")
            self.candidates.update(short.members())
        self._add(
            SizeSet.where(size, reach, None),
            f"slice {start}:{stop}:{step} (the exact form from {reach} cells)",
        )
        stop_sign = 0 if stop is None else stop
        moves = (stop is None or stop_sign < 0) - (start < 0)  # how the length moves as the axis grows
        return size.through(step, moves, partial(F.slice_length, start=start, stop=stop, step=step))

    def built_for(self, features: SizeFn) -> None:
        """A Dense layer whose weights were built for the spec's own input keeps those features."""
        if not features.is_const and self.features is not None:
            built = self.features[self.index]
            self.need(features, built, built, f"built for {built:,} input features")

    def inner(self, spec: Spec, dims: Dims) -> Dims:
        """The inner model's layers, run on the outer sizes."""
        if self.wire is None:
            raise SolveError("a nested model needs the engine's wiring")
        order, inputs = self.wire(spec, tuple(1 for _ in dims))
        if len(inputs) != 1:
            raise SolveError("a nested model with several inputs")
        outer, outer_index = self.where, self.index
        saved, self.features = self.features, None  # inner Dense layers follow their input
        try:
            out = _run(self, spec.layers, order, {inputs[0][0]: dims}, prefix=f"{outer} / ")
        finally:
            self.where, self.index, self.features = outer, outer_index, saved
        return out

    def _add(self, allowed: SizeSet, what: str) -> None:
        if allowed != SizeSet.every():
            self.limits.append((self.where, what, allowed))
            self.valid = self.valid & allowed


def _axis(rank: int, i: int) -> str:
    return axis_names(rank)[i]


def has_rule(cls: type) -> bool:
    """True when layers of class ``cls`` state a size rule of their own (``sizes``, or
    ``sizes_many`` for a merge; never a parent's by accident)."""
    return declares_sizes(cls)


def rule_for(layer: Layer) -> Callable[..., Dims]:
    """The size rule of a layer object (``sizes``, a merge's ``sizes_many``); SolveError for an
    object without one of its own."""
    if not declares_sizes(type(layer)):
        raise SolveError(f"solve has no size rule for {type(layer).__name__} layers")
    merge = layer.many()
    return layer.sizes if merge is None else merge.sizes_many


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
Wire = Callable[["Spec", OpenShape], tuple[Order, Sequence[tuple[str, OpenShape]]]]


def _run(
    p: SymbolicSizes, layers: Sequence[LayerSpec], order: Order, dims: dict[str, Dims], prefix: str = ""
) -> Dims:
    """Every layer of a wired graph through its kind's size rule; the last layer's sizes."""
    out: Dims = ()
    for i, name, sources in order:
        ls = layers[i]
        layer: Layer = ls.layer
        p.index, p.where = i, prefix + describe_layer(i, ls.text)
        try:
            merge = layer.many()
            if merge is not None:  # its input count is checked by its computation (the final check)
                out = merge.sizes_many(p, [dims[s] for s in sources])
            else:
                if len(sources) != 1:
                    raise Unsolvable("takes one input")
                out = gated_sizes(layer, p, layer.sizes(p, dims[sources[0]]))
        except SolveError as err:
            raise err.at(p.where) from None
        except CnncalcError as err:  # a layer's own check on an axis or argument: size-independent
            raise Unsolvable(str(err)) from None
        dims[name] = out
    return out


def _solve_axis(
    layers: Sequence[LayerSpec],
    order: Order,
    inputs: Sequence[tuple[str, Shape]],
    input_name: str,
    index: int,
    ctx: Context,
    features: Features | None,
    wire: Wire | None,
) -> SymbolicSizes:
    """One symbolic pass with input ``input_name``'s axis ``index`` as the variable."""
    p = SymbolicSizes(ctx, features, wire)
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
    layers: Sequence[LayerSpec],
    order: Order,
    inputs: Sequence[tuple[str, Shape]],
    ctx: Context,
    *,
    features: Features | None = None,
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
    passes: list[tuple[str, int, str, int, SymbolicSizes]] = []
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
                p.notes.append(f"{listed(sorted(extra))} work only because an input of size 1 broadcasts")
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


def _names(axes: Sequence[AxisSizes]) -> str:
    return " and ".join(a.name for a in axes)


def _shape_text(shape: Shape) -> str:
    return "x".join(map(str, shape))


def size_hint(
    layers: Sequence[LayerSpec],
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
