"""The plain-data outcome of ``verify``: per-layer predicted vs real figures, and the whole run.

Produced by :func:`cnncalc.numeric.verify.verify` (which needs numpy); read by the renderers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .enums import VerifyStatus
from .summary import Summary


@dataclass(frozen=True)
class VerifyRow:
    """One layer: predicted and real shape and parameter count, numeric error, status."""

    name: str
    #: the layer's type as the summary's JSON writes it (``conv2d``)
    type: str
    class_name: str
    predicted_shape: tuple[int, ...]
    real_shape: tuple[int, ...] | None
    predicted_params: int
    real_params: int | None
    max_abs_error: float | None
    reference: str
    status: VerifyStatus
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when shape, params and numerics all agree (or the row is opaque: nothing to compare)."""
        return self.status is VerifyStatus.OK or self.status is VerifyStatus.OPAQUE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "type": self.type,
            "class_name": self.class_name,
            "predicted_shape": list(self.predicted_shape),
            "real_shape": None if self.real_shape is None else list(self.real_shape),
            "predicted_params": self.predicted_params,
            "real_params": self.real_params,
            "max_abs_error": self.max_abs_error,
            "reference": self.reference,
            "status": self.status.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class VerifyReport:
    """The whole run."""

    summary: Summary
    #: one per layer (a sequence that makes them when read: numeric.verify.VerifyRows)
    rows: Sequence[VerifyRow]
    batch: int
    dtype: str
    seed: int
    estimated_bytes: int

    @property
    def ok(self) -> bool:
        """True when every layer matched."""
        # numeric.verify.VerifyRows keeps whole only the rows that did not match (the others are
        # ok): only those are read, not 100,000 rows made one by one
        rows = getattr(self.rows, "kept_whole", lambda: self.rows)()
        return all(row.ok for row in rows)

    def row_fields(self) -> Iterator[tuple[Any, ...]]:
        """Every row's fields as a tuple, in :class:`VerifyRow`'s order (what a table reads, without
        a record made per row: numeric.verify.VerifyRows gives its matched rows' fields directly)."""
        fields = getattr(self.rows, "fields", None)
        if fields is not None:
            return iter(fields())
        names = [f.name for f in dataclasses.fields(VerifyRow)]
        return (tuple(getattr(row, name) for name in names) for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``verify --format json`` document."""
        return {
            "ok": self.ok,
            "batch": self.batch,
            "dtype": self.dtype,
            "seed": self.seed,
            "estimated_bytes": self.estimated_bytes,
            "input_shape": list(self.summary.input_shape),
            "convention": self.summary.convention.value,
            "data_format": self.summary.data_format.value,
            "layers": [row.to_dict() for row in self.rows],
        }
