"""`cnncalc check` of a long spec read a layer at a time (issue 28): the incremental JSON reader
(:mod:`cnncalc.io.jsonstream`) reads what ``json.loads`` reads, and a check read that way gives
exactly the result, messages and exit code of the text decoded whole."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc import check as check_module
from cnncalc.check import check_text, run_checks
from cnncalc.io.document import layer_results, parse_layer_object, stream_results, stream_spec
from cnncalc.io.jsonstream import Irregular, Window, unique_keys

from .helpers import run

# 3x3 'same' convolution, 8 -> 8 channels, with bias: 3 * 3 * 8 * 8 + 8 = 584 params;
# batch normalization of 8 channels: 4 * 8 = 32 (16 trainable gamma/beta, 16 moving statistics).
BLOCK = ["conv:8,3,padding=same", "bn", "relu"]
CONV_PARAMS, BN_PARAMS = 3 * 3 * 8 * 8 + 8, 4 * 8


def snapshot(layers: int) -> str:
    """``summary --format json`` of the conv/bn/relu stack on 8x8x8 (every layer has figures)."""
    spec = json.dumps({"input_shape": [8, 8, 8], "layers": [BLOCK[i % 3] for i in range(layers)]})
    result = run("summary", "-f", "-", "--format", "json", input=spec)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every spec, however short, read a layer at a time (the path a long one takes)."""
    monkeypatch.setattr(check_module, "STREAM_FROM", 0)


def both_ways(
    path: Path, monkeypatch: pytest.MonkeyPatch, *, read_whole: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The check of ``path`` read a layer at a time, and decoded whole (the reference);
    ``read_whole=False``: the first never fell back to decoding the text whole."""
    whole_reads = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        whole_reads.append(args)
        return check_text(*args, **kwargs)

    monkeypatch.setattr(check_module, "STREAM_FROM", 0)
    monkeypatch.setattr(check_module, "check_text", counted)
    streamed = run_checks([str(path)])
    monkeypatch.setattr(check_module, "check_text", check_text)
    assert read_whole or not whole_reads
    monkeypatch.setattr(check_module, "STREAM_FROM", 1 << 62)
    whole = run_checks([str(path)])
    assert streamed.exit_code == whole.exit_code
    return streamed.results[0].to_dict(), whole.results[0].to_dict()


# --- the reader -------------------------------------------------------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_SPACE = st.text(alphabet=" \t\n\r", max_size=3)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A JSON object whose values (one of them a list read element by element) are written with
    odd whitespace, escapes or raw unicode, any indentation and separators."""
    members = draw(st.dictionaries(st.text(max_size=8), _VALUES, max_size=5))
    members["layers"] = draw(st.lists(_VALUES, max_size=6))
    ascii_only = draw(st.booleans())

    def dumped(value: Any) -> str:
        indent = draw(st.sampled_from([None, 0, 2, "\t"]))
        return json.dumps(value, ensure_ascii=ascii_only, indent=indent)

    parts = [draw(_SPACE), "{"]
    for index, (key, value) in enumerate(members.items()):
        parts += [draw(_SPACE), "," if index else "", draw(_SPACE), json.dumps(key, ensure_ascii=ascii_only)]
        parts += [draw(_SPACE), ":", draw(_SPACE)]
        if isinstance(value, list):
            parts.append("[")
            for i, item in enumerate(value):
                parts += [draw(_SPACE), "," if i else "", draw(_SPACE), dumped(item)]
            parts += [draw(_SPACE), "]"]
        else:
            parts.append(dumped(value))
    parts += [draw(_SPACE), "}", draw(_SPACE)]
    return "".join(parts)


def pieces(text: str, cuts: list[int]) -> list[str]:
    """``text`` cut at the given places (anywhere: inside numbers, strings, escapes)."""
    places = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *places], [*places, len(text)], strict=True)]


