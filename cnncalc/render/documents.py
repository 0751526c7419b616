"""Reports of the other commands: verify, check (table, JSON, JUnit) and explain (text, Markdown)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..enums import CheckStatus, Convention, VerifyStatus
from ..explain import LEGEND_WIDTH, heading, legend, legend_words
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
    summary = report.summary
    convention = summary.convention
    pytorch = convention is Convention.PYTORCH
    computed = {layer.name: layer for layer in summary.layers} if pytorch else {}
    # A repeated block repeats its shapes, counts and statuses: one Cell per distinct text.
    shared: dict[tuple[str, str], Cell] = {}

    def cell(text: str, style: str = "") -> Cell:
        found = shared.get((text, style))
        if found is None:
            found = shared[text, style] = Cell(text, style=style)
        return found

    shapes: dict[tuple[int, ...] | None, Cell] = {None: cell("-")}  # each distinct shape written once
    styles = {VerifyStatus.OK: "green", VerifyStatus.MISMATCH: "bold red"}
    # the status column of a row without a message, by status (most rows: "ok")
    statuses = {status: cell(status.value, styles.get(status, "dim")) for status in VerifyStatus}

    counts: dict[int, Cell] = {}  # each distinct parameter count written once
    for (
        name,
        _,
        class_name,
        predicted_shape,
        real_shape,
        predicted_params,
        real_params,
        max_abs_error,
        reference,
        outcome,
        message,
    ) in report.row_fields():
        predicted = shapes.get(predicted_shape)
        if predicted is None:
            predicted = shapes[predicted_shape] = cell(fmt_shape(predicted_shape))
        real = shapes.get(real_shape)
        if real is None:
            real = shapes[real_shape] = cell(fmt_shape(real_shape))
        if pytorch:  # a Keras name (the row's class) is the type as it is
            layer = computed.get(name)
            class_name = class_name if layer is None else type_name(layer, convention)
        params = counts.get(predicted_params)
        if params is None:
            params = counts[predicted_params] = cell(f"{predicted_params:,}")
        if real_params is not None and real_params != predicted_params:
            params = cell(f"{params.text} ≠ {real_params:,}")
        error = cell(reference if max_abs_error is None else f"{max_abs_error:.2e}")
        status = statuses[outcome]
        if message:
            status = cell(f"{status.text}: {message}", status.style)
        rows.append((Cell(f"{name} ({class_name})"), predicted, real, params, error, status))
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


def explain_text(summary: Summary, explanations: Iterable[LayerExplanation]) -> Any:
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

    def __init__(self, explanations: Iterable[LayerExplanation]) -> None:
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


def explain_lines(
    summary: Summary, explanations: Iterable[LayerExplanation], words: set[str] | None = None
) -> Iterator[str]:
    """The lines of :func:`explain_text`, unstyled (``words``: the legend's texts when known)."""
    yield heading(summary)
    yield from legend(explanations if words is None else words)
    for expl in explanations:
        title, notes = _explain_title(expl)
        yield ""
        yield title
        yield from ("   " + note for note in notes)
        for segments in _explain_block(expl):
            yield "   " + "".join(text for _, text in segments)


def explain_plain(
    summary: Summary, explanations: Iterable[LayerExplanation], width: int | None
) -> str | None:
    """:func:`explain_text` as :func:`~cnncalc.render.console.to_text` renders it without colour,
    when no line needs wrapping at ``width`` (None: the content's own width), else None.
    Rendering each line through Rich costs a millisecond or more per layer; this keeps
    ``explain`` of 100,000 layers piped to a file linear and quick."""
    pieces = explain_pieces(summary, explanations, width)
    return None if pieces is None else "".join(pieces)


#: Lines per piece of :func:`explain_pieces` and :func:`explain_markdown`.
PIECE_LINES = 2000


def explain_pieces(
    summary: Summary, explanations: Iterable[LayerExplanation], width: int | None
) -> Iterator[str] | None:
    """:func:`explain_plain` as a generator of pieces of whole lines (never one string, nor a
    list of every line: 100,000 layers are a million lines), or None when a line needs wrapping.

    Two passes over ``explanations`` (:class:`~cnncalc.explain.Explanations` makes them as they
    are read): the first finds the legend's words and whether any line can be wider than
    ``width``, from the lengths of the texts a line is made of (a line is built only where they
    add up to more than half the width: a character takes at most two cells); the second yields
    the text."""
    from rich.cells import cell_len

    from .console import NATURAL_WIDTH

    limit = width or NATURAL_WIDTH
    half = limit // 2
    words: set[str] = set()
    add = words.add
    shown: dict[tuple[int, ...], int] = {}  # a shape's length as text, per distinct shape
    for expl in explanations:
        add(expl.rule)
        label = texts = 0
        for step in expl.steps:
            add(step.label)
            add(step.formula)
            label = max(label, len(step.label))
            texts = max(texts, len(step.formula) + len(step.work) + len(step.result))
        flow = 6  # "   " + in + " → " + out
        for shape in (expl.input_shape, expl.output_shape):
            n = shown.get(shape)
            if n is None:
                if len(shown) >= 4096:
                    shown.clear()
                n = shown[shape] = len(fmt_shape(shape))
            flow += n
        # at least as long as any of the layer's lines: a step's line is 3 spaces, the padded
        # label, up to three " = " and its texts; the title adds the index and 5 characters
        longest = max(
            3 + label + 9 + texts,
            25 + len(expl.name) + len(expl.class_name),
            3 + len(expl.spec),
            3 + len(expl.rule),
            flow,
        )
        if longest > half:  # possibly too wide: the real lines decide
            title, notes = _explain_title(expl)
            lines = [title, *("   " + note for note in notes)]
            lines += ["   " + "".join(text for _, text in segments) for segments in _explain_block(expl)]
            if any(len(line) > half and cell_len(line) > limit for line in lines):
                return None
    if any(len(line) > half and cell_len(line) > limit for line in (heading(summary), *legend(words))):
        return None
    return _blocks((line.rstrip() for line in explain_lines(summary, explanations, words)), "\n")


def _blocks(lines: Iterable[str], end: str) -> Iterator[str]:
    """Pieces of :data:`PIECE_LINES` lines, each line followed by ``end`` ("": the pieces join
    to ``"\\n".join(lines)``, no newline after the last line); at least one piece."""
    block: list[str] = []
    first = True
    for line in lines:
        block.append(line)
        if len(block) >= PIECE_LINES:
            yield ("" if first or end else "\n") + "\n".join(block) + end
            block.clear()
            first = False
    if block or first:
        yield ("" if first or end else "\n") + "\n".join(block) + end


def explain_markdown(summary: Summary, explanations: Iterable[LayerExplanation]) -> Iterator[str]:
    """``cnncalc explain --format markdown``: a heading and a text block per layer, for notes;
    a generator of pieces (two passes over ``explanations``: the legend comes first)."""
    words = legend_words(explanations)
    return _blocks(_markdown_lines(summary, explanations, words), "")


def _markdown_lines(
    summary: Summary, explanations: Iterable[LayerExplanation], words: set[str]
) -> Iterator[str]:
    yield f"**{heading(summary)}**"
    yield ""
    yield from (f"{line}  " for line in legend(words))
    yield ""
    for expl in explanations:
        title, notes = _explain_title(expl)
        yield f"### {title}"
        yield ""
        yield "  \n".join(notes)
        yield ""
        yield "```text"
        for segments in _explain_block(expl):
            yield "".join(text for _, text in segments)
        yield "```"
        yield ""
