"""``cnncalc memory`` and ``cnncalc solve batch`` as tables, Markdown and JSON.

Renderers only read :class:`~cnncalc.memory.MemoryReport` and :class:`~cnncalc.memory.BatchAnswer`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .text import readable_bytes

if TYPE_CHECKING:
    from ..memory import BatchAnswer, MemoryReport

#: The figures in the order the table shows them, with their labels.
_FIGURES = (
    ("param_bytes", "Parameters"),
    ("buffer_bytes", "Buffers"),
    ("grad_bytes", "Gradients (training)"),
    ("optimizer_bytes", "Optimizer state (training)"),
    ("saved_for_backward_bytes", "Saved for backward (training)"),
    ("inference_peak_bytes", "Inference peak"),
    ("training_peak_bytes", "Training peak"),
)


def _size(n: int) -> str:
    return f"{n:,} B ({readable_bytes(n)})"


def _title(report: MemoryReport) -> str:
    s = report.settings
    mixed = f", mixed {s.mixed.value} (fp32 master weights)" if s.mixed else ""
    mode = "training" if s.training else "inference"
    return (
        f'Memory: "{report.name}", batch {s.batch}, {mode}, {report.dtype}{mixed}, '
        f"optimizer {s.optimizer.value}, {s.device.value}"
    )


def _notes(report: MemoryReport) -> list[str]:
    lines = []
    if report.inference_peak_layer:
        lines.append(f"Inference peaks at {report.inference_peak_layer}")
    if report.backward_peak_layer:
        lines.append(
            f"Backward holds most gradients at {report.backward_peak_layer} "
            f"({readable_bytes(report.backward_transient_bytes)})"
        )
    lines.append(
        "PyTorch's autograd rules (docs/memory.md); a GPU adds the CUDA context, cuDNN "
        "workspaces and allocator rounding: keep a margin"
    )
    return lines


def _layer_rows(report: MemoryReport) -> list[list[str]]:
    return [
        [
            row.name,
            row.type,
            "x".join(map(str, row.output_shape)),
            f"{row.saved_bytes:,}",
            f"{row.live_bytes:,}",
            f"{row.grad_live_bytes:,}",
        ]
        for row in report.layers
    ]


_LAYER_HEADERS = ("Layer", "Type", "Output", "Saved (B)", "Live, inference (B)", "Gradients live (B)")


def memory_table(report: MemoryReport, all_layers: bool = False) -> Any:
    """The figures (and, with ``all_layers``, each layer's part) as Rich tables."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text(_title(report))]
    if all_layers:
        layers = Table(box=box.HEAVY_HEAD)
        for i, header in enumerate(_LAYER_HEADERS):
            layers.add_column(header, justify="right" if i >= 3 else "left", overflow="fold")
        for row in _layer_rows(report):
            layers.add_row(*row)
        parts.append(layers)
    figures = Table(box=box.HEAVY_HEAD)
    figures.add_column("Figure")
    figures.add_column("Bytes", justify="right")
    for key, label in _FIGURES:
        figures.add_row(label, _size(getattr(report, key)))
    parts.append(figures)
    parts += [Text(" " + line, style="dim") for line in _notes(report)]
    return Group(*parts)


def memory_markdown(report: MemoryReport, all_layers: bool = False) -> str:
    """The figures as a Markdown table (each layer's part first with ``all_layers``)."""
    lines = [f"**{_title(report)}**", ""]
    if all_layers:
        lines += ["| " + " | ".join(_LAYER_HEADERS) + " |", "|---|---|---|---:|---:|---:|"]
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in _layer_rows(report)
        ]
        lines.append("")
    lines += ["| Figure | Bytes |", "|---|---:|"]
    lines += [f"| {label} | {_size(getattr(report, key))} |" for key, label in _FIGURES]
    lines += ["", *(f"{line}  " for line in _notes(report))]
    return "\n".join(lines) + "\n"


def memory_json(report: MemoryReport, all_layers: bool = False) -> str:
    """``cnncalc memory --format json``."""
    return json.dumps(report.to_dict(all_layers), indent=2) + "\n"


def _batch_lines(answer: BatchAnswer) -> list[str]:
    key = "training_peak_bytes" if answer.training else "inference_peak_bytes"
    budget = f"{answer.budget:,} B ({readable_bytes(answer.budget)})"
    if answer.fits is None:
        first = answer.above
        assert first is not None
        fixed = first.param_bytes + first.buffer_bytes
        if answer.training:
            fixed += first.grad_bytes + first.optimizer_bytes
        return [
            f"No batch fits in {budget}: batch 1 needs {_size(getattr(first, key))}",
            f"of which {_size(fixed)} does not depend on the batch (parameters, buffers"
            + (", gradients, optimizer state)" if answer.training else ")"),
        ]
    lines = [f"Largest batch: {answer.batch} ({_size(getattr(answer.fits, key))} of {budget})"]
    if answer.above is not None:
        lines.append(f"Batch {answer.batch + 1} needs {_size(getattr(answer.above, key))}: over the budget")
    else:
        lines.append("Every batch up to the search's limit fits")
    return lines


def batch_table(answer: BatchAnswer) -> Any:
    """``solve batch``: the answer, with the figures at N and N+1."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    reports = [r for r in (answer.fits, answer.above) if r is not None]
    table = Table(box=box.HEAVY_HEAD)
    table.add_column("Figure")
    for r in reports:
        table.add_column(f"batch {r.settings.batch}", justify="right")
    for key, label in _FIGURES:
        table.add_row(label, *(f"{getattr(r, key):,}" for r in reports))
    mode = "training" if answer.training else "inference"
    return Group(
        Text(f"Batch size for {mode} in {readable_bytes(answer.budget)}"),
        table,
        *(Text(" " + line) for line in _batch_lines(answer)),
    )


def batch_markdown(answer: BatchAnswer) -> str:
    """``solve batch --format markdown``."""
    reports = [r for r in (answer.fits, answer.above) if r is not None]
    lines = [
        "| Figure | " + " | ".join(f"batch {r.settings.batch}" for r in reports) + " |",
        "|---|" + "---:|" * len(reports),
    ]
    lines += [
        f"| {label} | " + " | ".join(f"{getattr(r, key):,}" for r in reports) + " |"
        for key, label in _FIGURES
    ]
    return "\n".join([*lines, "", *(f"{line}  " for line in _batch_lines(answer))]) + "\n"


def batch_json(answer: BatchAnswer) -> str:
    """``solve batch --format json``."""
    return json.dumps(answer.to_dict(), indent=2) + "\n"
