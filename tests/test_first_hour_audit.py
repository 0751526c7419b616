"""Issue 26, the gaps an audit of the first-hour fixes found (notes/audit-26.md): each with the
behaviour a new user expects, checked against values known independently of cnncalc."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import cli


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


# --------------------------------------------------------------- item 5: -o's ending decides


@pytest.mark.parametrize("command", ["summary", "counters", "memory"])
@pytest.mark.parametrize("ending", [".pdf", ".png", ".svg", ".docx", ".xlsx", ".foo"])
def test_a_table_command_refuses_an_ending_it_cannot_write(tmp_path: Path, command: str, ending: str) -> None:
    target = tmp_path / f"out{ending}"
    result = invoke(command, "--model", "lenet5", "-o", str(target))
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"not {ending}" in errors[0] and ".txt, .json" in errors[0], result.stderr
    assert not target.exists() and "wrote" not in result.stderr


def test_the_ending_names_the_format_and_a_contradiction_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "r.txt"
    assert invoke("summary", "--model", "lenet5", "-o", str(text)).exit_code == 0
    assert "61,706" in text.read_text() and not text.read_text().startswith("{")  # LeNet-5: 61,706 params
    clash = invoke("summary", "--model", "lenet5", "--format", "json", "-o", str(tmp_path / "x.txt"))
    assert clash.exit_code == 2 and "--format json contradicts -o" in clash.stderr
    assert not (tmp_path / "x.txt").exists()
    csv = tmp_path / "c.csv"  # counters writes no CSV: the ending is refused, naming what it writes
    refused = invoke("counters", "--model", "lenet5", "-o", str(csv))
    assert refused.exit_code == 2 and ".txt, .json, .md or .markdown" in refused.stderr and not csv.exists()
    memory = tmp_path / "m.json"
    assert invoke("memory", "--model", "lenet5", "-o", str(memory)).exit_code == 0
    assert memory.read_text().lstrip().startswith("{")
    plain = tmp_path / "report"  # no ending: --format (here its default) decides
    assert invoke("summary", "--model", "lenet5", "-o", str(plain)).exit_code == 0
    assert "61,706" in plain.read_text()


def test_export_writes_python_only_to_a_py_file(tmp_path: Path) -> None:
    keras_file = tmp_path / "e.keras"
    result = invoke(
        "export", "--to", "pytorch", "--model", "lenet5", "--convention", "pytorch", "-o", str(keras_file)
    )
    assert result.exit_code == 2 and "written as .py" in result.stderr and "not .keras" in result.stderr
    assert not keras_file.exists()
    code = tmp_path / "e.py"
    done = invoke("export", "--to", "keras", "--model", "lenet5", "-o", str(code))
    assert done.exit_code == 0 and "import keras" in code.read_text()


# ------------------------------------------------- item 11: PyTorch's class names everywhere

NET = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        return self.pool(self.conv1(x))
"""


def test_diagram_boxes_name_the_torch_class_under_pytorch(tmp_path: Path) -> None:
    # torch.nn.Conv2d.__name__ == "Conv2d", torch.nn.MaxPool2d.__name__ == "MaxPool2d";
    # Keras: keras.layers.Conv2D, keras.layers.MaxPooling2D
    layers = ("--input", "3x32x32", "conv:6,5", "maxpool:2")
    torch_svg, keras_svg = tmp_path / "t.svg", tmp_path / "k.svg"
    assert invoke("diagram", "--convention", "pytorch", *layers, "-o", str(torch_svg)).exit_code == 0
    svg = torch_svg.read_text()
    assert ">Conv2d<" in svg and ">MaxPool2d<" in svg and "Conv2D" not in svg and "MaxPooling2D" not in svg
    keras_layers = ("--input", "32x32x3", "conv:6,5", "maxpool:2")
    assert invoke("diagram", *keras_layers, "-o", str(keras_svg)).exit_code == 0
    assert ">Conv2D<" in keras_svg.read_text() and ">MaxPooling2D<" in keras_svg.read_text()
    report = tmp_path / "r.html"
    assert invoke("summary", "--convention", "pytorch", *layers, "-o", str(report)).exit_code == 0
    figure = report.read_text().split('<figure class="diagram"', 1)[1].split("</figure>", 1)[0]
    assert ">Conv2d<" in figure and ">MaxPool2d<" in figure and "Conv2D" not in figure


def test_explain_window_heading_names_the_torch_class() -> None:
    result = invoke("explain", "--window", "--convention", "pytorch", "--input", "1x5x5", "conv2d(1,1,3)")
    assert result.exit_code == 0 and result.stdout.startswith("0 (Conv2d): output [0, 0]"), result.stdout
    keras = invoke("explain", "--window", "--input", "5x5x1", "conv:1,3")
    assert keras.exit_code == 0 and "(Conv2D): output [0, 0]" in keras.stdout.splitlines()[0]


