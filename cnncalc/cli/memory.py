"""``cnncalc memory`` and ``cnncalc solve batch``: the memory a model needs to run or train at a
batch size, and the largest batch that fits (the arithmetic is :mod:`cnncalc.memory`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..enums import Device, Mixed, Optimizer, OutputFormat
from .options import (
    ModelArgs,
    dtype_option,
    emit,
    format_for_output,
    format_option,
    model_options,
    output_option,
    refuse_width,
    width_option,
    write_output,
)
from .types import SizeType

if TYPE_CHECKING:
    from ..summary import Summary


def memory_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--train``, ``--optimizer``, ``--mixed``, ``--device``: what the memory figures assume."""
    decorators = [
        click.option(
            "--train/--inference",
            "training",
            default=False,
            help="Whose peak decides (solve batch) and the headline figure: training's (params, "
            "gradients, optimizer state, saved tensors, backward) or inference's [default: inference].",
        ),
        click.option(
            "--optimizer",
            type=click.Choice([o.value for o in Optimizer], case_sensitive=False),
            default=Optimizer.ADAM.value,
            show_default=True,
            help="Optimizer whose state is counted: sgd none, momentum and rmsprop one tensor per "
            "parameter, adam and adamw two.",
        ),
        click.option(
            "--mixed",
            type=click.Choice([m.value for m in Mixed], case_sensitive=False),
            default=None,
            help="Mixed precision (torch.autocast): activations in fp16/bf16, fp32 master weights "
            "and gradients, the half copies of conv/linear weights kept for backward.",
        ),
        click.option(
            "--device",
            type=click.Choice([d.value for d in Device], case_sensitive=False),
            default=Device.CUDA.value,
            show_default=True,
            help="Where it runs: dropout keeps a 1-byte mask on cuda, a mask in the value's dtype on cpu.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _memory_summary(model_args: ModelArgs, dtype: str | None, mixed: str | None) -> Summary:
    """The model with nested models expanded (memory follows each op); ``--mixed`` keeps fp32 masters."""
    from dataclasses import replace

    if mixed is not None and dtype not in (None, "float32"):
        raise click.UsageError(
            f"--mixed {mixed} keeps fp32 master weights: --dtype {dtype} contradicts it",
            click.get_current_context(silent=True),
        )
    return replace(model_args, expand=True).summarize(dtype, need="memory")


@click.command(short_help="Training and inference memory at a batch size.")
@model_options
@dtype_option
@click.option("--batch", type=click.IntRange(1, 2**40), default=1, show_default=True, help="Batch size.")
@memory_options
@click.option("--all", "all_layers", is_flag=True, help="Show each layer's part (saved, live bytes).")
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@output_option
@width_option
def memory(
    model_args: ModelArgs,
    dtype: str | None,
    batch: int,
    training: bool,
    optimizer: str,
    mixed: str | None,
    device: str,
    all_layers: bool,
    fmt: str,
    output: str | None,
    width: int | None,
) -> None:
    """Memory to run or train the model at a batch size, by PyTorch's autograd rules.

    Parameters, buffers, gradients, optimizer state, the bytes autograd keeps for backward (op by
    op: max-pool's int64 indices, BatchNorm's input and statistics, ReLU's output, dropout's
    mask; views and in-place ops share storage), and the inference and training peaks.
    docs/memory.md gives the rules and their sources.

    \b
    Examples:
      cnncalc memory --model torchvision/resnet50 --batch 32 --train --optimizer adam
      cnncalc memory --model torchvision/resnet18 --batch 8 --train --mixed bf16 --format json
      cnncalc memory --convention pytorch --input 3x224x224 conv:64,3,1,1 relu:inplace=true --all
    """
    from ..memory import memory as run_memory
    from ..render import memory as render

    fmt = format_for_output(fmt, output, (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN))
    refuse_width(width, fmt)
    result = _memory_summary(model_args, dtype, mixed)
    report = run_memory(
        result, batch=batch, training=training, optimizer=optimizer, mixed=mixed, device=device
    )
    if fmt == "table":
        emit(render.memory_table(report, all_layers), width, output)
    elif fmt == "markdown":
        write_output(render.memory_markdown(report, all_layers), output)
    else:
        write_output(render.memory_json(report, all_layers), output)


@click.command("batch", short_help="The largest batch that fits in --memory.")
@model_options
@dtype_option
@click.option(
    "--memory",
    "budget",
    type=SizeType("--memory"),
    required=True,
    metavar="SIZE",
    help="The memory to fit in (e.g. 16GiB, 24GB, 8e9).",
)
@memory_options
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@width_option
def solve_batch(
    model_args: ModelArgs,
    dtype: str | None,
    budget: int,
    training: bool,
    optimizer: str,
    mixed: str | None,
    device: str,
    fmt: str,
    width: int | None,
) -> None:
    """The largest batch whose peak memory fits in --memory, with the figures for N and N+1.

    The training peak with --train, else the inference peak (see `cnncalc memory`). Exit 1
    when even batch 1 does not fit (the reason is printed).

    \b
    Examples:
      cnncalc solve batch --memory 16GiB --model torchvision/resnet50 --train --optimizer adam --mixed bf16
      cnncalc solve batch --memory 8GB --model vgg16
    """
    from ..memory import largest_batch
    from ..render import memory as render

    refuse_width(width, fmt)
    result = _memory_summary(model_args, dtype, mixed)
    answer = largest_batch(result, budget, training=training, optimizer=optimizer, mixed=mixed, device=device)
    if fmt == "json":
        click.echo(render.batch_json(answer), nl=False)
    elif fmt == "markdown":
        click.echo(render.batch_markdown(answer), nl=False)
    else:
        emit(render.batch_table(answer), width)
    if answer.fits is None:
        click.get_current_context().exit(1)
