"""Size rules: how a kind's output shape follows from its input shape, stated once per kind and
evaluated over several size domains.

Keras's pattern (``keras.src.ops.operation_utils.compute_conv_output_shape``: one function per
operation, ``None`` handled inside, used by layers and ops alike), made exact: each kind's
``sizes(p, dims)`` (``sizes_many`` for merges) maps the input's sizes to the output's through a
:class:`Sizes` domain ``p``, which says what a size is and what a condition does:

- :class:`Known` (here): a size is an ``int``, or ``None`` when unknown (Keras's ``None``); a
  condition on known sizes raises :class:`~cnncalc.errors.ShapeError`. The engine evaluates the
  rules this way for a model whose input has ``None`` sizes; a test evaluates every kind's rule
  with every size known against the kind's :meth:`~cnncalc.layers.base.Layer.compute`.
- symbolic (:class:`cnncalc.sizing.SymbolicSizes`): a size is a
  :class:`~cnncalc.symbolic.SizeFn` of the solved input size; conditions collect the sizes that
  meet them (``solve sizes``, the error hints).

A rule raises :class:`~cnncalc.errors.ShapeError` for what fails whatever the sizes (wrong rank,
settings the convention refuses). Length formulas come from :mod:`cnncalc.geometry` and
:mod:`cnncalc.formulas` only, the functions :meth:`compute` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from .. import formulas as F
from ..enums import DataFormat, PaddingMode
from ..errors import Part, ShapeError
from ..geometry import Padding, axis_names, check_same, fmt_shape, same_padding_for_pytorch, window_length
from ..records import record
from .faces import torch_same_size_padding, torch_transposed_padding, torch_values, torch_zero_pad

if TYPE_CHECKING:
    from ..io.spec import Spec
    from .base import Context, Layer

D = TypeVar("D")

#: A size that may be unknown (Keras's ``None``).
Size = int | None
#: A shape whose sizes may be unknown (no batch axis).
OpenShape = tuple[Size, ...]


class Sizes(Protocol[D]):
    """A size domain: what a size is (``D``), and what the arithmetic and the conditions of a size
    rule do with it. Every operation is one a quasi-affine rule needs (see :mod:`cnncalc.symbolic`)."""

    @property
    def ctx(self) -> Context:
        """The model's convention and data format."""
        ...

    def const(self, value: int) -> D:
        """A size that does not depend on the input."""
        ...

    def value(self, size: D) -> int | None:
        """The size as one number when it does not depend on what is unknown or solved, else None."""
        ...

    def through(self, size: D, s: int, t: int, rule: Callable[[int], int]) -> D:
        """``rule(size)`` for a rule with ``rule(m + s) == rule(m) + t`` for every integer m."""
        ...

    def plus(self, size: D, cells: int) -> D:
        """``size + cells``."""
        ...

    def times(self, size: D, factor: int) -> D:
        """``size * factor``."""
        ...

    def total(self, sizes: Sequence[D]) -> D:
        """The sum of sizes (a concatenation)."""
        ...

    def product(self, sizes: Sequence[D]) -> D:
        """The product of sizes (a flattening)."""
        ...

    def need(self, size: D, lo: int | None, hi: int | None, what: str) -> None:
        """The model is valid only where ``lo <= size <= hi`` (a missing bound is no bound)."""
        ...

    def equal(self, a: D, b: D, what: str) -> None:
        """The model is valid only where ``a == b``."""
        ...

    def divisible(self, size: D, divisor: int, what: str) -> None:
        """The model is valid only where ``size % divisor == 0``."""
        ...

    def broadcast(self, a: D, b: D) -> D:
        """One axis of Keras's broadcast: the sizes agree, or one is 1 and the other wins."""
        ...

    def sliced(self, size: D, start: int, stop: int | None, step: int) -> D:
        """The length of ``x[start:stop:step]`` on an axis of ``size`` cells."""
        ...

    def built_for(self, features: D) -> None:
        """A Dense layer's input features, which its weights may have been built for."""
        ...

    def inner(self, spec: Spec, dims: tuple[D, ...]) -> tuple[D, ...]:
        """The output sizes of a whole model used as a layer (its own kinds' rules)."""
        ...


# ----------------------------------------------------------------------------- shared rule pieces


def spatial(p: Sizes[D], layer: Layer, dims: tuple[D, ...], rank: int) -> tuple[list[D], D, bool]:
    """(spatial sizes, channels, channels_first) of a rank-``rank`` spatial layer's input."""
    if len(dims) != rank + 1:
        raise ShapeError(f"expects a rank-{rank + 1} input, gets {len(dims)} axes")
    first = layer.layout(p.ctx) is DataFormat.CHANNELS_FIRST
    return (list(dims[1:]), dims[0], first) if first else (list(dims[:-1]), dims[-1], first)


def joined(sizes: Sequence[D], channels: D, first: bool) -> tuple[D, ...]:
    """The inverse of :func:`spatial`."""
    return (channels, *sizes) if first else (*sizes, channels)


def _length(m: int, f_eff: int, s: int, padding: PaddingMode | tuple[int, int], ceil_mode: bool) -> int:
    return window_length(m, f_eff, s, padding, ceil_mode)[2]


