"""ONNX files read from protobuf's wire format directly: the graph, never the weights.

A ``.onnx`` file is one protobuf ``ModelProto`` (onnx/onnx.proto). This module walks its bytes
by field number and wire type (https://protobuf.dev/programming-guides/encoding/) and keeps only
what cnncalc needs: the nodes, the graph's inputs and outputs, and each initializer's name, dims,
element type and where its data lives. A tensor's payload (``raw_data``, ``float_data``, ...) is
skipped by its length and decoded only when it is small (shape constants, slice indices), so the
memory a read needs grows with the graph, not with the weights: the buffer may be a memory map
whose weight pages are never touched.

Bounded against hostile input: every length is checked against its enclosing message, the
nesting is fixed (no recursion into sub-graphs or nested types), and counts of nodes,
initializers, dims and attribute values are capped (:data:`LIMITS`). Anything malformed is a
:class:`WireError` whose message says what and where.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Element types (TensorProto.DataType) whose values cnncalc decodes: struct codes.
FLOATS = {1: "f", 10: "e", 11: "d"}
INTS = {6: "i", 7: "q", 2: "B", 3: "b", 4: "H", 5: "h", 12: "I", 13: "Q", 9: "?"}
#: Bytes per element of each fixed-width element type (for stored-size figures).
ITEM_BYTES = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}
#: TensorProto.data_location EXTERNAL.
EXTERNAL = 1

#: A tensor's values are decoded when its payload is at most this many bytes.
MAX_VALUE_BYTES = 1 << 20
#: A node's own bytes are kept (for ONNX shape inference) when at most this many.
MAX_NODE_BYTES = 1 << 16


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused (hostile or absurd input, not a real model)."""

    nodes: int = 500_000
    initializers: int = 1_000_000
    dims: int = 64
    values: int = 1 << 20  # attribute ints/floats, node inputs/outputs
    text: int = 1 << 20  # bytes of one name or string


LIMITS = Limits()


class WireError(Exception):
    """The bytes are not a well-formed ONNX ModelProto (the message says what and where)."""


@dataclass(frozen=True)
class Tensor:
    """An initializer or constant: its dims and, when stored and small, its values (flat).

    ``missing`` says why ``values`` is None ("stored in an external file", "stored without data",
    "larger than 1 MiB, not read"); ``dtype`` is the TensorProto element type."""

    dims: tuple[int, ...]
    values: tuple[float, ...] | None = None
    integer: bool = False
    dtype: int = 1
    missing: str | None = None

    @property
    def elements(self) -> int:
        return math.prod(self.dims)


@dataclass(frozen=True)
class Node:
    """One graph node: op type, name (the row's name), inputs, outputs and decoded attributes."""

    op: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    domain: str = ""
    #: the serialized NodeProto when small (for ONNX's own shape inference of an op cnncalc has
    #: no rule for); b"" when larger than :data:`MAX_NODE_BYTES`
    raw: bytes = field(default=b"", repr=False)


#: A graph input or output: name and dims (None where dynamic); dims None when not a tensor.
ValueInfo = tuple[str, tuple[int | None, ...]]


