"""The ONNX wire-format reader (cnncalc/io/onnx_wire.py): it agrees with the onnx package's own
parser on every model the package ships and on our fixtures, skips weight payloads without copying
them, and refuses damaged or hostile bytes with a WireError (never another exception)."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.errors import CnncalcError
from cnncalc.io.onnx import read_onnx
from cnncalc.io.onnx_wire import LIMITS, WireError, read_graph

HERE = Path(__file__).parent / "fixtures" / "onnx"
FIXTURES = sorted(HERE.glob("*.onnx"))


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _varint(len(payload)) + payload


def _model(graph: bytes) -> bytes:
    return _key(1, 0) + _varint(8) + _bytes_field(7, graph)


def _tensor(name: str, dims: tuple[int, ...], raw: bytes | None = None, dtype: int = 1) -> bytes:
    body = b"".join(_key(1, 0) + _varint(d) for d in dims) + _key(2, 0) + _varint(dtype)
    body += _bytes_field(8, name.encode())
    if raw is not None:
        body += _bytes_field(9, raw)
    return body


def _node(op: str, inputs: tuple[str, ...], outputs: tuple[str, ...], name: str = "") -> bytes:
    body = b"".join(_bytes_field(1, i.encode()) for i in inputs)
    body += b"".join(_bytes_field(2, o.encode()) for o in outputs)
    return body + _bytes_field(3, name.encode()) + _bytes_field(4, op.encode())


def _input(name: str, dims: tuple[int, ...]) -> bytes:
    shape = b"".join(_bytes_field(1, _key(1, 0) + _varint(d)) for d in dims)
    tensor_type = _key(1, 0) + _varint(1) + _bytes_field(2, shape)
    return _bytes_field(1, name.encode()) + _bytes_field(2, _bytes_field(1, tensor_type))


def _backend_models() -> list[Path]:
    try:
        import onnx
    except ImportError:
        return []
    root = Path(onnx.__file__).parent / "backend" / "test" / "data"
    return sorted(root.glob("light/*.onnx")) + sorted(root.glob("*/*/model.onnx"))


@pytest.mark.parametrize("path", FIXTURES + _backend_models(), ids=lambda p: "/".join(p.parts[-3:]))
def test_agrees_with_the_onnx_package(path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import helper, numpy_helper

    data = path.read_bytes()
    model = onnx.ModelProto()
    model.ParseFromString(data)
    graph = read_graph(data)
    g = model.graph
    assert [(n.op_type, n.name, tuple(n.input), tuple(n.output)) for n in g.node] == [
        (n.op, n.name, n.inputs, n.outputs) for n in graph.nodes
    ]
    for theirs, ours in zip(g.node, graph.nodes, strict=True):
        for a in theirs.attribute:
            value = helper.get_attribute_value(a)
            got = ours.attrs[a.name]
            if isinstance(value, bytes):
                assert got == value.decode("utf-8", "replace")
            elif isinstance(value, list) and value and isinstance(value[0], bytes):
                assert got == tuple(v.decode("utf-8", "replace") for v in value)
            elif isinstance(value, (list, int, float)):
                assert got == (tuple(value) if isinstance(value, list) else pytest.approx(value))
            elif isinstance(value, onnx.TensorProto):
                assert got.dims == tuple(value.dims)
                if got.values is not None:
                    assert list(got.values) == pytest.approx(numpy_helper.to_array(value).ravel().tolist())
    assert {t.name: (tuple(t.dims), t.data_type) for t in g.initializer} == {
        name: (t.dims, t.dtype) for name, t in graph.initializers.items()
    }
    for t in g.initializer:
        ours = graph.initializers[t.name]
        if ours.values is not None and t.data_type in (1, 6, 7, 11):
            assert list(ours.values) == pytest.approx(numpy_helper.to_array(t).ravel().tolist())
    dims = [
        (
            v.name,
            tuple(
                d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in v.type.tensor_type.shape.dim
            ),
        )
        for v in g.input
    ]
    assert dims == list(graph.inputs)
    assert [o.name for o in g.output] == [name for name, _ in graph.outputs]


def test_a_large_payload_is_skipped_not_copied() -> None:
    # 64 MiB of weights: reading the graph allocates a tiny fraction of that.
    raw = bytes(64 * 2**20)
    graph = (
        _bytes_field(1, _node("Conv", ("x", "w"), ("y",), "c"))
        + _bytes_field(5, _tensor("w", (len(raw) // 36, 1, 3, 3), raw))
        + _bytes_field(11, _input("x", (1, 1, 8, 8)))
    )
    data = _model(graph)
    tracemalloc.start()
    try:
        read = read_graph(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read.initializers["w"].dims == (len(raw) // 36, 1, 3, 3)
    assert read.initializers["w"].values is None and "not read" in (read.initializers["w"].missing or "")
    assert peak < 1_000_000


def test_small_constants_are_decoded() -> None:
    shape = struct.pack("<2q", 1, -1)
    graph = _bytes_field(5, _tensor("s", (2,), shape, dtype=7)) + _bytes_field(
        1, _node("Relu", ("x",), ("y",))
    )
    read = read_graph(_model(graph))
    assert read.initializers["s"].values == (1, -1) and read.initializers["s"].integer


def _wire_error(data: bytes, needle: str) -> None:
    with pytest.raises(WireError, match=needle):
        read_graph(data)


def test_hostile_lengths_and_counts() -> None:
    _wire_error(_key(7, 2) + _varint(2**40), "says 1099511627776 bytes")
    _wire_error(_key(7, 0) + b"\xff" * 11, "longer than 10 bytes")
    _wire_error(_key(7, 3), "groups are not ONNX")
    _wire_error(_key(1, 0), "past the end")
    too_many_dims = b"".join(_key(1, 0) + _varint(1) for _ in range(LIMITS.dims + 1))
    _wire_error(_model(_bytes_field(5, too_many_dims)), "more than 64 dims")
    _wire_error(_model(_bytes_field(5, _key(1, 0) + _varint(-3))), "negative dim")
    assert read_graph(_model(b"")).nodes == ()


def test_a_needed_constant_stored_without_data_names_the_tensor() -> None:
    # Reshape reads its target shape from initializer "shape", stored in an external file.
    external = _tensor("shape", (2,), None, dtype=7) + _key(14, 0) + _varint(1)
    graph = (
        _bytes_field(1, _node("Reshape", ("x", "shape"), ("y",), "r"))
        + _bytes_field(5, external)
        + _bytes_field(11, _input("x", (1, 3, 4)))
    )
    with pytest.raises(CnncalcError) as err:
        read_onnx(_model(graph), "m.onnx")
    message = str(err.value)
    assert "\n" not in message
    assert "node 'r' (Reshape) needs the values of the target shape" in message
    assert "initializer 'shape' is stored in an external data file" in message


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_damaged_bytes_read_or_raise_wire_error(data) -> None:
    base = data.draw(st.sampled_from(FIXTURES)).read_bytes()
    choice = data.draw(st.sampled_from(["random", "cut", "flip", "splice"]))
    if choice == "random":
        blob = data.draw(st.binary(max_size=400))
    elif choice == "cut":
        blob = base[: data.draw(st.integers(0, len(base)))]
    elif choice == "flip":
        at = data.draw(st.integers(0, len(base) - 1))
        blob = base[:at] + bytes([data.draw(st.integers(0, 255))]) + base[at + 1 :]
    else:
        at = data.draw(st.integers(0, len(base)))
        blob = base[:at] + data.draw(st.binary(min_size=1, max_size=12)) + base[at:]
    try:
        read_graph(blob)
    except WireError as err:
        assert "\n" not in str(err)
