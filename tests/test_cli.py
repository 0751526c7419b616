"""The command line end to end: output, exit codes, one-line errors, pipes."""

from __future__ import annotations

import json

import pytest

from .helpers import error_lines, run, run_json, run_process

SEED = ["--input", "200x200x1", "conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"]


def test_summary_table_matches_keras() -> None:
    result = run("summary", *SEED)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "conv2d (Conv2D)" in out and "conv2d_1 (Conv2D)" in out
    assert "(None, 100, 100, 16)" in out and "(None, 100, 100, 32)" in out
    assert "4,640" in out
    assert "Total params: 4,720 (18.44 KB)" in out  # 4720*4 bytes / 1024, as Keras prints it
    assert "Non-trainable params: 0 (0.00 B)" in out
    assert "Convention: keras" in out


def test_summary_json_contract() -> None:
    doc = run_json("summary", *SEED)
    assert doc["input_shape"] == [200, 200, 1] and doc["output_shape"] == [100, 100, 32]
    first = doc["layers"][0]
    assert first["name"] == "conv2d" and first["type"] == "conv2d"
    assert first["config"]["kernel_size"] == [2, 2] and first["config"]["strides"] == [2, 2]
    assert first["config"]["activation"] == "relu"
    assert (first["output_shape"], first["params"], first["trainable_params"]) == ([100, 100, 16], 80, 80)
    assert (doc["total_params"], doc["trainable_params"], doc["non_trainable_params"]) == (4720, 4720, 0)


def test_json_round_trip_through_stdin() -> None:
    first = run("summary", *SEED, "--format", "json")
    again = run("summary", "-f", "-", input=first.stdout)
    assert again.exit_code == 0, again.stderr
    assert again.stdout == run("summary", *SEED).stdout
    assert run("summary", "-f", "-", "--format", "json", input=first.stdout).stdout == first.stdout


