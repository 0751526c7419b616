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

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..enums import Convention, DataFormat, Operator
from ..errors import CnncalcError, Option, ShapeError, SpecError
from ..geometry import Shape, fmt_shape
from ..layers import args as A
from ..layers.base import Context, Layer
from ..layers.faces import kinds_for_onnx_op, rank_of
from .files import source_name
from .onnx_wire import FLOATS, INTS, Graph, Node, Tensor, WireError, read_graph
from .spec import MAX_LAYERS, LayerSpec, Spec, build_layer

#: What ``pip install`` adds the optional dependency (ONNX's own shape inference, for ops
#: cnncalc has no rule for).
EXTRA = "pip install 'cnncalc[onnx]'"

#: A dynamic batch axis, during shape arithmetic: a value no real size takes by accident.
BATCH = 2_147_483_629

_CTX = Context(Convention.PYTORCH, DataFormat.CHANNELS_FIRST)

_FLOATS = FLOATS
#: Element types of weights (float32, float16, double, bfloat16): what "stored elements" counts.
_FLOAT_TYPES = (1, 10, 11, 16)
_INTS = INTS


# ----------------------------------------------------------------------------- protobuf -> records


def read_onnx(data: Any, path: str, input_shape: Shape | None = None, inputs: InputShapes = ()) -> Spec:
    """The Spec of an ONNX model (``data``: bytes or a memory map of the file); ``input_shape``
    (no batch axis, NCHW) fixes dynamic axes of a one-input graph, ``inputs`` those of named inputs."""
    name = source_name(path)
    try:
        return convert(decode_model(data, name), input_shape, inputs)
    except CnncalcError as err:
        raise err.prefixed(f"{name}: ") from None


def decode_model(data: Any, name: str) -> Graph:
    """Decode an ONNX ModelProto into a :class:`Graph` from its wire format: payloads of large
    tensors are skipped, never copied, and external data is never opened."""
    try:
        graph = read_graph(data)
    except WireError as err:
        raise SpecError(f"not a readable ONNX model ({_reason(err)})") from None
    except RecursionError:
        raise SpecError("not a readable ONNX model (nested too deeply)") from None
    if not graph.nodes:
        raise SpecError("not a readable ONNX model (no graph nodes)")
    # older exporters list initializers as inputs too
    inputs = tuple((n, d) for n, d in graph.inputs if n not in graph.initializers)
    return Graph(
        inputs,
        graph.initializers,
        graph.nodes,
        graph.name,
        graph.outputs,
        graph.opset,
        graph.producer,
        graph.recorded,
    )


def _reason(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) < 120 else text[:117] + "..."


# ----------------------------------------------------------------------------- conversion


@dataclass(frozen=True)
class Data:
    """A computed tensor: the layer (or model input) it comes from and its shape without batch."""

    source: str
    shape: Shape
    #: False: the tensor has no batch axis (a 0-D/1-D model input, or a reshape that folded it);
    #: its shape is then all of its dims
    batched: bool = True


