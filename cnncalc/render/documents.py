"""Reports of the other commands: verify, check (table, JSON, JUnit) and explain (text, Markdown)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..enums import CheckStatus, VerifyStatus
from ..explain import LEGEND_WIDTH, heading, legend
from .grid import Cell, Col, Fitted, Grid
from .text import convention_note, fmt_shape, footer, readable_bytes, type_name, value_text

if TYPE_CHECKING:
    from ..check import CheckResult, Difference
    from ..explain import LayerExplanation
    from ..report import VerifyReport
    from ..summary import Summary


def verify_table(report: VerifyReport) -> Any:
    """A Rich renderable of a :class:`~cnncalc.report.VerifyReport`."""
    from rich.console import Group
    from rich.text import Text

    columns = (
        Col("Layer (type)", wrap=True),
        Col("Predicted"),
        Col("Real"),
        Col("Params", right=True),
        Col("Max error", right=True, secondary=True, wrap=True),
        Col("Status", secondary=True, wrap=True),
    )
    rows = []
    computed = {layer.name: layer for layer in report.summary.layers}
    # A repeated block repeats its shapes, counts and statuses: one Cell per distinct text.
    shared: dict[tuple[str, str], Cell] = {}

    def cell(text: str, style: str = "") -> Cell:
        found = shared.get((text, style))
        if found is None:
            found = shared[text, style] = Cell(text, style=style)
        return found

    shapes: dict[tuple[int, ...], str] = {}  # each distinct shape written once

    for row in report.rows:
        real = "-" if row.real_shape is None else shapes.get(row.real_shape) or fmt_shape(row.real_shape)
        predicted = shapes.get(row.predicted_shape) or fmt_shape(row.predicted_shape)
        shapes[row.predicted_shape] = predicted
        layer = computed.get(row.name)
        kind = row.class_name if layer is None else type_name(layer, report.summary.convention)
        params = f"{row.predicted_params:,}"
        if row.real_params is not None and row.real_params != row.predicted_params:
            params += f" ≠ {row.real_params:,}"
        error = row.reference if row.max_abs_error is None else f"{row.max_abs_error:.2e}"
        style = {VerifyStatus.OK: "green", VerifyStatus.MISMATCH: "bold red"}.get(row.status, "dim")
        status = row.status.value + (f": {row.message}" if row.message else "")
        rows.append(
            (
                Cell(f"{row.name} ({kind})"),
                cell(predicted),
                cell(real),
                cell(params),
                cell(error),
                cell(status, style=style),
            )
        )
    table = Fitted(Grid(columns, tuple(rows)))
    verdict = "all layers match" if report.ok else "MISMATCH"
    verdict_line = (
        f"{verdict} · batch {report.batch}, {report.dtype}, seed {report.seed} · "
        f"estimated peak memory {readable_bytes(report.estimated_bytes)}"
    )
    return Group(
        Text(f'Verify: "{report.summary.name}"', style="bold"),
        table,
        footer(verdict_line, style="bold green" if report.ok else "bold red"),
        footer(convention_note(report.summary), style="dim"),
    )


def verify_json(report: VerifyReport) -> str:
    """The ``verify --format json`` document."""
    return json.dumps(report.to_dict(), indent=2) + "\n"


def verify_json_pieces(report: VerifyReport, per_piece: int = 1000) -> Iterator[str]:
    """:func:`verify_json` in pieces that join to the same text, ``per_piece`` layers at a time
    (the 100,000 layer dicts never exist at once): the document without its layers, then each
    run of layers as ``json.dumps`` writes a list at depth one, indented one level more (two
    spaces before every line: its items at depth two, as in the whole document). One dumps call
    per piece, not per layer: an indenting dumps makes a few closures that refer to each other,
    which only the cyclic collector frees (the command runs without it)."""
    head = dataclasses.replace(report, rows=()).to_dict()
    head["ok"] = report.ok
    text = json.dumps(head, indent=2) + "\n"
    marker = '"layers": []'
    at = text.rindex(marker)  # the last key: what follows is the closing brace
    if not report.rows:
        yield text
        return
    yield text[:at] + '"layers": [\n'
    rows = iter(report.rows)
    first = True
    while batch := [row.to_dict() for row in itertools.islice(rows, per_piece)]:
        listed = json.dumps(batch, indent=2)[2:-2]  # without "[\n" and "\n]"
        yield ("" if first else ",\n") + "  " + listed.replace("\n", "\n  ")
        first = False
    yield "\n  ]" + text[at + len(marker) :]


def difference_text(diff: Difference) -> str:
    """``layer 2 conv2d_1: output_shape expected 100x100x32, got 99x99x32``."""
    relation = "at most" if diff.field.startswith("max_") else "expected"
    return f"{diff.where}: {diff.field} {relation} {value_text(diff.expected)}, got {value_text(diff.actual)}"


def derived_line(diffs: tuple[Difference, ...], verb: str = "differ") -> str:
    """One line for the derived figures that changed along: ``and 18 derived figures
    (total_macs, total_flops, macs, flops, ...) differ too``."""
    fields = list(dict.fromkeys(d.field for d in diffs))
    shown = ", ".join(fields[:4]) + (", ..." if len(fields) > 4 else "")
    noun = "figure" if len(diffs) == 1 else "figures"
    return f"and {len(diffs)} derived {noun} ({shown}) {verb} too"


def update_lines(source: str, changes: list[Difference]) -> list[str]:
    """What ``check --update`` rewrote in one file: primary changes one per line, derived ones
    in one line."""
    primary = [d for d in changes if not d.derived] or changes
    derived = tuple(d for d in changes if d not in primary)
    lines = [update_text(source, d) for d in primary]
    if derived:
        lines.append(f"updated {source}: {derived_line(derived, 'updated')}")
    return lines


def update_text(source: str, diff: Difference) -> str:
    """``updated model.json: layer 1 conv2d: params 80 -> 160`` (what ``check --update`` changed)."""
    return f"updated {source}: {diff.where}: {diff.field} {value_text(diff.expected)} -> {value_text(diff.actual)}"


def check_report(results: list[CheckResult]) -> Any:
    """A Rich renderable: one line per spec, a table of differences under each failing one."""
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    styles = {CheckStatus.PASS: "bold green", CheckStatus.FAIL: "bold red", CheckStatus.ERROR: "bold red"}
    for result in results:
        line = Text(f"{result.status.value.upper():5} ", style=styles[result.status])
        if result.error:
            line.append(result.error)
        else:
            line.append(f"{result.source} ({result.checked} expectation{'s' if result.checked != 1 else ''}")
            line.append(f", {len(result.differences)} differing)" if result.differences else ")")
        parts.append(line)
        if result.differences:
            columns = (
                Col("Where"),  # "layer 2 max_pooling2d" stays on one line
                Col("Field"),
                # narrow terminals: the values move to a second table behind Where (as summary's
                # and models' secondary columns do), so 40 columns hold "layer 1 conv2d"
                Col("Expected", wrap=True, secondary=True),
                Col("Actual", wrap=True, secondary=True),
            )
            rows = tuple(
                (
                    Cell(d.where),
                    Cell(d.field),
                    Cell(("≤ " if d.field.startswith("max_") else "") + value_text(d.expected)),
                    Cell(value_text(d.actual)),
                )
                for d in result.listed
            )
            parts.append(Fitted(Grid(columns, rows, simple=True)))
            if result.summarised:
                parts.append(footer(derived_line(result.summarised), style="dim"))
    counts = _counts(results)
    errors = counts[CheckStatus.ERROR]
    total = (
        f"{counts[CheckStatus.PASS]} passed, {counts[CheckStatus.FAIL]} failed, "
        f"{errors} {'error' if errors == 1 else 'errors'}"
    )
    parts.append(Text(total, style="bold"))
    return Group(*parts)


def _counts(results: list[CheckResult]) -> dict[CheckStatus, int]:
    return {status: sum(r.status is status for r in results) for status in CheckStatus}


def check_json(results: list[CheckResult]) -> str:
    """The ``check --format json`` document."""
    counts = _counts(results)
    doc = {
        "ok": counts[CheckStatus.FAIL] == counts[CheckStatus.ERROR] == 0,
        "passed": counts[CheckStatus.PASS],
        "failed": counts[CheckStatus.FAIL],
        "errors": counts[CheckStatus.ERROR],
        "specs": [r.to_dict() for r in results],
    }
    return json.dumps(doc, indent=2) + "\n"


def check_junit(results: list[CheckResult]) -> str:
    """JUnit XML: one ``testcase`` per spec, ``failure`` for differences, ``error`` for unreadable specs."""
    from xml.etree import ElementTree as ET

    counts = _counts(results)
    totals = {
        "tests": str(len(results)),
        "failures": str(counts[CheckStatus.FAIL]),
        "errors": str(counts[CheckStatus.ERROR]),
    }
    suites = ET.Element("testsuites", {"name": "cnncalc", **totals})
    suite = ET.SubElement(suites, "testsuite", {"name": "cnncalc check", **totals, "skipped": "0"})
    for result in results:
        case = ET.SubElement(suite, "testcase", classname="cnncalc.check", name=result.source)
        if result.error:
            ET.SubElement(case, "error", message=result.error, type="SpecError").text = result.error
        elif result.differences:
            lines = [difference_text(d) for d in result.listed]
            if result.summarised:
                lines.append(derived_line(result.summarised))
            ET.SubElement(case, "failure", message=lines[0], type="ExpectationFailed").text = "\n".join(lines)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _explain_block(expl: LayerExplanation) -> list[list[tuple[str, str]]]:
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


def _explain_title(expl: LayerExplanation) -> tuple[str, list[str]]:
    """The layer's heading, then its compact spec (if any), shape flow and rule, one per line."""
    flow = f"{fmt_shape(expl.input_shape)} → {fmt_shape(expl.output_shape)}"
    spec = [expl.spec] if expl.spec else []
    return f"{expl.index + 1}. {expl.name} ({expl.class_name})", [
        *spec,
        flow,
        *([expl.rule] if expl.rule else []),
    ]


