"""``cnncalc counters``: every tool's figure side by side, and why each differs from cnncalc's."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..counters import HOW, UNITS
from .grid import Cell, Col, Fitted, Grid
from .text import short_count, type_name

if TYPE_CHECKING:
    from ..counters import Comparison, Difference


def _header(comparison: Comparison) -> list[str]:
    return [f"{c.value} {UNITS[c]}" for c in comparison.counters]


def difference_line(d: Difference) -> str:
    """``ptflops +4,616,192 on 17 relu layers (relu, layer1.0.relu, ...): nn.ReLU: ...``."""
    shown = ", ".join(d.layers[:3]) + (", ..." if len(d.layers) > 3 else "")
    plural = "layer" if len(d.layers) == 1 else "layers"
    return f"{d.counter.value} {d.delta:+,} on {len(d.layers)} {d.kind} {plural} ({shown}): {d.why}"


def _total_lines(comparison: Comparison) -> list[str]:
    lines = []
    for counter in comparison.counters:
        total = comparison.total(counter)
        lines.append(f"{counter.value:10} {total:>18,} {UNITS[counter]:15} {HOW[counter]}")
    return lines


def counters_table(comparison: Comparison) -> Any:
    """A Rich renderable: the per-layer figures, the totals, and one line per difference."""
    from rich.console import Group
    from rich.text import Text

    columns = (
        Col("Layer (type)", wrap=True),
        *(Col(h, right=True, secondary=True) for h in _header(comparison)),
    )
    rows: list[tuple[Cell, ...]] = []
    for row, figs in zip(comparison.summary.layers, comparison.rows, strict=True):
        cells = tuple(_count(f.value) for f in figs)
        kind = type_name(row, comparison.summary.convention)
        rows.append((Cell(f"{row.name} ({kind})", sort=row.index), *cells))
    totals = tuple(_count(comparison.total(c)) for c in comparison.counters)
    rows.append((Cell("Total"), *totals))
    parts: list[Any] = [
        Text(f'Model: "{comparison.summary.name}": cost as each tool counts it (batch 1)', style="bold"),
        Fitted(Grid(columns, tuple(rows), lines=True)),
        Text("\n".join(_total_lines(comparison))),
    ]
    lines = [difference_line(d) for d in comparison.differences]
    parts.append(
        Text("Why they differ from cnncalc's MACs:" if lines else "Every tool agrees with cnncalc's MACs.")
    )
    parts += [Text(f"  {line}") for line in lines]
    return Group(*parts)


def _count(n: int) -> Cell:
    full, short = f"{n:,}", short_count(n)
    return Cell(full, short if len(short) < len(full) else "", sort=n)


def counters_markdown(comparison: Comparison) -> str:
    """The comparison as a Markdown table, then the totals and the differences as lists."""
    head = ["layer", "type", *_header(comparison)]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * len(comparison.counters)]
    for row, figs in zip(comparison.summary.layers, comparison.rows, strict=True):
        out.append("| " + " | ".join([row.name, row.type, *(f"{f.value:,}" for f in figs)]) + " |")
    out.append(
        "| **total** | | " + " | ".join(f"**{comparison.total(c):,}**" for c in comparison.counters) + " |"
    )
    out.append("")
    out += [f"- {c.value}: {comparison.total(c):,} {UNITS[c]} ({HOW[c]})" for c in comparison.counters]
    if comparison.differences:
        out += ["", "Why they differ from cnncalc's MACs:", ""]
        out += [f"- {difference_line(d)}" for d in comparison.differences]
    return "\n".join(out) + "\n"


def counters_json(comparison: Comparison) -> str:
    """``cnncalc counters --format json``: totals, per-layer figures with their reasons, differences."""
    doc = {
        "name": comparison.summary.name,
        "totals": {c.value: comparison.total(c) for c in comparison.counters},
        "units": {c.value: UNITS[c] for c in comparison.counters},
        "layers": [
            {
                "name": row.name,
                "type": row.type,
                **{
                    c.value: {"value": f.value, "why": f.why}
                    for c, f in zip(comparison.counters, figs, strict=True)
                },
            }
            for row, figs in zip(comparison.summary.layers, comparison.rows, strict=True)
        ],
        "differences": [
            {
                "counter": d.counter.value,
                "type": d.kind,
                "layers": list(d.layers),
                "delta": d.delta,
                "why": d.why,
            }
            for d in comparison.differences
        ],
    }
    return json.dumps(doc, indent=1) + "\n"
