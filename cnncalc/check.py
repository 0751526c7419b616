"""Expectations in a spec, compared with what the core computes: the logic behind ``cnncalc check``.

Two sources of expectations, both optional:

* result fields written by ``summary --format json`` (model-level ``output_shape``,
  ``total_params``, ... and per-layer ``output_shape``, ``params``, ...), read back as snapshots;
* an explicit ``"expect"`` object: the same snapshot fields, per-layer expectations by name or
  1-based position, and budgets ``max_params``, ``max_macs``, ``max_activation_bytes``.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .engine import summarize
from .enums import CheckStatus
from .errors import CnncalcError, Option, SpecError
from .io.document import decode_json, loads, stream_results, stream_spec
from .io.files import (
    MAX_SPEC_BYTES,
    decode,
    expand_sources,
    open_regular,
    read_bytes,
    read_head,
    read_text,
    source_name,
    unmatched_glob,
)
from .io.jsonstream import Irregular, Window
from .io.sources import read_spec, sniff
from .io.spec import Spec
from .summary import LAYER_RESULTS, MODEL_RESULTS, LayerRow, Summary, json_lines

#: Budgets: expect key -> (Summary attribute, what it limits).
BUDGETS = {
    "max_params": "total_params",
    "max_macs": "total_macs",
    "max_activation_bytes": "activation_bytes",
}
_EXPECT_KEYS = frozenset({*MODEL_RESULTS, *BUDGETS, "layers"})


#: Result fields a change is about: shapes and parameter counts. The others (costs, bytes,
#: receptive fields) follow from them; in a snapshot they are summarised, not listed one by one.
PRIMARY = frozenset(
    {
        "output_shape",
        "params",
        "trainable_params",
        "non_trainable_params",
        "buffers",
        "total_params",
        "total_buffers",
    }
)


@dataclass(frozen=True)
class Difference:
    """One failed expectation: where (model or layer), which field, expected and actual values;
    ``derived`` when it is a snapshot figure that follows from the shapes and params."""

    where: str
    field: str
    expected: Any
    actual: Any
    derived: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "where": self.where,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "derived": self.derived,
        }


@dataclass(frozen=True)
class Expectation:
    """One thing a spec asks about: where, which field, the expected value, the actual one, and
    whether it came from a snapshot (result fields read back) rather than ``expect``."""

    where: str
    field: str
    expected: Any
    actual: Any
    snapshot: bool = False

    @property
    def derived(self) -> bool:
        """A snapshot figure that follows from shapes and params (summarised in reports)."""
        return self.snapshot and self.field not in PRIMARY and self.field not in BUDGETS


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one spec: differences, or the error that kept it from being checked."""

    source: str
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    checked: int = 0
    #: the spec had nothing to check (an error unless empty specs are allowed)
    empty: bool = False
    #: model code or a saved model, which holds no expectations (``--expect FILE`` gates it)
    model: bool = False

    @property
    def listed(self) -> tuple[Difference, ...]:
        """The differences a report lists one by one: the primary ones (shapes, params, budgets,
        anything under ``expect``) when there are any, else all of them."""
        primary = tuple(d for d in self.differences if not d.derived)
        return primary or self.differences

    @property
    def summarised(self) -> tuple[Difference, ...]:
        """The derived differences a report folds into one line (those not in :attr:`listed`)."""
        listed = set(map(id, self.listed))
        return tuple(d for d in self.differences if id(d) not in listed)

    @property
    def status(self) -> CheckStatus:
        """``pass``, ``fail`` (differences) or ``error`` (unreadable or impossible spec)."""
        return CheckStatus.ERROR if self.error else CheckStatus.FAIL if self.differences else CheckStatus.PASS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "status": self.status.value,
            "checked": self.checked,
            "error": self.error,
            "differences": [d.to_dict() for d in self.differences],
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _layer_actual(row: LayerRow, key: str) -> Any:
    return row.result(key)


def _model_actual(summary: Summary, key: str) -> Any:
    return summary.result(key)


