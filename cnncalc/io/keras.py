"""Keras model documents (``model.to_json()``, a ``.keras`` file's ``config.json``, an ``.h5``
file's ``model_config``) as cnncalc spec documents.

Sequential and Functional models, Keras 3 and Keras 2 (``tf.keras``, TF 2.0 to 2.21, tf-keras)
node formats. Besides layers:

- a model used as a layer inside another becomes one ``model`` layer holding the inner spec;
- ``keras.ops`` calls recorded as operation nodes and Keras 2's TensorFlow op layers
  (``TFOpLambda``, ``SlicingOpLambda``) become operation, merge, activation or slice rows
  (:mod:`cnncalc.io.keras_ops`);
- a layer called several times (shared weights) is one row per call, its params on the first;
- a layer cnncalc has no kind for (a user's class, a keras-hub block, a ``Lambda``) is an
  opaque row when the file records its output shape (:mod:`cnncalc.io.keras_opaque`);
- an ``InputLayer`` keeps ``None`` sizes: the engine asks for ``input_shape`` to fill them.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from ..layers.faces import kind_for_keras_class
from . import keras_ops as ops
from .keras_opaque import TRACE_HINT, Reading, WeightPaths, is_shape, opaque_row, qualified, refusal
from .spec import short_json

#: Keras model classes that may appear as a layer of another model.
MODEL_CLASSES = ("Sequential", "Functional", "Model")


def from_keras_model(
    doc: dict[str, Any], reading: Reading | None = None, output: list[Any] | None = None
) -> dict[str, Any]:
    """A Keras model document (Sequential or Functional) -> a cnncalc spec document.

    The input shape comes from the ``InputLayer``'s ``batch_shape`` (Keras 3) or
    ``batch_input_shape`` (Keras 2), else the model's ``build_input_shape``; the batch axis is
    dropped and ``None`` sizes are kept (the engine asks for them). ``reading`` carries the
    file's weights (for custom layers' params) and collects notes; ``output`` is the model's
    output shape where the file records it (a nested model's, recorded by what reads it): a
    last layer cnncalc has no kind for takes it.
    """
    reading = reading if reading is not None else Reading()
    class_name = doc.get("class_name")
    config = doc.get("config")
    if class_name == "Sequential" and isinstance(config, list):  # Keras <= 2.2: the layers alone
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        if class_name not in MODEL_CLASSES and isinstance(config, dict) and isinstance(class_name, str):
            raise SpecError(
                f"{qualified(doc)} is a model saved by its own class: its config holds only the "
                "arguments of its constructor, not its layers, so the file does not record its shapes",
                hint=TRACE_HINT,
            )
        raise SpecError(f"a Keras {class_name} document needs config.layers")
    if class_name in ("Functional", "Model"):
        return _from_keras_functional(config, reading, output)
    if class_name != "Sequential":
        raise SpecError(f"Keras {class_name!r} models are not supported (Sequential and Functional ones are)")
    return _from_keras_sequential(doc, config, reading, output)


def _from_keras_sequential(
    doc: dict[str, Any], config: dict[str, Any], reading: Reading, output: list[Any] | None
) -> dict[str, Any]:
    """A Sequential model: each layer reads the one before; the next layer's ``build_config``
    records a layer's output shape (what an opaque row needs)."""
    input_shape = None
    entries: list[Any] = []
    for index, layer in enumerate(config["layers"]):
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
            if input_shape is not None or entries:
                raise SpecError(
                    f"a Keras Sequential model has one InputLayer, first; layer {index + 1} is another"
                )
            input_shape = _batch_shape(layer)
            continue
        if not isinstance(layer, dict):
            raise SpecError(f"a Keras layer must be an object, got {short_json(layer)[:80]}")
        entries.append(layer)
    paths = WeightPaths(reading)
    layers = []
    for index, layer in enumerate(entries):
        path = paths.next(layer)
        if _known(layer):
            layers.append(_layer(layer, reading, path))
            continue
        name = str(_name(layer))
        following = entries[index + 1] if index + 1 < len(entries) else None
        shape = _build_shape(following) if following is not None else output or _declared_output(layer)
        if shape is None:
            raise refusal(name, _unknown_what(layer))
        own = _build_shape(layer)
        layers.append(opaque_row(layer, name, shape, [own] if own else None, None, reading, path))
    if input_shape is None:
        built = config.get("build_input_shape") or (doc.get("build_config") or {}).get("input_shape")
        input_shape = built[1:] if isinstance(built, list) and len(built) > 1 else None
    return {"name": config.get("name"), "input_shape": input_shape, "layers": layers}


def _build_shape(layer: dict[str, Any]) -> list[Any] | None:
    """The one input shape a layer's ``build_config`` records (batch axis included), if any."""
    build = layer.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    return shape if is_shape(shape) else None


def _declared_output(layer: dict[str, Any]) -> list[Any] | None:
    """A ``Lambda``'s declared ``output_shape`` (without the batch axis, as Keras takes it), when
    it is a plain shape rather than code."""
    config = layer.get("config")
    if layer.get("class_name") != "Lambda" or not isinstance(config, dict):
        return None
    declared = config.get("output_shape")
    if config.get("output_shape_type", "raw") != "raw" or not is_shape(declared):
        return None
    return [None, *declared]


def _batch_shape(layer: dict[str, Any]) -> list[Any]:
    inner = layer.get("config") or {}
    if not isinstance(inner, dict):
        raise SpecError(f"InputLayer config must be an object, got {short_json(inner)[:80]}")
    batch_shape = inner.get("batch_shape") or inner.get("batch_input_shape")
    if not isinstance(batch_shape, list) or len(batch_shape) < 2:
        raise SpecError(f"InputLayer without a batch_shape: {short_json(layer)[:80]}")
    return batch_shape[1:]


def _name(layer: dict[str, Any]) -> Any:
    config = layer.get("config")
    return layer.get("name") or (config.get("name") if isinstance(config, dict) else None)


def _known(layer: dict[str, Any]) -> bool:
    """A layer cnncalc has a kind for (or a nested model)."""
    class_name = layer.get("class_name")
    if class_name in MODEL_CLASSES and isinstance(layer.get("config"), (dict, list)):
        return True
    return isinstance(class_name, str) and kind_for_keras_class(class_name) is not None


def _unknown_what(layer: dict[str, Any]) -> str:
    class_name = layer.get("class_name")
    if class_name == "Lambda":
        return "a Lambda layer runs code cnncalc does not read"
    return f"{str(class_name)[:80]!r} is not a Keras layer cnncalc knows ({qualified(layer)})"


def _layer(
    layer: dict[str, Any], reading: Reading, path: tuple[str, ...] | None, output: list[Any] | None = None
) -> Any:
    """One known Keras layer object as a spec layer (a nested model converted; ``output``: its
    output shape as recorded by what reads it)."""
    class_name = layer.get("class_name")
    if class_name in MODEL_CLASSES:
        inner = {"class_name": class_name, "config": layer.get("config")}
        config = layer.get("config") or {}
        inner_reading = reading.inside(path) if path is not None else reading
        nested = {
            "type": "model",
            "name": _name(layer),
            "spec": from_keras_model(inner, inner_reading, output),
        }
        if isinstance(config, dict) and config.get("trainable") is False:
            nested["trainable"] = False
        return nested
    return layer


def _from_keras_functional(
    config: dict[str, Any], reading: Reading, output: list[Any] | None
) -> dict[str, Any]:
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
    referenced = _referenced(entries)
    calls = {str(_name(layer)): _calls(layer, referenced.get(str(_name(layer)), set())) for layer in entries}
    recorded = _recorded_shapes(entries)
    outputs = config.get("output_layers")
    if output is not None and isinstance(outputs, list) and outputs:
        # one output: [[name, node, tensor]] (Keras 3 may write [name, node, tensor] alone)
        last = outputs[0] if len(outputs) == 1 else outputs
        if ops.is_tensor_ref(last) and last[2] == 0:
            recorded.setdefault((last[0], last[1]), output)
    paths = WeightPaths(reading)
    inputs = []
    layers = []
    for layer in entries:
        name = _name(layer)
        path = None if ops.is_operation(layer) else paths.next(layer)
        if layer.get("class_name") == "InputLayer":
            inputs.append({"name": name, "shape": _batch_shape(layer)})
            continue
        nodes = layer.get("inbound_nodes") or []
        if not isinstance(nodes, list) or not nodes:
            raise SpecError(f"layer {name!r} is not called in the model (no inbound_nodes)")
        first = calls[str(name)][0]
        for call, node in enumerate(nodes):
            row = name if call == 0 else f"{name}@{call}"
            args, kwargs, refs = _node(node, name)
            in_shapes = _in_shapes(node, layer, call)
            tf_op = layer.get("class_name") in ops.TF_OP_CLASSES
            if tf_op:
                refs = refs + ops.kwarg_tensors(kwargs)
            sources = [_source(name, ref, calls) for ref in refs]
            read = None
            if ops.is_operation(layer):
                read = ops.operation(layer, row, args, sources)
            elif tf_op:
                read = ops.tf_op(layer, row, kwargs, sources)
            elif layer.get("class_name") == ops.TF_OP_LAYER:
                read = ops.tf_op_layer(layer, str(row), sources)
            elif _known(layer):
                known = _layer(layer, reading, path, recorded.get((str(name), first)))
                item = {k: v for k, v in known.items() if k not in ("inbound_nodes", "name")}
                item = {**item, "name": row, "inputs": sources}
                if call:
                    item["shares"] = name
                    if isinstance(item.get("config"), dict):  # the row's name is not the layer's
                        item["config"] = {k: v for k, v in item["config"].items() if k != "name"}
                read = [item]
            if read is None:
                shape = recorded.get((str(name), first + call)) or _declared_output(layer)
                if shape is None:
                    raise refusal(str(row), _unknown_call(layer, args, kwargs))
                item = opaque_row(layer, str(row), shape, in_shapes, sources, reading, path)
                if call:
                    item["shares"] = name
                read = [item]
            layers.extend(read)
    return {"name": config.get("name"), "inputs": inputs, "layers": layers}


def _unknown_call(layer: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> str:
    if ops.is_operation(layer):
        return (
            f"the keras.ops call {str(layer.get('class_name'))[:60]} with {short_json(args)[:80]} is not one "
            "cnncalc reads (elementwise add, subtract, multiply, divide, power, maximum, minimum with a "
            "constant or a second tensor, and unary activations)"
        )
    if layer.get("class_name") == ops.TF_OP_LAYER:
        config = layer.get("config")
        node = config.get("node_def") if isinstance(config, dict) else None
        op = node.get("op") if isinstance(node, dict) else None
        return (
            f"the TensorFlow op {str(op)[:60]} (a TensorFlowOpLayer) is not one cnncalc reads (+ - * / ** "
            "with a constant or a second tensor, maximum, minimum, activations, strided slices)"
        )
    if layer.get("class_name") in ops.TF_OP_CLASSES:
        config = layer.get("config")
        config = config if isinstance(config, dict) else {}
        others = {k: v for k, v in kwargs.items() if k != "name"}
        return (
            f"the TensorFlow op tf.{str(config.get('function'))[:60]} with {short_json(others)[:80]} is not one "
            "cnncalc reads (+ - * / ** with a constant or a second tensor, maximum, minimum, activations, "
            "x[...] slices)"
        )
    return _unknown_what(layer)


def _recorded_shapes(entries: list[dict[str, Any]]) -> dict[tuple[str, int], list[Any]]:
    """(layer, node index as the file numbers it) -> the output shape (batch axis included) that
    a call reading it recorded: Keras 3 writes each tensor's shape in the ``__keras_tensor__``;
    Keras 2 the first call's input shapes in the reader's ``build_config``."""
    out: dict[tuple[str, int], list[Any]] = {}
    for layer in entries:
        nodes = layer.get("inbound_nodes")
        if not isinstance(nodes, list):
            continue
        for node in nodes:
            if not isinstance(node, dict):
                continue
            for tensor in ops.keras_tensors([node.get("args"), node.get("kwargs")]):
                config = tensor.get("config")
                if not isinstance(config, dict):
                    continue
                history, shape = config.get("keras_history"), config.get("shape")
                if ops.is_tensor_ref(history) and history[2] == 0 and is_shape(shape):
                    out.setdefault((history[0], history[1]), shape)
        if nodes and isinstance(nodes[0], list) and nodes[0]:
            entries0 = [nodes[0]] if isinstance(nodes[0][0], str) else nodes[0]
            refs = [t for t in entries0 if isinstance(t, list) and len(t) >= 3 and ops.is_tensor_ref(t[:3])]
            build = layer.get("build_config")
            shape = build.get("input_shape") if isinstance(build, dict) else None
            if len(refs) == 1 and is_shape(shape):
                shapes = [shape]
            elif len(refs) > 1 and isinstance(shape, list) and len(shape) == len(refs):
                shapes = shape if all(is_shape(s) for s in shape) else []
            else:
                shapes = []
            for ref, recorded in zip(refs, shapes, strict=False):
                if ref[2] == 0:
                    out.setdefault((ref[0], ref[1]), recorded)
    return out


def _in_shapes(node: Any, layer: dict[str, Any], call: int) -> list[list[Any]] | None:
    """The input shapes a call recorded (batch axis included): Keras 3's tensors; Keras 2's
    ``build_config`` (first call only)."""
    if isinstance(node, dict):
        shapes = [
            t["config"]["shape"]
            for t in ops.keras_tensors(node.get("args"))
            if isinstance(t.get("config"), dict) and is_shape(t["config"].get("shape"))
        ]
        return shapes or None
    if call:
        return None
    build = layer.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if is_shape(shape):
        return [shape]
    if isinstance(shape, list) and shape and all(is_shape(s) for s in shape):
        return list(shape)
    return None


def _referenced(entries: list[dict[str, Any]]) -> dict[str, set[int]]:
    """The node indices of each layer that the model's calls read (first outputs only)."""
    out: dict[str, set[int]] = {}
    for layer in entries:
        nodes = layer.get("inbound_nodes")
        for node in nodes if isinstance(nodes, list) else []:
            try:
                _, kwargs, refs = _node(node, "")
            except SpecError:
                continue  # reported when the layer is read
            for source, index, _tensor in refs + ops.kwarg_tensors(kwargs):
                if isinstance(source, str) and ops.is_index(index):
                    out.setdefault(source, set()).add(index)
    return out


def _calls(layer: dict[str, Any], referenced: set[int]) -> tuple[int, int]:
    """(the node index of the layer's first call in this model, how many calls it has).

    A nested model may start with a node of its own (its inputs to its outputs, made when it
    was built), so the file numbers its calls from 1. Keras 2 (whose nodes are lists) does so
    for a ``Sequential`` or ``Functional`` model that begins with an ``InputLayer`` (its
    ``_should_skip_first_node``). Keras 3 writes each tensor's own history: its ``Functional``
    models number from 1 or 0 depending on the version, so the indices the calls read decide
    (an index equal to the number of calls means from 1, an index 0 from 0), and only when they
    cannot, the class does. Everything else numbers from 0."""
    nodes = layer.get("inbound_nodes")
    count = len(nodes) if isinstance(nodes, list) and nodes else 1
    class_name = layer.get("class_name")
    if class_name not in MODEL_CLASSES:
        return 0, count
    keras2 = isinstance(nodes, list) and bool(nodes) and isinstance(nodes[0], list)
    if keras2:
        if class_name in ("Functional", "Model"):
            return 1, count
        config = layer.get("config")
        inner = config.get("layers") if isinstance(config, dict) else None
        first = inner[0] if isinstance(inner, list) and inner else None
        starts_with_input = isinstance(first, dict) and first.get("class_name") == "InputLayer"
        return (1 if starts_with_input else 0), count
    if referenced and max(referenced) >= count:
        return 1, count
    if 0 in referenced:
        return 0, count
    return (1 if class_name in ("Functional", "Model") else 0), count


def _source(name: Any, ref: tuple[Any, Any, Any], calls: dict[str, tuple[int, int]]) -> str:
    """The row a ``keras_history`` ``[layer, node_index, tensor_index]`` points at: the layer's
    row for its first call, ``layer@N`` for call N. Only a layer's first output exists here, and
    a node index the file does not record is refused rather than read as another call."""
    source, node_index, tensor_index = ref
    if not isinstance(source, str) or not ops.is_index(node_index) or not ops.is_index(tensor_index):
        raise SpecError(
            f"layer {name!r}: inbound_nodes hold a bad tensor reference {short_json(list(ref))[:80]}"
        )
    first, count = calls.get(source, (0, 1))
    call = node_index - first
    if tensor_index != 0 or not 0 <= call < count:
        exists = f"call {first}" if count == 1 else f"calls {first} to {first + count - 1}"
        several = " (layers with several outputs are not supported)" if tensor_index else ""
        raise SpecError(
            f"layer {name!r} reads tensor {tensor_index} of call {node_index} of {source!r}; only "
            f"{exists}, tensor 0 exists{several}"
        )
    if source not in calls:
        return source  # the engine names the unknown input
    return source if call == 0 else f"{source}@{call}"


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
            refs = [tuple(t["config"]["keras_history"]) for t in ops.keras_tensors(args)]
            if all(len(r) == 3 for r in refs) and isinstance(kwargs, dict) and isinstance(args, list):
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
