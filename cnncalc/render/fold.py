"""The diagram of an encoder-decoder (a U-Net), folded into a U: the encoder left to right on
the top row, the decoder right to left under it, each skip a straight drop between the two.

:func:`turning_column` says whether a graph is such a U (and where it turns); :func:`fold` lays it
out with the pieces of :mod:`cnncalc.render.routing` (volumes, placed boxes, routed edges).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

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
    Look,
    Placed,
    Volume,
    least_crossing,
    simplify,
    spread,
)


def turning_column(
    columns: int, looks: Sequence[Look], column: Sequence[int], spans: Iterable[tuple[int, int]]
) -> int | None:
    """The column where an encoder-decoder (a U-Net) turns back, or None for any other graph.

    ``columns`` columns; each volume's look and column (``looks[k]``, ``column[k]``); each
    edge's (source column, target column).

    A U: the smallest spatial size is reached at a column B (the last column holding it) that
    has columns on both sides; every edge over more than one column either is a skip, leaving
    the encoder (before B) and entering the decoder (after B + 1), or a shortcut inside one half
    (a ResNet encoder's); at least one skip; and the skips nest: the earlier a skip leaves, the
    later it arrives, one skip per column at either end (so drawn folded, each skip can drop
    straight from its encoder column to the decoder column under it).
    """
    distinct = {id(look): look for look in looks}  # a repeated block's volumes share a look
    if columns < 4 or any(len(look.shape) == 1 for look in distinct.values()):
        return None
    # the last column holding the smallest spatial size
    cells = {key: look.cells[0] * look.cells[1] for key, look in distinct.items()}
    smallest = min(cells.values())
    turn = max(c for look, c in zip(looks, column, strict=True) if cells[id(look)] == smallest)
    if not 0 < turn < columns - 2:
        return None
    skips = []
    for cs, ct in spans:
        if ct - cs <= 1 or ct <= turn or cs > turn:  # next, or a shortcut inside one half
            continue
        if not (cs < turn and ct > turn + 1):
            return None
        skips.append((cs, ct))
    skips.sort()
    sources, targets = [cs for cs, _ in skips], [ct for _, ct in skips]
    if not skips or len(set(sources)) < len(sources):
        return None
    if any(b >= a for a, b in zip(targets, targets[1:], strict=False)):
        return None
    return turn


def _nested_levels(intervals: list[tuple[float, float, int]]) -> dict[int, int]:
    """Track levels for a corridor's runs, shortest first at the lowest free level: a run that
    lies inside another sits nearer the row, so the outer run's ends pass outside it."""
    placed: list[tuple[float, float, int]] = []
    out: dict[int, int] = {}
    for lo, hi, key in sorted(intervals, key=lambda r: (r[1] - r[0], r[0], r[2])):
        level = 0
        while any(lv == level and lo <= h + SLOT and a <= hi + SLOT for a, h, lv in placed):
            level += 1
        placed.append((lo, hi, level))
        out[key] = level
    return out


def fold(
    columns: list[list[Volume]],
    depth: dict[str, int],
    pairs: list[tuple[str, str]],
    col_width: list[float],
    turn: int,
) -> Drawing:
    """An encoder-decoder drawn as a U: the encoder (columns up to ``turn``) left to right on the
    top row, the decoder right to left on the row under it, each decoder column that a skip
    enters placed under the encoder column the skip leaves. Skips then drop straight down
    through the two aligned gaps (nested, so none crosses another); the decoder's edges run
    right to left (leaving a box's left side, entering the next one's right side); the edges
    from the turning column go round the right end. Shortcuts inside the encoder run in a
    corridor above the top row, inside the decoder in one below the bottom row.
    """
    last = len(columns) - 1
    top_order = list(range(turn + 1))
    bottom_order = list(range(last, turn, -1))  # left to right
    kinds: list[str] = []
    for source, target in pairs:
        cs, ct = depth[source], depth[target]
        if ct - cs > 1:
            kinds.append("skip" if cs < turn < ct else "short")
        else:
            kinds.append("turn" if cs <= turn < ct else "next")
    skips = sorted((depth[s], depth[t]) for (s, t), k in zip(pairs, kinds, strict=True) if k == "skip")

    # The gaps each edge runs through: ("top", c) after encoder column c, ("bottom", c) right of
    # decoder column c; per passage the y it comes in at and goes out at (+-inf: from or to a
    # corridor or the other row).
    up, down = -math.inf, math.inf
    passages: dict[int, list[tuple[str, int]]] = {}
    fixed: dict[tuple[str, int], list[int]] = {}  # skips: nearest the gap's left side
    users: dict[tuple[str, int], list[int]] = {}
    turns = [i for i, k in enumerate(kinds) if k == "turn"]
    for i, (source, target) in enumerate(pairs):
        cs, ct = depth[source], depth[target]
        if kinds[i] == "skip":
            passages[i] = [("top", cs), ("bottom", ct)]
            fixed.setdefault(("top", cs), []).append(i)
            fixed.setdefault(("bottom", ct), []).append(i)
            continue
        if kinds[i] == "turn":
            continue
        if ct <= turn:  # encoder: next, or a shortcut over its row
            passages[i] = [("top", cs)] if kinds[i] == "next" else [("top", cs), ("top", ct - 1)]
        else:  # decoder, right to left
            passages[i] = [("bottom", ct)] if kinds[i] == "next" else [("bottom", cs + 1), ("bottom", ct)]
        for gap in passages[i]:
            users.setdefault(gap, []).append(i)

    def need(gap: tuple[str, int]) -> float:
        return GAP + SLOT * (len(users.get(gap, [])) + len(fixed.get(gap, [])))

    # x: both rows left to right in segments that end at a skip; the shorter row's segment moves
    # right so the skip's two columns end at one x (the gap after them is shared).
    col_x: dict[int, float] = {}
    gap_width: dict[tuple[str, int], float] = {}
    x_top = x_bottom = float(MARGIN)
    ti = bi = 0
    for cs, ct in [*skips, (turn, turn + 1)]:
        top_segment, bottom_segment = [], []
        while ti < len(top_order) and top_order[ti] <= cs:
            top_segment.append(top_order[ti])
            ti += 1
        while bi < len(bottom_order) and bottom_order[bi] >= ct:
            bottom_segment.append(bottom_order[bi])
            bi += 1
        for c in top_segment:
            gap_width[("top", c)] = need(("top", c))
            col_x[c], x_top = x_top, x_top + col_width[c] + gap_width[("top", c)]
        for c in bottom_segment:
            gap_width[("bottom", c)] = need(("bottom", c))
            col_x[c], x_bottom = x_bottom, x_bottom + col_width[c] + gap_width[("bottom", c)]
        if (cs, ct) == (turn, turn + 1):
            break
        top_end, bottom_end = col_x[cs] + col_width[cs], col_x[ct] + col_width[ct]
        shift_top, shift_bottom = max(0.0, bottom_end - top_end), max(0.0, top_end - bottom_end)
        for c in top_segment:
            col_x[c] += shift_top
        for c in bottom_segment:
            col_x[c] += shift_bottom
        shared = max(need(("top", cs)), need(("bottom", ct)))
        gap_width[("top", cs)] = gap_width[("bottom", ct)] = shared
        x_top = x_bottom = max(top_end, bottom_end) + shared
    right = max(col_x[turn] + col_width[turn], col_x[turn + 1] + col_width[turn + 1])
    gutter = (right, right + GAP + SLOT * len(turns))

    def place(top: float) -> tuple[list[Placed], list[float], list[float]]:
        """Boxes stacked down their column, tops aligned per row, the decoder row under the
        encoder row whose content starts at ``top``; each row's top and height."""
        content_top, heights = [top, 0.0], [0.0, 0.0]
        out: list[Placed] = []
        for r, order in enumerate((top_order, bottom_order)):
            if r == 1:
                content_top[1] = content_top[0] + heights[0] + 2 * ROW_GAP
            for c in order:
                y = content_top[r]
                for v in columns[c]:
                    y += v.total_height
                    out.append(Placed(v, col_x[c] + (col_width[c] - v.width) / 2, y, r, c))
                    y += LABEL_SPACE + LANE_GAP
                heights[r] = max(heights[r], y - LANE_GAP - content_top[r])
        return out, content_top, heights

    def right_side(p: Placed) -> tuple[float, float]:
        dy = p.volume.depth * 0.7
        return (p.y - dy - p.volume.height, p.y - dy)

    def left_side(p: Placed) -> tuple[float, float]:
        return (p.y - p.volume.height, p.y)

    def ends(where: dict[str, Placed]) -> tuple[dict[int, float], dict[int, float]]:
        """Where each edge leaves and enters a box, spread along the side it uses, top to
        bottom: first what goes up (shortcuts over the encoder), then the rest by the other
        end's height, last what goes down (skips, shortcuts under the decoder); entering,
        likewise what comes from above first."""
        exits: dict[str, list[int]] = {}
        entries: dict[str, list[int]] = {}
        for i, (source, target) in enumerate(pairs):
            exits.setdefault(source, []).append(i)
            entries.setdefault(target, []).append(i)

        def rank(i: int) -> int:
            if kinds[i] == "short":
                return 0 if depth[pairs[i][1]] <= turn else 2
            return 2 if kinds[i] == "skip" else 1

        exit_y: dict[int, float] = {}
        entry_y: dict[int, float] = {}
        for name, out in exits.items():
            p = where[name]
            lo, hi = right_side(p) if p.row == 0 else left_side(p)
            for k, i in enumerate(sorted(out, key=lambda i: (rank(i), where[pairs[i][1]].y))):
                exit_y[i] = spread(lo, hi, len(out), k)
        for name, into in entries.items():
            p = where[name]
            lo, hi = p.entry_range() if p.row == 0 else right_side(p)
            coming = {"skip": 0, "next": 1, "turn": 1}
            for k, i in enumerate(
                sorted(into, key=lambda i: (coming.get(kinds[i], rank(i)), where[pairs[i][0]].y))
            ):
                entry_y[i] = spread(lo, hi, len(into), k)
        return exit_y, entry_y

    def slot_x(
        exit_y: dict[int, float], entry_y: dict[int, float]
    ) -> dict[tuple[int, tuple[str, int]], float]:
        """x of each edge in each gap it crosses: skips nearest the gap's left side (one x for
        the two aligned gaps), the others after them in the order that crosses least."""
        out: dict[tuple[int, tuple[str, int]], float] = {}
        for gap in sorted(set(users) | set(fixed)):
            row, c = gap
            start, width = col_x[c] + col_width[c], gap_width[gap]
            rightward = row == "top"
            pinned = fixed.get(gap, [])
            for k, i in enumerate(pinned):
                out[(i, gap)] = start + GAP / 2 + SLOT * k
            rest = users.get(gap, [])
            if not rest:
                continue

            corridor = up if rightward else down
            ys = {}
            for i in rest:  # the y it comes in at and leaves at (a corridor's: +-inf)
                leaving = kinds[i] == "short" and passages[i][0] == gap
                arriving = kinds[i] == "short" and passages[i][-1] == gap
                ys[i] = (corridor if arriving else exit_y[i], corridor if leaving else entry_y[i])
            pins = [(exit_y[i], down) if rightward else (up, entry_y[i]) for i in pinned]
            order = least_crossing(pins, rest, ys, rightward)
            first = start + GAP / 2 + SLOT * len(pinned) if pinned else start
            xs = [spread(first, start + width, len(order), k) for k in range(len(order))]
            for i, x in zip(order, xs if rightward else xs[::-1], strict=True):
                out[(i, gap)] = x
        return out

    # Slots from a first placement (the corridors' heights shift every y alike), then the
    # corridors' tracks, then the boxes where they end up.
    exit_y, entry_y = ends({p.volume.name: p for p in place(0.0)[0]})
    gx = slot_x(exit_y, entry_y)
    runs: dict[str, list[tuple[float, float, int]]] = {"top": [], "bottom": []}
    for i, gaps in passages.items():
        if kinds[i] == "short":
            a, b = gx[(i, gaps[0])], gx[(i, gaps[1])]
            runs[gaps[0][0]].append((min(a, b), max(a, b), i))
    level = {**_nested_levels(runs["top"]), **_nested_levels(runs["bottom"])}

    def corridor(row: str) -> float:
        used = [level[i] for _, _, i in runs[row]]
        return 2 * CORRIDOR_PAD + SLOT * max(used) + SLOT if used else 0.0

    placed, content_top, heights = place(float(MARGIN + TITLE_SPACE + CORRIDOR_PAD) + corridor("top"))
    where = {p.volume.name: p for p in placed}
    exit_y, entry_y = ends(where)
    height = content_top[1] + heights[1] + corridor("bottom") + MARGIN

    edges = []
    for i, (source, target) in enumerate(pairs):
        s, t = where[source], where[target]
        start = (s.x if s.row == 1 else s.x + s.volume.width, exit_y[i])  # the decoder runs leftwards
        end = (t.x if t.row == 0 else t.x + t.volume.width, entry_y[i])
        if kinds[i] == "turn":
            x = spread(gutter[0], gutter[1], len(turns), turns.index(i))
            points = [start, (x, start[1]), (x, end[1]), end]
        elif kinds[i] == "short":
            x1, x2 = gx[(i, passages[i][0])], gx[(i, passages[i][1])]
            if s.row == 0:
                track = content_top[0] - CORRIDOR_PAD - SLOT * level[i]
            else:
                track = content_top[1] + heights[1] + CORRIDOR_PAD + SLOT * level[i]
            points = [start, (x1, start[1]), (x1, track), (x2, track), (x2, end[1]), end]
        else:
            x = gx[(i, passages[i][0])]
            points = [start, (x, start[1]), (x, end[1]), end]
        edges.append(Edge(source, target, simplify(points), kinds[i], depth[target] - depth[source] > 1))
    return Drawing(placed, edges, gutter[1] + MARGIN, height)