def _layer_index(summary: Summary, key: Any, names: dict[str, int] | None = None) -> int:
    """The row an expect.layers key names: a 1-based position or a layer name (``names``: the
    name -> index map, built once per spec so many keys stay linear)."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        index = int(key) - 1
        if 0 <= index < len(summary.layers):
            return index
        raise SpecError(f"expect.layers: there is no layer {key} (the model has {len(summary.layers)})")
    names = names if names is not None else _names(summary)
    if key in names:
        return names[key]
    raise SpecError(f"expect.layers: no layer named {key!r}")


def _names(summary: Summary) -> dict[str, int]:
    return {row.name: row.index for row in summary.layers}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid(key: str, value: Any) -> bool:
    """Whether an expected value has the type its field has in the JSON output (``null``: a size
    or figure the model leaves unknown, as ``--format json`` writes it for ``None`` sizes)."""
    if key == "output_shape":
        return (
            isinstance(value, list)
            and bool(value)
            and all(v is None or (_is_count(v) and v > 0) for v in value)
        )
    if value is None:
        return key != "receptive_field"
    if key == "receptive_field":
        if value in ("global", "untracked"):
            return True
        return (
            isinstance(value, dict)
            and set(value) == {"size", "jump", "start"}
            and all(
                isinstance(v, list) and all(isinstance(n, (int, float)) for n in v) for v in value.values()
            )
        )
    return _is_count(value)


_KIND_OF_VALUE = {
    "output_shape": "a list of positive integers (or null) like [100, 100, 16]",
    "receptive_field": '"global", "untracked" or {"size": [...], "jump": [...], "start": [...]}',
}


def _typed(label: str, key: str, value: Any) -> Any:
    """The expected value, or SpecError naming where it is (``label``) and what it should be."""
    if not _valid(key, value):
        wanted = _KIND_OF_VALUE.get(key, "a whole number >= 0")
        raise SpecError(f"{label} must be {wanted} to be checked, got {json.dumps(value)}")
    return value


def _budget(key: str, limit: Any) -> float:
    """A budget: a finite number >= 0 (NaN, Infinity or 1e400 would silently disable it)."""
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise SpecError(f"expect.{key} must be a number, got {json.dumps(limit)}")
    if not math.isfinite(limit) or limit < 0:
        raise SpecError(f"expect.{key} must be a finite number >= 0, got {limit!r}")
    return limit


def expectations(spec: Spec, summary: Summary, paired: bool = True) -> list[Expectation]:
    """Every expectation the spec holds, snapshots (result fields) then ``expect`` then budgets;
    expected values are type-checked (a string where a count belongs is a SpecError).
    ``paired=False``: the spec's layers are not the summary's, so their snapshots are skipped."""
    return list(_expectations(spec, summary, paired))


def _expectations(spec: Spec, summary: Summary, paired: bool = True) -> Iterator[Expectation]:
    """:func:`expectations` one at a time."""
    yield from _model_snapshots(spec, summary)
    if paired:
        for where, key, value, actual in _layer_snapshots(spec, summary):
            yield Expectation(where, key, value, actual, True)
    yield from _expected(spec, summary)


def _model_snapshots(spec: Spec, summary: Summary) -> Iterator[Expectation]:
    for key, expected in spec.results.items():
        value = _typed(key, key, expected)
        yield Expectation("model", key, value, _model_actual(summary, key), True)


def _layer_snapshots(
    spec: Spec, summary: Summary, layer_results: Iterable[Mapping[str, Any]] | None = None
) -> Iterator[tuple[str, str, Any, Any]]:
    """(where, field, expected, actual) of each layer's result fields: plain tuples, as a
    snapshot of 100,000 layers holds over a million of them. ``layer_results``: each layer's
    result fields in spec order, when the spec's layers were read without them."""
    results = (ls.results for ls in spec.layers) if layer_results is None else layer_results
    for fields, row in zip(results, summary.layers, strict=True):
        if not fields:
            continue
        where = _where(row)
        for key, expected in fields.items():
            yield where, key, _typed(f"{where}: {key}", key, expected), _layer_actual(row, key)


#: Layer result fields whose expected value is not a count.
_NOT_COUNTS = frozenset({"output_shape", "receptive_field"})
_INT = frozenset({int})


