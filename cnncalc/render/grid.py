"""Tables that fit a width without ever breaking a number, a shape or a name.

A :class:`Grid` is plain text: columns (with a short header for narrow widths) and cells (with an
optional compact form, e.g. ``1.85 G`` for ``1,849,688,064``). :func:`fit` picks the first plan
whose tables fit the width, in this order:

1. everything in full, one table;
2. compact cells and short headers, one table;
3. compact, with the secondary columns moved to further tables (each repeating the first column);
4. as 3, and cells of wrapping columns broken at spaces (never inside a word);

and when even that is too wide, plan 4 at its narrowest: the lines run past the width (a terminal
folds them visually) but every token stays whole. Without a width (redirected output, ``-o``)
plan 1 is used at the content's full width, so a file and a redirect get the same bytes.

Column widths are computed here, not by Rich, and given to Rich as fixed widths: Rich's own
shrinking folds words mid-token, which is exactly what this module exists to prevent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import field
from typing import Any

from ..records import record


def cell_len(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide characters count two)."""
    if text.isascii() and text.isprintable():
        return len(text)  # the common case, without a call into Rich
    from rich.cells import cell_len as measure  # Rich loads only when a table is drawn

    return int(measure(text))


#: Table borders: HEAVY_HEAD/SIMPLE boxes with one space of padding each side of a cell.
_PAD = 2


@record(frozen=True)
class Col:
    """A column: its header (and the short header used at narrow widths), alignment and role."""

    header: str
    short: str = ""
    right: bool = False
    #: may move to a second table at narrow widths (the first column is repeated there)
    secondary: bool = False
    #: cells may break at spaces when nothing else fits (never inside a word)
    wrap: bool = False

    def title(self, compact: bool) -> str:
        """The header text for a plan."""
        return (self.short or self.header) if compact else self.header


@record(frozen=True, slots=True)  # three per table row: slotted
class Cell:
    """A cell's full text, its compact form (``""``: the same), a Rich style, and the number a
    sortable HTML table orders it by (None: by its text)."""

    text: str
    compact: str = ""
    style: str = ""
    sort: float | None = None

    def value(self, compact: bool) -> str:
        """The text for a plan."""
        return (self.compact or self.text) if compact else self.text


@record(frozen=True)
class Grid:
    """Columns and rows of plain text; the first column identifies the row (repeated on a split)."""

    columns: tuple[Col, ...]
    rows: tuple[tuple[Cell, ...], ...]
    #: a ruled line between rows (Keras's summary has them)
    lines: bool = False
    #: SIMPLE box without outer edges instead of HEAVY_HEAD
    simple: bool = False


@record(frozen=True)
class Plan:
    """How a grid is drawn: column groups (indices), their widths, compact or not, wrapped or not."""

    compact: bool
    wrapped: bool
    groups: tuple[tuple[int, ...], ...]
    widths: tuple[int, ...] = field(default=())

    def table_width(self, grid: Grid, group: Sequence[int]) -> int:
        """Characters one table of the plan takes, borders included."""
        return _table_width(grid, [self.widths[i] for i in group])

    def width(self, grid: Grid) -> int:
        """The widest table of the plan."""
        return max(self.table_width(grid, g) for g in self.groups)


def _table_width(grid: Grid, widths: Sequence[int]) -> int:
    borders = len(widths) - 1 if grid.simple else len(widths) + 1
    return sum(widths) + _PAD * len(widths) + borders


def _longest_word(text: str) -> int:
    return max((cell_len(word) for line in text.split("\n") for word in line.split(" ")), default=0)


def _longest_line(text: str) -> int:
    if text.isascii() and text.isprintable():  # one line (a newline is not printable)
        return len(text)
    return max((cell_len(line) for line in text.split("\n")), default=0)


