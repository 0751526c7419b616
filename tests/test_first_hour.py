"""Issue 26, the first hour: each friction a new user met, with the behaviour they expect."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cnncalc.cli import cli


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def on_terminal(*args: str, cwd: Path) -> str:
    """Run cnncalc with stdout and stderr on one pseudo-terminal; what the user sees."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", *args],
        stdout=slave,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def test_check_counts_one_error_in_the_singular(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"input_shape": [4, 4, 1], "layers": ["conv:8,5"], "total_params": 1}')
    result = invoke("check", str(bad))
    assert result.exit_code == 2
    assert "0 passed, 0 failed, 1 error" in result.stdout and "1 errors" not in result.stdout


def test_check_on_a_terminal_says_an_error_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"input_shape": [4, 4, 1], "layers": ["conv:8,5"], "total_params": 1}')
    screen = on_terminal("check", "--width", "200", str(bad), cwd=tmp_path)
    assert screen.count("kernel 5 is larger than the input 4") == 1, screen


def test_a_model_file_given_as_the_layer_argument_is_read(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    Path("m.json").write_text('{"input_shape": [200, 200, 1], "layers": ["conv:16,2,2,valid"]}')
    result = invoke("summary", "m.json")
    assert result.exit_code == 0 and "80" in result.stdout  # 16 * 2*2*1 + 16
    missing = invoke("summary", "net.py")
    assert missing.exit_code == 2
    assert "Hint: a model file is read with -f net.py (there is no file net.py here)" in missing.stderr
    mixed = invoke("summary", "--input", "8x8x1", "m.json", "conv:3,3")
    assert mixed.exit_code == 2 and "Hint: a model file is read with -f m.json" in mixed.stderr


def test_the_output_file_ending_chooses_the_format(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    assert invoke("summary", "--model", "lenet5", "-o", str(report)).exit_code == 0
    assert report.read_text().startswith("<!DOCTYPE html>")
    data = tmp_path / "r.json"
    assert invoke("summary", "--model", "lenet5", "-o", str(data)).exit_code == 0
    assert data.read_text().lstrip().startswith("{") and '"total_params": 61706' in data.read_text()
    clash = invoke("summary", "--model", "lenet5", "--format", "markdown", "-o", str(tmp_path / "x.json"))
    assert clash.exit_code == 2 and "--format markdown contradicts -o" in clash.stderr
    assert not (tmp_path / "x.json").exists()
    notes = tmp_path / "c.md"
    assert invoke("counters", "--model", "lenet5", "-o", str(notes)).exit_code == 0
    assert notes.read_text().startswith("| layer |")


def test_diagram_refuses_an_ending_it_cannot_write(tmp_path: Path) -> None:
    jpg = tmp_path / "d.jpg"
    result = invoke("diagram", "--model", "lenet5", "-o", str(jpg))
    assert result.exit_code == 2 and "written as .svg, .png or .pdf" in result.stderr
    assert not jpg.exists()


def test_diagram_pdf_is_a_pdf_or_a_clear_refusal(tmp_path: Path) -> None:
    from cnncalc.render.raster import converters

    pdf = tmp_path / "d.pdf"
    result = invoke("diagram", "--model", "lenet5", "-o", str(pdf))
    if converters():
        assert result.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")
    else:
        assert result.exit_code == 2 and "PDF output needs an SVG converter" in result.stderr
        assert not pdf.exists()


def test_help_lists_every_command_without_cutting_a_description() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    commands = result.stdout.split("Commands:")[1]
    assert "..." not in commands
    assert all(name in commands for name in ("summary", "solve", "help", "kinds"))
    assert "_CNNCALC_COMPLETE=bash_source" in result.stdout  # completion is found from the top


def test_help_command_shows_a_commands_help() -> None:
    assert invoke("help", "solve", "layer").stdout == invoke("solve", "layer", "--help").stdout
    assert invoke("help", "summary").stdout == invoke("summary", "--help").stdout
    unknown = invoke("help", "nosuch")
    assert unknown.exit_code == 2 and "no such command: nosuch" in unknown.stderr


def test_kinds_are_aligned_whatever_the_longest_name() -> None:
    lines = [line for line in invoke("kinds").stdout.splitlines() if not line.startswith("`")]
    # every Keras class name starts in the same column
    from cnncalc.layers import KINDS

    columns = {line.index(" " + kind.class_name) for kind, line in zip(KINDS, lines, strict=False)}
    assert len(columns) == 1, columns


def test_convention_torch_is_pytorch() -> None:
    # nn.Conv2d(3, 8, 3): 3*3*3*8 + 8 = 224 params; 32 -> 30 under either rule
    result = invoke("summary", "--convention", "torch", "--input", "3x32x32", "conv2d:3,8,3")
    assert result.exit_code == 0 and "Convention: pytorch" in result.stdout and "224" in result.stdout
    from cnncalc.enums import Convention

    assert Convention.parse("Torch", "convention") is Convention.PYTORCH
    assert Convention.parse("tf.keras", "convention") is Convention.KERAS


FIXTURES = Path(__file__).parent / "fixtures" / "model_code"


def test_check_gates_the_model_code_itself(tmp_path: Path) -> None:
    # The PyTorch CIFAR tutorial's Net: 62,006 parameters (torch's sum(p.numel()), written by
    # make_expected.py); a snapshot of it passes, and the same check fails once the code changes.
    net = tmp_path / "net.py"
    net.write_text((FIXTURES / "pytorch_cifar_tutorial.py").read_text())
    snap = tmp_path / "net.cnncalc.json"
    made = invoke("summary", "-f", str(net), "--format", "json", "-o", str(snap))
    assert made.exit_code == 0 and '"total_params": 62006' in snap.read_text()
    ok = invoke("check", str(net), "--expect", str(snap))
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    net.write_text(net.read_text().replace("nn.Linear(84, 10)", "nn.Linear(84, 100)"))
    changed = invoke("check", str(net), "--expect", str(snap))
    # fc3: 84*100 + 100 = 8,500 params instead of 850
    assert changed.exit_code == 1 and "850" in changed.stdout and "8,500" in changed.stdout
    updated = invoke("check", str(net), "--expect", str(snap), "--update")
    assert updated.exit_code == 0 and "layer 12 fc3: params 850 -> 8,500" in updated.stderr
    assert invoke("check", str(net), "--expect", str(snap)).exit_code == 0
    assert '"total_params": 69656' in snap.read_text()  # 62,006 - 850 + 8,500


def test_check_model_options_go_with_expect(tmp_path: Path) -> None:
    result = invoke("check", "x.json", "--input", "3x32x32")
    assert result.exit_code == 2 and "--input goes with --expect FILE" in result.stderr
    two = invoke("check", "a.py", "b.py", "--expect", "s.json")
    assert two.exit_code == 2 and "--expect checks one model" in two.stderr


def test_check_of_model_code_alone_says_how_to_gate_it() -> None:
    result = invoke("check", str(FIXTURES / "pytorch_cifar_tutorial.py"))
    assert result.exit_code == 2 and "--expect FILE" in result.stderr


def test_solve_layer_never_splits_a_spec_or_a_call_token() -> None:
    import json

    args = ("solve", "layer", "--input", "224x160", "--output", "112x80", "--convention", "pytorch")
    choices = json.loads(invoke(*args, "--format", "json").stdout)["choices"][:20]
    for width in ("60", "80"):
        screen = invoke(*args, "--width", width, "--limit", "20").stdout
        cells = " ".join(screen.replace("│", " ").split())
        for choice in choices:
            assert choice["spec"] in cells.split(), (width, choice["spec"])
            for token in (choice["keras"] + " " + choice["pytorch"]).split():
                assert token in cells.split(), (width, token)


def test_footers_wrap_with_their_indent() -> None:
    screen = invoke(
        "solve", "layer", "--input", "224", "--output", "112", "--width", "50", "--limit", "1"
    ).stdout
    after_table = screen.split("┘\n", 1)[1]
    assert all(line.startswith(" ") for line in after_table.splitlines()), after_table
    summary = invoke("summary", "--model", "vgg16", "--width", "40").stdout
    footer_lines = summary.split("┘\n")[-1].splitlines()
    assert len(footer_lines) > 6 and all(line.startswith(" ") for line in footer_lines), footer_lines


def test_a_summary_renders_itself_in_a_notebook() -> None:
    import cnncalc

    s = cnncalc.summarize(["conv:16,2,2,valid", "conv:32,3,padding=same"], input_shape="200x200x1")
    html = s._repr_html_()  # type: ignore[attr-defined]
    markdown = s._repr_markdown_()  # type: ignore[attr-defined]
    # the course example: 80 and 4,640 params (K*F*F*D_in + K), 4,720 in all
    assert "<table" in html and "4,640" in html
    assert markdown.startswith("|") or "| " in markdown
    assert "4,640" in markdown and "4,720" in markdown


def test_zoo_names_follow_the_convention() -> None:
    import json

    def total(*args: str) -> int:
        return json.loads(invoke("summary", "--format", "json", *args).stdout)["total_params"]

    # Keras Applications' ResNet50: 25,636,712 (BN statistics are non-trainable params);
    # torchvision's resnet50: sum(p.numel()) = 25,557,032 (its BN statistics are buffers).
    assert total("--model", "resnet50") == 25_636_712
    assert total("--model", "resnet50", "--convention", "pytorch") == 25_557_032
    missing = invoke("summary", "--model", "resnet51")
    assert missing.exit_code == 2 and "Hint: did you mean resnet50" in missing.stderr


def test_lower_case_calls_read_under_the_convention_in_force() -> None:
    import json

    # Keras's Conv2D(16, 2) on 28x28x1: 16*(2*2*1) + 16 = 80 params, 27x27x16 out
    keras = json.loads(invoke("summary", "--input", "28x28x1", "conv2d(16,2)", "--format", "json").stdout)
    assert keras["total_params"] == 80 and keras["output_shape"] == [27, 27, 16]
    # PyTorch's nn.Conv2d(1, 16, 2) on 1x28x28: the same 80 params, 16x27x27 out
    torch = json.loads(
        invoke(
            "summary", "--convention", "pytorch", "--input", "1x28x28", "conv2d(1,16,2)", "--format", "json"
        ).stdout
    )
    assert torch["total_params"] == 80 and torch["output_shape"] == [16, 27, 27]


def test_narrow_tables_keep_related_things_together(tmp_path: Path) -> None:
    # models: Params and Published side by side at 60 columns (they are compared)
    models = invoke("models", "--width", "60").stdout
    header = next(line for line in models.splitlines() if "Params" in line)
    assert "Published" in header
    # check: "layer 2 max_pooling2d" is one line in the Where column at 40 columns
    spec = tmp_path / "m.json"
    spec.write_text(
        '{"input_shape": [8, 8, 1], "layers": ["conv:4,3", "maxpool:2"],'
        ' "expect": {"layers": {"2": {"output_shape": [2, 2, 4]}}}}'
    )
    result = invoke("check", str(spec), "--width", "40")
    assert result.exit_code == 1 and "layer 2 max_pooling2d" in result.stdout  # 6x6x4 -> 3x3x4


def test_the_report_fits_its_diagram_and_links_boxes_to_rows(tmp_path: Path) -> None:
    import re

    report = tmp_path / "r.html"
    assert invoke("summary", "--model", "vgg16", "-o", str(report)).exit_code == 0
    page = report.read_text()
    assert ".diagram svg{display:block;width:100%;height:auto" in page  # zoomed to fit the page
    assert 'data-zoom="fit"' in page and 'addEventListener("wheel"' in page
    boxes = re.findall(r'<g class="volume" data-name="([^"]+)"', page)
    named = re.findall(r'<tr data-name="([^"]+)"', page)
    rows = dict(re.findall(r'<tr data-name="([^"]+)" data-formula="([^"]*)"', page))
    # every layer has its row (VGG16: 13 convs, 5 pools, flatten, 3 dense), every box its row
    assert len(named) == 22 and set(boxes) <= set(named) | {"input"} and len(rows) >= 20
    # block1_conv1: 3*3*3*64 + 64 = 1,792 params, under Keras's 'same' rule
    assert "same" in rows["block1_conv1"] and "1,792" in rows["block1_conv1"]


def test_explain_lines_wrap_under_their_own_start() -> None:
    screen = invoke(
        "explain",
        "--input",
        "200x200x1",
        "conv:16,2,2,valid,activation=relu",
        "conv:32,3,padding=same",
        "--width",
        "50",
    ).stdout
    lines = screen.splitlines()
    # every line of a layer's block starts indented (titles "1. ..." aside): nothing falls back to column 0
    body = [line for line in lines[2:] if line and not line[0].isdigit()]
    assert body and all(line.startswith("   ") for line in body), body
    assert all(len(line) <= 50 for line in lines)
    # a step's continuation sits under its formula (after "height, width = ")
    at = next(i for i, line in enumerate(lines) if "ceil((200 - 2 + 1) / 2)" in line)
    assert lines[at + 1].startswith(" " * 19) and "100" in lines[at + 1]


def test_pytorch_results_show_pytorch_shapes() -> None:
    # torchinfo prints nn.Conv2d(3, 6, 5) on a 1x3x32x32 batch as [1, 6, 28, 28]
    table = invoke("summary", "--convention", "pytorch", "--input", "3x32x32", "conv2d:3,6,5").stdout
    assert "[1, 6, 28, 28]" in table and "(None" not in table
    keras = invoke("summary", "--input", "32x32x3", "conv:6,5").stdout
    assert "(None, 28, 28, 6)" in keras


def test_adaptive_pooling_has_a_field_where_it_is_one_number() -> None:
    import json

    from cnncalc.layers.pooling import adaptive_window

    def field(*args: str) -> object:
        doc = json.loads(invoke("summary", "--convention", "pytorch", "--format", "json", *args).stdout)
        return doc["layers"][-1]["receptive_field"]

    # 3x3 conv (field 3, jump 1), then 64 -> 16: windows of 4, stride 4: 3 + (4 - 1)*1 = 6, jump 4
    rf = field("--input", "3x64x64", "conv2d:3,8,3,1,1", "adaptiveavgpool2d:16")
    assert rf["size"] == [6, 6] and rf["jump"] == [4, 4]  # type: ignore[index]
    # to 1x1: every output sees the whole input, as a global pool
    assert field("--input", "3x8x8", "adaptiveavgpool2d:1") == "global"
    # ATen's windows: 7 -> 3 pools 0..2, 2..4, 4..6 (one size, one stride); 5 -> 3 pools 0..1, 1..3, 3..4
    w = adaptive_window(7, 3)
    assert w is not None and (w.kernel, w.stride) == (3, 2)
    assert adaptive_window(5, 3) is None
    assert field("--input", "3x5x5", "adaptiveavgpool2d:3") == "untracked"


def test_slips_in_the_input_get_the_right_fix(tmp_path: Path) -> None:
    net = tmp_path / "net.py"
    net.write_text((FIXTURES / "pytorch_cifar_tutorial.py").read_text())
    # PyTorch code given H x W x C: in_channels=3 reads 32; the fix is the axis order, not in_channels=32
    swapped = invoke("summary", "-f", str(net), "--input", "32x32x3")
    assert swapped.exit_code == 2
    assert "Hint: PyTorch reads C x H x W: did you mean --input 3x32x32?" in swapped.stderr
    assert "use in_channels=32" not in swapped.stderr
    batch = invoke("summary", "-f", str(net), "--input", "1x3x32x32")
    assert batch.exit_code == 2 and "Hint: drop the batch axis: --input 3x32x32" in batch.stderr
    gray = invoke("summary", "--input", "28x28", "conv:16,3")
    assert gray.exit_code == 2 and "Hint: one channel? --input 28x28x1 (H x W x C)" in gray.stderr
    seq = tmp_path / "seq.py"
    seq.write_text("import torch.nn as nn\nmodel = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())\n")
    missing = invoke("summary", "-f", str(seq))
    assert missing.exit_code == 2 and "--input like 3x224x224 (C x H x W)" in missing.stderr


def test_a_forgotten_flatten_is_named() -> None:
    # nn.Conv2d(3, 6, 5) on 3x32x32 -> 6x28x28; nn.Linear acts on the last axis (28), so
    # in_features=400 disagrees; the slip is the missing flatten (6*28*28 = 4,704 values)
    result = invoke(
        "summary", "--convention", "pytorch", "--input", "3x32x32", "nn.Conv2d(3,6,5)", "nn.Linear(400,120)"
    )
    assert result.exit_code == 2 and "in_features=28, not 400" in result.stderr
    assert (
        "Hint: did you forget a flatten before it? (6x28x28 = 4704; then in_features=4704)" in result.stderr
    )


def test_pooling_words_match_the_frameworks() -> None:
    # nn.MaxPool2d(3, 1, padding="same") raises in PyTorch: refused, with Keras's padding as the fix
    same = invoke("summary", "--convention", "pytorch", "--input", "3x32x32", "maxpool:3,1,same")
    assert same.exit_code == 2 and "PyTorch's pooling has no padding='same'" in same.stderr
    assert "Hint: padding=1 gives exactly Keras's 'same' here (output 32x32)" in same.stderr
    # Keras's MaxPooling2D has no ceil_mode: the rule line says whose rule it is
    ceil = invoke("explain", "--input", "32x32x3", "maxpool:3,2,ceil_mode=true").stdout
    assert "PyTorch ceil_mode (Keras has none)" in ceil


def test_model_code_reads_the_new_kinds_through_their_faces(tmp_path: Path) -> None:
    # nn.Conv2d(3, 12, 3, padding=1): 3*3*3*12 + 12 = 336; InstanceNorm2d(12, affine=True) and
    # GroupNorm(4, 12): a weight and a bias per channel, 24 each; PixelShuffle(2): 12/4 = 3
    # channels at twice the size (torch.nn's documented shapes)
    code = tmp_path / "sr.py"
    code.write_text(
        "import torch\nimport torch.nn as nn\n\n\nclass SR(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.conv = nn.Conv2d(3, 12, 3, padding=1)\n"
        "        self.norm = nn.InstanceNorm2d(12, affine=True)\n        self.gn = nn.GroupNorm(4, 12)\n"
        "        self.shuffle = nn.PixelShuffle(2)\n\n    def forward(self, x):\n"
        "        return self.shuffle(self.gn(self.norm(self.conv(x))))\n\n\n"
        "model = SR()\ny = model(torch.randn(1, 3, 16, 16))\n"
    )
    import json

    doc = json.loads(invoke("summary", "-f", str(code), "--format", "json").stdout)
    assert [layer["params"] for layer in doc["layers"]] == [336, 24, 24, 0]
    assert doc["output_shape"] == [3, 32, 32] and doc["total_params"] == 384


def test_pytorch_results_show_pytorch_types() -> None:
    # torchinfo's type column for nn.Conv2d / nn.BatchNorm2d / nn.ReLU / nn.MaxPool2d
    table = invoke(
        "summary",
        "--convention",
        "pytorch",
        "--input",
        "3x32x32",
        "conv2d:3,8,3",
        "BatchNorm2d:8",
        "relu",
        "maxpool:2",
    ).stdout
    for kind in ("(Conv2d)", "(BatchNorm2d)", "(ReLU)", "(MaxPool2d)"):
        assert kind in table, (kind, table)
    assert "(Conv2D)" in invoke("summary", "--input", "32x32x3", "conv:8,3").stdout  # Keras's words stay
