"""An SVG architecture diagram of a :class:`~cnncalc.summary.Summary`, in pure Python.

LeNet/AlexNet style: each activation volume is a box whose height, oblique depth and thickness
grow (log-scaled) with its height, width and channels; vectors are thin bars; a kernel is drawn
on the height x width face of the volume it slides over. Boxes carry the layer's name, kind and
shape. Columns follow graph depth; branches stand one above the other in a column.

Every edge is drawn and none crosses a box: edges run orthogonally through the gaps between
columns; an edge that skips columns (a residual connection) runs in a corridor above the row;
a network too wide for :data:`MAX_WIDTH` wraps onto further rows, the edges between rows running
in a corridor below a row and down the left gutter. An encoder-decoder whose skips nest (a U-Net)
is folded instead (:func:`cnncalc.render.fold.fold`): the decoder runs back under the encoder, each skip a short drop
from an encoder column to the decoder column under it. Deterministic: the same summary always
gives the same bytes.
"""

from __future__ import annotations

import itertools
import math
from functools import cache
from html import escape
from typing import TYPE_CHECKING

from ..enums import Category, DataFormat
from ..geometry import split_channels
from .fold import fold, turning_column
from .routing import (
    CORRIDOR_PAD,
    GAP,
    LABEL_SPACE,
    LANE_GAP,
    MARGIN,
    ROW_GAP,
    SLOT,
    TITLE_SPACE,
    Drawing,
    Edge,
    Placed,
    Volume,
    least_crossing,
    simplify,
    spread,
)
from .text import type_name

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
    Category.OPAQUE: "#edc948",
}
#: A row wraps before it gets wider than this (pixels), unless one column alone is wider.
MAX_WIDTH = 2000


def category(layer: Layer | None) -> Category:
    """What colour family a layer belongs to: the kind says (``Layer.category``)."""
    return Category.INPUT if layer is None else layer.category


def extent(n: int, base: float, per_doubling: float) -> float:
    """A drawn length for a size: strictly increasing in n, log-scaled so 2 and 2048 both fit."""
    return base + per_doubling * math.log2(max(n, 1))


def volume(name: str, kind: str, shape: tuple[int, ...], channels_first: bool, layer: Layer | None) -> Volume:
    """Box dimensions for a tensor shape (no batch axis)."""
    kernel = tuple(getattr(layer, "kernel_size", ()) or getattr(layer, "pool_size", ()) or ())
    if len(shape) == 1:  # a vector: a thin bar whose height grows with its length
        return Volume(name, kind, shape, category(layer), extent(shape[0], 14, 12), 0.0, 8.0, kernel)
    fmt = DataFormat.CHANNELS_FIRST if channels_first else DataFormat.CHANNELS_LAST
    spatial, channels = split_channels(shape, fmt)
    h = spatial[-2] if len(spatial) >= 2 else spatial[0]
    w = spatial[-1] if len(spatial) >= 2 else 1
    return Volume(
        name,
        kind,
        shape,
        category(layer),
        extent(h, 10, 14),
        extent(w, 6, 7),
        extent(channels, 3, 5),
        kernel,
        (h, w),
    )


@cache
def _shade(colour: str, factor: float) -> str:
    """Lighter (factor > 1) or darker (< 1) version of a #rrggbb colour."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    if factor >= 1:
        rgb = [round(c + (255 - c) * (factor - 1)) for c in rgb]
    else:
        rgb = [round(c * factor) for c in rgb]
    return "#" + "".join(f"{min(255, max(0, c)):02x}" for c in rgb)


def _f(x: float) -> str:
    """One decimal, ``.0`` dropped (``12.5``, ``12``, ``-0``)."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _levels(intervals: list[tuple[float, float, int]]) -> dict[int, int]:
    """Interval colouring: a track level per edge id so that overlapping runs never share one."""
    ends: list[float] = []
    out: dict[int, int] = {}
    for lo, hi, key in sorted(intervals):
        for level, end in enumerate(ends):
            if end + SLOT < lo:
                ends[level] = hi
                out[key] = level
                break
        else:
            out[key] = len(ends)
            ends.append(hi)
    return out


