"""Expectations in a spec, compared with what the core computes: the logic behind ``cnncalc check``.

Two sources of expectations, both optional:

* result fields written by ``summary --format json`` (model-level ``output_shape``,
  ``total_params``, ... and per-layer ``output_shape``, ``params``, ...), read back as snapshots;
* an explicit ``"expect"`` object: the same snapshot fields, per-layer expectations by name or
  1-based position, and budgets ``max_params``, ``max_macs``, ``max_activation_bytes``.
"""

from __future__ import annotations

import copy
import functools
import glob
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .engine import summarize
from .enums import CheckStatus
from .errors import CnncalcError, SpecError
from .io.document import loads
from .io.files import read_head, read_text, source_name
from .io.sources import read_spec, sniff
from .io.spec import Spec
from .summary import LAYER_RESULTS, MODEL_RESULTS, LayerRow, Summary

#: Budgets: expect key -> (Summary attribute, what it limits).
BUDGETS = {
    "max_params": "total_params",
    "max_macs": "total_macs",
    "max_activation_bytes": "activation_bytes",
}
_EXPECT_KEYS = frozenset({*MODEL_RESULTS, *BUDGETS, "layers"})


@dataclass(frozen=True)
class Difference:
    """One failed expectation: where (model or layer), which field, expected and actual values."""

    where: str
    field: str
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"where": self.where, "field": self.field, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class CheckResult:
    """The outcome for one spec: differences, or the error that kept it from being checked."""

    source: str
    differences: tuple[Difference, ...] = ()
    error: str | None = None
    checked: int = 0
    summary: Summary | None = field(default=None, compare=False, repr=False)

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


def _layer_index(summary: Summary, key: Any) -> int:
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        index = int(key) - 1
        if 0 <= index < len(summary.layers):
            return index
        raise SpecError(f"expect.layers: there is no layer {key} (the model has {len(summary.layers)})")
    for row in summary.layers:
        if row.name == key:
            return row.index
    raise SpecError(f"expect.layers: no layer named {key!r}")


def expectations(spec: Spec, summary: Summary) -> list[tuple[str, str, Any, Any]]:
    """Every (where, field, expected, actual) the spec asks about, snapshots then budgets."""
    checks: list[tuple[str, str, Any, Any]] = []
    for key, expected in spec.results.items():
        checks.append(("model", key, expected, _model_actual(summary, key)))
    for ls, row in zip(spec.layers, summary.layers, strict=True):
        for key, expected in ls.results.items():
            checks.append((_where(row), key, expected, _layer_actual(row, key)))
    expect = spec.expect
    unknown = set(expect) - _EXPECT_KEYS
    if unknown:
        raise SpecError(
            f"unknown key {sorted(unknown)[0]!r} in expect (known: {', '.join(sorted(_EXPECT_KEYS))})"
        )
    for key in MODEL_RESULTS:
        if key in expect:
            checks.append(("model", key, expect[key], _model_actual(summary, key)))
    layers = expect.get("layers", {})
    if isinstance(layers, list):
        layers = {str(i + 1): value for i, value in enumerate(layers)}
    if not isinstance(layers, dict):
        raise SpecError("expect.layers must be an object (by name or 1-based position) or a list")
    for key, fields in layers.items():
        row = summary.layers[_layer_index(summary, key)]
        if not isinstance(fields, dict) or set(fields) - set(LAYER_RESULTS):
            raise SpecError(
                f"expect.layers[{key!r}] must be an object with some of {', '.join(LAYER_RESULTS)}"
            )
        for name, expected in fields.items():
            checks.append((_where(row), name, expected, _layer_actual(row, name)))
    for key, attribute in BUDGETS.items():
        if key in expect:
            limit = expect[key]
            if isinstance(limit, bool) or not isinstance(limit, (int, float)):
                raise SpecError(f"expect.{key} must be a number, got {limit!r}")
            checks.append(("model", key, limit, getattr(summary, attribute)))
    return checks


def _where(row: LayerRow) -> str:
    return f"layer {row.index + 1} {row.name}"