def _texts(grid: Grid, i: int, compact: bool) -> set[str]:
    """The distinct texts of column ``i`` for a plan (``Cell.value``, without a call per cell)."""
    rows = grid.rows
    if compact:
        return {row[i].compact or row[i].text for row in rows}
    return {row[i].text for row in rows}


def _natural(grid: Grid, compact: bool) -> list[int]:
    """Each column's width with nothing wrapped."""
    out = []
    for i, col in enumerate(grid.columns):
        # each distinct text measured once (a column of counts or shapes repeats them)
        out.append(max([_longest_line(col.title(compact)), *map(_longest_line, _texts(grid, i, compact))]))
    return out


def _narrowest(grid: Grid, compact: bool) -> list[int]:
    """Each column's width with wrapping columns (and every header) broken at spaces."""
    out = []
    for i, col in enumerate(grid.columns):
        measure = _longest_word if col.wrap else _longest_line
        cells = [measure(row[i].value(compact)) for row in grid.rows]
        out.append(max([_longest_word(col.title(compact)), *cells]))
    return out


def _pack(grid: Grid, widths: Sequence[int], limit: int | None, split: bool) -> tuple[tuple[int, ...], ...]:
    """Column groups: every primary column in the first table, then secondary ones in order,
    starting a new table (behind the first column) when the next one would not fit."""
    n = len(grid.columns)
    if not split or limit is None:
        return (tuple(range(n)),)
    first = [0, *(i for i in range(1, n) if not grid.columns[i].secondary)]
    groups = [first]
    for i in range(1, n):
        if not grid.columns[i].secondary:
            continue
        current = groups[-1]
        if _table_width(grid, [widths[j] for j in [*current, i]]) <= limit:
            current.append(i)
        else:
            groups.append([0, i])
    return tuple(tuple(g) for g in groups)


def _share(grid: Grid, group: Sequence[int], natural: list[int], narrow: list[int], limit: int) -> None:
    """Within one table, narrow the wrapping columns (widest first) until it fits; in place."""
    wrapping = [i for i in group if grid.columns[i].wrap or narrow[i] < natural[i]]
    fixed = [i for i in group if i not in wrapping]
    room = limit - _table_width(grid, [0] * len(group)) - sum(natural[i] for i in fixed)
    widths = {i: natural[i] for i in wrapping}

    # Water-filling: the largest cap c with sum(max(narrow, min(natural, c))) <= room (0 when
    # none is); the sum grows with c, so bisect instead of stepping down one column at a time.
    def used(cap: int) -> int:
        return sum(max(narrow[i], min(natural[i], cap)) for i in wrapping)

    low, high = 0, max(widths.values(), default=0)
    while low < high:  # invariant: the answer is in [low, high]
        middle = (low + high + 1) // 2
        if used(middle) <= room:
            low = middle
        else:
            high = middle - 1
    cap = low
    for i in wrapping:
        natural[i] = max(narrow[i], min(natural[i], cap))


def plan(grid: Grid, width: int | None) -> Plan:
    """The first plan (see the module docstring) whose tables fit ``width`` (None: any width)."""
    has_secondary = any(c.secondary for c in grid.columns[1:])
    natural = _natural(grid, compact=False)
    candidates = [(False, False)]
    if width is not None:
        candidates += [(True, False)] + ([(True, True)] if has_secondary else [])
    compact_natural: list[int] = []  # measured once, on first need (each pass reads every cell)
    for compact, split in candidates:
        if compact and not compact_natural:
            compact_natural = _natural(grid, compact=True)
        widths = compact_natural if compact else natural
        candidate = Plan(compact, False, _pack(grid, widths, width, split), tuple(widths))
        if width is None or candidate.width(grid) <= width:
            return candidate
    assert width is not None  # only the terminal case gets here
    widths = compact_natural or _natural(grid, compact=True)
    narrow = _narrowest(grid, compact=True)
    groups = _pack(grid, narrow, width, split=has_secondary)
    shared = list(widths)
    for group in groups:
        _share(grid, group, shared, narrow, width)
    return Plan(True, True, groups, tuple(shared))


