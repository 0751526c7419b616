"""Keras files with layers cnncalc has no kind for (keras-hub blocks, a user's classes, Lambda):
opaque rows from what the file records, against Keras's own figures.

The fixtures were written by keras-hub and Keras 3 (``tools/keras_hub_files.py --fixtures``,
explicit constructor arguments, no presets) and by tf-keras (``tools/keras2_files.py``);
nothing here needs Keras except the dev-only test at the end.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.io.sources import read_spec

from .helpers import run, run_json

ROOT = Path(__file__).parent.parent
HUB = Path(__file__).parent / "fixtures" / "keras_hub"
KERAS2 = Path(__file__).parent / "fixtures" / "keras2"
BLOCKS = ["backbone_as_layer", "efficientnet_blocks", "mobilenet_blocks", "sequential_block"]
WHOLE = sorted(p.name[: -len(".config.json")] for p in HUB.glob("*.config.json"))


def expected(name: str, where: Path = HUB) -> dict:
    return json.loads((where / f"{name}.expected.json").read_text())


def differences(ours: dict, theirs: dict) -> list[str]:
    rows = {row["name"]: row for row in ours["layers"]}
    problems = []
    for layer in theirs["layers"]:
        row = rows.get(layer["name"])
        if row is None:
            problems.append(f"no row for {layer['name']}")
        elif (row["output_shape"], row["params"]) != (layer["output_shape"], layer["params"]):
            problems.append(f"{layer['name']}: {row['output_shape']}, {row['params']} != {layer}")
    if ours["total_params"] != theirs["total_params"]:
        problems.append(f"total {ours['total_params']} != {theirs['total_params']}")
    return problems


@pytest.mark.parametrize("name", BLOCKS)
def test_keras_hub_blocks_are_opaque_rows_with_keras_figures(name: str) -> None:
    ours = run_json("summary", "-f", str(HUB / f"{name}.keras"))
    theirs = expected(name)
    assert differences(ours, theirs) == []
    opaque = [row for row in ours["layers"] if row.get("opaque")]
    custom = [
        layer
        for layer in theirs["layers"]
        if layer["class_name"] not in ("GlobalAveragePooling2D", "Dense", "Conv2D", "Flatten")
    ]
    assert [row["name"] for row in opaque] == [layer["name"] for layer in custom]
    # the split is not in the file: all counted as trainable, and the summary says so
    assert ours["trainable_params"] + ours["non_trainable_params"] == theirs["total_params"]


def test_an_opaque_row_names_its_class_and_keeps_its_recorded_shapes() -> None:
    summary = cnncalc.summarize(read_spec(str(HUB / "efficientnet_blocks.keras")))
    fused = next(row for row in summary.layers if row.name == "fused")
    assert fused.config["op"] == "keras_hub>FusedMBConvBlock" or fused.config["op"].endswith(
        "FusedMBConvBlock"
    )
    assert fused.config["in_shapes"] == [[16, 16, 8]] and fused.output_shape == (8, 8, 16)
    assert any("all counted as trainable" in note for note in summary.notes)
    # another input size: the recorded shapes no longer hold, and the row says so
    result = run("summary", "-f", str(HUB / "efficientnet_blocks.keras"), "--input", "32x32x8")
    assert result.exit_code == 2 and "was recorded for input 16x16x8, got 32x32x8" in result.stderr


def test_keras3_legacy_h5_counts_from_model_weights() -> None:
    pytest.importorskip("h5py")
    ours = run_json("summary", "-f", str(HUB / "efficientnet_blocks.h5"))
    assert differences(ours, expected("efficientnet_blocks")) == []


@pytest.mark.parametrize("name", WHOLE)
def test_a_keras_hub_model_saved_whole_is_refused_by_name(name: str) -> None:
    result = run("summary", "-f", str(HUB / f"{name}.config.json"))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert f"keras_hub>{expected(name)['class_name']}" in lines[0]
    assert "holds only the arguments of its constructor" in lines[0]
    assert lines[1] == "Hint: --trace builds it with your installed Keras"


def test_the_issue_example_resnet_backbone() -> None:
    result = run("summary", "-f", str(HUB / "resnet_backbone.config.json"))
    assert "keras_hub>ResNetBackbone" in result.stderr and result.exit_code == 2


# ----------------------------------------------------------------------------- Keras 2 custom layers and Lambda


def test_lambda_is_an_opaque_row_when_its_consumer_records_the_shape() -> None:
    ours = run_json("summary", "-f", str(KERAS2 / "lambda_layers.json"))
    theirs = expected("lambda_layers", KERAS2)
    rows = {row["name"]: row for row in ours["layers"]}
    for layer in theirs["layers"]:
        assert rows[layer["name"]]["output_shape"] == layer["output_shapes"][0]
        assert rows[layer["name"]]["params"] == layer["params"]
    assert rows["double"]["opaque"] and rows["double"]["config"]["op"] == "Lambda"
    assert ours["total_params"] == theirs["total_params"]


def test_lambda_whose_shape_is_not_recorded_is_refused_with_the_trace_hint() -> None:
    pytest.importorskip("h5py")
    result = run("summary", "-f", str(KERAS2 / "lambda_layers.h5"))  # .h5 model_config: no build_config
    assert result.exit_code == 2
    assert (
        "layer 'double': a Lambda layer runs code cnncalc does not read, and the file does not record its output shape"
        in result.stderr
    )
    assert result.stderr.splitlines()[1] == "Hint: --trace builds it with your installed Keras"


def test_a_custom_layer_in_a_json_document_has_params_unknown() -> None:
    summary = cnncalc.summarize(read_spec(str(KERAS2 / "custom_layer.json")))
    theirs = expected("custom_layer", KERAS2)
    scale = next(row for row in summary.layers if row.name == "scale")
    keras_scale = next(layer for layer in theirs["layers"] if layer["name"] == "scale")
    assert list(scale.output_shape) == keras_scale["output_shapes"][0]
    assert scale.params == 0 and any("layer 'scale' (Scale): params unknown" in n for n in summary.notes)
    assert summary.total_params == theirs["total_params"] - keras_scale["params"]


def test_the_final_custom_layer_is_refused() -> None:
    result = run("summary", "-f", str(ROOT / "tests" / "fixtures" / "keras" / "custom_layer.keras"))
    assert result.exit_code == 2
    assert "(MyProject>Twice), and the file does not record its output shape" in result.stderr


def test_unknown_sizes_in_the_recorded_shape_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "free.keras"
    with zipfile.ZipFile(HUB / "efficientnet_blocks.keras") as source, zipfile.ZipFile(path, "w") as target:
        text = source.read("config.json").decode()
        target.writestr("config.json", text.replace("[null, 8, 8, 16]", "[null, null, null, 16]"))
        target.writestr("model.weights.h5", source.read("model.weights.h5"))
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2
    assert (
        "records its output shape as None x None x 16" in result.stderr and "Hint: --trace" in result.stderr
    )


# ----------------------------------------------------------------------------- the weights file


def _with_weights(tmp_path: Path, weights: bytes | None) -> Path:
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(HUB / "efficientnet_blocks.keras") as source, zipfile.ZipFile(path, "w") as target:
        target.writestr("config.json", source.read("config.json"))
        if weights is not None:
            target.writestr("model.weights.h5", weights)
    return path


def _real_weights() -> bytes:
    return zipfile.ZipFile(HUB / "efficientnet_blocks.keras").read("model.weights.h5")


@pytest.mark.parametrize(
    "damage, reason",
    [
        ("missing", "the .keras file holds no model.weights.h5"),
        ("not hdf5", "model.weights.h5 is not a readable HDF5 file"),
        ("truncated", "model.weights.h5 is not a readable HDF5 file"),
    ],
)
def test_missing_or_damaged_weights_leave_params_unknown(tmp_path: Path, damage: str, reason: str) -> None:
    pytest.importorskip("h5py")
    weights = {"missing": None, "not hdf5": b"not hdf5", "truncated": _real_weights()[:3000]}[damage]
    summary = cnncalc.summarize(read_spec(str(_with_weights(tmp_path, weights))))
    opaque = [row for row in summary.layers if row.opaque]
    assert [row.params for row in opaque] == [0, 0]
    assert sum(f"params unknown ({reason}" in note for note in summary.notes) == 2, summary.notes
    keras = {layer["name"]: layer["params"] for layer in expected("efficientnet_blocks")["layers"]}
    assert summary.total_params == keras["head"]  # the rest is known exactly


def test_only_metadata_is_read_never_the_data(tmp_path: Path) -> None:
    """Every dataset's bytes overwritten: the counts do not change (only shapes are read)."""
    h5py = pytest.importorskip("h5py")
    raw = bytearray(zipfile.ZipFile(HUB / "efficientnet_blocks.keras").read("model.weights.h5"))
    with h5py.File(io.BytesIO(bytes(raw)), "r") as handle:
        spans = []
        handle.visititems(
            lambda _, obj: (
                spans.append((obj.id.get_offset(), obj.id.get_storage_size()))
                if isinstance(obj, h5py.Dataset) and obj.id.get_offset() is not None
                else None
            )
        )
    assert spans
    for offset, size in spans:
        raw[offset : offset + size] = b"\xff" * size
    summary = cnncalc.summarize(read_spec(str(_with_weights(tmp_path, bytes(raw)))))
    assert summary.total_params == expected("efficientnet_blocks")["total_params"]