def read(chunks: list[str], *, strict: bool = True) -> dict[str, Any]:
    """A whole document read through the window: lists at the top a value at a time."""
    window = Window(chunks, strict=strict)
    out: dict[str, Any] = {}
    for key in window.members():
        if key in out:
            raise Irregular("duplicate key")
        # a spec's limits: 64 levels in all (MAX_JSON_DEPTH), the object and the list included
        out[key] = list(window.elements(62)) if window.peek() == "[" else window.value(63)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.lists(st.integers(min_value=0), max_size=12), st.booleans())
def test_reader_reads_what_json_loads_reads(text: str, cuts: list[int], strict: bool) -> None:
    expected = json.loads(text)
    assert read([text], strict=strict) == expected
    assert read(pieces(text, cuts), strict=strict) == expected  # cut anywhere, even in a number


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents(),
    st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(list('{}[],:"\\ 0e.-tnx'))),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.integers(min_value=0), max_size=6),
)
def test_reader_never_accepts_what_json_refuses(
    text: str, edits: list[tuple[int, str]], cuts: list[int]
) -> None:
    """Damaged text: either both refuse it, or the reader reads what json.loads reads."""
    for place, char in edits:
        place %= len(text) + 1
        text = text[:place] + char + text[place + 1 :] if place % 2 else text[:place] + char + text[place:]
    try:
        expected = json.loads(text, object_pairs_hook=unique_keys)
    except Exception:  # noqa: BLE001 - any refusal: bad JSON, a repeated key
        expected = Irregular
    try:
        got = read(pieces(text, cuts))
    except Irregular:
        got = Irregular
    if not isinstance(expected, dict):
        assume(expected is Irregular or got is Irregular)  # the reader only reads objects
        assert got is Irregular
    else:
        assert got == expected or (got is Irregular and "layers" not in expected)


def test_reader_keeps_nan_and_infinity() -> None:
    doc = read(['{"a": NaN, "layers": [Infinity, -Infinity, 1e400, -0.0]}'])
    assert math.isnan(doc["a"])
    assert doc["layers"][:3] == [math.inf, -math.inf, math.inf] and math.copysign(1, doc["layers"][3]) == -1


@pytest.mark.parametrize(
    "text",
    [
        '\ufeff{"layers": []}',  # a BOM: json.loads refuses it, and names it
        '{"layers": []} x',  # extra data
        '{"layers": [1,]}',  # a trailing comma
        '{"layers": [{"a": 1, "a": 2}]}',  # a repeated key inside a value
        '{"layers": [' + "[" * 63 + "]" * 63 + "]}",  # 65 levels deep
        '{"layers": [' + "[" * 5000 + "]" * 5000 + "]}",  # past the decoder's recursion limit
        '{"layers": [1' + "0" * 5000 + "]}",  # more than 4,300 digits
        '{"layers": ["\\x"]}',  # a bad escape
        '{"a": {}  {,"b": [], "layers": []}',  # a value then no delimiter (found by hypothesis)
        '{"layers": [1 2]}',
        '{"layers": [{} {}]}',
    ],
)
def test_reader_refuses_what_the_general_reader_refuses(text: str) -> None:
    with pytest.raises(Irregular):
        read([text])
    with pytest.raises(Irregular):
        read(list(text))


def test_reader_measures_depth_exactly_at_the_limit() -> None:
    """64 levels in all is the limit (MAX_JSON_DEPTH): the object, the list, 62 inside."""
    inner = "[" * 62 + "]" * 62
    assert read(['{"layers": [' + inner + "]}"])["layers"] == [json.loads(inner)]
    with pytest.raises(Irregular):
        read(['{"layers": [[' + inner + "]]}"])


