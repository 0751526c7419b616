"""The smaller first-ten-minutes fixes, each against a value derived by hand or a stated rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
from cnncalc import zoo

from .helpers import error_lines, run, run_json

ROOT = Path(__file__).resolve().parent.parent
TWO_INPUTS = json.dumps(
    {
        "inputs": [{"name": "image", "shape": [8, 8, 3]}, {"name": "mask", "shape": [8, 8, 3]}],
        "layers": [{"type": "add", "name": "sum", "inputs": ["image", "mask"]}, "conv:4,3"],
    }
)


def test_two_input_graph_shows_both_inputs() -> None:
    out = run("summary", "-f", "-", input=TWO_INPUTS).stdout
    assert "Shape flow: 8x8x3 + 8x8x3 → 8x8x3 → 6x6x4" in out  # add keeps 8x8x3; a valid 3x3 conv gives 6x6x4
    explained = run("explain", "-f", "-", input=TWO_INPUTS).stdout
    assert "inputs image 8x8x3, mask 8x8x3" in explained.splitlines()[0]


def test_small_max_memory_is_shown_in_a_unit_that_reads() -> None:
    result = run("verify", "--input", "64x64x3", "conv:8,3", "--max-memory", "1000000")
    assert result.exit_code == 2
    assert "more than --max-memory 976.56 KiB" in result.stderr  # 1,000,000 / 1024 = 976.5625
    assert "0.00 GiB" not in result.stderr


def test_verify_json_type_is_the_summary_type() -> None:
    args = ["--input", "8x8x1", "conv:2,3", "maxpool:2"]
    verified = run_json("verify", *args)
    summary = run_json("summary", *args)
    assert (
        [r["type"] for r in verified["layers"]]
        == [r["type"] for r in summary["layers"]]
        == [
            "conv2d",
            "maxpooling2d",
        ]
    )
    assert [r["class_name"] for r in verified["layers"]] == ["Conv2D", "MaxPooling2D"]


def test_receptive_field_start_has_one_form() -> None:
    layers = run_json("summary", "--input", "32x32x3", "conv:8,3", "maxpool:2")["layers"]
    # Araujo et al.: start = start_in + ((F - 1)/2 - P)*j_in: conv 0 + 1*1 = 1, pool 1 + 0.5*1 = 1.5.
    assert layers[0]["receptive_field"] == {"size": [3, 3], "jump": [1, 1], "start": [1, 1]}
    assert isinstance(layers[0]["receptive_field"]["start"][0], int)
    assert layers[1]["receptive_field"]["start"] == [1.5, 1.5]


def test_kinds_lists_a_kinds_arguments() -> None:
    out = run("kinds", "conv").stdout.splitlines()
    assert out[0].startswith("conv2d (Conv2D)")
    assert out[1:4] == [
        "  1. filters: required",
        "  2. kernel_size (also kernel): required",
        "  3. strides (also stride): default 1",
    ]
    assert '  4. padding: default "valid"' in out
    assert "sigmoid" in run("kinds", "sigmoid").stdout
    bad = run("kinds", "nope")
    assert bad.exit_code == 2 and "unknown layer kind 'nope'" in error_lines(bad.stderr)[0]
    assert "cnncalc kinds KIND" in run("kinds").stdout


def test_name_in_compact_specs() -> None:
    doc = run_json("summary", "--input", "8x8x1", "conv:4,3,name=stem", "dense:2,name=head")
    assert [layer["name"] for layer in doc["layers"]] == ["stem", "head"]
    bad = run("summary", "--input", "8x8x1", "conv:4,3,name=1")
    assert bad.exit_code == 2 and "name must be a word" in bad.stderr


def test_repr_of_a_summary_is_one_short_line() -> None:
    s = cnncalc.summarize(zoo.load("resnet50"))
    text = repr(s)
    assert "\n" not in text and len(text) < 300
    assert (
        "name='resnet50'" in text and "total_params=25636712" in text
    )  # Keras: 25,636,712 params, 177 layers with the InputLayer
    assert "layers=176" in text and repr(s.layers[0]).startswith("LayerRow(0, 'conv1_pad', ZeroPadding2D")


def test_shell_completion_offers_model_names() -> None:
    from click.testing import CliRunner

    from cnncalc.cli import cli

    env = {
        "_CNNCALC_COMPLETE": "bash_complete",
        "COMP_WORDS": "cnncalc summary --model res",
        "COMP_CWORD": "3",
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="cnncalc")
    assert result.stdout.split() == ["plain,resnet18", "plain,resnet50"]
    page = (ROOT / "docs" / "cli.md").read_text()
    for shell in ("bash_source", "zsh_source", "fish_source"):
        assert f"_CNNCALC_COMPLETE={shell} cnncalc" in page


def test_docs_name_the_program_and_only_real_options() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    assert "Usage: cli " not in page and "Usage: cnncalc [OPTIONS] COMMAND" in page
    readme = (ROOT / "README.md").read_text()
    assert "diagram --format" not in readme and "tests/fixtures" not in readme


@pytest.mark.parametrize(
    "line", [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("cnncalc ")]
)
def test_readme_commands_parse(line: str, tmp_path: Path, monkeypatch) -> None:
    """Every README command line runs (in an empty directory; files it reads are written first)."""
    import shlex

    monkeypatch.chdir(tmp_path)
    words = shlex.split(line.split(" > ")[0].split(" | ")[0])
    if "-f" in words and words[words.index("-f") + 1] == "model.json" or "check" in words:
        spec = run(
            "summary",
            "--input",
            "32x32x3",
            "conv:8,3",
            "maxpool:2",
            "flatten",
            "dense:10",
            "--format",
            "json",
        )
        (tmp_path / "model.json").write_text(spec.stdout)
        (tmp_path / "model.cnncalc.json").write_text(spec.stdout)
    examples = ROOT / "tests" / "fixtures" / "model_code"  # model code: the course seed, network3
    for name, example in (("conv-dims.py", "conv_dims.py"), ("network.py", "network3_mnist.py")):
        if name in words:
            (tmp_path / name).write_text((examples / example).read_text())
    if "model.keras" in words:  # a saved Keras model: the repository's Keras-written fixture
        (tmp_path / "model.keras").write_bytes(
            (ROOT / "tests" / "fixtures" / "keras" / "nested.keras").read_bytes()
        )
    if "model.onnx" in words:  # an ONNX file exported by torch (examples/, tools/make_examples.py)
        (tmp_path / "model.onnx").write_bytes((ROOT / "examples" / "model.onnx").read_bytes())
    if "--trace" in words or "--torch" in words:  # dev-only: builds the model with torch (issue 23)
        pytest.importorskip("torch")
        if "timm:resnet50d" in words:
            pytest.importorskip("timm")
        code = (ROOT / "tests" / "fixtures" / "trace" / "cifar_net.py").read_text()  # the tutorial's Net
        (tmp_path / "model.py").write_text(code)
        traced = run("summary", "-f", "model.py", "--trace", "--input", "3x32x32", "--format", "json")
        (tmp_path / "model.expected.json").write_text(traced.stdout)
    result = run(*words[1:])
    assert result.exit_code == 0, (line, result.stderr)