_FIELD_WORDS = ("global", "untracked")
_FIELD_KEYS = frozenset({"size", "jump", "start"})
_NUMBERS = frozenset({int, float, bool})  # what isinstance(n, (int, float)) accepts from JSON


def _field(value: Any) -> bool:
    """A receptive field as JSON writes it (size, jump and start lists of numbers), tested
    without a call per number: a snapshot has one per layer."""
    if type(value) is not dict or value.keys() != _FIELD_KEYS:
        return False
    size, jump, start = value["size"], value["jump"], value["start"]
    if type(size) is not list or type(jump) is not list or type(start) is not list:
        return False
    return set(map(type, size + jump + start)) <= _NUMBERS


def _positive(sizes: list[Any]) -> bool:
    """A non-empty list of whole numbers > 0 (a valid output_shape without ``None``), tested
    in C: a snapshot has one per layer."""
    return bool(sizes) and set(map(type, sizes)) == _INT and min(sizes) > 0


def _layer_differences(
    spec: Spec, summary: Summary, layer_results: Iterable[Mapping[str, Any]] | None
) -> tuple[list[Difference], int]:
    """The differences among the layers' result fields and how many were checked: what
    ``compare`` makes of :func:`_layer_snapshots`, in one loop (a snapshot of 100,000 layers
    holds over a million expectations, nearly all of them counts that match)."""
    results = (ls.results for ls in spec.layers) if layer_results is None else layer_results
    differences = []
    count = 0
    # the last receptive field's JSON form: consecutive rows share the field object (a layer
    # without a window keeps its input's), and a field's JSON takes a while to make
    last_field: tuple[Any, Any] = (None, None)
    for expected_fields, row in zip(results, summary.layers, strict=True):
        if not expected_fields:
            continue
        count += len(expected_fields)
        for key, expected in expected_fields.items():
            # The fast paths below only shorten what _typed would let through as is (a value it
            # refuses always takes the last branch, which says why).
            if type(expected) is int and expected >= 0 and key not in _NOT_COUNTS:
                # a count field is its attribute as is (LayerRow.result converts only _NOT_COUNTS)
                actual = getattr(row, key)
            elif key == "receptive_field" and (expected in _FIELD_WORDS or _field(expected)):
                if last_field[0] is not row.receptive_field or last_field[0] is None:
                    last_field = (row.receptive_field, row.result(key))
                actual = last_field[1]
            elif key == "output_shape" and type(expected) is list and _positive(expected):
                actual = row.result(key)
            else:
                expected = _plain(_typed(f"{_where(row)}: {key}", key, expected))
                actual = row.result(key)
            if expected != actual:  # never a budget: the fields are LAYER_RESULTS
                derived = key not in PRIMARY  # Expectation.derived of a snapshot
                differences.append(Difference(_where(row), key, expected, actual, derived))
    return differences, count


def _expected(spec: Spec, summary: Summary) -> Iterator[Expectation]:
    """The ``expect`` object's expectations, then the budgets."""
    expect = spec.expect
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        raise SpecError(
            f"unknown key {sorted(unknown)[0]!r} in expect (known: {', '.join(sorted(_EXPECT_KEYS))})"
        )
    for key in MODEL_RESULTS:
        if key in expect:
            value = _typed(f"expect.{key}", key, expect[key])
            yield Expectation("model", key, value, _model_actual(summary, key))
    layers = expect.get("layers", {})
    if isinstance(layers, list):
        layers = {str(i + 1): value for i, value in enumerate(layers)}
    if not isinstance(layers, dict):
        raise SpecError("expect.layers must be an object (by name or 1-based position) or a list")
    names = _names(summary) if layers else {}
    for key, fields in layers.items():
        row = summary.layers[_layer_index(summary, key, names)]
        if not isinstance(fields, dict) or set(fields) - set(LAYER_RESULTS):
            raise SpecError(
                f"expect.layers[{key!r}] must be an object with some of {', '.join(LAYER_RESULTS)}"
            )
        for name, expected in fields.items():
            where = _where(row)
            value = _typed(f"expect.layers[{key!r}].{name}", name, expected)
            yield Expectation(where, name, value, _layer_actual(row, name))
    for key, attribute in BUDGETS.items():
        if key in expect:
            yield Expectation("model", key, _budget(key, expect[key]), getattr(summary, attribute))


