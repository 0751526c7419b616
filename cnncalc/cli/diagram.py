"""``cnncalc diagram``: the network drawn as SVG (or PNG, PDF)."""

from __future__ import annotations

import sys

import click

from .options import (
    ModelArgs,
    model_options,
    output_ending,
    output_option,
    write_bytes_output,
    write_output,
)


@click.command(short_help="Draw the network as SVG, PNG or PDF.")
@model_options
@output_option
def diagram(model_args: ModelArgs, output: str | None) -> None:
    """Draw the network as an SVG (or PNG, PDF): one box per activation volume, scaled by its shape.

    Height, width and channels set each box's height, depth and thickness (log-scaled);
    vectors are bars; kernels are drawn on the volume they slide over; boxes carry the layer
    names; branches stand one above the other; every edge is drawn around the boxes, shortcuts
    over the row; long networks wrap onto several rows (at most about 2,000 px wide).
    The -o file's ending chooses the format: .svg, .png or .pdf (PNG and PDF convert through
    rsvg-convert, cairosvg or ImageMagick when one is installed); another ending is refused.
    Without -o the SVG goes to standard output, which must then be a file or a pipe.

    \b
    Examples:
      cnncalc diagram --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same -o model.svg
      cnncalc diagram --model vgg16 -o vgg16.svg
      cnncalc diagram --model resnet18 -o resnet18.png
      cnncalc diagram -f model.json > model.svg
    """
    fmt = _format_of(output)
    if output in (None, "-") and sys.stdout.isatty():
        raise click.UsageError(
            "the diagram is an SVG document, not terminal text: give -o FILE.svg (or -o FILE.png), "
            "or redirect it (> model.svg)",
            click.get_current_context(silent=True),
        )
    from ..render.diagram import svg_pieces

    svg = svg_pieces(model_args.summarize(need="diagram"))
    if fmt == "svg":
        write_output(svg, output)
    else:
        from ..render.raster import svg_to

        write_bytes_output(svg_to("".join(svg), fmt), str(output))


#: The formats diagram writes, by the output file's ending.
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


def _format_of(output: str | None) -> str:
    """The format the -o file's ending asks for: .svg (or no ending, or a stream) SVG, .png, .pdf."""
    return output_ending(output, FORMATS, "a diagram") or "svg"
