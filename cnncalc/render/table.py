"""The summary table and the summary's data formats: Rich table, plain text, Markdown, CSV, JSON;
and the zoo's model list.

Renderers only read a :class:`~cnncalc.summary.Summary`; every number they show was computed in
the core. Rich is imported inside the functions that need it, so JSON output never loads it.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..enums import KERAS_COLUMNS, Column, Convention, Count, Counter
from ..records import record
from ..summary import LAYER_RESULTS, json_pieces
from .console import to_text
from .grid import Cell, Col, Fitted, Grid
from .text import (
    UNKNOWN,
    convention_note,
    cost_lines,
    fmt_shape,
    footer,
    readable_bytes,
    rf_text,
    shape_flow,
    shape_text,
    short_count,
    totals_lines,
    type_name,
)

if TYPE_CHECKING:
    from ..summary import Summary


@record(frozen=True)
class View:
    """What a summary table shows: which columns, and how costs are counted."""

    columns: tuple[Column, ...] = KERAS_COLUMNS
    count: Count = Count.MACS
    bias_macs: bool = False
    #: count costs as this tool does (``--counter``); None: by ``count`` and ``bias_macs``
    counter: Counter | None = None

    @property
    def extended(self) -> bool:
        """True when the view shows more than Keras's summary (costs, memory or fields)."""
        return any(c not in KERAS_COLUMNS for c in self.columns)


ALL_COLUMNS = tuple(Column)


#: Each column's header, short header (narrow widths), alignment and whether it may move to a
#: second table; one table drives headers and cells.
_COLUMNS = {
    Column.SHAPE: Col("Output Shape", "Shape"),
    Column.PARAMS: Col("Param #", "Params", right=True),
    Column.MACS: Col("MACs", right=True, secondary=True),
    Column.MEMORY: Col("Memory", right=True, secondary=True),
    Column.RF: Col("Receptive field", "RF", secondary=True),
}
_LAYER = Col("Layer (type)", wrap=True)
_CONNECTED = Col("Connected to", "Inputs", secondary=True, wrap=True)


def _col(column: Column, view: View) -> Col:
    if column is Column.MACS and view.counter is not None:
        from ..counters import UNITS

        return Col(
            f"{view.counter.value} {UNITS[view.counter]}", UNITS[view.counter], right=True, secondary=True
        )
    if column is Column.MACS and view.count is Count.FLOPS:
        return Col("FLOPs", right=True, secondary=True)
    return _COLUMNS[column]


def _cell(
    row: Any,
    column: Column,
    view: View,
    counted: int | None = None,
    convention: Convention = Convention.KERAS,
) -> Cell:
    if column is Column.SHAPE:
        shape = row.output_dims
        return Cell(shape_text(shape, convention), fmt_shape(shape), sort=math.prod(n or 0 for n in shape))
    if column is Column.PARAMS:
        return _count(row.params)
    if column is Column.MACS:
        return _count(row.cost(view.count, view.bias_macs) if counted is None else counted)
    if column is Column.MEMORY:
        memory = row.activation_bytes
        return Cell(readable_bytes(memory), sort=-1 if memory is None else memory)
    rf = row.receptive_field
    size = (
        math.inf if rf is None else -1 if not rf.tracked else -0.5 if not rf.uniform else math.prod(rf.size)
    )
    return Cell(rf_text(rf), sort=size)


def _count(n: int | None) -> Cell:
    """``1,849,688,064``, compact ``1.85 G`` (only when that is shorter); ``?`` when unknown."""
    if n is None:
        return Cell(UNKNOWN, sort=-1)
    full, short = f"{n:,}", short_count(n)
    return Cell(full, short if len(short) < len(full) else "", sort=n)


def _columns(summary: Summary, view: View) -> tuple[Col, ...]:
    columns = (_LAYER, *(_col(c, view) for c in view.columns))
    # Keras's functional summary adds where each layer reads from
    return (*columns, _CONNECTED) if summary.branches else columns


def _grid(summary: Summary, view: View) -> Grid:
    # each row made as the tuple the grid keeps (no list of lists copied into tuples: 100,000 rows)
    return Grid(_columns(summary, view), tuple(_row_cells(summary, view)), lines=True)


def _row_cells(summary: Summary, view: View) -> Iterator[tuple[Cell, ...]]:
    """The table's rows of cells, one at a time."""
    if view.counter is not None:
        from ..counters import figures

        counted: list[int | None] = [f.value for f in figures(summary, view.counter)]
    else:
        counted = [None] * len(summary.layers)
    # A cell of a figure column depends on its figure alone: one Cell per distinct figure (a
    # repeated block repeats them; 100,000 rows share a few hundred cells).
    shared: dict[tuple[Column, Any], Cell] = {}

    def cell(row: Any, column: Column, n: int | None) -> Cell:
        key: Any
        if column is Column.SHAPE:
            key = row.output_dims
        elif column is Column.PARAMS:
            key = row.params
        elif column is Column.MACS:
            key = row.cost(view.count, view.bias_macs) if n is None else n
        elif column is Column.MEMORY:
            key = row.activation_bytes
        else:
            key = row.receptive_field
        found = shared.get((column, key))
        if found is None:
            found = shared[column, key] = _cell(row, column, view, n, summary.convention)
        return found

    branches = summary.branches
    for row, n in zip(summary.layers, counted, strict=True):
        yield (
            Cell(
                f"{row.name} ({type_name(row, summary.convention)})"
                + (" training only" if row.training_only else ""),
                sort=row.index,
            ),
            *(cell(row, c, n) for c in view.columns),
            *((Cell(", ".join(row.inputs)),) if branches else ()),
        )


