"""``cnncalc diagram``: the network drawn as SVG (or PNG)."""

from __future__ import annotations

import sys

import click

from .options import (
    ModelArgs,
    model_options,
    output_option,
    write_bytes_output,
    write_output,
)


@click.command()
@model_options
@output_option
def diagram(model_args: ModelArgs, output: str | None) -> None:
    """Draw the network as an SVG (or PNG): one box per activation volume, scaled by its shape.

    Height, width and channels set each box's height, depth and thickness (log-scaled);
    vectors are bars; kernels are drawn on the volume they slide over; boxes carry the layer
    names; branches stand one above the other; every edge is drawn around the boxes, shortcuts
    over the row; long networks wrap onto several rows (at most about 2,000 px wide).
    -o FILE.png converts through rsvg-convert, cairosvg or ImageMagick when one is installed.
    Without -o the SVG goes to standard output, which must then be a file or a pipe.

    \b
    Examples:
      cnncalc diagram --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same -o model.svg
      cnncalc diagram --model vgg16 -o vgg16.svg
      cnncalc diagram --model resnet18 -o resnet18.png
      cnncalc diagram -f model.json > model.svg
    """
    png = output is not None and output.lower().endswith(".png")
    if output in (None, "-") and sys.stdout.isatty():
        raise click.UsageError(
            "the diagram is an SVG document, not terminal text: give -o FILE.svg (or -o FILE.png), "
            "or redirect it (> model.svg)",
            click.get_current_context(silent=True),
        )
    from ..render.diagram import to_svg

    svg = to_svg(model_args.summarize())
    if png:
        from ..render.raster import svg_to_png

        write_bytes_output(svg_to_png(svg), str(output))
    else:
        write_output(svg, output)