def layout(summary: Summary, max_width: float = MAX_WIDTH) -> Drawing:
    """Place every volume (columns by graph depth, wrapped into rows) and route every edge."""
    channels_first = summary.data_format is DataFormat.CHANNELS_FIRST
    depth: dict[str, int] = {}
    columns: list[list[Volume]] = []

    def put(column: int, v: Volume) -> None:
        while len(columns) <= column:
            columns.append([])
        columns[column].append(v)

    readers: dict[str, list[str]] = {}
    for name, shape in summary.model_inputs:
        depth[name] = 0
        put(0, volume(name, "Input", shape, channels_first, None))
    pairs: list[tuple[str, str]] = []
    for row in summary.layers:
        d = 1 + max(depth[s] for s in row.inputs)
        depth[row.name] = d
        label = type_name(row, summary.convention)  # the class in the convention's words (Conv2d)
        put(d, volume(row.name, label, row.output_shape, channels_first, row.layer))
        for source in row.inputs:
            pairs.append((source, row.name))
            readers.setdefault(source, []).append(row.name)

    # Widths: each column fits its boxes and labels; a gap widens with the edges running in it.
    col_width = [max(max(v.width, v.label_width) for v in col) for col in columns]
    turn = turning_column(columns, depth, pairs)
    if turn is not None:  # an encoder-decoder with nested skips: folded into a U, never wrapped
        return fold(columns, depth, pairs, col_width, turn)  # (wrapping would cross its skips)
    through = [0] * len(columns)
    for source, target in pairs:
        through[depth[source]] += 1
        if depth[target] - depth[source] > 1:
            through[depth[target] - 1] += 1
    gap_width = [GAP + SLOT * n for n in through]

    # Rows: columns left to right, a new row before one would pass max_width. The left gutter
    # (where edges go down to a later row) widens with the edges that do: widen it until the rows
    # it leads to need no more (it only grows, and at most to one slot per edge).
    # A row ends, if it can, where no shortcut passes (a break in its second half that only
    # adjacent-column edges cross): a ResNet then wraps between blocks, each shortcut stays over
    # its own row instead of running back along the width to the next one.
    spanned = [0] * (len(columns) + 2)
    for source, target in pairs:
        if depth[target] - depth[source] > 1:
            spanned[depth[source] + 1] += 1
            spanned[depth[target] + 1] -= 1
    clean = list(itertools.accumulate(spanned))  # clean[b] == 0: no shortcut over the break before b
    gutter = float(GAP)
    row_of: list[int] = []
    col_x: list[float] = []
    while True:
        row_of, col_x = [], []
        current, x, row_start, c = 0, MARGIN + gutter, 0, 0
        while c < len(col_width):
            if c > row_start and x + col_width[c] + gap_width[c] + MARGIN > max_width:
                half = row_start + (c - row_start) // 2
                c = next((b for b in range(c, half, -1) if clean[b] == 0), c)
                del row_of[c:], col_x[c:]
                current, x, row_start = current + 1, MARGIN + gutter, c
            row_of.append(current)
            col_x.append(x)
            x += col_width[c] + gap_width[c]
            c += 1
        wrapping = sum(1 for s, t in pairs if row_of[depth[t]] > row_of[depth[s]])
        needed = GAP + SLOT * wrapping
        if needed <= gutter:
            break
        gutter = float(needed)
    rows = row_of[-1] + 1 if row_of else 1

    # Positions inside each row, relative to the top of the row's content.
    relative: dict[str, tuple[Volume, float, float, int, int]] = {}
    content = [0.0] * rows
    for c, col in enumerate(columns):
        y = 0.0
        for v in col:
            y += v.total_height
            x = col_x[c] + (col_width[c] - v.width) / 2
            relative[v.name] = (v, x, y, row_of[c], c)
            y += LABEL_SPACE + LANE_GAP
        content[row_of[c]] = max(content[row_of[c]], y - LANE_GAP)

    # Slots: where each edge crosses each gap (and the gutter), spread evenly.
    gap_users: dict[int, list[int]] = {}
    gutter_users: list[int] = []
    kinds = []
    #: wrapping edges whose target is not in its row's first column: they run along the top of
    #: the target's row to the gap before it (the others turn straight in from the gutter)
    along: set[int] = set()
    for i, (source, target) in enumerate(pairs):
        cs, ct = depth[source], depth[target]
        if row_of[ct] > row_of[cs]:
            kind = "wrap"
            gutter_users.append(i)
            gap_users.setdefault(cs, []).append(i)
            if row_of[ct - 1] == row_of[ct]:
                along.add(i)
                gap_users.setdefault(ct - 1, []).append(i)
        elif ct == cs + 1:
            kind = "next"
            gap_users.setdefault(cs, []).append(i)
        else:
            kind = "skip"
            gap_users.setdefault(cs, []).append(i)
            gap_users.setdefault(ct - 1, []).append(i)
        kinds.append(kind)

    # Each edge's place among a gap's (or the gutter's) users, by lookup: list.index made a long
    # stack that wraps into many rows quadratic (100,000 layers: minutes).
    # The order of a gap's edges is the one that crosses least (:func:`~cnncalc.render.routing.least_crossing`), from
    # where they leave and enter boxes (placed for now at their height inside the row: every y
    # of a row moves alike later) and where they come from or go to (a corridor: +-inf).
    def ends(where: dict[str, Placed]) -> tuple[dict[int, float], dict[int, float]]:
        """Where each edge leaves its source and enters its target: spread along the box's edge,
        in the order of the other ends (shortcuts first: they run above), so none overlap."""
        outs: dict[str, list[int]] = {}
        ins: dict[str, list[int]] = {}
        for i, (source, target) in enumerate(pairs):
            outs.setdefault(source, []).append(i)
            ins.setdefault(target, []).append(i)
        exit_y: dict[int, float] = {}
        entry_y: dict[int, float] = {}
        for name, users in outs.items():
            lo, hi = where[name].exit_range()
            for k, i in enumerate(sorted(users, key=lambda i: (kinds[i] != "skip", where[pairs[i][1]].y))):
                exit_y[i] = spread(lo, hi, len(users), k)
        for name, users in ins.items():
            lo, hi = where[name].entry_range()
            for k, i in enumerate(sorted(users, key=lambda i: (kinds[i] != "skip", where[pairs[i][0]].y))):
                entry_y[i] = spread(lo, hi, len(users), k)
        return exit_y, entry_y

    early = {v.name: Placed(v, x, rel_y + r * 1e9, r, c) for v, x, rel_y, r, c in relative.values()}
    first_exit, first_entry = ends(early)
    gap_place: dict[int, dict[int, int]] = {}
    for c, users in gap_users.items():
        ys = {}
        for i in users:
            source_gap = depth[pairs[i][0]] == c
            if kinds[i] == "next":
                ys[i] = (first_exit[i], first_entry[i])
            elif source_gap:  # up to the corridor above (skip) or down to the one below (wrap)
                ys[i] = (first_exit[i], -math.inf if kinds[i] == "skip" else math.inf)
            else:  # down from the corridor above the target's row
                ys[i] = (-math.inf, first_entry[i])
        gap_place[c] = {e: k for k, e in enumerate(least_crossing([], users, ys, True))}

    def gap_x(c: int, i: int) -> float:
        start = col_x[c] + col_width[c]
        return spread(start, start + gap_width[c], len(gap_users[c]), gap_place[c][i])

    # Down the gutter in the order they leave their gap: the edge further left in the gap runs
    # nearer its row in the corridor (_levels) and further left in the gutter, so none crosses.
    gutter_users.sort(key=lambda i: (row_of[depth[pairs[i][0]]], gap_x(depth[pairs[i][0]], i)))
    gutter_place = {e: k for k, e in enumerate(gutter_users)}

    def gutter_x(i: int) -> float:
        return spread(MARGIN, MARGIN + gutter, len(gutter_users), gutter_place[i])

    # Corridors: skip edges run above their row, wrapping edges below their source's row and
    # above their target's; each run gets a track level that no overlapping run shares.
    above: list[list[tuple[float, float, int]]] = [[] for _ in range(rows)]
    below: list[list[tuple[float, float, int]]] = [[] for _ in range(rows)]
    for i, (source, target) in enumerate(pairs):
        cs, ct = depth[source], depth[target]
        if kinds[i] == "skip":
            above[row_of[cs]].append((gap_x(cs, i), gap_x(ct - 1, i), i))
        elif kinds[i] == "wrap":
            below[row_of[cs]].append((gutter_x(i), gap_x(cs, i), i))
            if i in along:
                above[row_of[ct]].append((gutter_x(i), gap_x(ct - 1, i), i))
    level_above = [_levels(a) for a in above]
    level_below = [_levels(b) for b in below]

    def corridor(levels: dict[int, int]) -> float:
        return 2 * CORRIDOR_PAD + SLOT * max(levels.values(), default=-1) + SLOT if levels else CORRIDOR_PAD

    row_top: list[float] = []
    content_top: list[float] = []
    y = float(MARGIN + TITLE_SPACE)
    for r in range(rows):
        row_top.append(y)
        content_top.append(y + corridor(level_above[r]))
        y = content_top[r] + content[r] + corridor(level_below[r]) + ROW_GAP
    height = y - ROW_GAP + MARGIN

    placed = [Placed(v, x, content_top[r] + rel_y, r, c) for v, x, rel_y, r, c in relative.values()]
    where = {p.volume.name: p for p in placed}

    def track_above(r: int, i: int) -> float:
        return content_top[r] - CORRIDOR_PAD - SLOT * level_above[r][i]

    def track_below(r: int, i: int) -> float:
        return content_top[r] + content[r] + CORRIDOR_PAD + SLOT * level_below[r][i]

    exit_y, entry_y = ends(where)

    edges = []
    for i, (source, target) in enumerate(pairs):
        s, t = where[source], where[target]
        cs, ct = depth[source], depth[target]
        start = (s.x + s.volume.width, exit_y[i])
        end = (t.x, entry_y[i])
        points = [start]
        if kinds[i] == "next":
            gx = gap_x(cs, i)
            points += [(gx, start[1]), (gx, end[1])]
        elif kinds[i] == "skip":
            g1, g2, ty = gap_x(cs, i), gap_x(ct - 1, i), track_above(s.row, i)
            points += [(g1, start[1]), (g1, ty), (g2, ty), (g2, end[1])]
        else:
            g1, gx, ty = gap_x(cs, i), gutter_x(i), track_below(s.row, i)
            points += [(g1, start[1]), (g1, ty), (gx, ty)]
            if i in along:
                g2, ty2 = gap_x(ct - 1, i), track_above(t.row, i)
                points += [(gx, ty2), (g2, ty2), (g2, end[1])]
            else:
                points += [(gx, end[1])]
        points.append(end)
        edges.append(Edge(source, target, simplify(points), kinds[i], ct - cs > 1))
    right = max((col_x[c] + col_width[c] + gap_width[c] for c in range(len(columns))), default=0.0)
    return Drawing(placed, edges, right + MARGIN, height)