def window_axis(
    p: Sizes[D],
    g: D,
    f: int,
    s: int,
    d: int,
    padding: PaddingMode | tuple[int, int],
    ceil_mode: bool,
    what: str,
) -> D:
    """One axis through a conv/pool window: :func:`cnncalc.geometry.window_length` (what
    :func:`~cnncalc.geometry.resolve_windows` computes), and the window's conditions."""
    f_eff = F.effective_kernel(f, d)
    out = p.through(g, s, 1, partial(_length, f_eff=f_eff, s=s, padding=padding, ceil_mode=ceil_mode))
    if isinstance(padding, PaddingMode) and padding is not PaddingMode.VALID:
        return out  # same and causal pad whatever the window needs
    before, after = (0, 0) if isinstance(padding, PaddingMode) else padding
    shown = f"{what} {f_eff}" + (f" (dilated from {f})" if d > 1 else "")
    pad = f" with padding {before} + {after}" if before or after else ""
    if not ceil_mode:  # PyTorch's ceil_mode lets the last window overhang, as long as there is one
        p.need(p.plus(g, before + after), f_eff, None, f"{shown} needs {f_eff} cells{pad}")
    p.need(out, 1, None, f"{shown} leaves no output")
    return out


def declared(p: Sizes[D], name: str, value: int | None, size: D) -> None:
    """A size the layer declares (PyTorch's ``in_channels``, ``in_features``, ``num_features``)
    must be the incoming one."""
    if value is not None:
        p.need(size, value, value, f"{name}={value:,} fixes it")