def explain_text(summary: Summary, explanations: tuple[LayerExplanation, ...]) -> Any:
    """A Rich renderable of ``cnncalc explain`` (plain text when not a terminal). Lines longer
    than the terminal wrap at spaces under their own start: notes under the note, a step's
    formula under the formula (after ``label = ``), never back at column 0."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    styles = {"label": "bold cyan", "formula": "", "work": "dim", "result": "bold", "": ""}
    parts: list[Any] = [Padding(Text(heading(summary), style="bold"), (0, 0, 0, 0), expand=False)]
    parts.append(Legend(explanations))  # 80 columns as piped; narrower wrapped once, to the width
    for expl in explanations:
        title, notes = _explain_title(expl)
        parts += [
            Text(""),
            Text(title, style="bold"),
            *(Padding(Text(note, style="italic"), (0, 0, 0, 3), expand=False) for note in notes),
        ]
        for segments in _explain_block(expl):
            cut = next(i for i, (_, text) in enumerate(segments) if text.endswith(" = ")) + 1
            head, body = Text("   "), Text()
            for style, text in segments[:cut]:
                head.append(text, style=styles[style])
            for style, text in segments[cut:]:
                body.append(text, style=styles[style])
            parts.append(Hanging(head, body))
    return Group(*parts)


class Legend:
    """The ``Symbols:`` legend wrapped once to the width it is given (at most 80 columns), its
    continuation lines under its start: wrapping the 80-column lines again left them ragged."""

    def __init__(self, explanations: tuple[LayerExplanation, ...]) -> None:
        self.explanations = explanations

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.text import Text

        for line in legend(self.explanations, max(min(options.max_width, LEGEND_WIDTH), 20)):
            yield Text(line, style="dim")

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(20, max((len(line) for line in legend(self.explanations)), default=0))


class Hanging:
    """``head`` then ``body``, the body wrapped at spaces to the width left after the head and its
    continuation lines indented under its first (a hanging indent; Rich has none built in)."""

    def __init__(self, head: Any, body: Any) -> None:
        self.head, self.body = head, body

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.text import Text

        indent = self.head.cell_len
        room = max(options.max_width - indent, 12)
        lines = self.body.wrap(console, room, overflow="fold")
        for i, line in enumerate(lines):
            lead = self.head if i == 0 else Text(" " * indent)
            yield Text.assemble(lead, line)

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(self.head.cell_len + 1, self.head.cell_len + self.body.cell_len)


def explain_lines(summary: Summary, explanations: tuple[LayerExplanation, ...]) -> Iterator[str]:
    """The lines of :func:`explain_text`, unstyled."""
    yield heading(summary)
    yield from legend(explanations)
    for expl in explanations:
        title, notes = _explain_title(expl)
        yield ""
        yield title
        yield from ("   " + note for note in notes)
        for segments in _explain_block(expl):
            yield "   " + "".join(text for _, text in segments)


def explain_plain(
    summary: Summary, explanations: tuple[LayerExplanation, ...], width: int | None
) -> str | None:
    """:func:`explain_text` as :func:`~cnncalc.render.console.to_text` renders it without colour,
    when no line needs wrapping at ``width`` (None: the content's own width), else None.
    Rendering each line through Rich costs a millisecond or more per layer; this keeps
    ``explain`` of 100,000 layers piped to a file linear and quick."""
    pieces = explain_pieces(summary, explanations, width)
    return None if pieces is None else "".join(pieces)


#: Lines per piece of :func:`explain_pieces`.
PIECE_LINES = 2000


def explain_pieces(
    summary: Summary, explanations: tuple[LayerExplanation, ...], width: int | None
) -> list[str] | None:
    """:func:`explain_plain` in pieces of whole lines (never one string, nor a list of every
    line: 100,000 layers are a million lines)."""
    from rich.cells import cell_len

    from .console import NATURAL_WIDTH

    limit = width or NATURAL_WIDTH
    pieces: list[str] = []
    block: list[str] = []
    for line in explain_lines(summary, explanations):
        if len(line) > limit // 2 and cell_len(line) > limit:
            return None
        block.append(line.rstrip())
        if len(block) >= PIECE_LINES:
            pieces.append("\n".join(block) + "\n")
            block.clear()
    if block or not pieces:
        pieces.append("\n".join(block) + "\n")
    return pieces


def explain_markdown(summary: Summary, explanations: tuple[LayerExplanation, ...]) -> str:
    """``cnncalc explain --format markdown``: a heading and a text block per layer, for notes."""
    out = [f"**{heading(summary)}**", "", *(f"{line}  " for line in legend(explanations)), ""]
    for expl in explanations:
        title, notes = _explain_title(expl)
        out += [f"### {title}", "", "  \n".join(notes), "", "```text"]
        out += ["".join(text for _, text in segments) for segments in _explain_block(expl)]
        out += ["```", ""]
    return "\n".join(out)
