"""cnncalc: output shapes, parameter counts and costs of CNN layers, Keras and PyTorch rules.

The library API (stable):

    >>> import cnncalc
    >>> s = cnncalc.summarize(["conv:16,2,2,valid", "conv:32,3,padding=same"], input_shape=(200, 200, 1))
    >>> s.output_shape, s.total_params
    ((100, 100, 32), 4720)

Nothing here imports numpy, click or rich; the executor (``cnncalc.executor``) imports numpy.
"""

from __future__ import annotations

from typing import Any

from .errors import CnncalcError, ShapeError, SpecError
from .options import Convention, DataFormat
from .spec import Spec, parse
from .summary import LayerRow, Summary
from .summary import summarize as _summarize

__version__ = "0.1.0"

__all__ = [
    "CnncalcError",
    "Convention",
    "DataFormat",
    "LayerRow",
    "ShapeError",
    "Spec",
    "SpecError",
    "Summary",
    "parse",
    "summarize",
]


def summarize(
    source: Any,
    *,
    input_shape: Any = None,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
    dtype: str | None = None,
) -> Summary:
    """Summarize any spec form (see :func:`cnncalc.spec.parse`); ``input_shape`` as a tuple or ``"200x200x1"``;
    ``dtype`` (float32, float16, bfloat16, int8) sets the element size of the memory figures."""
    from .values import shape

    given = (
        None
        if input_shape is None
        else shape(input_shape if isinstance(input_shape, str) else list(input_shape))
    )
    return _summarize(
        parse(source), input_shape=given, convention=convention, data_format=data_format, dtype=dtype
    )
