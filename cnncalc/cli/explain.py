"""``cnncalc explain``: each layer's formulas with the numbers substituted."""

from __future__ import annotations

import sys

import click

from ..enums import OutputFormat
from .options import (
    ModelArgs,
    emit,
    format_option,
    model_options,
    refuse_width,
    width_option,
)


@click.command(short_help="Each layer's formulas, numbers substituted.")
@model_options
@format_option(OutputFormat.TABLE, OutputFormat.MARKDOWN)
@width_option
def explain(model_args: ModelArgs, fmt: str, width: int | None) -> None:
    """Show each layer's formulas with the numbers substituted, step by step.

    Output lengths under the rule in force (Keras same/valid, PyTorch padding and ceil_mode,
    dilation), parameters, MACs and the receptive field. Colour on a terminal, plain text when
    piped, --format markdown for notes.

    \b
    Examples:
      cnncalc explain --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc explain --convention pytorch --input 3x112x112 maxpool:3,2,ceil_mode=true --format markdown
    """
    refuse_width(width, fmt)
    from ..explain import explain as build
    from ..render.documents import explain_markdown, explain_plain, explain_text

    result = model_args.summarize()
    explanations = build(result)
    if fmt == "markdown":
        click.echo(explain_markdown(result, explanations), nl=False)
        return
    if not sys.stdout.isatty():  # no colour to add: skip Rich's per-line rendering if nothing wraps
        plain = explain_plain(result, explanations, width)
        if plain is not None:
            click.echo(plain, nl=False)
            return
    emit(explain_text(result, explanations), width)
