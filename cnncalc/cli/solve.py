"""``cnncalc solve``: the inverse questions (input sizes a network accepts, the layer that maps N to M)."""

from __future__ import annotations

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
from .types import ConventionChoice, SizesType


@click.group(short_help="Input sizes; the layer for N to M; the batch that fits.")
def solve() -> None:
    """Inverse questions: the input sizes a network accepts, the layer that maps N to M, the
    largest batch that fits in memory.

    \b
    Examples:
      cnncalc solve sizes --model resnet50
      cnncalc solve layer --input 224 --output 112 --kernel 3
      cnncalc solve batch --memory 16GiB --model torchvision/resnet50 --train
    """


@solve.command("sizes")
@model_options
@click.option(
    "--free-dense",
    is_flag=True,
    help="Let a Dense layer after Flatten follow the input size (as summary does) instead of "
    "keeping the input features it has at the spec's input.",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@width_option
def solve_sizes(model_args: ModelArgs, free_dense: bool, fmt: str, width: int | None) -> None:
    """The exact input sizes, per spatial axis, for which the whole network is valid.

    Derived from the layer formulas, not sampled: windows need enough input, merges need equal
    sizes, Flatten+Dense fix the size. The spec's input gives the channels (and the sizes of the
    axes that Flatten or Reshape tie together); with --input, the nearest valid sizes to it are
    shown. Exit 0 when some size works, 1 when none does (the reason is printed).

    \b
    Examples:
      cnncalc solve sizes --model resnet50
      cnncalc solve sizes --input 100x100x1 -f unet.json
      cnncalc solve sizes --input 32x32x1 conv:8,3 maxpool:2 conv:8,3 --format json
    """
    refuse_width(width, fmt)
    from ..render.solve import sizes_json, sizes_markdown, sizes_table
    from ..solve import solve_sizes as run_solve

    solution = run_solve(
        model_args.spec(),
        input_shape=model_args.input_shape,
        convention=model_args.convention,
        data_format=model_args.data_format,
        fixed_dense=not free_dense,
    )
    near = model_args.input_shape is not None
    if fmt == "json":
        click.echo(sizes_json(solution), nl=False)
    elif fmt == "markdown":
        click.echo(sizes_markdown(solution, near), nl=False)
    else:
        emit(sizes_table(solution, near), width)
    if not solution.valid:
        click.get_current_context().exit(1)


@solve.command("layer")
@click.option(
    "-i",
    "--input",
    "input_size",
    type=SizesType(),
    required=True,
    metavar="SIZES",
    help="Input spatial size(s), e.g. 224 or 224x160.",
)
@click.option(
    "-o",
    "--output",
    "output_size",
    type=SizesType(),
    required=True,
    metavar="SIZES",
    help="Wanted output spatial size(s), e.g. 112 or 112x80.",
)
@click.option(
    "--kind",
    type=click.Choice(["conv", "pool", "transposed"]),
    default="conv",
    show_default=True,
    help="Convolution, pooling or transposed convolution.",
)
@click.option("--kernel", type=SizesType(), default=None, metavar="SIZES", help="Fix the kernel size.")
@click.option("--stride", type=SizesType(), default=None, metavar="SIZES", help="Fix the stride.")
@click.option("--dilation", type=SizesType(), default=None, metavar="SIZES", help="Fix the dilation.")
@click.option(
    "--convention",
    type=ConventionChoice(),
    default="keras",
    show_default=True,
    help="Keras: padding valid/same; PyTorch: integer padding, output_padding, ceil_mode.",
)
@click.option(
    "--filters",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="Output channels written into the specs and constructor calls.",
)
@click.option(
    "--channels",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Input channels written into the PyTorch constructor calls.",
)
@click.option(
    "--pool",
    type=click.Choice(["max", "avg"]),
    default="max",
    show_default=True,
    help="Pooling operation for --kind pool.",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Show at most this many (0: all; JSON always has all).",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@width_option
def solve_layer(
    input_size: tuple[int, ...],
    output_size: tuple[int, ...],
    kind: str,
    kernel: tuple[int, ...] | None,
    stride: tuple[int, ...] | None,
    dilation: tuple[int, ...] | None,
    convention: str,
    filters: int,
    channels: int,
    pool: str,
    limit: int,
    fmt: str,
    width: int | None,
) -> None:
    """Every layer configuration that maps the input size to the output size, simplest first.

    Free parameters are searched within small bounds (kernel 1..7, stride 1..4, dilation 1..3,
    padding 0..F_eff-1, pools 0..kernel//2, output_padding below the stride); each answer is a
    ready-to-paste layer spec and the Keras and PyTorch constructor calls (across conventions,
    the shape-equivalent construction). Exit 1 when nothing maps the input to the output; the
    nearest reachable outputs are shown.

    \b
    Examples:
      cnncalc solve layer --input 224 --output 112 --kernel 3
      cnncalc solve layer --input 224x160 --output 112x80 --convention pytorch
      cnncalc solve layer --input 7 --output 14 --kind transposed --kernel 3 --stride 2 --convention pytorch
    """
    refuse_width(width, fmt)
    from ..render.solve import layer_json, layer_markdown, layer_table
    from ..solve import solve_layer as run_solve

    solution = run_solve(
        input_size,
        output_size,
        kind=kind,
        convention=convention,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        filters=filters,
        channels=channels,
        pool=pool,
    )
    shown = None if limit == 0 else limit
    if fmt == "json":
        click.echo(layer_json(solution), nl=False)
    elif fmt == "markdown":
        click.echo(layer_markdown(solution, shown), nl=False)
    else:
        emit(layer_table(solution, shown), width)
    if not solution.choices:
        click.get_current_context().exit(1)


def _add_batch() -> None:
    """``solve batch`` lives with ``cnncalc memory`` (:mod:`cnncalc.cli.memory`)."""
    from .memory import solve_batch

    solve.add_command(solve_batch, "batch")


_add_batch()