def test_errors_on_pytorch_code_name_the_torch_class(tmp_path: Path) -> None:
    net = tmp_path / "net.py"
    net.write_text(NET)
    result = invoke("summary", "-f", str(net), "--input", "3x32")
    assert result.exit_code == 2 and "Conv2d expects a rank-3 input" in result.stderr, result.stderr
    pool = invoke("summary", "--convention", "pytorch", "--input", "3x32", "maxpool:2")
    assert "MaxPool2d expects a rank-3 input" in pool.stderr
    keras = invoke("summary", "--input", "3x32", "conv:3,3")
    assert keras.exit_code == 2 and "Conv2D expects a rank-3 input" in keras.stderr
    one = invoke("summary", "--convention", "pytorch", "--input", "8", "conv2d(3,4,3)")
    assert "Conv2d expects a rank-3 input" in one.stderr and "got 1 axis 8" in one.stderr, one.stderr


# ------------------------------------------- item 15: check says an unreadable spec once


def test_check_with_merged_streams_says_an_error_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.json"  # a 5x5 kernel on a 4x4 input: no output (4 - 5 + 1 = 0)
    bad.write_text('{"input_shape": [4, 4, 1], "layers": ["conv:8,5"], "total_params": 1}')
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [sys.executable, "-m", "cnncalc", "check", "bad.json"]
    merged = subprocess.run(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    text = merged.stdout.decode()
    assert merged.returncode == 2 and text.count("kernel 5 is larger than the input 4") == 1, text
    assert "0 passed, 0 failed, 1 error" in text
    log = tmp_path / "log.txt"  # `&> log.txt`: one file for both
    with log.open("wb") as handle:
        assert subprocess.run(command, cwd=tmp_path, env=env, stdout=handle, stderr=handle).returncode == 2
    assert log.read_text().count("kernel 5 is larger than the input 4") == 1, log.read_text()
    apart = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True)  # two readers: each told
    assert apart.returncode == 2 and b"ERROR bad.json" in apart.stdout and b"Error: bad.json" in apart.stderr


# ----------------------------------------- item 2: check of model code says how to gate it

NO_SAMPLE = NET  # a Net with no sample input: its shape comes from --input


def test_check_of_model_code_without_a_sample_input_says_how_to_gate_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    Path("net.py").write_text(NO_SAMPLE)
    result = invoke("check", "net.py")
    assert result.exit_code == 2
    said = result.stdout + result.stderr
    assert "--expect" in said and "--input SHAPE" in said and "net.cnncalc.json" in said, said
    assert "--allow-empty" not in said  # it would let a gate that checks nothing pass
    given = invoke("check", "net.py", "--input", "3x32x32")
    assert given.exit_code == 2
    assert "cnncalc check net.py --input 3x32x32 --expect net.cnncalc.json" in given.stderr, given.stderr
    # the commands it names work: snapshot, then gate (Conv2d(3, 6, 5): 3*6*5*5 + 6 = 456 params)
    snapshot = invoke("summary", "-f", "net.py", "--input", "3x32x32", "--format", "json")
    Path("net.cnncalc.json").write_text(snapshot.stdout)
    assert '"total_params": 456' in snapshot.stdout
    gated = invoke("check", "net.py", "--input", "3x32x32", "--expect", "net.cnncalc.json")
    assert gated.exit_code == 0 and "PASS" in gated.stdout


def test_a_spec_with_nothing_to_check_still_hints_allow_empty(tmp_path: Path) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text('{"input_shape": [8, 8, 1], "layers": ["conv:8,3"]}')
    result = invoke("check", str(bare))
    assert result.exit_code == 2 and "Hint: --allow-empty" in result.stderr


@pytest.mark.slow
def test_pre_commit_model_hook_gates_model_code(tmp_path: Path) -> None:
    # docs/ci.md's cnncalc-check-model hook, run for real by pre-commit on a project holding model
    # code and its snapshot (this clone's HEAD as the hook repository; skipped without pre-commit).
    import os
    import shutil
    import subprocess

    root = Path(__file__).resolve().parent.parent
    pre_commit = shutil.which("pre-commit")
    if pre_commit is None or not (root / ".git").exists():
        pytest.skip("pre-commit (pip install pre-commit) and a git clone of cnncalc are needed")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / "net.py").write_text(NO_SAMPLE)
    (project / "net.cnncalc.json").write_text(
        invoke("summary", "-f", str(project / "net.py"), "--input", "3x32x32", "--format", "json").stdout
    )
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {root}\n    rev: {head.stdout.strip()}\n    hooks:\n"
        "      - id: cnncalc-check-model\n"
        "        args: [net.py, --input, 3x32x32, --expect, net.cnncalc.json]\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def hook() -> subprocess.CompletedProcess[str]:
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run([*git, "add", "-A"], cwd=project, check=True)
        command = [pre_commit, "run", "cnncalc-check-model", "--all-files"]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=900)

    subprocess.run(["git", "init", "-q", str(project)], check=True)
    ok = hook()
    assert ok.returncode == 0 and "Passed" in ok.stdout, ok.stdout + ok.stderr
    (project / "net.py").write_text(NO_SAMPLE.replace("nn.Conv2d(3, 6, 5)", "nn.Conv2d(3, 8, 5)"))
    bad = hook()  # 3*8*5*5 + 8 = 608 params where the snapshot has 3*6*5*5 + 6 = 456
    assert bad.returncode == 1 and "Failed" in bad.stdout and "FAIL" in bad.stdout, bad.stdout
    assert "456" in bad.stdout and "608" in bad.stdout


