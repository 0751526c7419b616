"""Issue 28 (speed and memory at scale): big outputs written in pieces, and what repeats computed
once, must give exactly what the one-string and per-row paths give. Each oracle here is the
independent path: Rich drawing the whole renderable, json.loads of the document, the per-row
computation without any sharing, the file's bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.check import compare, expectations
from cnncalc.counters import figure, figures
from cnncalc.engine import summarize
from cnncalc.enums import Counter
from cnncalc.errors import SpecError
from cnncalc.explain import explain, explain_row
from cnncalc.io import files, parse
from cnncalc.render.console import to_pieces, to_text
from cnncalc.render.diagram import svg_pieces, to_svg
from cnncalc.render.grid import PIECE_LINES
from cnncalc.render.table import ALL_COLUMNS, View, json_document, summary_table
from cnncalc.summary import PIECE_ITEMS, json_pieces

BLOCK = ["conv:8,3,padding=same", "bn", "relu"]


def stack(n: int, shape: tuple[int, ...] = (8, 8, 8)) -> dict:
    return {"input_shape": list(shape), "layers": (BLOCK * (n // 3 + 1))[:n]}


@pytest.fixture(scope="module")
def big():
    """More rows than one piece holds (a table row is two lines with its rule)."""
    return summarize(parse(stack(PIECE_LINES + 7)))


@pytest.mark.parametrize("view", [View(), View(columns=ALL_COLUMNS)])
def test_table_pieces_join_to_what_rich_draws(big, view) -> None:
    renderable = summary_table(big, view)
    pieces = list(to_pieces(renderable))
    assert len(pieces) > 2  # the title, several blocks of the table, the footers
    assert "".join(pieces) == to_text(renderable)


def test_table_pieces_of_a_graph_and_all_columns() -> None:
    spec = {
        "input_shape": [8, 8, 4],
        "layers": [
            {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "name": "a"},
            *(
                {"type": "relu", "name": f"r{i}", "inputs": "a" if i == 0 else f"r{i - 1}"}
                for i in range(3000)
            ),
            {"type": "add", "name": "sum", "inputs": ["a", "r2999"]},
        ],
    }
    summary = summarize(parse(spec))
    assert summary.branches
    renderable = summary_table(summary, View(columns=ALL_COLUMNS))
    assert "".join(to_pieces(renderable)) == to_text(renderable)


@pytest.mark.parametrize("n", [0, 1, PIECE_ITEMS, PIECE_ITEMS + 1, 3 * PIECE_ITEMS + 2])
def test_json_document_pieces_are_the_document(n) -> None:
    summary = summarize(parse(stack(n)))
    text = "".join(json_document(summary))
    assert json.loads(text) == summary.to_dict()
    assert text.count("\n    {") == n  # one layer per line
    # the list given whole (check --update's path) is written the same
    assert "".join(json_pieces(summary.to_dict())) == text


def test_svg_pieces_join_to_the_svg() -> None:
    summary = summarize(parse(stack(5000)))
    pieces = list(svg_pieces(summary))
    assert "".join(pieces) == to_svg(summary)
    assert pieces[-1].endswith("</svg>\n")


def test_shared_work_equals_the_work_per_row() -> None:
    """The engine's, counters' and explain's per-object memos against computing every row anew."""
    summary = summarize(parse(stack(300)))
    conv = [row for row in summary.layers if row.class_name == "Conv2D"]
    assert len({id(row.layer) for row in conv}) == 1  # one object: the memos are exercised
    # a conv's output per row, computed without the engine's memo
    for row in conv[:5]:
        out = row.layer.compute(row.input_shape, summary.context)
        assert (row.output_dims, row.params, row.macs, row.windows) == (
            out.shape,
            out.trainable + out.non_trainable,
            out.macs,
            out.windows,
        )
    for counter in Counter:
        assert figures(summary, counter) == tuple(
            figure(row, counter, summary.data_format) for row in summary.layers
        )
    worked = explain(summary)
    fields = {"input": None}
    shapes = dict(summary.model_inputs)
    from cnncalc.geometry import ReceptiveField

    fields["input"] = ReceptiveField.of_input(2)
    for row, expl in zip(summary.layers, worked, strict=True):
        alone = explain_row(row, summary, fields[row.inputs[0]], shapes)
        assert alone == expl
        fields[row.name] = row.receptive_field
        shapes[row.name] = row.output_shape


def test_check_counts_and_differences_as_the_list_of_expectations() -> None:
    summary = summarize(parse(stack(90)))
    doc = summary.to_dict()
    doc["layers"][4]["params"] = 7  # one primary difference
    doc["layers"][10]["macs"] = 1  # one derived
    doc["expect"] = {"max_params": 1, "layers": {"3": {"params": 5}}}
    spec = parse(doc)
    checks = expectations(spec, summarize(spec))
    differences, count = compare(spec, summarize(spec))
    assert count == len(checks) == 90 * 11 + 14 + 2
    assert [(d.where, d.field) for d in differences] == [
        ("layer 5 batch_normalization_1", "params"),
        ("layer 11 batch_normalization_3", "macs"),
        ("layer 3 re_lu", "params"),
        ("model", "max_params"),
    ]


def test_pieces_written_to_a_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    files.write_atomic(str(target), iter(["ab", "c\n", "d"]))
    assert target.read_bytes() == b"abc\nd"


