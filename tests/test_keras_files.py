"""Saved Keras models read as they are: ``.keras`` zips (config.json only) and ``.h5`` files
(the model_config attribute), against Keras's own figures for the same files.

The fixtures and their ``*.expected.json`` were written by Keras itself
(tests/fixtures/keras/make_files.py); nothing here needs Keras.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.io.sources import read_spec
from cnncalc.numeric.verify import verify

from .helpers import run, run_json

FIXTURES = Path(__file__).parent / "fixtures" / "keras"
FILES = {"se_block": "se_block.keras", "preprocessing": "preprocessing.h5", "nested": "nested.keras"}


def _needs(filename: str) -> None:
    if filename.endswith(".h5"):
        pytest.importorskip("h5py")


def expected(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_layer_matches_keras(name: str) -> None:
    _needs(FILES[name])
    ours = run_json("summary", "-f", str(FIXTURES / FILES[name]))
    theirs = expected(name)
    rows = {layer["name"]: layer for layer in ours["layers"]}
    for layer in theirs["layers"]:
        assert rows[layer["name"]]["output_shape"] == layer["output_shape"], layer["name"]
        assert rows[layer["name"]]["params"] == layer["params"], layer["name"]
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        assert ours[key] == theirs[key], key


def test_the_fixtures_hold_what_they_are_for() -> None:
    """Each kind the issue names is in a fixture, with Keras's figures for it."""
    se = {layer["name"]: layer for layer in expected("se_block")["layers"]}
    assert se["scale"]["output_shape"] == [14, 14, 16]  # 14x14x16 times 1x1x16
    norms = [layer for layer in expected("preprocessing")["layers"] if layer["class_name"] == "Normalization"]
    # adapted: mean, variance (3 each) and count; given mean/variance: none; kept axes 7x6: 2*42 + 1
    assert [layer["params"] for layer in norms] == [2 * 3 + 1, 0, 2 * 7 * 6 + 1]
    nested = {layer["name"]: layer for layer in expected("nested")["layers"]}
    assert nested["stem"]["class_name"] == "Sequential" and nested["layer_scale"]["params"] == 12
    for name, filename in FILES.items():
        assert (FIXTURES / filename).stat().st_size < 2**20, name


def test_operation_nodes_are_rows_with_no_params() -> None:
    ours = run_json("summary", "-f", str(FIXTURES / "se_block.keras"))
    ops = [layer for layer in ours["layers"] if layer["type"] == "operation"]
    assert [(o["config"]["op"], o["config"]["operand"]) for o in ops] == [("add", 3.0), ("multiply", 1 / 6)]
    assert all(o["params"] == 0 and o["output_shape"] == [1, 1, 16] for o in ops)


def test_expand_shows_the_inner_layers_with_keras_figures() -> None:
    ours = run_json("summary", "-f", str(FIXTURES / "nested.keras"), "--expand")
    theirs = expected("nested")
    stem = next(layer for layer in theirs["layers"] if layer["name"] == "stem")
    rows = {layer["name"]: layer for layer in ours["layers"]}
    assert "stem" not in rows
    for inner in stem["inner"]:
        row = rows[f"stem/{inner['name']}"]
        assert (row["output_shape"], row["params"]) == (inner["output_shape"], inner["params"])
    assert ours["total_params"] == theirs["total_params"]
    assert len(rows) == len(ours["layers"])  # names stay unique


def test_expand_table_names_inner_rows() -> None:
    result = run("summary", "-f", str(FIXTURES / "nested.keras"), "--expand", width=160)
    assert result.exit_code == 0, result.stderr
    assert "stem/conv2d" in result.stdout and "stem/layer_normalization" in result.stdout


@pytest.mark.parametrize("name", sorted(FILES))
def test_verify_runs_every_new_kind(name: str) -> None:
    _needs(FILES[name])
    result = run("verify", "-f", str(FIXTURES / FILES[name]))
    assert result.exit_code == 0, result.stderr + result.stdout


