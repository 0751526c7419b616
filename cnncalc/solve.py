"""Inverse questions, answered exactly: which input sizes a network accepts (:func:`solve_sizes`),
which layer maps N to M (:func:`solve_layer`), and the hints built on them.

:mod:`cnncalc.sizing` does the size arithmetic over a wired graph; this module reads the spec,
wires it with the engine's naming and ordering, and checks the result once with the engine:
conditions that do not depend on the solved size (channel counts, groups) surface there, and
then no size works and the error says why. Standard library only.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import formulas as F
from .engine import Order, settings, summarize, wire_inner
from .engine import wire as engine_wire
from .enums import Convention, DataFormat, PaddingMode
from .errors import CnncalcError, SpecError, UnknownSizes
from .geometry import Shape, fmt_shape, known_shape, window_length
from .io import Spec, parse
from .layers import args as A
from .layers.base import Context
from .layers.conv import keras_refuses
from .layers.pooling import kernel_within_input, torch_max_padding
from .sizing import (
    AxisSizes,
    Limit,
    Pattern,
    SamePadding,
    SizeFn,
    SizeSet,
    SolveError,
    Unsolvable,
    same_padding_for_pytorch,
    solve_graph,
)


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


def _graph(
    spec: Spec, input_shape: Shape | None, convention: Convention | None = None
) -> tuple[Order, tuple[tuple[str, Shape], ...]]:
    """([(index, name, sources)] in topological order, model inputs), as the engine wires them;
    every size must be known (solve measures from the given sizes)."""
    order, inputs = engine_wire(spec, input_shape, convention)
    shapes = []
    for name, dims in inputs:
        shape = known_shape(dims)
        if shape is None:
            raise UnknownSizes.of("solve", dims)
        shapes.append((name, shape))
    return order, tuple(shapes)


def solve_sizes(
    source: Any,
    *,
    input_shape: Any = None,
    convention: Convention | str | None = None,
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

    >>> solution = solve_sizes(["conv:8,3", "maxpool:2", "conv:8,3"], input_shape=(30, 30, 1))
    >>> solution.axes[0].sizes.describe(), solution.axes[0].smallest
    ('n >= 8', 8)
    """
    spec = parse(source)
    if any(ls.training_only for ls in spec.layers):  # the sizes eval mode takes (they are left out)
        spec = dataclasses.replace(spec, layers=tuple(ls for ls in spec.layers if not ls.training_only))
    ctx = settings(spec, convention, data_format)
    given = (
        None
        if input_shape is None
        else A.shape(input_shape if isinstance(input_shape, str) else list(input_shape))
    )
    # the summary for Dense's features first: the wiring below is not alive while it is made
    features, works_at = _dense_features(spec, given, ctx) if fixed_dense else (None, None)
    order, inputs = _graph(spec, given, ctx.convention)
    try:
        results = solve_graph(
            spec.layers,
            order,
            inputs,
            ctx,
            features=features,
            axes=axes,
            wire=wire_inner,
            check=lambda moved: _works(spec, ctx, inputs, moved, works_at),
        )
    except Unsolvable as err:
        return _unsolvable(spec, ctx, inputs, str(err))
    del order, features  # per layer: not needed any more
    solution = SizeSolution(
        spec.name or ("model" if spec.inputs else "sequential"),
        str(ctx.convention),
        str(ctx.data_format),
        inputs[0][1],
        tuple(results),
    )
    return _confirm(solution, spec, ctx, inputs, works_at)


#: The model inputs' shapes (in order) at which the model is known to summarize (None: none yet).
WorksAt = tuple[Shape, ...] | None


def _works(
    spec: Spec,
    ctx: Context,
    inputs: tuple[tuple[str, Shape], ...],
    moved: dict[tuple[str, int], int],
    works_at: WorksAt = None,
) -> bool:
    """True when the model summarizes with the given axes of its inputs moved to new sizes
    (without summarizing again at the sizes ``works_at`` says it does: summarize is pure)."""
    if works_at is not None and _moved(inputs, moved) == works_at:
        return True
    return _error_at(spec, ctx, inputs, dict(moved)) is None


def _moved(
    inputs: tuple[tuple[str, Shape], ...], moved: Mapping[tuple[str, int], int | None]
) -> tuple[Shape, ...]:
    """The inputs' shapes, in order, with the given axes moved."""
    shapes = {name: list(shape) for name, shape in inputs}
    for (name, index), value in moved.items():
        if value is not None:
            shapes[name][index] = value
    return tuple(tuple(shapes[name]) for name, _ in inputs)


