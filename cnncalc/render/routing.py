"""The pieces a diagram is laid out with: spacing, the drawn volume, a placed box, a routed
edge, the whole drawing, and the routing helpers the two layouts share (the wrapped columns of
:mod:`cnncalc.render.diagram`, the folded U of :mod:`cnncalc.render.fold`)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from ..enums import Category

GAP = 24  # horizontal space between columns, plus SLOT per edge running through it
SLOT = 7  # spacing of parallel edge segments
LANE_GAP = 18  # vertical space between boxes of one column
LABEL_SPACE = 44  # three label lines under a box
MARGIN = 16
TITLE_SPACE = 30
ROW_GAP = 18  # between the rows of a wrapped network
CORRIDOR_PAD = 8  # around the tracks of a corridor


@dataclass(frozen=True)
class Volume:
    """One drawn tensor: name, kind, shape, category, box dimensions (pixels), the spatial size
    (cells, for the kernel drawing) and the kernel of the layer that reads it, if any."""

    name: str
    kind: str
    shape: tuple[int, ...]
    category: Category
    height: float
    depth: float
    thickness: float
    kernel: tuple[int, ...] = ()
    cells: tuple[int, int] = (1, 1)

    @property
    def width(self) -> float:
        """Horizontal space the box takes (front face plus the oblique depth)."""
        return self.thickness + self.depth * 0.7

    @property
    def total_height(self) -> float:
        """Vertical space the box takes (front face plus the oblique depth)."""
        return self.height + self.depth * 0.7

    @property
    def label_width(self) -> float:
        """Estimated width of the widest label line (11px bold name, 10px kind and shape)."""
        shape = "x".join(map(str, self.shape))
        return max(len(self.name) * 6.7, len(self.kind) * 6.0, len(shape) * 5.9)


@dataclass(frozen=True)
class Placed:
    """A volume and where its front face's bottom-left corner sits; its row and column."""

    volume: Volume
    x: float
    y: float
    row: int = 0
    column: int = 0

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The bounding rectangle (left, top, right, bottom) of the drawn box."""
        v = self.volume
        return (self.x, self.y - v.total_height, self.x + v.width, self.y)

    def exit_range(self) -> tuple[float, float]:
        """Where edges may leave: the right edge of the side face (of the front face for a bar)."""
        dy = self.volume.depth * 0.7
        return (self.y - dy - self.volume.height, self.y - dy)

    def entry_range(self) -> tuple[float, float]:
        """Where edges may arrive: the left edge of the front face."""
        return (self.y - self.volume.height, self.y)


@dataclass
class Edge:
    """One graph edge and its route (a polyline of horizontal and vertical segments)."""

    source: str
    target: str
    points: list[tuple[float, float]] = field(default_factory=list)
    kind: str = "next"  # next (adjacent columns), skip (over the row), wrap (to a later row)
    #: it passes over columns (a shortcut), drawn in red
    long: bool = False

    @property
    def css(self) -> str:
        """The path's classes: ``edge``, its kind, and ``long`` for a shortcut."""
        return f"edge {self.kind}" + (" long" if self.long else "")


@dataclass(frozen=True)
class Drawing:
    """Placed volumes, routed edges and the canvas size."""

    placed: list[Placed]
    edges: list[Edge]
    width: float
    height: float


def spread(lo: float, hi: float, n: int, i: int) -> float:
    """The i-th of n points spread evenly inside (lo, hi)."""
    return lo + (hi - lo) * (i + 1) / (n + 1)


def least_crossing(
    fixed: list[tuple[float, float]], rest: list[int], ends: dict[int, tuple[float, float]], rightward: bool
) -> list[int]:
    """The order (from the side edges come in) of a gap's edges that crosses least, each edge
    given by the y it comes in at and the y it goes out at; ``fixed`` (skips) stay on the far
    left. Two edges a before b cross once for each of: a's outgoing run meets b's vertical (a's
    out y strictly between b's in and out), b's incoming run meets a's vertical. Tried
    exhaustively for a few edges, in order of their out y beyond that (deterministic)."""

    def crossings(order: list[tuple[float, float]]) -> int:
        n = 0
        for a, (ia, oa) in enumerate(order):
            for ib, ob in order[a + 1 :]:
                n += min(ib, ob) < oa < max(ib, ob)
                n += min(ia, oa) < ib < max(ia, oa)
        return n

    if len(rest) > 6:
        return sorted(rest, key=lambda i: ends[i][1])

    def cost(order: tuple[int, ...]) -> int:
        ys = [ends[i] for i in order]
        return crossings([*fixed, *ys] if rightward else [*ys, *fixed])

    return list(min(itertools.permutations(rest), key=lambda order: cost(tuple(order))))


def simplify(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop repeated points and the middle of three collinear ones."""
    out: list[tuple[float, float]] = []
    for p in points:
        if out and math.isclose(out[-1][0], p[0]) and math.isclose(out[-1][1], p[1]):
            continue
        if len(out) >= 2:
            a, b = out[-2], out[-1]
            if (math.isclose(a[0], b[0]) and math.isclose(b[0], p[0])) or (
                math.isclose(a[1], b[1]) and math.isclose(b[1], p[1])
            ):
                out[-1] = p
                continue
        out.append(p)
    return out