def test_a_long_value_in_small_pieces_is_decoded_a_bounded_number_of_times() -> None:
    """The window grows geometrically: a 200,000-character value arriving a character at a time
    is decoded about log2(200,000) ~ 18 times, not 200,000 times."""
    text = '{"layers": ["' + "x" * 200_000 + '"]}'
    window = Window(list(text))
    calls = []
    decode = window._decode

    def counted(s: str, i: int) -> tuple[Any, int]:
        calls.append(i)
        return decode(s, i)

    window._decode = counted
    assert next(window.members()) == "layers"
    assert list(window.elements(62)) == ["x" * 200_000]
    assert len(calls) <= 2 * math.log2(len(text)) + 4


def test_hostile_text_is_refused_in_bounded_time() -> None:
    """A 4 MB value nested 2 million levels deep, one not closed, and a 4 MB string with no end."""
    for text in (
        '{"layers": [' + "[" * 2_000_000 + "]" * 2_000_000 + "]}",
        '{"layers": [' + "[" * 4_000_000,
        '{"layers": ["' + "a" * 4_000_000,
    ):
        start = time.process_time()
        with pytest.raises(Irregular):
            read(pieces(text, list(range(0, len(text), 65_536))))
        assert time.process_time() - start < 5


# --- the spec read a layer at a time ------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        {"type": "conv2d", "filters": 8, "kernel_size": 3, "params": 1, "output_shape": [1, 2]},
        {"type": "conv2d", "config": {"filters": 8, "kernel_size": 3, "params": 7}, "macs": 3},
        {
            "type": "conv2d",
            "config": {"filters": 8, "kernel_size": 3},
            "params": 7,
            "receptive_field": "global",
        },
        {"class_name": "Dense", "config": {"units": 3, "flops": None}, "module": "keras.layers"},
        {"type": "relu"},
    ],
)
def test_layer_results_are_those_the_layer_spec_keeps(layer: dict[str, Any]) -> None:
    kept = parse_layer_object(json.loads(json.dumps(layer)))[0].results
    assert dict(layer_results(layer)) == dict(kept)
    assert list(layer_results(layer)) == list(kept)  # in the same order (LAYER_RESULTS')


def test_stream_spec_is_the_spec_loads_makes() -> None:
    from cnncalc.io import loads

    text = snapshot(30)
    streamed, whole = stream_spec(Window([text])), loads(text)
    assert len(streamed.layers) == len(whole.layers) == 30
    for a, b in zip(streamed.layers, whole.layers, strict=True):
        assert (a.layer, a.text, a.name, a.trainable, a.inputs) == (
            b.layer,
            b.text,
            b.name,
            b.trainable,
            b.inputs,
        )
        assert not a.results  # read again by stream_results
    assert (streamed.input_shape, streamed.convention, streamed.results) == (
        whole.input_shape,
        whole.convention,
        whole.results,
    )
    fields = list(stream_results(Window(pieces(text, list(range(0, len(text), 97))), strict=False)))
    assert fields == [dict(ls.results) for ls in whole.layers]
    assert fields[0]["params"] == CONV_PARAMS and fields[1]["params"] == BN_PARAMS


# --- check: the same results, messages and exit codes either way -----------------------------------


def test_a_passing_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "stack.json"
    path.write_text(snapshot(30))
    streamed, whole = both_ways(path, monkeypatch, read_whole=False)
    assert streamed == whole
    # every layer's 11 figures and the model's 14 (output_shape, 8 totals, 5 byte counts)
    assert streamed["status"] == "pass" and streamed["checked"] == 30 * 11 + 14