def test_the_weights_are_not_opened_without_a_custom_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnncalc.io import keras_weights

    def refuse(*args: object) -> str:
        raise AssertionError("model.weights.h5 opened")

    monkeypatch.setattr(keras_weights, "_walk", refuse)
    assert cnncalc.summarize(read_spec(str(ROOT / "tests" / "fixtures" / "keras" / "se_block.keras"))).layers


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_damaged_weights_never_fail(tmp_path: Path, data: st.DataObject) -> None:
    """Any damage to model.weights.h5: the summary still computes (params maybe unknown)."""
    pytest.importorskip("h5py")
    raw = bytearray(zipfile.ZipFile(HUB / "efficientnet_blocks.keras").read("model.weights.h5"))
    for _ in range(data.draw(st.integers(1, 16))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    result = run("summary", "-f", str(_with_weights(tmp_path, bytes(raw))), "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["layers"]}
    assert rows["fused"]["output_shape"] == [8, 8, 16]


_ODD = st.one_of(
    st.none(),
    st.integers(-3, 70),
    st.text(max_size=4),
    st.lists(st.none() | st.integers(-1, 9), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_odd_configs_fail_cleanly(data: st.DataObject) -> None:
    """Keys of a Keras 3 or Keras 2 document replaced by odd values: a result or a one-line error."""
    source = data.draw(
        st.sampled_from(
            [
                HUB / "efficientnet_blocks.keras",
                KERAS2 / "tf_ops.json",
                KERAS2 / "shared_layers.json",
                KERAS2 / "nested_blocks.json",
                KERAS2 / "tf1_ops.json",
            ]
        )
    )
    text = zipfile.ZipFile(source).read("config.json") if source.suffix == ".keras" else source.read_bytes()
    doc = json.loads(text)
    layers = doc["config"]["layers"]
    layer = layers[data.draw(st.integers(0, len(layers) - 1))]
    key = data.draw(
        st.sampled_from(
            ["inbound_nodes", "class_name", "config", "build_config", "name", "registered_name", "module"]
        )
    )
    layer[key] = data.draw(_ODD)
    result = run("summary", "-f", "-", "--format", "json", input=json.dumps(doc))
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 2:
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 2


# ----------------------------------------------------------------------------- dev-only


@pytest.mark.slow
def test_keras_hub_writes_what_the_fixtures_hold(tmp_path: Path) -> None:
    """Dev-only: keras-hub writes the files again; every block model reads as Keras counts it and
    every whole model is refused by name (needs keras-hub; run with the interpreter that has it)."""
    pytest.importorskip("keras_hub")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "keras_hub_files.py"), str(tmp_path)], check=True, env=env
    )
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "keras_hub_files.py"), "--check", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert check.returncode == 0, check.stdout
    assert "12 whole models refused by name, 0 wrong" in check.stdout


