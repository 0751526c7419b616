"""Hints that guess the user's slip from the shape they gave: the axis order, a missing channel
axis, a batch axis given too, a forgotten flatten. Each candidate is tried for real (``works``
runs the whole model on it), so a hint is only given when it fixes the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .enums import DataFormat
from .errors import Option, Part

Shape = tuple[int, ...]

#: Models longer than this get no tried-for-real input hints (each try runs the whole model).
MAX_LAYERS = 2_000


def input_fix(
    given: Shape, data_format: DataFormat, pytorch: bool, works: Callable[[Shape], bool]
) -> tuple[Part, ...] | None:
    """A hint naming an input shape that works when ``given`` does not: without a leading batch
    axis of 1, with a channel axis of 1 added, or with the channels moved to where the model
    reads them (PyTorch reads C x H x W); None when none of them works."""
    layout = "C x H x W" if data_format is DataFormat.CHANNELS_FIRST else "H x W x C"
    who = "PyTorch reads" if pytorch and data_format is DataFormat.CHANNELS_FIRST else "this model reads"
    if len(given) >= 2 and given[0] == 1 and works(given[1:]):
        return (
            "drop the batch axis: ",
            Option("input_shape", _text(given[1:])),
            " (sizes without the batch)",
        )
    channel = (1, *given) if data_format is DataFormat.CHANNELS_FIRST else (*given, 1)
    if len(given) <= 3 and works(channel):
        return ("one channel? ", Option("input_shape", _text(channel)), f" ({layout})")
    # The axes in another order, where the model reads them: first the other framework's layout
    # (channels given last to a channels-first model, PyTorch code given 32x32x3, or an
    # image-like channel count first to a channels-last one, 3x32x32), then any axis moved to
    # the channel position, then every other order (32x3x32 -> 3x32x32).
    for order in _orders(given, data_format):
        if works(order):
            return (f"{who} {layout}: did you mean ", Option("input_shape", _text(order)), "?")
    return None


#: A leading axis this small looks like channels (gray, RGB, RGBA) given first by mistake.
MAX_IMAGE_CHANNELS = 4


#: Shapes with more axes than this get only the layout moves (each order tried runs the model).
MAX_PERMUTED_AXES = 4


def _orders(given: Shape, data_format: DataFormat) -> list[Shape]:
    """The reorderings of ``given`` to try, likeliest first, each once and never ``given``."""
    import itertools

    if len(given) < 2:
        return []
    first = data_format is DataFormat.CHANNELS_FIRST
    likely = [(given[-1], *given[:-1])] if first else [(*given[1:], given[0])]
    # one axis moved to where the model reads channels, the others in their order
    for i in range(len(given)):
        rest = given[:i] + given[i + 1 :]
        likely.append((given[i], *rest) if first else (*rest, given[i]))
    if len(given) <= MAX_PERMUTED_AXES:
        likely += list(itertools.permutations(given))
    # A Keras conv takes any channel count, so many orders "work" there: only an image-like
    # channel count (gray, RGB, RGBA) is suggested for a channels-last model.
    return [
        order
        for order in dict.fromkeys(likely)
        if order != given and (first or order[-1] <= MAX_IMAGE_CHANNELS)
    ]


def flatten_fix(argument: str, given: int, in_shape: Shape) -> str | None:
    """A Linear/Dense declared for a flat input (``in_features``) that gets a tensor with spatial
    axes: the flatten it is missing, and the ``in_features`` it would then need."""
    if argument not in ("in_features", "n_in") or len(in_shape) < 2:
        return None
    flat = math.prod(in_shape)
    shown = "x".join(map(str, in_shape))
    then = f"; {argument}={given} then fits" if flat == given else f"; then {argument}={flat}"
    return f"did you forget a flatten before it? ({shown} = {flat}{then})"


def _text(shape: Shape) -> str:
    return "x".join(map(str, shape))
