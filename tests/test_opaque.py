"""Opaque rows: recorded shapes and counts, costs unknown; every command says what it cannot do.

Values are the recorded ones given in each test (the kind computes nothing), so each assertion is
the hand-derived sum or the refusal the docs promise.
"""

from __future__ import annotations

import json

import pytest

import cnncalc
from cnncalc.errors import CnncalcError, ShapeError, SpecError
from cnncalc.explain import explain
from cnncalc.io import parse

from .helpers import error_lines, run

# A residual block whose shift is an op cnncalc has no kind for (Swin's torch.roll), recorded by a
# trace: 4x4x2 in, conv 1x1 to 3 channels (2*3 + 3 = 9 params), the opaque shift with 5 params and
# 2 buffers of its own, then a merge of the conv and the opaque output read together by a second
# opaque row (two inputs).
DOC = {
    "name": "shifted",
    "inputs": [{"name": "x", "shape": [4, 4, 2]}],
    "layers": [
        {"type": "conv2d", "filters": 3, "kernel_size": 1, "name": "conv", "inputs": "x"},
        {
            "type": "opaque",
            "name": "shift",
            "op": "torch.roll",
            "shape": [4, 4, 3],
            "in_shapes": [[4, 4, 3]],
            "trainable_count": 5,
            "buffer_count": 2,
            "source": "torch trace",
            "inputs": "conv",
        },
        {
            "type": "opaque",
            "name": "mix",
            "op": "custom.Mix",
            "shape": [8],
            "in_shapes": [[4, 4, 3], [4, 4, 3]],
            "non_trainable_count": 4,
            "inputs": ["conv", "shift"],
        },
    ],
}


def summary(doc=DOC, **kw):
    return cnncalc.summarize(doc, **kw)


def test_recorded_shapes_and_counts_add_up() -> None:
    s = summary()
    conv, shift, mix = s.layers
    assert shift.output_shape == (4, 4, 3) and mix.output_shape == (8,) and s.output_shape == (8,)
    assert (shift.trainable_params, shift.non_trainable_params, shift.buffers) == (5, 0, 2)
    assert (mix.trainable_params, mix.non_trainable_params, mix.inputs) == (0, 4, ("conv", "shift"))
    assert (s.total_params, s.trainable_params, s.non_trainable_params, s.total_buffers) == (18, 14, 4, 2)
    assert [row.opaque for row in s.layers] == [False, True, True]
    assert (shift.macs, shift.ops, mix.macs) == (0, 0, 0)  # unknown: not counted
    assert s.total_macs == conv.macs == 4 * 4 * 2 * 3
    assert any("2 opaque rows" in note and "MACs/FLOPs unknown" in note for note in s.notes)
    assert shift.receptive_field is not None and not shift.receptive_field.tracked


def test_json_marks_the_row_and_reads_back() -> None:
    doc = summary().to_dict()
    rows = doc["layers"]
    assert "opaque" not in rows[0] and rows[1]["opaque"] is True and rows[2]["opaque"] is True
    assert rows[1]["config"] == {
        "op": "torch.roll",
        "shape": [4, 4, 3],
        "trainable_count": 5,
        "buffer_count": 2,
        "in_shapes": [[4, 4, 3]],
        "source": "torch trace",
    }
    again = summary(json.loads(json.dumps(doc)))
    assert again.to_dict() == doc
    from cnncalc.check import check_text

    result = check_text(json.dumps(doc), "m.json")  # the result fields read back as expectations
    assert result.error is None and not result.differences and result.checked > 10


def test_other_inputs_are_refused_not_guessed() -> None:
    with pytest.raises(ShapeError) as info:
        summary(input_shape=(8, 8, 2))
    message = str(info.value)
    assert "'shift'" in message or "shift" in message
    assert "recorded for input 4x4x3, got 8x8x3" in message and "\n" not in message


def test_without_in_shapes_any_input_is_taken() -> None:
    s = cnncalc.summarize([{"type": "opaque", "op": "keras_hub.X", "shape": [7]}], input_shape=(3, 3))
    assert s.output_shape == (7,) and s.total_params == 0


