"""Keras's ``model.to_json()`` documents (Sequential and Functional) as cnncalc spec documents."""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from .spec import short_json


def from_keras_model(doc: dict[str, Any]) -> dict[str, Any]:
    """A Keras ``model.to_json()`` document (Sequential or Functional) -> a cnncalc spec document.

    The input shape comes from the ``InputLayer``'s ``batch_shape`` (Keras 3) or
    ``batch_input_shape`` (Keras 2), else the model's ``build_input_shape``; the batch axis is dropped.
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
    layers = []
    for layer in config["layers"]:
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
            input_shape = _batch_shape(layer)
            continue
        layers.append(layer)
    if input_shape is None:
        built = config.get("build_input_shape") or (doc.get("build_config") or {}).get("input_shape")
        input_shape = built[1:] if isinstance(built, list) and len(built) > 1 else None
    return {"name": config.get("name"), "input_shape": input_shape, "layers": layers}


def _batch_shape(layer: dict[str, Any]) -> list[Any]:
    inner = layer.get("config") or {}
    batch_shape = inner.get("batch_shape") or inner.get("batch_input_shape")
    if not isinstance(batch_shape, list) or len(batch_shape) < 2:
        raise SpecError(f"InputLayer without a batch_shape: {short_json(layer)[:80]}")
    return batch_shape[1:]


def _from_keras_functional(config: dict[str, Any]) -> dict[str, Any]:
    """A Keras functional model: InputLayers become named inputs; ``inbound_nodes`` give each
    layer's inputs (the ``keras_history`` of the tensors in its first call's arguments)."""
    inputs = []
    layers = []
    for layer in config["layers"]:
        if not isinstance(layer, dict):
            raise SpecError(f"a Keras layer must be an object, got {layer!r}")
        name = layer.get("name") or (layer.get("config") or {}).get("name")
        if layer.get("class_name") == "InputLayer":
            inputs.append({"name": name, "shape": _batch_shape(layer)})
            continue
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) != 1:
            raise SpecError(f"layer {name!r} is called {len(nodes)} times; shared layers are not supported")
        try:
            sources = [
                tensor["config"]["keras_history"][0] for tensor in _keras_tensors(nodes[0].get("args"))
            ]
        except (KeyError, TypeError, IndexError, AttributeError):
            raise SpecError(f"layer {name!r}: inbound_nodes without keras_history") from None
        item = {k: v for k, v in layer.items() if k not in ("inbound_nodes", "name")}
        layers.append({**item, "name": name, "inputs": sources})
    return {"name": config.get("name"), "inputs": inputs, "layers": layers}


def _keras_tensors(value: Any) -> list[dict[str, Any]]:
    """Every ``__keras_tensor__`` in a node's (possibly nested) arguments, in order."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _keras_tensors(item)]
    return []
