"""An SVG architecture diagram of a :class:`~cnncalc.summary.Summary`, in pure Python.

LeNet/AlexNet style: each activation volume is a box whose height, oblique depth and thickness
grow (log-scaled) with its height, width and channels; vectors are thin bars; a kernel is hinted
on the face of the volume it slides over. Branches stand side by side in the same column.
Deterministic: the same summary always gives the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from ..enums import Category, DataFormat
from ..geometry import split_channels

if TYPE_CHECKING:
    from ..layers.base import Layer
    from ..summary import Summary

#: Fill colours by what a layer does (mid tones: readable on the light background in any viewer).
COLOURS = {
    Category.INPUT: "#a0a0a0",
    Category.CONV: "#4e79a7",
    Category.POOL: "#f28e2b",
    Category.DENSE: "#59a14f",
    Category.NORM: "#b07aa1",
    Category.MERGE: "#e15759",
    Category.RESHAPE: "#76b7b2",
    Category.ELEMENTWISE: "#bab0ac",
}
GAP = 34
LANE_GAP = 26
LABEL_SPACE = 34
MARGIN = 20
TITLE_SPACE = 34


def category(layer: Layer | None) -> Category:
    """Which colour family a layer belongs to: the kind says (``Layer.category``)."""
    return Category.INPUT if layer is None else layer.category


def extent(n: int, base: float, per_doubling: float) -> float:
    """A drawn length for a size: strictly increasing in n, log-scaled so 2 and 2048 both fit."""
    return base + per_doubling * math.log2(max(n, 1))


@dataclass(frozen=True)
class Volume:
    """One drawn tensor: its name, label lines, category and box dimensions (pixels)."""

    name: str
    kind: str
    shape: tuple[int, ...]
    category: Category
    height: float
    depth: float
    thickness: float
    kernel: tuple[int, ...] = ()

    @property
    def width(self) -> float:
        """Horizontal space the box takes (front face plus the oblique depth)."""
        return self.thickness + self.depth * 0.7

    @property
    def total_height(self) -> float:
        """Vertical space the box takes (front face plus the oblique depth)."""
        return self.height + self.depth * 0.7


def volume(name: str, kind: str, shape: tuple[int, ...], channels_first: bool, layer: Layer | None) -> Volume:
    """Box dimensions for a tensor shape (no batch axis)."""
    if len(shape) == 1:  # a vector: a thin bar whose height grows with its length
        return Volume(name, kind, shape, category(layer), extent(shape[0], 14, 12), 0.0, 8.0)
    fmt = DataFormat.CHANNELS_FIRST if channels_first else DataFormat.CHANNELS_LAST
    spatial, channels = split_channels(shape, fmt)
    h = spatial[-2] if len(spatial) >= 2 else spatial[0]
    w = spatial[-1] if len(spatial) >= 2 else 1
    kernel = tuple(getattr(layer, "kernel_size", ()) or getattr(layer, "pool_size", ()) or ())
    return Volume(
        name, kind, shape, category(layer), extent(h, 10, 14), extent(w, 6, 7), extent(channels, 3, 5), kernel
    )


def _shade(colour: str, factor: float) -> str:
    """Lighter (factor > 1) or darker (< 1) version of a #rrggbb colour."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    if factor >= 1:
        rgb = [round(c + (255 - c) * (factor - 1)) for c in rgb]
    else:
        rgb = [round(c * factor) for c in rgb]
    return "#" + "".join(f"{min(255, max(0, c)):02x}" for c in rgb)


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _box(x: float, y: float, v: Volume) -> list[str]:
    """A box whose front face's bottom-left corner is (x, y); depth recedes up and to the right."""
    colour = COLOURS[v.category]
    dx = dy = v.depth * 0.7
    t, h = v.thickness, v.height
    front = f"{_f(x)},{_f(y)} {_f(x + t)},{_f(y)} {_f(x + t)},{_f(y - h)} {_f(x)},{_f(y - h)}"
    top = f"{_f(x)},{_f(y - h)} {_f(x + t)},{_f(y - h)} {_f(x + t + dx)},{_f(y - h - dy)} {_f(x + dx)},{_f(y - h - dy)}"
    side = f"{_f(x + t)},{_f(y)} {_f(x + t + dx)},{_f(y - dy)} {_f(x + t + dx)},{_f(y - h - dy)} {_f(x + t)},{_f(y - h)}"
    return [
        f'<g class="volume" data-name="{escape(v.name)}" data-shape="{"x".join(map(str, v.shape))}" '
        f'data-height="{_f(v.height)}" data-depth="{_f(v.depth)}" data-thickness="{_f(v.thickness)}">',
        f'<polygon points="{side}" fill="{_shade(colour, 0.75)}"/>',
        f'<polygon points="{top}" fill="{_shade(colour, 1.35)}"/>',
        f'<polygon points="{front}" fill="{colour}"/>',
        "</g>",
    ]