@dataclass(frozen=True)
class Graph:
    """What cnncalc reads of an ONNX model: inputs (dims, None where dynamic), initializers, nodes."""

    inputs: tuple[ValueInfo, ...]
    initializers: dict[str, Tensor]
    nodes: tuple[Node, ...]
    name: str | None = None
    outputs: tuple[ValueInfo, ...] = ()
    #: the ai.onnx opset the model declares (0: not declared)
    opset: int = 0
    #: the ModelProto's producer, for messages
    producer: str = ""
    #: shapes the file records for its tensors (value_info and outputs), by name
    recorded: dict[str, tuple[int | None, ...]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- wire primitives


def _varint(buf: Any, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError("a number runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("a number longer than 10 bytes")


def _signed(value: int) -> int:
    """int64/int32 fields are two's complement in 64 bits."""
    return value - (1 << 64) if value >= 1 << 63 else value


#: One field: (number, wire type, value) with value an int (varint) or a (start, end) span.
Field = tuple[int, int, Any]


def _fields(buf: Any, pos: int, end: int) -> Iterator[Field]:
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, 0, value
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if length > end - pos:
                raise WireError(f"field {number} says {length} bytes, {end - pos} remain")
            yield number, 2, (pos, pos + length)
            pos += length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if size > end - pos:
                raise WireError(f"field {number} runs past the end of its message")
            yield number, wire, (pos, pos + size)
            pos += size
        else:
            raise WireError(f"field {number} has wire type {wire} (groups are not ONNX)")


def _span(f: Field) -> tuple[int, int]:
    if f[1] != 2:
        raise WireError(f"field {f[0]} should be length-delimited, has wire type {f[1]}")
    span: tuple[int, int] = f[2]
    return span


def _int(f: Field) -> int:
    if f[1] != 0:
        raise WireError(f"field {f[0]} should be a number, has wire type {f[1]}")
    value: int = f[2]
    return _signed(value)


def _text(buf: Any, f: Field) -> str:
    start, end = _span(f)
    if end - start > LIMITS.text:
        raise WireError(f"a name or string of {end - start} bytes")
    return bytes(buf[start:end]).decode("utf-8", "replace")


def _float(buf: Any, f: Field) -> float:
    if f[1] != 5:
        raise WireError(f"field {f[0]} should be a float, has wire type {f[1]}")
    value: float = struct.unpack_from("<f", buf, f[2][0])[0]
    return _short(value)


def _short(value: float) -> float:
    """The shortest decimal that is the same float32 (an attribute written as 0.2 reads as 0.2,
    not 0.20000000298023224)."""
    for digits in range(6, 10):
        text = float(f"{value:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", text))[0] == value:
            return text
    return value


def _ints_into(out: list[int], buf: Any, f: Field) -> None:
    """A repeated integer field, packed (one span of varints) or not (one varint)."""
    if f[1] == 0:
        out.append(_signed(f[2]))
    else:
        pos, end = _span(f)
        while pos < end:
            value, pos = _varint(buf, pos, end)
            out.append(_signed(value))
            if len(out) > LIMITS.values:
                raise WireError(f"more than {LIMITS.values} values in one field")
    if len(out) > LIMITS.values:
        raise WireError(f"more than {LIMITS.values} values in one field")


def _floats_into(out: list[float], buf: Any, f: Field, short: bool = True) -> None:
    """A repeated float field; ``short``: attribute values as their shortest decimals."""
    if f[1] == 5:
        out.append(_float(buf, f) if short else struct.unpack_from("<f", buf, f[2][0])[0])
    else:
        start, end = _span(f)
        if (end - start) % 4:
            raise WireError("packed floats of a length that is not a multiple of 4")
        if len(out) + (end - start) // 4 > LIMITS.values:
            raise WireError(f"more than {LIMITS.values} values in one field")
        values = struct.unpack_from(f"<{(end - start) // 4}f", buf, start)
        out.extend(map(_short, values) if short else values)


# ----------------------------------------------------------------------------- messages


def _tensor(buf: Any, start: int, end: int) -> tuple[str, Tensor]:
    """A TensorProto: name, dims, type; payload decoded only when small (skipped otherwise)."""
    dims: list[int] = []
    dtype = 1
    name = ""
    location = 0
    raw: tuple[int, int] | None = None
    typed: dict[int, list[Field]] = {}
    external = False
    for f in _fields(buf, start, end):
        number = f[0]
        if number == 1:
            _ints_into(dims, buf, f)
            if len(dims) > LIMITS.dims:
                raise WireError(f"a tensor with more than {LIMITS.dims} dims")
        elif number == 2:
            dtype = _int(f)
        elif number == 8:
            name = _text(buf, f)
        elif number == 9:
            raw = _span(f)
        elif number in (4, 5, 7, 10, 11):  # float_data, int32_data, int64_data, double_data, uint64_data
            typed.setdefault(number, []).append(f)
        elif number == 13:
            external = True
        elif number == 14:
            location = _int(f)
    if any(d < 0 for d in dims):
        raise WireError(f"tensor {name!r} has a negative dim {tuple(dims)}")
    count = math.prod(dims)
    values: tuple[float, ...] | None = None
    missing: str | None = None
    if location == EXTERNAL or external:
        missing = "stored in an external data file (never loaded)"
    elif raw is not None:
        values, missing = _raw_values(buf, raw, dtype, count)
    elif typed:
        values, missing = _typed_values(buf, typed, dtype, count)
    elif count == 0:
        values = ()
    else:
        missing = "stored without data"
    return name, Tensor(tuple(dims), values, dtype in INTS, dtype, missing)


def _raw_values(
    buf: Any, span: tuple[int, int], dtype: int, count: int
) -> tuple[tuple[float, ...] | None, str | None]:
    start, end = span
    if end - start > MAX_VALUE_BYTES:
        return None, f"larger than {MAX_VALUE_BYTES // 2**20} MiB, not read"
    code = FLOATS.get(dtype) or INTS.get(dtype)
    if dtype == 16:  # bfloat16: the high half of a float32
        if end - start != 2 * count:
            return None, "stored with a payload that does not match its dims"
        halves = struct.unpack_from(f"<{count}H", buf, start)
        return struct.unpack(f"<{count}f", struct.pack(f"<{count}I", *(h << 16 for h in halves))), None
    if code is None:
        return None, f"of element type {dtype}, whose values cnncalc does not decode"
    if struct.calcsize(code) * count != end - start:
        return None, "stored with a payload that does not match its dims"
    return tuple(struct.unpack_from(f"<{count}{code}", buf, start)), None


def _typed_values(
    buf: Any, typed: dict[int, list[Field]], dtype: int, count: int
) -> tuple[tuple[float, ...] | None, str | None]:
    size = sum(f[2][1] - f[2][0] if f[1] == 2 else 8 for fs in typed.values() for f in fs)
    if size > MAX_VALUE_BYTES:
        return None, f"larger than {MAX_VALUE_BYTES // 2**20} MiB, not read"
    floats: list[float] = []
    ints: list[int] = []
    for number, fs in typed.items():
        for f in fs:
            if number == 4:
                _floats_into(floats, buf, f, short=False)
            elif number == 10:
                if f[1] == 1:
                    floats.append(struct.unpack_from("<d", buf, f[2][0])[0])
                else:
                    s, e = _span(f)
                    if (e - s) % 8:
                        raise WireError("packed doubles of a length that is not a multiple of 8")
                    floats.extend(struct.unpack_from(f"<{(e - s) // 8}d", buf, s))
            else:
                _ints_into(ints, buf, f)
    if dtype == 10 and ints:  # float16 kept as its bits in int32_data
        ints_bits = [v & 0xFFFF for v in ints]
        floats = list(struct.unpack(f"<{len(ints_bits)}e", struct.pack(f"<{len(ints_bits)}H", *ints_bits)))
        ints = []
    values: tuple[float, ...] = tuple(floats) if floats else tuple(ints)
    if len(values) != count:
        return None, "stored with a payload that does not match its dims"
    return values, None


def _attribute(buf: Any, start: int, end: int) -> tuple[str, Any]:
    """An AttributeProto: its name and value (numbers, text, tuples, a Tensor; None: a sub-graph)."""
    name = ""
    kind = 0
    scalar: Any = None
    floats: list[float] = []
    ints: list[int] = []
    strings: list[str] = []
    for f in _fields(buf, start, end):
        number = f[0]
        if number == 1:
            name = _text(buf, f)
        elif number == 20:
            kind = _int(f)
        elif number == 2:
            scalar = _float(buf, f)
            kind = kind or 1
        elif number == 3:
            scalar = _int(f)
            kind = kind or 2
        elif number == 4:
            scalar = _text(buf, f)
            kind = kind or 3
        elif number == 5:
            scalar = _tensor(buf, *_span(f))[1]
            kind = kind or 4
        elif number == 7:
            _floats_into(floats, buf, f)
            kind = kind or 6
        elif number == 8:
            _ints_into(ints, buf, f)
            kind = kind or 7
        elif number == 9:
            strings.append(_text(buf, f))
            if len(strings) > LIMITS.values:
                raise WireError(f"more than {LIMITS.values} strings in one attribute")
            kind = kind or 8
    if kind == 6:
        return name, tuple(floats)
    if kind == 7:
        return name, tuple(ints)
    if kind == 8:
        return name, tuple(strings)
    if kind in (1, 2, 3, 4):
        return name, scalar
    return name, None  # a sub-graph (If, Loop, Scan) or a type cnncalc does not read


def _node(buf: Any, start: int, end: int) -> Node:
    inputs: list[str] = []
    outputs: list[str] = []
    name = op = domain = ""
    attrs: dict[str, Any] = {}
    for f in _fields(buf, start, end):
        number = f[0]
        if number == 1:
            inputs.append(_text(buf, f))
        elif number == 2:
            outputs.append(_text(buf, f))
        elif number == 3:
            name = _text(buf, f)
        elif number == 4:
            op = _text(buf, f)
        elif number == 5:
            key, value = _attribute(buf, *_span(f))
            attrs[key] = value
        elif number == 7:
            domain = _text(buf, f)
        if len(inputs) + len(outputs) + len(attrs) > LIMITS.values:
            raise WireError(f"node {name!r} has more than {LIMITS.values} inputs, outputs or attributes")
    raw = bytes(buf[start:end]) if end - start <= MAX_NODE_BYTES else b""
    return Node(op, name, tuple(inputs), tuple(outputs), attrs, domain, raw)


def _value_info(buf: Any, start: int, end: int) -> ValueInfo:
    """A ValueInfoProto: name and tensor dims (None where dynamic or symbolic)."""
    name = ""
    dims: list[int | None] = []
    for f in _fields(buf, start, end):
        if f[0] == 1:
            name = _text(buf, f)
        elif f[0] == 2:  # TypeProto
            for t in _fields(buf, *_span(f)):
                if t[0] != 1:  # tensor_type only; sequences and maps have no shape cnncalc reads
                    continue
                for part in _fields(buf, *_span(t)):
                    if part[0] != 2:  # shape
                        continue
                    for dim in _fields(buf, *_span(part)):
                        if dim[0] != 1:
                            continue
                        value: int | None = None
                        for d in _fields(buf, *_span(dim)):
                            if d[0] == 1:
                                value = _int(d)
                        dims.append(value if value is not None and value > 0 else None)
                        if len(dims) > LIMITS.dims:
                            raise WireError(f"input or output {name!r} has more than {LIMITS.dims} dims")
    return name, tuple(dims)


def read_graph(buf: Any) -> Graph:
    """The :class:`Graph` of a serialized ModelProto (``bytes``, ``mmap`` or anything indexable)."""
    end = len(buf)
    graph_span: tuple[int, int] | None = None
    opset = 0
    producer = ""
    for f in _fields(buf, 0, end):
        if f[0] == 7:
            graph_span = _span(f)
        elif f[0] == 8:  # OperatorSetIdProto: domain 1, version 2
            domain, version = "", 0
            for o in _fields(buf, *_span(f)):
                if o[0] == 1:
                    domain = _text(buf, o)
                elif o[0] == 2:
                    version = _int(o)
            if domain in ("", "ai.onnx"):
                opset = version
        elif f[0] == 2:
            producer = _text(buf, f)
    if graph_span is None:
        raise WireError("no graph")
    nodes: list[Node] = []
    initializers: dict[str, Tensor] = {}
    inputs: list[ValueInfo] = []
    outputs: list[ValueInfo] = []
    recorded: dict[str, tuple[int | None, ...]] = {}
    name = ""
    for f in _fields(buf, *graph_span):
        number = f[0]
        if number == 1:
            nodes.append(_node(buf, *_span(f)))
            if len(nodes) > LIMITS.nodes:
                raise WireError(f"more than {LIMITS.nodes} nodes")
        elif number == 5:
            key, tensor = _tensor(buf, *_span(f))
            initializers[key] = tensor
            if len(initializers) > LIMITS.initializers:
                raise WireError(f"more than {LIMITS.initializers} initializers")
        elif number == 15:  # SparseTensorProto: values 1 (a TensorProto, its name), dims 3
            key, dims = "", list[int]()
            for s in _fields(buf, *_span(f)):
                if s[0] == 1:
                    key = _tensor(buf, *_span(s))[0]
                elif s[0] == 3:
                    _ints_into(dims, buf, s)
            initializers[key] = Tensor(tuple(dims), None, False, 1, "stored as a sparse tensor")
        elif number == 11:
            inputs.append(_value_info(buf, *_span(f)))
        elif number == 12:
            outputs.append(_value_info(buf, *_span(f)))
        elif number == 13:
            key, seen = _value_info(buf, *_span(f))
            recorded[key] = seen
            if len(recorded) > LIMITS.values:
                raise WireError(f"more than {LIMITS.values} value_info entries")
        elif number == 2:
            name = _text(buf, f)
        if len(inputs) + len(outputs) > LIMITS.values:
            raise WireError(f"more than {LIMITS.values} graph inputs and outputs")
    recorded.update((key, dims) for key, dims in outputs if dims)
    return Graph(
        tuple(inputs), initializers, tuple(nodes), name or None, tuple(outputs), opset, producer, recorded
    )
