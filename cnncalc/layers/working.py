"""Shared pieces of the written working that kinds show in ``cnncalc explain``.

Pure text building: every number comes from the layer's :class:`~cnncalc.layers.base.Worked`
record or is recomputed by the very formula the line prints, so what is shown is what was used.
"""

from __future__ import annotations

from ..enums import Convention, PaddingMode
from ..geometry import Padding, Window, fmt_shape
from .base import Step, Worked

SYMBOL = {"length": "L", "height": "H", "width": "W", "depth": "D"}
SIDES = {
    "length": ("left", "right"),
    "height": ("top", "bottom"),
    "width": ("left", "right"),
    "depth": ("front", "back"),
}


def bias_term(symbol: str, count: int, use_bias: bool) -> tuple[str, str]:
    """The bias term of a params formula, as (formula, numbers): ``(" + K", " + 16")``, or nothing."""
    return (f" + {symbol}", f" + {count}") if use_bias else ("", "")


def num(n: int) -> str:
    """``1,160``: a count as the table shows it."""
    return f"{n:,}"


def quotient(a: int, b: int) -> str:
    """``199/2`` -> ``99.5``; exact up to 3 decimals, else rounded with an ellipsis.

    >>> quotient(199, 2), quotient(1, 3)
    ('99.5', '0.33…')
    """
    from fractions import Fraction  # only explain shows quotients: summary's start-up skips it

    q = Fraction(a, b)
    if q.denominator == 1:
        return str(q.numerator)
    value = f"{float(q):.3f}".rstrip("0")
    return value if Fraction(value) == q else f"{float(q):.2f}…"


def no_params() -> Step:
    """The params line of a weightless layer."""
    return Step("params", "none", "", "0")


def unchanged(w: Worked, what: str) -> list[Step]:
    """The working of a layer that keeps the shape and has no weights."""
    return [Step("shape", f"unchanged ({what})", "", fmt_shape(w.output_shape)), no_params()]


def axes_steps(
    names: tuple[str, ...],
    windows: tuple[Window, ...],
    padding: Padding,
    ceil_mode: bool,
    convention: Convention = Convention.KERAS,
) -> list[Step]:
    """Length steps per spatial axis; axes with the same numbers share one step (``height, width``)."""
    groups: list[tuple[list[str], Window]] = []
    for axis, w in zip(names, windows, strict=True):
        same = [g for g in groups if g[1] == w]
        if same:
            same[0][0].append(axis)
        else:
            groups.append(([axis], w))
    steps: list[Step] = []
    for axes, w in groups:
        steps += length_steps(axes[0], w, padding, ceil_mode, ", ".join(axes), len(groups) == 1, convention)
    return steps


