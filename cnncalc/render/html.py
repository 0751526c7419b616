"""HTML output: the summary as a real ``<table>`` (Jupyter's fragment) and the one-page report.

The report works offline (inline CSS, SVG and a few lines of script, nothing fetched), its table
headers are ``<th scope="col">`` buttons that sort the column (``aria-sort`` says which way), and
its shape flow is complete.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from html import escape
from typing import TYPE_CHECKING

from .diagram import svg_pieces
from .table import View, summary_grid
from .text import convention_note, cost_lines, shape_flow, totals_lines

if TYPE_CHECKING:
    from ..summary import Summary

#: Styles of the table, inline in the fragment (Jupyter drops <style> in some front ends).
_TABLE = "border-collapse:collapse;font-family:Menlo,'DejaVu Sans Mono',Consolas,monospace;font-size:13px"
_CELL = "border:1px solid #ccc;padding:3px 8px;text-align:{align};white-space:nowrap"

#: Sorting for the report: click a header (a button, so the keyboard works too) to sort by it;
#: a second click reverses. Numbers sort by the data-sort value, text by its letters.
_SORT_SCRIPT = """
document.querySelectorAll("table.cnncalc").forEach(function (table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    var button = th.querySelector("button");
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        var p = x.getAttribute("data-sort"), q = y.getAttribute("data-sort");
        var order = (p !== null && q !== null) ? parseFloat(p) - parseFloat(q)
          : x.textContent.localeCompare(y.textContent);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


#: The report's diagram: fitted to the page (CSS), zoom with the wheel or the buttons, pan by
#: dragging (both move the SVG's viewBox); a click on a box or a row highlights both and shows the
#: layer's formulas (the row's data-formula).
_DIAGRAM_SCRIPT = """
(function () {
  var svg = document.querySelector(".diagram svg");
  if (!svg) { return; }
  var box0 = svg.getAttribute("viewBox").split(" ").map(Number);
  var box = box0.slice();
  function show() { svg.setAttribute("viewBox", box.join(" ")); }
  function zoom(factor, cx, cy) {
    var w = box[2] * factor, h = box[3] * factor;
    box = [cx - (cx - box[0]) * factor, cy - (cy - box[1]) * factor, w, h];
    show();
  }
  function centre() { return [box[0] + box[2] / 2, box[1] + box[3] / 2]; }
  document.querySelectorAll(".zoom button").forEach(function (b) {
    b.addEventListener("click", function () {
      var c = centre(), how = b.getAttribute("data-zoom");
      if (how === "fit") { box = box0.slice(); show(); }
      else { zoom(how === "in" ? 0.8 : 1.25, c[0], c[1]); }
    });
  });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 0.9 : 1.1, box[0] + (e.clientX - r.left) / r.width * box[2],
         box[1] + (e.clientY - r.top) / r.height * box[3]);
  }, {passive: false});
  var drag = null;
  svg.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY, box[0], box[1], false]; });
  window.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect(), dx = e.clientX - drag[0], dy = e.clientY - drag[1];
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag[4] = true; }
    box[0] = drag[2] - dx / r.width * box[2]; box[1] = drag[3] - dy / r.height * box[3]; show();
  });
  window.addEventListener("pointerup", function () { setTimeout(function () { drag = null; }, 0); });
  var out = document.getElementById("formula");
  function pick(name) {
    document.querySelectorAll(".picked").forEach(function (el) { el.classList.remove("picked"); });
    var row = null;
    document.querySelectorAll("tr[data-name]").forEach(function (tr) {
      if (tr.getAttribute("data-name") === name) { row = tr; }
    });
    document.querySelectorAll("g.volume").forEach(function (g) {
      if (g.getAttribute("data-name") === name) { g.classList.add("picked"); }
    });
    if (row) { row.classList.add("picked"); out.textContent = name + "\\n" + (row.getAttribute("data-formula") || ""); }
  }
  document.querySelectorAll("g.volume").forEach(function (g) {
    g.style.cursor = "pointer";
    g.addEventListener("click", function () {
      if (drag && drag[4]) { return; }
      pick(g.getAttribute("data-name"));
      var row = document.querySelector("tr.picked");
      if (row) { row.scrollIntoView({block: "nearest"}); }
    });
  });
  document.querySelectorAll("tr[data-name]").forEach(function (tr) {
    tr.addEventListener("click", function () { pick(tr.getAttribute("data-name")); });
  });
})();
"""


def _sort_value(value: float) -> str:
    if value == float("inf"):
        return "1e308"
    return str(int(value)) if float(value).is_integer() else repr(value)


def table_html(
    summary: Summary,
    view: View | None = None,
    *,
    sortable: bool = False,
    formulas: dict[str, str] | None = None,
) -> str:
    """The summary table as an HTML ``<table>`` (inline styles), totals below it.

    With ``sortable`` each header is a button (the report's script sorts by it), and each row
    carries its layer's name (``data-name``, as the diagram's boxes do) and, from ``formulas``,
    the working the report shows when its box or row is clicked (``data-formula``).
    """
    given = formulas or {}
    return "\n".join(
        _table_lines(
            summary, view, sortable=sortable, formulas=(given.get(row.name, "") for row in summary.layers)
        )
    )


def _table_lines(
    summary: Summary,
    view: View | None = None,
    *,
    sortable: bool = False,
    formulas: Iterable[str] = (),
) -> Iterator[str]:
    """The lines of :func:`table_html`, made as they are asked for; ``formulas``: each layer's
    working, in the order of the layers (none: an empty iterable)."""
    grid = summary_grid(summary, view)
    names = [row.name for row in summary.layers] if len(grid.rows) == len(summary.layers) else []
    view = view or View()
    yield f'<table class="cnncalc" style="{_TABLE}">'
    yield f'<caption style="text-align:left;font-weight:bold">Model: {escape(summary.name)}</caption>'
    yield "<thead><tr>"
    for col in grid.columns:
        align = "right" if col.right else "left"
        label = escape(col.header)
        if sortable:
            label = f'<button type="button" class="sort">{label}</button>'
        yield f'<th scope="col" style="{_CELL.format(align=align)};background:#f3f3f3">{label}</th>'
    yield "</tr></thead>"
    yield "<tbody>"
    # A cell's HTML by its column and the Cell (shared by rows with a repeated figure: drawn
    # once); the first column's cells are each row's own.
    styles = [_CELL.format(align="right" if col.right else "left") for col in grid.columns]
    drawn: dict[tuple[int, int], str] = {}
    working = iter(formulas)
    for i, row in enumerate(grid.rows):
        cells = []
        first = ""  # the first cell's text escaped: the row's name, also its data-name
        for j, cell in enumerate(row):
            html = drawn.get((j, id(cell))) if j else None
            if html is None:
                sort = "" if cell.sort is None else f' data-sort="{_sort_value(cell.sort)}"'
                tag, end = ('th scope="row"', "th") if j == 0 else ("td", "td")
                text = escape(cell.text)
                html = f'<{tag}{sort} style="{styles[j]};font-weight:normal">{text}</{end}>'
                if j:
                    drawn[j, id(cell)] = html
                else:
                    first = text
            cells.append(html)
        marks = ""
        if sortable and names:
            formula = next(working, "")
            name = first if row and row[0].text == names[i] else escape(names[i])
            marks = f' data-name="{name}"' + (f' data-formula="{escape(formula)}"' if formula else "")
        yield f"<tr{marks}>" + "".join(cells) + "</tr>"
    yield "</tbody></table>"
    lines = totals_lines(summary) + (cost_lines(summary, view) if view.extended else [])
    yield '<p style="font-family:monospace;font-size:13px">' + "<br>".join(map(escape, lines)) + "</p>"


def _formulas(summary: Summary) -> Iterator[str]:
    """Each layer's working in one line per step (``explain``'s), for the report's click, in the
    order of the layers, worked out as they are asked for (nothing when a size is unknown: the
    working needs every size)."""
    from ..explain import explanations

    if not summary.known:
        return
    for layer in explanations(summary):
        steps = [
            f"{s.label}: {s.formula} = {s.work} = {s.result}"
            if s.work
            else f"{s.label}: {s.formula} = {s.result}"
            for s in layer.steps
        ]
        yield "\n".join(([layer.rule] if layer.rule else []) + steps)


def html_report(summary: Summary, view: View | None = None) -> str:
    """One self-contained page: the shape flow (complete), the diagram (inline SVG, fitted to the
    page, with zoom and pan), the sortable summary table and its totals. Clicking a box or a row
    highlights both and shows the layer's formulas."""
    return "".join(html_pieces(summary, view))


#: Lines of the table per piece of :func:`html_pieces`.
PIECE_LINES = 2000


def _in_pieces(lines: Iterator[str], size: int = PIECE_LINES) -> Iterator[str]:
    """Lines, each followed by a newline, handed out ``size`` lines to a piece."""
    while chunk := list(itertools.islice(lines, size)):
        chunk.append("")
        yield "\n".join(chunk)


def html_pieces(summary: Summary, view: View | None = None) -> Iterator[str]:
    """:func:`html_report` as a generator of pieces that join to it, made as they are asked for
    (a page of 100,000 layers is hundreds of megabytes: it never exists whole in memory)."""
    title = escape(f"cnncalc: {summary.name}")
    yield "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{title}</title>",
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff}"
            ".diagram{margin:16px 0;border:1px solid #ddd;overflow:hidden;touch-action:none}"
            ".diagram svg{display:block;width:100%;height:auto;max-height:75vh;cursor:grab}"
            ".zoom button{font:inherit;margin-right:4px}#formula{font-family:monospace;white-space:pre-wrap;"
            "background:#f7f7f7;padding:6px 8px;min-height:1.2em}tr.picked th,tr.picked td{background:#fff3bf}"
            "g.volume.picked rect,g.volume.picked path,g.volume.picked polygon{stroke:#d9480f;stroke-width:2}"
            "h1{font-size:20px}.flow{font-family:monospace;"
            "overflow-wrap:anywhere}button.sort{font:inherit;font-weight:bold;border:0;background:none;"
            "padding:0;cursor:pointer;color:inherit}th[aria-sort=ascending] button.sort::after{content:' ▲'}"
            "th[aria-sort=descending] button.sort::after{content:' ▼'}</style>",
            "</head><body>",
            "<main>",
            f"<h1>{title}</h1>",
            f'<p class="flow">{escape(shape_flow(summary, limit=None))}</p>',
            "",
        ]
    )
    if summary.known:  # the diagram draws sizes: a model with None sizes has none to draw
        yield (
            '<p class="zoom"><button type="button" data-zoom="in">+</button><button type="button" '
            'data-zoom="out">−</button><button type="button" data-zoom="fit">Fit</button> '
            "<small>wheel to zoom, drag to pan; click a box or a row for its formulas</small></p>\n"
            f'<figure class="diagram" aria-label="Diagram of {escape(summary.name)}">'
        )
        yield from svg_pieces(summary)
        yield "</figure>\n"
    else:
        yield (
            "<p><small>No diagram: the input has sizes that are unknown (None) until the model is "
            "called; --input gives them.</small></p>\n"
        )
    yield '<p id="formula" aria-live="polite"></p>\n'
    yield from _in_pieces(_table_lines(summary, view, sortable=True, formulas=_formulas(summary)))
    yield "\n".join(
        [
            f"<p><small>{escape(convention_note(summary))} · made by cnncalc</small></p>",
            "</main>",
            f"<script>{_SORT_SCRIPT}{_DIAGRAM_SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )
