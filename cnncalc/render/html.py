"""HTML output: the summary as a real ``<table>`` (Jupyter's fragment) and the one-page report.

The report works offline (inline CSS, SVG and a few lines of script, nothing fetched), its table
headers are ``<th scope="col">`` buttons that sort the column (``aria-sort`` says which way), and
its shape flow is complete.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from .diagram import to_svg
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


def _sort_value(value: float) -> str:
    if value == float("inf"):
        return "1e308"
    return str(int(value)) if float(value).is_integer() else repr(value)


def table_html(summary: Summary, view: View | None = None, *, sortable: bool = False) -> str:
    """The summary table as an HTML ``<table>`` (inline styles), totals below it.

    With ``sortable`` each header is a button (the report's script sorts by it).
    """
    grid = summary_grid(summary, view)
    view = view or View()
    out = [
        f'<table class="cnncalc" style="{_TABLE}">',
        f'<caption style="text-align:left;font-weight:bold">Model: {escape(summary.name)}</caption>',
        "<thead><tr>",
    ]
    for col in grid.columns:
        align = "right" if col.right else "left"
        label = escape(col.header)
        if sortable:
            label = f'<button type="button" class="sort">{label}</button>'
        out.append(f'<th scope="col" style="{_CELL.format(align=align)};background:#f3f3f3">{label}</th>')
    out.append("</tr></thead>")
    out.append("<tbody>")
    for row in grid.rows:
        cells = []
        for col, cell in zip(grid.columns, row, strict=True):
            align = "right" if col.right else "left"
            sort = "" if cell.sort is None else f' data-sort="{_sort_value(cell.sort)}"'
            tag = 'th scope="row"' if col is grid.columns[0] else "td"
            end = tag.split()[0]
            cells.append(
                f'<{tag}{sort} style="{_CELL.format(align=align)};font-weight:normal">'
                f"{escape(cell.text)}</{end}>"
            )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    lines = totals_lines(summary) + (cost_lines(summary, view) if view.extended else [])
    out.append('<p style="font-family:monospace;font-size:13px">' + "<br>".join(map(escape, lines)) + "</p>")
    return "\n".join(out)


def html_report(summary: Summary, view: View | None = None) -> str:
    """One self-contained page: the shape flow (complete), the diagram (inline SVG), the sortable
    summary table and its totals."""
    title = escape(f"cnncalc: {summary.name}")
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fff}"
        ".diagram{overflow-x:auto;margin:16px 0}h1{font-size:20px}.flow{font-family:monospace;"
        "overflow-wrap:anywhere}button.sort{font:inherit;font-weight:bold;border:0;background:none;"
        "padding:0;cursor:pointer;color:inherit}th[aria-sort=ascending] button.sort::after{content:' ▲'}"
        "th[aria-sort=descending] button.sort::after{content:' ▼'}</style>",
        "</head><body>",
        "<main>",
        f"<h1>{title}</h1>",
        f'<p class="flow">{escape(shape_flow(summary, limit=None))}</p>',
        (
            f'<figure class="diagram" aria-label="Diagram of {escape(summary.name)}">{to_svg(summary)}</figure>'
            if summary.known  # the diagram draws sizes: a model with None sizes has none to draw
            else "<p><small>No diagram: the input has sizes that are unknown (None) until the model is "
            "called; --input gives them.</small></p>"
        ),
        table_html(summary, view, sortable=True),
        f"<p><small>{escape(convention_note(summary))} · made by cnncalc</small></p>",
        "</main>",
        f"<script>{_SORT_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(page) + "\n"