def length_steps(
    axis: str,
    w: Window,
    padding: Padding,
    ceil_mode: bool,
    label: str = "",
    all_axes: bool = False,
    convention: Convention = Convention.KERAS,
) -> list[Step]:
    """One axis's output length under the padding rule in force, with the numbers substituted:
    Keras's ``'valid'`` as ``ceil((H_in - F + 1)/S)`` under its rules; PyTorch's
    ``floor((H_in + 2P - F)/S) + 1`` (``nn.Conv2d``/``nn.MaxPool2d`` docs) for any explicit
    padding, ``P = 0`` included, ``P_top + P_bottom`` where the sides differ (causal)."""
    label = label or axis
    suffix = "" if all_axes else f" ({label})"
    sym = SYMBOL[axis]
    n_in, f = f"{sym}_in", "F_eff" if w.dilation > 1 else "F"
    steps = []
    if w.dilation > 1:
        steps.append(
            Step(f"F_eff{suffix}", "d*(F - 1) + 1", f"{w.dilation}*({w.kernel} - 1) + 1", str(w.f_eff))
        )
    first, second = SIDES[axis]
    if padding is PaddingMode.SAME:
        total = w.before + w.after
        steps.append(
            Step(
                label,
                f"ceil({n_in} / S)",
                f"ceil({w.n} / {w.stride}) = ceil({quotient(w.n, w.stride)})",
                str(w.out),
            )
        )
        sides = (
            f"{total} ({w.before} {first} + {w.after} {second})"
            if suffix or "," not in label
            else f"{total} ({w.before} before + {w.after} after)"
        )
        steps.append(
            Step(
                f"padding{suffix}",
                f"max((out - 1)*S + {f} - {n_in}, 0)",
                f"max(({w.out} - 1)*{w.stride} + {w.f_eff} - {w.n}, 0)",
                sides,
            )
        )
        return steps
    if padding is PaddingMode.VALID and not ceil_mode and convention is Convention.KERAS:
        span = w.n - w.f_eff + 1
        steps.append(
            Step(
                label,
                f"ceil(({n_in} - {f} + 1) / S)",
                f"ceil(({w.n} - {w.f_eff} + 1) / {w.stride}) = ceil({quotient(span, w.stride)})",
                str(w.out),
            )
        )
        return steps
    p1, p2 = f"P_{first}", f"P_{second}"
    if padding is PaddingMode.CAUSAL:  # Keras pads F_eff - 1 zeros before the sequence
        steps.append(Step(f"{p1}{suffix}", f"{f} - 1", f"{w.f_eff} - 1", str(w.before)))
    span = w.n + w.before + w.after - w.f_eff
    rounding = "ceil" if ceil_mode else "floor"
    raw = (-(-span // w.stride) if ceil_mode else span // w.stride) + 1
    if w.before == w.after:  # PyTorch's one padding P per side (0 for 'valid')
        formula = f"{rounding}(({n_in} + 2P - {f}) / S) + 1"
        numbers = f"{rounding}(({w.n} + 2*{w.before} - {w.f_eff}) / {w.stride}) + 1"
    else:
        formula = f"{rounding}(({n_in} + {p1} + {p2} - {f}) / S) + 1"
        numbers = f"{rounding}(({w.n} + {w.before} + {w.after} - {w.f_eff}) / {w.stride}) + 1"
    steps.append(Step(label, formula, f"{numbers} = {rounding}({quotient(span, w.stride)}) + 1", str(raw)))
    if ceil_mode:
        start = (raw - 1) * w.stride
        verdict = f"dropped, so {w.out}" if raw != w.out else "kept"
        relation = ">=" if raw != w.out else "<"
        steps.append(
            Step(
                f"last window{suffix}",
                f"starts in the padding if (out - 1)*S >= {n_in} + {p1}",
                f"({raw} - 1)*{w.stride} = {start} {relation} {w.n} + {w.before}",
                verdict,
            )
        )
    return steps


def window_rule(padding: Padding, ceil_mode: bool, convention: Convention) -> str:
    """The rule behind a conv or pooling layer's output length, in one line."""
    if padding is PaddingMode.SAME:
        if convention is Convention.KERAS:
            return "Keras 'same': ceil(H_in/S) outputs; an odd padding puts the extra zero after"
        return "PyTorch 'same' (stride 1 only): H_in outputs; odd padding: extra zero after"
    if padding is PaddingMode.VALID and not ceil_mode and convention is Convention.PYTORCH:
        return "PyTorch rule, padding=0: no zeros added; windows that fit (floor)"
    if padding is PaddingMode.VALID and not ceil_mode:
        return "'valid': no padding; every window must fit inside the input"
    if padding is PaddingMode.CAUSAL:
        return "Keras 'causal': F_eff - 1 zeros on the left, then valid"
    if ceil_mode and convention is Convention.KERAS:
        return "PyTorch ceil_mode (Keras has none): round up; no window starts in padding"
    if ceil_mode:
        return "PyTorch rule with ceil_mode: round up, but no window may start in the padding"
    return "PyTorch rule: explicit zero padding on each side, then windows that fit"
