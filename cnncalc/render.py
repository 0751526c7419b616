"""Output of a :class:`~cnncalc.summary.Summary`: Rich table, JSON, Markdown, CSV, HTML.

Renderers only read the Summary; every number they show was computed in the core.
Rich is imported inside the functions that need it, so JSON output never loads it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import Shape
from .options import KERAS_COLUMNS, Column, Convention, Count, DataFormat
from .spec import LAYER_RESULTS

if TYPE_CHECKING:
    from .summary import Summary

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def readable_bytes(size: float) -> str:
    """``18880`` -> ``18.44 KB``: 1024-based units with two decimals, as Keras's summary prints."""
    for unit in _UNITS[:-1]:
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {_UNITS[-1]}"


def keras_shape(shape: Shape) -> str:
    """``(None, 100, 100, 16)``: the batch axis first, as Keras prints output shapes."""
    return "(" + ", ".join(["None", *map(str, shape)]) + ")"


def plain_shape(shape: Shape) -> str:
    """``100x100x16``: the form users type after ``--input``."""
    return "x".join(map(str, shape))


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
    return lines


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


def rf_text(rf: Any) -> str:
    """``196 (jump 16)`` (one figure when every axis agrees), ``7x5 (jump 2x1)``, or ``whole input``."""
    if rf is None:
        return "whole input"
    if not rf.tracked:
        return "n/a"
    size = plain_shape(rf.size) if len(set(rf.size)) > 1 else str(rf.size[0])
    jump = plain_shape(rf.jump) if len(set(rf.jump)) > 1 else str(rf.jump[0])
    return f"{size} (jump {jump})"


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


def short_count(n: int) -> str:
    """``15.47 G``, ``416.52 k``, ``80``."""
    for scale, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def readable_count(n: int) -> str:
    """``15,470,264,320 (15.47 G)``."""
    return f"{n:,} ({short_count(n)})" if n >= 1000 else f"{n:,}"


def cost_lines(summary: Summary, view: View) -> list[str]:
    """torchinfo-like totals: cost, memory, and the counting convention in force."""
    label = "FLOPs" if view.count is Count.FLOPS else "MACs"
    if view.count is Count.FLOPS:
        rule = "FLOPs = 2*MACs + bias adds + elementwise ops"
    elif view.bias_macs:
        rule = "MACs by weights, bias adds included (torchinfo style)"
    else:
        rule = "MACs by weights, bias adds not counted (fvcore style)"
    return [
        f"Total {label}: {readable_count(summary.total_cost(view.count, view.bias_macs))} per sample",
        f"Memory ({summary.dtype}): input {readable_bytes(summary.input_bytes)} · outputs "
        f"{readable_bytes(summary.activation_bytes)} · params {readable_bytes(summary.param_bytes)}",
        f"Estimated total: {readable_bytes(summary.estimated_total_bytes)} inference · "
        f"{readable_bytes(summary.training_bytes)} training with Adam",
        rule,
    ]


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


def shape_flow(summary: Summary, keep: int = 3, limit: int = 8) -> str:
    """``Shape flow: 200x200x1 → 100x100x16 → 100x100x32``; long models keep the first and last
    ``keep`` shapes around ``… (N more) …``. Graphs list layers in topological order."""
    shapes = [plain_shape(summary.input_shape), *(plain_shape(row.output_shape) for row in summary.layers)]
    if len(shapes) > limit:
        shapes = [*shapes[:keep], f"… ({len(shapes) - 2 * keep} more) …", *shapes[-keep:]]
    return "Shape flow: " + " → ".join(shapes)


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
        data["output_shape"] = plain_shape(row.output_shape)
        data["receptive_field"] = rf_text(row.receptive_field)
        data["inputs"] = " ".join(row.inputs)
        writer.writerow([data[c] for c in CSV_COLUMNS])
    return out.getvalue()


_PRE = (
    "<pre style=\"font-family:Menlo,'DejaVu Sans Mono',Consolas,monospace;font-size:13px;line-height:1.25;"
    'color:{foreground};background:{background};padding:12px;border-radius:6px;overflow-x:auto">{code}</pre>'
)


def plain_table(summary: Summary, view: View | None = None) -> str:
    """The table as plain text (for ``--format table -o FILE``)."""
    from rich.console import Console

    console = Console(width=120, file=io.StringIO(), color_system=None, force_terminal=False)
    console.print(summary_table(summary, view))
    return console.file.getvalue()  # type: ignore[attr-defined]