def _where(row: LayerRow) -> str:
    return f"layer {row.index + 1} {row.name}"


def compare(
    spec: Spec,
    summary: Summary,
    paired: bool = True,
    layer_results: Iterable[Mapping[str, Any]] | None = None,
) -> tuple[tuple[Difference, ...], int]:
    """(differences, number of expectations checked). Budgets fail when actual > limit.

    ``layer_results``: each layer's result fields in spec order, for a spec read without them
    (:func:`~cnncalc.io.document.stream_spec`); default: the layer specs' own."""
    differences = []
    count = 0
    for c in _model_snapshots(spec, summary):
        count += 1
        if _failed(c.field, c.expected, c.actual):
            differences.append(Difference(c.where, c.field, c.expected, c.actual, c.derived))
    if paired:
        layered, checked = _layer_differences(spec, summary, layer_results)
        differences += layered
        count += checked
    for c in _expected(spec, summary):
        count += 1
        if _failed(c.field, c.expected, c.actual):
            differences.append(Difference(c.where, c.field, c.expected, c.actual, c.derived))
    return tuple(differences), count


def _failed(key: str, expected: Any, actual: Any) -> bool:
    if key in BUDGETS:  # a budget on a figure that is unknown (None sizes) cannot pass
        return actual is None or actual > expected
    return bool(_plain(expected) != actual)


def _asks_for_input(err: CnncalcError) -> bool:
    """The error asks for the model's input shape (model code without a sample input)."""
    return any(isinstance(part, Option) and part.name == "input_shape" for part in err.parts)


def _gate(source: str, *, known: bool = False) -> str:
    """How model code is gated in CI (docs/ci.md): a snapshot, then ``check --expect`` reading the
    code afresh; ``--input`` unless the code's sample input gives the shape (``known``)."""
    snapshot = os.path.splitext(os.path.basename(source))[0] + ".cnncalc.json"
    shape = "" if known else " --input SHAPE"
    needs = "" if known else " (SHAPE without the batch axis, e.g. 3x32x32)"
    return (
        "model code holds no expectations (it computes): gate it with --expect FILE against a snapshot, "
        f"`cnncalc summary -f {source}{shape} --format json > {snapshot}` then "
        f"`cnncalc check {source}{shape} --expect {snapshot}`{needs}"
    )


def check_text(text: str, source: str, *, allow_empty: bool = False) -> CheckResult:
    """Parse, summarize and compare one spec; bad input becomes an ``error`` result, not an exception."""
    return check_spec(lambda: loads(text, source), source, allow_empty=allow_empty)


def check_spec(
    read: Callable[[], Spec],
    source: str,
    *,
    allow_empty: bool = False,
    saved: bool = False,
    layer_results: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
) -> CheckResult:
    """Read (``read()``), summarize and compare one spec; bad input becomes an ``error`` result.

    A spec with no expectations at all is an error too (a CI gate that checks nothing must not
    pass by accident), unless ``allow_empty``; ``saved`` (a saved Keras model, which cannot hold
    expectations) only changes what the message suggests. ``layer_results()``: the layers'
    result fields, for a spec read without them (see :func:`compare`).
    """
    try:
        spec = read()
        summary = summarize(spec)
        differences, count = compare(
            spec, summary, layer_results=None if layer_results is None else layer_results()
        )
    except CnncalcError as err:
        if saved and not allow_empty and source.endswith(".py") and _asks_for_input(err):
            # model code with no sample input: what it needs is the way to gate it, not a shape
            return CheckResult(
                source, error=f"{source}: nothing to check: {_gate(source)}", empty=True, model=True
            )
        message = str(err)
        error = message if message.startswith(source) else f"{source}: {message}"
        return CheckResult(source, error=error, model=saved)
    if count == 0 and not allow_empty:
        if saved and source.endswith(".py"):
            why = _gate(source, known=True)
        elif saved:
            why = (
                "a saved model holds no expectations, nor does model code (it computes): give a snapshot "
                "with --expect FILE, written by `cnncalc summary -f MODEL --format json > FILE`"
            )
        else:
            why = 'no result fields and no "expect" object'
        return CheckResult(source, error=f"{source}: nothing to check: {why}", empty=True, model=saved)
    # No Summary kept: a run over thousands of specs holds only these small records.
    return CheckResult(source, differences, checked=count, empty=count == 0)