@dataclass(frozen=True)
class Const:
    """A known tensor: full dims (no batch split) and values (None: stored without data).

    ``initializer`` names it when it is a stored initializer (a trained parameter)."""

    dims: tuple[int, ...]
    values: tuple[float, ...] | None
    integer: bool = True
    initializer: str | None = None
    #: why ``values`` is None (stored without data, in an external file, too large to read)
    missing: str | None = None

    def need(self, node: Node, what: str) -> tuple[float, ...]:
        """The values, or an error naming the node that needs them and the tensor that lacks them."""
        if self.values is None:
            tensor = f"initializer {self.initializer!r}" if self.initializer else "a constant"
            raise SpecError(
                f"node {node.name!r} ({node.op}) needs the values of {what}: {tensor} is "
                f"{self.missing or 'stored without data'}"
            )
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
#: Named model inputs' shapes given by the user (no batch axis).
InputShapes = Sequence[tuple[str, Shape]]


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
        self.notes: list[str] = []

    # -- helpers

    def row_name(self, node: Node, suffix: str = "") -> str:
        base = (node.name or (node.outputs[0] if node.outputs else node.op)) + suffix
        name, n = base, 1
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        return name

    def emit(
        self, node: Node, layer: Layer, sources: Sequence[Data], suffix: str = "", batched: bool | None = None
    ) -> Data:
        """Add a layer reading ``sources``; its shape by cnncalc's own rules. The output has a batch
        axis when ``batched`` says so (default: when its sources have one)."""
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
                layer,
                f"{node.op} {name!r}",
                name,
                compact=False,
                inputs=tuple(s.source for s in sources),
            )
        )
        # an op on tensors without a batch axis gives one without either
        return Data(name, out.shape, all(s.batched for s in sources) if batched is None else batched)

    def kaxis(self, node: Node, x: Data, axis: int) -> int:
        """The axis as cnncalc's kinds count it (a batch axis as 0, as Keras does) of an ONNX
        ``axis`` of ``x``; the batch axis itself is refused."""
        if x.batched:
            k = _normal_axes(node, [axis], len(x.shape) + 1)[0]
            if k == 0:
                raise Unsupported(f"node {node.name!r} ({node.op}): along the batch axis")
            return k
        return _normal_axes(node, [axis], len(x.shape))[0] + 1

    def build(self, node: Node, kind: str, **args: Any) -> Layer:
        try:
            return build_layer(kind, [], {k: v for k, v in args.items() if v is not None})
        except CnncalcError as err:
            raise err.at(f"node {node.name!r} ({node.op})") from None

    def graph_node(self, node: Node) -> Node:
        return node

    @property
    def graph_batched(self) -> bool:
        """True when the model's inputs have a batch axis (then a leading 1 may be it)."""
        return any(isinstance(v, Data) and v.batched for v in self.values.values())

    def data(self, node: Node, index: int = 0, elementwise: bool = False) -> Data:
        """Input ``index``, a computed tensor; one without a batch axis only for an op whose
        rule does not depend on which axis is the batch (``elementwise``, or axes by kaxis)."""
        value = self.get(node, index)
        if isinstance(value, Data) and not value.batched and not elementwise:
            raise Unsupported(f"node {node.name!r} ({node.op}): input {index + 1} has no batch axis")
        if not isinstance(value, Data):
            raise Unsupported(f"node {node.name!r} ({node.op}): input {index + 1} must be a computed tensor")
        return value

    def const(self, node: Node, index: int) -> Const | None:
        if index >= len(node.inputs) or not node.inputs[index]:
            return None
        value = self.get(node, index)
        if not isinstance(value, Const):
            raise Unsupported(
                f"node {node.name!r} ({node.op}): input {index + 1} must be a constant or initializer"
            )
        return value

    def get(self, node: Node, index: int) -> Data | Const:
        """Input ``index``: a computed tensor or a constant (never a batch-folded Flat)."""
        value = self.get_any(node, index)
        if isinstance(value, Flat):
            raise Unsupported(f"node {node.name!r} ({node.op}) reads a tensor flattened with its batch axis")
        return value

    def get_any(self, node: Node, index: int) -> Value:
        """Input ``index`` whatever it is."""
        if index >= len(node.inputs) or not node.inputs[index]:
            raise SpecError(f"node {node.name!r} ({node.op}) lacks input {index + 1}")
        return self.values[node.inputs[index]]

    def full(self, d: Data | Flat) -> list[int]:
        """The tensor's dims with the batch axis (when it has one)."""
        if isinstance(d, Flat):
            return [math.prod(d.data.shape)]
        return [self.batch, *d.shape] if d.batched else list(d.shape)

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


def convert(graph: Graph, input_shape: Shape | None = None, inputs: InputShapes = ()) -> Spec:
    """A :class:`Graph` -> :class:`Spec` (pytorch convention, channels_first).

    ``input_shape`` sets a one-input graph's sizes; ``inputs`` sets named inputs' (both without
    the batch axis of an input that has one)."""
    _check_graph(graph)
    c = _Converter(graph)
    if not graph.inputs:
        raise SpecError("the graph has no input (every tensor is an initializer)")
    given = dict(inputs)
    unknown = [n for n in given if n not in {name for name, _ in graph.inputs}]
    if unknown:
        names = ", ".join(repr(n) for n, _ in graph.inputs)
        raise SpecError(f"the graph has no input {unknown[0]!r} (its inputs: {names})")
    if input_shape is not None:
        if len(graph.inputs) > 1:
            names = ", ".join(f"{n}=..." for n, _ in graph.inputs)
            raise SpecError(
                f"the graph has {len(graph.inputs)} inputs: give each its shape by name ({names})"
            )
        given[graph.inputs[0][0]] = tuple(input_shape)
    batch = _batch(graph)
    c.batch = 1 if batch is None else batch
    shapes: list[tuple[str, Shape]] = []
    for in_name, dims in graph.inputs:
        batched = len(dims) >= 2 and batch is not None
        rest = dims[1:] if batched else dims
        if in_name in given:
            want = given[in_name]
            if len(want) != len(rest):
                without = " without the batch axis" if batched else ""
                raise SpecError(
                    f"input {in_name!r} is {_dims_text(dims)}: ",
                    Option("input_shape"),
                    f" needs {len(rest)} sizes{without}, got {fmt_shape(want)}",
                )
            shape = tuple(want)
        elif any(d is None for d in rest):
            example = fmt_shape(tuple(d or 224 for d in rest))
            without = " (no batch axis)" if batched else ""
            raise SpecError(
                f"input {in_name!r} is {_dims_text(dims)}: give ",
                Option("input_shape"),
                f" with {len(rest)} sizes{without}, e.g. "
                + (example if len(graph.inputs) == 1 else f"{in_name}={example}"),
            )
        else:
            shape = tuple(d for d in rest if d is not None)
        if shape:  # the size limits, here where the file is named
            shape = A.shape(list(shape), f"input {in_name!r}")
        c.names.add(in_name)
        c.values[in_name] = Data(in_name, shape, batched)
        shapes.append((in_name, shape))
    for key, t in graph.initializers.items():
        c.values[key] = Const(t.dims, t.values, t.integer, key, t.missing)
    order = _order(graph, set(c.values))
    for i in order:
        for name in graph.nodes[i].inputs:
            c.consumers.setdefault(name, []).append(i)
    for i in order:
        node = graph.nodes[i]
        handler = _handler(node.op) if node.domain in ("", "ai.onnx") else None
        if i in c.fused:
            c.values[node.outputs[0]] = c.values[c.fused[i]]
            continue
        try:
            if handler is None:
                outputs = _by_onnx(
                    c,
                    node,
                    SpecError(
                        f"node {node.name!r}: ONNX op {node.op!r} is not supported (cnncalc's rules "
                        f"read: {', '.join(sorted(_HANDLERS))})"
                    ),
                )
            else:
                emitted = len(c.layers)
                try:
                    outputs = handler(c, node, i)
                except Unsupported as err:
                    del c.layers[emitted:]
                    outputs = _by_onnx(c, node, err)
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
    out_rows = [v.source for name, _ in graph.outputs if isinstance(v := c.values.get(name), Data)]
    if len(graph.outputs) > 1:
        shown = {d.source: d.shape for name, _ in graph.outputs if isinstance(d := c.values.get(name), Data)}
        c.notes.append(
            f"the graph has {len(graph.outputs)} outputs: "
            + ", ".join(
                f"{name} {fmt_shape(shown[v.source]) if isinstance(v := c.values.get(name), Data) else '(a constant)'}"
                for name, _ in graph.outputs
            )
        )
    return Spec(
        layers=tuple(c.layers),
        input_shape=shapes[0][1],
        data_format=DataFormat.CHANNELS_FIRST,
        convention=Convention.PYTORCH,
        name=graph.name,
        inputs=tuple(shapes),
        notes=tuple(c.notes),
        stored_elements=sum(t.elements for t in graph.initializers.values() if t.dtype in _FLOAT_TYPES),
        outputs=tuple(out_rows),
    )


