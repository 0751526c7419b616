"""Shapes, windows and receptive fields: the geometry every layer kind shares.

Pure functions and frozen records over integers (no numpy, click or rich). Shapes exclude the
batch axis and follow the data format; a :class:`Window` is one spatial axis of a conv or
pooling layer resolved under the convention in force (:func:`resolve_windows`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, cast

from . import formulas as F
from .enums import Convention, DataFormat, PaddingMode
from .errors import Option, ShapeError, SpecError
from .records import record

Shape = tuple[int, ...]
#: A shape whose sizes may be unknown (``None``, Keras's unknown size: given when the model is called).
OpenShape = tuple[int | None, ...]
#: A padding argument: a mode by name, or explicit zero padding as (before, after) per spatial axis.
Padding = PaddingMode | tuple[tuple[int, int], ...]

AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def axis_names(rank: int) -> tuple[str, ...]:
    """``("height", "width")`` for rank 2; ``axis 0``, ``axis 1``, ... beyond the named ranks."""
    return AXIS_NAMES.get(rank, tuple(f"axis {i}" for i in range(rank)))


def split_channels(shape: Shape, fmt: DataFormat) -> tuple[Shape, int]:
    """(spatial sizes, channels) of a shape in the given data format.

    >>> split_channels((28, 28, 3), DataFormat.CHANNELS_LAST)
    ((28, 28), 3)
    """
    if fmt is DataFormat.CHANNELS_FIRST:
        return shape[1:], shape[0]
    return shape[:-1], shape[-1]


def join_channels(spatial: Shape, channels: int, fmt: DataFormat) -> Shape:
    """The inverse of :func:`split_channels`.

    >>> join_channels((14, 14), 8, DataFormat.CHANNELS_FIRST)
    (8, 14, 14)
    """
    if fmt is DataFormat.CHANNELS_FIRST:
        return (channels, *spatial)
    return (*spatial, channels)


def fmt_shape(shape: OpenShape) -> str:
    """``100x100x16``: a shape as users type it (an unknown size is ``?``: ``?x?x3``)."""
    return "x".join("?" if n is None else str(n) for n in shape)


def known_shape(shape: OpenShape) -> Shape | None:
    """The shape when every size is known, else None.

    >>> known_shape((7, 7, 3)), known_shape((None, 7, 3))
    ((7, 7, 3), None)
    """
    if type(shape) is tuple:  # the common case, without a copy (it runs several times a row)
        return None if None in shape else cast(Shape, shape)
    sizes = tuple(n for n in shape if n is not None)
    return sizes if len(sizes) == len(shape) else None


def spatial_layout(rank: int, fmt: DataFormat) -> str:
    """``height x width x channels`` (or channels first): the axes a rank-``rank`` layer expects."""
    names = " x ".join(AXIS_NAMES[rank])
    return f"channels x {names}" if fmt is DataFormat.CHANNELS_FIRST else f"{names} x channels"


def keras_axis_index(axis: int, shape: Shape) -> int:
    """Index into a no-batch shape of a Keras axis (batch axis 0; negative from the end).

    >>> keras_axis_index(-1, (5, 5, 3)), keras_axis_index(1, (5, 5, 3))
    (2, 0)
    """
    index = axis - 1 if axis > 0 else len(shape) + axis
    if axis == 0 or not 0 <= index < len(shape):
        raise ShapeError(f"axis {axis} is not an axis of the input {fmt_shape(shape)} (the batch axis is 0)")
    return index


@record(frozen=True, slots=True)  # per conv/pool axis of every row: slotted
class Window:
    """The resolved geometry of one spatial axis under a window op (conv or pooling)."""

    n: int
    kernel: int
    f_eff: int
    stride: int
    dilation: int
    before: int
    after: int
    out: int


def window_length(
    n: int, f_eff: int, s: int, padding: PaddingMode | tuple[int, int], ceil_mode: bool = False
) -> tuple[int, int, int]:
    """(padding before, padding after, output length) of one axis of ``n`` cells through a window
    of extent ``F_eff`` and stride ``S``, by padding mode: the one place the length follows from
    the padding (conv/pool shapes, ``solve``'s size rules and ``solve layer`` all call it).

    valid: Keras ceil((n - F_eff + 1)/S), or with ``ceil_mode`` PyTorch's ceil formula; same:
    Keras ceil(n/S) with TensorFlow's split of the padding; causal: F_eff - 1 cells before, then
    the explicit formula; explicit (before, after): PyTorch's floor((n + P - F_eff)/S) + 1.
    See :mod:`cnncalc.formulas` for the sources. The length may be <= 0 (callers refuse it).

    >>> window_length(224, 3, 2, PaddingMode.SAME), window_length(5, 3, 1, (1, 1))
    ((0, 1, 112), (1, 1, 5))
    """
    if padding is PaddingMode.SAME:
        before, after = F.same_padding(n, f_eff, s)
        return before, after, F.keras_same_length(n, s)
    if padding is PaddingMode.CAUSAL:
        before, after = F.causal_padding(f_eff)
        return before, after, F.padded_length(n, f_eff, s, before, after)
    if padding is PaddingMode.VALID and not ceil_mode:
        return 0, 0, F.keras_valid_length(n, f_eff, s)
    before, after = (0, 0) if isinstance(padding, PaddingMode) else padding
    return before, after, F.padded_length(n, f_eff, s, before, after, ceil_mode)


def check_same(padding: Padding, strides: Shape, convention: Convention, ceil_mode: bool = False) -> None:
    """Refuse ``padding='same'`` where a framework does: with ``ceil_mode``, and (PyTorch) with a
    stride above 1."""
    if padding is PaddingMode.SAME and ceil_mode:
        raise SpecError("ceil_mode goes with valid or integer padding, not 'same'")
    if padding is PaddingMode.SAME and convention is Convention.PYTORCH and max(strides) > 1:
        raise ShapeError(
            "padding='same' needs stride 1 under the pytorch convention (PyTorch refuses it for "
            f"strided layers), got strides {fmt_shape(strides)}; use integer padding or ",
            Option("convention", "keras"),
        )


def resolve_windows(
    spatial: Shape,
    kernel: Shape,
    strides: Shape,
    dilation: Shape,
    padding: Padding,
    convention: Convention,
    *,
    ceil_mode: bool = False,
    what: str = "kernel",
) -> tuple[Window, ...]:
    """Per-axis output length and padding for conv/pool, under the convention in force.

    valid: Keras ceil((n - F_eff + 1)/S); same: Keras ceil(n/S) with TensorFlow's split of the
    padding; explicit (and valid with ceil_mode): the PyTorch floor/ceil formula.
    See :mod:`cnncalc.formulas` for the sources.

    >>> [w.out for w in resolve_windows((200, 200), (2, 2), (2, 2), (1, 1), PaddingMode.VALID, Convention.KERAS)]
    [100, 100]
    """
    check_same(padding, strides, convention, ceil_mode)
    names = axis_names(len(spatial))
    out: list[Window] = []
    for i, n in enumerate(spatial):
        f, s, d = kernel[i], strides[i], dilation[i]
        f_eff = F.effective_kernel(f, d)
        shown = f"{f_eff} (dilated from {f})" if d > 1 else str(f_eff)
        axis_padding = padding if isinstance(padding, PaddingMode) else padding[i]
        before, after, length = window_length(n, f_eff, s, axis_padding, ceil_mode)
        if not isinstance(padding, PaddingMode) or padding is PaddingMode.VALID:
            # ceil_mode (PyTorch): the window may overhang the padded input, as long as the
            # formula gives an output; floor mode needs the window to fit.
            if (n + before + after < f_eff and not ceil_mode) or length <= 0:
                padded = f"padded input {n + before + after}" if before or after else f"input {n}"
                raise ShapeError(f"{what} {shown} is larger than the {padded} on {names[i]}")
        out.append(Window(n, f, f_eff, s, d, before, after, length))
    return tuple(out)


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows: output i covers [floor(i*n/out), ceil((i+1)*n/out)).

    >>> adaptive_windows(5, 3)
    [(0, 2), (1, 4), (3, 5)]
    """
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


#: Longest repeat of the fields' pattern followed exactly (upsampling by u multiplies it by u,
#: a stride S divides it by gcd(S, period)); past it the field is untracked (bounded work).
MAX_PERIOD = 4096


#: Cells output ``r`` reads: ``first, first + step, ..., last`` (an arithmetic progression:
#: a window, a dilated one, a transposed conv's taps), or None when it reads none.
Reads = tuple[int, int, int] | None


@record(frozen=True, slots=True)  # one per layer (or per axis of one): slotted
class AxisMap:
    """Which cells of its input each output cell of a layer reads, along one spatial axis.

    Output ``o + period`` reads what output ``o`` reads moved on by ``advance`` input cells;
    ``reads[r]`` says which cells output ``r`` (0 <= r < period) reads (indices before 0 or past
    the end are padding, as in the recurrences). A conv or pool is ``advance = S, period = 1``;
    upsampling by u and a transposed conv of stride S are ``advance = 1, period = u`` / ``S``:
    the fractional strides. A layer whose repeat is longer than :data:`MAX_PERIOD` has none
    (None from the constructors: its field is not followed).
    """

    advance: int
    period: int
    reads: tuple[Reads, ...]

    @classmethod
    def window(cls, w: Window) -> AxisMap:
        """A conv or pool: output o reads o*S - P_before + k*d, k = 0 .. F - 1."""
        return cls(w.stride, 1, ((-w.before, (w.kernel - 1) * w.dilation - w.before, w.dilation),))

    @classmethod
    def nearest(cls, u: int) -> AxisMap | None:
        """Nearest upsampling by u (PyTorch ``nearest``, Keras ``UpSampling``): output o reads
        floor(o/u). PixelShuffle(u) reads the same cells (of other channels)."""
        return cls(1, u, ((0, 0, 1),) * u) if u <= MAX_PERIOD else None

    @classmethod
    def bilinear(cls, u: int) -> AxisMap | None:
        """Bilinear upsampling by u with half-pixel centres (Keras ``UpSampling2D(interpolation=
        'bilinear')``, i.e. ``tf.image.resize``; PyTorch ``align_corners=False``; ONNX ``half_pixel``):
        output o samples x = (o + 1/2)/u - 1/2 = t/(2u) with t = 2o + 1 - u, and reads floor(x)
        and floor(x) + 1, the second only when its weight x - floor(x) is not 0 (odd u: every u-th
        output lands on an input cell and reads that cell alone)."""
        if u > MAX_PERIOD:
            return None
        reads: list[Reads] = []
        for r in range(u):
            base, rest = divmod(2 * r + 1 - u, 2 * u)
            reads.append((base, base if rest == 0 else base + 1, 1))
        return cls(1, u, tuple(reads))

    @classmethod
    def transposed(cls, stride: int, kernel: int, dilation: int, crop: int) -> AxisMap | None:
        """A transposed conv: input i scatters to i*S + k*d of the full output, of which output o
        is cell o + crop; so output o reads i = (o + crop - k*d)/S for every tap k where that
        divides: the taps k = k0, k0 + S/g, ... (g = gcd(d, S)), i.e. every (d/g)-th input."""
        if stride > MAX_PERIOD:
            return None
        g = math.gcd(dilation, stride)
        reads: list[Reads] = []
        for r in range(stride):
            t = r + crop
            # the first tap whose offset t - k*d divides by S: k*d = t (mod S), solvable when g | t
            k0 = (t // g) * pow(dilation // g, -1, stride // g) % (stride // g) if t % g == 0 else kernel
            if k0 >= kernel:
                reads.append(None)
                continue
            k1 = k0 + (kernel - 1 - k0) // (stride // g) * (stride // g)  # the last such tap
            reads.append(((t - k1 * dilation) // stride, (t - k0 * dilation) // stride, dilation // g))
        return cls(1, stride, tuple(reads))

    @classmethod
    def adaptive(cls, n: int, out: int) -> AxisMap | None:
        """ATen's adaptive pooling from n to out: output i reads floor(i*n/out) ..
        ceil((i+1)*n/out) - 1 (past the last output the windows repeat: any repeat will do)."""
        if out > MAX_PERIOD:
            return None
        return cls(n, out, tuple((b, e - 1, 1) for b, e in adaptive_windows(n, out)))


@record(frozen=True, slots=True)  # one per layer (or per axis of one): slotted
class AxisField:
    """The exact field of every output cell along one axis, as input cells first .. last.

    Output ``o + period`` sees the cells of output ``o`` moved on by ``advance``; ``first[r]`` and
    ``last[r]`` are output r's (``None``: output r sees no input cell, only biases). The field's
    size is ``last - first + 1`` (holes of a dilated kernel counted, as Araujo et al. count
    them): one number when every output's is the same, else it varies by position. The jump
    (input cells between neighbouring outputs) is ``advance/period`` on average, a fraction
    after upsampling or a transposed conv, whole again after enough stride.
    """

    period: int
    advance: int
    first: tuple[int | None, ...]
    last: tuple[int | None, ...]

    def at(self, o: int) -> tuple[int, int] | None:
        """Output o's field as (first, last) input cell, or None when it sees no input cell.

        >>> AxisField(2, 1, (0, 0), (2, 3)).at(5)
        (2, 5)
        """
        k, r = divmod(o, self.period)
        lo, hi = self.first[r], self.last[r]
        if lo is None or hi is None:
            return None
        return lo + k * self.advance, hi + k * self.advance

    @property
    def size(self) -> int | None:
        """The one field size every output has, or None when it varies by position."""
        if self.period == 1:  # one output's field repeated (a whole jump): its size
            lo, hi = self.first[0], self.last[0]
            return None if lo is None or hi is None else hi - lo + 1
        sizes = {
            None if lo is None or hi is None else hi - lo + 1
            for lo, hi in zip(self.first, self.last, strict=True)
        }
        return sizes.pop() if len(sizes) == 1 else None

    @property
    def sizes(self) -> tuple[int, int]:
        """The smallest and largest field size over the outputs (0: an output that sees no cell)."""
        sizes = [
            0 if lo is None or hi is None else hi - lo + 1
            for lo, hi in zip(self.first, self.last, strict=True)
        ]
        return min(sizes), max(sizes)

    @property
    def jump(self) -> Any:
        """advance/period: an int when whole, else a :class:`fractions.Fraction` (imported here:
        only models with upsampling pay for it)."""
        if self.advance % self.period == 0:
            return self.advance // self.period
        from fractions import Fraction

        return Fraction(self.advance, self.period)

    @property
    def start(self) -> float:
        """The centre of output 0's field (0.0 when output 0 sees no input cell)."""
        field = self.at(0)
        return 0.0 if field is None else (field[0] + field[1]) / 2

    def through(self, m: AxisMap) -> AxisField | None:
        """The field after a layer reading cells as ``m`` says (None: the repeat grew past
        :data:`MAX_PERIOD`). Output o's field spans every field of the cells it reads."""
        if self.period == 1 == m.period and self.advance >= 0:
            # the common case (a whole jump through a conv or pool), as the loop below works it
            # out for one output: the ends of the cells read, each moved by the field's ends
            lo_f, hi_f, reads = self.first[0], self.last[0], m.reads[0]
            if lo_f is not None and hi_f is not None:
                if reads is None:
                    return AxisField(1, self.advance * m.advance, (None,), (None,))
                lo, hi = reads[0] * self.advance, reads[1] * self.advance
                return AxisField(1, self.advance * m.advance, (lo_f + lo,), (hi_f + hi,))
        g = math.gcd(m.advance, self.period)
        period, advance = m.period * (self.period // g), self.advance * (m.advance // g)
        if period > MAX_PERIOD:
            return None
        # A field whose ends never move back needs only the first and last cell read (a kernel of
        # a million cells costs no more than one of three); otherwise every cell, within bounds.
        ordered = self.monotone
        first: list[int | None] = []
        last: list[int | None] = []
        for o in range(period):
            k, r = divmod(o, m.period)
            reads = m.reads[r]
            if reads is None:
                first.append(None)
                last.append(None)
                continue
            lo, hi, step = reads[0] + k * m.advance, reads[1] + k * m.advance, reads[2]
            if ordered:
                a, b = self.at(lo), self.at(hi)
                first.append(None if a is None else a[0])
                last.append(None if b is None else b[1])
                continue
            if (hi - lo) // step >= MAX_PERIOD:
                return None
            seen = [f for f in (self.at(x) for x in range(lo, hi + 1, step)) if f is not None]
            first.append(min(f[0] for f in seen) if seen else None)
            last.append(max(f[1] for f in seen) if seen else None)
        return AxisField(period, advance, tuple(first), tuple(last)).shortest()

    @property
    def monotone(self) -> bool:
        """Every output sees some cell, and neither end of the field ever moves back from one
        output to the next (all but a dilated transposed conv's fields)."""
        for end in (self.first, self.last):
            cells = [v for v in end if v is not None]
            if len(cells) < len(end):
                return False
            if any(a > b for a, b in zip(cells, [*cells[1:], cells[0] + self.advance], strict=True)):
                return False
        return True

    def shortest(self) -> AxisField:
        """The same field with its shortest repeat (e.g. a whole jump again after a stride).

        >>> AxisField(2, 2, (0, 1), (0, 1)).shortest()
        AxisField(period=1, advance=1, first=(0,), last=(0,))
        """
        q = self.period
        for d in range(1, q):
            if q % d or (self.advance * d) % q:
                continue
            shift = self.advance * d // q
            if all(
                _moved(self.first[o], shift) == self.first[o + d]
                and _moved(self.last[o], shift) == self.last[o + d]
                for o in range(q - d)
            ):
                return AxisField(d, shift, self.first[:d], self.last[:d])
        return self


def _moved(cell: int | None, by: int) -> int | None:
    return None if cell is None else cell + by


def _union(fields: Sequence[AxisField]) -> AxisField | None:
    """Output o's field spanning each input's field of o (a merge); None when the jumps differ
    (the fields then drift apart: no repeat)."""
    period = math.lcm(*(f.period for f in fields))
    jumps = {f.advance * (period // f.period) for f in fields}
    if len(jumps) > 1 or period > MAX_PERIOD:
        return None
    first: list[int | None] = []
    last: list[int | None] = []
    for o in range(period):
        seen = [s for s in (f.at(o) for f in fields) if s is not None]
        first.append(min(s[0] for s in seen) if seen else None)
        last.append(max(s[1] for s in seen) if seen else None)
    return AxisField(period, jumps.pop(), tuple(first), tuple(last)).shortest()


@record(frozen=True, slots=True)  # one per layer (or per axis of one): slotted
class ReceptiveField:
    """The exact field of every output position, one :class:`AxisField` per spatial axis.

    Per axis: field size ``r`` (one number, or None where it varies by position), jump ``j``
    (input cells between neighbouring outputs; a fraction after upsampling) and ``start`` (centre
    of the first output's field, in input cells from the centre of input cell 0). Through a window
    op with effective kernel F_eff, stride S and padding P_before, on a whole jump (Araujo et al.,
    "Computing Receptive Fields of CNNs", Distill 2019):
    r_out = r_in + (F_eff - 1)*j_in;  j_out = j_in*S;  start_out = start_in + ((F_eff - 1)/2 - P_before)*j_in.
    cnncalc composes the cells each output reads instead (:class:`AxisMap`), which gives these
    figures on whole jumps and the exact ones after fractional strides.
    """

    axes: tuple[AxisField, ...]

    @classmethod
    def of_input(cls, rank: int) -> ReceptiveField:
        """Each input cell sees itself."""
        return cls((AxisField(1, 1, (0,), (0,)),) * rank)

    @property
    def tracked(self) -> bool:
        """False after layers whose reordering the field does not follow (reshape, opaque rows)."""
        return bool(self.axes)

    @property
    def size(self) -> tuple[int | None, ...]:
        return tuple(a.size for a in self.axes)

    @property
    def uniform(self) -> bool:
        """True when every output position's field has the same size on every axis."""
        return all(s is not None for s in self.size)

    @property
    def jump(self) -> tuple[Any, ...]:
        return tuple(a.jump for a in self.axes)

    @property
    def affine(self) -> bool:
        """True when output o's field is output 0's moved by o whole jumps on every axis (the
        recurrences' case; not after upsampling until strides make the jump whole again)."""
        return all(a.period == 1 for a in self.axes)

    @property
    def start(self) -> tuple[float, ...]:
        return tuple(a.start for a in self.axes)

    def through(self, windows: tuple[Window, ...]) -> ReceptiveField:
        """The field after a window op.

        >>> ReceptiveField.of_input(1).through((Window(9, 3, 3, 2, 1, 0, 0, 4),)).size
        (3,)
        """
        return self.mapped(tuple(_window_map(w) for w in windows))

    def mapped(self, maps: tuple[AxisMap | None, ...]) -> ReceptiveField:
        """The field after a layer that reads its input as ``maps`` say (one per spatial axis;
        None: a repeat too long to follow)."""
        if not self.tracked:
            return self
        axes: list[AxisField] = []
        last: tuple[AxisField, AxisMap, AxisField] | None = None
        for a, m in zip(self.axes, maps, strict=True):
            if m is None:
                return UNTRACKED
            if last is not None and a is last[0] and (m is last[1] or m == last[1]):
                axes.append(last[2])  # a square window on a square field: worked out once
                continue
            after = a.through(m)
            if after is None:
                return UNTRACKED
            axes.append(after)
            last = (a, m, after)
        return ReceptiveField(tuple(axes))


#: The field after layers whose reordering the field does not follow (reshape, opaque rows).
UNTRACKED = ReceptiveField(())

#: AxisMap.window per distinct window (a model repeats a few; bounded all the same).
_WINDOW_MAPS: dict[Window, AxisMap] = {}


def _window_map(w: Window) -> AxisMap:
    m = _WINDOW_MAPS.get(w)
    if m is None:
        if len(_WINDOW_MAPS) >= 4096:
            _WINDOW_MAPS.clear()
        m = _WINDOW_MAPS[w] = AxisMap.window(w)
    return m


def merge_fields(fields: list[ReceptiveField | None]) -> ReceptiveField | None:
    """The field of a merge: the union of its inputs' fields, output by output (same average
    jump needed), or global/untracked."""
    known = [f for f in fields if f is not None]
    if len(known) < len(fields):
        return None
    if any(not f.tracked for f in known) or len({len(f.axes) for f in known}) > 1:
        return UNTRACKED
    axes = [_union([f.axes[axis] for f in known]) for axis in range(len(known[0].axes))]
    if any(a is None for a in axes):
        return UNTRACKED
    return ReceptiveField(tuple(a for a in axes if a is not None))


@record(frozen=True, slots=True)  # one per layer (or per axis of one): slotted
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