def test_markdown_and_csv() -> None:
    md = run("summary", *SEED, "--format", "markdown").stdout
    assert "| conv2d_1 (Conv2D) | (None, 100, 100, 32) | 4,640 |" in md
    csv = run("summary", *SEED, "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("name,type,output_shape,params")
    assert csv[2].startswith("conv2d_1,conv2d,100x100x32,4640,4640,0")


def test_seed_pooling_and_theano_layer() -> None:
    assert run_json("summary", "--input", "100x100x15", "maxpool:2,2")["output_shape"] == [50, 50, 15]
    assert run_json("summary", "--input", "100x100x15", "maxpool:2,1")["output_shape"] == [99, 99, 15]
    doc = run_json(
        "summary", "--data-format", "channels_first", "--input", "1x28x28", "conv:20,5", "maxpool:2"
    )
    assert [layer["output_shape"] for layer in doc["layers"]] == [[20, 24, 24], [20, 12, 12]]
    assert doc["total_params"] == 520


def test_conventions_from_the_cli() -> None:
    assert run("summary", "--input", "32x32x1", "conv:8,3,2,dilation=2").exit_code == 2
    doc = run_json("summary", "--convention", "pytorch", "--input", "1x32x32", "conv:8,3,2,1,dilation=2")
    assert doc["output_shape"] == [8, 15, 15] and doc["convention"] == "pytorch"
    assert run("summary", "--convention", "pytorch", "--input", "1x32x32", "conv:8,3,2,same").exit_code == 2


def test_spec_file_settings_and_cli_override(tmp_path) -> None:
    spec = tmp_path / "m.json"
    spec.write_text(
        json.dumps(
            {
                "input_shape": [3, 32, 32],
                "convention": "pytorch",
                "layers": [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": 1}, "bn"],
            }
        )
    )
    doc = run_json("summary", "-f", str(spec))
    assert (
        doc["output_shape"] == [8, 32, 32]
        and doc["total_buffers"]
        == 17  # BatchNorm2d(8).buffers(): running mean 8 + var 8 + num_batches_tracked 1
        and doc["total_params"] == 8 * 9 * 3 + 8 + 2 * 8
    )
    doc = run_json("summary", "-f", str(spec), "--input", "3x16x16")
    assert doc["output_shape"] == [8, 16, 16]


BAD_INPUTS = [
    (["summary", "--input", "4x4x1", "conv:8,5"], "layer 1 (conv:8,5): kernel 5 is larger than the input 4"),
    (["summary", "--input", "0x0x1", "conv:8,3"], "--input 0x0x1: expected a positive integer, got 0"),
    (["summary", "--input", "-3x4x1", "conv:8,3"], "--input"),
    (["summary", "--input", "32x32x3", "conv:abc"], "layer 1 (conv:abc): filters: expected an integer"),
    (["summary", "--input", "32x32x3", "nosuchlayer:3"], "unknown layer kind 'nosuchlayer'"),
    (["summary", "--input", "32x32x3", "conv:8,3,stride=-1"], "strides: expected a positive integer, got -1"),
    (["summary", "--input", "32x32x3", "conv:8,3,filter=4"], "unknown argument 'filter'"),
    (["summary", "--input", "32x32x3", "conv:8,3,padding=sam"], "padding: expected valid, same"),
    (["summary", "--input", "32x32x3", "conv:8,3,activation=rleu"], "unknown activation 'rleu'"),
    (["summary", "--input", "32x32x3", "conv:8,3,padding=same,2"], "positional argument '2' after keyword"),
    (["summary", "--input", "32x32x3", "dense:10,2,3,4"], "dense takes at most 3 positional arguments"),
    (["summary", "--input", "32x32x3", "dropout:1.5"], "rate in [0, 1)"),
    (["summary", "--input", "32x32x3", "conv:8,3", "conv:4,40"], "layer 2 (conv:4,40)"),
    (["summary", "--input", "32x32", "conv:8,3"], "expects a rank-3 input"),
    (["summary", "conv:8,3"], "no input shape"),
    (["summary", "--input", "8x8x1"], "no layers"),
    (["summary", "-f", "/nonexistent.json"], "cannot read /nonexistent.json"),
    (["summary", "--input", "8x8x1", "conv:8,3", "--convention", "tf"], "Invalid value for '--convention'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = error_lines(result.stderr)
    # One line; Click's usage lines before it, or a computed hint after it.
    assert len(lines) == 1 and len(result.stderr.splitlines()) in (1, 2, 3), result.stderr
    assert message in lines[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"input_shape": [32, 32, 3], "layers": [', "<stdin>: bad JSON at line 1"),
        ("[1, 2]", "a spec must be a JSON object"),
        ('{"layers": "conv:8,3", "input_shape": [8, 8, 1]}', '"layers": a list'),
        ('{"layers": [], "input_shape": [8, 8, 1], "inputshape": 3}', "unknown top-level key 'inputshape'"),
        ('{"layers": [{"filters": 8}], "input_shape": [8, 8, 1]}', 'needs "type"'),
        (
            '{"layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "filter": 2}], "input_shape": [8,8,1]}',
            "layer 1 (",
        ),
        (
            '{"layers": [{"type": "conv2d", "filters": 8.5, "kernel_size": 3}], "input_shape": [8,8,1]}',
            "filters: expected an integer, got 8.5",
        ),
        (
            '{"layers": [{"type": "conv2d", "filters": true, "kernel_size": 3}], "input_shape": [8,8,1]}',
            "filters: expected an integer, got True",
        ),
        (
            '{"layers": ["conv:8,3"], "input_shape": [8, 8, 1], "convention": "caffe"}',
            "convention must be one of",
        ),
        ('{"layers": ["conv:8,3"], "input_shape": "big"}', "input shape 'big'"),
    ],
)
def test_bad_json_specs(text: str, message: str) -> None:
    result = run("summary", "-f", "-", input=text)
    assert result.exit_code == 2, result.stdout
    assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_null_means_default_and_ignored_keras_keys() -> None:
    spec = {
        "input_shape": [8, 8, 1],
        "layers": [
            {
                "type": "conv2d",
                "filters": 4,
                "kernel_size": 3,
                "strides": None,
                "kernel_initializer": {"class_name": "GlorotUniform"},
                "dtype": "float32",
            }
        ],
    }
    assert run_json("summary", "-f", "-", input=json.dumps(spec))["output_shape"] == [6, 6, 4]


def test_real_process_errors_have_no_traceback() -> None:
    for args in (["summary", "--input", "4x4x1", "conv:8,5"], ["summary", "-f", "-"]):
        proc = run_process(*args, input='{"input_shape": [32, 32, 3], "layers": [')
        assert proc.returncode == 2
        lines = proc.stderr.splitlines()
        assert "Traceback" not in proc.stderr and lines[0].startswith("Error: ")
        assert all(line.startswith("Hint: ") for line in lines[1:]) and len(lines) <= 2


def test_summary_never_imports_numpy() -> None:
    code = (
        "import sys\nfrom cnncalc.cli import cli\n"
        "try:\n    cli(['summary', '--input', '200x200x1', 'conv:16,2,2,valid', 'maxpool:2'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('numpy' in sys.modules)\n"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_python_m_and_version() -> None:
    proc = run_process("--version")
    assert proc.returncode == 0 and "cnncalc" in proc.stdout
    proc = run_process("summary", *SEED, "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["total_params"] == 4720


def test_kinds_lists_aliases() -> None:
    out = run("kinds").stdout
    assert "conv2d" in out and "maxpool" in out and "relu" in out