@pytest.mark.parametrize("expand", [False, True])
def test_nested_model_verifies_through_the_executor(expand: bool) -> None:
    summary = cnncalc.summarize(read_spec(str(FIXTURES / "nested.keras")), expand=expand)
    report = verify(summary, dtype="float64")
    assert report.ok, [row for row in report.rows if not row.ok]


def test_format_is_chosen_by_content(tmp_path: Path) -> None:
    renamed = tmp_path / "model.bin"
    shutil.copy(FIXTURES / "se_block.keras", renamed)
    assert run_json("summary", "-f", str(renamed))["total_params"] == expected("se_block")["total_params"]


def test_from_keras_forces_the_zip_reader(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{"input_shape": [4], "layers": ["dense:2"]}')
    result = run("summary", "-f", str(path), "--from", "keras")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot read {path}: not a complete zip file")


def test_standard_input_holds_a_keras_file() -> None:
    data = (FIXTURES / "se_block.keras").read_bytes()
    spec = read_spec_from_stdin(data)
    assert cnncalc.summarize(spec).total_params == expected("se_block")["total_params"]


def read_spec_from_stdin(data: bytes):
    from cnncalc.io import sources

    return sources.FILE_READERS[sources.detect(data, "-")](io.BytesIO(data), "-")


def test_weights_are_never_read(tmp_path: Path) -> None:
    """Only config.json is read: a damaged weights entry (bad CRC) changes nothing."""
    path = tmp_path / "big.keras"
    with zipfile.ZipFile(FIXTURES / "nested.keras") as source, zipfile.ZipFile(path, "w") as target:
        target.writestr("config.json", source.read("config.json"))
        target.writestr("model.weights.h5", b"\x00" * 4096)
    data = bytearray(path.read_bytes())
    start = data.index(b"\x00" * 4096)
    data[start : start + 4096] = b"\xff" * 4096  # the stored CRC no longer matches
    path.write_bytes(bytes(data))
    assert run_json("summary", "-f", str(path))["total_params"] == expected("nested")["total_params"]


# ----------------------------------------------------------------------------- bad input


def _one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) in (1, 2) and lines[0].startswith("Error: "), result.stderr
    assert len(lines) == 1 or lines[1].startswith("Hint: ")
    for part in parts:
        assert part in lines[0], lines[0]


def test_truncated_zip(tmp_path: Path) -> None:
    path = tmp_path / "cut.keras"
    path.write_bytes((FIXTURES / "se_block.keras").read_bytes()[:300])
    _one_line_error(run("summary", "-f", str(path)), f"cannot read {path}: not a complete zip file")


def test_zip_without_config(tmp_path: Path) -> None:
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", "{}")
    _one_line_error(run("summary", "-f", str(path)), "the zip holds no config.json")


def test_hdf5_without_a_model() -> None:
    pytest.importorskip("h5py")
    path = FIXTURES / "weights_only.weights.h5"
    _one_line_error(run("summary", "-f", str(path)), "holds no Keras model (no model_config attribute")


def test_unknown_custom_layer_is_named() -> None:
    result = run("summary", "-f", str(FIXTURES / "custom_layer.keras"))
    _one_line_error(result, "'Twice' is not a Keras layer cnncalc knows")
    assert "MyProject" in result.stderr or "Twice" in result.stderr


def test_normalization_mean_of_wrong_length(tmp_path: Path) -> None:
    layer = {"type": "normalization", "mean": [0.5, 0.5], "variance": [1.0, 1.0]}
    path = tmp_path / "norm.json"
    path.write_text(json.dumps({"input_shape": [8, 8, 3], "layers": [layer]}))
    _one_line_error(
        run("summary", "-f", str(path)), "mean has shape 2 but the kept axis (-1) of the input 8x8x3 has 3"
    )


