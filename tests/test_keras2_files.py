"""Keras 2 (tf.keras / tf-keras) files as TensorFlow writes them, against Keras's own figures.

The fixtures (``.h5`` from ``model.save`` and ``.json`` from ``model.to_json()``) and their
``*.expected.json`` were written by tf-keras itself (``tools/keras2_files.py --fixtures``); nothing
here needs TensorFlow except the dev-only test at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.io.sources import read_spec

from .helpers import run, run_json

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "keras2"
#: the models whose every layer cnncalc reads (the others hold a custom layer or a Lambda)
READ = [
    "cnn_sequential",
    "functional_branches",
    "transfer_small",
    "nested_blocks",
    "shared_layers",
    "tf_ops",
    "tf1_ops",
]


def expected(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.expected.json").read_text())


def differences(ours: dict, theirs: dict) -> list[str]:
    """Keras lists a layer once, with one output shape per call; cnncalc has one row per call
    (``name``, then ``name@1``, ...) and counts a shared layer's params on its first call."""
    rows = {row["name"]: row for row in ours["layers"]}
    problems = []
    for layer in theirs["layers"]:
        params = 0
        for call, shape in enumerate(layer["output_shapes"]):
            row = rows.get(layer["name"] if call == 0 else f"{layer['name']}@{call}")
            if row is None:
                problems.append(f"no row for {layer['name']} call {call}")
                continue
            if row["output_shape"] != shape:
                problems.append(f"{layer['name']}: shape {row['output_shape']} != {shape}")
            params += row["params"]
        if params != layer["params"]:
            problems.append(f"{layer['name']}: params {params} != {layer['params']}")
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        if ours[key] != theirs[key]:
            problems.append(f"{key} {ours[key]} != {theirs[key]}")
    return problems


@pytest.mark.parametrize("ext", ["json", "h5"])
@pytest.mark.parametrize("name", READ)
def test_every_layer_matches_tf_keras(name: str, ext: str) -> None:
    if ext == "h5":
        pytest.importorskip("h5py")
    ours = run_json("summary", "-f", str(FIXTURES / f"{name}.{ext}"))
    assert differences(ours, expected(name)) == []


def test_the_fixtures_hold_the_keras2_details() -> None:
    """What each fixture is for, in the files tf-keras wrote (not in our reading of them)."""

    def layers(name: str) -> list[dict]:
        return json.loads((FIXTURES / f"{name}.json").read_text())["config"]["layers"]

    depthwise = [layer for layer in layers("cnn_sequential") if "Depthwise" in layer["class_name"]]
    assert depthwise and depthwise[0]["config"]["groups"] == 1  # "groups" on DepthwiseConv2D
    nested = {layer["name"]: layer for layer in layers("nested_blocks")}
    assert nested["block3"]["inbound_nodes"] == [[["body", 1, 0, {}]]]  # a nested model's node 1
    ops = [layer for layer in layers("tf_ops") if layer["class_name"] in ("TFOpLambda", "SlicingOpLambda")]
    assert len(ops) >= 6 and all(isinstance(layer["inbound_nodes"][0][0], str) for layer in ops)
    old_ops = [layer for layer in layers("tf1_ops") if layer["class_name"] == "TensorFlowOpLayer"]
    assert {layer["config"]["node_def"]["op"] for layer in old_ops} >= {
        "AddV2",
        "Relu6",
        "Mul",
        "StridedSlice",
    }
    shared = {layer["name"]: layer for layer in layers("shared_layers")}
    assert len(shared["shared_conv"]["inbound_nodes"]) == 2
    calls = {layer["name"]: len(layer["output_shapes"]) for layer in expected("shared_layers")["layers"]}
    assert calls["shared_conv"] == calls["shared_dense"] == 2


def test_a_shared_layer_is_one_row_per_call_with_params_once() -> None:
    ours = run_json("summary", "-f", str(FIXTURES / "shared_layers.json"))
    rows = {row["name"]: row for row in ours["layers"]}
    conv = next(layer for layer in expected("shared_layers")["layers"] if layer["name"] == "shared_conv")
    assert rows["shared_conv"]["params"] == conv["params"] == 4 * (3 * 3 * 1 + 1)
    assert rows["shared_conv@1"]["params"] == 0 and rows["shared_conv@1"]["shares"] == "shared_conv"
    assert rows["shared_conv@1"]["macs"] == rows["shared_conv"]["macs"] > 0  # each call computes
    back = cnncalc.summarize(cnncalc.parse(json.dumps(ours)))  # --format json reads back
    assert back.total_params == ours["total_params"]


def test_tf_ops_become_rows_that_exist() -> None:
    ours = run_json("summary", "-f", str(FIXTURES / "tf_ops.json"))
    kinds = {row["name"]: (row["type"], row["config"]) for row in ours["layers"]}
    assert kinds["tf.math.subtract"][0] == "operation"
    assert {k: kinds["tf.math.subtract"][1][k] for k in ("op", "operand")} == {
        "op": "subtract",
        "operand": 1.0,
    }
    assert kinds["tf.nn.relu6"] == ("activation", {"activation": "relu6"})
    assert kinds["tf.__operators__.getitem"] == ("slice", {"axis": 3, "start": 0, "stop": 4, "step": 1})


