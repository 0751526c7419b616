"""Issue 28 (speed and memory at scale), the diagram and the HTML report: the compact layout and
the one-pass number formatting give exactly what the plain path gives, and big outputs come out
as generators.

The oracle for the SVG is a plain writer kept here: every box, label, edge and kernel drawn from
the layout's records (:attr:`Drawing.placed`, :attr:`Drawing.edges`), each number formatted on
its own (``f"{x:.1f}"``, ``.0`` dropped), as the diagram was written before issue 28."""

from __future__ import annotations

import dataclasses
import inspect
import json
from html import escape

import pytest

import cnncalc
from cnncalc import zoo
from cnncalc.explain import explain
from cnncalc.geometry import AxisField, AxisMap, ReceptiveField, SamePadding, Window
from cnncalc.render import html
from cnncalc.render.diagram import COLOURS, MARGIN, _shade, layout, svg_pieces, to_svg
from cnncalc.render.routing import Placed

from .test_diagram_edges import res_unet_spec, unet_spec

BLOCK = ["conv:8,3,padding=same", "bn", "relu"]


def stack(n: int) -> cnncalc.Summary:
    return cnncalc.summarize({"input_shape": [8, 8, 8], "layers": (BLOCK * (n // 3 + 1))[:n]})


def f(x: float) -> str:
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def plain_svg(summary: cnncalc.Summary) -> str:
    """The diagram written record by record, number by number."""
    drawing = layout(summary)
    width, height = drawing.width, drawing.height
    where = {p.volume.name: p for p in drawing.placed}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(width)}" height="{f(height)}" '
        f'viewBox="0 0 {f(width)} {f(height)}" font-family="Helvetica, Arial, sans-serif" role="img" '
        f'aria-label="{escape(summary.name)}: {len(summary.layers)} layers">',
        "<style>.name{font-size:11px;font-weight:bold;fill:#222;text-anchor:middle}"
        ".kind{font-size:10px;fill:#333;text-anchor:middle}"
        ".shape{font-size:10px;fill:#555;text-anchor:middle}.title{font-size:14px;font-weight:bold;fill:#222}"
        ".edge{stroke:#666;stroke-width:1.3;fill:none}.edge.long{stroke:#c0392b}"
        ".hint{stroke:#333;stroke-width:0.6;stroke-dasharray:2 2}"
        ".kernel{fill:#ffd84d;stroke:#333;stroke-width:0.6}</style>",
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>',
        f'<rect x="0" y="0" width="{f(width)}" height="{f(height)}" rx="8" fill="#fbfbf8"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 8}" class="title">{escape(summary.name)} · {summary.total_params:,} params'
        f" · {summary.total_macs:,} MACs</text>",
    ]
    for edge in drawing.edges:
        d = "M" + " L".join(f"{f(x)},{f(y)}" for x, y in edge.points)
        parts.append(
            f'<path d="{d}" class="{edge.css}" data-from="{escape(edge.source)}" '
            f'data-to="{escape(edge.target)}" marker-end="url(#arrow)"/>'
        )
    for p in drawing.placed:
        v, x, y = p.volume, p.x, p.y
        colour = COLOURS[v.category]
        dx = dy = v.depth * 0.7
        t, h = v.thickness, v.height
        x0, x1, x2, x3 = f(x), f(x + t), f(x + t + dx), f(x + dx)
        y0, y1, y2, y3 = f(y), f(y - h), f(y - h - dy), f(y - dy)
        left, top_y, right, bottom = p.box
        shape = "x".join(map(str, v.shape))
        centre = p.x + v.width / 2
        parts += [
            f'<g class="volume" data-name="{escape(v.name)}" data-shape="{shape}" '
            f'data-height="{f(v.height)}" data-depth="{f(v.depth)}" data-thickness="{f(v.thickness)}" '
            f'data-box="{f(left)} {f(top_y)} {f(right - left)} {f(bottom - top_y)}">',
            f"<title>{escape(v.name)} ({escape(v.kind)}) {shape}</title>",
            f'<polygon points="{x1},{y0} {x2},{y3} {x2},{y2} {x1},{y1}" fill="{_shade(colour, 0.75)}"/>',
            f'<polygon points="{x0},{y1} {x1},{y1} {x2},{y2} {x3},{y2}" fill="{_shade(colour, 1.35)}"/>',
            f'<polygon points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}" fill="{colour}"/>',
            "</g>",
            f'<text x="{f(centre)}" y="{f(y + 13)}" class="name">{escape(v.name)}</text>',
            f'<text x="{f(centre)}" y="{f(y + 26)}" class="kind">{escape(v.kind)}</text>',
            f'<text x="{f(centre)}" y="{f(y + 38)}" class="shape">{shape}</text>',
        ]
    per_column: dict[int, int] = {}
    for p in drawing.placed:
        per_column[p.column] = per_column.get(p.column, 0) + 1
    drawn: set[str] = set()
    for row in summary.layers:
        source_name = row.inputs[0]
        if len(row.inputs) == 1 and source_name not in drawn and where[row.name].volume.kernel:
            source, target = where[source_name], where[row.name]
            hint = target.column == source.column + 1 and target.row == source.row and target.x > source.x
            hint = hint and per_column[source.column] == per_column[target.column] == 1
            parts += kernel(source, target, hint)
            drawn.add(source_name)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def kernel(source: Placed, target: Placed, hint: bool) -> list[str]:
    v = source.volume
    kernel = target.volume.kernel
    if not kernel or v.depth == 0:
        return []
    kh, kw = kernel[0], kernel[-1] if len(kernel) > 1 else 1
    fh = min(0.6, max(0.15, kh / max(v.cells[0], 1)))
    fw = min(0.6, max(0.15, kw / max(v.cells[1], 1)))
    x0, y0, d = source.x + v.thickness, source.y, v.depth * 0.7
    u0, u1, w0, w1 = 0.5 - fw / 2, 0.5 + fw / 2, 0.5 - fh / 2, 0.5 + fh / 2
    corners = [(x0 + u * d, y0 - u * d - w * v.height) for u, w in ((u0, w0), (u1, w0), (u1, w1), (u0, w1))]
    out = ['<polygon points="' + " ".join(f"{f(x)},{f(y)}" for x, y in corners) + '" class="kernel"/>']
    if hint:
        tx, ty = target.x, target.y - target.volume.height / 2
        for x, y in (corners[1], corners[2]):
            out.append(f'<line x1="{f(x)}" y1="{f(y)}" x2="{f(tx)}" y2="{f(ty)}" class="hint"/>')
    return out


CASES = {
    **{name: lambda name=name: cnncalc.summarize(zoo.load(name)) for name in zoo.names()},
    "stack of 3,000 (a row per box)": lambda: stack(3000),
    "stack of 40 (rows of many boxes)": lambda: stack(40),
    "U-Net, folded": lambda: cnncalc.summarize(unet_spec(3)),
    "residual U-Net, folded": lambda: cnncalc.summarize(res_unet_spec()),
    "names to escape, a vector": lambda: cnncalc.summarize(
        {
            "input_shape": [6, 6, 2],
            "layers": [
                {"type": "conv2d", "filters": 3, "kernel_size": 3, "name": 'a<b>&"c".0 x'},
                {"type": "conv2d", "filters": 3, "kernel_size": 1, "name": "b.0", "inputs": 'a<b>&"c".0 x'},
                {"type": "add", "name": "c'0", "inputs": ['a<b>&"c".0 x', "b.0"]},
                {"type": "flatten", "name": "flat.0"},
                {"type": "dense", "units": 10, "name": "-0.0"},
            ],
        }
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_svg_is_what_the_plain_writer_writes(case: str) -> None:
    summary = CASES[case]()
    assert to_svg(summary) == plain_svg(summary)


def test_svg_and_report_are_generators_of_pieces() -> None:
    summary = stack(2000)
    pieces = svg_pieces(summary)
    assert inspect.isgenerator(pieces)
    first = next(pieces)
    assert first.startswith("<svg ") and not first.endswith("</svg>\n")  # the rest not made yet
    rest = list(pieces)
    assert len(rest) > 5 and "".join([first, *rest]) == plain_svg(summary)
    page = html.html_pieces(summary)
    assert inspect.isgenerator(page)
    assert next(page).startswith("<!DOCTYPE html>")


def test_report_formulas_are_explains_working() -> None:
    """Each row's data-formula, worked out a layer at a time, is what explain() gives whole."""
    summary = stack(40)
    page = html.html_report(summary)
    for layer in explain(summary):
        steps = [
            f"{s.label}: {s.formula} = {s.work} = {s.result}"
            if s.work
            else f"{s.label}: {s.formula} = {s.result}"
            for s in layer.steps
        ]
        text = "\n".join(([layer.rule] if layer.rule else []) + steps)
        assert f'<tr data-name="{layer.name}" data-formula="{escape(text)}">' in page
    assert page.count("<tr data-name=") == 40


def test_the_wrapped_layout_keeps_no_record_per_layer() -> None:
    """A long stack's drawing is arrays (and one look per repeated layer object and shape)."""
    drawing = layout(stack(3000))
    arrays = drawing._a  # noqa: SLF001 - what the layout keeps is the point of the test
    looks = {id(lk) for lk in arrays.looks}
    assert len(looks) == 4  # the input, conv, batch norm, relu
    for field in dataclasses.fields(arrays):
        value = getattr(arrays, field.name)
        assert not isinstance(value, list) or all(isinstance(v, str) or id(v) in looks for v in value), (
            field.name
        )


@pytest.mark.parametrize("cls", [Window, AxisMap, AxisField, ReceptiveField, SamePadding])
def test_per_layer_geometry_records_are_slotted_and_frozen(cls: type) -> None:
    assert "__slots__" in vars(cls)
    field = ReceptiveField.of_input(2)
    assert not hasattr(field, "__dict__") and not hasattr(field.axes[0], "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        field.axes = ()  # type: ignore[misc]
    json.dumps(dataclasses.asdict(field))  # still plain data
