"""``cnncalc export``: runnable Keras or PyTorch code for a model."""

from __future__ import annotations

import click

from ..enums import ExportTarget
from .options import (
    ModelArgs,
    model_options,
    output_ending,
    output_option,
    write_output,
)
from .types import choice


@click.command(short_help="Write runnable Keras or PyTorch code.")
@model_options
@click.option(
    "--to",
    "target",
    type=choice(ExportTarget),
    required=True,
    help="The framework whose code is written.",
)
@output_option
def export(model_args: ModelArgs, target: str, output: str | None) -> None:
    """Write runnable model code for any model cnncalc reads (reading it back gives the same table).

    Keras: a plain stack becomes keras.Sequential, a graph a functional keras.Model; every layer
    keeps its name and non-default arguments. The -o file must end in .py (or have no ending). PyTorch (for a model under --convention pytorch): one
    nn.Module with in_channels/in_features filled in and a forward. Layers the framework has no
    class for are refused with the reason.

    \b
    Examples:
      cnncalc export --to keras --input 28x28x1 conv:32,3,activation=relu maxpool:2 flatten dense:10
      cnncalc export --to keras --model vgg16 -o vgg16.py
      cnncalc export --to keras -f model.json -o model.py
      cnncalc export --to pytorch --model resnet18 -o resnet18.py
    """
    from ..export import export_pieces as write_code

    output_ending(output, {".py": "python"}, "model code")
    write_output(write_code(model_args.summarize(need="export"), ExportTarget.parse(target, "--to")), output)
