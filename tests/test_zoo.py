"""The model zoo against published parameter counts, and branching (graph) specs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
from cnncalc import zoo
from cnncalc.counters import compare
from cnncalc.enums import Counter
from cnncalc.numeric.verify import verify

from .helpers import run, run_json

FIXTURES = Path(__file__).parent / "fixtures" / "keras"

# Published totals, with where they come from:
PUBLISHED = {
    "vgg16": 138_357_544,  # Keras Applications table, VGG16 (include_top=True)
    "vgg19": 143_667_240,  # Keras Applications table, VGG19
    "resnet50": 25_636_712,  # Keras Applications table, ResNet50 (BN moving statistics included)
    "mobilenet": 4_253_864,  # Keras Applications table, MobileNet (alpha 1.0, 224)
    "mobilenetv2": 3_538_984,  # Keras Applications table, MobileNetV2
    "resnet18": 11_689_512,  # torchvision docs, resnet18 (BN running statistics are buffers)
    "alexnet": 61_100_840,  # torchvision docs, alexnet
    "lenet5": 61_706,  # LeCun et al. 1998, classic LeNet-5 with a fully connected C3
}


#: sum(p.numel() for p in model.parameters()) of torchvision 0.28's models (weights=None;
#: googlenet and inception_v3 with aux_logits=True, torchvision's default, as torchinfo and ptflops
#: count them too), as tools/make_torchvision_zoo.py printed them;
#: the docs' figures where torchvision publishes one (resnet50 25,557,032, vgg16 138,357,544, ...).
TORCHVISION = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_small": 2_542_856,
    "squeezenet1_0": 1_248_424,
    "shufflenet_v2_x1_0": 2_278_604,
    "densenet121": 7_978_856,
    "googlenet": 13_004_888,
    "inception_v3": 27_161_264,
    "efficientnet_b0": 5_288_548,
    "regnet_y_400mf": 4_344_144,
    "convnext_tiny": 28_589_128,
}


@pytest.mark.parametrize(("name", "total"), sorted(TORCHVISION.items()))
def test_torchvision_entries(name: str, total: int) -> None:
    s = cnncalc.summarize(zoo.load(f"torchvision/{name}"))
    assert s.total_params == total and s.output_shape == (1000,)
    assert s.convention.value == "pytorch" and s.data_format.value == "channels_first"


#: The same models built with aux_logits=False (torchvision 0.28, weights=None): the parameters
#: of the rows eval mode runs.
WITHOUT_AUX = {"googlenet": 6_624_904, "inception_v3": 23_834_568}


@pytest.mark.parametrize(("name", "total"), sorted(WITHOUT_AUX.items()))
def test_auxiliary_heads_are_training_only_rows(name: str, total: int) -> None:
    s = cnncalc.summarize(zoo.load(f"torchvision/{name}"))
    aux = [row for row in s.layers if row.training_only]
    assert aux and all(row.name.startswith(("aux1.", "aux2.", "AuxLogits.")) for row in aux)
    assert sum(row.params for row in s.eval_layers) == total
    assert s.total_params == TORCHVISION[name] == total + sum(row.params for row in aux)
    # MACs of the eval-mode graph: torchinfo's total_mult_adds of model.eval() (aux_logits=True),
    # 1,498,391,752 and 5,713,251,528 (tests/fixtures/counters), is cnncalc's torchinfo figure
    assert (
        compare(s).total(Counter.TORCHINFO)
        == {"googlenet": 1_498_391_752, "inception_v3": 5_713_251_528}[name]
    )
    assert (
        s.total_macs == sum(row.macs or 0 for row in s.eval_layers) < sum(row.macs or 0 for row in s.layers)
    )
    assert any("run only in train mode" in note for note in s.notes)
    doc = s.to_dict()
    marked = [layer["name"] for layer in doc["layers"] if layer.get("training_only")]
    assert marked == [row.name for row in aux]
    again = cnncalc.summarize(cnncalc.parse(json.dumps(doc)))  # the JSON output reads back
    assert [row.name for row in again.layers if row.training_only] == marked
    assert again.total_params == s.total_params and again.total_macs == s.total_macs


def test_googlenet_aux_head_by_hand() -> None:
    # torchvision's InceptionAux on inception4a's 512 x 14 x 14: adaptive_avg_pool2d to 4 x 4,
    # conv 1x1 512->128 (no bias) + BN, flatten 2048, fc1 2048->1024, dropout 0.7, fc2 1024->1000
    s = cnncalc.summarize(zoo.load("torchvision/googlenet"))
    rows = {row.name: row for row in s.layers}
    assert rows["aux1.adaptive_avg_pool2d"].input_shape == (512, 14, 14)
    assert rows["aux1.adaptive_avg_pool2d"].output_shape == (512, 4, 4)
    assert rows["aux1.conv.conv"].params == 512 * 128 and rows["aux1.conv.bn"].params == 2 * 128
    assert rows["aux1.fc1"].params == 2048 * 1024 + 1024 and rows["aux1.fc2"].params == 1024 * 1000 + 1000
    assert rows["aux2.conv.conv"].params == 528 * 128
    assert rows["aux1.fc2"].output_shape == (1000,) and s.layers[-1].name == "fc"


def test_training_only_rows_left_out_where_train_mode_fails() -> None:
    # inception_v3's AuxLogits pools Mixed_6e (17 x 17 at 299) with a 5x5 window, stride 3, then
    # a 5x5 conv: at 75 px Mixed_6e is 3 x 3 and train mode fails; eval mode runs (n >= 75)
    s = cnncalc.summarize(zoo.load("torchvision/inception_v3"), input_shape=(3, 75, 75))
    assert not any(row.training_only for row in s.layers)
    assert s.total_params == WITHOUT_AUX["inception_v3"] and s.output_shape == (1000,)
    assert any("left out" in note and "AuxLogits.avg_pool2d" in note for note in s.notes)
    big = cnncalc.summarize(zoo.load("torchvision/inception_v3"))
    row = next(r for r in big.layers if r.name == "AuxLogits.avg_pool2d")
    assert row.input_shape == (768, 17, 17) and row.output_shape == (768, 5, 5)  # (17-5)//3+1


def test_training_only_rows_exported_as_train_mode_code() -> None:
    from cnncalc.export import export

    s = cnncalc.summarize(zoo.load("torchvision/googlenet"))
    code = export(s, "pytorch")
    assert "        if self.training:\n            aux1_adaptive_avg_pool2d = " in code
    assert "            aux1_fc2 = self.aux1_fc2(aux1_dropout)\n        inception4b_" in code
    assert "        if self.training: return fc, aux1_fc2, aux2_fc2\n        return fc\n" in code
    assert "print(model.eval()(torch.randn(1, 3, 224, 224)).shape)" in code
    keras = export(s, "keras")
    assert "outputs=[fc, aux1_fc2, aux2_fc2]" in keras
    # read back (the reader follows `if self.training:` bodies as train mode's rows)
    from cnncalc.io.python_source import read_python

    back = cnncalc.summarize(read_python(code, "export.py"))
    assert back.total_params == 13_004_888 and back.total_macs == s.total_macs
    assert [r.name for r in back.layers if r.training_only] == [
        r.name.replace(".", "_") for r in s.layers if r.training_only
    ]


def test_model_code_training_branch_is_training_only_rows() -> None:
    # torchvision's pattern: `if self.training: aux = self.aux(x)`. PyTorch's parameters():
    # conv1 3*32*9 + 32 = 896, aux conv 32*16 + 16 = 528, aux fc 256*10 + 10 = 2,570,
    # conv2 32*64*9 + 64 = 18,496, fc 64*10 + 10 = 650: 23,140 in all, 20,042 without the head
    code = """
