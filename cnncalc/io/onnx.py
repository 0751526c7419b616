"""ONNX models (``.onnx``) as specs: the graph and the initializers' dims, never run.

The protobuf is decoded with the ``onnx`` package (the optional extra ``cnncalc[onnx]``, imported
only here, only when an ONNX file is read) into plain records (:class:`Graph`); :func:`convert`
then walks the nodes in dependency order and turns each into a cnncalc layer whose output shape
comes from cnncalc's own rules (pads, strides, dilations, group, ceil_mode, auto_pad from the
node's attributes). Weight shapes come from initializer dims only, so files whose initializers
are stored without data (or as external data, which is never loaded) read the same.

Tensors are NCHW and the convention PyTorch's. The batch axis is kept out of layer shapes; shape
arithmetic (``Shape``, ``Gather``, ``Concat``, ``Unsqueeze``, ``Div`` ... feeding a ``Reshape``)
is evaluated on known values, with a dynamic batch standing in as a marker value that a
``Reshape`` must put back on axis 0.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..enums import Convention, DataFormat, Operator
from ..errors import CnncalcError, Option, ShapeError, SpecError
from ..geometry import Shape, fmt_shape
from ..layers import args as A
from ..layers.base import Context, Layer
from .files import source_name
from .spec import MAX_LAYERS, LayerSpec, Spec, build_layer

#: What ``pip install`` adds the reader's dependency.
EXTRA = "pip install 'cnncalc[onnx]'"

#: A dynamic batch axis, during shape arithmetic: a value no real size takes by accident.
BATCH = 2_147_483_629

_CTX = Context(Convention.PYTORCH, DataFormat.CHANNELS_FIRST)

#: ONNX TensorProto element types cnncalc decodes values of (for shape arithmetic and constants).
_FLOATS = {1: "f", 11: "d"}
_INTS = {6: "i", 7: "q", 2: "B", 3: "b", 4: "H", 5: "h", 12: "I", 13: "Q", 9: "?"}


# ----------------------------------------------------------------------------- plain records


@dataclass(frozen=True)
class Tensor:
    """An initializer or constant: its dims and, when stored and small, its values (flat)."""

    dims: tuple[int, ...]
    values: tuple[float, ...] | None = None
    integer: bool = False


@dataclass(frozen=True)
class Node:
    """One graph node: op type, name (the row's name), inputs, outputs and decoded attributes."""

    op: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    """What cnncalc reads of an ONNX model: inputs (dims, None where dynamic), initializers, nodes."""

    inputs: tuple[tuple[str, tuple[int | None, ...]], ...]
    initializers: dict[str, Tensor]
    nodes: tuple[Node, ...]
    name: str | None = None


# ----------------------------------------------------------------------------- protobuf -> records


def read_onnx(data: bytes, path: str, input_shape: Shape | None = None) -> Spec:
    """The Spec of an ONNX model file; ``input_shape`` (no batch axis, NCHW) fixes dynamic axes."""
    name = source_name(path)
    try:
        return convert(decode_model(data, name), input_shape)
    except CnncalcError as err:
        raise err.prefixed(f"{name}: ") from None


def decode_model(data: bytes, name: str) -> Graph:
    """Decode an ONNX ModelProto into a :class:`Graph` (never loads external data, never runs it)."""
    try:
        import onnx
    except ImportError:
        raise SpecError(f"cannot read {name}: reading ONNX files needs the onnx package ({EXTRA})") from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as err:  # noqa: BLE001 - protobuf's DecodeError and friends, whatever the version
        raise SpecError(f"not a readable ONNX model ({_reason(err)})") from None
    graph = model.graph
    if not graph.node:
        raise SpecError("not a readable ONNX model (no graph nodes)")
    initializers = {_str(t.name): _tensor(t) for t in graph.initializer}
    inputs = []
    for value in graph.input:
        if _str(value.name) in initializers:
            continue  # older exporters list initializers as inputs too
        dims = tuple(
            d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
            for d in value.type.tensor_type.shape.dim
        )
        inputs.append((_str(value.name), dims))
    nodes = tuple(
        Node(
            _str(n.op_type),
            _str(n.name),
            tuple(map(_str, n.input)),
            tuple(map(_str, n.output)),
            {_str(a.name): _attribute(a) for a in n.attribute},
        )
        for n in graph.node
    )
    return Graph(tuple(inputs), initializers, nodes, _str(graph.name) or None)


def _str(value: Any) -> str:
    """A protobuf string field as text (a damaged file may hold bytes that are not UTF-8)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reason(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) < 120 else text[:117] + "..."


def _tensor(t: Any) -> Tensor:
    """Dims and (small, stored) values of a TensorProto; external data is never opened."""
    dims = tuple(int(d) for d in t.dims)
    integer = t.data_type in _INTS
    count = math.prod(dims)
    values: tuple[float, ...] | None = None
    if count <= 4096 and t.data_location != 1:  # 1: EXTERNAL
        if t.raw_data:
            code = _FLOATS.get(t.data_type) or _INTS.get(t.data_type)
            if code and struct.calcsize(code) * count == len(t.raw_data):
                values = tuple(struct.unpack(f"<{count}{code}", t.raw_data))
        else:
            for stored in (t.int64_data, t.int32_data, t.float_data, t.double_data):
                if len(stored) == count and count:
                    values = tuple(stored)
                    break
            if count == 0:
                values = ()
    return Tensor(dims, values, integer)


def _attribute(a: Any) -> Any:
    kinds = {1: "f", 2: "i", 3: "s", 6: "floats", 7: "ints"}
    if a.type == 4:  # TENSOR
        return _tensor(a.t)
    key = kinds.get(a.type)
    if key is None:
        return None
    value = getattr(a, key)
    if key == "s":
        return _str(value)
    return tuple(value) if key in ("floats", "ints") else value


# ----------------------------------------------------------------------------- conversion


@dataclass(frozen=True)
class Data:
    """A computed tensor: the layer (or model input) it comes from and its shape without batch."""

    source: str
    shape: Shape


@dataclass(frozen=True)
class Const:
    """A known tensor: full dims (no batch split) and values (None: stored without data).

    ``initializer`` names it when it is a stored initializer (a trained parameter)."""

    dims: tuple[int, ...]
    values: tuple[float, ...] | None
    integer: bool = True
    initializer: str | None = None

    def need(self, node: Node, what: str) -> tuple[float, ...]:
        """The values, or an error naming the node that needs them."""
        if self.values is None:
            raise SpecError(f"node {node.name!r} ({node.op}) needs the values of {what}, stored without data")
        return self.values

    def ints(self, node: Node, what: str) -> list[int]:
        """The values as integers."""
        return [int(v) for v in self.need(node, what)]


@dataclass(frozen=True)
class Flat:
    """A computed tensor of batch 1 reshaped to one axis (how the dynamo exporter spells
    ``as_strided``: flatten, then Gather every element into a new shape). Only a Gather may read it."""

    data: Data


Value = Data | Const | Flat


class _Converter:
    """Walks the nodes in dependency order, building one LayerSpec per computing node."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.values: dict[str, Value] = {}
        self.layers: list[LayerSpec] = []
        self.names: set[str] = set()
        self.batch = 1
        #: Add nodes folded into the MatMul before them (a Linear's bias), by node index
        self.fused: dict[int, str] = {}
        self.consumers: dict[str, list[int]] = {}

    # -- helpers

    def row_name(self, node: Node, suffix: str = "") -> str:
        base = (node.name or (node.outputs[0] if node.outputs else node.op)) + suffix
        name, n = base, 1
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        return name

    def emit(self, node: Node, layer: Layer, sources: Sequence[Data], suffix: str = "") -> Data:
        """Add a layer reading ``sources``; its shape by cnncalc's own rules."""
        name = self.row_name(node, suffix)
        try:
            if layer.takes_many:
                out = layer.compute_many(  # type: ignore[attr-defined]
                    [s.shape for s in sources], [s.source for s in sources], _CTX
                )
            else:
                out = layer.compute(sources[0].shape, _CTX)
        except CnncalcError as err:
            raise err.at(f"node {node.name!r} ({node.op})") from None
        self.layers.append(
            LayerSpec(
                layer, f"{node.op} {name!r}", name, compact=False, inputs=tuple(s.source for s in sources)
            )
        )
        return Data(name, out.shape)

    def build(self, node: Node, kind: str, **args: Any) -> Layer:
        try:
            return build_layer(kind, [], {k: v for k, v in args.items() if v is not None})
        except CnncalcError as err:
            raise err.at(f"node {node.name!r} ({node.op})") from None

    def data(self, node: Node, index: int = 0) -> Data:
        value = self.get(node, index)
        if not isinstance(value, Data):
            raise SpecError(f"node {node.name!r} ({node.op}): input {index + 1} must be a computed tensor")
        return value

    def const(self, node: Node, index: int) -> Const | None:
        if index >= len(node.inputs) or not node.inputs[index]:
            return None
        value = self.get(node, index)
        if not isinstance(value, Const):
            raise SpecError(
                f"node {node.name!r} ({node.op}): input {index + 1} must be a constant or initializer"
            )
        return value

    def get(self, node: Node, index: int) -> Data | Const:
        """Input ``index``: a computed tensor or a constant (never a batch-folded Flat)."""
        value = self.get_any(node, index)
        if isinstance(value, Flat):
            raise SpecError(f"node {node.name!r} ({node.op}) reads a tensor flattened with its batch axis")
        return value

    def get_any(self, node: Node, index: int) -> Value:
        """Input ``index`` whatever it is."""
        if index >= len(node.inputs) or not node.inputs[index]:
            raise SpecError(f"node {node.name!r} ({node.op}) lacks input {index + 1}")
        return self.values[node.inputs[index]]

    def full(self, d: Data | Flat) -> list[int]:
        """The tensor's dims with the batch axis."""
        if isinstance(d, Flat):
            return [math.prod(d.data.shape)]
        return [self.batch, *d.shape]

    def weight(self, node: Node, index: int, what: str, rank: int | None = None) -> Const:
        w = self.const(node, index)
        if w is None or w.initializer is None and w.values is None:
            raise SpecError(f"node {node.name!r} ({node.op}) has no {what}")
        if rank is not None and len(w.dims) != rank:
            raise SpecError(
                f"node {node.name!r} ({node.op}): {what} has {len(w.dims)} axes {fmt_shape(w.dims)}, "
                f"expected {rank}"
            )
        return w


def convert(graph: Graph, input_shape: Shape | None = None) -> Spec:
    """A :class:`Graph` -> :class:`Spec` (pytorch convention, channels_first)."""
    _check_graph(graph)
    c = _Converter(graph)
    if len(graph.inputs) != 1:
        names = ", ".join(repr(n) for n, _ in graph.inputs) or "none"
        raise SpecError(
            f"cnncalc reads ONNX graphs with one input, this one has {len(graph.inputs)} ({names})"
        )
    in_name, dims = graph.inputs[0]
    if len(dims) < 2:
        raise SpecError(f"input {in_name!r} has {len(dims)} axes; expected a batch axis and more")
    batch, rest = dims[0], dims[1:]
    c.batch = BATCH if batch is None else batch
    if input_shape is not None:
        if len(input_shape) != len(rest):
            raise SpecError(
                f"input {in_name!r} is {_dims_text(dims)}: ",
                Option("input_shape"),
                f" needs {len(rest)} sizes without the batch axis, got {fmt_shape(input_shape)}",
            )
        shape = tuple(input_shape)
    elif any(d is None for d in rest):
        raise SpecError(
            f"input {in_name!r} is {_dims_text(dims)}: give ",
            Option("input_shape"),
            f" with {len(rest)} sizes (no batch axis), e.g. {fmt_shape(tuple(d or 224 for d in rest))}",
        )
    else:
        shape = tuple(d for d in rest if d is not None)
    shape = A.shape(list(shape), f"input {in_name!r}")  # the size limits, here where the file is named
    c.names.add(in_name)
    c.values[in_name] = Data(in_name, shape)
    for key, t in graph.initializers.items():
        c.values[key] = Const(t.dims, t.values, t.integer, key)
    order = _order(graph, set(c.values))
    for i in order:
        for name in graph.nodes[i].inputs:
            c.consumers.setdefault(name, []).append(i)
    for i in order:
        node = graph.nodes[i]
        handler = _HANDLERS.get(node.op)
        if handler is None:
            raise SpecError(
                f"node {node.name!r}: ONNX op {node.op!r} is not supported (cnncalc reads: "
                f"{', '.join(sorted(_HANDLERS))})"
            )
        if i in c.fused:
            c.values[node.outputs[0]] = c.values[c.fused[i]]
            continue
        try:
            outputs = handler(c, node, i)
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError) as err:
            if isinstance(err, CnncalcError):
                raise
            # a damaged or hand-made file: an attribute of the wrong type or length
            raise SpecError(
                f"node {node.name!r} ({node.op}): malformed attributes ({_reason(err)})"
            ) from None
        for out_name, value in zip(node.outputs, outputs, strict=False):
            if out_name:
                c.values[out_name] = value
    if not c.layers:
        raise SpecError("the graph computes nothing cnncalc shows (no layer nodes)")
    return Spec(
        layers=tuple(c.layers),
        input_shape=shape,
        data_format=DataFormat.CHANNELS_FIRST,
        convention=Convention.PYTORCH,
        name=graph.name,
        inputs=((in_name, shape),),
    )