def wrap_words(text: str, width: int) -> str:
    """Greedy word wrap at spaces; a word is never broken (``width`` is at least the longest)."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and cell_len(line) + 1 + cell_len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
    return "\n".join(out)


def tables(grid: Grid, chosen: Plan) -> list[Any]:
    """The Rich tables of a plan, every column at its computed fixed width."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = []
    for group in chosen.groups:
        table = Table(
            box=box.SIMPLE if grid.simple else box.HEAVY_HEAD,
            show_lines=grid.lines,
            show_edge=not grid.simple,
            padding=(0, 1),
            pad_edge=True,
        )
        for i in group:
            col = grid.columns[i]
            header = col.title(chosen.compact)
            if chosen.wrapped:
                header = wrap_words(header, chosen.widths[i])
            table.add_column(
                Text(header),
                justify="right" if col.right else "left",
                width=chosen.widths[i],
                no_wrap=True,
            )
        for row in grid.rows:
            cells = []
            for i in group:
                text = row[i].value(chosen.compact)
                if chosen.wrapped and grid.columns[i].wrap:
                    text = wrap_words(text, chosen.widths[i])
                cells.append(Text(text, style=row[i].style))
            table.add_row(*cells)
        out.append(table)
    return out


def _cell_lines(text: str, width: int, right: bool) -> list[str] | None:
    """A cell's lines justified to ``width`` as Rich's Text does it (right: trailing whitespace
    dropped, then padded on the left; left: padded on the right), or None when Rich would do
    more than that (control characters or tabs it strips or expands, a line it would cut)."""
    out = []
    for line in text.split("\n"):
        if not line.isprintable():
            return None
        if right:
            line = line.rstrip()
        size = len(line) if line.isascii() else cell_len(line)
        if size > width:
            return None
        out.append(" " * (width - size) + line if right else line + " " * (width - size))
    return out


def plain_text(grid: Grid, chosen: Plan) -> str | None:
    """The tables of a plan as plain text, the bytes Rich draws for :func:`tables` without
    styles (same boxes, padding, justification, header cells aligned to the bottom and body
    cells to the top), in time linear in the cells; None when a cell needs Rich's own handling.
    tests/test_tables.py compares the two on random grids."""
    pieces = plain_pieces(grid, chosen)
    return None if pieces is None else "".join(pieces)


_BOLD, _OFF = "\x1b[1m", "\x1b[0m"

#: Distinct texts of a column whose justified lines :func:`plain_pieces` keeps (beyond: each is
#: justified as it is drawn).
JUSTIFIED = 4096

#: Lines per piece of :func:`plain_pieces` (a piece is a few hundred kilobytes at most).
PIECE_LINES = 2000


def _fits(text: str, width: int, right: bool) -> bool:
    """True when :func:`_cell_lines` draws ``text`` unwrapped (not None), without drawing it."""
    if text.isprintable() and text.isascii():  # one line (a newline is not printable)
        return len(text.rstrip() if right else text) <= width
    return _cell_lines(text, width, right) is not None


