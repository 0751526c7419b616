"""The summary table and the summary's data formats: Rich table, plain text, Markdown, CSV, JSON;
and the zoo's model list.

Renderers only read a :class:`~cnncalc.summary.Summary`; every number they show was computed in
the core. Rich is imported inside the functions that need it, so JSON output never loads it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..enums import KERAS_COLUMNS, Column, Count
from ..summary import LAYER_RESULTS
from .text import (
    convention_note,
    cost_lines,
    fmt_shape,
    keras_shape,
    readable_bytes,
    rf_text,
    shape_flow,
    short_count,
    totals_lines,
)

if TYPE_CHECKING:
    from ..summary import Summary


@dataclass(frozen=True)
class View:
    """What a summary table shows: which columns, and how costs are counted."""

    columns: tuple[Column, ...] = KERAS_COLUMNS
    count: Count = Count.MACS
    bias_macs: bool = False

    @property
    def extended(self) -> bool:
        """True when the view shows more than Keras's summary (costs, memory or fields)."""
        return any(c not in KERAS_COLUMNS for c in self.columns)


ALL_COLUMNS = tuple(Column)


def _header(column: Column, view: View) -> tuple[str, str]:
    if column is Column.MACS:
        return ("FLOPs" if view.count is Count.FLOPS else "MACs"), "right"
    return {
        Column.SHAPE: ("Output Shape", "left"),
        Column.PARAMS: ("Param #", "right"),
        Column.MEMORY: ("Memory", "right"),
        Column.RF: ("Receptive field", "left"),
    }[column]


def _cell(row: Any, column: Column, view: View) -> str:
    if column is Column.SHAPE:
        return keras_shape(row.output_shape)
    if column is Column.PARAMS:
        return f"{row.params:,}"
    if column is Column.MACS:
        return f"{row.cost(view.count, view.bias_macs):,}"
    if column is Column.MEMORY:
        return readable_bytes(row.activation_bytes)
    return rf_text(row.receptive_field)


def _rows(summary: Summary, view: View) -> list[list[str]]:
    rows = [
        [f"{row.name} ({row.class_name})", *(_cell(row, c, view) for c in view.columns)]
        for row in summary.layers
    ]
    if summary.branches:  # Keras's functional summary adds where each layer reads from
        rows = [[*cells, ", ".join(row.inputs)] for cells, row in zip(rows, summary.layers, strict=True)]
    return rows


def _headers(summary: Summary, view: View) -> list[tuple[str, str]]:
    headers = [("Layer (type)", "left"), *(_header(c, view) for c in view.columns)]
    return [*headers, ("Connected to", "left")] if summary.branches else headers


def summary_table(summary: Summary, view: View | None = None) -> Any:
    """A Rich renderable: title, Keras-style table, totals and the convention note."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    view = view or View()
    table = Table(box=box.HEAVY_HEAD, show_lines=True, title_justify="left")
    # Text cells, not str: Rich would scan every string for markup and emoji codes (and load its
    # emoji table), a visible share of start-up for plain names and numbers.
    for header, justify in _headers(summary, view):
        table.add_column(Text(header), justify=justify, overflow="fold")  # type: ignore[arg-type]
    for cells in _rows(summary, view):
        table.add_row(*map(Text, cells))
    parts: list[Any] = [Text(f'Model: "{summary.name}"', style="bold"), table]
    parts += [
        Text(" " + line, style="bold" if i == 0 else "") for i, line in enumerate(totals_lines(summary))
    ]
    if view.extended:
        parts += [
            Text(" " + line, style="dim" if i == 3 else "")
            for i, line in enumerate(cost_lines(summary, view))
        ]
    parts.append(Text(" " + shape_flow(summary)))
    parts.append(Text(" " + convention_note(summary), style="dim"))
    return Group(*parts)


def to_json(summary: Summary) -> str:
    """The ``--format json`` document: one key per line and one layer per line.

    Readable and diff-friendly for big models, and written by json's C encoder (``indent=``
    would force the pure-Python one: half the time of a 10,000-layer summary).
    """
    return json_lines(summary.to_dict(), "layers")


def json_lines(doc: dict[str, Any], list_key: str) -> str:
    """A JSON object with each top-level key on its own line and ``list_key``'s items one per line."""
    lines = []
    for key, value in doc.items():
        if key == list_key and value:
            items = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def to_markdown(summary: Summary, view: View | None = None) -> str:
    """A GitHub-flavoured Markdown table with the totals below it."""
    view = view or View()
    headers = _headers(summary, view)
    lines = [f"**Model: {summary.name}**", "", "| " + " | ".join(h for h, _ in headers) + " |"]
    lines.append("|" + "|".join("---:" if j == "right" else "---" for _, j in headers) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in _rows(summary, view)]
    lines.append("")
    lines += [f"{line}  " for line in totals_lines(summary)]
    if view.extended:
        lines += [f"{line}  " for line in cost_lines(summary, view)]
    lines += ["", shape_flow(summary), "", convention_note(summary)]
    return "\n".join(lines) + "\n"


#: The layer's result fields (the JSON's, in its order) between its name and type and its inputs.
CSV_COLUMNS = ("name", "type", *LAYER_RESULTS, "inputs")


def to_csv(summary: Summary) -> str:
    """One row per layer; shapes written like ``100x100x16``."""
    import csv  # only this format needs it

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in summary.layers:
        data = row.to_dict()
        data["output_shape"] = fmt_shape(row.output_shape)
        data["receptive_field"] = rf_text(row.receptive_field)
        data["inputs"] = " ".join(row.inputs)
        writer.writerow([data[c] for c in CSV_COLUMNS])
    return out.getvalue()


def plain_table(summary: Summary, view: View | None = None) -> str:
    """The table as plain text (for ``--format table -o FILE``)."""
    from rich.console import Console

    console = Console(width=120, file=io.StringIO(), color_system=None, force_terminal=False)
    console.print(summary_table(summary, view))
    return console.file.getvalue()  # type: ignore[attr-defined]


def models_table(entries: list[tuple[str, dict[str, Any], Summary]]) -> Any:
    """The zoo as a Rich table: name, input, rules, params (and the published figure), MACs."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.HEAVY_HEAD, title="cnncalc model zoo", title_justify="left")
    for header in ("Model", "Input", "Rules"):
        table.add_column(header, justify="left")
    for header in ("Params", "Published", "MACs"):
        table.add_column(header, justify="right")
    for name, doc, summary in entries:
        published = doc.get("published_params")
        table.add_row(
            name,
            fmt_shape(summary.input_shape),
            summary.convention.value,
            f"{summary.total_params:,}",
            "-" if published is None else f"{published:,}",
            short_count(summary.total_macs),
        )
    return table


def models_json(entries: list[tuple[str, dict[str, Any], Summary]]) -> str:
    """``cnncalc models --format json``."""
    doc = [
        {
            "name": name,
            "description": meta.get("description"),
            "source": meta.get("source"),
            "input_shape": list(s.input_shape),
            "convention": s.convention.value,
            "total_params": s.total_params,
            "published_params": meta.get("published_params"),
            "total_macs": s.total_macs,
        }
        for name, meta, s in entries
    ]
    return json.dumps(doc, indent=2) + "\n"
