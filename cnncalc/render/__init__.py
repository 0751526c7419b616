"""Renderers: the only modules that draw (and the only users of Rich). They read plain-data
results (:class:`~cnncalc.summary.Summary`, reports) and never compute a figure.

- :mod:`.text`: formatting shared by all (sizes, counts, shapes, fields, notes);
- :mod:`.table`: the summary table, plain text, Markdown, CSV, JSON, the zoo list;
- :mod:`.documents`: verify, check and explain reports;
- :mod:`.html`: the Jupyter fragment and the one-page report;
- :mod:`.diagram`: the SVG diagram;
- :mod:`.solve`: ``cnncalc solve``'s valid sizes and layer configurations.

Names are importable from here too (``cnncalc.render.summary_table``); each module loads on
first use, so ``--format json`` never imports Rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..summary import Summary

#: Where each public renderer lives.
_WHERE = {
    "View": "table",
    "ALL_COLUMNS": "table",
    "summary_table": "table",
    "summary_text": "table",
    "to_json": "table",
    "to_markdown": "table",
    "to_csv": "table",
    "models_table": "table",
    "models_json": "table",
    "table_html": "html",
    "html_report": "html",
    "to_svg": "diagram",
    "verify_table": "documents",
    "verify_json": "documents",
    "check_report": "documents",
    "check_json": "documents",
    "check_junit": "documents",
    "difference_text": "documents",
    "update_text": "documents",
    "explain_text": "documents",
    "explain_markdown": "documents",
    "sizes_table": "solve",
    "sizes_markdown": "solve",
    "sizes_json": "solve",
    "layer_table": "solve",
    "layer_markdown": "solve",
    "layer_json": "solve",
}


def __getattr__(name: str) -> Any:
    """``cnncalc.render.summary_table`` and the like, loaded on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def rich_display(summary: Summary) -> Any:
    """What ``rich.print(summary)`` shows: the summary table (``Summary.__rich__``)."""
    from .table import summary_table

    return summary_table(summary)


def html_display(summary: Summary) -> str:
    """What Jupyter shows for a summary: the table as HTML (``Summary._repr_html_``)."""
    from .html import table_html

    return table_html(summary)


def markdown_display(summary: Summary) -> str:
    """The summary as a Markdown table (``Summary._repr_markdown_``: notebooks and front ends
    that render Markdown, such as Jupyter's Markdown export)."""
    from .table import to_markdown

    return to_markdown(summary)