def plain_pieces(grid: Grid, chosen: Plan, strip: bool = False, color: bool = False) -> Iterator[str] | None:
    """:func:`plain_text` as a generator of pieces of whole lines (a table of 100,000 rows is
    never one string, nor a list of its lines), or None when a cell needs Rich's own handling
    (known before the first piece: every cell is looked at first); ``strip`` drops trailing
    spaces from each line, as :func:`~cnncalc.render.console.to_text` does without colour.
    ``color``: as Rich draws it on a terminal, the header bold (None when a cell has a style or
    a header two lines)."""
    from rich import box as boxes

    box = boxes.SIMPLE if grid.simple else boxes.HEAVY_HEAD
    drawn = []
    for group in chosen.groups:
        widths = [chosen.widths[i] for i in group]
        if not all(widths):
            return None  # Rich gives an empty column a width of its own
        right = [grid.columns[i].right for i in group]
        wrap = [chosen.wrapped and grid.columns[i].wrap for i in group]
        heads = []
        for i, w, r in zip(group, widths, right, strict=True):
            header = grid.columns[i].title(chosen.compact)
            lines = _cell_lines(wrap_words(header, w) if chosen.wrapped else header, w, r)
            if lines is None or (color and len(lines) > 1):
                return None
            heads.append(lines)
        if color and any(row[i].style for row in grid.rows for i in group):
            return None  # a styled cell: Rich draws its style
        # each column's distinct texts justified once
        # each column's distinct texts justified once; the first column (it names the row) and a
        # column of more than JUSTIFIED distinct texts (a field per conv) are looked at now and
        # drawn as they come (their lines, kept, would take as much memory again)
        justified: list[dict[str, list[str]] | None] = []
        for k, (i, w, r, wr) in enumerate(zip(group, widths, right, wrap, strict=True)):
            texts: Any = (
                _texts(grid, i, chosen.compact) if k else (row[i].value(chosen.compact) for row in grid.rows)
            )
            if k == 0 or len(texts) > JUSTIFIED:
                if wr and not all(_cell_lines(wrap_words(text, w), w, r) is not None for text in texts):
                    return None
                if not wr and not all(_fits(text, w, r) for text in texts):
                    return None
                justified.append(None)
                continue
            column = {}
            for text in texts:
                lines = _cell_lines(wrap_words(text, w) if wr else text, w, r)
                if lines is None:
                    return None
                column[text] = lines
            justified.append(column)
        drawn.append((group, widths, right, wrap, heads, justified))
    return _plain_lines(grid, chosen, strip, box, drawn, color)


def _plain_lines(
    grid: Grid, chosen: Plan, strip: bool, box: Any, drawn: list[tuple[Any, ...]], color: bool
) -> Iterator[str]:
    """The pieces of :func:`plain_pieces`, its cells known to draw."""
    edge = not grid.simple
    out: list[str] = []
    pieces = 0

    def flush() -> str:
        nonlocal pieces
        pieces += 1
        text = "\n".join(out) + "\n"
        out.clear()
        return text

    for group, widths, right, wrap, heads, justified in drawn:
        padded = [w + _PAD for w in widths]
        rule = box.get_row(padded, "row", edge=edge)
        if edge:
            out.append(box.get_top(padded))
        last_row = len(grid.rows) - 1
        columns = list(zip(group, widths, right, wrap, justified, strict=True))
        # A body row whose cells are one line each is drawn from each column's one-line texts
        # (the first column's padded as it comes); any other row as below.
        one_line = None if any(wrap) else _one_line_columns(columns)
        mid = f" {box.mid_vertical} "
        for number in range(len(grid.rows) + 1):  # 0: the header
            cells = heads
            if number:
                row = grid.rows[number - 1]
                if one_line is not None and number - 1 != last_row:
                    line = _one_line_row(row, one_line, chosen.compact, mid)
                    if line is not None:
                        out.append(
                            (box.mid_left + " " if edge else " ")
                            + line
                            + (" " + box.mid_right if edge else " ")
                        )
                        if grid.lines:
                            out.append(rule)
                        if len(out) >= PIECE_LINES:
                            if strip:
                                out[:] = [line.rstrip() for line in out]
                            yield flush()
                        continue
                cells = [
                    column[row[i].value(chosen.compact)]
                    if column is not None
                    else _cell_lines(
                        wrap_words(row[i].value(chosen.compact), w) if wr else row[i].value(chosen.compact),
                        w,
                        r,
                    )
                    or []
                    for i, w, r, wr, column in columns
                ]
            left, divider, end = (
                (box.head_left, box.head_vertical, box.head_right)
                if number == 0
                else (box.foot_left, box.foot_vertical, box.foot_right)
                if number - 1 == last_row
                else (box.mid_left, box.mid_vertical, box.mid_right)
            )
            if not edge:
                left = end = ""
            height = max(map(len, cells))
            if color and number == 0:  # Rich's table.header style, on each padding and the text
                out.append(
                    left
                    + divider.join(f"{_BOLD} {_OFF}{_BOLD}{c[0]}{_OFF}{_BOLD} {_OFF}" for c in cells)
                    + end
                )
            elif height == 1:
                out.append(left + " " + f" {divider} ".join(c[0] for c in cells) + " " + end)
            else:
                blocks = []
                for c, w in zip(cells, widths, strict=True):
                    blank = [" " * w] * (height - len(c))
                    blocks.append(blank + c if number == 0 else c + blank)  # header: bottom
                for k in range(height):
                    out.append(left + " " + f" {divider} ".join(b[k] for b in blocks) + " " + end)
            if number == 0:
                out.append(box.get_row(padded, "head", edge=edge))
            elif grid.lines and number - 1 != last_row:
                out.append(rule)
            if len(out) >= PIECE_LINES:
                if strip:
                    out[:] = [line.rstrip() for line in out]
                yield flush()
        if edge:
            out.append(box.get_bottom(padded))
    if out or not pieces:
        if strip:
            out[:] = [line.rstrip() for line in out]
        yield flush()


