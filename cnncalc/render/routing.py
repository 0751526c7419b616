"""The pieces a diagram is laid out with: spacing, the drawn volume, a placed box, a routed
edge, the whole drawing, and the routing helpers the two layouts share (the wrapped columns of
:mod:`cnncalc.render.diagram`, the folded U of :mod:`cnncalc.render.fold`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..enums import Category

if TYPE_CHECKING:
    from ..summary import Summary

GAP = 24  # horizontal space between columns, plus SLOT per edge running through it
SLOT = 7  # spacing of parallel edge segments
LANE_GAP = 18  # vertical space between boxes of one column
LABEL_SPACE = 44  # three label lines under a box
MARGIN = 16
TITLE_SPACE = 30
ROW_GAP = 18  # between the rows of a wrapped network
CORRIDOR_PAD = 8  # around the tracks of a corridor


@dataclass(frozen=True, slots=True)
class Look:
    """What a drawn volume looks like, all but its name: kind, shape, category, box dimensions
    (pixels), the spatial size (cells, for the kernel drawing) and the kernel of the layer that
    reads it, if any. Equal layers on equal shapes (a repeated block) share one."""

    kind: str
    shape: tuple[int, ...]
    category: Category
    height: float
    depth: float
    thickness: float
    kernel: tuple[int, ...] = ()
    cells: tuple[int, int] = (1, 1)
    #: horizontal space the box takes (front face plus the oblique depth)
    width: float = field(init=False, repr=False, compare=False)
    #: vertical space the box takes (front face plus the oblique depth)
    total_height: float = field(init=False, repr=False, compare=False)
    #: the shape as the box's label writes it (``8x8x16``)
    shape_text: str = field(init=False, repr=False, compare=False)
    #: the widest of the kind's and the shape's label lines (the name's depends on the name)
    label_fixed: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once per look (a box is drawn from them); the same expressions as before.
        shape = "x".join(map(str, self.shape))
        object.__setattr__(self, "width", self.thickness + self.depth * 0.7)
        object.__setattr__(self, "total_height", self.height + self.depth * 0.7)
        object.__setattr__(self, "shape_text", shape)
        object.__setattr__(self, "label_fixed", max(len(self.kind) * 6.0, len(shape) * 5.9))


@dataclass(frozen=True, slots=True)
class Volume:
    """One drawn tensor: its name and its :class:`Look` (kind, shape, box dimensions, kernel)."""

    name: str
    look: Look

    @property
    def kind(self) -> str:
        return self.look.kind

    @property
    def shape(self) -> tuple[int, ...]:
        return self.look.shape

    @property
    def category(self) -> Category:
        return self.look.category

    @property
    def height(self) -> float:
        return self.look.height

    @property
    def depth(self) -> float:
        return self.look.depth

    @property
    def thickness(self) -> float:
        return self.look.thickness

    @property
    def kernel(self) -> tuple[int, ...]:
        return self.look.kernel

    @property
    def cells(self) -> tuple[int, int]:
        return self.look.cells

    @property
    def width(self) -> float:
        """Horizontal space the box takes (front face plus the oblique depth)."""
        return self.look.width

    @property
    def total_height(self) -> float:
        """Vertical space the box takes (front face plus the oblique depth)."""
        return self.look.total_height

    @property
    def label_width(self) -> float:
        """Estimated width of the widest label line (11px bold name, 10px kind and shape)."""
        return max(len(self.name) * 6.7, self.look.label_fixed)


@dataclass(frozen=True, slots=True)
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


@dataclass(slots=True)
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


#: What the SVG writer draws a box from: name, look, x, y (the front face's bottom-left
#: corner), row, column.
Box = tuple[str, Look, float, float, int, int]
#: What it draws an edge from: source, target, the route's points, the path's classes.
Path = tuple[str, str, list[tuple[float, float]], str]


class Drawing:
    """Placed volumes, routed edges and the canvas size.

    The SVG writer reads :meth:`boxes` and :meth:`paths` (in the order drawn) and :meth:`box`
    (a box by name); a big layout (:mod:`cnncalc.render.diagram`'s) overrides them to work each
    out as it is drawn from compact per-layer arrays, never holding a record per layer."""

    __slots__ = ("_edges", "_placed", "_where", "height", "width")

    def __init__(self, placed: list[Placed], edges: list[Edge], width: float, height: float) -> None:
        self._placed = placed
        self._edges = edges
        self._where: dict[str, Placed] | None = None
        self.width = width
        self.height = height

    @property
    def placed(self) -> list[Placed]:
        """Every volume where it is drawn (boxes in the order drawn)."""
        return self._placed

    @property
    def edges(self) -> list[Edge]:
        """Every edge with its route (in the order drawn)."""
        return self._edges

    def boxes(self) -> Iterator[Box]:
        """Each box as the SVG writer draws it, in order."""
        for p in self.placed:
            yield p.volume.name, p.volume.look, p.x, p.y, p.row, p.column

    def paths(self) -> Iterator[Path]:
        """Each edge as the SVG writer draws it, in order."""
        for e in self.edges:
            yield e.source, e.target, e.points, e.css

    def box(self, key: str | int) -> Box:
        """The box of a volume: by name, or by a key :meth:`reads` gave."""
        if self._where is None:
            self._where = {p.volume.name: p for p in self.placed}
        p = self._where[str(key)]
        return p.volume.name, p.volume.look, p.x, p.y, p.row, p.column

    def reads(self, summary: Summary) -> Iterator[tuple[str | int, str | int]]:
        """For each layer that reads one tensor and slides a kernel over it, in order: the keys
        (:meth:`box`) of the tensor's volume and of the layer's."""
        for row in summary.layers:
            if len(row.inputs) == 1 and self.box(row.name)[1].kernel:
                yield row.inputs[0], row.name

    def column_sizes(self) -> list[int]:
        """How many boxes stand in each column."""
        sizes: list[int] = []
        for p in self.placed:
            sizes.extend([0] * (p.column + 1 - len(sizes)))
            sizes[p.column] += 1
        return sizes


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
    close = math.isclose
    out: list[tuple[float, float]] = []
    for p in points:
        px, py = p
        if out:
            bx, by = out[-1]
            if close(bx, px) and close(by, py):
                continue
            if len(out) >= 2:
                ax, ay = out[-2]
                if (close(ax, bx) and close(bx, px)) or (close(ay, by) and close(by, py)):
                    out[-1] = p
                    continue
        out.append(p)
    return out
