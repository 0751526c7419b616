"""Layer arguments: how a kind declares them (:func:`arg`, :func:`required`) and the coercers
that turn values from JSON or the compact grammar into normalized Python values.

Each coercer takes ``(value, rank)`` and returns the normalized value or raises ``SpecError``
with a reason that names what was expected; the caller prefixes the argument name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import field
from typing import Any

from ..enums import DataFormat, PaddingMode
from ..errors import SpecError
from ..geometry import Padding

Coercer = Callable[[Any, int], Any]


def arg(coerce: Coercer, default: Any = None, *, aliases: tuple[str, ...] = ()) -> Any:
    """Declare a layer argument: its coercer, Keras default and accepted alternative names."""
    return field(default=default, metadata={"coerce": coerce, "aliases": aliases})


def required(coerce: Coercer, *, aliases: tuple[str, ...] = ()) -> Any:
    """Declare a layer argument without a default."""
    return field(metadata={"coerce": coerce, "aliases": aliases})


def expected_size(*, aliases: tuple[str, ...] = ()) -> Any:
    """Declare an optional size the layer checks its input against (PyTorch's ``in_channels``,
    ``in_features``, ``num_features``): keyword-only (not part of the Keras positional order), left
    out of the config when not given."""
    return field(
        default=None,
        metadata={
            "coerce": lambda v, r: None if v is None else positive_int(v),
            "aliases": aliases,
            "omit_none": True,
            "keyword_only": True,
        },
    )


#: Largest accepted size or count. Frameworks index tensors with 32-bit ints in places, and a
#: bound keeps every product of sizes an exact, quick integer operation.
MAX_INT = 2**31 - 1

#: Every activation name Keras 3 accepts (``keras.activations.get``), aliases included.
#: ``threshold`` is not here: it needs arguments a name cannot carry.
ACTIVATIONS = (
    "linear",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "glu",
    "silu",
    "swish",
    "hard_silu",
    "hard_swish",
    "mish",
    "sigmoid",
    "hard_sigmoid",
    "sparse_sigmoid",
    "log_sigmoid",
    "erf",
    "tanh",
    "hard_tanh",
    "tanh_shrink",
    "soft_shrink",
    "hard_shrink",
    "softmax",
    "log_softmax",
    "sparsemax",
    "softplus",
    "softsign",
    "sparse_plus",
    "squareplus",
    "exponential",
)


def _int(value: Any, minimum: int) -> int:
    # bool is an int subclass in Python; `true` where a size belongs is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"expected an integer, got {value!r}")
    if value < minimum:
        bound = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise SpecError(f"expected {bound}, got {value}")
    if value > MAX_INT:
        raise SpecError(f"{value} is larger than the limit {MAX_INT}")
    return value


def positive_int(value: Any, rank: int = 0) -> int:
    """An integer >= 1."""
    return _int(value, 1)


def _tuple(value: Any, rank: int, minimum: int) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) != rank:
            raise SpecError(f"expected {rank} value{'s' if rank > 1 else ''}, got {len(value)}")
        return tuple(_int(v, minimum) for v in value)
    return (_int(value, minimum),) * rank


def positive_tuple(value: Any, rank: int) -> tuple[int, ...]:
    """One positive integer per spatial axis; a single integer means the same on every axis."""
    return _tuple(value, rank, 1)


def non_negative_tuple(value: Any, rank: int) -> tuple[int, ...]:
    """One integer >= 0 per spatial axis; a single integer means the same on every axis."""
    return _tuple(value, rank, 0)


def padding(value: Any, rank: int) -> Padding:
    """``'valid'``, ``'same'``, ``'causal'`` (1-D), or explicit zero padding as (before, after) per axis.

    Accepted explicit forms: ``1`` (every side), ``[1, 2]`` (per axis, both sides),
    ``[[1, 0], [2, 1]]`` (Keras ZeroPadding2D style: (top, bottom), (left, right)).
    """
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("valid", "same") or (word == "causal" and rank == 1):
            return PaddingMode(word)
        allowed = "valid, same" + (", causal" if rank == 1 else "")
        raise SpecError(f"expected {allowed} or integers, got {value!r}")
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (list, tuple)) for v in value):
        if len(value) != rank or any(len(pair) != 2 for pair in value):
            raise SpecError(f"expected {rank} [before, after] pairs, got {list(value)!r}")
        return tuple((_int(a, 0), _int(b, 0)) for a, b in value)
    if rank == 1 and isinstance(value, (list, tuple)) and len(value) == 2:
        return ((_int(value[0], 0), _int(value[1], 0)),)
    return tuple((p, p) for p in _tuple(value, rank, 0))


def boolean(value: Any, rank: int = 0) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise SpecError(f"expected true or false, got {value!r}")
    return value


def activation(value: Any, rank: int = 0) -> str:
    """An activation name; ``None`` means ``linear`` (no activation), as in Keras."""
    if value is None:
        return "linear"
    if isinstance(value, str) and value.strip().lower() in ACTIVATIONS:
        return value.strip().lower()
    raise SpecError(f"unknown activation {value!r} (known: {', '.join(ACTIVATIONS)})")


def rate(value: Any, rank: int = 0) -> float:
    """A fraction in [0, 1)."""
    number = real(value)
    if not 0 <= number < 1:
        raise SpecError(f"expected a rate in [0, 1), got {value!r}")
    return number


def real(value: Any, rank: int = 0) -> float:
    """A finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise SpecError(f"expected a number, got {value!r}")
    if abs(value) > 1e300:
        raise SpecError(f"number {value!r} is out of range")
    return float(value)