def _dims_text(dims: Sequence[int | None]) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def _order(graph: Graph, known: set[str]) -> list[int]:
    """Node indices so that each comes after the nodes it reads (Kahn); cycles and inputs that
    nothing provides are errors naming the node."""
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for out in node.outputs:
            if out:
                producer[out] = i
    waiting = []
    readers: dict[int, list[int]] = {}
    for i, node in enumerate(graph.nodes):
        count = 0
        for name in node.inputs:
            if not name or name in known:
                continue
            if name not in producer:
                raise SpecError(
                    f"node {node.name!r} ({node.op}) reads {name!r}, which no node, input or initializer "
                    "provides (a missing initializer?)"
                )
            count += 1
            readers.setdefault(producer[name], []).append(i)
        waiting.append(count)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    order = []
    while ready:
        i = ready.pop(0)
        order.append(i)
        for reader in readers.get(i, []):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    if len(order) < len(graph.nodes):
        stuck = [graph.nodes[i].name or graph.nodes[i].op for i in range(len(graph.nodes)) if waiting[i]]
        shown = ", ".join(repr(n) for n in stuck[:4]) + (", ..." if len(stuck) > 4 else "")
        raise SpecError(f"the graph has a cycle: nodes {shown} wait on each other")
    return order


# ----------------------------------------------------------------------------- op handlers