def _box(p: Placed) -> list[str]:
    """A box whose front face's bottom-left corner is (x, y); depth recedes up and to the right."""
    v, x, y = p.volume, p.x, p.y
    colour = COLOURS[v.category]
    dx = dy = v.depth * 0.7
    t, h = v.thickness, v.height
    # Each coordinate formatted once (the same expressions as before, so the same digits).
    x0, x1, x2, x3 = _f(x), _f(x + t), _f(x + t + dx), _f(x + dx)
    y0, y1, y2, y3 = _f(y), _f(y - h), _f(y - h - dy), _f(y - dy)
    front = f"{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"
    top = f"{x0},{y1} {x1},{y1} {x2},{y2} {x3},{y2}"
    side = f"{x1},{y0} {x2},{y3} {x2},{y2} {x1},{y1}"
    left, top_y, right, bottom = p.box
    shape = "x".join(map(str, v.shape))
    return [
        f'<g class="volume" data-name="{escape(v.name)}" data-shape="{shape}" '
        f'data-height="{_f(v.height)}" data-depth="{_f(v.depth)}" data-thickness="{_f(v.thickness)}" '
        f'data-box="{_f(left)} {_f(top_y)} {_f(right - left)} {_f(bottom - top_y)}">',
        f"<title>{escape(v.name)} ({escape(v.kind)}) {shape}</title>",
        f'<polygon points="{side}" fill="{_shade(colour, 0.75)}"/>',
        f'<polygon points="{top}" fill="{_shade(colour, 1.35)}"/>',
        f'<polygon points="{front}" fill="{colour}"/>',
        "</g>",
    ]


