"""Text formatting shared by every renderer (one copy): sizes, counts, shapes, fields, notes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..enums import Convention, Count, DataFormat
from ..geometry import OpenShape, ReceptiveField, fmt_shape

if TYPE_CHECKING:
    from ..summary import LayerRow, Summary
    from .table import View

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


#: How tables show a figure that is unknown (JSON carries null): a size left None, an opaque layer.
UNKNOWN = "?"


def readable_bytes(size: float | None) -> str:
    """``18880`` -> ``18.44 KB``: 1024-based units with two decimals, as Keras's summary prints
    (``?`` for a figure that is unknown)."""
    if size is None:
        return UNKNOWN
    for unit in _UNITS[:-1]:
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {_UNITS[-1]}"


def keras_shape(shape: OpenShape) -> str:
    """``(None, 100, 100, 16)``: the batch axis first, as Keras prints output shapes."""
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"


def torch_shape(shape: OpenShape) -> str:
    """``[1, 6, 28, 28]``: batch 1 first, as torchinfo prints PyTorch output shapes."""
    return "[" + ", ".join(["1", *map(str, shape)]) + "]"


def shape_text(shape: OpenShape, convention: Convention) -> str:
    """An output shape in the words of the convention's framework: Keras's ``(None, ...)``,
    PyTorch's ``[1, ...]`` (torchinfo's)."""
    return torch_shape(shape) if convention is Convention.PYTORCH else keras_shape(shape)


def type_name(row: LayerRow, convention: Convention) -> str:
    """A row's type in the words of the convention's framework: Keras's class (``Conv2D``), or
    under pytorch the ``torch.nn`` module ``export --to pytorch`` writes it as (``Conv2d``,
    ``BatchNorm2d``, ``MaxPool2d``); a row PyTorch writes otherwise keeps its Keras name."""
    if convention is not Convention.PYTORCH:
        return row.class_name  # without importing the PyTorch writer (start-up time)
    from ..export_torch import type_name as framework_type_name

    return framework_type_name(row, convention)


def convention_note(summary: Summary) -> str:
    """The line under a table that says whose rules applied."""
    rules = {Convention.KERAS: "Keras shape rules", Convention.PYTORCH: "PyTorch shape rules"}[
        summary.convention
    ]
    layout = "C x H x W" if summary.data_format is DataFormat.CHANNELS_FIRST else "H x W x C"
    return f"Convention: {summary.convention.value} ({rules}) · {summary.data_format.value} ({layout})"


def totals_lines(summary: Summary) -> list[str]:
    """Keras's three totals lines, plus buffers under the pytorch convention."""
    lines = [
        f"Total params: {summary.total_params:,} ({readable_bytes(summary.bytes_of(summary.total_params))})",
        f"Trainable params: {summary.trainable_params:,} "
        f"({readable_bytes(summary.bytes_of(summary.trainable_params))})",
        f"Non-trainable params: {summary.non_trainable_params:,} "
        f"({readable_bytes(summary.bytes_of(summary.non_trainable_params))})",
    ]
    if summary.total_buffers:
        lines.append(f"Buffers (not params; BN running statistics): {summary.total_buffers:,}")
    if summary.stored_elements is not None:
        lines.append(
            f"Stored in the file: {summary.stored_elements:,} elements "
            f"(params + buffers: {summary.total_params + summary.total_buffers:,})"
        )
    return lines


def rf_text(rf: ReceptiveField | None) -> str:
    """``196 (jump 16)`` (one figure when every axis agrees), ``7x5 (jump 2x1)``, ``4 (jump 1/2)``
    after upsampling, ``varies by position``, or ``whole input``."""
    if rf is None:
        return "whole input"
    if not rf.tracked:
        return "n/a"
    if not rf.uniform:
        ranges = [f"{lo} to {hi}" if lo != hi else str(lo) for lo, hi in (a.sizes for a in rf.axes)]
        return f"varies by position ({ranges[0] if len(set(ranges)) == 1 else ' x '.join(ranges)})"
    size = fmt_shape(rf.size) if len(set(rf.size)) > 1 else str(rf.size[0])
    jump = fmt_shape(rf.jump) if len(set(rf.jump)) > 1 else str(rf.jump[0])
    return f"{size} (jump {jump})"


def short_count(n: int | None) -> str:
    """``15.47 G``, ``416.52 k``, ``80`` (``?`` for a figure that is unknown)."""
    if n is None:
        return UNKNOWN
    for scale, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def readable_count(n: int | None) -> str:
    """``15,470,264,320 (15.47 G)`` (``?`` for a figure that is unknown)."""
    if n is None:
        return UNKNOWN
    return f"{n:,} ({short_count(n)})" if n >= 1000 else f"{n:,}"


def cost_lines(summary: Summary, view: View) -> list[str]:
    """torchinfo-like totals: cost, memory, and the counting convention in force."""
    label = "FLOPs" if view.count is Count.FLOPS else "MACs"
    total = summary.total_cost(view.count, view.bias_macs)
    if view.counter is not None:
        from ..counters import HOW, UNITS, figures

        label = f"{UNITS[view.counter]} ({view.counter.value})"
        total = sum(f.value for f in figures(summary, view.counter))
        rule = f"as {HOW[view.counter]} counts them (docs/costs.md has the rules)"
    elif view.count is Count.FLOPS:
        rule = "FLOPs = 2*MACs + bias adds + elementwise ops"
    elif view.bias_macs:
        rule = "MACs by weights, bias adds included (ptflops style for conv and linear)"
    else:
        rule = "MACs by weights, bias adds not counted (fvcore style)"
    return [
        f"Total {label}: {readable_count(total)} per sample",
        f"Memory ({summary.dtype}): input {readable_bytes(summary.input_bytes)} · outputs "
        f"{readable_bytes(summary.activation_bytes)} · params {readable_bytes(summary.param_bytes)}",
        f"Estimated total: {readable_bytes(summary.estimated_total_bytes)} inference · "
        f"{readable_bytes(summary.training_bytes)} training with Adam",
        rule,
    ]


def shape_flow(summary: Summary, keep: int = 3, limit: int | None = 8) -> str:
    """``Shape flow: 200x200x1 → 100x100x16 → 100x100x32``; with more than ``limit`` shapes
    (None: no limit) the first and last ``keep`` stay around ``… (N more) …``. Graphs list layers
    in topological order; several model inputs are joined with ``+``."""
    start = " + ".join(fmt_shape(shape) for _, shape in summary.model_dims)
    shapes = [start, *(fmt_shape(row.output_dims) for row in summary.layers)]
    if limit is not None and len(shapes) > limit:
        shapes = [*shapes[:keep], f"… ({len(shapes) - 2 * keep} more) …", *shapes[-keep:]]
    return "Shape flow: " + " → ".join(shapes)


def value_text(value: Any) -> str:
    """An expectation value as a diff shows it: shapes ``1x2``, counts ``1,000``, else JSON."""
    if isinstance(value, (list, tuple)):
        return fmt_shape(tuple(value)) if all(isinstance(v, int) for v in value) else json.dumps(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return json.dumps(value) if not isinstance(value, str) else value


def footer(line: str, style: str = "") -> Any:
    """A line under a table, one space in: wrapped at spaces with the same indent when the
    terminal is narrower than the line (a plain ``Text(" " + line)`` wraps back to column 0)."""
    from .lines import Line  # drawn without Rich when no style reaches the output

    return Line(line, style, indent=1)