def _batch(graph: Graph) -> int | None:
    """The batch size the inputs share (axis 0 of every input of two or more axes): BATCH when
    dynamic; None when two inputs disagree (then axis 0 is not a batch: no input has one)."""
    sizes = {dims[0] for _, dims in graph.inputs if len(dims) >= 2}
    known = {s for s in sizes if s is not None}
    if len(known) > 1:
        return None
    return known.pop() if known else BATCH


def _computed_weight(name: str, dims: Sequence[int], integer: bool) -> str | None:
    """A float tensor of several values computed from constants alone (a ConstantOfShape the
    model zoo's files build their weights with) is a weight, named by its output."""
    return None if integer or math.prod(dims) <= 1 else name


class Unsupported(SpecError):
    """A form of an op cnncalc's own rules do not cover: ONNX's shape inference may still tell."""


def _by_onnx(c: _Converter, node: Node, why: SpecError) -> list[Value]:
    """An op (or a form of one) without a cnncalc rule: its values by ONNX's reference evaluator
    when every input is a known constant, else its shapes by ONNX's shape inference as opaque
    rows; ``why`` is raised when neither can tell."""
    from .onnx_infer import BATCH_DIM, Missing, Operand, evaluate, infer

    operands: list[Operand | None] = []
    data: list[Data] = []
    for name in node.inputs:
        value = c.values.get(name) if name else None
        if value is None:
            operands.append(None)
        elif isinstance(value, Flat):
            raise why
        elif isinstance(value, Const):
            operands.append(Operand(value.dims, value.values, 7 if value.integer else 1))
        else:
            full: list[int | str] = list(c.full(value))
            if value.batched and c.batch == BATCH:
                full[0] = BATCH_DIM
            operands.append(Operand(tuple(full)))
            data.append(value)
    try:
        if not data:
            folded = evaluate(c.graph_node(node), operands, c.graph.opset)
            if folded is not None:
                return [
                    Const(dims, values, integer, _computed_weight(name, dims, integer))
                    for name, (dims, values, integer) in zip(node.outputs, folded, strict=False)
                ]
        shapes = infer(c.graph_node(node), operands, c.graph.opset)
        # where ONNX cannot tell (a size from a runtime value), the shape the file records
        source = "onnx shape inference"
        if any(dims is None or None in dims[1:] for dims in shapes):
            source = "the file's recorded shapes"
            shapes = [c.graph.recorded.get(name) for name in node.outputs]
    except Missing:
        raise SpecError(
            f"{why.reason}; ONNX's own shape inference would tell, with the onnx package ({EXTRA})"
        ) from None
    if not data:  # constants whose values the evaluator cannot give: their dims only
        consts: list[Value] = []
        for name, dims in zip(node.outputs, shapes, strict=False):
            if dims is None or None in dims:
                raise why
            known = tuple(d for d in dims if d is not None)
            consts.append(
                Const(
                    known,
                    None,
                    False,
                    _computed_weight(name, known, False),
                    "computed in the graph (not evaluated)",
                )
            )
        return consts
    outs: list[Value] = []
    batched = any(d.batched for d in data)
    params = sum(
        math.prod(v.dims)
        for v in (c.values.get(n) for n in node.inputs if n)
        # one stored value is a constant (an exponent, a bound), except PRelu's single slope
        if isinstance(v, Const)
        and v.initializer
        and not v.integer
        and (math.prod(v.dims) > 1 or node.op == "PRelu")
    )
    for k, dims in enumerate(shapes):
        if dims is None or (None in dims[1:]) or (dims and dims[0] is None and not batched):
            raise why
        # a leading 1 of a batch-1 model is its batch axis again (stack-and-sum merges give one)
        back = c.batch == 1 and c.graph_batched and len(dims) > 1 and dims[0] == 1
        if (batched or back) and len(dims) > 1 and (dims[0] is None or dims[0] == c.batch):
            shape, keep = tuple(d or 0 for d in dims[1:]), True
        else:
            shape, keep = tuple(d or 0 for d in dims), False
        if not shape or 0 in shape:
            raise why
        layer = c.build(
            node,
            "opaque",
            op=node.op if len(shapes) == 1 else f"{node.op}:{k}",
            shape=list(shape),
            in_shapes=[list(d.shape) for d in data],
            trainable_count=params if k == 0 else 0,
            source=source,
        )
        out = c.emit(node, layer, data, suffix=f":{k}" if len(shapes) > 1 else "")
        outs.append(Data(out.source, out.shape, keep))
    return outs


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
        raise Unsupported(f"node {node.name!r} (Conv): {rank}-D convolution is not supported")
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
        raise Unsupported(f"node {node.name!r} (ConvTranspose): output_shape is not supported; give pads")
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
    """ReduceMean/ReduceMax over every spatial axis: a global average/max pool (other axes: ONNX's
    rules, an opaque row). Axes as attribute (opset < 18) or input (opset 18)."""
    x = c.data(node)
    axes_const = c.const(node, 1)
    axes = axes_const.ints(node, "axes") if axes_const else list(node.attrs.get("axes") or [])
    rank = len(x.shape) + 1
    normal = _normal_axes(node, axes, rank)
    if normal != list(range(2, rank)) or rank < 3:
        raise Unsupported(
            f"node {node.name!r} ({node.op}): only a reduction over all spatial axes (a global "
            f"pool) has a cnncalc rule, got axes {axes}"
        )
    keep = bool(node.attrs.get("keepdims", 1))
    return [c.emit(node, c.build(node, _ranked_kind(node, rank - 2), keepdims=keep), [x])]


