"""Issue 26 items 11 and 18: PyTorch's own words under --convention pytorch (module names, class
names, explain's formulas and argument names) and explain's symbols (one name per quantity, a
legend, lines within 80 columns). Every number here is derived by hand in the test."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings

import cnncalc
from cnncalc.errors import CnncalcError
from cnncalc.explain import SYMBOLS, explain, legend
from cnncalc.render.documents import explain_lines

from .helpers import run, run_json
from .strategies import STRATEGIES

STACK = ["conv2d:3,6,5", "relu", "maxpool:2", "flatten", "linear:1176,10"]


def _explain(*layers: str, convention: str = "pytorch", shape: str = "3x32x32") -> str:
    result = run("explain", "--convention", convention, "--input", shape, *layers)
    assert result.exit_code == 0, result.stderr
    return result.stdout


# ------------------------------------------------------------------- item 11: PyTorch's words


def test_pytorch_default_names_are_sequential_indices_and_types_torch_classes() -> None:
    # print(nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    # nn.Linear(1176, 10))) shows (0): Conv2d ... (4): Linear; torchinfo's var_names the same
    doc = run_json("summary", "--convention", "pytorch", "--input", "3x32x32", *STACK)
    assert [layer["name"] for layer in doc["layers"]] == ["0", "1", "2", "3", "4"]
    table = run("summary", "--convention", "pytorch", "--input", "3x32x32", *STACK).stdout
    for name, cls in zip("01234", ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"], strict=True):
        assert f"{name} ({cls})" in table
    assert "[1, 6, 28, 28]" in table  # 32 - 5 + 1 = 28


def test_keras_default_names_unchanged() -> None:
    doc = run_json("summary", "--input", "32x32x3", "conv:6,5", "relu", "maxpool:2", "flatten", "dense:10")
    assert [layer["name"] for layer in doc["layers"]] == [
        "conv2d",
        "re_lu",
        "max_pooling2d",
        "flatten",
        "dense",
    ]


def test_explicit_names_kept_and_keras_style_references_still_wire() -> None:
    spec = {
        "input_shape": [3, 8, 8],
        "convention": "pytorch",
        "layers": [
            {"type": "conv2d", "name": "stem", "filters": 4, "kernel_size": 3},
            "relu",
        ],
    }
    s = cnncalc.summarize(cnncalc.parse(spec))
    assert [row.name for row in s.layers] == ["stem", "1"]
    # a graph spec written against Keras-style default names keeps them (its wiring needs them)
    graph = {
        "input_shape": [3, 8, 8],
        "convention": "pytorch",
        "layers": [
            {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": 1},
            {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": 1},
            {"type": "add", "inputs": ["conv2d", "conv2d_1"]},
        ],
    }
    s = cnncalc.summarize(cnncalc.parse(graph))
    assert [row.name for row in s.layers] == ["conv2d", "conv2d_1", "add"]


def test_json_output_reads_back_with_its_names() -> None:
    doc = run_json("summary", "--convention", "pytorch", "--input", "3x32x32", *STACK)
    again = cnncalc.summarize(cnncalc.parse(doc))
    assert [row.name for row in again.layers] == ["0", "1", "2", "3", "4"]


def test_explain_headings_use_the_torch_class() -> None:
    out = _explain(*STACK)
    for heading in ("1. 0 (Conv2d)", "3. 2 (MaxPool2d)", "5. 4 (Linear)"):
        assert heading in out
    assert "1. conv2d (Conv2D)" in _explain("conv:6,5", convention="keras", shape="32x32x3")


# ------------------------------------------------------------------- item 18: explain's words


def test_pytorch_padding_zero_is_the_floor_formula_with_p_zero() -> None:
    out = _explain("conv2d:3,6,5")
    # nn.Conv2d docs: H_out = floor((H_in + 2*padding - dilation*(k - 1) - 1)/stride) + 1
    # = floor((32 + 0 - 4 - 1)/1) + 1 = 28
    assert "height, width = floor((H_in + 2P - F) / S) + 1" in out
    assert "= floor((32 + 2*0 - 5) / 1) + 1 = floor(27) + 1 = 28" in out
    assert "'valid'" not in out and "ceil((H_in - F + 1) / S)" not in out
    assert "padding=0" in out
    keras = _explain("conv:6,5", convention="keras", shape="32x32x3")
    assert "ceil((H_in - F + 1) / S)" in keras and "'valid'" in keras


def test_pytorch_pool_padding_one() -> None:
    # nn.MaxPool2d(3, 2, 1) on 7: floor((7 + 2 - 3)/2) + 1 = 4
    out = _explain("maxpool:3,2,1", shape="1x7x7")
    assert "= floor((7 + 2*1 - 3) / 2) + 1 = floor(3) + 1 = 4" in out


def test_argument_words_follow_the_convention() -> None:
    torch = _explain(*STACK)
    assert "C_out = out_channels = 6" in torch and "C_out = out_features (the last axis) = 10" in torch
    keras = _explain("conv:6,5", "flatten", "dense:10", convention="keras", shape="32x32x3")
    assert "C_out = filters = 6" in keras and "C_out = units (the last axis) = 10" in keras
    assert "out_channels" not in keras and "out_features" not in keras
    assert "filters" not in torch and "units" not in torch


def test_depthwise_is_a_grouped_conv_under_pytorch() -> None:
    out = _explain("depthwiseconv2d:3,depth_multiplier=2")
    assert "depthwise     = Conv2d(C_in, C_in*dm, F, groups=C_in) = groups=3" in out
    assert "out_channels = C_in*dm" in out and "= 3*2 = 6" in out
    # params 3*3*3*2 + 3*2 = 60 (weights + bias)
    assert "= 3*3*3*2 + 6 = 60" in out
    keras = _explain("depthwiseconv2d:3,depth_multiplier=2", convention="keras", shape="32x32x3")
    assert "groups" not in keras and "C_in*depth_multiplier" in keras


def test_causal_padding_shows_f_eff_minus_one() -> None:
    # F = 5, d = 2: F_eff = 2*(5 - 1) + 1 = 9, P_left = 8; length (16 + 8 - 9)/1 + 1 = 16
    out = _explain("conv1d:4,5,padding=causal,dilation_rate=2", convention="keras", shape="16x3")
    assert "P_left   = F_eff - 1\n            = 9 - 1 = 8" in out
    assert "= floor((16 + 8 + 0 - 9) / 1) + 1 = floor(15) + 1 = 16" in out


def test_flatten_is_not_units_and_batchnorm_names_gamma_beta() -> None:
    torch = _explain("bn", "flatten", shape="6x4x4")
    assert "length = product of all axes" in torch and "units" not in torch
    assert "affine=True: gamma (weight) + beta (bias) = 2" in torch
    assert "= 6*2 = 12" in torch  # 6 gammas + 6 betas
    keras = _explain("bn", convention="keras", shape="4x4x6")
    assert "gamma (scale=True) + beta (center=True) = 2" in keras
    assert "center + scale" not in keras and "center + scale" not in torch


def test_padding_and_cropping_rows_say_the_field_is_unchanged() -> None:
    out = _explain("conv:4,3", "zeropadding2d:1", "cropping2d:1", convention="keras", shape="8x8x1")
    blocks = out.split("\n\n")
    for block in blocks[2:]:  # padding, cropping: 3x3 field, jump 1, as after the conv
        assert "field  = unchanged: 1-cell windows, stride 1 = 3, jump 1" in block
        assert "r_in" not in block


def test_adaptive_pooling_window_rule() -> None:
    # n = 10 -> 3: window i covers floor(10i/3) .. ceil(10(i+1)/3) - 1: 0..3, 3..6, 6..9
    out = _explain("adaptiveavgpool2d:3", shape="3x10x10")
    assert "height window i = floor(i*H_in/H_out) .. ceil((i+1)*H_in/H_out) - 1" in out
    assert "= 10 -> 3: 4 cells each, stride 3 = 3 windows" in out


def test_legend_defines_each_symbol_once() -> None:
    out = _explain(*STACK)
    head = out.split("\n\n")[0]
    assert head.splitlines()[1].startswith("   Symbols: ")
    for symbol in ("H_in", "C_in", "C_out", "F_h", "S", "P", "r_in"):
        assert re.search(rf"(?<![A-Za-z_]){symbol}(?![A-Za-z_])", head), symbol
    assert "D_in" not in out and "K*" not in out and "prod(F)" not in out


_DEFINED = {symbol for _, members in SYMBOLS for symbol, _ in members}
_TOKEN = re.compile(r"(?<![A-Za-z_0-9])[A-Za-z][A-Za-z_]*(?![A-Za-z_0-9(])")
_LOWER_SYMBOLS = {"dm", "d", "i", "r", "r_in", "j_in", "out_pad"}


def _symbols(formula: str) -> set[str]:
    """The quantities a formula names: ``H_in``, ``S``, ``C_out``, ``dm`` (not words such as
    ``Keras``, ``True`` or argument names such as ``out_channels``)."""
    tokens = _TOKEN.findall(formula.replace("2P", "2 P"))  # PyTorch's 2P: twice P
    return {t for t in tokens if (t[0].isupper() and (len(t) <= 2 or "_" in t)) or t in _LOWER_SYMBOLS}


def _explanations(source, shape, kw, convention):  # noqa: ANN001, ANN202 - hypothesis's example
    try:
        s = cnncalc.summarize(source, input_shape=shape, expand=True, convention=convention, **kw)
        return s, explain(s)
    except CnncalcError:
        return None


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
def test_every_kind_within_80_columns_with_defined_symbols(type_: str) -> None:
    """Each kind's strategy examples (tests/strategies.py), under both conventions: every rule,
    formula, working and legend line of explain within 80 columns, and every symbol a formula
    uses (an upper-case or subscripted name) defined in the legend's table."""

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(STRATEGIES[type_])
    def check(example) -> None:  # noqa: ANN001 - hypothesis's example tuple
        source, shape, kw = example
        for convention in ("keras", "pytorch"):
            done = _explanations(
                source, shape, {k: v for k, v in kw.items() if k != "convention"}, convention
            )
            if done is None:
                continue
            summary, explanations = done
            lines = list(explain_lines(summary, explanations))
            specs = {"   " + e.spec for e in explanations if e.spec}
            titles = {f"{e.index + 1}. {e.name} ({e.class_name})" for e in explanations}
            for line in lines[1:]:
                if line in specs or line in titles:
                    continue  # the user's own spec text and names
                assert len(line) <= 80, (type_, line)
            assert all(len(line) <= 80 for line in legend(explanations))
            for e in explanations:
                for step in e.steps:
                    assert _symbols(step.formula) <= _DEFINED, (type_, step.formula)

    check()
