"""``cnncalc models``: the built-in zoo."""

from __future__ import annotations

import click

from ..enums import OutputFormat
from .options import (
    emit,
    format_option,
    refuse_width,
    width_option,
)


@click.command(short_help="The built-in model zoo.")
@format_option(OutputFormat.TABLE, OutputFormat.JSON)
@width_option
def models(fmt: str, width: int | None) -> None:
    """List the built-in zoo: each network's input, parameters and MACs (and the published count).

    \b
    Examples:
      cnncalc models
      cnncalc summary --model vgg16
      cnncalc verify --model resnet18 --input 3x64x64
    """
    refuse_width(width, fmt)
    import json

    from .. import zoo
    from ..engine import summarize
    from ..io import loads
    from ..render.table import models_json, models_table

    entries = []
    for name in zoo.names():
        text = zoo.load(name)
        entries.append((name, json.loads(text), summarize(loads(text, f"model {name}"))))
    if fmt == "json":
        click.echo(models_json(entries), nl=False)
    else:
        emit(models_table(entries), width)