def _dense_features(
    spec: Spec, given: Shape | None, ctx: Context
) -> tuple[Sequence[int] | dict[int, int] | None, WorksAt]:
    """Input features of every Dense layer at the spec's own input, else the given one (what its
    weights are built for), by layer index; None when that input is invalid (Dense then follows
    the input). With them, the inputs' shapes at which the model summarized."""
    own = spec.input_shape is not None or bool(spec.inputs)
    try:
        summary = summarize(
            spec,
            input_shape=None if own else given,
            convention=ctx.convention,
            data_format=ctx.data_format,
            hints=False,
        )
        works_at = tuple(shape for _, shape in summary.model_inputs)
    except CnncalcError:
        return None, None
    # Every row's last input axis; only the kinds whose weights are built for it (Dense) read it.
    # A list by index when the rows are the layers in order (a stack): a dict takes 10x more.
    if all(row.index == i for i, row in enumerate(summary.layers)):
        return [row.input_shape[-1] for row in summary.layers], works_at
    return {row.index: row.input_shape[-1] for row in summary.layers}, works_at


def _unsolvable(
    spec: Spec, ctx: Context, inputs: tuple[tuple[str, Shape], ...], fallback: str
) -> SizeSolution:
    reason = fallback
    try:
        summarize(
            spec,
            input_shape=None if spec.inputs else inputs[0][1],
            convention=ctx.convention,
            data_format=ctx.data_format,
            hints=False,
        )
    except CnncalcError as err:
        reason = str(err)
    name = spec.name or ("model" if spec.inputs else "sequential")
    return SizeSolution(name, str(ctx.convention), str(ctx.data_format), inputs[0][1], (), reason)


def _confirm(
    solution: SizeSolution,
    spec: Spec,
    ctx: Context,
    inputs: tuple[tuple[str, Shape], ...],
    works_at: WorksAt = None,
) -> SizeSolution:
    """Summarize at solved sizes: an error there that no probe avoids is one that no size of the
    symbolic sets avoids (channels, groups, ...); then only the sizes checked one by one (a
    broadcast 1, a short slice) remain, and with none, nothing is valid. Probes: every axis at its
    symbolic size nearest the given one; then (for models that tie axes together, each axis having
    been solved with the others at their given sizes) one axis at a time."""
    if any(a.sizes.empty for a in solution.axes):
        return solution
    symbolic = {(a.input, a.index): SizeSet(a.sizes.period, a.sizes.classes) for a in solution.axes}
    nearest = {
        key: sizes.nearest(a.given) for (key, sizes), a in zip(symbolic.items(), solution.axes, strict=True)
    }
    if all(value is None for value in nearest.values()):
        return solution  # only sizes already checked one by one
    probes: list[dict[tuple[str, int], int | None]] = [nearest]
    probes += [{key: value} for key, value in nearest.items() if value is not None]
    first_error: CnncalcError | None = None
    for moved in probes:
        if _works(
            spec, ctx, inputs, {key: value for key, value in moved.items() if value is not None}, works_at
        ):
            return solution
        if first_error is None:
            first_error = _error_at(spec, ctx, inputs, moved)
    checked = tuple(
        dataclasses.replace(a, sizes=SizeSet.nothing().with_points(a.sizes.points)) for a in solution.axes
    )
    if all(not a.sizes.empty for a in checked):
        return dataclasses.replace(solution, axes=checked)
    return dataclasses.replace(solution, reason=str(first_error))


def _error_at(
    spec: Spec, ctx: Context, inputs: tuple[tuple[str, Shape], ...], moved: dict[tuple[str, int], int | None]
) -> CnncalcError | None:
    """The error summarize raises with the given axes moved (None when it does not)."""
    shapes = _moved(inputs, moved)
    probe = dataclasses.replace(
        spec,
        input_shape=None if spec.inputs else shapes[0],
        inputs=tuple((name, shape) for (name, _), shape in zip(inputs, shapes, strict=True))
        if spec.inputs
        else (),
    )
    try:
        summarize(probe, convention=ctx.convention, data_format=ctx.data_format, hints=False)
    except CnncalcError as err:
        return err
    return None


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


# ----------------------------------------------------------------------------- solve layer

#: Search bounds of :func:`solve_layer` for the parameters not given.
KERNELS = range(1, 8)
STRIDES = range(1, 5)
DILATIONS = range(1, 4)

