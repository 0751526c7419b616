"""ONNX's own rules for an op cnncalc has none for: one node run through ``onnx.shape_inference``
(its output shapes, for an opaque row) or through ``onnx.reference`` (its values, when every
input is a known constant: constant folding of shape arithmetic and in-graph weights).

The optional ``onnx`` package is imported here only, inside the functions, and only when a graph
holds such an op; without it, :class:`Missing` is raised and the reader says which ``pip install``
adds it. The node is rebuilt from its own serialized bytes, so its attributes are exactly the
file's; nothing from the file is ever evaluated as code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .onnx_wire import Node

#: A computed tensor's dynamic batch axis, as a symbolic dim in the one-node model.
BATCH_DIM = "N"
#: Constant folding evaluates a node only when each output holds at most this many values.
MAX_FOLDED = 1 << 16

Dims = tuple[int | str, ...]


#: Ops whose one output has their first input's shape (ONNX's operator docs), for when shape
#: inference gives nothing: some are functions whose bodies it does not expand (GroupNormalization-21).
SAME_SHAPE = frozenset(
    {
        "GroupNormalization",
        "InstanceNormalization",
        "LpNormalization",
        "MeanVarianceNormalization",
        "LRN",
        "Shrink",
        "ThresholdedRelu",
        "Mish",
        "HardSwish",
        "Celu",
        "Selu",
        "Elu",
    }
)


class Missing(Exception):
    """The onnx package is not installed."""


@dataclass(frozen=True)
class Operand:
    """One input of the node: its dims (``BATCH_DIM`` for a dynamic batch), values when known
    (then it is passed as an initializer), element type."""

    dims: Dims
    values: tuple[float, ...] | None = None
    dtype: int = 1


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise Missing from None
    return onnx


def _model(node: Node, operands: list[Operand | None], opset: int) -> Any:
    onnx = _onnx()
    from onnx import helper

    proto = onnx.NodeProto.FromString(node.raw)
    inputs, initializers = [], []
    for name, operand in zip(node.inputs, operands, strict=True):
        if not name or operand is None:
            continue
        if operand.values is not None:
            dtype = operand.dtype if operand.dtype in (1, 6, 7, 9, 11) else 1
            values = [int(v) for v in operand.values] if dtype in (6, 7, 9) else list(operand.values)
            dims: list[Any] = list(operand.dims)
            initializers.append(helper.make_tensor(name, dtype, dims, values))
        else:
            shape: list[Any] = list(operand.dims)
            inputs.append(helper.make_tensor_value_info(name, operand.dtype, shape))
    graph = helper.make_graph([proto], "node", inputs, [], initializer=initializers)
    imports = [helper.make_opsetid("", opset or 13)]
    if node.domain not in ("", "ai.onnx"):
        imports.append(helper.make_opsetid(node.domain, 1))
    return helper.make_model(graph, opset_imports=imports)


def infer(node: Node, operands: list[Operand | None], opset: int) -> list[tuple[int | None, ...] | None]:
    """Each output's dims by ONNX shape inference (None for a symbolic or unknown size, the batch
    axis included), or None for an output whose shape it cannot tell."""
    onnx = _onnx()
    if not node.raw:
        return [None] * len(node.outputs)
    try:
        model = _model(node, operands, opset)
        inferred = onnx.shape_inference.infer_shapes(
            model, check_type=False, strict_mode=True, data_prop=True
        )
    except Exception:  # noqa: BLE001 - InferenceError, ValidationError, protobuf errors: no shape
        return [None] * len(node.outputs)
    found: dict[str, tuple[int | None, ...] | None] = {}
    for value in inferred.graph.value_info:
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            found[value.name] = None
            continue
        found[value.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
    out = [found.get(name) for name in node.outputs]
    if out == [None] and node.op in SAME_SHAPE and operands and operands[0] is not None:
        return [tuple(d if isinstance(d, int) else None for d in operands[0].dims)]
    return out


def evaluate(
    node: Node, operands: list[Operand | None], opset: int
) -> list[tuple[tuple[int, ...], tuple[float, ...], bool]] | None:
    """The node's outputs (dims, flat values, integer?) when every input is a known constant and
    each output is small; None when ONNX's reference evaluator cannot run it."""
    onnx = _onnx()
    if not node.raw:
        return None
    shapes = infer(node, operands, opset)
    for dims in shapes:
        if dims is None or None in dims or math.prod(d or 0 for d in dims) > MAX_FOLDED:
            return None
    try:
        from onnx.reference import ReferenceEvaluator

        model = _model(node, operands, opset)
        model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in node.outputs if n)
        results = ReferenceEvaluator(model).run(None, {})
    except Exception:  # noqa: BLE001 - the evaluator's own errors: no values
        return None
    out = []
    array: Any
    for array in results:
        kind = getattr(getattr(array, "dtype", None), "kind", "f")
        if kind not in "fiub" or getattr(array, "size", MAX_FOLDED + 1) > MAX_FOLDED:
            return None
        flat = array.reshape(-1).tolist()
        out.append((tuple(int(d) for d in array.shape), tuple(flat), kind in "iub"))
    return out
