"""Operations recorded in Keras model documents, as cnncalc layers: ``keras.ops`` nodes (Keras 3)
and TensorFlow op layers (Keras 2's ``TFOpLambda`` and ``SlicingOpLambda``).

Each function returns the spec layers for a call it reads, or None for one it does not (the
Keras reader then makes an opaque row when the file records the output shape, else refuses).
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard

from ..errors import SpecError
from ..layers.args import ACTIVATIONS
from .spec import resolve_kind

#: ``keras.ops`` binary operations: the merge kind for two tensors, the operation for a constant.
TENSOR_OPS = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Maximum": "maximum",
    "Minimum": "minimum",
}
CONSTANT_OPS = {
    **TENSOR_OPS,
    "Divide": "divide",
    "TrueDivide": "divide",
    "Power": "power",
}
#: TensorFlow functions (``TFOpLambda``'s ``function``, last part: ``__operators__.add``,
#: ``math.multiply``) between a tensor ``x`` and ``y``: the keras.ops class whose rule applies.
TF_BINARY = {
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "truediv": "TrueDivide",
    "divide": "Divide",
    "pow": "Power",
    "maximum": "Maximum",
    "minimum": "Minimum",
}
#: Keras 2's layers for TensorFlow functions called on Keras tensors.
TF_OP_CLASSES = ("TFOpLambda", "SlicingOpLambda")


def keras_tensors(value: Any) -> list[dict[str, Any]]:
    """Every ``__keras_tensor__`` in a node's (possibly nested) arguments, in order."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in keras_tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in keras_tensors(item)]
    return []


def is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_tensor_ref(value: Any) -> TypeGuard[list[Any]]:
    """A Keras 2 tensor among a call's other arguments: ``[layer_name, node, tensor]``."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and is_index(value[1])
        and is_index(value[2])
    )


def kwarg_tensors(kwargs: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """Tensors among a Keras 2 call's other arguments."""
    return [(v[0], v[1], v[2]) for v in kwargs.values() if is_tensor_ref(v)]


def is_operation(layer: dict[str, Any]) -> bool:
    """A ``keras.ops`` call recorded as a node (module ``keras.src.ops.numpy``, ``...ops.nn``)."""
    module = layer.get("module")
    return isinstance(module, str) and (module.startswith("keras.src.ops") or module.startswith("keras.ops"))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def operation(
    layer: dict[str, Any], name: str, args: list[Any], sources: list[str]
) -> list[dict[str, Any]] | None:
    """A ``keras.ops`` node: a constant operand -> ``operation``; two tensors -> a (broadcasting)
    merge; a unary ``keras.ops.nn`` activation -> that activation; None for any other call."""
    class_name = str(layer.get("class_name"))
    constants = [a for a in args if not keras_tensors(a)]
    if len(sources) == 1 and not constants:
        try:
            kind, preset = resolve_kind(_snake(class_name))
        except SpecError:
            pass
        else:
            if kind.type == "activation":
                return [{"type": "activation", "name": name, "inputs": sources, **preset}]
    if len(sources) == 2 and not constants and class_name in TENSOR_OPS:
        return [{"type": TENSOR_OPS[class_name], "name": name, "inputs": sources}]
    if len(sources) == 1 and len(args) == 2 and len(constants) == 1 and class_name in CONSTANT_OPS:
        if not _is_number(constants[0]):
            return None
        return [
            {
                "type": "operation",
                "name": name,
                "inputs": sources,
                "op": CONSTANT_OPS[class_name],
                "operand": constants[0],
                "operand_first": not keras_tensors(args[0]),
            }
        ]
    return None


def tf_op(
    layer: dict[str, Any], name: str, kwargs: dict[str, Any], sources: list[str]
) -> list[dict[str, Any]] | None:
    """A Keras 2 TensorFlow op layer: ``tf.__operators__.add`` (``x + 3.0``), ``tf.math.multiply``...
    with a constant -> ``operation``, with a second tensor -> the merge; ``tf.nn.relu6`` and the
    other activations -> the activation; ``x[...]`` (``SlicingOpLambda``,
    ``__operators__.getitem``) -> one ``slice`` per sliced axis; None for any other call."""
    config = layer.get("config")
    function = config.get("function") if isinstance(config, dict) else None
    if not isinstance(function, str):
        return None
    word = function.rsplit(".", 1)[-1]
    others = {k: v for k, v in kwargs.items() if k != "name"}
    if function == "__operators__.getitem" and set(others) == {"slice_spec"} and len(sources) == 1:
        return slices(name, others["slice_spec"], sources[0])
    op = TF_BINARY.get(word)
    if op is not None and set(others) == {"y"}:
        y = others["y"]
        if len(sources) == 2 and is_tensor_ref(y) and op in TENSOR_OPS:
            return [{"type": TENSOR_OPS[op], "name": name, "inputs": sources}]
        if len(sources) == 1 and _is_number(y):
            return [
                {"type": "operation", "name": name, "inputs": sources, "op": CONSTANT_OPS[op], "operand": y}
            ]
    if len(sources) == 1 and not others and word in ACTIVATIONS and word != "linear":
        return [{"type": "activation", "name": name, "inputs": sources, "activation": word}]
    return None


def slices(name: str, spec: Any, source: str) -> list[dict[str, Any]] | None:
    """``x[...]`` as one ``slice`` row per sliced axis (``slice_spec``: one ``{start, stop, step}``
    per axis, the batch axis first); the last row carries the layer's name so what reads it
    finds it, the others are ``name/axisN``. Integer indices (dropping an axis), ``None`` (a new
    axis), ``...`` and slices of the batch axis are not read (None)."""
    if not isinstance(spec, list) or not spec:
        spec = [spec]
    axes = []
    for axis, item in enumerate(spec):
        if not isinstance(item, dict) or set(item) != {"start", "stop", "step"}:
            return None
        start, stop, step = item["start"], item["stop"], item["step"]
        if any(v is not None and not is_index(v) for v in (start, stop, step)):
            return None
        if start in (None, 0) and stop is None and step in (None, 1):
            continue
        if axis == 0 or (step is not None and step <= 0):
            return None
        axes.append({"type": "slice", "axis": axis, "start": start or 0, "stop": stop, "step": step or 1})
    if not axes:  # x[:, :] is x
        return [{"type": "activation", "name": name, "inputs": [source], "activation": "linear"}]
    rows = []
    for index, item in enumerate(axes):
        last = index == len(axes) - 1
        rows.append({**item, "name": name if last else f"{name}/axis{item['axis']}", "inputs": [source]})
        source = rows[-1]["name"]
    return rows