@dataclass(frozen=True)
class Placed:
    """A volume and where its front face's bottom-left corner sits."""

    volume: Volume
    x: float
    y: float


def layout(summary: Summary) -> tuple[list[Placed], float, float]:
    """Columns by graph depth (inputs at 0), lanes for branches; returns placements and size."""
    channels_first = summary.data_format is DataFormat.CHANNELS_FIRST
    depth: dict[str, int] = {}
    columns: list[list[Volume]] = []

    def put(column: int, v: Volume) -> None:
        while len(columns) <= column:
            columns.append([])
        columns[column].append(v)

    for name, shape in summary.model_inputs:
        depth[name] = 0
        put(0, volume(name, "Input", shape, channels_first, None))
    for row in summary.layers:
        d = 1 + max(depth[s] for s in row.inputs)
        depth[row.name] = d
        put(d, volume(row.name, row.class_name, row.output_shape, channels_first, row.layer))
    placed: list[Placed] = []
    x: float = MARGIN
    bottom = 0.0
    for column in columns:
        y: float = TITLE_SPACE + MARGIN
        for v in column:
            y += v.total_height
            placed.append(Placed(v, x, y))
            y += LABEL_SPACE + LANE_GAP
        bottom = max(bottom, y - LANE_GAP)
        x += max(v.width for v in column) + GAP + 40
    return placed, x + MARGIN, bottom + MARGIN


def _label(p: Placed) -> list[str]:
    v = p.volume
    cx = p.x + v.width / 2
    shape = "x".join(map(str, v.shape))
    return [
        f'<text x="{_f(cx)}" y="{_f(p.y + 14)}" class="kind">{escape(v.kind)}</text>',
        f'<text x="{_f(cx)}" y="{_f(p.y + 27)}" class="shape">{shape}</text>',
    ]


def _kernel_hint(source: Placed, target: Placed) -> list[str]:
    """A small square on the source's front face (kernel size relative to the face) with lines to the target."""
    v, kernel = source.volume, target.volume.kernel
    if not kernel or v.depth == 0:
        return []
    h_in = v.shape[-2] if len(v.shape) >= 3 else v.shape[0]
    side = max(4.0, min(v.height * 0.6, v.height * kernel[0] / max(h_in, 1) * 3))
    x0 = source.x + v.thickness * 0.2
    y0 = source.y - v.height / 2 - side / 2
    tx = target.x  # the target's left edge: the lines meet its face, not cross it
    ty = target.y - target.volume.height / 2
    return [
        f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(side)}" height="{_f(side)}" class="kernel"/>',
        f'<line x1="{_f(x0 + side)}" y1="{_f(y0)}" x2="{_f(tx)}" y2="{_f(ty)}" class="hint"/>',
        f'<line x1="{_f(x0 + side)}" y1="{_f(y0 + side)}" x2="{_f(tx)}" y2="{_f(ty)}" class="hint"/>',
    ]


def to_svg(summary: Summary) -> str:
    """The whole diagram as an SVG document (UTF-8 text)."""
    placed, width, height = layout(summary)
    where = {p.volume.name: p for p in placed}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="Helvetica, Arial, sans-serif">',
        "<style>.kind{font-size:11px;font-weight:bold;fill:#222;text-anchor:middle}"
        ".shape{font-size:10px;fill:#444;text-anchor:middle}.title{font-size:14px;font-weight:bold;fill:#222}"
        ".edge{stroke:#777;stroke-width:1.2;fill:none}.hint{stroke:#333;stroke-width:0.6;stroke-dasharray:2 2}"
        ".kernel{fill:#ffd84d;stroke:#333;stroke-width:0.6}</style>",
        # An opaque light background keeps the drawing readable in dark viewers too.
        f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" rx="8" fill="#fbfbf8"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 8}" class="title">{escape(summary.name)} · {summary.total_params:,} params'
        f" · {summary.total_macs:,} MACs</text>",
    ]
    for row in summary.layers:  # edges first, under the boxes
        target = where[row.name]
        for source_name in row.inputs:
            source = where[source_name]
            sx = source.x + source.volume.width
            sy = source.y - source.volume.height / 2
            tx, ty = target.x, target.y - target.volume.height / 2
            curve = f"M{_f(sx)},{_f(sy)} C{_f(sx + GAP)},{_f(sy)} {_f(tx - GAP)},{_f(ty)} {_f(tx)},{_f(ty)}"
            parts.append(f'<path d="{curve}" class="edge"/>')
    for p in placed:
        parts += _box(p.x, p.y, p.volume)
        parts += _label(p)
    for row in summary.layers:
        if len(row.inputs) == 1:
            parts += _kernel_hint(where[row.inputs[0]], where[row.name])
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