def _one_line_columns(
    columns: list[tuple[Any, ...]],
) -> list[tuple[int, int, bool, dict[str, str] | None]] | None:
    """Per column (index, width, right-justified, {text: its one justified line} or None: padded
    as it comes), or None when a column has a text of several lines."""
    out = []
    for i, w, r, _, column in columns:
        lines = None
        if column is not None:
            if any(len(drawn) != 1 for drawn in column.values()):
                return None
            lines = {text: drawn[0] for text, drawn in column.items()}
        out.append((i, w, r, lines))
    return out


def _one_line_row(
    row: Sequence[Cell],
    columns: list[tuple[int, int, bool, dict[str, str] | None]],
    compact: bool,
    divider: str,
) -> str | None:
    """A body row's cells joined on one line (what :func:`_cell_lines` justifies, ``divider``
    between them), or None when a cell drawn as it comes is not one line of printable ASCII."""
    parts = []
    for i, w, r, lines in columns:
        cell = row[i]
        text = (cell.compact or cell.text) if compact else cell.text
        if lines is not None:
            parts.append(lines[text])
        elif text.isascii() and text.isprintable():
            parts.append(text.rstrip().rjust(w) if r else text.ljust(w))
        else:
            return None
    return divider.join(parts)


class Fitted:
    """A Rich renderable of a grid that picks its plan from the width it is given.

    Rendered wider than the width when even the narrowest plan does not fit (print it with
    ``crop=False``): a line longer than the terminal is better than a number cut in two.
    """

    def __init__(self, grid: Grid) -> None:
        self.grid = grid

    def plain_pieces(self, width: int, color: bool = False) -> Iterator[str] | None:
        """What Rich prints for it at ``width`` (without colour trailing spaces dropped, as
        :func:`~cnncalc.render.console.to_text` does), in pieces; None when Rich must draw it."""
        return plain_pieces(self.grid, plan(self.grid, width), strip=not color, color=color)

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        chosen = plan(self.grid, options.max_width)
        plain = console.color_system is None and not console.record
        if plain and not options.ascii_only and not options.legacy_windows:
            # No styles reach the output: draw the text directly (Rich renders a table at about
            # a millisecond a row, a minute and a half for 100,000 layers).
            text = plain_text(self.grid, chosen)
            if text is not None:
                from rich.segment import Segment

                yield Segment(text)
                return
        room = max(options.max_width, chosen.width(self.grid))
        for table in tables(self.grid, chosen):
            yield from console.render(table, options.update_width(room))

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        widest = plan(self.grid, None).width(self.grid)
        return Measurement(min(widest, options.max_width), widest)