def optional_data_format(value: Any, rank: int = 0) -> DataFormat | None:
    """``channels_last``, ``channels_first``, or None (the model's data format)."""
    return None if value is None else DataFormat.parse(value, "data_format")


def optional_axis(value: Any, rank: int = 0) -> int | None:
    """A Keras axis (counting the batch axis as 0; negative from the end), or None for the channel axis."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]  # Keras serializes BatchNormalization(axis=-1) as [-1] in some versions
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 64:
        raise SpecError(f"expected an axis integer, got {value!r}")
    return value


def optional(coerce: Coercer) -> Coercer:
    """The coercer for an argument whose ``None`` means "not given" (kept as None)."""
    return lambda value, rank: None if value is None else coerce(value, rank)


def shape_text(text: str, what: str = "input shape") -> list[int]:
    """``200x200x1``, ``200,200,1``, ``200 200 1`` or ``(200, 200, 1)`` as sizes.

    One separator throughout (``x``, a comma, or spaces alone; spaces around ``x`` and commas are
    fine), ASCII digits only: ``28 28`` is two axes, never 2828, and ``1_000`` or full-width digits
    are refused rather than read as Python's ``int()`` would.
    """
    body = text.strip()
    if len(body) >= 2 and (body[0], body[-1]) in (("(", ")"), ("[", "]")):
        body = body[1:-1].strip()
    if "," in body:
        parts = body.split(",")
    elif "x" in body.lower():
        parts = re.split("[xX]", body)
    else:
        parts = body.split()
    if not parts or not all(re.fullmatch("[0-9]+", part.strip()) for part in parts):
        raise SpecError(
            f"{what} {text!r} is not like 200x200x1 (sizes in ASCII digits, separated by x, "
            "by commas or by spaces, one kind throughout)"
        )
    return [int(part) for part in parts]


def shape(value: Any, what: str = "input shape") -> tuple[int, ...]:
    """A shape without the batch axis: a list of positive integers, or text like ``200x200x1``."""
    sizes = free_shape(value, what)
    if None in sizes:
        raise SpecError(f"{what} {_shown(value)}: expected a positive integer, got None")
    return tuple(n for n in sizes if n is not None)


def _shown(value: Any) -> Any:
    return "x".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def free_shape(value: Any, what: str = "input shape") -> tuple[int | None, ...]:
    """A shape whose sizes may be ``None`` (a Keras ``Input(shape=(None, None, 3))``: given later)."""
    shown = _shown(value)
    if isinstance(value, str):
        value = shape_text(value, what)
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"{what} must be a non-empty list of sizes like [200, 200, 1], got {value!r}")
    if len(value) > 8:
        raise SpecError(f"{what} has {len(value)} axes; at most 8 are supported")
    try:
        return tuple(None if v is None else _int(v, 1) for v in value)
    except SpecError as err:
        raise SpecError(f"{what} {shown}: {err.reason}") from None