KINDS = ("conv", "transposed", "pool")
#: The most configurations ``solve layer`` lists (the 3-D default search finds up to ~16,000).
MAX_CHOICES = 100_000


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
    """A layer that maps the input to the output: its settings, compact spec and constructor calls
    (``keras``, ``pytorch``: written by export's writers when first read)."""

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
    #: the input it maps, channels last (the constructor calls are written for it)
    input_shape: tuple[int, ...] = field(repr=False, compare=False)

    @cached_property
    def keras(self) -> str:
        """The Keras layers (channels_last), as ``cnncalc export --to keras`` writes them
        (:func:`cnncalc.export.keras_text`), or ``no Keras equivalent: <the writer's reason>``."""
        from .export import keras_row_text

        return self._written(lambda row, summary: keras_row_text(row, summary, named=False), "Keras")

    @cached_property
    def pytorch(self) -> str:
        """The PyTorch modules, as ``cnncalc export --to pytorch`` writes them
        (:func:`cnncalc.export_torch.torch_text`), or ``no PyTorch equivalent: <the writer's reason>``."""
        from .export_torch import torch_row_text

        return self._written(torch_row_text, "PyTorch")

    @cached_property
    def _row(self) -> Any:
        """The layer computed once on its input, for both writers."""
        from .export_torch import one_row

        ctx = Context(Convention.parse(self.convention, "convention"), DataFormat.CHANNELS_LAST)
        return one_row(parse([self.spec]).layers[0].layer, self.input_shape, ctx, "layer")

    def _written(self, writer: Callable[..., list[str]], target: str) -> str:
        try:
            return ", ".join(writer(*self._row))
        except CnncalcError as err:
            return f"no {target} equivalent: {err.reason if err.layer else err}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            if item.name != "input_shape":
                value = getattr(self, item.name)
                out[item.name] = list(value) if isinstance(value, tuple) else value
        return {**out, "keras": self.keras, "pytorch": self.pytorch}


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
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    return A.shape(value if isinstance(value, str) else list(value), what)


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
    # Only PyTorch's max pooling has a dilation.
    dilated = kind != "pool" or (pytorch and pool == "max")
    dilations = _options(dilation, rank, DILATIONS if dilated else range(1, 2), "dilation")
    if not dilated and any(max(d) > 1 for d in dilations):
        raise SpecError("only max pooling under the pytorch convention has a dilation")
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
    near: list[list[int]] = [[] for _ in range(rank)]  # reachable lengths nearest the target
    for mode in modes:
        per_axis = []
        for i in range(rank):
            fits = kind == "pool" and kernel_within_input(pool, rank, conv)  # AvgPool3d: kernel <= input
            found, low, high = _axis_candidates(
                kind, pytorch, mode, ins[i], outs[i], kernels[i], strides[i], dilations[i], fits
            )
            near[i].extend(v for v in (low, high) if v is not None)
            per_axis.append(sorted(found, key=AxisChoice.key))
        if math.prod(len(a) for a in per_axis) + len(choices) > MAX_CHOICES:
            raise SpecError(
                f"more than {MAX_CHOICES:,} configurations map {fmt_shape(ins)} to {fmt_shape(outs)} "
                f"(solve layer lists at most {MAX_CHOICES:,}): fix more of --kernel, --stride, --dilation"
            )
        for combo in itertools.product(*per_axis):
            if (
                not pytorch
                and kind != "pool"
                and keras_refuses([c.stride for c in combo], [c.dilation for c in combo])
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
            for r, t in zip(near, outs, strict=True)
        )
    bounds = {
        "kernel": [min(KERNELS), max(KERNELS)],
        "stride": [min(STRIDES), max(STRIDES)],
        "dilation": [min(DILATIONS), max(DILATIONS)],
        "padding": "0..F_eff-1" + (" (pools: 0..kernel//2)" if kind == "pool" else ""),
    }
    return LayerSolution(kind, str(conv), ins, outs, tuple(c for _, c in choices), nearest, bounds)


