"""`cnncalc explain`: golden output for the seed examples, 80-column readability, every rule shown.

Regenerate the golden files with ``UPDATE_GOLDEN=1 python -m pytest tests/test_explain.py`` and
read the diff: they are checked by eye against the formulas in docs/formulas.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import cnncalc
from cnncalc.explain import explain

from .helpers import run

GOLDEN = Path(__file__).parent / "golden"
SEEDS = {
    "explain_seed_keras.txt": [
        "--input",
        "200x200x1",
        "conv:16,2,2,valid,activation=relu",
        "conv:32,3,padding=same",
    ],
    "explain_seed_pool.txt": ["--input", "100x100x15", "maxpool:2,2"],
    "explain_seed_theano.txt": [
        "--data-format",
        "channels_first",
        "--input",
        "1x28x28",
        "conv:20,5",
        "maxpool:2",
        "flatten",
        "dense:100,sigmoid",
        "dense:10,softmax",
    ],
    "explain_network3.txt": [
        "--data-format",
        "channels_first",
        "--input",
        "1x28x28",
        "convpool:20x1x5x5,pool=2",
        "convpool:40x20x5x5,pool=2",
        "fullyconnected:n_in=640,n_out=100",
        "softmaxlayer:n_in=100,n_out=10",
    ],
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_golden(name: str) -> None:
    result = run("explain", *SEEDS[name])
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_fits_80_columns(name: str) -> None:
    for line in (GOLDEN / name).read_text().splitlines():
        assert len(line) <= 80, line


def test_seed_working_has_the_numbers() -> None:
    out = run("explain", *SEEDS["explain_seed_keras.txt"]).stdout
    assert "= ceil((200 - 2 + 1) / 2) = ceil(99.5) = 100" in out
    assert "params        = C_out*F_h*F_w*C_in + C_out" in out and "= 16*2*2*1 + 16 = 80" in out
    assert "= 32*3*3*16 + 32 = 4,640" in out


def steps(layers: list[str], shape: tuple[int, ...], **kw) -> dict[str, str]:
    expl = explain(cnncalc.summarize(layers, input_shape=shape, **kw))[-1]
    return {s.label: f"{s.work} = {s.result}" if s.work else s.result for s in expl.steps}


def test_every_rule_is_shown_with_its_numbers() -> None:
    same = steps(["conv:2,4,2,same"], (7, 7, 1))
    assert same["height, width"] == "ceil(7 / 2) = ceil(3.5) = 4"
    assert same["padding"] == "max((4 - 1)*2 + 4 - 7, 0) = 3 (1 before + 2 after)"
    explicit = steps(["conv:8,3,2,1,dilation=2"], (1, 32, 32), convention="pytorch")
    assert explicit["F_eff"] == "2*(3 - 1) + 1 = 5"
    assert explicit["height, width"] == "floor((32 + 2*1 - 5) / 2) + 1 = floor(14.5) + 1 = 15"
    clip = steps(["maxpool:3,3,1,ceil_mode=true"], (1, 5, 5), convention="pytorch")
    assert clip["height, width"] == "ceil((5 + 2*1 - 3) / 3) + 1 = ceil(1.33…) + 1 = 3"
    assert clip["last window"] == "(3 - 1)*3 = 6 >= 5 + 1 = dropped, so 2"
    grouped = steps(["conv:6,3,groups=3,bias=false"], (9, 9, 3))
    assert grouped["params"] == "6*3*3*3/3 = 54"
    bn = steps(["bn"], (4, 4, 64))
    assert bn["params"] == "64*2 + 2*64 = 256 (128 non-trainable)"
    bn_torch = steps(["bn"], (64, 4, 4), convention="pytorch")
    assert bn_torch["buffers"] == "2*64 + 1 = 129"
    dense = steps(["flatten", "dense:10"], (4, 4, 40))
    assert dense["params"] == "10*(640 + 1) = 6,410"
    assert steps(["conv:4,3x1"], (9, 9, 1))["width"] == "ceil((9 - 1 + 1) / 1) = ceil(9) = 9"


def test_markdown() -> None:
    out = run("explain", *SEEDS["explain_seed_keras.txt"], "--format", "markdown").stdout
    assert out.startswith("**Model")
    assert "### 1. conv2d (Conv2D)\n\nconv:16,2,2,valid,activation=relu" in out and "```text" in out


def test_explain_bad_input() -> None:
    result = run("explain", "--input", "4x4x1", "conv:8,5")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1:] == [
        "Hint: smallest input that works: --input 5x5x1 (sizes that work on height and width: n >= 5)"
    ]


@pytest.mark.parametrize("name", ["seed_cnn", "mixed_kinds", "sequence_1d"])
def test_every_kind_explains_within_80_columns(name: str) -> None:
    result = run("explain", "-f", str(Path(__file__).parent / "fixtures" / "keras" / f"{name}.json"))
    assert result.exit_code == 0, result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert "= 16*3*3*8 + 8 = 1,160" in result.stdout or name != "mixed_kinds"  # Conv2DTranspose params


def test_transposed_rules_are_shown() -> None:
    keras = steps(["conv2dtranspose:3,2,3"], (4, 4, 1))
    assert keras["height"] == "(4 - 1)*3 + max(2, 3) = 12"
    torch = steps(["conv2dtranspose:3,2,3"], (1, 4, 4), convention="pytorch")
    assert torch["height"] == "(4 - 1)*3 - 2*0 + 1*(2 - 1) + 0 + 1 = 11"
