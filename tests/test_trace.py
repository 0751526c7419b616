"""--trace / --torch / summarize(live model): the frameworks' own shapes and parameter totals.

Expectations are written by the frameworks (tools/make_trace_expectations.py ->
tests/fixtures/trace/expected.json: output shapes, ``sum(p.numel())``, buffers, Keras's
``count_params()``). Framework runs are dev-only (skipped without torch/keras); the options, the
target grammar, folding and the errors need no framework.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.io import parse

from .helpers import error_lines, run

FIXTURES = Path(__file__).parent / "fixtures" / "trace"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
FAST_TORCH = {"torchvision.models:resnet18", "torchvision.models:resnet18(num_classes=10)"}

# ----------------------------------------------------------------------------- no framework needed


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("torchvision.models:resnet50", ("torchvision.models", "resnet50", [], {})),
        ("timm:resnet50d", ("timm", "resnet50d", [], {})),
        ("mypkg.nets:Net(width=2)", ("mypkg.nets", "Net", [], {"width": 2})),
        ("m:f(3, (1, 2), mode='a', x=None)", ("m", "f", [3, (1, 2)], {"mode": "a", "x": None})),
        ("m:Outer.build", ("m", "Outer.build", [], {})),
    ],
)
def test_torch_targets_are_parsed_as_literals(text: str, parsed: tuple) -> None:
    from cnncalc.trace import parse_target

    assert parse_target(text) == parsed


@pytest.mark.parametrize(
    "text", ["resnet50", "m:f(__import__('os').system('x'))", "m:f(**k)", "m:f(x=y)", "m:1+", "-m:f"]
)
def test_torch_targets_never_evaluate_code(text: str) -> None:
    from cnncalc.trace import parse_target

    with pytest.raises(SpecError) as info:
        parse_target(text)
    assert "\n" not in str(info.value)


def test_without_the_framework_exit_2_names_the_package(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    result = run("summary", "--torch", "torchvision.models:resnet18", "--input", "3x32x32")
    assert result.exit_code == 2
    (line,) = error_lines(result.stderr)
    assert "pip install torch" in line
    monkeypatch.setitem(sys.modules, "keras", None)
    path = FIXTURES / "keras_model.json"
    path_result = run("summary", "-f", str(path), "--trace")
    assert path_result.exit_code == 2 and "pip install keras" in error_lines(path_result.stderr)[0]


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["--depth", "1", "conv:8,3", "--input", "8x8x1"], "--depth goes with --trace or --torch"),
        (["--trace", "conv:8,3", "--input", "8x8x1"], "--trace reads -f FILE"),
        (["--custom-objects", "m", "conv:8,3", "--input", "8x8x1"], "--custom-objects goes with --trace"),
        (["--torch", "m:f", "--trace", "-f", "x.py"], "not both"),
        (["--torch", "nocolon"], "expected MODULE:FACTORY"),
    ],
)
def test_option_errors(args: list[str], wanted: str) -> None:
    result = run("summary", *args)
    assert result.exit_code == 2
    assert wanted in error_lines(result.stderr)[0]


def test_static_refusal_hints_at_trace() -> None:
    result = run("summary", "-f", str(FIXTURES / "swin_shift.py"), "--input", "3x8x8")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Hint: --trace builds it with your installed torch (runs the file's code)"
    )


def test_depth_folds_module_paths_into_nested_rows() -> None:
    # Rows named by module path (as a trace names them): depth 1 folds a.* and b.* into a and b.
    doc = {
        "input_shape": [8, 8, 3],
        "layers": [
            {"type": "conv2d", "name": "stem", "filters": 4, "kernel_size": 3},
            {"type": "conv2d", "name": "a.conv", "filters": 4, "kernel_size": 1},
            {"type": "relu", "name": "a.relu"},
            {"type": "add", "name": "a.add", "inputs": ["a.relu", "stem"]},
            {"type": "conv2d", "name": "b.0.conv", "filters": 2, "kernel_size": 3},
            {"type": "globalaveragepooling2d", "name": "pool"},
        ],
    }
    from cnncalc.trace.fold import fold

    whole = cnncalc.summarize(doc)
    folded = cnncalc.summarize(fold(parse(doc), 1))
    assert [r.name for r in folded.layers] == ["stem", "a", "b", "pool"]
    assert [r.type for r in folded.layers] == ["conv2d", "model", "model", "globalaveragepooling2d"]
    assert folded.total_params == whole.total_params == (3 * 9 * 4 + 4) + (4 * 4 + 4) + (4 * 9 * 2 + 2)
    assert folded.total_macs == whole.total_macs
    assert folded.layers[1].output_shape == (6, 6, 4) and folded.output_shape == (2,)
    deep = cnncalc.summarize(fold(parse(doc), 2))
    assert [r.name for r in deep.layers] == ["stem", "a.conv", "a.relu", "a.add", "b.0", "pool"]


def test_depth_leaves_a_run_read_from_outside_unfolded() -> None:
    doc = {
        "input_shape": [8, 8, 3],
        "layers": [
            {"type": "conv2d", "name": "a.conv", "filters": 3, "kernel_size": 1},
            {"type": "relu", "name": "a.relu"},
            {"type": "add", "name": "out", "inputs": ["a.conv", "a.relu"]},  # reads a's inner row
        ],
    }
    from cnncalc.trace.fold import fold

    assert [r.name for r in cnncalc.summarize(fold(parse(doc), 1)).layers] == ["a.conv", "a.relu", "out"]


# ----------------------------------------------------------------------------- PyTorch (dev-only)


def _torch_cases(fast: bool) -> list:
    return [
        pytest.param(target, id=target, marks=() if target in FAST_TORCH else pytest.mark.slow)
        for target in EXPECTED["torch"]
        if (target in FAST_TORCH) == fast
    ]


def _check_torch(summary, truth: dict) -> None:
    assert list(summary.output_shape) == truth["output_shape"]
    assert summary.total_params == truth["params"]
    assert summary.total_buffers == truth["buffers"]


@pytest.mark.parametrize("target", [*_torch_cases(True), *_torch_cases(False)])
def test_torch_target_gives_the_frameworks_figures(target: str) -> None:
    pytest.importorskip("torch")
    if target.startswith("timm"):
        pytest.importorskip("timm")
    else:
        pytest.importorskip("torchvision")
    from cnncalc.trace import torch_spec

    truth = EXPECTED["torch"][target]
    _check_torch(cnncalc.summarize(torch_spec(target, tuple(truth["input"]))), truth)


@pytest.mark.parametrize("key", sorted(EXPECTED["files"]))
def test_model_files_give_the_frameworks_figures(key: str) -> None:
    pytest.importorskip("torch")
    file, _, model_name = key.partition(":")
    truth = EXPECTED["files"][key]
    shape = "x".join(map(str, truth["input"]))
    args = ["-f", str(FIXTURES / file), "--trace", "--input", shape, "--format", "json"]
    result = run("summary", *args, *(["--model-name", model_name] if model_name else []))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        "Note: --trace imported and ran the model's code with your installed torch"
    )
    doc = json.loads(result.stdout)
    assert doc["output_shape"] == truth["output_shape"]
    assert (doc["total_params"], doc["total_buffers"]) == (truth["params"], truth["buffers"])


def test_cifar_net_rows_are_the_modules_and_ops() -> None:
    pytest.importorskip("torch")
    from cnncalc.trace import torch_file_spec

    s = cnncalc.summarize(torch_file_spec(str(FIXTURES / "cifar_net.py"), None, (3, 32, 32)))
    # the tutorial's shapes: 6x28x28 -> pool 6x14x14 -> 16x10x10 -> 16x5x5 -> 400 -> 120 -> 84 -> 10
    assert [(r.name, r.type, r.output_shape) for r in s.layers] == [
        ("conv1", "conv2d", (6, 28, 28)),
        ("relu", "activation", (6, 28, 28)),
        ("pool", "maxpooling2d", (6, 14, 14)),
        ("conv2", "conv2d", (16, 10, 10)),
        ("relu_1", "activation", (16, 10, 10)),
        ("pool_1", "maxpooling2d", (16, 5, 5)),
        ("flatten", "flatten", (400,)),
        ("fc1", "dense", (120,)),
        ("relu_2", "activation", (120,)),
        ("fc2", "dense", (84,)),
        ("relu_3", "activation", (84,)),
        ("fc3", "dense", (10,)),
    ]
    assert s.total_macs == 6 * 28 * 28 * 75 + 16 * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10


def test_opaque_ops_keep_their_recorded_shapes_and_params() -> None:
    pytest.importorskip("torch")
    from cnncalc.trace import torch_file_spec

    s = cnncalc.summarize(torch_file_spec(str(FIXTURES / "swin_shift.py"), None, (3, 8, 8)))
    rows = {r.name: r for r in s.layers}
    assert rows["roll"].opaque and rows["roll"].config["op"] == "torch.roll"
    assert rows["roll"].output_shape == (8, 8, 8)
    assert rows["einsum"].opaque and rows["einsum"].output_shape == (8, 8, 8)
    # the table (15 x 8 = 120) gathered by the index buffer (8) is counted on the add that uses it
    assert (rows["add"].params, rows["add"].buffers) == (120, 8)
    assert not rows["mix"].opaque and rows["mix"].params == 72


def test_live_module_keeps_its_weights_and_matches() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 5)
    )
    before = model[0].weight.detach().clone()
    s = cnncalc.summarize(model, input=(3, 16, 16))
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert s.total_buffers == sum(b.numel() for b in model.buffers())
    assert s.output_shape == (5,) and [r.name for r in s.layers] == ["0", "1", "2", "3", "4"]
    assert torch.equal(model[0].weight, before) and model[0].weight.device.type == "cpu"
    assert s.to_dict()["total_params"] == s.total_params
    folded = cnncalc.summarize(model, input=(3, 16, 16), depth=0)
    assert len(folded.layers) == 1 and folded.total_params == s.total_params


def test_shared_module_is_counted_once() -> None:
    pytest.importorskip("torch")
    from torch import nn

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    model = Twice()
    s = cnncalc.summarize(model, input=(4, 8, 8))
    assert s.total_params == sum(p.numel() for p in model.parameters()) == 4 * 4 * 9 + 4
    assert [r.name for r in s.layers] == ["conv", "conv_1"] and [r.params for r in s.layers][1] == 0


def test_every_command_takes_a_traced_model(tmp_path) -> None:
    pytest.importorskip("torch")
    path = str(FIXTURES / "swin_shift.py")
    base = ["-f", path, "--trace", "--input", "3x8x8"]
    assert "cannot look inside" in run("explain", *base).stdout
    assert run("verify", *base).exit_code == 0
    assert run("counters", *base).exit_code == 0
    assert run("diagram", *base, "-o", str(tmp_path / "d.svg")).exit_code == 0
    solved = run("solve", "sizes", *base)
    assert solved.exit_code == 2 and "this opaque row (torch.roll) decides the size" in solved.stderr
    exported = run("export", "--to", "pytorch", *base)
    assert exported.exit_code == 2 and "no code can be written for it" in exported.stderr
    cifar = ["-f", str(FIXTURES / "cifar_net.py"), "--trace", "--input", "3x32x32"]
    assert run("export", "--to", "pytorch", *cifar).exit_code == 0
    assert run("solve", "sizes", *cifar).exit_code == 0


# ----------------------------------------------------------------------------- Keras (dev-only)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=() if n in ("MobileNetV2(96)", "lambda_model") else pytest.mark.slow)
        for n in EXPECTED["keras"]
    ],
)
def test_keras_models_give_the_frameworks_figures(name: str, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    truth = EXPECTED["keras"][name]
    if name == "lambda_model":
        inp = keras.Input((32, 32, 3))
        x = keras.layers.Conv2D(8, 3)(inp)
        x = keras.layers.BatchNormalization()(x)
        y = keras.layers.Lambda(lambda t: t * 2, output_shape=(30, 30, 8))(x)
        x = keras.layers.Add()([x, y])
        x = keras.layers.GlobalAveragePooling2D()(x)
        model = keras.Model(inp, keras.layers.Dense(10)(x))
    else:
        model = {
            "MobileNetV2(96)": lambda: keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3)),
            "ResNet50": lambda: keras.applications.ResNet50(weights=None),
            "EfficientNetB0": lambda: keras.applications.EfficientNetB0(weights=None),
            "ConvNeXtTiny": lambda: keras.applications.ConvNeXtTiny(weights=None),
        }[name]()
    s = cnncalc.summarize(model)
    assert list(s.output_shape) == truth["output_shape"]
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (
        truth["params"],
        truth["trainable"],
        truth["non_trainable"],
    )
    if name == "lambda_model":
        lam = next(r for r in s.layers if r.opaque)
        assert lam.output_shape == (30, 30, 8) and "Lambda" in lam.config["op"]


def test_keras_file_with_a_custom_layer(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    custom = FIXTURES / "keras_custom.py"
    path = FIXTURES / "keras_model.json"
    static = run("summary", "-f", str(path), "--format", "json")  # the static reader: params unknown
    assert static.exit_code == 0 and "params unknown" in static.stderr
    truth = EXPECTED["keras_files"]["keras_model.json"]
    assert json.loads(static.stdout)["total_params"] == truth["params"] - truth["scale_params"]
    result = run("summary", "-f", str(path), "--trace", "--custom-objects", str(custom), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    truth = EXPECTED["keras_files"]["keras_model.json"]
    assert doc["output_shape"] == truth["output_shape"] and doc["total_params"] == truth["params"]
    scaled = next(layer for layer in doc["layers"] if layer.get("opaque"))
    assert scaled["config"]["op"].endswith("Scale") and scaled["params"] == truth["scale_params"]


@pytest.mark.parametrize("name", sorted(EXPECTED.get("keras_hub", {})))
def test_keras_hub_backbones_from_explicit_arguments(name: str) -> None:
    """Backbones built from constructor arguments (no presets: nothing downloaded), saved as
    config-only .keras files by keras-hub itself; --trace rebuilds them with keras-hub."""
    pytest.importorskip("keras_hub")
    from cnncalc.trace.keras_trace import keras_file_spec

    truth = EXPECTED["keras_hub"][name]
    s = cnncalc.summarize(keras_file_spec(str(FIXTURES / truth["file"]), None, None, None))
    assert [list(s.output_shape)] == truth["output_shape"] and s.total_params == truth["params"]


def test_check_trace_gates_the_model_code(tmp_path) -> None:
    pytest.importorskip("torch")
    model = tmp_path / "net.py"
    model.write_text((FIXTURES / "cifar_net.py").read_text())
    snapshot = tmp_path / "traced.json"
    traced = run("summary", "-f", str(model), "--trace", "--input", "3x32x32", "--format", "json")
    snapshot.write_text(traced.stdout)
    gate = ["check", str(model), "--trace", "--input", "3x32x32", "--expect", str(snapshot)]
    assert run(*gate).exit_code == 0
    model.write_text(model.read_text().replace("nn.Linear(84, 10)", "nn.Linear(84, 12)"))
    failed = run(*gate, "--format", "json")
    assert failed.exit_code == 1
    differences = json.loads(failed.stdout)["specs"][0]["differences"]
    assert any(d["where"] == "model" and (d["expected"], d["actual"]) == ([10], [12]) for d in differences)
    assert run("check", str(model), "--trace").exit_code == 2  # --trace checks against --expect


def test_keras_code_is_imported_and_traced(monkeypatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    import importlib.util

    spec = importlib.util.spec_from_file_location("keras_code_truth", FIXTURES / "keras_code.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # Keras's own figures for the same code
    truth = module.model
    result = run("summary", "-f", str(FIXTURES / "keras_code.py"), "--trace", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        "Note: --trace imported and ran the model's code with your installed keras"
    )
    doc = json.loads(result.stdout)
    assert doc["output_shape"] == list(truth.output_shape[1:]) and doc["total_params"] == truth.count_params()
    assert [layer["type"] for layer in doc["layers"]].count("opaque") == 1  # the Lambda


def test_trace_reads_modules_and_ops_through_the_faces() -> None:
    """Issue 21: --trace finds a module's kind by the kinds' PyTorch faces (nn.ELU, nn.Softplus,
    nn.UpsamplingNearest2d, nn.ReLU6) and an op's activation by the faces' table; another alpha or
    beta than the activation's own is not the kind (an opaque row). Shapes are PyTorch's."""
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.nn import functional

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.c = nn.ELU(), nn.ELU(0.5), nn.Softplus()
            self.d, self.e = nn.UpsamplingNearest2d(scale_factor=2), nn.ReLU6()

        def forward(self, x):
            x = self.e(self.d(self.c(self.b(self.a(x)))))
            return functional.softplus(functional.elu(x), beta=2)

    net = Net()
    rows = cnncalc.summarize(net, input_shape=(3, 4, 4)).layers
    got = [(r.name, r.type, r.config.get("activation") or r.config.get("max_value")) for r in rows]
    assert got == [
        ("a", "activation", "elu"),
        ("b.elu", "opaque", None),
        ("c", "activation", "softplus"),
        ("d", "upsampling2d", None),
        ("e", "relu", 6.0),
        ("elu", "activation", "elu"),
        ("softplus", "opaque", None),
    ]
    with torch.no_grad():
        assert tuple(net(torch.zeros(1, 3, 4, 4)).shape[1:]) == rows[-1].output_shape