@pytest.mark.parametrize(
    ("layer", "wanted"),
    [
        ({"type": "opaque", "shape": [1]}, "needs op"),
        ({"type": "opaque", "op": "", "shape": [1]}, "op: expected the op or class name"),
        ({"type": "opaque", "op": "x", "shape": [0]}, "shape"),
        ({"type": "opaque", "op": "x", "shape": [1], "buffer_count": -1}, "buffer_count"),
        ({"type": "opaque", "op": "x\nimport os", "shape": [1]}, "one line"),
        ({"type": "opaque", "op": "x", "shape": [1], "opaque": "yes"}, "opaque must be true or false"),
    ],
)
def test_bad_opaque_rows_are_one_line_errors(layer, wanted: str) -> None:
    with pytest.raises(CnncalcError) as info:
        cnncalc.summarize([layer], input_shape=(2,))
    assert wanted in str(info.value) and "\n" not in str(info.value)


def test_compact_form() -> None:
    s = cnncalc.summarize(["dense:4", "opaque:op=torch.erf,shape=4,in_shapes=4"], input_shape=(3,))
    assert s.layers[1].output_shape == (4,) and s.layers[1].opaque


def test_explain_says_it_is_opaque_and_names_the_op() -> None:
    steps = explain(summary())[1].steps
    text = " ".join(f"{st.label} {st.formula} {st.work} {st.result}" for st in steps)
    assert "opaque" in text and "torch.roll (torch trace)" in text and "cannot look inside" in text
    assert any(st.label == "MACs" and st.result == "?" for st in steps)


def test_verify_reports_opaque_rows_and_runs_the_rest() -> None:
    from cnncalc.enums import VerifyStatus
    from cnncalc.numeric.verify import verify

    doc = {
        "layers": [
            {"type": "opaque", "op": "torch.roll", "shape": [5, 5, 2], "name": "o"},
            {"type": "conv2d", "filters": 3, "kernel_size": 3, "name": "k"},
        ]
    }
    report = verify(cnncalc.summarize(doc, input_shape=(5, 5, 2)))
    first, second = report.rows
    assert first.status is VerifyStatus.OPAQUE and "torch.roll" in first.message
    assert second.status is VerifyStatus.OK and second.real_shape == (3, 3, 3)
    assert report.ok


def test_the_executor_refuses_in_one_line() -> None:
    np = pytest.importorskip("numpy")
    from cnncalc.layers.base import Context
    from cnncalc.numeric import executor

    layer = summary().layers[1].layer
    with pytest.raises(ValueError, match=r"opaque row: cnncalc has no kind for torch.roll \(torch trace\)"):
        executor.forward(layer, np.zeros((1, 4, 4, 3)), {}, Context())


def test_solve_refuses() -> None:
    from cnncalc.solve import solve_sizes

    with pytest.raises(CnncalcError) as info:
        solve_sizes(parse(json.dumps(DOC)))
    assert "layer 2 (opaque 'shift'): this opaque row (torch.roll) decides the size" in str(info.value)


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_export_refuses(target: str) -> None:
    from cnncalc.export import export

    with pytest.raises(SpecError, match="no code can be written for it"):
        export(summary(), target)


def test_counters_count_it_as_zero_and_say_why() -> None:
    from cnncalc.counters import Counter, figure

    row = summary().layers[1]
    fig = figure(row, Counter.TORCHINFO, summary().data_format)
    assert fig.value == 0 and "opaque" in fig.why


def test_cli_summary_explain_solve_export(tmp_path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(DOC))
    result = run("summary", "-f", str(path))
    assert result.exit_code == 0, result.stderr
    assert "Opaque" in result.stdout and "2 opaque rows" in result.stderr
    assert "cannot look inside" in run("explain", "-f", str(path)).stdout
    solved = run("solve", "sizes", "-f", str(path))
    assert solved.exit_code == 2 and "decides the size" in error_lines(solved.stderr)[0]
    exported = run("export", "--to", "keras", "-f", str(path))
    assert exported.exit_code == 2
    assert exported.stderr.splitlines()[-1].endswith(
        "opaque row: cnncalc has no kind for torch.roll (torch trace), only its recorded shapes and counts, so no code can be written for it"
    )
    assert run("diagram", "-f", str(path), "-o", str(tmp_path / "d.svg")).exit_code == 0
    verified = run("verify", "-f", str(path))
    assert verified.exit_code == 0 and "opaque" in verified.stdout