def _label(p: Placed, centre: float) -> list[str]:
    v = p.volume
    shape = "x".join(map(str, v.shape))
    return [
        f'<text x="{_f(centre)}" y="{_f(p.y + 13)}" class="name">{escape(v.name)}</text>',
        f'<text x="{_f(centre)}" y="{_f(p.y + 26)}" class="kind">{escape(v.kind)}</text>',
        f'<text x="{_f(centre)}" y="{_f(p.y + 38)}" class="shape">{shape}</text>',
    ]


def kernel_face(source: Placed, kernel: tuple[int, ...]) -> list[tuple[float, float]] | None:
    """The kernel as a parallelogram on the source's height x width face (its side face), sized
    by kernel/input per axis and always inside the face (clipped to 15-60% of each side)."""
    v = source.volume
    if not kernel or v.depth == 0:
        return None
    kh, kw = kernel[0], kernel[-1] if len(kernel) > 1 else 1
    fh = min(0.6, max(0.15, kh / max(v.cells[0], 1)))
    fw = min(0.6, max(0.15, kw / max(v.cells[1], 1)))
    x0, y0 = source.x + v.thickness, source.y
    d = v.depth * 0.7

    def at(u: float, w: float) -> tuple[float, float]:
        return (x0 + u * d, y0 - u * d - w * v.height)

    u0, u1, w0, w1 = 0.5 - fw / 2, 0.5 + fw / 2, 0.5 - fh / 2, 0.5 + fh / 2
    return [at(u0, w0), at(u1, w0), at(u1, w1), at(u0, w1)]