def test_an_unencodable_piece_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(SpecError, match="cannot write"):
        files.write_atomic(str(target), ["x" * 10_000, "\udcff"])
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["keep.txt"]


def test_unencodable_table_on_stdout_writes_nothing() -> None:
    # A name from the JSON escape "\udcff" (a lone surrogate) in a table of several pieces, on a
    # strict UTF-8 standard output: the error is one line and standard output stays empty, as
    # when the table was one string.
    layers = [{"type": "relu", "name": f"r{i}"} for i in range(PIECE_LINES)]
    layers[-1]["name"] = "\udcff"
    spec = json.dumps({"input_shape": [4], "layers": layers})
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "summary", "-f", "-"],
        input=spec.encode(),
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"cannot encode" in result.stderr


# --- held output: made whole (and checked) before the first piece goes out, not kept in memory ---


def _texts(n: int, size: int) -> list[str]:
    return [f"{i:08d}" + "é→\udcff"[i % 3] * (size - 8) for i in range(n)]


@pytest.mark.parametrize("limit", [10**9, 1000, 1])
def test_held_hands_out_every_piece_in_order(monkeypatch, limit) -> None:
    """Below the limit in memory; past it through the temporary file (text with non-ASCII and
    a lone surrogate, and bytes): the same text either way."""
    monkeypatch.setattr(files, "HOLD_IN_MEMORY", limit)
    texts = _texts(50, 300)
    assert "".join(files.held(iter(texts), lambda piece: None)) == "".join(texts)
    data = [t.encode("utf-8", "surrogatepass") for t in texts]
    assert b"".join(files.held(iter(data), lambda piece: None)) == b"".join(data)


@pytest.mark.parametrize("limit", [10**9, 1000])
def test_held_refuses_before_handing_out_anything(monkeypatch, limit) -> None:
    monkeypatch.setattr(files, "HOLD_IN_MEMORY", limit)
    made = []

    def pieces():
        for i in range(40):
            made.append(i)
            yield "x" * 100 if i < 39 else "\udcff"

    out = files.held(pieces(), lambda piece: piece.encode("utf-8"))
    with pytest.raises(UnicodeEncodeError):
        next(out)
    assert made == list(range(40))  # all were made (and checked) before the first went out


def test_held_keeps_the_rest_in_memory_when_no_temporary_file_can_be_made(monkeypatch) -> None:
    import tempfile

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "HOLD_IN_MEMORY", 10)
    monkeypatch.setattr(tempfile, "TemporaryFile", no_space)
    texts = _texts(20, 50)
    assert "".join(files.held(iter(texts), lambda piece: None)) == "".join(texts)


def test_held_output_is_never_whole_in_memory(monkeypatch) -> None:
    """40 MB of pieces, made one at a time: the most Python holds at once is about the in-memory
    part (8 MiB) plus a read-back chunk, measured by tracemalloc."""
    import tracemalloc

    def pieces():
        for i in range(400):
            yield f"{i:07d}" + "x" * 99_993

    tracemalloc.start()
    try:
        total = 0
        for chunk in files.held(pieces(), lambda piece: None):
            total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 400 * 100_000
    assert peak < files.HOLD_IN_MEMORY + 4 * 2**20


def test_a_file_from_a_generator_that_fails_is_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")

    def pieces():
        yield "x" * 100_000
        raise SpecError("layer 7: broke while rendering")

    with pytest.raises(SpecError, match="layer 7"):
        files.write_atomic(str(target), pieces())
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["keep.txt"]


def test_a_big_table_on_stdout_equals_the_file(tmp_path: Path) -> None:
    """More than HOLD_IN_MEMORY of table through standard output (held in a temporary file) and
    through -o: the same bytes, and the same as the rows drawn by Rich (the joined pieces)."""
    n = 40_000  # about 13 MB of table
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(stack(n)))
    target = tmp_path / "t.txt"
    run = [sys.executable, "-m", "cnncalc", "summary", "-f", str(spec)]
    out = subprocess.run(run, capture_output=True, timeout=300, check=True).stdout
    subprocess.run([*run, "-o", str(target)], capture_output=True, timeout=300, check=True)
    assert len(out) > files.HOLD_IN_MEMORY
    assert out == target.read_bytes()
    assert out.count(b"\n") > 2 * n


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\n", max_size=3), max_size=12), st.integers(1, 4))
def test_export_lines_in_pieces_join_as_lines(lines, size) -> None:
    import cnncalc.export as export_module

    old = export_module.PIECE_LINES
    export_module.PIECE_LINES = size
    try:
        pieces = list(export_module.in_pieces(iter(lines)))
    finally:
        export_module.PIECE_LINES = old
    assert "".join(pieces) == "\n".join(lines)
    assert len(pieces) == max(1, -(-len(lines) // size))


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_exported_code_in_pieces_is_whole_python(target) -> None:
    """More lines than a piece: the code written by pieces parses, with one layer per row (the
    seams between pieces fall between lines)."""
    import ast

    from cnncalc.export import PIECE_LINES, export_pieces

    n = PIECE_LINES + 500
    summary = summarize(parse({**stack(n), "convention": target if target == "pytorch" else "keras"}))
    tree = ast.parse("".join(export_pieces(summary, target)))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"Conv2D", "BatchNormalization", "ReLU", "Conv2d", "BatchNorm2d"}
    ]
    assert len(calls) == n