def _gemm(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
    if node.attrs.get("transA", 0):
        raise Unsupported(f"node {node.name!r} (Gemm): transA=1 is not supported")
    if len(x.shape) != (1 if x.batched else 2):
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
    x = c.data(node, elementwise=True)  # a Linear acts on the last axis, whatever the others
    w = c.const(node, 1)
    if w is None or len(w.dims) != 2:
        raise Unsupported(
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
            if node.attrs.get("spatial", 1) == 0:  # opset < 9: statistics per position too
                raise Unsupported(f"node {node.name!r} (BatchNormalization): spatial=0")
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
    x = c.data(node, elementwise=True)
    rank = len(x.shape) + 1
    axis = c.kaxis(node, x, int(node.attrs.get("axis", -1)))
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
        return [c.emit(node, c.build(node, "activation", activation=name), [c.data(node, elementwise=True)])]

    return handle


def _relu(c: _Converter, node: Node, i: int) -> list[Value]:
    return [c.emit(node, c.build(node, "relu"), [c.data(node, elementwise=True)])]


def _clip(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
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
        raise Unsupported(
            f"node {node.name!r} (Clip): only Clip(min=0, max=...) (ReLU6) is supported, got min={low}"
        )
    return [c.emit(node, c.build(node, "relu", max_value=high), [x])]


def _hard_sigmoid(c: _Converter, node: Node, i: int) -> list[Value]:
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
        raise Unsupported(
            f"node {node.name!r} (HardSigmoid): only PyTorch's Hardsigmoid (alpha=1/6, beta=0.5) is "
            f"supported, got alpha={alpha}, beta={beta}"
        )
    return [
        c.emit(node, c.build(node, "activation", activation="hard_sigmoid"), [c.data(node, elementwise=True)])
    ]


def _gelu(c: _Converter, node: Node, i: int) -> list[Value]:
    if node.attrs.get("approximate", "none") != "none":
        raise Unsupported(
            f"node {node.name!r} (Gelu): approximate={node.attrs['approximate']!r} is not supported"
        )
    return [c.emit(node, c.build(node, "activation", activation="gelu"), [c.data(node, elementwise=True)])]


def _leaky_relu(c: _Converter, node: Node, i: int) -> list[Value]:
    slope = float(node.attrs.get("alpha", 0.01))  # ONNX's default, as PyTorch's
    return [c.emit(node, c.build(node, "leakyrelu", negative_slope=slope), [c.data(node, elementwise=True)])]


def _fixed_activation(name: str, defaults: dict[str, float]) -> Handler:
    """An activation cnncalc knows with its usual constants only (others: ONNX's rules)."""

    def handle(c: _Converter, node: Node, i: int) -> list[Value]:
        for key, value in defaults.items():
            given = float(node.attrs.get(key, value))
            if abs(given - value) > 1e-6:
                raise Unsupported(
                    f"node {node.name!r} ({node.op}): {key}={given} (cnncalc's {name} has {value})"
                )
        return [c.emit(node, c.build(node, "activation", activation=name), [c.data(node, elementwise=True)])]

    return handle


def _log_softmax(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
    axis = c.kaxis(node, x, int(node.attrs.get("axis", -1 if c.graph.opset >= 13 else 1)))
    if axis != len(x.shape):
        raise Unsupported(f"node {node.name!r} (LogSoftmax): over axis {axis}, not the last")
    return [c.emit(node, c.build(node, "activation", activation="log_softmax"), [x])]


def _nary(c: _Converter, node: Node, i: int) -> list[Value]:
    """Sum/Max/Min/Mean of n computed tensors of one shape: cnncalc's merge kinds."""
    data = [c.data(node, k, elementwise=True) for k, name in enumerate(node.inputs) if name]
    if len({(d.shape, d.batched) for d in data}) != 1:
        raise Unsupported(f"node {node.name!r} ({node.op}): inputs of different shapes (broadcast)")
    if len(data) == 1:
        return [data[0]]
    merge = _merge_kind(node.op)
    if merge is None:
        raise Unsupported(f"node {node.name!r} ({node.op}): no merge kind reads it")
    return [c.emit(node, c.build(node, merge), data)]


def _resize(c: _Converter, node: Node, i: int) -> list[Value]:
    """Upsample (opset 7: scales attribute; 9: input 1) and Resize (10: scales input 1; 11+:
    roi 1, scales 2, sizes 3): an integer scale of the spatial axes (batch and channels kept) is
    cnncalc's UpSampling, nearest or (2-D) bilinear; other forms by ONNX's rules."""
    x = c.data(node)
    rank = len(x.shape) + 1
    mode = str(node.attrs.get("mode", "nearest")).lower()
    scales: list[float] | None = None
    if node.attrs.get("scales"):
        scales = [float(v) for v in node.attrs["scales"]]
    elif node.op == "Upsample" or c.graph.opset == 10:
        const = c.const(node, 1)
        scales = None if const is None else [float(v) for v in const.need(node, "scales")]
    else:
        const = c.const(node, 2)
        if const is not None and 0 not in const.dims:
            scales = [float(v) for v in const.need(node, "scales")]
        sizes = c.const(node, 3)
        if sizes is not None and 0 not in sizes.dims:
            want = sizes.ints(node, "sizes")
            full = c.full(x)
            if len(want) == rank and all(n and w % n == 0 for w, n in zip(want, full, strict=True)):
                scales = [w / n for w, n in zip(want, full, strict=True)]
    if node.attrs.get("axes") or scales is None or len(scales) != rank:
        raise Unsupported(f"node {node.name!r} ({node.op}): a form without one scale per axis")
    if scales[:2] != [1.0, 1.0] or any(s < 1 or s != int(s) for s in scales[2:]):
        raise Unsupported(f"node {node.name!r} ({node.op}): scales {scales} are not integer upsampling")
    spatial = rank - 2
    if mode == "nearest":
        interpolation = None
    elif mode in ("linear", "bilinear") and spatial == 2:
        interpolation = "bilinear"
    else:
        raise Unsupported(f"node {node.name!r} ({node.op}): mode {mode!r} on {spatial} spatial axes")
    layer = c.build(
        node, f"upsampling{spatial}d", size=[int(s) for s in scales[2:]], interpolation=interpolation
    )
    return [c.emit(node, layer, [x])]


def _pad(c: _Converter, node: Node, i: int) -> list[Value]:
    """Pad with zeros on the spatial axes (pads as attribute before opset 11, input after):
    cnncalc's ZeroPadding; other modes, values or axes by ONNX's rules."""
    x = c.data(node)
    rank = len(x.shape) + 1
    mode = str(node.attrs.get("mode", "constant")).lower()
    if "pads" in node.attrs or "paddings" in node.attrs:
        pads = [int(v) for v in node.attrs.get("pads") or node.attrs.get("paddings") or ()]
        value = float(node.attrs.get("value", 0.0))
    else:
        const = c.const(node, 1)
        if const is None:
            raise Unsupported(f"node {node.name!r} (Pad) has no pads")
        pads = const.ints(node, "pads")
        fill = c.const(node, 2)
        value = (
            float(fill.need(node, "the padding value")[0]) if fill is not None and fill.dims != (0,) else 0.0
        )
        if len(node.inputs) > 3 and node.inputs[3]:
            raise Unsupported(f"node {node.name!r} (Pad): pads of chosen axes")
    if mode != "constant" or value != 0.0 or len(pads) != 2 * rank:
        raise Unsupported(f"node {node.name!r} (Pad): mode {mode!r}, value {value}")
    before, after = pads[:rank], pads[rank:]
    if before[:2] != [0, 0] or after[:2] != [0, 0] or min(pads) < 0 or rank < 3:
        raise Unsupported(f"node {node.name!r} (Pad): pads {pads} are not zero padding of the spatial axes")
    pairs = [[b, a] for b, a in zip(before[2:], after[2:], strict=True)]
    return [c.emit(node, c.build(node, f"zeropadding{rank - 2}d", padding=pairs), [x])]


def _has_kind(node: Node, kind: str) -> None:
    """Refuse (to ONNX's rules) when cnncalc has no kind of that name."""
    from ..layers import KINDS

    if kind not in {k.type for k in KINDS}:
        raise Unsupported(f"node {node.name!r} ({node.op}): no cnncalc kind {kind!r}")


def _depth_to_space(c: _Converter, node: Node, i: int) -> list[Value]:
    """DepthToSpace (mode DCR, ONNX's default, or CRD: PyTorch's pixel_shuffle) and SpaceToDepth
    (DCR): cnncalc's PixelShuffle/PixelUnshuffle with the block size."""
    x = c.data(node)
    block = int(node.attrs.get("blocksize", 0))
    if node.op == "DepthToSpace":
        _has_kind(node, "pixelshuffle")
        mode = str(node.attrs.get("mode", "DCR")).lower()
        layer = c.build(node, "pixelshuffle", upscale_factor=block, mode=mode)
    else:
        _has_kind(node, "pixelunshuffle")
        layer = c.build(node, "pixelunshuffle", downscale_factor=block, mode="dcr")
    return [c.emit(node, layer, [x])]


def _instance_norm(c: _Converter, node: Node, i: int) -> list[Value]:
    """InstanceNormalization(scale, bias of C): cnncalc's InstanceNorm{1,2,3}d, affine."""
    x = c.data(node)
    rank = len(x.shape) - 1
    _has_kind(node, f"instancenorm{rank}d")
    for index, what in ((1, "scale"), (2, "bias")):
        t = c.weight(node, index, f"{what} initializer")
        if math.prod(t.dims) != x.shape[0]:
            raise ShapeError(
                f"node {node.name!r} (InstanceNormalization): {what} {fmt_shape(t.dims)} does not "
                f"match {x.shape[0]} channels"
            )
    epsilon = float(node.attrs.get("epsilon", 1e-5))
    layer = c.build(node, f"instancenorm{rank}d", epsilon=epsilon, affine=True)
    return [c.emit(node, layer, [x])]


def _group_norm(c: _Converter, node: Node, i: int) -> list[Value]:
    """GroupNormalization(num_groups; scale and bias of C, opset 21, or of G, opset 18):
    cnncalc's GroupNormalization with per-channel scale and bias (opset 18's per-group ones: by
    ONNX's rules, an opaque row)."""
    x = c.data(node)
    _has_kind(node, "groupnormalization")
    groups = int(node.attrs.get("num_groups", 0))
    scale = c.weight(node, 1, "scale initializer")
    if math.prod(scale.dims) != x.shape[0]:
        raise Unsupported(f"node {node.name!r} (GroupNormalization): scale per group (opset 18)")
    epsilon = float(node.attrs.get("epsilon", 1e-5))
    layer = c.build(node, "groupnormalization", groups=groups, epsilon=epsilon)
    return [c.emit(node, layer, [x])]


def _softmax(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
    default = -1 if c.graph.opset >= 13 or c.graph.opset == 0 else 1
    # (before opset 13 Softmax normalizes over the axes from `axis` on, flattened: the same
    # shape and count of operations as over one of them)
    axis = c.kaxis(node, x, int(node.attrs.get("axis", default)))
    return [c.emit(node, c.build(node, "softmax", axis=axis), [x])]


def _dropout(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
    ratio = c.const(node, 1)
    rate = float(ratio.need(node, "ratio")[0]) if ratio is not None else float(node.attrs.get("ratio", 0.5))
    return [c.emit(node, c.build(node, "dropout", rate=rate), [x])]


def _identity(c: _Converter, node: Node, i: int) -> list[Value]:
    return [c.get(node, 0)]


def _flatten(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node)
    axis = int(node.attrs.get("axis", 1)) % (len(x.shape) + 1)
    if axis == 0:
        raise Unsupported(f"node {node.name!r} (Flatten): axis=0 folds the batch axis away")
    if axis == 1:
        return [c.emit(node, c.build(node, "flatten"), [x])]
    # ONNX's Flatten is always 2-D: (batch * dims before axis, dims from axis on), so the batch
    # axis folds into the first: only readable with a batch of 1 (no batch axis after it)
    if c.batch != 1:
        raise Unsupported(f"node {node.name!r} (Flatten): axis={axis} folds the batch axis in")
    target = [math.prod(x.shape[: axis - 1]), math.prod(x.shape[axis - 1 :])]
    return [c.emit(node, c.build(node, "reshape", target_shape=target), [x], batched=False)]


def _reshape_to(c: _Converter, node: Node, x: Data, target: list[int]) -> Data:
    """A Reshape layer to full dims ``target`` (batch first), which must keep the batch axis
    (of a tensor without one, in a batch-1 model: a leading 1 becomes it again)."""
    if not x.batched:
        if -1 in target or math.prod(target) != math.prod(x.shape):
            raise Unsupported(f"node {node.name!r} ({node.op}): to {_dims_text(target)}")
        back = c.batch == 1 and c.graph_batched and len(target) > 1 and target[0] == 1
        shape = target[1:] if back else target
        return c.emit(node, c.build(node, "reshape", target_shape=shape), [x], batched=back)
    if not target or target[0] not in (c.batch, -1):
        raise Unsupported(
            f"node {node.name!r} ({node.op}): reshaping to {_dims_text(target)} changes the batch axis"
        )
    rest = target[1:]
    if target[0] == -1:
        if -1 in rest:
            raise SpecError(f"node {node.name!r} ({node.op}): two -1 sizes in {target}")
        if math.prod(rest) != math.prod(x.shape):
            raise Unsupported(
                f"node {node.name!r} ({node.op}): reshaping to {_dims_text(target)} changes the batch axis"
            )
    if not rest:
        raise Unsupported(f"node {node.name!r} ({node.op}): reshaping to the batch axis alone")
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
    if value.batched and target and target[0] in (c.batch, -1):
        try:
            return [_reshape_to(c, node, value, target)]
        except Unsupported:
            if c.batch != 1:
                raise
    if value.batched and c.batch != 1:
        raise Unsupported(f"node {node.name!r} (Reshape): to {_dims_text(target)} moves the batch axis")
    # every size concrete, batch 1: the batch axis may move (MobileViT's unfold) and come back
    total = math.prod(full)
    if target.count(-1) > 1 or any(v < -1 for v in target):
        raise SpecError(f"node {node.name!r} (Reshape): target {target}")
    if -1 in target:
        known = math.prod(v for v in target if v != -1)
        if not known or total % known:
            raise ShapeError(f"node {node.name!r} (Reshape): {total} values do not fill {_dims_text(target)}")
        target = [total // known if v == -1 else v for v in target]
    if math.prod(target) != total:
        raise ShapeError(f"node {node.name!r} (Reshape): {total} values do not fill {_dims_text(target)}")
    back = c.batch == 1 and len(target) > 1 and target[0] == 1 and c.graph_batched
    shape = target[1:] if back else target
    return [c.emit(node, c.build(node, "reshape", target_shape=shape), [value], batched=back)]


def _const_reshape(node: Node, value: Const, target: list[int]) -> Const:
    count = math.prod(value.dims)
    dims = [value.dims[k] if v == 0 and k < len(value.dims) else v for k, v in enumerate(target)]
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1) or 1
        dims = [count // known if d == -1 else d for d in dims]
    if math.prod(dims) != count:
        raise SpecError(f"node {node.name!r} (Reshape): cannot reshape {count} values to {target}")
    return dataclasses.replace(value, dims=tuple(dims))


def _transpose(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
    rank = len(c.full(x))
    perm = list(node.attrs.get("perm") or reversed(range(rank)))
    if not x.batched and sorted(perm) == list(range(rank)):
        return [c.emit(node, c.build(node, "permute", dims=[p + 1 for p in perm]), [x])]
    if sorted(perm) != list(range(rank)) or perm[0] != 0:
        raise Unsupported(
            f"node {node.name!r} (Transpose): perm {perm} moves the batch axis (or is not a permutation)"
        )
    return [c.emit(node, c.build(node, "permute", dims=perm[1:]), [x])]


def _concat(c: _Converter, node: Node, i: int) -> list[Value]:
    values = [c.get(node, k) for k, name in enumerate(node.inputs) if name]
    axis = int(node.attrs.get("axis", 0))
    if all(isinstance(v, Const) for v in values):
        consts = [v for v in values if isinstance(v, Const)]
        if any(len(v.dims) != 1 for v in consts):
            raise Unsupported(f"node {node.name!r} (Concat): only 1-D constants are concatenated")
        joined: list[float] = []
        for v in consts:
            joined.extend(v.need(node, "its inputs"))
        return [Const((len(joined),), tuple(joined), all(v.integer for v in consts))]
    if not all(isinstance(v, Data) for v in values):
        raise Unsupported(f"node {node.name!r} (Concat): mixes constants and computed tensors")
    data = [v for v in values if isinstance(v, Data)]
    if len({d.batched for d in data}) > 1:
        raise Unsupported(f"node {node.name!r} (Concat): inputs with and without a batch axis")
    kaxis = c.kaxis(node, data[0], axis)
    if len(data) == 1:
        return [data[0]]
    return [c.emit(node, c.build(node, "concatenate", axis=kaxis), data)]


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
            raise Unsupported(f"node {node.name!r} (Slice): only 1-D constants are sliced")
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
            raise Unsupported(f"node {node.name!r} (Slice): only positive steps are supported")
        if (lo, hi, step) != (0, full[axis], 1):
            cuts.append((axis, lo, hi, step))
    if not cuts:
        return [value]  # a slice that cuts nothing (ghostnet's): the same tensor, no row
    if value.batched and any(axis == 0 for axis, _, _, _ in cuts):
        raise Unsupported(f"node {node.name!r} (Slice): cuts the batch axis")
    shift = 0 if value.batched else 1  # the slice kind counts a batch axis as 0, as Keras does
    out = value
    for axis, lo, hi, step in cuts:  # several axes cut: one slice row each
        layer = c.build(node, "slice", axis=axis + shift, start=lo, stop=hi, step=step)
        out = c.emit(node, layer, [out], suffix="" if len(cuts) == 1 else f":axis{axis}")
    return [out]


def _split(c: _Converter, node: Node, i: int) -> list[Value]:
    x = c.data(node, elementwise=True)
    full = c.full(x)
    kaxis = c.kaxis(node, x, int(node.attrs.get("axis", 0)))
    axis = kaxis if x.batched else kaxis - 1  # the axis in full
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
        layer = c.build(node, "slice", axis=kaxis, start=start, stop=start + size)
        outs.append(c.emit(node, layer, [x], suffix=f":{k}"))
        start += size
    return outs


_ARITHMETIC = {
    "Add": Operator.ADD,
    "Mul": Operator.MULTIPLY,
    "Sub": Operator.SUBTRACT,
    "Div": Operator.DIVIDE,
}


def _binary(c: _Converter, node: Node, i: int) -> list[Value]:
    a, b = c.get(node, 0), c.get(node, 1)  # elementwise: with or without a batch axis
    if isinstance(a, Const) and isinstance(b, Const):
        return [_const_binary(node, a, b)]
    if isinstance(a, Data) and isinstance(b, Data):
        if a.batched != b.batched:
            raise Unsupported(f"node {node.name!r} ({node.op}): one input has a batch axis, one has not")
        merge = _merge_kind(node.op)
        if merge is None:
            raise Unsupported(f"node {node.name!r} ({node.op}): of two computed tensors is not supported")
        return [c.emit(node, c.build(node, merge), [a, b])]
    x, k = (a, b) if isinstance(a, Data) else (b, a)
    assert isinstance(x, Data) and isinstance(k, Const)
    dims = list(k.dims)
    while len(dims) > len(x.shape):  # leading size-1 axes: the batch axis and beyond
        if dims[0] != 1:
            raise Unsupported(
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
        # a stored tensor of one value (GELU's sqrt(2), a ``+ 1``) is a constant, not a parameter
        learned=k.initializer is not None and math.prod(k.dims) > 1,
        value=float(scalar),
        reverse=x is b,
    )
    return [c.emit(node, layer, [x])]


def _const_binary(node: Node, a: Const, b: Const) -> Const:
    va, vb = a.need(node, "input 1"), b.need(node, "input 2")
    if len(va) != len(vb) and 1 not in (len(va), len(vb)):
        raise Unsupported(f"node {node.name!r} ({node.op}): constants of {len(va)} and {len(vb)} values")
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
    # the broadcast dims: the larger tensor's, or of equal sizes the one with more axes ((1,) with ())
    if len(va) != len(vb):
        dims = a.dims if len(va) > len(vb) else b.dims
    else:
        dims = a.dims if len(a.dims) >= len(b.dims) else b.dims
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
    raise Unsupported(f"node {node.name!r} (Constant): no value cnncalc reads")


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
        raise Unsupported(
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
        return [dataclasses.replace(value, dims=tuple(dims))]
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
        return [dataclasses.replace(value, dims=tuple(kept))]
    return [_reshape_to(c, node, value, kept)]


def _cast(c: _Converter, node: Node, i: int) -> list[Value]:
    value = c.get(node, 0)
    if isinstance(value, Data):
        return [value]  # a dtype change: no row, the shape is the same
    integer = int(node.attrs.get("to", 1)) in _INTS
    vals = None if value.values is None else tuple(int(v) if integer else float(v) for v in value.values)
    return [dataclasses.replace(value, values=vals, integer=integer)]


def _merge_kind(op: str) -> str | None:
    """The merge kind (several computed tensors in) the kinds' ONNX faces read ``op`` as
    (``Add``/``Sum``: add; ``Max``: maximum), or None."""
    return next((kind.type for kind in kinds_for_onnx_op(op) if kind.cls.takes_many), None)


def _ranked_kind(node: Node, rank: int) -> str:
    """The kind of this spatial rank the kinds' ONNX faces read ``node.op`` as
    (``ReduceMean`` over the spatial axes of a 4-D tensor: globalaveragepooling2d)."""
    for kind in kinds_for_onnx_op(node.op):
        if rank_of(kind) == rank:
            return kind.type
    raise Unsupported(f"node {node.name!r} ({node.op}): over {rank} spatial axes is not supported")


#: ONNX ops the reader handles that are no cnncalc kind: they shape, pick or fold tensors (a
#: constant's value, a tensor's shape, its axes) and make no row. Every other handled op is
#: declared by some kind's ONNX face (:func:`cnncalc.layers.faces.kinds_for_onnx_op`), which
#: says which kinds it can be; ``tests/test_architecture.py`` checks both ways.
NON_KIND_OPS = frozenset({"Cast", "Constant", "Gather", "Identity", "Shape", "Squeeze", "Unsqueeze"})

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
    "ReduceMax": _reduce_mean,
    "LeakyRelu": _leaky_relu,
    "Elu": _fixed_activation("elu", {"alpha": 1.0}),
    "Selu": _fixed_activation(
        "selu", {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875}
    ),
    "Celu": _fixed_activation("celu", {"alpha": 1.0}),
    "Softplus": _activation("softplus"),
    "Softsign": _activation("softsign"),
    "Exp": _activation("exponential"),
    "Mish": _activation("mish"),
    "LogSoftmax": _log_softmax,
    "Sum": _nary,
    "Max": _nary,
    "Min": _nary,
    "Mean": _nary,
    "Upsample": _resize,
    "Resize": _resize,
    "Pad": _pad,
    "DepthToSpace": _depth_to_space,
    "SpaceToDepth": _depth_to_space,
    "InstanceNormalization": _instance_norm,
    "GroupNormalization": _group_norm,
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


def _handler(op: str) -> Handler | None:
    """How the reader converts an op: only one that some kind's ONNX face declares, or a
    :data:`NON_KIND_OPS` op."""
    return _HANDLERS.get(op) if op in NON_KIND_OPS or kinds_for_onnx_op(op) else None


def supported_ops() -> Iterable[str]:
    """The ONNX op types the reader understands (docs and tests list them)."""
    return sorted(_HANDLERS)
