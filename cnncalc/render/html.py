"""HTML output: the table as a self-contained fragment (Jupyter) and the one-page report."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .diagram import to_svg
from .table import View, summary_table
from .text import convention_note, shape_flow

if TYPE_CHECKING:
    from ..summary import Summary

_PRE = (
    "<pre style=\"font-family:Menlo,'DejaVu Sans Mono',Consolas,monospace;font-size:13px;line-height:1.25;"
    'color:{foreground};background:{background};padding:12px;border-radius:6px;overflow-x:auto">{code}</pre>'
)


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

    title = escape(f"cnncalc: {summary.name}")
    page = [
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
    ]
    return "\n".join(page) + "\n"