def updated_document(text: str, source: str) -> tuple[str, list[Difference]]:
    """The spec text with every snapshot expectation set to the current figure (budgets untouched).

    Returns the new text and what changed. Raises CnncalcError if the spec cannot be checked, or
    if it is a Keras ``model.to_json()`` document whose figures differ (its layers do not map
    one-to-one onto the spec's, so it is never rewritten).
    """
    spec = loads(text, source)
    summary = summarize(spec)
    doc = decode_json(text, source)
    changes = [d for d in compare(spec, summary)[0] if d.field not in BUDGETS]
    if not changes:
        return text, changes
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise SpecError(
            f"{source}: cannot update a Keras model.to_json() document "
            f"({len(changes)} figure{'s' if len(changes) != 1 else ''} differ); "
            "write it as a cnncalc spec with `summary --format json`"
        )
    new = doc  # decoded for this alone: rewritten in place (a deep copy of 100,000 layers took 20 s)
    for key in spec.results:
        new[key] = _model_actual(summary, key)
    for raw, ls, row in zip(new["layers"], spec.layers, summary.layers, strict=True):
        if isinstance(raw, dict):
            for key in ls.results:
                raw[key] = _layer_actual(row, key)
    expect = new.get("expect")
    if isinstance(expect, dict):
        for key in MODEL_RESULTS:
            if key in expect:
                expect[key] = _model_actual(summary, key)
        layers = expect.get("layers", {})
        keyed: dict[Any, Any] = (
            {i + 1: f for i, f in enumerate(layers)} if isinstance(layers, list) else layers
        )
        names = _names(summary)
        for key, fields in keyed.items():
            row = summary.layers[_layer_index(summary, key, names)]
            for name in fields:
                fields[name] = _layer_actual(row, name)
    return json_lines(new), changes