def _axis_candidates(
    kind: str,
    pytorch: bool,
    mode: tuple[Any, ...],
    n: int,
    target: int,
    kernels: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    kernel_fits: bool = False,
) -> tuple[list[AxisChoice], int | None, int | None]:
    """The single-axis configurations under one shared mode whose output length is ``target``,
    and the reachable lengths nearest it (largest below, smallest above; None when none).

    Found by arithmetic, never by enumerating paddings or output paddings: the output length is
    monotonic in the padding (bisected) and linear in the output padding (solved), so the time
    does not grow with the kernel, stride or dilation (``--kernel 2147483647`` is instant). More
    than :data:`MAX_CHOICES` configurations on one axis is refused. ``kernel_fits``: skip kernels
    larger than the input (PyTorch's AvgPool3d refuses them)."""
    found: list[AxisChoice] = []
    below: int | None = None
    above: int | None = None

    def reach(low: int | None, high: int | None) -> None:
        nonlocal below, above
        if low is not None and low < target and (below is None or low > below):
            below = low
        if high is not None and high > target and (above is None or high < above):
            above = high

    def add(choices: Sequence[AxisChoice]) -> None:
        _check_count(len(found) + len(choices), target, n)
        found.extend(choices)

    for f, s, d in itertools.product(kernels, strides, dilations):
        if kernel_fits and n < f:
            continue
        f_eff = F.effective_kernel(f, d)
        if kind == "transposed" and pytorch:
            # out = B - 2*pad + op, pad in [0, F_eff), op in [0, max(S, D)): 2*pad - op = B - target
            m, base = max(s, d), (n - 1) * s + d * (f - 1) + 1
            gap = base - target
            first = max(0, -gap)
            first += (gap + first) % 2
            last = min(m - 1, 2 * (f_eff - 1) - gap)
            ops = range(first, last + 1, 2)
            _check_count(len(ops), target, n)  # before building them
            add([AxisChoice(f, s, d, (gap + op) // 2, op, target) for op in ops])
            low, high = base - 2 * (f_eff - 1), base + m - 1
            if m >= 2:  # every length from low to high is reached (op 0 and 1 fill the gaps of 2)
                reach(*_nearest_in(target, max(low, 1), high))
            else:  # only base - 2*pad
                down = min(target - 1, base)
                down -= (base - down) % 2
                up = max(target + 1, low)
                up += (base - up) % 2
                reach(down if down >= max(1, low) else None, up if up <= base else None)
        elif kind == "transposed":
            word, op_kind = mode
            if op_kind == "none":
                out = F.keras_transposed_length(n, f_eff, s, word == "same", None)
                if out > 0:
                    add([AxisChoice(f, s, d, 0, None, out)] if out == target else [])
                    reach(out, out)
                continue
            base = F.keras_transposed_length(n, f_eff, s, word == "same", 0)  # + op, op in [0, S)
            low, high = max(base, 1), base + s - 1
            if low <= target <= high:
                add([AxisChoice(f, s, d, 0, target - base, target)])
            reach(*_nearest_in(target, low, high))
        elif pytorch:
            top = min(torch_max_padding(f) + 1, f_eff) if kind == "pool" else f_eff

            def length(pad: int, f_eff: int = f_eff, s: int = s, ceil_mode: bool = mode[1]) -> int:
                return window_length(n, f_eff, s, (pad, pad), ceil_mode)[2]

            def valid(pad: int, f_eff: int = f_eff, ceil_mode: bool = mode[1]) -> bool:
                return (ceil_mode or n + 2 * pad >= f_eff) and length(pad, f_eff) > 0

            pads = range(bisect.bisect_left(range(top), True, key=valid), top)  # valid from here on
            start = bisect.bisect_left(pads, target, key=length)
            stop = bisect.bisect_right(pads, target, key=length)
            _check_count(stop - start, target, n)  # before building them
            add([AxisChoice(f, s, d, pad, None, target) for pad in pads[start:stop]])
            reach(
                length(pads[start - 1]) if start > 0 else None,
                length(pads[stop]) if stop < len(pads) else None,
            )
        else:
            word = PaddingMode.parse(mode[0], "padding")
            if word is not PaddingMode.SAME and n < f_eff:
                continue
            out = window_length(n, f_eff, s, word)[2]
            add([AxisChoice(f, s, d, 0, None, out)] if out == target else [])
            reach(out, out)
    return found, below, above


def _nearest_in(target: int, low: int, high: int) -> tuple[int | None, int | None]:
    """The lengths nearest ``target`` below and above it among every integer in [low, high]."""
    down, up = min(target - 1, high), max(target + 1, low)
    return (down if down >= low else None), (up if up <= high else None)


def _check_count(count: int, target: int, n: int) -> None:
    if count > MAX_CHOICES:
        raise SpecError(
            f"more than {MAX_CHOICES:,} configurations give {target} from {n} on one axis (solve layer "
            f"lists at most {MAX_CHOICES:,}): fix more of --kernel, --stride, --dilation"
        )


def _txt(values: Sequence[int]) -> str:
    """One number when all axes agree, else ``3x5``."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def _py(values: Sequence[int]) -> str:
    """A constructor argument: one number when all axes agree, else a tuple."""
    return str(values[0]) if len(set(values)) == 1 else f"({', '.join(map(str, values))})"


def _choice(
    kind: str,
    pytorch: bool,
    mode: tuple[Any, ...],
    combo: Sequence[AxisChoice],
    ins: Sequence[int],
    filters: int,
    channels: int,
    pool: str,
) -> LayerChoice:
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
    return LayerChoice(
        kind, "pytorch" if pytorch else "keras", k, s, d, padding, ops, ceil_mode, spec, (*ins, channels)
    )


__all__ = [
    "DILATIONS",
    "KERNELS",
    "STRIDES",
    "AxisSizes",
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