Handler = Callable[[_Converter, Node, int], list[Value]]


def _spatial_args(c: _Converter, node: Node, x: Data, kernel: Sequence[int]) -> dict[str, Any]:
    """strides, dilation and explicit (before, after) padding of a conv/pool node (auto_pad resolved)."""
    rank = len(kernel)
    strides = list(node.attrs.get("strides") or [1] * rank)
    dilations = list(node.attrs.get("dilations") or [1] * rank)
    if len(strides) != rank or len(dilations) != rank:
        raise SpecError(
            f"node {node.name!r} ({node.op}): strides/dilations do not match a rank-{rank} kernel"
        )
    auto = node.attrs.get("auto_pad", "NOTSET") or "NOTSET"
    spatial = x.shape[1:]
    if len(spatial) != rank:
        raise ShapeError(
            f"node {node.name!r} ({node.op}): a rank-{rank} kernel on input {fmt_shape(x.shape)} "
            f"(expected {rank + 1} axes after the batch)"
        )
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pairs = []
        for n, f, s, d in zip(spatial, kernel, strides, dilations, strict=True):
            total = max((-(-n // s) - 1) * s + (f - 1) * d + 1 - n, 0)
            small, big = total // 2, total - total // 2
            pairs.append([small, big] if auto == "SAME_UPPER" else [big, small])
    elif auto == "VALID":
        pairs = [[0, 0]] * rank
    elif auto == "NOTSET":
        pads = list(node.attrs.get("pads") or [0] * (2 * rank))
        if len(pads) != 2 * rank:
            raise SpecError(
                f"node {node.name!r} ({node.op}): pads has {len(pads)} values, expected {2 * rank}"
            )
        pairs = [[pads[i], pads[i + rank]] for i in range(rank)]
    else:
        raise SpecError(f"node {node.name!r} ({node.op}): unknown auto_pad {auto!r}")
    return {"strides": strides, "dilation_rate": dilations, "padding": pairs}


def _conv(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    w = c.weight(node, 1, "weight initializer")
    if len(w.dims) < 3:
        raise SpecError(f"node {node.name!r} (Conv): weight {fmt_shape(w.dims)} is not a conv kernel")
    groups = int(node.attrs.get("group", 1))
    kernel = list(node.attrs.get("kernel_shape") or w.dims[2:])
    args = _spatial_args(c, node, x, kernel)
    rank = len(kernel)
    if rank not in (1, 2, 3):
        raise SpecError(f"node {node.name!r} (Conv): {rank}-D convolution is not supported")
    if w.dims[1] * groups != x.shape[0]:
        raise ShapeError(
            f"node {node.name!r} (Conv): weight {fmt_shape(w.dims)} with group={groups} expects "
            f"{w.dims[1] * groups} input channels, the input has {x.shape[0]} ({fmt_shape(x.shape)})"
        )
    bias = c.const(node, 2)
    layer = c.build(
        node,
        f"conv{rank}d",
        filters=w.dims[0],
        kernel_size=kernel,
        groups=groups,
        use_bias=bias is not None,
        **args,
    )
    return [c.emit(node, layer, [x])]


def _conv_transpose(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    w = c.weight(node, 1, "weight initializer")
    if len(w.dims) < 3:
        raise SpecError(f"node {node.name!r} (ConvTranspose): weight {fmt_shape(w.dims)} is not a kernel")
    if node.attrs.get("output_shape"):
        raise SpecError(f"node {node.name!r} (ConvTranspose): output_shape is not supported; give pads")
    groups = int(node.attrs.get("group", 1))
    kernel = list(node.attrs.get("kernel_shape") or w.dims[2:])
    rank = len(kernel)
    args = _spatial_args(c, node, x, kernel)
    if w.dims[0] != x.shape[0]:
        raise ShapeError(
            f"node {node.name!r} (ConvTranspose): weight {fmt_shape(w.dims)} expects {w.dims[0]} input "
            f"channels, the input has {x.shape[0]}"
        )
    layer = c.build(
        node,
        f"conv{rank}dtranspose",
        filters=w.dims[1] * groups,
        kernel_size=kernel,
        groups=groups,
        output_padding=list(node.attrs.get("output_padding") or [0] * rank),
        use_bias=c.const(node, 2) is not None,
        **args,
    )
    return [c.emit(node, layer, [x])]


def _pool(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    kernel = list(node.attrs.get("kernel_shape") or [])
    if not kernel:
        raise SpecError(f"node {node.name!r} ({node.op}) has no kernel_shape")
    args = _spatial_args(c, node, x, kernel)
    rank = len(kernel)
    extra: dict[str, Any] = {"ceil_mode": bool(node.attrs.get("ceil_mode", 0))}
    if node.op == "MaxPool":
        kind = f"maxpooling{rank}d"
        extra["dilation"] = args.pop("dilation_rate")
    else:
        kind = f"averagepooling{rank}d"
        args.pop("dilation_rate")
        extra["count_include_pad"] = bool(node.attrs.get("count_include_pad", 0))
    layer = c.build(node, kind, pool_size=kernel, **args, **extra)
    return [c.emit(node, layer, [x])]


def _global_pool(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    kind = "globalaveragepooling" if node.op == "GlobalAveragePool" else "globalmaxpooling"
    return [c.emit(node, c.build(node, f"{kind}{len(x.shape) - 1}d", keepdims=True), [x])]


def _reduce_mean(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    axes_const = c.const(node, 1)
    axes = axes_const.ints(node, "axes") if axes_const else list(node.attrs.get("axes") or [])
    rank = len(x.shape) + 1
    normal = _normal_axes(node, axes, rank)
    if normal != list(range(2, rank)):
        raise SpecError(
            f"node {node.name!r} (ReduceMean): only a mean over all spatial axes (a global average "
            f"pool) is supported, got axes {axes}"
        )
    keep = bool(node.attrs.get("keepdims", 1))
    return [c.emit(node, c.build(node, f"globalaveragepooling{rank - 2}d", keepdims=keep), [x])]


def _gemm(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    if node.attrs.get("transA", 0):
        raise SpecError(f"node {node.name!r} (Gemm): transA=1 is not supported")
    if len(x.shape) != 1:
        raise ShapeError(f"node {node.name!r} (Gemm): expects a 2-D input, got batch x {fmt_shape(x.shape)}")
    w = c.weight(node, 1, "weight initializer", 2)
    k, n = (w.dims[1], w.dims[0]) if node.attrs.get("transB", 0) else w.dims
    _check_features(node, x, k)
    layer = c.build(node, "dense", units=n, use_bias=c.const(node, 2) is not None)
    return [c.emit(node, layer, [x])]


def _check_features(node: Node, x: Data, k: int) -> None:
    if x.shape[-1] != k:
        raise ShapeError(
            f"node {node.name!r} ({node.op}): weight expects in_features={k}, the input has "
            f"{x.shape[-1]} ({fmt_shape(x.shape)})"
        )


def _matmul(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    w = c.const(node, 1)
    if w is None or len(w.dims) != 2:
        raise SpecError(
            f"node {node.name!r} (MatMul): only a computed tensor times a 2-D weight initializer is supported"
        )
    k, n = w.dims
    _check_features(node, x, k)
    bias = _bias_add(c, node)
    if bias is not None:
        c.fused[bias] = node.outputs[0]
    layer = c.build(node, "dense", units=n, use_bias=bias is not None)
    return [c.emit(node, layer, [x])]


def _bias_add(c: _Converter, node: Node) -> int | None:
    """The Add node right after a MatMul that adds a 1-D initializer of its width (a Linear's bias)."""
    readers = c.consumers.get(node.outputs[0], [])
    if len(readers) != 1:
        return None
    add = c.graph.nodes[readers[0]]
    if add.op != "Add" or len(add.inputs) != 2:
        return None
    other = add.inputs[1] if add.inputs[0] == node.outputs[0] else add.inputs[0]
    value = c.values.get(other)
    width = c.graph.initializers.get(node.inputs[1])
    if isinstance(value, Const) and value.initializer and width and value.dims == (width.dims[1],):
        return readers[0]
    return None


def _batch_norm(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    for index, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")):
        t = c.weight(node, index, f"{what} initializer")
        if t.dims != (x.shape[0],):
            raise ShapeError(
                f"node {node.name!r} (BatchNormalization): {what} {fmt_shape(t.dims)} does not match "
                f"{x.shape[0]} channels"
            )
    layer = c.build(
        node,
        "batchnormalization",
        epsilon=float(node.attrs.get("epsilon", 1e-5)),
        momentum=float(node.attrs.get("momentum", 0.9)),
        num_batches_tracked=False,  # ONNX keeps the running statistics only
    )
    return [c.emit(node, layer, [x])]


def _layer_norm(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    rank = len(x.shape) + 1
    axis = _normal_axes(node, [int(node.attrs.get("axis", -1))], rank)[0]
    if axis == 0:
        raise SpecError(f"node {node.name!r} (LayerNormalization): normalizing over the batch axis")
    scale = c.weight(node, 1, "scale initializer")
    normalized = x.shape[axis - 1 :]
    if math.prod(scale.dims) != math.prod(normalized):
        raise ShapeError(
            f"node {node.name!r} (LayerNormalization): scale {fmt_shape(scale.dims)} does not match "
            f"the normalized axes {fmt_shape(normalized)}"
        )
    layer = c.build(
        node,
        "layernormalization",
        axis=list(range(axis, rank)),
        epsilon=float(node.attrs.get("epsilon", 1e-5)),
        center=c.const(node, 2) is not None,
    )
    return [c.emit(node, layer, [x])]


def _activation(name: str) -> Handler:
    def handle(c: _Converter, node: Node, i: int) -> list[Value]:
        return [c.emit(node, c.build(node, "activation", activation=name), [c.data(node)])]

    return handle


def _relu(c: _Converter, node: Node, i: int) -> list[Value]:
    return [c.emit(node, c.build(node, "relu"), [c.data(node)])]


def _clip(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    bounds: list[float | None] = []
    for index, attr in ((1, "min"), (2, "max")):
        const = c.const(node, index)
        if const is not None:
            bounds.append(float(const.need(node, attr)[0]))
        else:
            given = node.attrs.get(attr)
            bounds.append(None if given is None else float(given))
    low, high = bounds
    if low not in (None, 0.0):
        raise SpecError(
            f"node {node.name!r} (Clip): only Clip(min=0, max=...) (ReLU6) is supported, got min={low}"
        )
    return [c.emit(node, c.build(node, "relu", max_value=high), [x])]


def _hard_sigmoid(c: _Converter, node: Node, i: int) -> list[Value]:
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
        raise SpecError(
            f"node {node.name!r} (HardSigmoid): only PyTorch's Hardsigmoid (alpha=1/6, beta=0.5) is "
            f"supported, got alpha={alpha}, beta={beta}"
        )
    return [c.emit(node, c.build(node, "activation", activation="hard_sigmoid"), [c.data(node)])]


def _gelu(c: _Converter, node: Node, i: int) -> list[Value]:
    if node.attrs.get("approximate", "none") != "none":
        raise SpecError(
            f"node {node.name!r} (Gelu): approximate={node.attrs['approximate']!r} is not supported"
        )
    return [c.emit(node, c.build(node, "activation", activation="gelu"), [c.data(node)])]


def _softmax(c: _Converter, node: Node, i: int) -> list[Value]:
    return [c.emit(node, c.build(node, "softmax", axis=int(node.attrs.get("axis", -1))), [c.data(node)])]


def _dropout(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    ratio = c.const(node, 1)
    rate = float(ratio.need(node, "ratio")[0]) if ratio is not None else float(node.attrs.get("ratio", 0.5))
    return [c.emit(node, c.build(node, "dropout", rate=rate), [x])]


def _identity(c: _Converter, node: Node, i: int) -> list[Value]:
    return [c.get(node, 0)]


def _flatten(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    axis = int(node.attrs.get("axis", 1)) % (len(x.shape) + 1)
    if axis == 0:
        raise SpecError(f"node {node.name!r} (Flatten): axis=0 folds the batch axis away")
    if axis == 1:
        return [c.emit(node, c.build(node, "flatten"), [x])]
    target = [math.prod(x.shape[: axis - 1]), math.prod(x.shape[axis - 1 :])]
    return [c.emit(node, c.build(node, "reshape", target_shape=target), [x])]


def _reshape_to(c: _Converter, node: Node, x: Data, target: list[int]) -> Data:
    """A Reshape layer to full dims ``target`` (batch first), which must keep the batch axis."""
    if not target or target[0] not in (c.batch, -1):
        raise SpecError(
            f"node {node.name!r} ({node.op}): reshaping to {_dims_text(target)} changes the batch axis"
        )
    rest = target[1:]
    if target[0] == -1:
        if -1 in rest:
            raise SpecError(f"node {node.name!r} ({node.op}): two -1 sizes in {target}")
        if math.prod(rest) != math.prod(x.shape):
            raise SpecError(
                f"node {node.name!r} ({node.op}): reshaping to {_dims_text(target)} changes the batch axis"
            )
    if not rest:
        raise SpecError(f"node {node.name!r} ({node.op}): reshaping to the batch axis alone")
    return c.emit(node, c.build(node, "reshape", target_shape=rest), [x])


def _reshape(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    shape_const = c.const(node, 1)
    if shape_const is None:
        raise SpecError(f"node {node.name!r} (Reshape) has no shape")
    target = shape_const.ints(node, "the target shape")
    if isinstance(value, Const):
        return [_const_reshape(node, value, target)]
    if c.batch == 1 and target in ([-1], [math.prod(value.shape)]):
        return [Flat(value)]
    full = c.full(value)
    allow_zero = bool(node.attrs.get("allowzero", 0))
    target = [full[k] if v == 0 and not allow_zero and k < len(full) else v for k, v in enumerate(target)]
    if target[0] == c.batch:
        target[0] = c.batch
    return [_reshape_to(c, node, value, target)]


def _const_reshape(node: Node, value: Const, target: list[int]) -> Const:
    count = math.prod(value.dims)
    dims = [value.dims[k] if v == 0 and k < len(value.dims) else v for k, v in enumerate(target)]
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1) or 1
        dims = [count // known if d == -1 else d for d in dims]
    if math.prod(dims) != count:
        raise SpecError(f"node {node.name!r} (Reshape): cannot reshape {count} values to {target}")
    return Const(tuple(dims), value.values, value.integer)


def _transpose(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    rank = len(x.shape) + 1
    perm = list(node.attrs.get("perm") or reversed(range(rank)))
    if sorted(perm) != list(range(rank)) or perm[0] != 0:
        raise SpecError(
            f"node {node.name!r} (Transpose): perm {perm} moves the batch axis (or is not a permutation)"
        )
    return [c.emit(node, c.build(node, "permute", dims=perm[1:]), [x])]


def _concat(c: _Converter, node: Node, i: int) -> list[Value]:
    values = [c.get(node, k) for k, name in enumerate(node.inputs) if name]
    axis = int(node.attrs.get("axis", 0))
    if all(isinstance(v, Const) for v in values):
        consts = [v for v in values if isinstance(v, Const)]
        if any(len(v.dims) != 1 for v in consts):
            raise SpecError(f"node {node.name!r} (Concat): only 1-D constants are concatenated")
        joined: list[float] = []
        for v in consts:
            joined.extend(v.need(node, "its inputs"))
        return [Const((len(joined),), tuple(joined), all(v.integer for v in consts))]
    if not all(isinstance(v, Data) for v in values):
        raise SpecError(f"node {node.name!r} (Concat): mixes constants and computed tensors")
    data = [v for v in values if isinstance(v, Data)]
    if axis % (len(data[0].shape) + 1) == 0:
        raise SpecError(f"node {node.name!r} (Concat): concatenating along the batch axis")
    if len(data) == 1:
        return [data[0]]
    return [c.emit(node, c.build(node, "concatenate", axis=axis), data)]


def _slice_args(c: _Converter, node: Node) -> tuple[list[int], list[int], list[int], list[int]]:
    if "starts" in node.attrs:  # opset < 10
        begin, end = list(node.attrs["starts"]), list(node.attrs.get("ends") or [])
        return begin, end, list(node.attrs.get("axes") or range(len(begin))), [1] * len(begin)
    parts: list[list[int] | None] = []
    for index, what in ((1, "starts"), (2, "ends"), (3, "axes"), (4, "steps")):
        const = c.const(node, index)
        parts.append(None if const is None else const.ints(node, what))
    starts, ends, axes, steps = parts
    if starts is None or ends is None:
        raise SpecError(f"node {node.name!r} (Slice) has no starts/ends")
    return starts, ends, axes or list(range(len(starts))), steps or [1] * len(starts)


def _clamp(v: int, n: int) -> int:
    """ONNX Slice's index rule: negative from the end, clamped to [0, n]."""
    return max(0, min(n, v + n if v < 0 else v))


def _slice(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    starts, ends, axes, steps = _slice_args(c, node)
    if isinstance(value, Const):
        if len(value.dims) != 1 or axes not in ([0], [-1]):
            raise SpecError(f"node {node.name!r} (Slice): only 1-D constants are sliced")
        vals = value.need(node, "its input")
        n = len(vals)
        picked = vals[_clamp(starts[0], n) : _clamp(ends[0], n) : steps[0]]
        return [Const((len(picked),), tuple(picked), value.integer)]
    full = c.full(value)
    cuts = []
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis %= len(full)
        lo, hi = _clamp(start, full[axis]), _clamp(end, full[axis])
        if step < 1:
            raise SpecError(f"node {node.name!r} (Slice): only positive steps are supported")
        if (lo, hi, step) != (0, full[axis], 1):
            cuts.append((axis, lo, hi, step))
    if len(cuts) != 1 or cuts[0][0] == 0:
        raise SpecError(
            f"node {node.name!r} (Slice): cnncalc reads slices of one non-batch axis, got {len(cuts)} axes cut"
        )
    axis, lo, hi, step = cuts[0]
    return [c.emit(node, c.build(node, "slice", axis=axis, start=lo, stop=hi, step=step), [value])]


def _split(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    full = c.full(x)
    axis = _normal_axes(node, [int(node.attrs.get("axis", 0))], len(full))[0]
    if axis == 0:
        raise SpecError(f"node {node.name!r} (Split): splitting the batch axis")
    sizes_const = c.const(node, 1)
    if sizes_const is not None:
        sizes = sizes_const.ints(node, "split")
    elif node.attrs.get("split"):
        sizes = list(node.attrs["split"])
    else:
        parts = int(node.attrs.get("num_outputs", len(node.outputs)))
        each = -(-full[axis] // parts)
        sizes = [min(each, full[axis] - k * each) for k in range(parts)]
    if sum(sizes) != full[axis] or len(sizes) != len(node.outputs) or min(sizes) < 1:
        raise ShapeError(
            f"node {node.name!r} (Split): sizes {sizes} do not split axis {axis} of {full[axis]} "
            f"into {len(node.outputs)} outputs"
        )
    outs: list[Value] = []
    start = 0
    for k, size in enumerate(sizes):
        layer = c.build(node, "slice", axis=axis, start=start, stop=start + size)
        outs.append(c.emit(node, layer, [x], suffix=f":{k}"))
        start += size
    return outs


_MERGES = {"Add": "add", "Mul": "multiply", "Sub": "subtract"}
_ARITHMETIC = {
    "Add": Operator.ADD,
    "Mul": Operator.MULTIPLY,
    "Sub": Operator.SUBTRACT,
    "Div": Operator.DIVIDE,
}


def _binary(c: _Converter, node: Node, i: int) -> list[Value]:
    a, b = c.get(node, 0), c.get(node, 1)
    if isinstance(a, Const) and isinstance(b, Const):
        return [_const_binary(node, a, b)]
    if isinstance(a, Data) and isinstance(b, Data):
        if node.op not in _MERGES:
            raise SpecError(f"node {node.name!r} ({node.op}): of two computed tensors is not supported")
        return [c.emit(node, c.build(node, _MERGES[node.op]), [a, b])]
    x, k = (a, b) if isinstance(a, Data) else (b, a)
    assert isinstance(x, Data) and isinstance(k, Const)
    dims = list(k.dims)
    while len(dims) > len(x.shape):  # leading size-1 axes: the batch axis and beyond
        if dims[0] != 1:
            raise ShapeError(
                f"node {node.name!r} ({node.op}): the constant {fmt_shape(k.dims)} has a batch axis of "
                f"{dims[0]}"
            )
        dims.pop(0)
    scalar = k.values[0] if k.values and len(k.values) == 1 else 1.0
    layer = c.build(
        node,
        "arithmetic",
        op=_ARITHMETIC[node.op],
        operand_shape=dims,
        learned=k.initializer is not None,
        value=float(scalar),
        reverse=x is b,
    )
    return [c.emit(node, layer, [x])]


def _const_binary(node: Node, a: Const, b: Const) -> Const:
    va, vb = a.need(node, "input 1"), b.need(node, "input 2")
    if len(va) != len(vb) and 1 not in (len(va), len(vb)):
        raise SpecError(f"node {node.name!r} ({node.op}): constants of {len(va)} and {len(vb)} values")
    n = max(len(va), len(vb))
    xs = va * n if len(va) == 1 else va
    ys = vb * n if len(vb) == 1 else vb
    integer = a.integer and b.integer
    out: list[float] = []
    for x, y in zip(xs, ys, strict=True):
        if node.op == "Add":
            out.append(x + y)
        elif node.op == "Sub":
            out.append(x - y)
        elif node.op == "Mul":
            out.append(x * y)
        else:
            if y == 0:
                raise SpecError(f"node {node.name!r} (Div): division by zero in shape arithmetic")
            out.append(int(x / y) if integer else x / y)  # ONNX integer Div truncates
    dims = a.dims if len(va) >= len(vb) else b.dims
    return Const(dims, tuple(out), integer)


def _shape(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    full = c.full(value) if isinstance(value, Data) else list(value.dims)
    start = int(node.attrs.get("start", 0))
    end = node.attrs.get("end")
    picked = full[start : None if end is None else int(end)]
    return [Const((len(picked),), tuple(picked))]


def _constant(c: _Converter, node: Node, i: int) -> list[Value]:
    attrs = node.attrs
    if isinstance(attrs.get("value"), Tensor):
        t = attrs["value"]
        return [Const(t.dims, t.values, t.integer)]
    for key, integer, scalar in (
        ("value_int", True, True),
        ("value_float", False, True),
        ("value_ints", True, False),
        ("value_floats", False, False),
    ):
        if key in attrs and attrs[key] is not None:
            vals = (attrs[key],) if scalar else tuple(attrs[key])
            return [Const(() if scalar else (len(vals),), vals, integer)]
    raise SpecError(f"node {node.name!r} (Constant): no value cnncalc reads")


def _gather(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get_any(node, 0)
    index = c.const(node, 1)
    if isinstance(value, Flat) and index is not None and index.dims and index.dims[0] == 1:
        count = math.prod(value.data.shape)
        order = index.values
        if order is not None and len(order) == count and all(int(v) == k for k, v in enumerate(order)):
            # every element, in order: a view of the same values in a new shape (as_strided)
            layer = c.build(node, "reshape", target_shape=list(index.dims[1:]))
            return [c.emit(node, layer, [value.data])]
    if not isinstance(value, Const) or index is None or len(value.dims) > 1:
        raise SpecError(
            f"node {node.name!r} (Gather): only indexing into a shape or 1-D constant is supported"
        )
    vals = value.need(node, "its input")
    picked = tuple(vals[int(k)] for k in index.need(node, "indices"))
    return [Const(index.dims, picked, value.integer)]


def _normal_axes(node: Node, axes: Sequence[int], rank: int) -> list[int]:
    """``axes`` of a rank-``rank`` tensor counted from 0, sorted; as ONNX's checker and runtime
    require, each in [-rank, rank) and none twice (never wrapped modulo the rank)."""
    bad = [a for a in axes if not -rank <= a < rank]
    if bad:
        raise SpecError(f"node {node.name!r} ({node.op}): axis {bad[0]} is out of range for rank {rank}")
    normal = sorted(a % rank for a in axes)
    if len(set(normal)) != len(normal):
        raise SpecError(f"node {node.name!r} ({node.op}): axes {list(axes)} repeat an axis")
    return normal


def _check_graph(graph: Graph) -> None:
    """What ONNX's checker refuses before any node is read: more nodes than cnncalc's layer limit,
    and a tensor written twice (by two nodes, or a node writing a graph input or initializer:
    ONNX graphs are in single static assignment form)."""
    if len(graph.nodes) > MAX_LAYERS:
        raise SpecError(f"{len(graph.nodes):,} nodes is more than the limit {MAX_LAYERS:,} layers")
    written = {name for name, _ in graph.inputs} | set(graph.initializers)
    for node in graph.nodes:
        for name in node.outputs:
            if not name:
                continue
            if name in written:
                raise SpecError(
                    f"node {node.name!r} ({node.op}) writes {name!r}, which another node, an input or an "
                    "initializer already writes (ONNX graphs assign each tensor once)"
                )
            written.add(name)


def _axes(c: _Converter, node: Node) -> list[int]:
    const = c.const(node, 1)
    return const.ints(node, "axes") if const is not None else list(node.attrs.get("axes") or [])


def _unsqueeze(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    axes = _axes(c, node)
    if isinstance(value, Const):
        dims = list(value.dims)
        rank = len(dims) + len(axes)
        for axis in _normal_axes(node, axes, rank):
            dims.insert(axis, 1)
        return [Const(tuple(dims), value.values, value.integer)]
    full = c.full(value)
    rank = len(full) + len(axes)
    for axis in _normal_axes(node, axes, rank):
        full.insert(axis, 1)
    return [_reshape_to(c, node, value, full)]


def _squeeze(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    axes = _axes(c, node)
    dims = list(value.dims) if isinstance(value, Const) else c.full(value)
    drop = set(_normal_axes(node, axes, len(dims))) if axes else {k for k, d in enumerate(dims) if d == 1}
    kept = [d for k, d in enumerate(dims) if k not in drop]
    if isinstance(value, Const):
        return [Const(tuple(kept), value.values, value.integer)]
    return [_reshape_to(c, node, value, kept)]


def _cast(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    if isinstance(value, Data):
        return [value]  # a dtype change: no row, the shape is the same
    integer = int(node.attrs.get("to", 1)) in _INTS
    vals = None if value.values is None else tuple(int(v) if integer else float(v) for v in value.values)
    return [Const(value.dims, vals, integer)]


_HANDLERS: dict[str, Handler] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Relu": _relu,
    "Clip": _clip,
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "Erf": _activation("erf"),
    "HardSigmoid": _hard_sigmoid,
    "HardSwish": _activation("hard_swish"),
    "Gelu": _gelu,
    "Add": _binary,
    "Sub": _binary,
    "Mul": _binary,
    "Div": _binary,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_pool,
    "GlobalMaxPool": _global_pool,
    "ReduceMean": _reduce_mean,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Gather": _gather,
    "Shape": _shape,
    "Constant": _constant,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Cast": _cast,
    "Identity": _identity,
    "Dropout": _dropout,
    "Softmax": _softmax,
}


def supported_ops() -> Iterable[str]:
    """The ONNX op types the reader understands (docs and tests list them)."""
    return sorted(_HANDLERS)
