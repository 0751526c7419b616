"""Run a model through the NumPy executor and compare real tensors with the core's predictions.

Produces a plain-data :class:`~cnncalc.report.VerifyReport`; rendering lives in :mod:`cnncalc.render`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast, overload

import numpy as np

from ..enums import VerifyStatus
from ..errors import Option, ResourceError
from ..geometry import Shape, fmt_shape
from ..report import VerifyReport, VerifyRow
from ..summary import LayerRow, Summary, known
from . import executor as X
from . import reference as R

#: The loop reference is skipped above this many inner-loop steps or multiply-accumulates
#: (about a second of Python loops or float64 mat-vecs on these machines).
NAIVE_STEPS = 300_000
NAIVE_MACS = 60_000_000
#: Relative tolerance of the fast executor against the float64 loop reference.
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}
DEFAULT_MAX_MEMORY = 2 * 2**30

T = TypeVar("T")


#: Rough costs on these machines (benchmarks/executor.py): a multiply-accumulate in a GEMM, an
#: element through numpy, one Python-level step (a layer, an adaptive-pool window, a
#: transposed-conv tap) and one inner step of the loop reference.
_SECONDS_PER_MAC = 1 / 2e9
_SECONDS_PER_ELEMENT = 1 / 2e8
_SECONDS_PER_STEP = 5e-5
_SECONDS_PER_REFERENCE_STEP = 3e-6


def run_seconds(summary: Summary, batch: int) -> float:
    """About how long a verify run takes: GEMM work, elements moved, Python-level steps and loop
    reference steps. What the progress bar keys on, so a long run shows progress whatever its
    MAC count (an adaptive pool over a million windows has no MACs at all)."""
    ctx = summary.context
    seconds = 0.0
    # a repeated block's rows share their layer object: its figures are worked out once
    figures: dict[tuple[int, Any, Any, int], float] = {}
    for row in summary.layers:
        macs = known(row.macs, row.name)
        key = (id(row.layer), row.input_dims, row.output_dims, macs)
        layer_seconds = figures.get(key)
        if layer_seconds is None:
            elements = batch * (math.prod(row.input_shape) + math.prod(row.output_shape))
            steps = 1 + X.python_steps(row.layer, row.input_shape, row.output_shape, ctx)
            layer_seconds = batch * macs * _SECONDS_PER_MAC + elements * _SECONDS_PER_ELEMENT
            layer_seconds += steps * _SECONDS_PER_STEP
            work = R.work(row, ctx, batch)
            if work <= NAIVE_STEPS and batch * macs <= NAIVE_MACS:
                layer_seconds += work * _SECONDS_PER_REFERENCE_STEP
            figures[key] = _bounded(figures, layer_seconds)
        seconds += layer_seconds
    return seconds


#: Entries a per-run cache of per-layer figures keeps (a spec of distinct layers gains nothing
#: from it: it is emptied when full rather than grown by one entry per layer).
_KEPT = 4096


def _bounded(cache: dict[Any, Any], value: T) -> T:
    """``value``, after emptying ``cache`` if it is full (its caller then stores ``value``)."""
    if len(cache) >= _KEPT:
        cache.clear()
    return value


def estimate_bytes(
    summary: Summary,
    batch: int,
    itemsize: int,
    budget: int,
    reference_runs: Callable[[LayerRow], bool] = lambda row: False,
) -> int:
    """Peak bytes of a layer-by-layer run (an upper bound, checked against tracemalloc in the tests).

    Tensors still to be read, plus for the running layer: its inputs (and their stack, for a
    merge), the output with two temporaries (activation, bias), weights (drawn in the run's
    dtype) and every scratch buffer its forward pass allocates
    (:func:`~cnncalc.numeric.executor.scratch_elements`: padded copies, window tiles, a
    transposed conv's full scatter); where the loop reference runs, its float64 copies of input
    and weights, its output and the difference arrays. Pure integer arithmetic: nothing is
    allocated before the estimate is compared with the cap.
    """

    def size(shape: tuple[int, ...], bytes_per: int = itemsize) -> int:
        return batch * math.prod(shape) * bytes_per

    last: dict[str, int] = {}
    for position, row in enumerate(summary.layers):
        for source in row.inputs:
            last[source] = position
    alive = {name: size(shape) for name, shape in summary.model_inputs}
    alive_total = peak = sum(alive.values())
    # a repeated block's rows share their layer object: its figures are worked out once
    figures: dict[tuple[int, Any, Any, int, int], tuple[int, int]] = {}
    for position, row in enumerate(summary.layers):
        weights = row.params + row.buffers
        key = (id(row.layer), row.input_dims, row.output_dims, len(row.inputs), weights)
        found = figures.get(key)
        if found is None:
            running = (
                (len(row.inputs) + 1) * size(row.input_shape)
                + 3 * size(row.output_shape)
                + weights * itemsize
            )
            running += itemsize * X.scratch_elements(
                row.layer, row.input_shape, row.output_shape, summary.context, batch
            )
            if reference_runs(row):
                running += (
                    len(row.inputs) * size(row.input_shape, 8) + weights * 8 + 4 * size(row.output_shape, 8)
                )
            found = figures[key] = _bounded(figures, (running, size(row.output_shape)))
        running, output = found
        peak = max(peak, alive_total + running)
        alive_total += output - alive.get(row.name, 0)
        alive[row.name] = output
        for source in row.inputs:
            if last.get(source) == position:
                alive_total -= alive.pop(source, 0)
    # Allocator slack and numpy's small temporaries: measured within 4% of the tensors above on
    # the zoo models (tests/test_hardening.py keeps tracemalloc's peak under this figure).
    return int(peak * 1.2) + 8 * 2**20


def non_finite(y: np.ndarray) -> str | None:
    """What is not a finite number in an output ("2 NaN, 1 inf of 64 values"), or None."""
    finite = np.isfinite(y)
    if finite.all():
        return None
    nans = int(np.isnan(y).sum())
    infs = int(y.size - finite.sum()) - nans
    found = ", ".join(f"{n:,} {what}" for n, what in ((nans, "NaN"), (infs, "inf")) if n)
    return f"non-finite output: {found} of {y.size:,} values"


def verify(
    summary: Summary,
    *,
    batch: int = 1,
    dtype: str = "float32",
    seed: int = 0,
    max_memory: int = DEFAULT_MAX_MEMORY,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Run every layer on random data and compare with the summary (shapes, params, numerics).

    A NaN or an infinity in a layer's output (or its reference) fails that layer, named: a
    comparison with NaN would otherwise pass. NumPy's floating-point warnings are silenced; the
    report says what happened.
    """
    with np.errstate(all="ignore"):
        return _verify(summary, batch, dtype, seed, max_memory, progress)


def _verify(
    summary: Summary,
    batch: int,
    dtype: str,
    seed: int,
    max_memory: int,
    progress: Callable[[int], None] | None,
) -> VerifyReport:
    summary.require_known("verify")
    np_dtype = np.dtype(dtype)
    ctx = summary.context

    # A repeated block's rows share their layer object: the reference's size is worked out once
    # per (layer object, input shape), never the comparison itself (every row's own tensors).
    works: dict[tuple[int, Any], tuple[int, bool]] = {}

    def reference_work(row: LayerRow) -> tuple[int, bool]:
        """(inner-loop steps of the loop reference, whether it -- or a float64 recompute -- runs):
        it runs on layers small enough for it."""
        key = (id(row.layer), row.input_dims)  # the layer's output and MACs follow from these
        found = works.get(key)
        if found is None:
            work = R.work(row, ctx, batch)
            runs = work <= NAIVE_STEPS and batch * known(row.macs, row.name) <= NAIVE_MACS
            found = works[key] = _bounded(works, (work, runs))
        return found

    def reference_runs(row: LayerRow) -> bool:
        return reference_work(row)[1]

    estimate = estimate_bytes(summary, batch, np_dtype.itemsize, X.WINDOW_BUDGET, reference_runs)
    if estimate > max_memory:
        raise ResourceError(
            f"verify would need about {_size(estimate)} (batch {batch}, {dtype}), more than ",
            Option("max_memory", _size(max_memory)),
            "; use a smaller ",
            Option("input_shape"),
            " or ",
            Option("batch"),
            ", or raise ",
            Option("max_memory"),
        )
    rng = np.random.default_rng(seed)
    tensors = {
        name: rng.standard_normal((batch, *shape), dtype=np_dtype.type)
        for name, shape in summary.model_inputs
    }
    last = X.last_uses(summary)
    shared = {row.shares for row in summary.layers if row.shares is not None}
    kept: dict[str, X.Weights] = {}  # the weights of rows that later rows share
    rows = VerifyRows(summary.layers)
    matched = rows.matched
    failed = False
    tolerance = TOLERANCE.get(dtype, 1e-4)
    for index, row in enumerate(summary.layers):
        layer = row.layer
        # every size is known (require_known above): the dims are the shapes
        in_shape: Shape = row.input_dims  # type: ignore[assignment]
        predicted: Shape = row.output_dims  # type: ignore[assignment]
        predicted_params = row.trainable_params + row.non_trainable_params + row.buffers
        if failed:
            rows.append(_outcome(row, None, None, None, "-", VerifyStatus.NOT_RUN, "an earlier layer failed"))
            continue
        refused = layer.refusal()
        if refused is not None:
            # Nothing to compare (shapes and counts were recorded, not computed); the layers after
            # it still run, on random values of its recorded shape.
            rows.append(_outcome(row, None, None, None, "-", VerifyStatus.OPAQUE, refused))
            tensors[row.name] = rng.standard_normal((batch, *predicted), dtype=np_dtype.type)
            _free(tensors, row, last, index)
            if progress is not None:
                progress(index + 1)
            continue
        inputs = row.inputs
        x = tensors[inputs[0]] if len(inputs) == 1 and not layer.takes_many else X.gather(tensors, row)
        if row.shares is not None and row.shares in kept:
            # a shared layer's later call runs on the first call's weights, counted there
            weights, real_params = kept[row.shares], 0
        else:
            weights = X.init_weights(layer, in_shape, ctx, rng, np_dtype)
            params, buffers = X.count_weights(layer, weights, ctx)
            real_params = params + buffers
        if row.name in shared:
            kept[row.name] = weights
        try:
            y = X.forward(layer, x, weights, ctx)
        except (ValueError, TypeError) as err:
            rows.append(
                _outcome(row, None, real_params, None, "-", VerifyStatus.MISMATCH, f"executor: {err}")
            )
            failed = True
            continue
        shape = y.shape[1:]  # a tuple of ints
        real = predicted if shape == predicted else shape  # one tuple kept, not two equal ones
        error, reference, differs = None, "skipped: too large", False
        # Every row's own output against the reference on that row's own input and weights: a
        # repeated block is compared at every occurrence, so each row's error is its own.
        found = works.get((id(layer), in_shape))  # reference_work(row), without the call
        work, runs = reference_work(row) if found is None else found
        if runs:
            ref = R.naive_forward(layer, x, weights, ctx)
            if ref.shape == y.shape:
                diff = y - ref  # in float64 (ref's type), as y.astype(float64) - ref
                # the largest |difference| (maximum.reduce: ndarray.max without its Python wrapper)
                error = float(np.maximum.reduce(np.abs(diff, out=diff), axis=None)) if diff.size else 0.0
                reference = "loop reference" if work else "float64 recompute"
                # within tolerance x max(1, largest |ref|); the scale is looked at only when the
                # error is above the tolerance itself (NaN fails either way)
                if not error <= tolerance:
                    scale = max(1.0, float(np.abs(ref).max()) if ref.size else 1.0)
                    differs = not error <= tolerance * scale
            del ref  # not kept while the next layer runs
        # A finite largest difference from a reference of y's shape means every value of y is a
        # finite number; otherwise they are counted. A NaN or inf in y is named before the
        # difference it makes.
        bad_values = None if error is not None and math.isfinite(error) else non_finite(y)
        if bad_values is not None:
            rows.append(_outcome(row, real, real_params, None, "-", VerifyStatus.MISMATCH, bad_values))
            failed = True
            continue
        if differs:
            message = "values differ from the reference"
            rows.append(_outcome(row, real, real_params, error, reference, VerifyStatus.MISMATCH, message))
            failed = True
            continue
        problems = []
        if real != predicted:
            problems.append(f"shape: predicted {fmt_shape(predicted)}, real {fmt_shape(real)}")
        if real_params != predicted_params:
            problems.append(f"params: predicted {predicted_params:,}, real {real_params:,}")
        if problems:
            message = "; ".join(problems)
            rows.append(_outcome(row, real, real_params, error, reference, VerifyStatus.MISMATCH, message))
            failed = True
        else:
            matched(error, reference)
        tensors[row.name] = y
        if len(inputs) == 1:
            if last.get(inputs[0]) == index:
                del tensors[inputs[0]]
        else:
            _free(tensors, row, last, index)
        if progress is not None:
            progress(index + 1)
    return VerifyReport(summary, rows, batch, dtype, seed, estimate)


def _outcome(
    row: LayerRow,
    real: Shape | None,
    real_params: int | None,
    error: float | None,
    reference: str,
    status: VerifyStatus,
    message: str,
) -> VerifyRow:
    """A report row kept whole (any row that did not match): the layer, its predicted shape and
    parameters, and what the run found."""
    predicted = cast(Shape, row.output_dims)
    return VerifyRow(
        row.name,
        row.type,
        row.class_name,
        predicted,
        real,
        row.params + row.buffers,
        real_params,
        error,
        reference,
        status,
        message,
    )


def _free(tensors: dict[str, np.ndarray], row: LayerRow, last: dict[str, int], index: int) -> None:
    """Drop the tensors row ``index`` was the last to read (a merge may read one twice: once)."""
    for source in row.inputs if len(row.inputs) == 1 else set(row.inputs):
        if last.get(source) == index:
            del tensors[source]


class VerifyRows(Sequence[VerifyRow]):
    """A report's rows, one per layer, made when read: a row that matched on every count (real
    shape and parameters as predicted, the values within tolerance) is its summary row plus its
    error (8 bytes) and which reference ran (1 byte); any other row is kept whole. 100,000
    layers take about 1 MB, not one record each."""

    __slots__ = ("_layers", "_errors", "_references", "_other")

    def __init__(self, layers: Sequence[LayerRow]) -> None:
        self._layers = layers
        self._errors = array("d")  # NaN: no error (the reference did not run)
        self._references = bytearray()  # an index into _REFERENCES; _OTHER: kept whole
        self._other: dict[int, VerifyRow] = {}

    def matched(self, error: float | None, reference: str) -> None:
        """The next row: as predicted, with this error (None: not compared) and reference."""
        self._errors.append(math.nan if error is None else error)
        self._references.append(_CODES[reference])

    def append(self, row: VerifyRow) -> None:
        """The next row, kept whole."""
        self._other[len(self._references)] = row
        self._errors.append(math.nan)
        self._references.append(_OTHER)

    def kept_whole(self) -> list[VerifyRow]:
        """The rows kept whole, in order: every row that did not match is among them."""
        return list(self._other.values())

    def __len__(self) -> int:
        return len(self._references)

    def __iter__(self) -> Iterator[VerifyRow]:
        other, layers, errors = self._other, self._layers, self._errors
        for index, code in enumerate(self._references):
            yield other[index] if code == _OTHER else _matched(layers[index], errors[index], code)

    def fields(self) -> Iterator[tuple[Any, ...]]:
        """Each row's fields in :class:`~cnncalc.report.VerifyRow`'s order (``astuple`` of each row
        as iterating gives it), a matched row's without making its record."""
        other, layers, errors = self._other, self._layers, self._errors
        ok, nan = VerifyStatus.OK, math.isnan
        for index, code in enumerate(self._references):
            if code == _OTHER:
                row = other[index]
                yield (
                    row.name,
                    row.type,
                    row.class_name,
                    row.predicted_shape,
                    row.real_shape,
                    row.predicted_params,
                    row.real_params,
                    row.max_abs_error,
                    row.reference,
                    row.status,
                    row.message,
                )
                continue
            layer, error = layers[index], errors[index]
            shape, params = layer.output_dims, layer.params + layer.buffers
            yield (
                layer.name,
                layer.type,
                layer.class_name,
                shape,
                shape,
                params,
                params,
                None if nan(error) else error,
                _REFERENCES[code],
                ok,
                "",
            )

    @overload
    def __getitem__(self, index: int) -> VerifyRow: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[VerifyRow, ...]: ...
    def __getitem__(self, index: int | slice) -> VerifyRow | tuple[VerifyRow, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        code = self._references[index]  # IndexError past the end, as a tuple's
        if code == _OTHER:
            return self._other[index]
        return _matched(self._layers[index], self._errors[index], code)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable while verify runs, like a list


def _matched(row: LayerRow, error: float, reference: int) -> VerifyRow:
    """The report row of a layer that matched: real shape and parameters as predicted."""
    shape, params = row.output_shape, row.params + row.buffers
    return VerifyRow(
        row.name,
        row.type,
        row.class_name,
        shape,
        shape,
        params,
        params,
        None if math.isnan(error) else error,
        _REFERENCES[reference],
        VerifyStatus.OK,
        "",
    )


#: The references a matched row names (by index); _OTHER marks a row kept whole.
_REFERENCES = ("loop reference", "float64 recompute", "skipped: too large")
_OTHER = 255
_CODES = {reference: code for code, reference in enumerate(_REFERENCES)}


def _size(size: int) -> str:
    """Bytes in the largest binary unit up to GiB that keeps a figure >= 1: ``976.56 KiB``,
    ``2.00 GiB``, ``1475.18 GiB`` (a small limit must not print as ``0.00 GiB``)."""
    units = ("B", "KiB", "MiB", "GiB")
    value, index = float(size), 0
    while value >= 1024 and index < len(units) - 1:
        value, index = value / 1024, index + 1
    return f"{size:,} B" if index == 0 else f"{value:.2f} {units[index]}"
