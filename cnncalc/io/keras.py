"""Keras model documents (``model.to_json()``, a ``.keras`` file's ``config.json``, an ``.h5``
file's ``model_config``) as cnncalc spec documents.

Sequential and Functional models, Keras 3 and Keras 2 (``tf.keras``) node formats. Besides layers:

- a model used as a layer inside another becomes one ``model`` layer holding the inner spec;
- ``keras.ops`` calls recorded as operation nodes (``x + 3.0`` in MobileNetV3) become an
  ``operation`` layer when one operand is a constant, a merge when both are tensors, and the
  matching activation for unary ``keras.ops.nn`` calls (``ops.relu(x)``);
- an ``InputLayer`` keeps ``None`` sizes: the engine asks for ``input_shape`` to fill them.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError
from ..layers.args import ACTIVATIONS
from .spec import resolve_kind, short_json

#: Keras model classes that may appear as a layer of another model.
MODEL_CLASSES = ("Sequential", "Functional", "Model")
#: ``keras.ops`` binary operations: the merge kind for two tensors, the operation for a constant.
_TENSOR_OPS = {
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Maximum": "maximum",
    "Minimum": "minimum",
}
_CONSTANT_OPS = {
    **_TENSOR_OPS,
    "Divide": "divide",
    "TrueDivide": "divide",
    "Power": "power",
}


def from_keras_model(doc: dict[str, Any]) -> dict[str, Any]:
    """A Keras model document (Sequential or Functional) -> a cnncalc spec document.

    The input shape comes from the ``InputLayer``'s ``batch_shape`` (Keras 3) or
    ``batch_input_shape`` (Keras 2), else the model's ``build_input_shape``; the batch axis is
    dropped and ``None`` sizes are kept (the engine asks for them).
    """
    class_name = doc.get("class_name")
    config = doc.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise SpecError(f"a Keras {class_name} document needs config.layers")
    if class_name in ("Functional", "Model"):
        return _from_keras_functional(config)
    if class_name != "Sequential":
        raise SpecError(f"Keras {class_name!r} models are not supported (Sequential and Functional ones are)")
    input_shape = None
    layers: list[Any] = []
    for index, layer in enumerate(config["layers"]):
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
            if input_shape is not None or layers:
                raise SpecError(
                    f"a Keras Sequential model has one InputLayer, first; layer {index + 1} is another"
                )
            input_shape = _batch_shape(layer)
            continue
        layers.append(_layer(layer))
    if input_shape is None:
        built = config.get("build_input_shape") or (doc.get("build_config") or {}).get("input_shape")
        input_shape = built[1:] if isinstance(built, list) and len(built) > 1 else None
    return {"name": config.get("name"), "input_shape": input_shape, "layers": layers}


def _batch_shape(layer: dict[str, Any]) -> list[Any]:
    inner = layer.get("config") or {}
    if not isinstance(inner, dict):
        raise SpecError(f"InputLayer config must be an object, got {short_json(inner)[:80]}")
    batch_shape = inner.get("batch_shape") or inner.get("batch_input_shape")
    if not isinstance(batch_shape, list) or len(batch_shape) < 2:
        raise SpecError(f"InputLayer without a batch_shape: {short_json(layer)[:80]}")
    return batch_shape[1:]


def _name(layer: dict[str, Any]) -> Any:
    return layer.get("name") or (layer.get("config") or {}).get("name")


def _layer(layer: Any) -> Any:
    """One Keras layer object as a spec layer: nested models converted, unknown classes refused."""
    if not isinstance(layer, dict):
        raise SpecError(f"a Keras layer must be an object, got {short_json(layer)[:80]}")
    class_name = layer.get("class_name")
    if class_name in MODEL_CLASSES:
        inner = {"class_name": class_name, "config": layer.get("config")}
        config = layer.get("config") or {}
        nested = {"type": "model", "name": _name(layer), "spec": from_keras_model(inner)}
        if config.get("trainable") is False:
            nested["trainable"] = False
        return nested
    try:
        resolve_kind(class_name)
    except SpecError:
        module = layer.get("module")
        origin = f" (class {class_name} from {module})" if isinstance(module, str) and module else ""
        raise SpecError(
            f"layer {_name(layer)!r}: {class_name!r} is not a Keras layer cnncalc knows{origin}",
            hint="`cnncalc kinds` lists the layers cnncalc reads",
        ) from None
    return layer


def _from_keras_functional(config: dict[str, Any]) -> dict[str, Any]:
    """A Keras functional model: InputLayers become named inputs; ``inbound_nodes`` give each
    layer's calls and, for each call, the layers whose tensors it reads (``keras_history``).

    A layer called several times (shared weights) becomes one row per call: the first named as
    the layer, the others ``name@1``, ``name@2``, ... carrying ``shares`` (params counted once,
    as in Keras's totals)."""
    entries = []
    for layer in config["layers"]:
        if not isinstance(layer, dict):
            raise SpecError(f"a Keras layer must be an object, got {short_json(layer)[:80]}")
        entries.append(layer)
    calls = {str(_name(layer)): _calls(layer) for layer in entries}
    inputs = []
    layers = []
    for layer in entries:
        name = _name(layer)
        if layer.get("class_name") == "InputLayer":
            inputs.append({"name": name, "shape": _batch_shape(layer)})
            continue
        nodes = layer.get("inbound_nodes") or []
        if not isinstance(nodes, list) or not nodes:
            raise SpecError(f"layer {name!r} is not called in the model (no inbound_nodes)")
        for call, node in enumerate(nodes):
            row = name if call == 0 else f"{name}@{call}"
            args, kwargs, refs = _node(node, name)
            sources = [_source(name, ref, calls) for ref in refs]
            if _is_operation(layer):
                layers.append(_operation(layer, row, args, sources))
                continue
            if layer.get("class_name") in TF_OP_CLASSES:
                sources += [_source(name, ref, calls) for ref in _kwarg_tensors(kwargs)]
                layers.extend(_tf_op(layer, row, kwargs, sources))
                continue
            item = {k: v for k, v in _layer(layer).items() if k not in ("inbound_nodes", "name")}
            item = {**item, "name": row, "inputs": sources}
            if call:
                item["shares"] = name
                if isinstance(item.get("config"), dict):  # the row's name is not the layer's
                    item["config"] = {k: v for k, v in item["config"].items() if k != "name"}
            layers.append(item)
    return {"name": config.get("name"), "inputs": inputs, "layers": layers}


#: Keras 2's layers for TensorFlow functions called on Keras tensors (``x + 3.0``, ``tf.nn.relu6(x)``,
#: ``x[:, :4]``).
TF_OP_CLASSES = ("TFOpLambda", "SlicingOpLambda")


def _calls(layer: dict[str, Any]) -> tuple[int, int]:
    """(the node index of the layer's first call in this model, how many calls it has).

    A nested model starts with a node of its own (its inputs to its outputs, made when it was
    built), so the file numbers its calls from 1: every Keras 3 ``Functional`` model, and in
    Keras 2 (whose nodes are lists) a ``Sequential`` or ``Functional`` model that begins with an
    ``InputLayer`` (Keras's ``_should_skip_first_node``). Everything else numbers from 0."""
    nodes = layer.get("inbound_nodes")
    count = len(nodes) if isinstance(nodes, list) and nodes else 1
    class_name = layer.get("class_name")
    if class_name not in MODEL_CLASSES:
        return 0, count
    if class_name in ("Functional", "Model"):
        return 1, count
    keras2 = isinstance(nodes, list) and bool(nodes) and isinstance(nodes[0], list)
    inner = (layer.get("config") or {}).get("layers") if isinstance(layer.get("config"), dict) else None
    first = inner[0] if isinstance(inner, list) and inner else None
    starts_with_input = isinstance(first, dict) and first.get("class_name") == "InputLayer"
    return (1 if keras2 and starts_with_input else 0), count


def _source(name: Any, ref: tuple[Any, Any, Any], calls: dict[str, tuple[int, int]]) -> str:
    """The row a ``keras_history`` ``[layer, node_index, tensor_index]`` points at: the layer's
    row for its first call, ``layer@N`` for call N. Only a layer's first output exists here, and
    a node index the file does not record is refused rather than read as another call."""
    source, node_index, tensor_index = ref
    if not isinstance(source, str) or not _is_index(node_index) or not _is_index(tensor_index):
        raise SpecError(
            f"layer {name!r}: inbound_nodes hold a bad tensor reference {short_json(list(ref))[:80]}"
        )
    if tensor_index != 0:
        raise SpecError(
            f"layer {name!r} reads output {tensor_index} of {source!r}; layers with several "
            "outputs are not supported"
        )
    if source not in calls:
        return source  # the engine names the unknown input
    first, count = calls[source]
    call = node_index - first
    if not 0 <= call < count:
        raise SpecError(
            f"layer {name!r} reads call {node_index} of {source!r}, which the file does not record "
            f"(its calls are numbered {first} to {first + count - 1})"
        )
    return source if call == 0 else f"{source}@{call}"


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _node(node: Any, name: Any) -> tuple[list[Any], dict[str, Any], list[tuple[Any, Any, Any]]]:
    """(the call's positional arguments, its keyword arguments, the tensors it reads as
    ``(layer, node_index, tensor_index)``).

    Keras 3 writes ``{"args": [...], "kwargs": {...}}`` with ``__keras_tensor__`` objects;
    Keras 2 (``tf.keras``, ``.h5`` files) a list of ``[layer_name, node, tensor, kwargs]``, one
    per input tensor, or for a TensorFlow op layer (``TFOpLambda``) with one input that one
    entry alone (a level less nested). Keras 2 repeats the call's other arguments as each
    entry's ``kwargs``; tensors among them are ``[layer_name, node, tensor]``."""
    try:
        if isinstance(node, dict):
            args = node.get("args") or []
            kwargs = node.get("kwargs") or {}
            refs = [tuple(t["config"]["keras_history"]) for t in _keras_tensors(args)]
            if all(len(r) == 3 for r in refs) and isinstance(kwargs, dict):
                return list(args), kwargs, refs
        elif isinstance(node, list) and node:
            entries = [node] if isinstance(node[0], str) else node
            if all(isinstance(t, list) and len(t) in (3, 4) and isinstance(t[0], str) for t in entries):
                kwargs = entries[0][3] if len(entries[0]) == 4 else {}
                if isinstance(kwargs, dict):
                    return [], kwargs, [(t[0], t[1], t[2]) for t in entries]
    except (KeyError, TypeError, IndexError, AttributeError):
        pass
    raise SpecError(f"layer {name!r}: inbound_nodes without keras_history")


def _keras_tensors(value: Any) -> list[dict[str, Any]]:
    """Every ``__keras_tensor__`` in a node's (possibly nested) arguments, in order."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _keras_tensors(item)]
    return []


def _is_operation(layer: dict[str, Any]) -> bool:
    """A ``keras.ops`` call recorded as a node (module ``keras.src.ops.numpy``, ``...ops.nn``)."""
    module = layer.get("module")
    return isinstance(module, str) and (module.startswith("keras.src.ops") or module.startswith("keras.ops"))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _operation(layer: dict[str, Any], name: Any, args: list[Any], sources: list[str]) -> dict[str, Any]:
    """A ``keras.ops`` node as a layer: a constant operand -> ``operation``; two tensors -> a
    (broadcasting) merge; a unary ``keras.ops.nn`` activation -> that activation."""
    class_name = str(layer.get("class_name"))
    constants = [a for a in args if not _keras_tensors(a)]
    if len(sources) == 1 and not constants:
        try:
            kind, preset = resolve_kind(_snake(class_name))
        except SpecError:
            pass
        else:
            if kind.type == "activation":
                return {"type": "activation", "name": name, "inputs": sources, **preset}
    if len(sources) == 2 and not constants and class_name in _TENSOR_OPS:
        return {"type": _TENSOR_OPS[class_name], "name": name, "inputs": sources}
    if len(sources) == 1 and len(args) == 2 and len(constants) == 1 and class_name in _CONSTANT_OPS:
        constant = constants[0]
        return {
            "type": "operation",
            "name": name,
            "inputs": sources,
            "op": _CONSTANT_OPS[class_name],
            "operand": constant,
            "operand_first": not _keras_tensors(args[0]),
        }
    raise SpecError(
        f"layer {name!r}: the keras.ops call {class_name} with {short_json(args)[:80]} is not one cnncalc "
        "reads (elementwise add, subtract, multiply, divide, power, maximum, minimum with a constant "
        "or a second tensor, and unary activations)"
    )


def _kwarg_tensors(kwargs: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """Tensors among a Keras 2 call's other arguments: ``[layer_name, node, tensor]`` lists."""
    return [(v[0], v[1], v[2]) for v in kwargs.values() if _is_tensor_ref(v)]


def _is_tensor_ref(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and _is_index(value[1])
        and _is_index(value[2])
    )


#: TensorFlow functions (``TFOpLambda``'s ``function``, without ``__operators__.``/``math.``)
#: between a tensor ``x`` and ``y``: the keras.ops class whose rule applies.
_TF_BINARY = {
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "truediv": "TrueDivide",
    "divide": "Divide",
    "pow": "Power",
    "maximum": "Maximum",
    "minimum": "Minimum",
}


def _tf_op(
    layer: dict[str, Any], name: str, kwargs: dict[str, Any], sources: list[str]
) -> list[dict[str, Any]]:
    """A Keras 2 TensorFlow op layer as cnncalc layers: ``tf.__operators__.add`` (``x + 3.0``),
    ``tf.math.multiply``... with a constant -> ``operation``, with a second tensor -> the merge;
    ``tf.nn.relu6`` and the other activations -> the activation; ``x[...]``
    (``SlicingOpLambda``, ``__operators__.getitem``) -> one ``slice`` per sliced axis."""
    config = layer.get("config")
    function = config.get("function") if isinstance(config, dict) else None
    if not isinstance(function, str):
        raise SpecError(f"layer {name!r}: a {layer.get('class_name')} without its function name")
    word = function.rsplit(".", 1)[-1]
    others = {k: v for k, v in kwargs.items() if k != "name"}
    if function == "__operators__.getitem" and set(others) == {"slice_spec"} and len(sources) == 1:
        return _slices(name, others["slice_spec"], sources[0], function)
    op = _TF_BINARY.get(word)
    if op is not None and set(others) == {"y"}:
        y = others["y"]
        if len(sources) == 2 and _is_tensor_ref(y) and op in _TENSOR_OPS:
            return [{"type": _TENSOR_OPS[op], "name": name, "inputs": sources}]
        if len(sources) == 1 and _is_number(y):
            return [
                {"type": "operation", "name": name, "inputs": sources, "op": _CONSTANT_OPS[op], "operand": y}
            ]
    if len(sources) == 1 and not others and word in ACTIVATIONS and word != "linear":
        return [{"type": "activation", "name": name, "inputs": sources, "activation": word}]
    raise SpecError(
        f"layer {name!r}: the TensorFlow op tf.{function} with {short_json(others)[:80]} is not one cnncalc "
        "reads (x + - * / ** a constant or a second tensor, maximum, minimum, activations, x[...] slices)"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _slices(name: str, spec: Any, source: str, function: str) -> list[dict[str, Any]]:
    """``x[...]`` as one ``slice`` row per sliced axis (``slice_spec``: one ``{start, stop,
    step}`` per axis, the batch axis first); the last row carries the layer's name so what reads
    it finds it, the others are ``name/axisN``. Integer indices (dropping an axis), ``None``
    (a new axis) and ``...`` are refused."""
    if not isinstance(spec, list) or not spec:
        spec = [spec]
    axes = []
    for axis, item in enumerate(spec):
        if not isinstance(item, dict) or set(item) != {"start", "stop", "step"}:
            raise SpecError(
                f"layer {name!r}: tf.{function} with {short_json(item)[:60]} on axis {axis} is not one cnncalc "
                "reads (start:stop:step slices only)"
            )
        start, stop, step = item["start"], item["stop"], item["step"]
        if start in (None, 0) and stop is None and step in (None, 1):
            continue
        if axis == 0:
            raise SpecError(f"layer {name!r}: slicing the batch axis is not supported")
        if step is not None and (not _is_index(step) or step <= 0):
            raise SpecError(f"layer {name!r}: slice step {step!r} on axis {axis} is not a positive integer")
        axes.append({"type": "slice", "axis": axis, "start": start or 0, "stop": stop, "step": step or 1})
    if not axes:
        return [{"type": "activation", "name": name, "inputs": [source], "activation": "linear"}]
    rows = []
    for index, item in enumerate(axes):
        last = index == len(axes) - 1
        rows.append({**item, "name": name if last else f"{name}/axis{item['axis']}", "inputs": [source]})
        source = rows[-1]["name"]
    return rows
