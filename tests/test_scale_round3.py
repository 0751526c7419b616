"""Issue 28, round 3: per-layer work made as it is read (explain's working, memory's layer parts,
counters' rows), renderers that yield their pieces, and the receptive field's whole-jump path.
Each oracle is independent of the path under test: a hand derivation, the general algorithm
the fast path skips, Rich drawing the whole renderable, the one-shot list."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import cnncalc
from cnncalc import solve as solve_module
from cnncalc.counters import compare
from cnncalc.engine import summarize
from cnncalc.explain import Explanations, explain, explain_row, legend, legend_words
from cnncalc.geometry import AxisField, AxisMap, ReceptiveField, Window
from cnncalc.io import parse
from cnncalc.memory import memory
from cnncalc.render import documents
from cnncalc.render.console import to_text
from cnncalc.render.grid import Cell, Col, Grid, plain_pieces, plan, tables
from cnncalc.render.table import csv_pieces, markdown_pieces, to_csv, to_markdown

BLOCK = ["conv:8,3,padding=same", "bn", "relu"]


def stack(n: int) -> cnncalc.Summary:
    return summarize(parse({"input_shape": [8, 8, 8], "layers": (BLOCK * (n // 3 + 1))[:n]}))


# ----------------------------------------------------------------------------- receptive field


@given(
    first=st.integers(-50, 50),
    size=st.integers(1, 40),
    advance=st.integers(1, 6),
    kernel=st.integers(1, 9),
    dilation=st.integers(1, 4),
    stride=st.integers(1, 5),
    before=st.integers(0, 6),
)
def test_whole_jump_path_is_the_general_one(first, size, advance, kernel, dilation, stride, before) -> None:
    """A period-1 field through a conv (the direct path) equals the same field written with
    period 2 (which takes the general per-output loop) after its shortest repeat."""
    assume(before < kernel * dilation)
    field = AxisField(1, advance, (first,), (first + size - 1,))
    twice = AxisField(
        2, 2 * advance, (first, first + advance), (first + size - 1, first + size - 1 + advance)
    )
    m = AxisMap(stride, 1, ((-before, (kernel - 1) * dilation - before, dilation),))
    assert field.through(m) == twice.through(m)


def test_field_of_a_conv_stack_by_the_recurrence() -> None:
    """Araujo et al.: r_out = r_in + (F_eff - 1)*j_in, j_out = j_in*S. Three 3x3 convs, the second
    with stride 2 and dilation 2 (F_eff 5): r = 1+2 = 3, 3+4*1 = 7 (j 2), 7+2*2 = 11 (j 2)."""
    summary = summarize(
        parse(
            {
                "convention": "pytorch",
                "input_shape": [1, 64, 64],
                "layers": ["conv2d:1,1,3", "conv2d:1,1,3,stride=2,dilation=2", "conv2d:1,1,3"],
            }
        )
    )
    fields = [row.receptive_field for row in summary.layers]
    assert [rf.size for rf in fields] == [(3, 3), (7, 7), (11, 11)]
    assert [rf.jump for rf in fields] == [(1, 1), (2, 2), (2, 2)]
    # a square window on a square field is worked out once: both axes are one object
    assert all(rf.axes[0] is rf.axes[1] for rf in fields)


def test_a_rectangular_window_keeps_its_axes_apart() -> None:
    rf = ReceptiveField.of_input(2).through((Window(9, 3, 3, 1, 1, 1, 1, 9), Window(9, 5, 5, 2, 1, 2, 2, 5)))
    assert rf.size == (3, 5) and rf.jump == (1, 2)


# ----------------------------------------------------------------------------- explain


def test_explanations_are_made_again_as_they_are_read() -> None:
    summary = stack(7)
    explanations = Explanations(summary)
    once, again = list(explanations), list(explanations)
    assert len(explanations) == 7 and once == again == list(explain(summary))
    # hand-derived fields: each conv adds F - 1 = 2 at jump 1; batch norm and relu keep it
    fields = [[s.result for s in e.steps if s.label == "field"] for e in once]
    assert fields == [
        ["3, jump 1"],
        ["3, jump 1"],
        ["3, jump 1"],
        ["5, jump 1"],
        ["5, jump 1"],
        ["5, jump 1"],
        ["7, jump 1"],
    ]


def test_stack_path_equals_the_per_row_path_of_a_graph() -> None:
    """A stack's working (previous layer only) equals :func:`explain_row` row by row, with every
    shape and field by name, nothing shared."""
    summary = stack(10)
    shapes = dict(summary.model_inputs)
    fields = {name: ReceptiveField.of_input(2) for name, _ in summary.model_inputs}
    for expl, row in zip(Explanations(summary), summary.layers, strict=True):
        assert expl == explain_row(row, summary, fields[row.inputs[0]], shapes)
        shapes[row.name], fields[row.name] = row.output_shape, row.receptive_field


def test_legend_from_the_distinct_texts() -> None:
    from cnncalc import zoo

    summary = cnncalc.summarize(zoo.load("inception_block"))
    explanations = explain(summary)
    assert legend(legend_words(explanations)) == legend(explanations)
    assert "S stride" in " ".join(legend(explanations))


def test_explain_pieces_are_a_generator_joining_to_richs_text() -> None:
    summary = stack(40)
    pieces = documents.explain_pieces(summary, Explanations(summary), None)
    assert pieces is not None and not isinstance(pieces, (list, tuple))
    assert "".join(pieces) == to_text(documents.explain_text(summary, explain(summary)))


def test_a_line_too_wide_is_known_before_any_piece() -> None:
    """A layer named wider than --width: Rich must wrap it, so the fast path says None up front."""
    spec = {"input_shape": [4], "layers": [{"type": "relu", "name": "n" * 150}]}
    summary = summarize(parse(spec))
    assert documents.explain_pieces(summary, Explanations(summary), 100) is None
    assert documents.explain_pieces(summary, Explanations(summary), 400) is not None


def test_explain_markdown_in_pieces_is_the_joined_document(monkeypatch) -> None:
    summary = stack(9)
    whole = "".join(documents.explain_markdown(summary, Explanations(summary)))
    monkeypatch.setattr(documents, "PIECE_LINES", 7)
    pieces = list(documents.explain_markdown(summary, Explanations(summary)))
    assert len(pieces) > 3 and "".join(pieces) == whole
    assert whole.startswith('**Model "sequential"') and whole.endswith("```\n")
    assert whole.count("### ") == 9 and whole.count("```text") == 9


# ----------------------------------------------------------------------------- tables


def test_a_cell_rich_must_draw_is_found_before_any_piece() -> None:
    grid = Grid((Col("Layer"), Col("N", right=True)), ((Cell("a\x07b"), Cell("1")), (Cell("c"), Cell("2"))))
    assert plain_pieces(grid, plan(grid, None)) is None
    fine = Grid((Col("Layer"), Col("N", right=True)), ((Cell("ab"), Cell("1")), (Cell("c"), Cell("22"))))
    pieces = plain_pieces(fine, plan(fine, None), strip=True)
    assert pieces is not None and not isinstance(pieces, list)
    assert "".join(pieces) == to_text(*tables(fine, plan(fine, None)))  # Rich's own tables


@pytest.mark.parametrize("width", [None, 24])
def test_a_column_of_many_texts_is_justified_as_drawn(monkeypatch, width) -> None:
    """Beyond JUSTIFIED distinct texts a column's cells are justified row by row: the same text
    as Rich's tables (wrapped at 24 columns too)."""
    from cnncalc.render import grid as grid_module

    rows = tuple(
        (Cell(f"layer {k}"), Cell(f"{k * 7919:,}"), Cell(f"{k} (jump {k % 3 + 1}) and more words"))
        for k in range(30)
    )
    columns = (Col("Layer", wrap=True), Col("Params", right=True), Col("Field", wrap=True, secondary=True))
    grid = Grid(columns, rows, lines=True)
    chosen = plan(grid, width)
    expected = to_text(*tables(grid, chosen), width=width)
    monkeypatch.setattr(grid_module, "JUSTIFIED", 2)
    pieces = plain_pieces(grid, chosen, strip=True)
    assert pieces is not None and "".join(pieces) == expected


