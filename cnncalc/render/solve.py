"""`cnncalc solve`: the valid input sizes and the layer configurations, as tables, Markdown, JSON.

Renderers only read :class:`~cnncalc.solve.SizeSolution` and :class:`~cnncalc.solve.LayerSolution`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .text import footer

if TYPE_CHECKING:
    from ..sizing import AxisSizes
    from ..solve import LayerSolution, SizeSolution


def _nearest(axis: AxisSizes) -> str:
    below, above = axis.nearest()
    if below == above:
        return f"{below} (valid)" if below is not None else "-"
    return " / ".join("-" if v is None else str(v) for v in (below, above))


def _sizes_rows(solution: SizeSolution, near: bool) -> tuple[list[str], list[list[str]]]:
    headers = ["Axis", "Valid sizes", "Smallest"]
    if near:
        headers += ["Given", "Nearest valid"]
    rows = []
    for axis in solution.axes:
        row = [axis.name, axis.sizes.describe(), "-" if axis.smallest is None else str(axis.smallest)]
        if near:
            row += [str(axis.given), _nearest(axis)]
        rows.append(row)
    return headers, rows


def _sizes_notes(solution: SizeSolution) -> list[str]:
    lines = []
    if solution.reason:
        lines.append(f"No size works: {solution.reason}")
    # The conditions that decide the sets, each once with every axis it decides.
    decided: dict[tuple[str, str], list[str]] = {}
    for axis in solution.axes:
        for limit in axis.binding():
            decided.setdefault((limit.layer, limit.condition), []).append(axis.name)
    lines += [f"{' and '.join(names)}: {layer}: {condition}" for (layer, condition), names in decided.items()]
    for axis in solution.axes:
        lines += [f"{axis.name}: {note}" for note in axis.notes]
    lines.append(f"Convention: {solution.convention} · {solution.data_format}")
    return lines


def sizes_table(solution: SizeSolution, near: bool = False) -> Any:
    """The valid sizes per axis as a Rich table, with why no size works when none does."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    headers, rows = _sizes_rows(solution, near)
    table = Table(box=box.HEAVY_HEAD)
    for header in headers:
        table.add_column(header, justify="right" if header in ("Smallest", "Given") else "left")
    for row in rows:
        table.add_row(*row)
    notes = [
        footer(line, style="dim" if line.startswith("Convention") else "") for line in _sizes_notes(solution)
    ]
    return Group(Text(f'Input sizes: "{solution.name}"'), table, *notes)


def sizes_markdown(solution: SizeSolution, near: bool = False) -> str:
    """The valid sizes per axis as a Markdown table."""
    headers, rows = _sizes_rows(solution, near)
    lines = [f"**Input sizes: {solution.name}**", "", "| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join("---:" if h in ("Smallest", "Given") else "---" for h in headers) + "|")
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    lines += ["", *(f"{line}  " for line in _sizes_notes(solution))]
    return "\n".join(lines) + "\n"


def sizes_json(solution: SizeSolution) -> str:
    """``solve sizes --format json``."""
    return json.dumps(solution.to_dict(), indent=2) + "\n"


def _layer_rows(solution: LayerSolution, limit: int | None) -> list[list[str]]:
    shown = solution.choices if limit is None else solution.choices[:limit]
    return [[str(i + 1), c.spec, c.keras, c.pytorch] for i, c in enumerate(shown)]


def _layer_lines(solution: LayerSolution, limit: int | None) -> list[str]:
    sizes = "x".join(map(str, solution.input)), "x".join(map(str, solution.output))
    lines = []
    if not solution.choices:
        nearest = "; ".join(
            f"{'none' if lo is None else lo} below, {'none' if hi is None else hi} above"
            for lo, hi in solution.nearest
        )
        lines.append(
            f"No {solution.kind} maps {sizes[0]} to {sizes[1]}; nearest reachable outputs: {nearest}"
        )
    elif limit is not None and len(solution.choices) > limit:
        lines.append(f"{len(solution.choices) - limit} more (--limit 0 shows all)")
    bounds = solution.bounds
    lines.append(
        f"Searched: kernel {bounds['kernel'][0]}..{bounds['kernel'][1]}, stride {bounds['stride'][0]}.."
        f"{bounds['stride'][1]}, dilation {bounds['dilation'][0]}..{bounds['dilation'][1]}, padding "
        f"{bounds['padding']} · convention {solution.convention}"
    )
    return lines


def layer_table(solution: LayerSolution, limit: int | None = None) -> Any:
    """The configurations that map the input to the output, simplest first, as a Rich table."""
    from rich.console import Group
    from rich.text import Text

    from .grid import Cell, Col, Fitted, Grid

    sizes = "x".join(map(str, solution.input)), "x".join(map(str, solution.output))
    # Specs are never split; constructor calls break at spaces only (between arguments), and at
    # narrow widths every column keeps its tokens whole (grid.py).
    columns = (
        Col("#", right=True),
        Col("Spec"),
        Col("Keras", wrap=True),
        Col("PyTorch", wrap=True),
    )
    table = Fitted(
        Grid(columns, tuple(tuple(Cell(text) for text in row) for row in _layer_rows(solution, limit)))
    )
    lines = _layer_lines(solution, limit)
    title = Text(f"{solution.kind}: {sizes[0]} -> {sizes[1]}")
    return Group(
        title, *([table] if solution.choices else []), *(footer(line, style="dim") for line in lines)
    )


def layer_markdown(solution: LayerSolution, limit: int | None = None) -> str:
    """The configurations as a Markdown table."""
    sizes = "x".join(map(str, solution.input)), "x".join(map(str, solution.output))
    lines = [f"**{solution.kind}: {sizes[0]} -> {sizes[1]}**", ""]
    if solution.choices:
        lines += ["| # | Spec | Keras | PyTorch |", "|---:|---|---|---|"]
        lines += [
            "| " + " | ".join(f"`{cell}`" if i else cell for i, cell in enumerate(row)) + " |"
            for row in _layer_rows(solution, limit)
        ]
        lines.append("")
    lines += [f"{line}  " for line in _layer_lines(solution, limit)]
    return "\n".join(lines) + "\n"


def layer_json(solution: LayerSolution) -> str:
    """``solve layer --format json``: every configuration."""
    return json.dumps(solution.to_dict(), indent=2) + "\n"
