"""``cnncalc summary``: the Keras-style layer table (and JSON, Markdown, CSV, HTML)."""

from __future__ import annotations

import click

from ..enums import Column, OutputFormat
from .options import (
    ModelArgs,
    dtype_option,
    emit,
    format_for_output,
    format_option,
    make_view,
    model_options,
    output_option,
    refuse_width,
    view_options,
    width_option,
    write_output,
)

#: What summary writes (the first is the default).
FORMATS = (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN, OutputFormat.CSV, OutputFormat.HTML)


@click.command(short_help="Layer table: output shapes and parameters.")
@model_options
@dtype_option
@view_options
@format_option(*FORMATS)
@output_option
@width_option
def summary(
    model_args: ModelArgs,
    dtype: str | None,
    columns: tuple[Column, ...] | None,
    all_columns: bool,
    count: str | None,
    bias_macs: bool,
    counter: str | None,
    fmt: str,
    output: str | None,
    width: int | None,
) -> None:
    """Keras-style table of each layer's output shape and parameters (and, on request, costs).

    JSON output always carries every figure: MACs, bias adds, ops, FLOPs, memory, receptive field.

    \b
    Examples:
      cnncalc summary --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc summary --data-format channels_first --input 1x28x28 conv:20,5 maxpool:2
      cnncalc summary --input 224x224x3 conv:64,3,padding=same maxpool:2 --all
      cnncalc summary -f model.json --format json
      cnncalc summary --model resnet50 --input 160x160x3
      cnncalc summary --model vgg16 -o report.html
      cnncalc summary --model torchvision/resnet18 --counter fvcore
    """
    from ..render import table

    fmt = format_for_output(fmt, output, FORMATS)
    refuse_width(width, fmt)
    view = make_view(columns, all_columns, count, bias_macs, fmt, counter)
    result = model_args.summarize(dtype)
    if fmt == "table":
        emit(table.summary_table(result, view), width, output)
        return
    if fmt == "markdown":
        write_output(table.markdown_pieces(result, view), output)
        return
    if fmt == "html":
        from ..render.html import html_pieces

        write_output(html_pieces(result, view), output)
        return
    elif fmt == "json":
        write_output(table.json_document(result), output)
        return
    else:
        write_output(table.csv_pieces(result), output)
