"""``explain --window``: the window, the weights, their products and the sum, as plain text."""

from __future__ import annotations

from ..window import Grid, WindowWorking


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"


def _grid_lines(grid: Grid, marks: tuple[tuple[bool, ...], ...] | None = None) -> list[str]:
    cells = [
        [_num(x) + ("*" if marks and marks[i][j] else "") for j, x in enumerate(row)]
        for i, row in enumerate(grid)
    ]
    width = max(len(c) for row in cells for c in row)
    return [" ".join(c.rjust(width) for c in row) for row in cells]


def _side_by_side(blocks: list[tuple[str, list[str]]]) -> list[str]:
    widths = [max(len(title), *(len(line) for line in lines)) for title, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    out = ["   ".join(title.ljust(w) for (title, _), w in zip(blocks, widths, strict=True)).rstrip()]
    for i in range(height):
        parts = [
            (lines[i] if i < len(lines) else "").ljust(w)
            for (_, lines), w in zip(blocks, widths, strict=True)
        ]
        out.append("   ".join(parts).rstrip())
    return out


def window_text(working: WindowWorking, checked: bool | None) -> str:
    """The worked output value, then the whole feature map and the executor's verdict."""
    (i, j), (top, left) = working.at, working.origin
    kh, kw = len(working.window), len(working.window[0])
    lines = [
        f"{working.layer} ({working.class_name}): output [{i}, {j}] from the window at input row {top}, "
        f"column {left} ({kh}x{kw}{', * = padding zero' if any(map(any, working.padded)) else ''})",
        "",
    ]
    blocks = [
        (f"input ({len(working.image)}x{len(working.image[0])})", _grid_lines(working.image)),
        ("window", _grid_lines(working.window, working.padded)),
    ]
    if working.weights is not None and working.products is not None:
        blocks += [("weights w", _grid_lines(working.weights)), ("window * w", _grid_lines(working.products))]
    lines += _side_by_side(blocks)
    lines.append("")
    if working.products is not None:
        terms = " + ".join(_num(x) for row in working.products for x in row)
        total = working.products_sum
        lines.append(f"sum of window * w = {terms} = {_num(total)}")
        lines.append(f"+ bias b = {_num(total)} + {_num(working.bias)} = {_num(working.result)}")
    elif working.reduce == "max":
        lines.append(f"max of the window = {_num(working.result)}")
    else:
        lines.append(f"mean of the window = {_num(working.result)}")
    lines += [
        "",
        f"feature map ({len(working.feature_map)}x{len(working.feature_map[0])}), [{i}, {j}] = {_num(working.result)}:",
    ]
    lines += ["  " + line for line in _grid_lines(working.feature_map)]
    if checked is not None:
        lines.append("")
        lines.append(
            "checked: the NumPy executor's forward pass gives the same feature map"
            if checked
            else "MISMATCH: the NumPy executor's forward pass gives another feature map"
        )
    return "\n".join(lines) + "\n"