def test_changed_figures_are_listed_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads(snapshot(6))
    doc["layers"][0]["params"] = CONV_PARAMS + 1
    doc["layers"][4]["params"] = BN_PARAMS - 1
    doc["layers"][4]["receptive_field"]["size"] = [9, 9]
    doc["layers"][5]["output_shape"] = [8, 8, 9]
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(doc, indent=1))
    streamed, whole = both_ways(path, monkeypatch, read_whole=False)
    assert streamed == whole
    assert [(d["where"], d["field"], d["expected"], d["actual"]) for d in streamed["differences"]] == [
        ("layer 1 conv2d", "params", CONV_PARAMS + 1, CONV_PARAMS),
        ("layer 5 batch_normalization_1", "params", BN_PARAMS - 1, BN_PARAMS),
        # conv 3x3 twice (stride 1): the field is 1 + 2 + 2 = 5 wide after the second block
        (
            "layer 5 batch_normalization_1",
            "receptive_field",
            {"size": [9, 9], "jump": [1, 1], "start": [0, 0]},
            {"size": [5, 5], "jump": [1, 1], "start": [0, 0]},
        ),
        ("layer 6 re_lu_1", "output_shape", [8, 8, 9], [8, 8, 8]),
    ]


def _edited(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text
    return text.replace(old, new, count)


_SNAPSHOT = None


def _snapshot() -> str:
    global _SNAPSHOT
    if _SNAPSHOT is None:
        _SNAPSHOT = snapshot(9)
    return _SNAPSHOT


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: _edited(t, '"flops": 74240', '"flops": "many"'),  # a figure of the wrong type
        lambda t: _edited(t, '"params": 584', '"params": true'),
        lambda t: _edited(
            t, '"output_shape": [8, 8, 8], "params": 32', '"output_shape": [8.0, 8, 8], "params": 32'
        ),
        lambda t: _edited(
            t, '"output_shape": [8, 8, 8], "params": 32', '"output_shape": [8, null, 8], "params": 32'
        ),
        lambda t: _edited(t, '"macs": 36864', '"macs": NaN'),
        lambda t: _edited(t, '"receptive_field": {"size": [3, 3]', '"receptive_field": {"size": [3, true]'),
        lambda t: _edited(t, '"receptive_field": {"size": [3, 3]', '"receptive_field": {"size": [3, "3"]'),
        lambda t: _edited(t, '"name": "re_lu"', '"name": "re_lu", "name": "again"'),  # a repeated key
        lambda t: _edited(t, '"dtype"', '"convention": "pytorch",\n  "dtype"'),  # a repeated top key
        lambda t: _edited(t, '  "convention": "keras",\n', "").replace(
            '"total_params"', '"convention": "keras", "total_params"'
        ),
        lambda t: _edited(t, '  "convention": "keras",\n', "").replace(
            '"total_params"', '"convention": "pytorch", "total_params"'
        ),
        lambda t: _edited(t, '  "convention": "keras",\n', ""),
        lambda t: "\ufeff" + t,  # a BOM
        lambda t: t + "x",
        lambda t: t[:-40],  # cut short
        lambda t: _edited(t, '"type": "relu"', '"type": "rleu"'),
        lambda t: _edited(t, '"filters": 8', '"filters": 8, "filter": 8'),
        lambda t: _edited(t, '"input_shape": [8, 8, 8]', '"input_shape": [8, 8, 8], "color": 1'),
        lambda t: _edited(t, '"input_shape": [8, 8, 8]', '"input_shape": [2, 2, 8]'),  # shapes change
        lambda t: _edited(t, '"input_shape": [8, 8, 8]', '"input_shape": [0, 8, 8]'),
        lambda t: _edited(t, '"input_shape": [8, 8, 8],', ""),
        lambda t: _edited(t, '"total_params": 1848', '"total_params": 1e400'),
        lambda t: _edited(
            t,
            '"total_params": 1848',
            '"total_params": 1848, "expect": {"max_params": 10, "layers": {"2": {"params": 1}}}',
        ),
        lambda t: _edited(
            t, '"total_params": 1848', '"total_params": 1848, "expect": {"layers": {"nope": {"params": 1}}}'
        ),
        lambda t: _edited(t, '"layers": [', '"layers": [' + "[" * 70 + "]" * 70 + ","),
        lambda t: _edited(t, '"layers": [', '"layers": {').replace("\n  ],", "\n  },"),
        lambda t: _edited(
            t, '"layers": [', '"layers": ["conv:8,3,padding=same", '
        ),  # the figures no longer pair
        lambda t: _edited(t, '"layers": [', '"layers": ["bn", '),
        lambda t: _edited(t, '"params": 584', '"params": 5' + "0" * 5000),
        lambda t: '{"class_name": "Sequential", "config": {"layers": []}}',
        lambda t: "[]",
        lambda t: "",
    ],
)
def test_every_error_and_difference_is_said_as_before(
    edit: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(edit(_snapshot()), encoding="utf-8")
    streamed, whole = both_ways(path, monkeypatch)
    assert streamed == whole


def test_the_snapshot_holds_the_known_figures() -> None:
    """3 conv/bn/relu blocks: 3 * (584 + 32) = 1,848 params (what the edits below start from)."""
    assert f'"total_params": {3 * (CONV_PARAMS + BN_PARAMS)}' in _snapshot() and CONV_PARAMS == 584


def test_a_file_changed_between_the_readings_is_checked_as_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: None
) -> None:
    """The layers are read, summarized, then their figures read again from the file: a file
    changed meanwhile (another process, an editor) is checked afresh as it is now, never with
    one reading's layers against the other's figures."""
    path = tmp_path / "spec.json"
    text = _snapshot()
    path.write_text(text)
    summarize = check_module.summarize
    changed = _edited(text, '"params": 584', '"params": 585')

    def meanwhile(spec: Any, **kwargs: Any) -> Any:
        path.write_text(changed)
        return summarize(spec, **kwargs)

    monkeypatch.setattr(check_module, "summarize", meanwhile)
    result = run_checks([str(path)]).results[0]
    monkeypatch.setattr(check_module, "summarize", summarize)
    assert result.to_dict() == check_text(changed, str(path)).to_dict()
    assert [(d.field, d.expected, d.actual) for d in result.differences] == [("params", 585, 584)]