@dataclass(frozen=True)
class CheckRun:
    """A whole ``cnncalc check``: one result per spec, and what ``update`` rewrote (source, change)."""

    results: tuple[CheckResult, ...]
    updates: tuple[tuple[str, Difference], ...] = ()
    #: why ``update`` wrote nothing (some spec could not be checked), else None
    not_updated: str | None = None

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 some differ, 2 some could not be read or computed."""
        statuses = {r.status for r in self.results}
        return 2 if CheckStatus.ERROR in statuses else 1 if CheckStatus.FAIL in statuses else 0


def _saved_model(path: str) -> bool:
    try:
        return sniff(read_head(path)) is not None
    except CnncalcError:
        return False  # unreadable: the text reader below says why


Checked = tuple[CheckResult, str | None, list[Difference]]


def _check_one(source: str, *, update: bool, allow_empty: bool) -> Checked:
    """One spec's result and, when ``update`` and it is a file whose figures changed, its new
    text (else None) and the changes. Nothing is written here."""
    if unmatched_glob(source):
        return CheckResult(source, error=f"no file matches {source}"), None, []
    if update and source == "-":
        error = "standard input cannot be updated: give the spec's file"
        return CheckResult(source_name(source), error=error), None, []
    if source != "-" and os.path.isfile(source) and (_saved_model(source) or source.endswith(".py")):
        # A saved Keras model (.keras, .h5) or model code (.py) holds no expectations to
        # compare or rewrite: it only shows that the model computes, which passes only when
        # empty specs may.
        read = functools.partial(read_spec, source)
        return check_spec(read, source, allow_empty=allow_empty, saved=True), None, []
    if not update:
        return _check_read(source, allow_empty=allow_empty), None, []
    try:
        text = read_text(source)
    except CnncalcError as err:
        return CheckResult(source, error=str(err)), None, []
    new_text: str | None = None
    changes: list[Difference] = []
    if update:
        try:
            new_text, changes = updated_document(text, source)
        except CnncalcError as err:
            message = str(err) if str(err).startswith(source) else f"{source}: {err}"
            return CheckResult(source, error=message), None, []
        if changes:
            text = new_text
        else:
            new_text = None
    return check_text(text, source_name(source), allow_empty=allow_empty), new_text, changes


#: A spec text this long or longer is read a layer at a time (:func:`_check_read`); a shorter one
#: is decoded whole, which is faster when there is little to hold.
STREAM_FROM = 1 << 20
#: Bytes of a file read at once when its layers' result fields are read again.
CHUNK = 1 << 20


class _Reread(Exception):
    """A file read again was not what it was (changed meanwhile) or not read as before."""


def _check_read(source: str, *, allow_empty: bool) -> CheckResult:
    """One spec file (or standard input) checked, without an update: ``check_text`` of its text.

    A long text (:data:`STREAM_FROM`) is read a layer at a time (:mod:`cnncalc.io.jsonstream`),
    twice: first its layers without their result fields, which are summarized; then the result
    fields, layer by layer, each compared with its row as it is read. So the decoded document
    (2 KB a layer as Python objects) never exists, and neither do a million expectations; a
    file's text is dropped before the summary is made and read again in chunks (its digest must
    be what the first reading's was). Any text the fast reader does not read, any error, and a
    file that changed are checked by ``check_text``, whose results and messages are the
    reference: this is only a faster way to the same result."""
    try:
        data = read_bytes(source)
        text = decode(data, source)
    except CnncalcError as err:
        return CheckResult(source, error=str(err))
    name = source_name(source)
    if len(data) < STREAM_FROM:
        return check_text(text, name, allow_empty=allow_empty)
    import hashlib  # only a long spec needs it (10 ms of start-up)

    again = source != "-"  # standard input cannot be read twice: its text is kept
    digest = hashlib.blake2b(data).digest() if again else b""
    del data
    try:
        spec = stream_spec(Window((text,)))
    except (CnncalcError, Irregular):
        return check_text(text, name, allow_empty=allow_empty)
    if again:
        del text  # the summary is made without it: the result fields are read from the file
        results = functools.partial(_results_again, source, digest)
    else:
        results = functools.partial(stream_results, Window((text,), strict=False))
    try:
        result = check_spec(lambda: spec, name, allow_empty=allow_empty, layer_results=results)
    except (_Reread, ValueError):  # ValueError: a file read again with another number of layers
        result = None
    if result is None or (again and result.error is not None):
        # changed since, or an error: its words are those of the whole text read afresh
        try:
            return check_text(read_text(source), name, allow_empty=allow_empty)
        except CnncalcError as err:
            return CheckResult(source, error=str(err))
    return result


def _results_again(path: str, digest: bytes) -> Iterator[Mapping[str, Any]]:
    """The layers' result fields of the file at ``path``, read again a chunk at a time;
    :class:`_Reread` if it does not read as it did, or its bytes are not those whose ``digest``
    was taken (known at its end, which ``compare`` reaches before it returns: it pairs the
    fields with the rows strictly, so it asks for one more after the last)."""
    try:
        yield from stream_results(Window(_chunks(path, digest), strict=False))
    except (Irregular, ValueError, RecursionError, CnncalcError):
        raise _Reread from None


def _chunks(path: str, digest: bytes) -> Iterator[str]:
    """The text of a file, a chunk at a time; at its end, :class:`_Reread` unless its bytes
    hash to ``digest`` (and are at most MAX_SPEC_BYTES)."""
    import codecs
    import hashlib

    decoder = codecs.getincrementaldecoder("utf-8")()
    hashed = hashlib.blake2b()
    size = 0
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            while True:
                data = handle.read(CHUNK)
                size += len(data)
                if size > MAX_SPEC_BYTES:
                    raise _Reread
                hashed.update(data)
                if not data:
                    break
                yield decoder.decode(data)
            yield decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError, CnncalcError):
        raise _Reread from None
    if hashed.digest() != digest:
        raise _Reread


def run_checks(
    specs: Iterable[str],
    *,
    update: bool = False,
    allow_empty: bool = False,
    write: Callable[[str, str], object] | None = None,
) -> CheckRun:
    """Check every spec file ('-' is standard input; globs expanded). With ``update``, each file's
    snapshot expectations are first rewritten with the current figures (budgets are kept);
    standard input cannot be rewritten, so it is an error then. ``allow_empty`` lets a spec with
    no expectations pass.

    Specs are read and checked one at a time and only small records are kept, so memory stays
    flat however many files a glob matches. ``update`` checks every spec before writing any:
    when one cannot be read or checked, none is rewritten (``not_updated`` says why); each file
    is replaced whole by ``write(path, text)`` (the caller's; the CLI passes
    :func:`~cnncalc.io.files.write_atomic`, which is the default too).
    """
    from .io.files import write_atomic

    rewrite = write_atomic if write is None else write
    sources = expand_sources(specs)
    if not update:
        return CheckRun(tuple(_check_one(s, update=False, allow_empty=allow_empty)[0] for s in sources))
    checked = [_check_one(s, update=True, allow_empty=allow_empty) for s in sources]  # pass 1
    bad = sum(1 for result, _, _ in checked if result.status is CheckStatus.ERROR)
    pending = sum(1 for _, new_text, _ in checked if new_text is not None)
    if bad:  # said only when it held back a rewrite
        note = f"no spec updated: {bad} of {len(checked)} could not be checked" if pending else None
        return CheckRun(tuple(result for result, _, _ in checked), not_updated=note)
    results = []
    updates: list[tuple[str, Difference]] = []
    for source in sources:  # pass 2: recompute (nothing kept from pass 1) and write
        result, new_text, changes = _check_one(source, update=True, allow_empty=allow_empty)
        if new_text is not None:
            try:
                rewrite(source, new_text)
            except CnncalcError as err:  # changed or unwritable since pass 1
                result = CheckResult(source, error=str(err))
            else:
                updates += [(source, change) for change in changes]
        results.append(result)
    return CheckRun(tuple(results), tuple(updates))


def check_model(
    read: Callable[[], Spec],
    source: str,
    expect_path: str,
    *,
    settings: Mapping[str, Any] | None = None,
    update: bool = False,
    write: Callable[[str, str], object] | None = None,
) -> CheckRun:
    """A model read from anything ``-f`` reads (code, a saved model, a spec), checked against the
    expectations in ``expect_path`` (a snapshot written by ``summary --format json``, and/or an
    ``expect`` object): the gate that fails when the model *code* changes, not only its snapshot.

    ``settings`` are ``summarize``'s (``input_shape``, ``convention``, ``data_format``). With
    ``update`` the snapshot is rewritten with the model's current figures (its ``expect``
    budgets kept) by ``write(path, text)`` and the changes are returned.
    """
    label = f"{source} against {expect_path}"
    try:
        text = read_text(expect_path)
        expected = loads(text, expect_path)
        summary = summarize(read(), **dict(settings or {}))
        differences, count = _compare_model(expected, summary)
    except CnncalcError as err:
        return CheckRun((CheckResult(label, error=f"{label}: {err}"),))
    if count == 0:
        return CheckRun(
            (CheckResult(label, error=f"{label}: nothing to check in {expect_path}", empty=True),)
        )
    if update and differences:
        doc = summary.to_dict()
        kept = decode_json(text, expect_path)
        if isinstance(kept, dict) and isinstance(kept.get("expect"), dict):
            doc["expect"] = {k: v for k, v in kept["expect"].items() if k in BUDGETS}
        from .io.files import write_atomic

        (write or write_atomic)(expect_path, json_lines(doc))
        changes = tuple((expect_path, d) for d in differences if d.field not in BUDGETS)
        still = tuple(d for d in differences if d.field in BUDGETS)
        return CheckRun((CheckResult(label, still, checked=count),), changes)
    return CheckRun((CheckResult(label, differences, checked=count),))


def _compare_model(expected: Spec, summary: Summary) -> tuple[tuple[Difference, ...], int]:
    """``compare`` for a snapshot taken of another reading of the model: when the layer count
    changed, that is the difference, and the snapshot's per-layer figures cannot be paired."""
    if len(expected.layers) == len(summary.layers):
        return compare(expected, summary)
    differences, count = compare(expected, summary, paired=False)
    layers = Difference("model", "layers", len(expected.layers), len(summary.layers))
    return (layers, *differences), count + 1
