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
    layer's inputs (the ``keras_history`` of the tensors in its first call's arguments)."""
    inputs = []
    layers = []
    for layer in config["layers"]:
        if not isinstance(layer, dict):
            raise SpecError(f"a Keras layer must be an object, got {short_json(layer)[:80]}")
        name = _name(layer)
        if layer.get("class_name") == "InputLayer":
            inputs.append({"name": name, "shape": _batch_shape(layer)})
            continue
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) != 1:
            raise SpecError(f"layer {name!r} is called {len(nodes)} times; shared layers are not supported")
        args, sources = _node(nodes[0], name)
        if _is_operation(layer):
            layers.append(_operation(layer, name, args, sources))
            continue
        item = {k: v for k, v in _layer(layer).items() if k not in ("inbound_nodes", "name")}
        layers.append({**item, "name": name, "inputs": sources})
    return {"name": config.get("name"), "inputs": inputs, "layers": layers}


def _node(node: Any, name: Any) -> tuple[list[Any], list[str]]:
    """(the call's positional arguments, the names of the layers whose tensors it reads).

    Keras 3 writes ``{"args": [...], "kwargs": {...}}`` with ``__keras_tensor__`` objects;
    Keras 2 (``tf.keras``, old ``.h5`` files) a list of ``[layer_name, node, tensor, kwargs]``.
    """
    try:
        if isinstance(node, dict):
            args = node.get("args") or []
            return list(args), [
                _history_source(name, t["config"]["keras_history"]) for t in _keras_tensors(args)
            ]
        if isinstance(node, list) and all(isinstance(t, list) and t and isinstance(t[0], str) for t in node):
            return [], [_history_source(name, t[:3]) if len(t) >= 3 else t[0] for t in node]
    except (KeyError, TypeError, IndexError, AttributeError):
        pass
    raise SpecError(f"layer {name!r}: inbound_nodes without keras_history")


def _history_source(name: Any, history: Any) -> str:
    """The layer a ``keras_history`` ``[layer, node_index, tensor_index]`` points at. Layers are
    called once and have one output here, so both indices must be 0: anything else would name a
    tensor this spec does not have, and is refused rather than read as node 0, tensor 0."""
    source, node_index, tensor_index = history
    if not isinstance(source, str):
        raise TypeError(source)
    if node_index != 0 or tensor_index != 0 or isinstance(node_index, bool) or isinstance(tensor_index, bool):
        raise SpecError(
            f"layer {name!r} reads tensor {tensor_index!r} of call {node_index!r} of {source!r}; "
            "only call 0, tensor 0 exists (shared layers and multi-output layers are not supported)"
        )
    return source


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