def broadcast_dims(p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
    """Shapes aligned on the right, each axis broadcast (Keras's elementwise merge rule)."""
    out = list(many[0])
    seen = {id(many[0])}
    for other in many[1:]:
        if id(other) in seen:  # an input read again (add([x, x, ...])): broadcasting it again changes nothing
            continue
        seen.add(id(other))
        longer, shorter = (out, list(other)) if len(out) >= len(other) else (list(other), out)
        head = longer[: len(longer) - len(shorter)]
        out = head + [p.broadcast(x, y) for x, y in zip(longer[len(head) :], shorter, strict=True)]
    return tuple(out)


def fits(p: Sizes[D], constant: Sequence[int], dims: Sequence[D], name: str) -> None:
    """A constant of shape ``constant`` broadcasts onto ``dims`` unchanged: each of its sizes
    (aligned on the right) is 1 or the size it meets."""
    if len(constant) > len(dims):
        raise ShapeError(f"{name} has more axes than the input")
    for c, d in zip(reversed(constant), reversed(dims), strict=False):
        if c != 1:
            p.need(d, c, c, f"{name} of size {c} needs that size")


def same_sizes(self: Layer, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
    """The size rule of a kind that keeps the shape (dropout, activations, normalization)."""
    return dims


def gated_sizes(layer: Layer, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
    """The sizes after a layer's ``activation='glu'`` (:func:`cnncalc.layers.base.gated`): the last
    axis halves, and must be even."""
    if getattr(layer, "activation", None) != "glu" or not dims:
        return dims
    p.divisible(dims[-1], 2, "activation glu halves the last axis, which needs an even size")
    return (*dims[:-1], p.through(dims[-1], 2, 1, partial(F.floor_div, by=2)))


# ----------------------------------------------------------------------------- known or unknown


@record(frozen=True)
class Known:
    """The domain of known (``int``) or unknown (``None``) sizes, as Keras propagates them: an
    unknown size stays unknown through every rule and meets every condition; a condition on known
    sizes that fails raises :class:`~cnncalc.errors.ShapeError` with the condition.

    >>> from cnncalc.layers.base import Context
    >>> from cnncalc.layers import lookup
    >>> conv = lookup("conv").build({"filters": 8, "kernel_size": 3, "strides": 2})
    >>> conv.sizes(Known(Context()), (None, 15, 3))
    (None, 7, 8)
    """

    context: Context
    #: the output sizes of a nested model (the engine's wiring and these rules); None: refused
    nested: Callable[[Spec, OpenShape], OpenShape] | None = None

    @property
    def ctx(self) -> Context:
        return self.context

    def const(self, value: int) -> Size:
        return value

    def value(self, size: Size) -> int | None:
        return size

    def through(self, size: Size, s: int, t: int, rule: Callable[[int], int]) -> Size:
        return None if size is None else rule(size)

    def plus(self, size: Size, cells: int) -> Size:
        return None if size is None else size + cells

    def times(self, size: Size, factor: int) -> Size:
        return None if size is None else size * factor

    def total(self, sizes: Sequence[Size]) -> Size:
        return None if any(n is None for n in sizes) else sum(n or 0 for n in sizes)

    def product(self, sizes: Sequence[Size]) -> Size:
        out = 1
        for n in sizes:
            if n is None:
                return None
            out *= n
        return out

    def need(self, size: Size, lo: int | None, hi: int | None, what: str) -> None:
        if size is not None and ((lo is not None and size < lo) or (hi is not None and size > hi)):
            raise ShapeError(f"{what} (got {size})")

    def equal(self, a: Size, b: Size, what: str) -> None:
        if a is not None and b is not None and a != b:
            raise ShapeError(f"{what} (got {a} and {b})")

    def divisible(self, size: Size, divisor: int, what: str) -> None:
        if size is not None and size % divisor:
            raise ShapeError(f"{what} (got {size})")

    def broadcast(self, a: Size, b: Size) -> Size:
        # Keras's Merge._compute_elemwise_op_output_shape: an unknown size on either side is
        # unknown in the output.
        if a is None or b is None:
            return None
        if a == 1:
            return b
        if b != 1 and a != b:
            raise ShapeError(f"inputs do not broadcast: sizes {a} and {b} on one axis")
        return a

    def sliced(self, size: Size, start: int, stop: int | None, step: int) -> Size:
        return None if size is None else len(range(size)[start:stop:step])

    def built_for(self, features: Size) -> None:
        if features is None:
            raise ShapeError("the last axis of a Dense layer's input must be known (Keras refuses None too)")

    def inner(self, spec: Spec, dims: OpenShape) -> OpenShape:
        if self.nested is None:
            raise ShapeError("a nested model's sizes need the engine")
        return self.nested(spec, dims)


def windowed(
    p: Sizes[D],
    layer: Layer,
    dims: tuple[D, ...],
    rank: int,
    padding: Padding,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool,
    what: str,
) -> tuple[list[D], D, bool]:
    """(output spatial sizes, channels, channels_first) of a conv/pool window layer."""
    sizes, channels, first = spatial(p, layer, dims, rank)
    check_same(padding, tuple(strides), p.ctx.convention, ceil_mode)
    out = [
        window_axis(
            p,
            g,
            kernel[i],
            strides[i],
            dilation[i],
            padding if isinstance(padding, PaddingMode) else padding[i],
            ceil_mode,
            what,
        )
        for i, g in enumerate(sizes)
    ]
    return out, channels, first


# ----------------------------------------------------------------------------- hints


def window_same_hint(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> tuple[Part, ...]:
    """For a window layer's ``padding='same'`` refused under pytorch: the explicit padding (or
    ``ZeroPad`` then padding 0) that gives Keras's output on this input. The PyTorch code is
    spelled as export's writer spells it (:func:`~cnncalc.layers.faces.torch_values`,
    :func:`~cnncalc.layers.faces.torch_zero_pad`)."""
    same = same_padding_for_pytorch(sizes, kernel, strides, dilation)
    out = fmt_shape(tuple(h.output for h in same))
    if all(h.symmetric is not None for h in same):
        return (
            f"padding={torch_values([h.before for h in same])} gives exactly Keras's 'same' here (output {out})",
        )
    names = axis_names(len(same))
    split = ", ".join(
        f"{h.before} before and {h.after} after on {name}" for h, name in zip(same, names, strict=True)
    )
    zero_pad = torch_zero_pad([(h.before, h.after) for h in same])
    text = f"Keras pads {split} here (output {out}); {zero_pad} then padding=0 is exactly that"
    lengths = [h.length_padding for h in same]
    if all(q is not None for q in lengths):
        text += f"; padding={torch_values([q or 0 for q in lengths])} gives the same output size, windows a cell earlier"
    return (text,)


def transposed_same_hint(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> tuple[Part, ...] | None:
    """For a transposed conv's ``padding='same'`` (PyTorch has none): the padding and
    output_padding that give Keras's output n*S, its cells too (solved as export's writer solves
    them, :func:`~cnncalc.layers.faces.torch_transposed_padding`: an odd crop is one cell less
    padding and a negative ``nn.ZeroPad`` after; the size-only spelling, its cells shifted by one, is
    named with it), None when PyTorch cannot."""
    pads, extras, crops, size_only = [], [], [], []
    for n, f, s, d in zip(sizes, kernel, strides, dilation, strict=True):
        pad, op, crop = torch_transposed_padding(n, n * s, f, s, d)
        if not 0 <= op < max(s, d):
            return None
        pads.append(pad)
        extras.append(op)
        crops.append(crop)
        size_only.append(torch_same_size_padding(n, n * s, f, s, d))
    out = fmt_shape(tuple(n * s for n, s in zip(sizes, strides, strict=True)))
    if not any(crops):
        return (
            f"padding={torch_values(pads)}, output_padding={torch_values(extras)} gives Keras's 'same' output {out} here",
        )
    spelled = f"padding={torch_values(pads)}" + (
        f", output_padding={torch_values(extras)}" if any(extras) else ""
    )
    text = (
        f"{spelled} then {torch_zero_pad([(0, -c) for c in crops])} (cropping the last cell Keras drops) "
        f"is exactly Keras's 'same' output {out} here"
    )
    if all(op < max(s, d) for (_, op), s, d in zip(size_only, strides, dilation, strict=True)):
        text += (
            f"; padding={torch_values([p for p, _ in size_only])}, "
            f"output_padding={torch_values([op for _, op in size_only])} gives Keras's 'same' output {out} "
            "here too, its cells shifted by one"
        )
    return (text,)