def test_tf2_0_op_layers_become_rows_that_exist() -> None:
    """TF 2.0 to 2.3 (and graph mode) record ``x + 3.0`` as a TensorFlowOpLayer with a NodeDef."""
    ours = run_json("summary", "-f", str(FIXTURES / "tf1_ops.json"))
    kinds = {row["name"]: (row["type"], row["config"]) for row in ours["layers"]}
    assert kinds["tf_op_layer_add"] == ("operation", {"op": "add", "operand": 3.0, "operand_first": False})
    assert kinds["tf_op_layer_Relu6"] == ("activation", {"activation": "relu6"})
    assert kinds["tf_op_layer_Maximum"][0] == "maximum"
    assert kinds["tf_op_layer_sub_1"][1] == {
        "op": "subtract",
        "operand": 2.0,
        "operand_first": True,
    }  # 2.0 - z
    assert [kinds[n][0] for n in kinds if n.startswith("tf_op_layer_strided_slice")] == ["slice", "slice"]


def test_a_shared_nested_model_expands_with_params_once(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "nested_blocks.json").read_text())
    layers = doc["config"]["layers"]
    block3 = next(layer for layer in layers if layer["name"] == "block3")
    block3["inbound_nodes"].append([["block3", 1, 0, {}]])  # block3 called again on its own output
    flat = next(layer for layer in layers if layer["name"] == "flat")
    flat["inbound_nodes"] = [[["block3", 2, 0, {}]]]
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(doc))
    folded = run_json("summary", "-f", str(path))
    expanded = run_json("summary", "-f", str(path), "--expand")
    assert folded["total_params"] == expanded["total_params"] == expected("nested_blocks")["total_params"]
    assert folded["total_macs"] == expanded["total_macs"]


def test_a_node_index_the_file_does_not_record_is_refused(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "nested_blocks.json").read_text())
    block3 = next(layer for layer in doc["config"]["layers"] if layer["name"] == "block3")
    block3["inbound_nodes"] = [[["body", 2, 0, {}]]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2
    assert "reads tensor 0 of call 2 of 'body'; only call 1, tensor 0 exists" in result.stderr


def test_groups_other_than_1_on_a_depthwise_layer_is_refused() -> None:
    layer = {"class_name": "DepthwiseConv2D", "config": {"kernel_size": 3, "groups": 2}}
    with pytest.raises(SpecError, match=r"groups=2 is not supported \(only 1\)"):
        cnncalc.parse({"input_shape": [8, 8, 4], "layers": [layer]})


# ----------------------------------------------------------------------------- dev-only


@pytest.mark.slow
def test_tf_keras_writes_what_the_fixtures_hold(tmp_path: Path) -> None:
    """Dev-only: tf-keras writes the files again and cnncalc reads every one as Keras counts it
    (needs TensorFlow and tf-keras; run with the interpreter that has them)."""
    pytest.importorskip("tf_keras")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "keras2_files.py"), str(tmp_path)], check=True, env=env
    )
    for name in READ:
        for ext in ("json", "h5"):
            summary = cnncalc.summarize(read_spec(str(tmp_path / f"{name}.{ext}")))
            theirs = json.loads((tmp_path / f"{name}.expected.json").read_text())
            assert differences(summary.to_dict(), theirs) == [], name


def test_keras_2_2_sequential_config_is_a_bare_list() -> None:
    """Standalone Keras <= 2.2 wrote a Sequential model's config as the list of its layers."""
    layers = [
        {
            "class_name": "Conv2D",
            "config": {
                "name": "c",
                "filters": 4,
                "kernel_size": [3, 3],
                "batch_input_shape": [None, 8, 8, 3],
            },
        },
        {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3]}},
        {"class_name": "Flatten", "config": {"name": "f"}},
    ]
    summary = cnncalc.summarize(cnncalc.parse(json.dumps({"class_name": "Sequential", "config": layers})))
    # hand derivation: conv 4*(3*3*3) + 4 = 112; BN 4 gamma, beta, mean, variance = 16; 6*6*4 = 144
    assert [(r.output_shape, r.params) for r in summary.layers] == [
        ((6, 6, 4), 112),
        ((6, 6, 4), 16),
        ((144,), 0),
    ]


def test_a_shared_layer_verifies_on_one_set_of_weights_and_explains_where_its_params_are() -> None:
    result = run("verify", "-f", str(FIXTURES / "shared_layers.json"))
    assert result.exit_code == 0, result.stdout + result.stderr
    explained = run("explain", "-f", str(FIXTURES / "shared_layers.json"))
    assert "the weights of shared_conv (counted on its row)" in explained.stdout


def test_tf_ops_cnncalc_has_no_row_for_are_opaque_where_recorded() -> None:
    """tf.concat and tf.reduce_mean: opaque rows in the JSON (the reader's build_config records
    their shapes), refused with the --trace hint in the .h5 (its model_config records none)."""
    ours = run_json("summary", "-f", str(FIXTURES / "tf_ops_unmapped.json"))
    assert differences(ours, expected("tf_ops_unmapped")) == []
    rows = {row["name"]: row for row in ours["layers"]}
    assert rows["tf.concat"]["opaque"] and rows["tf.concat"]["config"]["op"] == "TFOpLambda"
    assert rows["tf.concat"]["output_shape"] == [8, 8, 7] and rows["tf.math.reduce_mean"]["output_shape"] == [
        7
    ]
    pytest.importorskip("h5py")
    result = run("summary", "-f", str(FIXTURES / "tf_ops_unmapped.h5"))
    assert result.exit_code == 2 and "the TensorFlow op tf.concat" in result.stderr
    assert "Hint: --trace builds it with your installed Keras" in result.stderr