@pytest.mark.parametrize("columns", [(), ("shape", "params", "macs", "memory", "rf")])
def test_markdown_and_csv_pieces_join_to_the_documents(monkeypatch, columns) -> None:
    from cnncalc.render import table

    summary = stack(25)
    monkeypatch.setattr(table, "PIECE_ROWS", 4)
    view = table.View(columns=tuple(table.Column(c) for c in columns)) if columns else table.View()
    pieces = list(markdown_pieces(summary, view))
    assert len(pieces) > 5 and "".join(pieces) == to_markdown(summary, view)
    rows = "".join(pieces).splitlines()
    assert sum(line.startswith("| conv2d") for line in rows) == 9  # 25 layers: 9 convs
    csv = list(csv_pieces(summary))
    assert len(csv) > 5 and "".join(csv) == to_csv(summary) and len(to_csv(summary).splitlines()) == 26


# ----------------------------------------------------------------------------- memory, counters


def test_layer_memories_read_as_a_tuple() -> None:
    """conv 8 filters 'same' on 8x8x8, float32, batch 3: each output is 8*8*8*4*3 = 6,144 bytes."""
    report = memory(stack(6), batch=3, training=True)
    layers = report.layers
    listed = tuple(layers)
    assert len(layers) == 6 and len(listed) == 6
    assert [layer.output_bytes for layer in listed] == [6144] * 6
    assert layers[-1].name == listed[5].name == "re_lu_1" and layers[1].name == "batch_normalization"
    assert [layer.name for layer in layers[1:4]] == [layer.name for layer in listed[1:4]]
    assert sum(layer.saved_bytes for layer in layers) == report.saved_for_backward_bytes
    with pytest.raises(IndexError):
        layers[6]


def test_counter_rows_read_from_the_columns() -> None:
    """conv 3x3, 8 -> 8 on 8x8: 8*8*8*3*3*8 = 36,864 MACs by every tool but torch's 2x."""
    c = compare(stack(3))
    assert len(c.rows) == 3 and list(c.rows) == [c.rows[0], c.rows[1], c.rows[-1]]
    first = dict(zip(c.counters, c.rows[0], strict=True))
    assert first[cnncalc.enums.Counter.CNNCALC].value == 36864
    assert first[cnncalc.enums.Counter.TORCH].value == 2 * 36864
    for i, counter in enumerate(c.counters):
        assert c.total(counter) == sum(row[i].value for row in list(c.rows))
    with pytest.raises(IndexError):
        c.rows[3]


# ----------------------------------------------------------------------------- solve


def test_solve_sizes_summarizes_a_valid_stack_once(monkeypatch) -> None:
    """The probe at the spec's own sizes is the summary Dense's features came from: not made twice."""
    calls = []
    real = solve_module.summarize
    monkeypatch.setattr(solve_module, "summarize", lambda *a, **k: calls.append(1) or real(*a, **k))
    solution = solve_module.solve_sizes(["conv:8,3", "maxpool:2", "conv:8,3"], input_shape=(30, 30, 1))
    # conv 3: n - 2; pool 2: floor; conv 3: m - 2 >= 1 => floor((n - 2)/2) >= 3 => n >= 8
    assert solution.axes[0].sizes.describe() == "n >= 8" and solution.valid
    assert len(calls) == 1
