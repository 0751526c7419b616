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

import heapq
import itertools
import math
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from typing import TYPE_CHECKING, Any

from ..enums import Category, Convention, DataFormat
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
    Box,
    Drawing,
    Edge,
    Look,
    Path,
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
    return Volume(name, look(kind, shape, channels_first, layer))


def look(kind: str, shape: tuple[int, ...], channels_first: bool, layer: Layer | None) -> Look:
    """What the box of a tensor shape (no batch axis) looks like, all but its name."""
    kernel = tuple(getattr(layer, "kernel_size", ()) or getattr(layer, "pool_size", ()) or ())
    if len(shape) == 1:  # a vector: a thin bar whose height grows with its length
        return Look(kind, shape, category(layer), extent(shape[0], 14, 12), 0.0, 8.0, kernel)
    fmt = DataFormat.CHANNELS_FIRST if channels_first else DataFormat.CHANNELS_LAST
    spatial, channels = split_channels(shape, fmt)
    h = spatial[-2] if len(spatial) >= 2 else spatial[0]
    w = spatial[-1] if len(spatial) >= 2 else 1
    return Look(
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


#: Edge kinds, as the compact layout stores them (one byte per edge) and as the SVG names them.
NEXT, SKIP, WRAP = 0, 1, 2
KINDS = ("next", "skip", "wrap")


def layout(summary: Summary, max_width: float = MAX_WIDTH) -> Drawing:
    """Place every volume (columns by graph depth, wrapped into rows) and route every edge.

    Volumes are numbered (the model's inputs, then the layers) and everything the layout keeps
    per volume or per edge is a number in an array; the boxes and routes are worked out from
    them as they are drawn (:class:`Wrapped`): a drawing of 100,000 layers keeps no record per
    layer."""
    channels_first = summary.data_format is DataFormat.CHANNELS_FIRST
    names: list[str] = []
    looks: list[Look] = []
    column = array("i")
    index: dict[str, int] = {}
    for name, shape in summary.model_inputs:
        index[name] = len(names)
        names.append(name)
        looks.append(look("Input", shape, channels_first, None))
        column.append(0)
    src, tgt = array("i"), array("i")
    # A repeated block's layers share one layer object: one look per object, label and shape.
    shared: dict[tuple[int, str, tuple[int, ...]], Look] = {}
    convention = summary.convention
    keras_names = convention is not Convention.PYTORCH  # (type_name's answer: the Keras class)
    for row in summary.layers:
        k = len(names)
        sources = [index[s] for s in row.inputs]
        index[row.name] = k
        names.append(row.name)
        column.append(1 + (column[sources[0]] if len(sources) == 1 else max(column[s] for s in sources)))
        # the class in the convention's words (Conv2d)
        label = row.class_name if keras_names else type_name(row, convention)
        shape = row.output_shape
        key = (id(row.layer), label, shape)
        seen = shared.get(key)
        if seen is None:
            seen = shared[key] = look(label, shape, channels_first, row.layer)
        looks.append(seen)
        for s in sources:
            src.append(s)
            tgt.append(k)
    del shared, index  # (the layout's peak comes later)
    n_columns = max(column) + 1 if column else 0

    # Widths: each column fits its boxes and labels; a gap widens with the edges running in it.
    col_width = _zeros("d", n_columns)
    count = _zeros("i", n_columns)  # boxes per column
    fixed: dict[int, float] = {}  # per look: the width its box and kind and shape labels need
    for k, c in enumerate(column):
        lk = looks[k]
        w = fixed.get(id(lk))
        if w is None:
            w = fixed[id(lk)] = max(lk.width, lk.label_fixed)
        w = max(w, len(names[k]) * 6.7)
        col_width[c] = w if not count[c] else max(col_width[c], w)
        count[c] += 1
    turn = turning_column(
        n_columns, looks, column, ((column[s], column[t]) for s, t in zip(src, tgt, strict=True))
    )
    if turn is not None:  # an encoder-decoder with nested skips: folded into a U, never wrapped
        columns: list[list[Volume]] = [[] for _ in range(n_columns)]
        for k, c in enumerate(column):
            columns[c].append(Volume(names[k], looks[k]))
        depth = {name: column[k] for k, name in enumerate(names)}
        pairs = [(names[s], names[t]) for s, t in zip(src, tgt, strict=True)]
        return fold(columns, depth, pairs, list(col_width), turn)  # (wrapping would cross its skips)
    through = _zeros("i", n_columns)
    for s, t in zip(src, tgt, strict=True):
        cs, ct = column[s], column[t]
        through[cs] += 1
        if ct - cs > 1:
            through[ct - 1] += 1
    gap_width = array("d", (GAP + SLOT * n for n in through))
    del through

    # Rows: columns left to right, a new row before one would pass max_width. The left gutter
    # (where edges go down to a later row) widens with the edges that do: widen it until the rows
    # it leads to need no more (it only grows, and at most to one slot per edge).
    # A row ends, if it can, where no shortcut passes (a break in its second half that only
    # adjacent-column edges cross): a ResNet then wraps between blocks, each shortcut stays over
    # its own row instead of running back along the width to the next one.
    spanned = _zeros("i", (n_columns + 2))
    for s, t in zip(src, tgt, strict=True):
        cs, ct = column[s], column[t]
        if ct - cs > 1:
            spanned[cs + 1] += 1
            spanned[ct + 1] -= 1
    clean = array("i", itertools.accumulate(spanned))  # clean[b] == 0: no shortcut over the break before b
    del spanned
    gutter = float(GAP)
    row_of = array("i")
    col_x = array("d")
    while True:
        row_of, col_x = array("i"), array("d")
        current, x, row_start, c = 0, MARGIN + gutter, 0, 0
        while c < n_columns:
            if c > row_start and x + col_width[c] + gap_width[c] + MARGIN > max_width:
                half = row_start + (c - row_start) // 2
                c = next((b for b in range(c, half, -1) if clean[b] == 0), c)
                del row_of[c:], col_x[c:]
                current, x, row_start = current + 1, MARGIN + gutter, c
            row_of.append(current)
            col_x.append(x)
            x += col_width[c] + gap_width[c]
            c += 1
        runs = sorted(
            (row_of[column[s]], row_of[column[t]])
            for s, t in zip(src, tgt, strict=True)
            if row_of[column[t]] > row_of[column[s]]
        )
        needed = GAP + SLOT * gutter_slots([r for r, _ in runs], [r for _, r in runs])[1]
        del runs
        if needed <= gutter:
            break
        gutter = float(needed)
        if current == n_columns - 1:  # a column per row already: a wider gutter only moves them
            col_x = array("d", [MARGIN + gutter]) * n_columns  # (the same wrapping edges: done)
            break
    del clean
    rows = row_of[-1] + 1 if row_of else 1

    # Positions inside each row, relative to the top of the row's content, column by column
    # (the order the boxes are drawn in: the volumes by column, in order within one).
    order: Sequence[int] = range(len(names))
    if any(column[k] > column[k + 1] for k in range(len(names) - 1)):
        starts = array("i", itertools.accumulate(count, initial=0))
        placed_order = _zeros("i", len(names))
        for k, c in enumerate(column):
            placed_order[starts[c]] = k
            starts[c] += 1
        order = placed_order
    x_of = _zeros("d", len(names))
    rel_y = _zeros("d", len(names))
    content = _zeros("d", rows)  # per row: its boxes' height
    y, last = 0.0, -1
    for k in order:
        c = column[k]
        if c != last:
            if last >= 0:
                content[row_of[last]] = max(content[row_of[last]], y - LANE_GAP)
            y, last = 0.0, c
        lk = looks[k]
        y += lk.total_height
        x_of[k] = col_x[c] + (col_width[c] - lk.width) / 2
        rel_y[k] = y
        y += LABEL_SPACE + LANE_GAP
    if last >= 0:
        content[row_of[last]] = max(content[row_of[last]], y - LANE_GAP)

    # Slots: where each edge crosses each gap (and the gutter), spread evenly. A gap one edge
    # crosses (most of them) needs no order; the others are listed.
    kinds = bytearray(len(src))
    users = _zeros("i", n_columns)  # edges crossing each gap
    gutter_users: list[int] = []
    #: wrapping edges whose target is not in its row's first column: they run along the top of
    #: the target's row to the gap before it (the others turn straight in from the gutter)
    along: set[int] = set()
    for i, (s, t) in enumerate(zip(src, tgt, strict=True)):
        cs, ct = column[s], column[t]
        users[cs] += 1
        if row_of[ct] > row_of[cs]:
            kinds[i] = WRAP
            gutter_users.append(i)
            if row_of[ct - 1] == row_of[ct]:
                along.add(i)
                users[ct - 1] += 1
        elif ct == cs + 1:
            kinds[i] = NEXT
        else:
            kinds[i] = SKIP
            users[ct - 1] += 1
    gap_users: dict[int, list[int]] = {}
    for i, (s, t) in enumerate(zip(src, tgt, strict=True)):
        cs, ct = column[s], column[t]
        if users[cs] > 1:
            gap_users.setdefault(cs, []).append(i)
        if (kinds[i] == SKIP or i in along) and users[ct - 1] > 1:
            gap_users.setdefault(ct - 1, []).append(i)

    out_count = _zeros("i", len(names))
    in_count = _zeros("i", len(names))
    for s, t in zip(src, tgt, strict=True):
        out_count[s] += 1
        in_count[t] += 1
    outs: dict[int, list[int]] = {}  # the edges of a box that more than one leaves or enters
    ins: dict[int, list[int]] = {}
    for i, (s, t) in enumerate(zip(src, tgt, strict=True)):
        if out_count[s] > 1:
            outs.setdefault(s, []).append(i)
        if in_count[t] > 1:
            ins.setdefault(t, []).append(i)

    def ends(y_of: Callable[[int], float]) -> tuple[dict[int, float], dict[int, float]]:
        """Where each edge of a box with several leaves its source and enters its target: spread
        along the box's edge, in the order of the other ends (shortcuts first: they run above),
        so none overlap (:func:`_end` places a box's only edge)."""
        exit_y: dict[int, float] = {}
        entry_y: dict[int, float] = {}
        for k, out in outs.items():
            lk, y = looks[k], y_of(k)
            dy = lk.depth * 0.7
            lo, hi = y - dy - lk.height, y - dy
            for j, i in enumerate(sorted(out, key=lambda i: (kinds[i] != SKIP, y_of(tgt[i])))):
                exit_y[i] = spread(lo, hi, len(out), j)
        for k, into in ins.items():
            lk, y = looks[k], y_of(k)
            lo, hi = y - lk.height, y
            for j, i in enumerate(sorted(into, key=lambda i: (kinds[i] != SKIP, y_of(src[i])))):
                entry_y[i] = spread(lo, hi, len(into), j)
        return exit_y, entry_y

    # Each edge's place among a gap's (or the gutter's) users, by lookup: list.index made a long
    # stack that wraps into many rows quadratic (100,000 layers: minutes).
    # The order of a gap's edges is the one that crosses least (:func:`~cnncalc.render.routing.least_crossing`), from
    # where they leave and enter boxes (placed for now at their height inside the row: every y
    # of a row moves alike later) and where they come from or go to (a corridor: +-inf).
    def early(k: int) -> float:
        return rel_y[k] + row_of[column[k]] * 1e9

    gap_place: dict[tuple[int, int], int] = {}
    if gap_users:
        first_exit, first_entry = ends(early)
        for c, gap in gap_users.items():
            ys = {}
            for i in gap:
                s, t = src[i], tgt[i]
                source_gap = column[s] == c
                leave = first_exit[i] if i in first_exit else _end(looks[s], early(s), True)
                enter = first_entry[i] if i in first_entry else _end(looks[t], early(t), False)
                if kinds[i] == NEXT:
                    ys[i] = (leave, enter)
                elif source_gap:  # up to the corridor above (skip) or down to the one below (wrap)
                    ys[i] = (leave, -math.inf if kinds[i] == SKIP else math.inf)
                else:  # down from the corridor above the target's row
                    ys[i] = (-math.inf, enter)
            for j, i in enumerate(least_crossing([], gap, ys, True)):
                gap_place[c, i] = j
    del gap_users

    def gap_x(c: int, i: int) -> float:
        start = col_x[c] + col_width[c]
        n = users[c]
        return spread(start, start + gap_width[c], n, gap_place[c, i] if n > 1 else 0)

    # Down the gutter in the order they leave their gap: the edge further left in the gap runs
    # nearer its row in the corridor (_levels) and further left in the gutter, so none crosses.
    # (two stable sorts, by x and then by row: what one sort by (row, x) gives, with a number
    # per edge as the key instead of a tuple)
    gutter_users.sort(key=lambda i: gap_x(column[src[i]], i))
    gutter_users.sort(key=lambda i: row_of[column[src[i]]])
    gutter_place = _zeros("i", len(src))  # per wrapping edge: its slot in the gutter
    slots, in_gutter = gutter_slots(
        [row_of[column[src[i]]] for i in gutter_users], [row_of[column[tgt[i]]] for i in gutter_users]
    )
    for i, slot in zip(gutter_users, slots, strict=True):
        gutter_place[i] = slot
    del slots
    del gutter_users

    def gutter_x(i: int) -> float:
        return spread(MARGIN, MARGIN + gutter, in_gutter, gutter_place[i])

    # Corridors: skip edges run above their row, wrapping edges below their source's row and
    # above their target's; each run gets a track level that no overlapping run shares.
    # (Heights per row, levels per edge: a row may hold a single box, every edge may wrap; the
    # runs listed only for a corridor several share: alone, a run takes level 0.)
    runs_above, runs_below = _zeros("i", rows), _zeros("i", rows)
    for i, kind in enumerate(kinds):
        if kind == SKIP:
            runs_above[row_of[column[src[i]]]] += 1
        elif kind == WRAP:
            runs_below[row_of[column[src[i]]]] += 1
            if i in along:
                runs_above[row_of[column[tgt[i]]]] += 1
    above: dict[int, list[tuple[float, float, int]]] = {}
    below: dict[int, list[tuple[float, float, int]]] = {}
    for i, kind in enumerate(kinds):
        if kind == NEXT:
            continue
        cs, ct = column[src[i]], column[tgt[i]]
        if kind == SKIP:
            if runs_above[row_of[cs]] > 1:
                above.setdefault(row_of[cs], []).append((gap_x(cs, i), gap_x(ct - 1, i), i))
        else:
            if runs_below[row_of[cs]] > 1:
                below.setdefault(row_of[cs], []).append((gutter_x(i), gap_x(cs, i), i))
            if i in along and runs_above[row_of[ct]] > 1:
                above.setdefault(row_of[ct], []).append((gutter_x(i), gap_x(ct - 1, i), i))
    level_above = _zeros("i", len(src))  # per edge: its track above a row, below one
    level_below = _zeros("i", len(src))

    def corridors(
        counts: array[int], runs: dict[int, list[tuple[float, float, int]]], level: array[int]
    ) -> array[int]:
        """Each row's corridor height (:data:`CORRIDOR_PAD` where none runs), its edges' tracks."""
        alone = 2 * CORRIDOR_PAD + SLOT * 0 + SLOT  # one run: level 0
        heights = array("i", (CORRIDOR_PAD if n == 0 else alone for n in counts))
        for r, row_runs in runs.items():
            levels = _levels(row_runs)
            for i, lv in levels.items():
                level[i] = lv
            heights[r] = 2 * CORRIDOR_PAD + SLOT * max(levels.values(), default=-1) + SLOT
        return heights

    height_above = corridors(runs_above, above, level_above)
    height_below = corridors(runs_below, below, level_below)
    del above, below, runs_above, runs_below

    content_top = array("d")
    y = float(MARGIN + TITLE_SPACE)
    for r in range(rows):
        content_top.append(y + height_above[r])
        y = content_top[r] + content[r] + height_below[r] + ROW_GAP
    height = y - ROW_GAP + MARGIN
    right = max((col_x[c] + col_width[c] + gap_width[c] for c in range(n_columns)), default=0.0)

    def final(k: int) -> float:
        return content_top[row_of[column[k]]] + rel_y[k]

    exit_y, entry_y = ends(final)
    return Wrapped(
        _Arrays(
            names=names,
            looks=looks,
            column=column,
            order=order,
            x_of=x_of,
            rel_y=rel_y,
            count=count,
            src=src,
            tgt=tgt,
            kinds=kinds,
            along=along,
            out_count=out_count,
            in_count=in_count,
            exit_y=exit_y,
            entry_y=entry_y,
            row_of=row_of,
            col_x=col_x,
            col_width=col_width,
            gap_width=gap_width,
            users=users,
            gap_place=gap_place,
            gutter=gutter,
            gutter_place=gutter_place,
            in_gutter=in_gutter,
            content_top=content_top,
            content=content,
            level_above=level_above,
            level_below=level_below,
        ),
        right + MARGIN,
        height,
    )


def gutter_slots(starts: Sequence[int], ends: Sequence[int]) -> tuple[list[int], int]:
    """The gutter's slots (0: leftmost) of the edges that run down it to a later row, and the
    slots used; edge k leaves row ``starts[k]`` (in a corridor under it) and enters row
    ``ends[k]``, listed by the row they leave (then in their order within it).

    The edges that leave one row take consecutive slots, to the right of every edge still
    running: one that entered a row above the one they leave, or that row itself, ended before
    they begin (it turns in above that row's bottom corridor), so its slot is free again. An
    edge then never crosses the run of one that left an earlier row (that one is to its left),
    and a stack, each edge from one row to the next, takes one slot whatever its length: the
    gutter no longer widens with every row (a 100,000-layer stack had one 700,000 px wide).
    The edges of a row stay together until the last of them ends, so the count does not depend
    on their order within the row (the layout widens the gutter before it orders them)."""
    slots: list[int] = []
    running: list[tuple[int, int]] = []  # (the row it ends in, its top slot) per block of edges
    tops: list[int] = []  # the running blocks' top slots, negated (a max-heap); ended: removed late
    ended: dict[int, int] = {}
    used = k = 0
    while k < len(starts):
        row, j = starts[k], k
        while j < len(starts) and starts[j] == row:
            j += 1
        while running and running[0][0] <= row:
            top = heapq.heappop(running)[1]
            ended[top] = ended.get(top, 0) + 1
        while tops and ended.get(-tops[0]):
            ended[-tops[0]] -= 1
            heapq.heappop(tops)
        base = 1 - tops[0] if tops else 0
        top = base + (j - k) - 1
        slots.extend(range(base, top + 1))
        heapq.heappush(running, (max(ends[k:j]), top))
        heapq.heappush(tops, -top)
        used = max(used, top + 1)
        k = j
    return slots, used


def _zeros(code: str, n: int) -> array[Any]:
    """An array of n zeros: ``i`` (C int: indices, counts) or ``d`` (double: coordinates)."""
    return array(code, [0]) * n


def _end(lk: Look, y: float, leaving: bool) -> float:
    """Where the only edge that leaves (or enters) a box does: the middle of its side (of its
    front face's left edge), as :meth:`Placed.exit_range` / :meth:`Placed.entry_range` give."""
    if leaving:
        dy = lk.depth * 0.7
        return spread(y - dy - lk.height, y - dy, 1, 0)
    return spread(y - lk.height, y, 1, 0)


@dataclass(frozen=True, slots=True)
class _Arrays:
    """What a wrapped layout keeps: per volume (numbered: the inputs, then the layers), per edge
    (in the summary's order), per column and per row, as numbers in arrays."""

    names: list[str]
    looks: list[Look]
    column: array[int]
    order: Sequence[int]  # the volumes in the order drawn (by column)
    x_of: array[float]
    rel_y: array[float]  # y inside the row's content
    count: array[int]  # boxes per column
    src: array[int]
    tgt: array[int]
    kinds: bytearray  # NEXT, SKIP or WRAP
    along: set[int]
    out_count: array[int]
    in_count: array[int]
    exit_y: dict[int, float]  # edges of a box several leave: where each does
    entry_y: dict[int, float]
    row_of: array[int]  # per column
    col_x: array[float]
    col_width: array[float]
    gap_width: array[float]
    users: array[int]  # edges crossing the gap after each column
    gap_place: dict[tuple[int, int], int]  # (gap, edge) -> place, gaps several edges cross
    gutter: float
    gutter_place: array[int]  # per wrapping edge
    in_gutter: int
    content_top: array[float]  # per row
    content: array[float]
    level_above: array[int]  # per edge
    level_below: array[int]


class Wrapped(Drawing):
    """The wrapped layout: boxes and routes worked out as they are drawn (:func:`layout`)."""

    __slots__ = ("_a",)

    def __init__(self, arrays: _Arrays, width: float, height: float) -> None:
        super().__init__([], [], width, height)
        self._a = arrays

    def _box_at(self, k: int) -> Box:
        a = self._a
        c = a.column[k]
        r = a.row_of[c]
        return a.names[k], a.looks[k], a.x_of[k], a.content_top[r] + a.rel_y[k], r, c

    def boxes(self) -> Iterator[Box]:
        return map(self._box_at, self._a.order)

    def box(self, key: str | int) -> Box:
        return self._box_at(key if isinstance(key, int) else self._a.names.index(key))

    def reads(self, summary: Summary) -> Iterator[tuple[str | int, str | int]]:
        # a layer's edges are in order: its first is from the tensor it reads
        a = self._a
        edge, volume = 0, len(a.names) - len(summary.layers)
        looks, src = a.looks, a.src
        for row in summary.layers:
            if len(row.inputs) == 1 and looks[volume].kernel:
                yield src[edge], volume
            edge += len(row.inputs)
            volume += 1

    def column_sizes(self) -> list[int]:
        return list(self._a.count)

    @property
    def placed(self) -> list[Placed]:
        return [Placed(Volume(name, lk), x, y, r, c) for name, lk, x, y, r, c in self.boxes()]

    @property
    def edges(self) -> list[Edge]:
        a = self._a
        return [
            Edge(a.names[a.src[i]], a.names[a.tgt[i]], points, KINDS[kind], long)
            for i, (points, kind, long) in enumerate(self._routes())
        ]

    def paths(self) -> Iterator[Path]:
        a = self._a
        names, src, tgt = a.names, a.src, a.tgt
        css = {
            (kind, long): f"edge {KINDS[kind]}" + (" long" if long else "")
            for kind in (0, 1, 2)
            for long in (False, True)
        }
        for i, (points, kind, long) in enumerate(self._routes()):
            yield names[src[i]], names[tgt[i]], points, css[kind, long]

    def _routes(self) -> Iterator[tuple[list[tuple[float, float]], int, bool]]:
        """Each edge's points, kind and whether it passes over columns, in order (the arrays
        read into locals once: this runs once per edge)."""
        a = self._a
        column, row_of, looks, x_of, rel_y = a.column, a.row_of, a.looks, a.x_of, a.rel_y
        content_top, content, kinds, along = a.content_top, a.content, a.kinds, a.along
        out_count, in_count, exit_y, entry_y = a.out_count, a.in_count, a.exit_y, a.entry_y
        col_x, col_width, gap_width, users, gap_place = (
            a.col_x,
            a.col_width,
            a.gap_width,
            a.users,
            a.gap_place,
        )
        gutter, in_gutter, gutter_place = a.gutter, a.in_gutter, a.gutter_place
        level_above, level_below = a.level_above, a.level_below

        def gap_x(c: int, i: int) -> float:
            start = col_x[c] + col_width[c]
            n = users[c]
            return spread(start, start + gap_width[c], n, gap_place[c, i] if n > 1 else 0)

        for i, (s, t) in enumerate(zip(a.src, a.tgt, strict=True)):
            cs, ct = column[s], column[t]
            rs, rt = row_of[cs], row_of[ct]
            ls, lt = looks[s], looks[t]
            if out_count[s] > 1:
                sy = exit_y[i]
            else:  # the only edge out: the middle of the side's right edge (_end)
                y = content_top[rs] + rel_y[s]
                dy = ls.depth * 0.7
                lo, hi = y - dy - ls.height, y - dy
                sy = lo + (hi - lo) * 1 / 2
            if in_count[t] > 1:
                ey = entry_y[i]
            else:  # the only edge in: the middle of the front face's left edge
                y = content_top[rt] + rel_y[t]
                lo = y - lt.height
                ey = lo + (y - lo) * 1 / 2
            start = (x_of[s] + ls.width, sy)
            kind = kinds[i]
            if kind == NEXT:
                gx = gap_x(cs, i)
                points = [start, (gx, sy), (gx, ey)]
            elif kind == SKIP:
                g1, g2 = gap_x(cs, i), gap_x(ct - 1, i)
                track = content_top[rs] - CORRIDOR_PAD - SLOT * level_above[i]
                points = [start, (g1, sy), (g1, track), (g2, track), (g2, ey)]
            else:
                g1 = gap_x(cs, i)
                gx = spread(MARGIN, MARGIN + gutter, in_gutter, gutter_place[i])
                track = content_top[rs] + content[rs] + CORRIDOR_PAD + SLOT * level_below[i]
                points = [start, (g1, sy), (g1, track), (gx, track)]
                if i in along:
                    g2 = gap_x(ct - 1, i)
                    track2 = content_top[rt] - CORRIDOR_PAD - SLOT * level_above[i]
                    points += [(gx, track2), (g2, track2), (g2, ey)]
                else:
                    points.append((gx, ey))
            points.append((x_of[t], ey))
            yield simplify(points), kind, ct - cs > 1


#: ``.0`` dropped from numbers formatted ``%.1f`` (one decimal: ``.0`` before a delimiter is a
#: whole number), as :func:`_f` writes each: a few passes over a text of many numbers instead of
#: a call per number (the same digits: ``%.1f`` is what :func:`_f` formats with).


def _whole(text: str) -> str:
    """A text of numbers (``%.1f``) and delimiters (comma, space, quote) with ``.0`` dropped
    before each delimiter; a number may end the text."""
    text = text.replace(".0,", ",").replace(".0 ", " ").replace('.0"', '"')
    return text[:-2] if text.endswith(".0") else text


#: A box's numbers: its corners, its bounding box, its label's centre and lines.
_BOX_NUMBERS = "%.1f " * 15
#: Characters :func:`html.escape` replaces (a name without any is written as it is).
_SPECIAL = re.compile("[&<>\"']")


def _escape(text: str) -> str:
    return escape(text) if _SPECIAL.search(text) else text


@cache
def _path_format(n: int) -> str:
    """The ``d`` of a path of n points, for ``%`` with the 2n coordinates."""
    return "M" + " L".join(["%.1f,%.1f"] * n)


def _look_texts(lk: Look) -> tuple[str, str, str, str, str, str]:
    """A look's texts (a repeated block repeats them): shape, size attributes, kind, fills."""
    colour = COLOURS[lk.category]
    return (
        lk.shape_text,
        f'data-height="{_f(lk.height)}" data-depth="{_f(lk.depth)}" data-thickness="{_f(lk.thickness)}"',
        escape(lk.kind),
        _shade(colour, 0.75),
        _shade(colour, 1.35),
        colour,
    )


def _box_lines(box: Box, texts: dict[int, tuple[str, str, str, str, str, str]]) -> str:
    """A box (its front face's bottom-left corner at (x, y), its depth receding up and to the
    right) and its three label lines, each line ending in a newline. ``texts``: each look's
    texts by its id (:func:`_look_texts`), filled as looks come."""
    name, lk, x, y, _, _ = box
    dx = dy = lk.depth * 0.7
    t, h = lk.thickness, lk.height
    top_y, right = y - lk.total_height, x + lk.width  # the bounding box: x, top_y, right, y
    x0, x1, x2, x3, y0, y1, y2, y3, bt, bw, bh, cx, l1, l2, l3 = (
        (
            _BOX_NUMBERS
            % (
                x,
                x + t,
                x + t + dx,
                x + dx,
                y,
                y - h,
                y - h - dy,
                y - dy,
                top_y,
                right - x,
                y - top_y,
                x + lk.width / 2,
                y + 13,
                y + 26,
                y + 38,
            )
        )
        .replace(".0 ", " ")
        .split()
    )
    known = texts.get(id(lk))
    if known is None:
        known = texts[id(lk)] = _look_texts(lk)
    shape, sizes, kind, side, top, front = known
    name = _escape(name)
    return (
        f'<g class="volume" data-name="{name}" data-shape="{shape}" {sizes} data-box="{x0} {bt} {bw} {bh}">\n'
        f"<title>{name} ({kind}) {shape}</title>\n"
        f'<polygon points="{x1},{y0} {x2},{y3} {x2},{y2} {x1},{y1}" fill="{side}"/>\n'
        f'<polygon points="{x0},{y1} {x1},{y1} {x2},{y2} {x3},{y2}" fill="{top}"/>\n'
        f'<polygon points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}" fill="{front}"/>\n'
        "</g>\n"
        f'<text x="{cx}" y="{l1}" class="name">{name}</text>\n'
        f'<text x="{cx}" y="{l2}" class="kind">{kind}</text>\n'
        f'<text x="{cx}" y="{l3}" class="shape">{shape}</text>\n'
    )


def _path_line(path: Path) -> str:
    source, target, points, css = path
    d = _whole(_path_format(len(points)) % tuple(itertools.chain.from_iterable(points)))
    return (
        f'<path d="{d}" class="{css}" data-from="{_escape(source)}" '
        f'data-to="{_escape(target)}" marker-end="url(#arrow)"/>\n'
    )


def _corners(lk: Look, x: float, y: float, kernel: tuple[int, ...]) -> list[tuple[float, float]] | None:
    """:func:`kernel_face` of a box of look ``lk`` at (x, y)."""
    if not kernel or lk.depth == 0:
        return None
    kh, kw = kernel[0], kernel[-1] if len(kernel) > 1 else 1
    fh = min(0.6, max(0.15, kh / max(lk.cells[0], 1)))
    fw = min(0.6, max(0.15, kw / max(lk.cells[1], 1)))
    x0, y0 = x + lk.thickness, y
    d = lk.depth * 0.7

    def at(u: float, w: float) -> tuple[float, float]:
        return (x0 + u * d, y0 - u * d - w * lk.height)

    u0, u1, w0, w1 = 0.5 - fw / 2, 0.5 + fw / 2, 0.5 - fh / 2, 0.5 + fh / 2
    return [at(u0, w0), at(u1, w0), at(u1, w1), at(u0, w1)]


def kernel_face(source: Placed, kernel: tuple[int, ...]) -> list[tuple[float, float]] | None:
    """The kernel as a parallelogram on the source's height x width face (its side face), sized
    by kernel/input per axis and always inside the face (clipped to 15-60% of each side)."""
    return _corners(source.volume.look, source.x, source.y, kernel)


_KERNEL = '<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" class="kernel"/>\n'
_HINT = '<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="hint"/>\n'


def _kernel_lines(source: Box, target: Box, hint: bool) -> str:
    """The kernel on the source's face and, with ``hint``, dashed lines to the layer it makes."""
    _, lk, x, y, _, _ = source
    corners = _corners(lk, x, y, target[1].kernel)
    if corners is None:
        return ""
    out = _KERNEL % tuple(v for corner in corners for v in corner)
    if hint:  # dashed lines to the layer it makes, where nothing stands between the two
        tx, ty = target[2], target[3] - target[1].height / 2
        for cx, cy in (corners[1], corners[2]):
            out += _HINT % (cx, cy, tx, ty)
    return _whole(out)  # (its only numbers are inside quotes)


def to_svg(summary: Summary, max_width: float = MAX_WIDTH) -> str:
    """The whole diagram as an SVG document (UTF-8 text)."""
    return "".join(svg_pieces(summary, max_width))


#: Boxes (or edges, kernels) per piece of :func:`svg_pieces`: a box is nine lines.
PIECE_ITEMS = 250


def _svg_parts(summary: Summary, drawing: Drawing) -> Iterator[str]:
    """The SVG document's text, a line or a few at a time, each ending in a newline."""
    width, height = drawing.width, drawing.height
    yield (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="Helvetica, Arial, sans-serif" role="img" '
        f'aria-label="{escape(summary.name)}: {len(summary.layers)} layers">\n'
        "<style>.name{font-size:11px;font-weight:bold;fill:#222;text-anchor:middle}"
        ".kind{font-size:10px;fill:#333;text-anchor:middle}"
        ".shape{font-size:10px;fill:#555;text-anchor:middle}.title{font-size:14px;font-weight:bold;fill:#222}"
        ".edge{stroke:#666;stroke-width:1.3;fill:none}.edge.long{stroke:#c0392b}"
        ".hint{stroke:#333;stroke-width:0.6;stroke-dasharray:2 2}"
        ".kernel{fill:#ffd84d;stroke:#333;stroke-width:0.6}</style>\n"
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>\n'
        # An opaque light background keeps the drawing readable in dark viewers too.
        f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" rx="8" fill="#fbfbf8"/>\n'
        f'<text x="{MARGIN}" y="{MARGIN + 8}" class="title">{escape(summary.name)} · {summary.total_params:,} params'
        f" · {summary.total_macs:,} MACs</text>\n"
    )
    yield from map(_path_line, drawing.paths())  # under the boxes (though no edge crosses one)
    texts: dict[int, tuple[str, str, str, str, str, str]] = {}  # per look (the drawing keeps them)
    for box in drawing.boxes():
        yield _box_lines(box, texts)
    per_column = drawing.column_sizes()
    drawn: set[str | int] = set()  # one kernel per volume: the first layer that slides one over it
    for source_key, target_key in drawing.reads(summary):
        if source_key in drawn:
            continue
        target = drawing.box(target_key)
        source = drawing.box(source_key)
        # Hint lines only where nothing can stand between the two boxes.
        hint = target[5] == source[5] + 1 and target[4] == source[4] and target[2] > source[2]
        hint = hint and per_column[source[5]] == per_column[target[5]] == 1
        yield _kernel_lines(source, target, hint)
        drawn.add(source_key)
    yield "</svg>\n"


def svg_pieces(summary: Summary, max_width: float = MAX_WIDTH) -> Iterator[str]:
    """:func:`to_svg` as a generator of pieces that join to it (a few hundred boxes each, made
    as they are asked for): the document of a big network never exists whole in memory. The
    layout is made before the first piece is handed out."""
    parts = _svg_parts(summary, layout(summary, max_width))
    return ("".join(chunk) for chunk in iter(lambda: list(itertools.islice(parts, PIECE_ITEMS)), []))