def compare(spec: Spec, summary: Summary) -> tuple[tuple[Difference, ...], int]:
    """(differences, number of expectations checked). Budgets fail when actual > limit."""
    differences = []
    checks = expectations(spec, summary)
    for where, key, expected, actual in checks:
        failed = actual > expected if key in BUDGETS else _plain(expected) != actual
        if failed:
            differences.append(Difference(where, key, expected, actual))
    return tuple(differences), len(checks)


def check_text(text: str, source: str) -> CheckResult:
    """Parse, summarize and compare one spec; bad input becomes an ``error`` result, not an exception."""
    return check_spec(lambda: loads(text, source), source)


def check_spec(read: Callable[[], Spec], source: str) -> CheckResult:
    """Read (``read()``), summarize and compare one spec; bad input becomes an ``error`` result."""
    try:
        spec = read()
        summary = summarize(spec)
        differences, count = compare(spec, summary)
    except CnncalcError as err:
        message = str(err)
        return CheckResult(source, error=message if message.startswith(source) else f"{source}: {message}")
    return CheckResult(source, differences, checked=count, summary=summary)


def updated_document(text: str, source: str) -> tuple[str, list[Difference]]:
    """The spec text with every snapshot expectation set to the current figure (budgets untouched).

    Returns the new text and what changed. Raises CnncalcError if the spec cannot be checked.
    """
    spec = loads(text, source)
    summary = summarize(spec)
    doc = json.loads(text)
    new = copy.deepcopy(doc)
    changes = [d for d in compare(spec, summary)[0] if d.field not in BUDGETS]
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
        for key, fields in keyed.items():
            row = summary.layers[_layer_index(summary, key)]
            for name in fields:
                fields[name] = _layer_actual(row, name)
    return json.dumps(new, indent=2) + "\n", changes


@dataclass(frozen=True)
class CheckRun:
    """A whole ``cnncalc check``: one result per spec, and what ``update`` rewrote (source, change)."""

    results: tuple[CheckResult, ...]
    updates: tuple[tuple[str, Difference], ...] = ()

    @property
    def exit_code(self) -> int:
        """0 all passed, 1 some differ, 2 some could not be read or computed."""
        statuses = {r.status for r in self.results}
        return 2 if CheckStatus.ERROR in statuses else 1 if CheckStatus.FAIL in statuses else 0


def expand_sources(specs: Iterable[str]) -> list[str]:
    """Spec arguments with globs expanded (sorted); a glob matching nothing stays, to be reported."""
    out: list[str] = []
    for spec in specs:
        if spec != "-" and glob.has_magic(spec):
            out.extend(sorted(glob.glob(spec, recursive=True)) or [spec])
        else:
            out.append(spec)
    return out


def _saved_model(path: str) -> bool:
    try:
        return sniff(read_head(path)) is not None
    except CnncalcError:
        return False  # unreadable: the text reader below says why


def run_checks(specs: Iterable[str], *, update: bool = False) -> CheckRun:
    """Check every spec file ('-' is standard input; globs expanded). With ``update``, each file's
    snapshot expectations are first rewritten with the current figures (budgets are kept)."""
    results: list[CheckResult] = []
    updates: list[tuple[str, Difference]] = []
    for source in expand_sources(specs):
        if source != "-" and glob.has_magic(source) and not os.path.exists(source):
            results.append(CheckResult(source, error=f"no file matches {source}"))
            continue
        if source != "-" and os.path.isfile(source) and _saved_model(source):
            # A saved Keras model (.keras, .h5): checked as it computes; it holds no expectations
            # to compare or rewrite.
            results.append(check_spec(functools.partial(read_spec, source), source))
            continue
        try:
            text = read_text(source)
        except CnncalcError as err:
            results.append(CheckResult(source, error=str(err)))
            continue
        if update and source != "-":
            try:
                new_text, changes = updated_document(text, source)
            except CnncalcError:
                pass  # reported by the check below
            else:
                if changes:
                    with open(source, "w", encoding="utf-8") as handle:
                        handle.write(new_text)
                updates += [(source, change) for change in changes]
                text = new_text
        results.append(check_text(text, source_name(source)))
    return CheckRun(tuple(results), tuple(updates))
