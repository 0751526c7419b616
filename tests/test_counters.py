"""Counters: each tool's figure, reproduced by cnncalc's per-kind rules (cnncalc/counters.py).

Oracles: tests/fixtures/counters/torchvision.json, written by make_counters.py with the real
tools (torchinfo 1.8.0, fvcore 0.1.5.post20221221, ptflops 0.7.5, thop 0.1.1.post2209072238,
torch 2.13.0) on torchvision 0.28's models, the figures the issue quotes for resnet18, and small
models counted by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cnncalc
from cnncalc import zoo
from cnncalc.counters import compare, figures
from cnncalc.enums import Counter

from .helpers import run, run_json

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "counters" / "torchvision.json").read_text())
TOOLS = [c for c in Counter if c is not Counter.CNNCALC]

#: Where cnncalc cannot tell how torchvision wrote a layer: inception_v3 calls F.avg_pool2d and
#: F.max_pool2d as functions (ptflops counts them once through its patched functions, thop not at
#: all), shufflenet takes its global average with x.mean (fvcore and ptflops have no rule for
#: mean). cnncalc's kinds stand for modules, so it counts them as nn.AvgPool2d/nn.MaxPool2d/
#: F.adaptive_avg_pool2d. Amounts: cnncalc's figure minus the tool's.
KNOWN = {
    ("inception_v3", Counter.PTFLOPS): 2_577_152,
    ("inception_v3", Counter.THOP): 2_002_400,
    ("shufflenet_v2_x1_0", Counter.FVCORE): 1024 * 7 * 7,
    ("shufflenet_v2_x1_0", Counter.PTFLOPS): 1024 * 7 * 7,
}


@pytest.fixture(scope="module")
def comparisons() -> dict[str, object]:
    return {name: compare(cnncalc.summarize(zoo.load(f"torchvision/{name}"))) for name in FIXTURE}


def test_resnet18_figures_of_the_issue() -> None:
    c = compare(cnncalc.summarize(zoo.load("torchvision/resnet18")))
    assert c.total(Counter.TORCHINFO) == 1_814_083_944
    assert c.total(Counter.FVCORE) == 1_819_065_856
    assert c.total(Counter.PTFLOPS) == 1_825_313_768
    assert c.total(Counter.THOP) == 1_824_033_792
    assert c.total(Counter.TORCH) == 2 * 1_814_073_344
    assert c.total(Counter.CNNCALC) == 1_813_561_344 + 512_000  # fvcore's conv + linear


@pytest.mark.parametrize("name", sorted(FIXTURE))
@pytest.mark.parametrize("counter", TOOLS, ids=lambda c: c.value)
def test_totals_equal_the_tools(comparisons: dict, name: str, counter: Counter) -> None:
    ours = comparisons[name].total(counter)
    assert ours - FIXTURE[name][counter.value] == KNOWN.get((name, counter), 0)


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_fvcore_per_module(comparisons: dict, name: str) -> None:
    c = comparisons[name]
    ours = {
        row.name: fig[TOOLS.index(Counter.FVCORE) + 1].value
        for row, fig in zip(c.summary.layers, c.rows, strict=True)
    }
    for module, value in FIXTURE[name]["fvcore_by_module"].items():
        assert ours[module] == value, module


def test_small_model_by_hand() -> None:
    # 3x8x8 -> conv 3->4, 3x3, pad 1, bias -> BN(4) -> ReLU -> MaxPool 2 -> flatten -> Linear(64, 10)
    doc = run_json(
        "counters",
        "--convention",
        "pytorch",
        "--input",
        "3x8x8",
        "conv2d:3,4,3,1,1",
        "BatchNorm2d:4",
        "relu",
        "MaxPool2d:2",
        "flatten",
        "Linear:64,10",
    )
    macs = 8 * 8 * 4 * 27  # 6,912 weight MACs; 256 bias adds; BN over 256 values
    expected = {
        Counter.CNNCALC: macs + 640,
        Counter.TORCHINFO: (108 + 4) * 64 + 8 + 650,  # params x positions; BN 2*C; Linear params
        Counter.FVCORE: macs + 2 * 256 + 640,
        Counter.PTFLOPS: macs + 256 + 2 * 256 + 2 * 256 + 2 * 256 + 650,  # BN, ReLU twice, pool input twice
        Counter.THOP: macs + 4 * 256 + 640,
        Counter.TORCH: 2 * (macs + 640),
    }
    assert doc["totals"] == {counter.value: value for counter, value in expected.items()}


def test_linear_on_nd_input_and_layernorm_kinds() -> None:
    # a Linear on 7x7x8 positions (ConvNeXt's pointwise layers): torchinfo counts it once
    s = cnncalc.summarize(["ln", "dense:16"], input_shape=(7, 7, 8))
    c = compare(s)
    dense = c.rows[1]
    by = dict(zip(c.counters, dense, strict=True))
    assert by[Counter.TORCHINFO].value == 8 * 16 + 16 and "once" in by[Counter.TORCHINFO].why
    assert by[Counter.FVCORE].value == 49 * 8 * 16
    ln = dict(zip(c.counters, c.rows[0], strict=True))
    assert ln[Counter.FVCORE].value == 5 * 392 and ln[Counter.THOP].value == 4 * 392
    assert ln[Counter.PTFLOPS].value == 392
    # the same norm over the channel axis of an NCHW tensor is torchvision's LayerNorm2d
    s2 = cnncalc.summarize(["ln:axis=1"], input_shape=(8, 7, 7), convention="pytorch")
    ln2 = {k: figures(s2, k)[0] for k in Counter}
    assert (
        ln2[Counter.PTFLOPS].value == 0
        and ln2[Counter.THOP].value == 0
        and ln2[Counter.FVCORE].value == 5 * 392
    )


def test_differences_say_why() -> None:
    c = compare(cnncalc.summarize(zoo.load("torchvision/resnet18")))
    lines = {(d.counter, d.kind): d for d in c.differences}
    relu = lines[(Counter.PTFLOPS, "relu")]
    assert relu.delta == 2 * 2_308_096 and "F.relu" in relu.why and len(relu.layers) == 17
    assert lines[(Counter.TORCHINFO, "batchnormalization")].delta == 9_600
    assert not any(d.kind == "add" for d in c.differences)  # residual adds: counted by none


def test_summary_counter_column() -> None:
    out = run("summary", "--model", "resnet18", "--counter", "thop").stdout
    assert "1,824,033,792" in out and "thop" in out
    out = run("summary", "--model", "resnet18", "--counter", "torchinfo", "--columns", "shape,macs").stdout
    assert "Mult-Adds" in out and "513,000" in out  # fc: its 513,000 parameters, once


@pytest.mark.parametrize(
    "extra",
    [
        ["--counter", "thop", "--count", "flops"],
        ["--counter", "thop", "--bias-macs"],
        ["--counter", "thop", "--format", "json"],
        ["--counter", "thop", "--columns", "shape"],
        ["--counter", "nope"],
    ],
)
def test_counter_refusals(extra: list[str]) -> None:
    result = run("summary", "--model", "resnet18", *extra)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_counters_command_formats() -> None:
    doc = run_json("counters", "--model", "resnet18")
    assert doc["totals"]["fvcore"] == 1_819_065_856 and doc["totals"]["torch"] == 3_628_146_688
    fc = next(layer for layer in doc["layers"] if layer["name"] == "fc")
    assert fc["torchinfo"]["value"] == 513_000 and fc["ptflops"]["value"] == 513_000
    assert any(d["counter"] == "ptflops" and d["type"] == "relu" for d in doc["differences"])
    text = run("counters", "--model", "resnet18").stdout
    assert "Why they differ" in text and "ptflops +4,616,192 on 17 relu layers" in text
    md = run("counters", "--model", "resnet18", "--format", "markdown").stdout
    assert md.startswith("| layer | type |") and "**1,825,313,768**" in md
    assert run("counters", "--input", "8x8x3", "conv:4,3").exit_code == 0