def table_html(summary: Summary, view: View | None = None) -> str:
    """The Rich table (with totals) as a self-contained ``<pre>`` fragment with inline styles."""
    from rich.console import Console
    from rich.terminal_theme import DEFAULT_TERMINAL_THEME

    console = Console(
        record=True, width=120, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(summary_table(summary, view))
    return console.export_html(theme=DEFAULT_TERMINAL_THEME, inline_styles=True, code_format=_PRE)


def html_report(summary: Summary, view: View | None = None) -> str:
    """One self-contained page: the diagram (inline SVG), the summary table and totals."""
    from html import escape

    from .diagram import to_svg

    title = escape(f"cnncalc: {summary.name}")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff}"
        ".diagram{overflow-x:auto;margin:16px 0}h1{font-size:20px}</style>",
        "</head><body>",
        f"<h1>{title}</h1>",
        f"<p>{escape(shape_flow(summary))}</p>",
        f'<div class="diagram">{to_svg(summary)}</div>',
        table_html(summary, view),
        f"<p><small>{escape(convention_note(summary))} · made by cnncalc</small></p>",
        "</body></html>",
    ]) + "\n"  # fmt: skip


def verify_table(report: Any) -> Any:
    """A Rich renderable of a :class:`~cnncalc.verify.VerifyReport`."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.HEAVY_HEAD)
    for name, justify in [("Layer (type)", "left"), ("Predicted", "left"), ("Real", "left"),
                          ("Params", "right"), ("Max error", "right"), ("Status", "left")]:  # fmt: skip
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in report.rows:
        real = "-" if row.real_shape is None else plain_shape(row.real_shape)
        params = f"{row.predicted_params:,}"
        if row.real_params is not None and row.real_params != row.predicted_params:
            params += f" ≠ {row.real_params:,}"
        error = row.reference if row.max_abs_error is None else f"{row.max_abs_error:.2e}"
        style = {"ok": "green", "mismatch": "bold red"}.get(row.status, "dim")
        status = Text(row.status + (f": {row.message}" if row.message else ""), style=style)
        table.add_row(
            f"{row.name} ({row.class_name})", plain_shape(row.predicted_shape), real, params, error, status
        )
    verdict = "all layers match" if report.ok else "MISMATCH"
    footer = (
        f" {verdict} · batch {report.batch}, {report.dtype}, seed {report.seed} · "
        f"estimated peak memory {readable_bytes(report.estimated_bytes)}"
    )
    return Group(Text(f'Verify: "{report.summary.name}"', style="bold"), table,
                 Text(footer, style="bold green" if report.ok else "bold red"),
                 Text(" " + convention_note(report.summary), style="dim"))  # fmt: skip


def verify_json(report: Any) -> str:
    """The ``verify --format json`` document."""
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return plain_shape(value) if all(isinstance(v, int) for v in value) else json.dumps(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return json.dumps(value) if not isinstance(value, str) else value


def difference_text(diff: Any) -> str:
    """``layer 2 conv2d_1: output_shape expected 100x100x32, got 99x99x32``."""
    relation = "at most" if diff.field.startswith("max_") else "expected"
    return f"{diff.where}: {diff.field} {relation} {_value(diff.expected)}, got {_value(diff.actual)}"


def update_text(source: str, diff: Any) -> str:
    """``updated model.json: layer 1 conv2d: params 80 -> 160`` (what ``check --update`` changed)."""
    return f"updated {source}: {diff.where}: {diff.field} {_value(diff.expected)} -> {_value(diff.actual)}"


def check_report(results: list[Any]) -> Any:
    """A Rich renderable: one line per spec, a table of differences under each failing one."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    styles = {"pass": "bold green", "fail": "bold red", "error": "bold red"}
    for result in results:
        line = Text(f"{result.status.upper():5} ", style=styles[result.status])
        if result.error:
            line.append(result.error)
        else:
            line.append(f"{result.source} ({result.checked} expectation{'s' if result.checked != 1 else ''}")
            line.append(f", {len(result.differences)} differing)" if result.differences else ")")
        parts.append(line)
        if result.differences:
            table = Table(box=box.SIMPLE, padding=(0, 1), show_edge=False)
            for name in ("where", "field", "expected", "actual"):
                table.add_column(name.capitalize(), overflow="fold")
            for d in result.differences:
                relation = "≤ " if d.field.startswith("max_") else ""
                table.add_row(d.where, d.field, relation + _value(d.expected), _value(d.actual))
            parts.append(table)
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "error")}
    parts.append(
        Text(f"{counts['pass']} passed, {counts['fail']} failed, {counts['error']} errors", style="bold")
    )
    return Group(*parts)


def check_json(results: list[Any]) -> str:
    """The ``check --format json`` document."""
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "error")}
    doc = {"ok": counts["fail"] == counts["error"] == 0, **{f"{k}ed" if k != "error" else "errors": v
           for k, v in counts.items()}, "specs": [r.to_dict() for r in results]}  # fmt: skip
    return json.dumps(doc, indent=2) + "\n"