def _kernel(source: Placed, target: Placed, hint: bool) -> list[str]:
    corners = kernel_face(source, target.volume.kernel)
    if corners is None:
        return []
    points = " ".join(f"{_f(x)},{_f(y)}" for x, y in corners)
    out = [f'<polygon points="{points}" class="kernel"/>']
    if hint:  # dashed lines to the layer it makes, where nothing stands between the two
        tx, ty = target.x, target.y - target.volume.height / 2
        for x, y in (corners[1], corners[2]):
            out.append(f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(tx)}" y2="{_f(ty)}" class="hint"/>')
    return out


def to_svg(summary: Summary, max_width: float = MAX_WIDTH) -> str:
    """The whole diagram as an SVG document (UTF-8 text)."""
    drawing = layout(summary, max_width)
    width, height = drawing.width, drawing.height
    where = {p.volume.name: p for p in drawing.placed}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="Helvetica, Arial, sans-serif" role="img" '
        f'aria-label="{escape(summary.name)}: {len(summary.layers)} layers">',
        "<style>.name{font-size:11px;font-weight:bold;fill:#222;text-anchor:middle}"
        ".kind{font-size:10px;fill:#333;text-anchor:middle}"
        ".shape{font-size:10px;fill:#555;text-anchor:middle}.title{font-size:14px;font-weight:bold;fill:#222}"
        ".edge{stroke:#666;stroke-width:1.3;fill:none}.edge.long{stroke:#c0392b}"
        ".hint{stroke:#333;stroke-width:0.6;stroke-dasharray:2 2}"
        ".kernel{fill:#ffd84d;stroke:#333;stroke-width:0.6}</style>",
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>',
        # An opaque light background keeps the drawing readable in dark viewers too.
        f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" rx="8" fill="#fbfbf8"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 8}" class="title">{escape(summary.name)} · {summary.total_params:,} params'
        f" · {summary.total_macs:,} MACs</text>",
    ]
    for edge in drawing.edges:  # under the boxes (though no edge crosses one)
        d = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in edge.points)
        parts.append(
            f'<path d="{d}" class="{edge.css}" data-from="{escape(edge.source)}" '
            f'data-to="{escape(edge.target)}" marker-end="url(#arrow)"/>'
        )
    for p in drawing.placed:
        parts += _box(p)
        parts += _label(p, p.x + p.volume.width / 2)
    per_column: dict[int, int] = {}
    for p in drawing.placed:
        per_column[p.column] = per_column.get(p.column, 0) + 1
    drawn: set[str] = set()  # one kernel per volume: the first layer that slides one over it
    for row in summary.layers:
        source_name = row.inputs[0]
        if len(row.inputs) == 1 and source_name not in drawn and where[row.name].volume.kernel:
            source, target = where[source_name], where[row.name]
            # Hint lines only where nothing can stand between the two boxes.
            hint = target.column == source.column + 1 and target.row == source.row and target.x > source.x
            hint = hint and per_column[source.column] == per_column[target.column] == 1
            parts += _kernel(source, target, hint)
            drawn.add(source_name)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg_pieces(summary: Summary, max_width: float = MAX_WIDTH) -> list[str]:
    """:func:`to_svg` as a list of pieces (what the diagram command and the HTML report write;
    one piece for now: issue 28's pieces and per-box work did not survive the move of the layout
    into :mod:`.routing` and :mod:`.fold`, to be redone there)."""
    return [to_svg(summary, max_width)]
