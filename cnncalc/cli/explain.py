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
    write_output,
)


@click.command(short_help="Each layer's formulas, numbers substituted.")
@model_options
@format_option(OutputFormat.TABLE, OutputFormat.MARKDOWN)
@width_option
@click.option(
    "--window",
    is_flag=True,
    help="Work out one output of the first layer (a 2-D conv or pooling on a one-channel input) "
    "by hand: the window, the weights, their products, the sum + bias; then the whole feature map, "
    "checked by the NumPy executor.",
)
@click.option(
    "--at",
    "at",
    default="0,0",
    show_default=True,
    metavar="ROW,COL",
    help="With --window: the output position.",
)
@click.option(
    "--values",
    metavar="ROWS",
    default=None,
    help="With --window: the input image, rows split by ';' (e.g. '1,1,1,0,0;0,1,1,1,0;...') "
    "[default: a 0/1 pattern].",
)
@click.option(
    "--weights",
    metavar="ROWS",
    default=None,
    help="With --window: the kernel, e.g. '1,0,1;0,1,0;1,0,1' [default: that 3x3 X, or ones].",
)
@click.option("--bias", type=float, default=0.0, show_default=True, help="With --window: the bias b.")
def explain(
    model_args: ModelArgs,
    fmt: str,
    width: int | None,
    window: bool,
    at: str,
    values: str | None,
    weights: str | None,
    bias: float,
) -> None:
    """Show each layer's formulas with the numbers substituted, step by step.

    Output lengths under the rule in force (Keras same/valid, PyTorch padding and ceil_mode,
    dilation), parameters, MACs and the receptive field. Colour on a terminal, plain text when
    piped, --format markdown for notes.

    \b
    Examples:
      cnncalc explain --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc explain --convention pytorch --input 3x112x112 maxpool:3,2,ceil_mode=true --format markdown
      cnncalc explain --window --input 5x5x1 conv:1,3 --values '1,1,1,0,0;0,1,1,1,0;0,0,1,1,1;0,0,1,1,0;0,1,1,0,0' --weights '1,0,1;0,1,0;1,0,1'
    """
    refuse_width(width, fmt)
    if window:
        _window(model_args, at, values, weights, bias)
        return
    given = [flag for flag, on in (("--values", values), ("--weights", weights), ("--bias", bias)) if on]
    if given or at != "0,0":
        raise click.UsageError(f"{given[0] if given else '--at'} goes with --window")
    from ..explain import Explanations
    from ..render.documents import explain_markdown, explain_pieces, explain_text

    result = model_args.summarize(need="explain")
    explanations = Explanations(result)  # made as they are read: never all at once
    if fmt == "markdown":
        write_output(explain_markdown(result, explanations), None)
        return
    if not sys.stdout.isatty():  # no colour to add: skip Rich's per-line rendering if nothing wraps
        plain = explain_pieces(result, explanations, width)
        if plain is not None:
            write_output(plain, None)
            return
    emit(explain_text(result, explanations), width)


def _window(model_args: ModelArgs, at: str, values: str | None, weights: str | None, bias: float) -> None:
    """``explain --window``: one output worked out, the feature map checked by the executor."""
    from ..errors import SpecError
    from ..numeric.window import agrees
    from ..render.window import window_text
    from ..window import parse_grid, working

    try:
        row, col = (int(part) for part in at.replace("x", ",").split(","))
    except ValueError:
        raise SpecError(f"--at {at!r} is not ROW,COL like 0,0") from None
    result = model_args.summarize()
    worked = working(
        result,
        image=None if values is None else parse_grid(values, "--values"),
        kernel=None if weights is None else parse_grid(weights, "--weights"),
        bias=bias,
        at=(row, col),
    )
    click.echo(window_text(worked, agrees(result, worked)), nl=False)
