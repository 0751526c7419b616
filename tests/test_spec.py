"""The compact grammar and the JSON spec parser, including fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.io import parse_layer, parse_value, split_compact


def test_parse_values() -> None:
    assert parse_value("3") == 3 and parse_value("-1") == -1 and parse_value("0.5") == 0.5
    assert parse_value("3x5") == [3, 5] and parse_value("TRUE") is True and parse_value("null") is None
    assert parse_value("same") == "same"


def test_split_compact() -> None:
    assert split_compact("conv:32,3,padding=same") == ("conv", [32, 3], {"padding": "same"})
    assert split_compact("flatten") == ("flatten", [], {})


@pytest.mark.parametrize(
    ("text", "config"),
    [
        ("conv:16,2,2,valid", {"filters": 16, "kernel_size": [2, 2], "strides": [2, 2], "padding": "valid"}),
        ("conv:8,3,1,1", {"padding": [[1, 1], [1, 1]]}),
        (
            "conv:64,3x5,dilation=2,groups=4,bias=false",
            {"kernel_size": [3, 5], "dilation_rate": [2, 2], "groups": 4, "use_bias": False},
        ),
        ("maxpool:3,2,ceil_mode=true", {"pool_size": [3, 3], "strides": [2, 2], "ceil_mode": True}),
        ("pool:2", {"pool_size": [2, 2], "strides": [2, 2]}),
        ("avgpool:2,1,same", {"pool_size": [2, 2], "strides": [1, 1], "padding": "same"}),
        ("dense:10,softmax", {"units": 10, "activation": "softmax"}),
        ("dropout:0.5", {"rate": 0.5}),
        ("relu", {"negative_slope": 0.0, "threshold": 0.0}),
        ("sigmoid", {"activation": "sigmoid"}),
        ("Conv2D:4,3", {"filters": 4}),
        ("batch_normalization:momentum=0.9", {"momentum": 0.9}),
    ],
)
def test_contract_examples_parse(text: str, config: dict) -> None:
    got = parse_layer(text).layer.config()
    assert {k: got[k] for k in config} == config


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_our_error(text: str) -> None:
    try:
        parse_layer(text)
    except CnncalcError:
        pass


_TOKEN = st.sampled_from(
    ["conv", "maxpool", "avgpool", "dense", "bn", "relu", "flatten", "dropout", "conv1d", "conv3d", "x", ""]
)
_ARG = st.one_of(
    st.integers(-3, 40).map(str),
    st.sampled_from(
        [
            "same",
            "valid",
            "true",
            "1x2",
            "3x3x3",
            "0.5",
            "",
            "=",
            "padding=same",
            "groups=2",
            "dilation=2",
            "stride=0",
        ]
    ),
)


@given(_TOKEN, st.lists(_ARG, max_size=6), st.lists(st.integers(1, 40), min_size=1, max_size=4))
def test_structured_fuzz_summarize_or_our_error(kind: str, args: list[str], shape: list[int]) -> None:
    text = kind + (":" + ",".join(args) if args else "")
    for convention in ("keras", "pytorch"):
        try:
            cnncalc.summarize([text], input_shape=shape, convention=convention)
        except CnncalcError:
            pass


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "filters",
                "kernel_size",
                "strides",
                "padding",
                "units",
                "pool_size",
                "rate",
                "config",
                "name",
                "trainable",
            ]
        ),
        _JSON,
    )
)
def test_json_layer_fuzz(obj: dict) -> None:
    try:
        cnncalc.summarize({"layers": [obj]}, input_shape=(9, 9, 3))
    except CnncalcError:
        pass
    doc = json.dumps({"layers": [obj], "input_shape": [9, 9, 3]}, default=str)
    try:
        cnncalc.io.loads(doc)
    except CnncalcError:
        pass


def test_keras_style_layer_object() -> None:
    spec = cnncalc.parse(
        {
            "layers": [
                {
                    "class_name": "Conv2D",
                    "config": {
                        "name": "c1",
                        "filters": 4,
                        "kernel_size": [3, 3],
                        "trainable": True,
                        "batch_input_shape": [None, 8, 8, 1],
                    },
                }
            ]
        }
    )
    s = cnncalc.summarize(spec)
    assert s.input_shape == (8, 8, 1) and s.layers[0].name == "c1" and s.output_shape == (6, 6, 4)


def test_input_shape_only_on_first_layer() -> None:
    with pytest.raises(SpecError, match="only meaningful on the first layer"):
        cnncalc.parse({"layers": ["relu", {"type": "relu", "input_shape": [3]}]})