import torch
from torch import nn
import torch.nn.functional as F


class Aux(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.conv = nn.Conv2d(c, 16, 1)
        self.fc = nn.Linear(16 * 4 * 4, n)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (4, 4))
        return self.fc(torch.flatten(self.conv(x), 1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.aux = Aux(32, 10)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        aux = None
        if self.training:
            aux = self.aux(x)
        x = torch.flatten(self.pool(F.relu(self.conv2(x))), 1)
        x = self.fc(x)
        if self.training:
            return x, aux
        return x


net = Net()
"""
    from cnncalc.io.python_source import read_python

    s = cnncalc.summarize(read_python(code, "net.py"), input_shape=(3, 32, 32))
    assert s.total_params == 23_140 and sum(r.params for r in s.eval_layers) == 20_042
    assert {r.name for r in s.layers if r.training_only} >= {"aux.conv", "aux.fc"}
    assert s.output_shape == (10,) and s.layers[-1].name == "fc"


def test_training_only_must_be_a_flag() -> None:
    with pytest.raises(cnncalc.SpecError, match="training_only must be true or false"):
        cnncalc.parse({"input_shape": [4], "layers": [{"type": "dense", "units": 2, "training_only": 1}]})


@pytest.mark.parametrize(
    ("name", "size", "layer", "shape"),
    [
        # torchvision runs these at other sizes; hand-derived: /32 for resnet, vgg and shufflenet;
        # inception 331 -> 165, 163, 163, 81, 81, 79, 39, 19, 9 (valid 3x3 convs and pools)
        ("resnet50", 160, "layer4.2.relu_2", (2048, 5, 5)),
        ("vgg16", 256, "features.30", (512, 8, 8)),
        ("shufflenet_v2_x1_0", 160, "conv5.2", (1024, 5, 5)),
        ("inception_v3", 331, "cat_14", (2048, 9, 9)),
    ],
)
def test_torchvision_entries_at_other_sizes(name: str, size: int, layer: str, shape: tuple[int, ...]) -> None:
    s = cnncalc.summarize(zoo.load(f"torchvision/{name}"), input_shape=(3, size, size))
    assert next(row for row in s.layers if row.name == layer).output_shape == shape
    assert (
        s.output_shape == (1000,) and s.total_params == TORCHVISION[name]
    )  # AdaptiveAvgPool keeps fc's size


def test_aliases_name_the_same_networks() -> None:
    for old, new in zoo.ALIASES.items():
        assert zoo.load(old) == zoo.load(new)
    assert zoo.resolve("convnext_tiny") == "torchvision/convnext_tiny"  # one source has it
    assert zoo.resolve("keras/vgg16") == "keras/vgg16"
    with pytest.raises(cnncalc.SpecError, match="no model 'nope'"):
        zoo.resolve("nope")


@pytest.mark.parametrize(("name", "total"), sorted(PUBLISHED.items()))
def test_published_totals(name: str, total: int) -> None:
    doc = run_json("summary", "--model", name)
    assert doc["total_params"] == total
    assert json.loads(zoo.load(name))["published_params"] == total


def test_published_macs() -> None:
    # torchvision lists resnet18 at 1.81 GFLOPS and alexnet at 0.71 (MACs); the MobileNet papers
    # give 569M (v1) and 300M (v2) mult-adds; VGG16's "15.5 GFLOPs" is its MAC count.
    macs = {
        name: run_json("summary", "--model", name)["total_macs"]
        for name in ("resnet18", "alexnet", "mobilenet", "mobilenetv2", "vgg16")
    }
    assert round(macs["resnet18"] / 1e9, 2) == 1.81 and round(macs["alexnet"] / 1e9, 2) == 0.71
    assert round(macs["mobilenet"] / 1e6) == 569 and round(macs["mobilenetv2"] / 1e6) == 301
    assert macs["vgg16"] == 15_470_264_320


def test_inception_block() -> None:
    s = cnncalc.summarize(zoo.load("inception_block"))
    assert s.output_shape == (28, 28, 256)
    # 64*192+64 + (96*192+96 + 128*96*9+128) + (16*192+16 + 32*16*25+32) + 32*192+32
    assert s.total_params == 12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176 == 163_696


@pytest.mark.slow
def test_verify_resnet18_small_input() -> None:
    result = run("verify", "--model", "resnet18", "--input", "3x64x64")
    assert result.exit_code == 0, result.stdout[-2000:]
    assert "all layers match" in result.stdout


@pytest.mark.parametrize("name", ["inception_block", "mobilenetv2"])
def test_verify_branching_zoo_models(name: str) -> None:
    args = ["--input", "32x32x3"] if name == "mobilenetv2" else []
    assert run("verify", "--model", name, *args).exit_code == 0


def test_models_command() -> None:
    out = run("models").stdout
    assert "resnet50" in out and "25,636,712" in out and "vgg16" in out
    doc = json.loads(run("models", "--format", "json").stdout)
    assert all(
        entry["total_params"] == entry["published_params"] for entry in doc if entry["published_params"]
    )
    # every entry carries its source; the 0.1 names are aliases of these
    assert {entry["name"] for entry in doc} == {zoo.resolve(n) for n in (*PUBLISHED, "inception_block")} | {
        f"torchvision/{name}" for name in TORCHVISION
    }


def test_unknown_model_and_conflicting_sources() -> None:
    result = run("summary", "--model", "vgg17")
    assert result.exit_code == 2 and "no model 'vgg17'" in result.stderr and "vgg16" in result.stderr
    result = run("summary", "--model", "vgg16", "conv:8,3")
    assert result.exit_code == 2 and "not LAYER arguments and --model" in result.stderr


def test_model_with_another_input_and_explain() -> None:
    assert run_json("summary", "--model", "resnet50", "--input", "160x160x3")["output_shape"] == [1000]
    assert run("explain", "--model", "resnet18").exit_code == 0


# ----------------------------------------------------------------------------- graphs


def graph(*layers: dict, shape=(14, 14, 8)) -> dict:
    return {"input_shape": list(shape), "layers": list(layers)}


def test_concat_and_add() -> None:
    doc = graph(
        {"type": "conv2d", "name": "a", "filters": 64, "kernel_size": 1},
        {"type": "conv2d", "name": "b", "filters": 32, "kernel_size": 1, "inputs": "input"},
        {"type": "concatenate", "name": "cat", "inputs": ["a", "b"]},
    )
    s = cnncalc.summarize(doc)
    assert s.output_shape == (14, 14, 96) and s.branches
    assert verify(s).ok
    doc["layers"] += [
        {"type": "maxpool", "name": "p", "inputs": "a"},
        {"type": "add", "name": "sum", "inputs": ["a", "p"]},
    ]
    result = run("summary", "-f", "-", input=json.dumps(doc))
    assert result.exit_code == 2
    assert "inputs do not broadcast: 'a' gives 14x14x64, 'p' gives 7x7x64" in result.stderr
    assert "layer 5 (add 'sum')" in result.stderr


def test_concat_axis_per_data_format() -> None:
    doc = graph(
        {"type": "conv2d", "name": "a", "filters": 4, "kernel_size": 1},
        {"type": "conv2d", "name": "b", "filters": 6, "kernel_size": 1, "inputs": "input"},
        {"type": "concat", "name": "cat", "inputs": ["a", "b"]},
        shape=(8, 5, 5),
    )
    assert cnncalc.summarize(doc, data_format="channels_first").output_shape == (10, 5, 5)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            [{"type": "relu", "name": "x", "inputs": "y"}, {"type": "relu", "name": "y", "inputs": "x"}],
            "the layers form a cycle",
        ),
        ([{"type": "relu", "name": "x", "inputs": "nowhere"}], "unknown input 'nowhere'"),
        ([{"type": "relu", "name": "x", "inputs": ["input", "input"]}], "takes one input, got 2"),
        ([{"type": "add", "name": "x"}], "takes at least two inputs, got 1"),
        (
            [{"type": "subtract", "name": "x", "inputs": ["input", "input", "input"]}],
            "takes exactly 2 inputs",
        ),
        ([{"type": "relu", "name": "input"}], "is also a model input"),
    ],
)
def test_graph_errors(layers, message) -> None:
    result = run("summary", "-f", "-", input=json.dumps(graph(*layers)))
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_several_named_inputs() -> None:
    doc = {
        "inputs": [{"name": "rgb", "shape": [16, 16, 3]}, {"name": "depth", "shape": [16, 16, 1]}],
        "layers": [
            {"type": "concatenate", "name": "rgbd", "inputs": ["rgb", "depth"]},
            {"type": "conv2d", "name": "c", "filters": 8, "kernel_size": 3},
        ],
    }
    s = cnncalc.summarize(doc)
    assert s.output_shape == (14, 14, 8) and s.layers[1].params == 8 * 9 * 4 + 8
    assert verify(s).ok
    again = cnncalc.summarize(s.to_dict())
    assert again.to_dict() == s.to_dict()


def test_connected_to_column_and_round_trip() -> None:
    first = run("summary", "--model", "inception_block", "--format", "json").stdout
    table = run("summary", "-f", "-", input=first, width=200).stdout
    assert "Connected to" in table and "branch1x1, branch3x3, branch5x5, branch_pool_proj" in table
    assert run("summary", "-f", "-", "--format", "json", input=first).stdout == first
    assert "Connected to" not in run("summary", "--model", "vgg16").stdout


def test_keras_functional_fixture_matches_keras() -> None:
    expected = json.loads((FIXTURES / "residual_functional.expected.json").read_text())
    doc = run_json("summary", "-f", str(FIXTURES / "residual_functional.json"))
    assert [(layer["name"], layer["output_shape"], layer["params"]) for layer in doc["layers"]] == [
        (layer["name"], layer["output_shape"], layer["params"]) for layer in expected["layers"]
    ]
    assert doc["total_params"] == expected["total_params"]
    assert doc["layers"][3]["inputs"] == ["stem", "branch_b"]
    assert run("verify", "-f", str(FIXTURES / "residual_functional.json")).exit_code == 0


def test_receptive_field_through_branches() -> None:
    s = cnncalc.summarize(zoo.load("inception_block"))
    assert s.layers[-1].receptive_field.size == (5, 5)  # the 5x5 tower is the widest
