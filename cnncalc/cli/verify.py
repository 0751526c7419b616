"""``cnncalc verify``: the NumPy executor's real tensors against the formulas."""

from __future__ import annotations

import sys

import click

from ..enums import OutputFormat
from ..errors import Failed
from .options import (
    ModelArgs,
    emit,
    format_option,
    model_options,
    refuse_width,
    width_option,
    write_output,
)
from .types import SizeType

#: Estimated seconds above which verify shows a progress bar (MACs, elements, Python steps).
PROGRESS_SECONDS = 1.0


@click.command(short_help="Check the formulas on real tensors (NumPy).")
@model_options
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random seed for weights and input.",
)
@click.option("--batch", type=click.IntRange(1, 4096), default=1, show_default=True, help="Batch size.")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float32",
    show_default=True,
    help="Floating-point type of the run.",
)
@click.option(
    "--max-memory",
    type=SizeType(),
    default="2GiB",
    show_default=True,
    metavar="SIZE",
    help="Refuse runs whose estimated peak memory is larger (e.g. 512MiB, 4GiB).",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON)
@width_option
def verify(
    model_args: ModelArgs,
    seed: int,
    batch: int,
    dtype: str,
    max_memory: int,
    fmt: str,
    width: int | None,
) -> None:
    """Run the NumPy executor on random tensors and compare with the formulas.

    For each layer: predicted vs real output shape, predicted vs real parameter count, and the
    largest difference from a naive loop reference (on small layers). Exit 0 when all match,
    1 on any mismatch, 2 on bad input or when the run would exceed --max-memory.

    \b
    Examples:
      cnncalc verify --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc verify --convention pytorch --input 3x32x32 conv:8,3,2,1,dilation=2 maxpool:3,2,ceil_mode=true
    """
    refuse_width(width, fmt)
    from ..numeric.verify import run_seconds
    from ..numeric.verify import verify as run_verify
    from ..render.documents import verify_json_pieces, verify_table

    result = model_args.summarize(need="verify")
    from ..render.console import progress_bar

    # About a second of numpy work or more: worth a progress bar (only a terminal shows one, so
    # the estimate is skipped otherwise).
    long = sys.stderr.isatty() and run_seconds(result, batch) >= PROGRESS_SECONDS
    total = len(result.layers)
    with progress_bar(total, long) as advance:
        # the bar moves in steps of about 0.1% (a redraw per layer would cost more than the layer)
        every = max(1, total // 1000)
        report = run_verify(
            result,
            batch=batch,
            dtype=dtype,
            seed=seed,
            max_memory=max_memory,
            progress=lambda done: advance(done) if done % every == 0 or done == total else None,
        )
    if fmt == "json":
        write_output(verify_json_pieces(report), None)  # a layer at a time, never one string
    else:
        emit(verify_table(report), width)
    if not report.ok:
        bad = next(row for row in report.rows if not row.ok)
        raise Failed(f"verify: layer {bad.name} ({bad.class_name}): {bad.message}")