# ----------------------------------------------------------------------------- nested models


@pytest.mark.parametrize("expand", [False, True])
def test_custom_layers_inside_nested_models(expand: bool) -> None:
    """A custom layer last in a nested Sequential takes the nested model's recorded output; one
    inside a nested Functional model (read at node 0 by Keras 3.15) too; params from its group."""
    path = ROOT / "tests" / "fixtures" / "keras" / "nested_custom.keras"
    theirs = json.loads(path.with_name("nested_custom.expected.json").read_text())
    summary = cnncalc.summarize(read_spec(str(path)), expand=expand)
    assert summary.total_params == theirs["total_params"] == 308
    if not expand:
        rows = {row.name: row for row in summary.layers}
        for layer in theirs["layers"]:
            assert (list(rows[layer["name"]].output_shape), rows[layer["name"]].params) == (
                layer["output_shape"],
                layer["params"],
            )


@pytest.mark.parametrize("command", ["verify", "explain"])
def test_opaque_keras_rows_go_through_every_command(command: str) -> None:
    result = run(command, "-f", str(HUB / "efficientnet_blocks.keras"))
    assert result.exit_code == 0, result.stderr


def test_a_stored_weights_member_is_read_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """From a file, model.weights.h5 (stored, as Keras writes it) is read through a window on the
    file: the zip module's member reader (which reads everything it seeks past) is not used."""
    pytest.importorskip("h5py")
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: object, *args: object, **kwargs: object) -> object:
        opened.append(str(getattr(name, "filename", name)))
        return original(self, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    summary = cnncalc.summarize(read_spec(str(HUB / "efficientnet_blocks.keras")))
    assert summary.total_params == expected("efficientnet_blocks")["total_params"]
    assert "model.weights.h5" not in opened and "config.json" in opened


def test_a_weights_walk_that_hangs_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HDF5 library can spin on a damaged file: the walk runs in a child process, stopped."""
    pytest.importorskip("h5py")
    from cnncalc.io import keras_weights

    monkeypatch.setattr(keras_weights, "WEIGHTS_SECONDS", 0.001)
    summary = cnncalc.summarize(read_spec(str(HUB / "efficientnet_blocks.keras")))
    assert any("took longer than 0.001 s on model.weights.h5" in note for note in summary.notes)