# ------------------------------------- item 1: any order of the axes that fits is suggested


@pytest.mark.parametrize("given", ["32x3x32", "32x32x3"])
def test_pytorch_code_gets_the_order_whose_channels_fit(tmp_path: Path, given: str) -> None:
    # nn.Conv2d(3, 6, 5) takes 3 channels first: of the orders of {32, 32, 3} only 3x32x32 fits
    net = tmp_path / "net.py"
    net.write_text(NET)
    result = invoke("summary", "-f", str(net), "--input", given)
    assert result.exit_code == 2
    assert "Hint: PyTorch reads C x H x W: did you mean --input 3x32x32?" in result.stderr, result.stderr
    assert "use in_channels=32" not in result.stderr
    spec = invoke("summary", "--convention", "pytorch", "--input", given, "conv2d(3,6,5)")
    assert "did you mean --input 3x32x32?" in spec.stderr, spec.stderr


@pytest.mark.parametrize("given", ["28x1x28", "1x28x28"])
def test_keras_models_get_the_order_whose_sizes_fit(given: str) -> None:
    # examples/model.keras: Input(shape=(28, 28, 1)), then Conv2D(8, 3) (80 params = 3*3*1*8 + 8):
    # a 1 on a spatial axis is smaller than the 3x3 kernel; only 28x28x1 fits
    model = Path(__file__).resolve().parent.parent / "examples" / "model.keras"
    result = invoke("summary", "-f", str(model), "--input", given)
    assert result.exit_code == 2
    assert "Hint: this model reads H x W x C: did you mean --input 28x28x1?" in result.stderr, result.stderr
    spec = invoke("summary", "--input", "32x3x32", "conv:16,5")  # 5x5 kernel: 3 cannot be spatial
    assert "did you mean --input 32x32x3?" in spec.stderr, spec.stderr


# --------------------------------------------------------------- item 12: narrow terminals


@pytest.mark.parametrize("width", [60, 40])
def test_the_symbols_legend_wraps_once_under_its_start(width: int) -> None:
    args = ("explain", "--input", "32x32x3", "conv:8,3", "maxpool:2")
    wide = invoke(*args).stdout.splitlines()  # piped: wrapped at 80 columns
    narrow = invoke(*args, "--width", str(width)).stdout.splitlines()

    def legend(lines: list[str]) -> list[str]:
        start = next(i for i, line in enumerate(lines) if line.startswith("   Symbols: "))
        end = lines.index("", start)
        return lines[start:end]

    lines = legend(narrow)
    assert len(lines) > len(legend(wide))  # it was wrapped again, not cut
    assert " ".join(" ".join(legend(wide)).split()) == " ".join(" ".join(lines).split())  # same words
    lead = " " * len("   Symbols: ")
    for line, following in zip(lines, lines[1:], strict=False):
        assert len(line) <= width, line
        assert following.startswith(lead) and following[len(lead)] not in " ·", following
        # greedy, so never ragged: the next line's first word would not have fitted on this one
        assert len(line) + 1 + len(following.split()[0]) > width, (line, following)


def test_top_level_help_fits_80_columns() -> None:
    result = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    assert 'eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)"' in result.stdout  # the command whole


def test_the_check_table_fits_40_columns(tmp_path: Path) -> None:
    import json

    seed = ("--input", "32x32x3", "conv:8,3", "maxpool:2", "flatten", "dense:10")
    doc = json.loads(invoke("summary", *seed, "--format", "json").stdout)
    # 3*3*3*8 + 8 = 224; pool to 15x15x8 = 1800; dense 1800*10 + 10 = 18,010: 18,234 in all
    assert doc["total_params"] == 18234
    doc["total_params"] = 5
    spec = tmp_path / "c.json"
    spec.write_text(json.dumps(doc))
    wide = invoke("check", str(spec)).stdout
    assert any(len(line) > 40 for line in wide.splitlines() if line.startswith(" "))  # it needs room
    screen = invoke("check", "--width", "40", str(spec)).stdout
    table = [line for line in screen.splitlines() if line.startswith((" ", "─"))]
    assert table and max(len(line) for line in table) <= 40, screen
    words = screen.split()
    assert "total_params" in words and "5" in words and "18,234" in words


# ------------------------------------------------------------ item 6: ONNX is discoverable


def test_the_readme_and_the_file_option_name_onnx() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "ONNX" in readme and "-f model.onnx" in readme
    for command in ("summary", "explain", "diagram", "counters"):
        page = " ".join(CliRunner().invoke(cli, [command, "--help"], env={"COLUMNS": "200"}).stdout.split())
        option = page[page.index("-f, --file") :].split(" --", 2)[1]  # -f's own help text
        assert "ONNX .onnx" in option, (command, option)