def summary_grid(summary: Summary, view: View | None = None) -> Grid:
    """The summary's table as plain text cells (for the HTML table and tests)."""
    return _grid(summary, view or View())


def summary_table(summary: Summary, view: View | None = None) -> Any:
    """A Rich renderable: title, Keras-style table (fitted to the width it is drawn at, never
    splitting a number, shape or name), totals and the convention note."""
    from .lines import Line, Stack

    view = view or View()
    # Lines, not str: Rich would scan every string for markup and emoji codes (and load its
    # emoji table); and without colour they are drawn without importing Rich at all.
    parts: list[Any] = [Line(f'Model: "{summary.name}"', style="bold"), Fitted(_grid(summary, view))]
    parts += [footer(line, style="bold" if i == 0 else "") for i, line in enumerate(totals_lines(summary))]
    if view.extended:
        parts += [
            footer(line, style="dim" if i == 3 else "") for i, line in enumerate(cost_lines(summary, view))
        ]
    parts.append(footer(shape_flow(summary)))
    parts.append(footer(convention_note(summary), style="dim"))
    return Stack(*parts)


def summary_text(
    summary: Summary, view: View | None = None, width: int | None = None, color: bool = False
) -> str:
    """The summary table as text ``width`` columns wide (None: as wide as its content)."""
    return to_text(summary_table(summary, view), width=width, color=color)


def to_json(summary: Summary) -> str:
    """The ``--format json`` document: one key per line and one layer per line.

    Readable and diff-friendly for big models, and written by json's C encoder (``indent=``
    would force the pure-Python one: half the time of a 10,000-layer summary).
    """
    return "".join(json_pieces(summary.document(summary.layer_dicts())))


def json_document(summary: Summary) -> Iterator[str]:
    """:func:`to_json` in pieces, each layer encoded as it is made (100,000 layers never exist
    as dicts at once, nor as one string)."""
    return json_pieces(summary.document(summary.layer_dicts()))


def to_markdown(summary: Summary, view: View | None = None) -> str:
    """A GitHub-flavoured Markdown table with the totals below it."""
    return "".join(markdown_pieces(summary, view))


def markdown_pieces(summary: Summary, view: View | None = None) -> Iterator[str]:
    """:func:`to_markdown` as a generator of pieces (each row's cells made as it is written)."""
    view = view or View()
    headers = [(c.header, "right" if c.right else "left") for c in _columns(summary, view)]
    lines = [f"**Model: {summary.name}**", "", "| " + " | ".join(h for h, _ in headers) + " |"]
    lines.append("|" + "|".join("---:" if j == "right" else "---" for _, j in headers) + "|")
    for cells in _row_cells(summary, view):
        lines.append("| " + " | ".join(cell.text for cell in cells) + " |")
        if len(lines) >= PIECE_ROWS:
            yield "\n".join(lines) + "\n"
            lines.clear()
    lines.append("")
    lines += [f"{line}  " for line in totals_lines(summary)]
    if view.extended:
        lines += [f"{line}  " for line in cost_lines(summary, view)]
    lines += ["", shape_flow(summary), "", convention_note(summary)]
    yield "\n".join(lines) + "\n"


#: Rows per piece of :func:`markdown_pieces` and :func:`csv_pieces`.
PIECE_ROWS = 2000


#: The layer's result fields (the JSON's, in its order) between its name and type and its inputs.
CSV_COLUMNS = ("name", "type", *LAYER_RESULTS, "inputs")


def to_csv(summary: Summary) -> str:
    """One row per layer; shapes written like ``100x100x16``."""
    return "".join(csv_pieces(summary))


def csv_pieces(summary: Summary) -> Iterator[str]:
    """:func:`to_csv` as a generator of pieces of :data:`PIECE_ROWS` rows."""
    import csv  # only this format needs it

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i, row in enumerate(summary.layers, 1):
        data = row.to_dict()
        data["output_shape"] = fmt_shape(row.output_dims)
        data["receptive_field"] = rf_text(row.receptive_field)
        data["inputs"] = " ".join(row.inputs)
        writer.writerow([data[c] for c in CSV_COLUMNS])
        if i % PIECE_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def models_table(entries: list[tuple[str, dict[str, Any], Summary]]) -> Any:
    """The zoo as a Rich renderable: name, input, rules, params (and the published figure), MACs."""
    from rich.console import Group
    from rich.text import Text

    columns = (
        Col("Model"),
        Col("Input", secondary=True),
        Col("Rules", secondary=True),
        Col("Params", right=True),
        Col("Published", right=True),  # beside Params: the two are compared
        Col("MACs", right=True, secondary=True),
    )
    rows = []
    for name, doc, summary in entries:
        published = doc.get("published_params")
        rows.append(
            (
                Cell(name),
                Cell(fmt_shape(summary.input_shape)),
                Cell(summary.convention.value),
                _count(summary.total_params),
                Cell("-") if published is None else _count(published),
                Cell(short_count(summary.total_macs)),
            )
        )
    from ..zoo import ALIASES

    aliases = ", ".join(f"{old} = {new}" for old, new in ALIASES.items())
    return Group(
        Text("cnncalc model zoo (names start with their source)", style="bold"),
        Fitted(Grid(columns, tuple(rows))),
        Text(f"Aliases (cnncalc 0.1 names): {aliases}"),
    )


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