def test_h5_without_h5py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    with pytest.raises(SpecError, match=r"\.h5 files need h5py: pip install 'cnncalc\[h5\]'"):
        read_spec(str(FIXTURES / "preprocessing.h5"))


def test_none_sizes_propagate_as_in_keras(tmp_path: Path) -> None:
    # Issue 21 replaced the refusal this test asserted ("input 'image' has sizes None x None x 8
    # ... give the whole input shape with --input") by Keras's behaviour: the model summarises with
    # None sizes and exact params; what needs the sizes says so in one line, and --input gives them.
    doc = json.loads(zipfile.ZipFile(FIXTURES / "se_block.keras").read("config.json"))
    doc["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 8]
    path = tmp_path / "free.json"
    path.write_text(json.dumps(doc))
    result = run("summary", "-f", str(path))
    assert result.exit_code == 0, result.stderr
    assert "(None, None, None, 8)" in result.stdout  # Keras's own spelling of the unknown sizes
    assert "--input gives them" in result.stderr
    free = run_json("summary", "-f", str(path))
    assert free["total_params"] == expected("se_block")["total_params"]  # Keras's count
    assert free["input_shape"] == [None, None, 8] and free["total_macs"] is None
    for command in ("verify", "explain"):
        _one_line_error(run(command, "-f", str(path)), "the input is None x None x 8", "--input")
    ours = run_json("summary", "-f", str(path), "--input", "14x14x8")
    assert ours["total_params"] == expected("se_block")["total_params"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_files_fail_cleanly(data: st.DataObject) -> None:
    """Any damage to a .keras or .h5 file: a result or our one-line error, never a traceback or exit 3."""
    filename = data.draw(st.sampled_from(sorted(FILES.values())))
    _needs(filename)
    raw = bytearray((FIXTURES / filename).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    result = run("summary", "-f", "-", "--format", "json", input=bytes(raw[:cut]))  # type: ignore[arg-type]
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 2:
        assert len(result.stderr.splitlines()) <= 2 and "Traceback" not in result.stderr


def test_check_reads_saved_models() -> None:
    """`check` takes saved Keras files too: they hold no expectations, so they pass when they
    compute only with --allow-empty (a gate that checks nothing must not pass by accident)."""
    files = [str(FIXTURES / "se_block.keras"), str(FIXTURES / "custom_layer.keras")]
    result = run("check", "--allow-empty", *files)
    assert result.exit_code == 2
    assert "PASS" in result.stdout and "'Twice' is not a Keras layer cnncalc knows" in result.stderr
    strict = run("check", files[0])
    assert strict.exit_code == 2 and "a saved model holds no expectations" in strict.stderr


def test_mobilenet_v3_small_reads_as_keras_prints_it() -> None:
    # examples/mobilenet_v3_small.keras: keras.applications.MobileNetV3Small(input_shape=(None,
    # None, 3)) saved by Keras, whose own count is in examples/EXPECTED.json (2,554,968).
    examples = Path(__file__).resolve().parent.parent / "examples"
    keras_figures = json.loads((examples / "EXPECTED.json").read_text())["files"]["mobilenet_v3_small.keras"]
    doc = run_json("summary", "-f", str(examples / "mobilenet_v3_small.keras"), "--format", "json")
    assert doc["total_params"] == keras_figures["total_params"] == 2_554_968
    assert doc["output_shape"] == keras_figures["output_shape"]
    assert doc["input_shape"] == [None, None, 3]
    assert doc["layers"][0]["output_shape"][:2] == [None, None]
    assert doc["total_macs"] is None and doc["estimated_total_bytes"] is None
    sized = run_json(
        "summary",
        "-f",
        str(examples / "mobilenet_v3_small.keras"),
        "--input",
        "224x224x3",
        "--format",
        "json",
    )
    assert sized["total_params"] == doc["total_params"] and sized["total_macs"] > 0
