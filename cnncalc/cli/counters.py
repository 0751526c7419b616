"""``cnncalc counters``: MACs/FLOPs as each counting tool counts them, side by side."""

from __future__ import annotations

import click

from ..enums import OutputFormat
from .options import (
    ModelArgs,
    emit,
    format_for_output,
    format_option,
    model_options,
    output_option,
    refuse_width,
    width_option,
    write_output,
)


@click.command(short_help="MACs/FLOPs as each counting tool counts them.")
@model_options
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@output_option
@width_option
def counters(model_args: ModelArgs, fmt: str, output: str | None, width: int | None) -> None:
    """MACs/FLOPs as torchinfo, fvcore, ptflops, thop, torch's flop counter and cnncalc count
    them, per layer and in total, with one line per difference saying why.

    Each tool's rules (docs/costs.md) are applied to the model's layers; the kinds stand for the
    PyTorch modules of the same job (relu = nn.ReLU, activation:relu = F.relu).

    \b
    Examples:
      cnncalc counters --model torchvision/resnet18
      cnncalc counters --convention pytorch --input 3x32x32 conv2d:3,8,3 BatchNorm2d:8 relu
      cnncalc counters -f model.onnx --format json
    """
    fmt = format_for_output(fmt, output, (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN))
    refuse_width(width, fmt)
    from ..counters import compare
    from ..render.counters import counters_json, counters_markdown, counters_table

    comparison = compare(model_args.summarize(need="counters"))
    if fmt == "table":
        emit(counters_table(comparison), width, output)
    elif fmt == "markdown":
        write_output(counters_markdown(comparison), output)
    else:
        write_output(counters_json(comparison), output)