def check_junit(results: list[Any]) -> str:
    """JUnit XML: one ``testcase`` per spec, ``failure`` for differences, ``error`` for unreadable specs."""
    from xml.etree import ElementTree as ET

    failures = sum(r.status == "fail" for r in results)
    errors = sum(r.status == "error" for r in results)
    suites = ET.Element("testsuites", name="cnncalc", tests=str(len(results)), failures=str(failures),
                        errors=str(errors))  # fmt: skip
    suite = ET.SubElement(suites, "testsuite", name="cnncalc check", tests=str(len(results)),
                          failures=str(failures), errors=str(errors), skipped="0")  # fmt: skip
    for result in results:
        case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=result.source)
        if result.error:
            ET.SubElement(case, "error", message=result.error, type="SpecError").text = result.error
        elif result.differences:
            lines = [difference_text(d) for d in result.differences]
            ET.SubElement(case, "failure", message=lines[0], type="ExpectationFailed").text = "\n".join(lines)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _explain_block(expl: Any) -> list[list[tuple[str, str]]]:
    """Lines of (style, text) segments for one layer's working; styles: label, formula, work, result."""
    width = max((len(step.label) for step in expl.steps), default=0)
    lines: list[list[tuple[str, str]]] = []
    for step in expl.steps:
        first = [("label", step.label.ljust(width)), ("", " = "), ("formula", step.formula)]
        if not step.work:
            lines.append([*first, ("", " = "), ("result", step.result)])
            continue
        lines.append(first)
        lines.append([("", " " * width + " = "), ("work", step.work), ("", " = "), ("result", step.result)])
    return lines


def _explain_title(expl: Any) -> tuple[str, list[str]]:
    """The layer's heading, then its compact spec (if any), shape flow and rule, one per line."""
    flow = f"{plain_shape(expl.input_shape)} → {plain_shape(expl.output_shape)}"
    spec = [expl.spec] if expl.spec else []
    return f"{expl.index + 1}. {expl.name} ({expl.class_name})", [
        *spec,
        flow,
        *([expl.rule] if expl.rule else []),
    ]


def explain_text(summary: Summary, explanations: Any) -> Any:
    """A Rich renderable of ``cnncalc explain`` (plain text when not a terminal)."""
    from rich.console import Group
    from rich.text import Text

    from .explain import heading

    styles = {"label": "bold cyan", "formula": "", "work": "dim", "result": "bold", "": ""}
    parts: list[Any] = [Text(heading(summary), style="bold")]
    for expl in explanations:
        title, notes = _explain_title(expl)
        parts += [
            Text(""),
            Text(title, style="bold"),
            *(Text("   " + note, style="italic") for note in notes),
        ]
        for segments in _explain_block(expl):
            line = Text("   ")
            for style, text in segments:
                line.append(text, style=styles[style])
            parts.append(line)
    return Group(*parts)


def explain_markdown(summary: Summary, explanations: Any) -> str:
    """``cnncalc explain --format markdown``: a heading and a text block per layer, for notes."""
    from .explain import heading

    out = [f"**{heading(summary)}**", ""]
    for expl in explanations:
        title, notes = _explain_title(expl)
        out += [f"### {title}", "", "  \n".join(notes), "", "```text"]
        out += ["".join(text for _, text in segments) for segments in _explain_block(expl)]
        out += ["```", ""]
    return "\n".join(out)


def models_table(entries: list[tuple[str, dict[str, Any], Summary]]) -> Any:
    """The zoo as a Rich table: name, input, rules, params (and the published figure), MACs."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.HEAVY_HEAD, title="cnncalc model zoo", title_justify="left")
    for header, justify in [("Model", "left"), ("Input", "left"), ("Rules", "left"), ("Params", "right"),
                            ("Published", "right"), ("MACs", "right")]:  # fmt: skip
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for name, doc, summary in entries:
        published = doc.get("published_params")
        table.add_row(name, plain_shape(summary.input_shape), summary.convention.value, f"{summary.total_params:,}",
                      "-" if published is None else f"{published:,}", short_count(summary.total_macs))  # fmt: skip
    return table


def models_json(entries: list[tuple[str, dict[str, Any], Summary]]) -> str:
    """``cnncalc models --format json``."""
    doc = [{"name": name, "description": meta.get("description"), "source": meta.get("source"),
            "input_shape": list(s.input_shape), "convention": s.convention.value, "total_params": s.total_params,
            "published_params": meta.get("published_params"), "total_macs": s.total_macs}
           for name, meta, s in entries]  # fmt: skip
    return json.dumps(doc, indent=2) + "\n"