def test_a_file_removed_between_the_readings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: None
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(_snapshot())
    summarize = check_module.summarize

    def meanwhile(spec: Any, **kwargs: Any) -> Any:
        path.unlink()
        return summarize(spec, **kwargs)

    monkeypatch.setattr(check_module, "summarize", meanwhile)
    result = run_checks([str(path)]).results[0]
    assert result.status.value == "error" and result.error == f"cannot read {path}: No such file or directory"


def test_standard_input_read_a_layer_at_a_time(streamed: None) -> None:
    text = _edited(_snapshot(), '"params": 584', '"params": 583')
    result = run("check", "-", "--format", "json", input=text)
    assert result.exit_code == 1
    (only,) = json.loads(result.stdout)["specs"]
    assert [(d["field"], d["expected"], d["actual"]) for d in only["differences"]] == [
        ("params", 583, CONV_PARAMS)
    ]


def test_a_long_snapshot_from_the_command_line(tmp_path: Path) -> None:
    """A snapshot over STREAM_FROM (1 MiB, about 2,500 layers of this stack) takes the layer-at-a-
    time path as it is: passing, then with one figure changed (exit 1, the one difference)."""
    text = snapshot(3_000)
    assert len(text.encode()) >= check_module.STREAM_FROM
    path = tmp_path / "long.json"
    path.write_text(text)
    passing = run("check", str(path))
    assert passing.exit_code == 0 and "1 passed, 0 failed, 0 errors" in passing.stdout
    last = text.rindex('"params": 584')
    path.write_text(text[:last] + '"params": 585' + text[last + len('"params": 584') :])
    failing = run("check", str(path), "--format", "json")
    assert failing.exit_code == 1
    (only,) = json.loads(failing.stdout)["specs"]
    # the last conv of 1,000 blocks is layer 2,998, named conv2d_999 by Keras's rule
    assert [(d["where"], d["field"], d["expected"], d["actual"]) for d in only["differences"]] == [
        ("layer 2998 conv2d_999", "params", 585, CONV_PARAMS)
    ]
