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
from ..layers.faces import kind_for_keras_class
from .spec import resolve_kind


def tensor_merge(op_class: str) -> str | None:
    """The merge kind a ``keras.ops`` elementwise binary operation (one of :data:`CONSTANT_OPS`) on
    two tensors is: the kind whose Keras face names the same class (``Add``, ``Subtract``,
    ``Multiply``, ``Maximum``, ``Minimum``), or None (``Divide``, ``Power``)."""
    kind = kind_for_keras_class(op_class) if op_class[:1].isupper() else None
    return kind.type if kind is not None and kind.cls.takes_many and op_class in CONSTANT_OPS else None


#: ``keras.ops`` binary operations with a constant: the operation's op (the merge kinds'
#: classes, for two tensors, by :func:`tensor_merge`).
CONSTANT_OPS = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Maximum": "maximum",
    "Minimum": "minimum",
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
#: Keras 2's layers for TensorFlow functions called on Keras tensors (TF 2.4 and later).
TF_OP_CLASSES = ("TFOpLambda", "SlicingOpLambda")
#: TF 2.0 to 2.3 (and graph mode since) record such a call as this layer, with the op's NodeDef.
TF_OP_LAYER = "TensorFlowOpLayer"
#: NodeDef ops between two inputs (a tensor and a constant, or two tensors): the keras.ops class.
NODE_BINARY = {
    "Add": "Add",
    "AddV2": "Add",
    "Sub": "Subtract",
    "Mul": "Multiply",
    "RealDiv": "TrueDivide",
    "Div": "Divide",
    "Maximum": "Maximum",
    "Minimum": "Minimum",
    "Pow": "Power",
}


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
            if preset:  # an activation's name (resolve_kind presets its activation)
                return [{"type": kind.type, "name": name, "inputs": sources, **preset}]
    merge = tensor_merge(class_name)
    if len(sources) == 2 and not constants and merge is not None:
        return [{"type": merge, "name": name, "inputs": sources}]
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
        merge = tensor_merge(op)
        if len(sources) == 2 and is_tensor_ref(y) and merge is not None:
            return [{"type": merge, "name": name, "inputs": sources}]
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


def _constant(value: Any) -> Any:
    """A TensorFlowOpLayer constant: plain JSON (TF 2.0-2.3) or tf-keras's ``__numpy__`` object."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        config = value.get("config")
        return config.get("value") if isinstance(config, dict) else None
    return value


def tf_op_layer(layer: dict[str, Any], name: str, sources: list[str]) -> list[dict[str, Any]] | None:
    """A ``TensorFlowOpLayer`` (TF 2.0 to 2.3): its ``node_def.op`` with the ``constants`` that
    fill some of its inputs (keyed by input position). ``AddV2``/``Mul``/... with a constant ->
    ``operation``, with two tensors -> the merge; ``Relu6``/``Sigmoid``/... -> the activation;
    ``StridedSlice`` without ellipsis, new or shrunk axes -> slices; None for any other op."""
    config = layer.get("config")
    node = config.get("node_def") if isinstance(config, dict) else None
    constants = config.get("constants") if isinstance(config, dict) else None
    if not isinstance(node, dict) or not isinstance(constants, dict):
        return None
    op, inputs = node.get("op"), node.get("input")
    if not isinstance(op, str) or not isinstance(inputs, list):
        return None
    fixed = {str(k): _constant(v) for k, v in constants.items()}
    if op in NODE_BINARY and len(inputs) == 2:
        kind = NODE_BINARY[op]
        merge = tensor_merge(kind)
        if not fixed and len(sources) == 2 and merge is not None:
            return [{"type": merge, "name": name, "inputs": sources}]
        if len(sources) == 1 and len(fixed) == 1 and set(fixed) <= {"0", "1"}:
            ((position, value),) = fixed.items()
            if _is_number(value):
                return [
                    {
                        "type": "operation",
                        "name": name,
                        "inputs": sources,
                        "op": CONSTANT_OPS[kind],
                        "operand": value,
                        "operand_first": position == "0",
                    }
                ]
        return None
    word = _snake(op)
    if len(inputs) == 1 and not fixed and len(sources) == 1 and word in ACTIVATIONS and word != "linear":
        return [{"type": "activation", "name": name, "inputs": sources, "activation": word}]
    if op == "StridedSlice" and len(sources) == 1 and set(fixed) == {"1", "2", "3"}:
        return _strided_slice(name, node.get("attr"), fixed, sources[0])
    return None


def _mask(attr: Any, key: str) -> int | None:
    """A NodeDef integer attribute (protobuf JSON writes int64 as a string)."""
    value = (
        attr.get(key, {}).get("i", 0)
        if isinstance(attr, dict) and isinstance(attr.get(key, {}), dict)
        else None
    )
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _strided_slice(name: str, attr: Any, fixed: dict[str, Any], source: str) -> list[dict[str, Any]] | None:
    begin, end, strides = fixed["1"], fixed["2"], fixed["3"]
    masks = {
        key: _mask(attr, key)
        for key in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
    }
    if (
        any(m is None for m in masks.values())
        or masks["ellipsis_mask"]
        or masks["new_axis_mask"]
        or masks["shrink_axis_mask"]
    ):
        return None
    lists = (begin, end, strides)
    if not all(isinstance(v, list) and len(v) == len(begin) and all(is_index(i) for i in v) for v in lists):
        return None
    begin_mask, end_mask = masks["begin_mask"] or 0, masks["end_mask"] or 0
    spec = [
        {
            "start": None if begin_mask >> axis & 1 else begin[axis],
            "stop": None if end_mask >> axis & 1 else end[axis],
            "step": strides[axis],
        }
        for axis in range(len(begin))
    ]
    return slices(name, spec, source)
