"""JSON spec documents: cnncalc's own, ``summary --format json`` output, and Keras's ``to_json()``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..enums import Convention, DataFormat, dtype_bytes
from ..errors import CnncalcError, SpecError, describe_layer
from ..layers import args as A
from ..summary import LAYER_RESULTS, MODEL_RESULTS
from .compact import parse_layer
from .keras import from_keras_model
from .keras_opaque import Reading
from .spec import (
    INPUT_KEYS,
    KERAS_WRAPPER_KEYS,
    MAX_JSON_DEPTH,
    MAX_LAYERS,
    LayerSpec,
    Spec,
    build_layer,
    short_json,
)

#: Layers built from JSON objects, by their frozen arguments: a generated spec (a ``--format json``
#: snapshot) repeats a few layers thousands of times, and a layer is an immutable value, so rows may
#: share one. Errors are not cached.
_BUILT: dict[Any, Any] = {}
_BUILT_MAX = 1024


def _built_object(key: Any, kind: Any, items: dict[str, Any], convention: Convention | None) -> Any:
    layer = _BUILT.get(key)
    if layer is None:
        layer = build_layer(kind, [], items, convention)
        if len(_BUILT) >= _BUILT_MAX:
            _BUILT.clear()
        _BUILT[key] = layer
    return layer


def _frozen(value: Any) -> Any:
    """A hashable key for a JSON value that keeps its types apart (``1``, ``1.0`` and ``true`` are
    equal in Python, not as arguments)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(_frozen(v) for v in value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return (type(value).__name__, value)
    raise TypeError(type(value).__name__)


def parse_layer_object(
    obj: Mapping[str, Any], convention: Convention | None = None
) -> tuple[LayerSpec, tuple[int | None, ...] | None]:
    """A JSON layer object -> (layer spec, input shape it declares, if any).

    Forms: ``{"type": "conv2d", "filters": 16, ...}``, ``{"type": ..., "config": {...}}`` (what
    ``--format json`` writes) and Keras's ``{"class_name": "Conv2D", "config": {...}}``.
    """
    items = {key: value for key, value in obj.items() if key not in KERAS_WRAPPER_KEYS}
    config = items.pop("config", None)
    if config is not None:
        if not isinstance(config, dict):
            raise SpecError(f"config must be an object, got {config!r}")
        for key, value in config.items():
            if key in items and items[key] != value:
                raise SpecError(f"{key} given both in the layer and in its config")
            items[key] = value
    kind_name = items.pop("type", None)
    class_name = items.pop("class_name", None)
    if kind_name is None and class_name is None:
        raise SpecError('a layer object needs "type" (e.g. "conv2d")')
    name = items.pop("name", None)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise SpecError(f"name must be a non-empty string, got {name!r}")
    trainable = items.pop("trainable", True)
    if not isinstance(trainable, bool):
        raise SpecError(f"trainable must be true or false, got {trainable!r}")
    results = {key: items.pop(key) for key in LAYER_RESULTS if key in items}
    line = items.pop("line", None)  # where model code had the layer (--format json of a .py): informational
    if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
        raise SpecError(f"line must be a line number, got {line!r}")
    if not isinstance(items.pop("opaque", False), bool):  # what --format json marks opaque rows with
        raise SpecError("opaque must be true or false")
    inputs = _input_names(items.pop("inputs", None))
    shares = items.pop("shares", None)  # a Keras layer's later call: its weights are the named row's
    if shares is not None and (not isinstance(shares, str) or not shares.strip()):
        raise SpecError(f"shares must be the name of a layer, got {shares!r}")
    training_only = items.pop("training_only", False)  # a row eval mode does not run (aux heads)
    if not isinstance(training_only, bool):
        raise SpecError(f"training_only must be true or false, got {training_only!r}")
    declared = None
    for key in INPUT_KEYS:
        if key in items:
            value = items.pop(key)
            if value is not None:
                shape = list(value)[1:] if key != "input_shape" and isinstance(value, list) else value
                declared = A.free_shape(shape, key)
    kind = kind_name if kind_name is not None else class_name
    built = kind if kind_name is not None else _keras_kind(class_name)
    try:
        key = (_frozen(built), _frozen(items), convention)
    except TypeError:  # a value JSON does not make (from the Python API): not cached
        layer = build_layer(built, [], items, convention)
    else:
        layer = _built_object(key, built, items, convention)
    # Messages name an object layer by its kind and name, not by its (long) JSON.
    text = f"{kind} {name!r}" if name else str(kind)
    spec = LayerSpec(
        layer,
        text,
        name,
        trainable,
        results,
        compact=False,
        inputs=inputs,
        line=line,
        shares=shares,
        training_only=training_only,
    )
    return spec, declared


def _keras_kind(class_name: Any) -> Any:
    """The kind a Keras ``class_name`` is, by the kinds' Keras faces
    (:func:`~cnncalc.layers.faces.kind_for_keras_class`); a name no face reads (a cnncalc kind
    spelled as a class, ``Opaque``) goes to the registry, which names it or says it is unknown."""
    from ..layers.faces import kind_for_keras_class

    found = kind_for_keras_class(class_name) if isinstance(class_name, str) else None
    return class_name if found is None else found.type


def _input_names(value: Any) -> tuple[str, ...] | None:
    """A layer's ``inputs``: a name or a list of names (None: the previous layer)."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise SpecError(f"inputs must be a layer name or a list of names, got {value!r}")
    return tuple(names)


def _model_inputs(value: Any) -> tuple[tuple[str, tuple[int | None, ...]], ...]:
    """Top-level ``inputs``: [{"name": "image", "shape": [224, 224, 3]}, ...] or {"image": [224, 224, 3]}."""
    if isinstance(value, dict):
        value = [{"name": k, "shape": v} for k, v in value.items()]
    if not isinstance(value, list) or not value:
        raise SpecError('inputs must be a list like [{"name": "image", "shape": [224, 224, 3]}]')
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) - {"name", "shape"}
            or not isinstance(item.get("name"), str)
        ):
            raise SpecError(f'each input needs "name" and "shape", got {item!r}')
        out.append((item["name"], A.free_shape(item.get("shape"), f"input {item['name']!r}")))
    if len({name for name, _ in out}) < len(out):
        raise SpecError("input names must be unique")
    return tuple(out)


_TOP_KEYS = frozenset(
    {"input_shape", "inputs", "data_format", "convention", "dtype", "layers", "name", "expect"}
)
#: Informational keys (the zoo's provenance): accepted, kept out of every figure.
_INFO_KEYS = frozenset({"description", "source", "published_params", "stored_elements"})


def parse_spec(doc: Any, reading: Reading | None = None) -> Spec:
    """A JSON spec document (already decoded) -> :class:`Spec`; Keras ``model.to_json()`` documents
    too (``reading`` carries a saved file's weights, for custom layers' params)."""
    notes: tuple[str, ...] = ()
    if isinstance(doc, dict) and "class_name" in doc and "layers" not in doc:
        reading = reading if reading is not None else Reading()
        doc = from_keras_model(doc, reading)
        notes = tuple(reading.finish())
    if not isinstance(doc, dict):
        raise SpecError(f'a spec must be a JSON object with "layers", got {type(doc).__name__}')
    unknown = set(doc) - _TOP_KEYS - _INFO_KEYS - set(MODEL_RESULTS)
    if unknown:
        raise SpecError(
            f"unknown top-level key {sorted(unknown)[0]!r} (expected: input_shape, "
            "data_format, convention, layers, name, expect)"
        )
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, list):
        raise SpecError('a spec needs "layers": a list of layer strings or objects')
    if len(raw_layers) > MAX_LAYERS:
        raise SpecError(f"{len(raw_layers)} layers is more than the limit {MAX_LAYERS}")
    input_shape = None if doc.get("input_shape") is None else A.free_shape(doc["input_shape"])
    convention = None if doc.get("convention") is None else Convention.parse(doc["convention"], "convention")
    layers = []
    for index, raw in enumerate(raw_layers):
        try:
            if isinstance(raw, dict):
                layer_spec, declared = parse_layer_object(raw, convention)
                if declared is not None:
                    if index != 0:
                        raise SpecError("an input shape is only meaningful on the first layer")
                    input_shape = input_shape or declared
            else:
                layer_spec = parse_layer(raw, convention)
        except CnncalcError as err:
            raise err.at(describe_layer(index, raw if isinstance(raw, str) else short_json(raw))) from None
        layers.append(layer_spec)
    expect = doc.get("expect") or {}
    if not isinstance(expect, dict):
        raise SpecError(f"expect must be an object, got {expect!r}")
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"name must be a string, got {name!r}")
    return Spec(
        layers=tuple(layers),
        input_shape=input_shape,
        data_format=None
        if doc.get("data_format") is None
        else DataFormat.parse(doc["data_format"], "data_format"),
        convention=convention,
        name=name,
        inputs=() if doc.get("inputs") is None else _model_inputs(doc["inputs"]),
        dtype=_dtype(doc.get("dtype")),
        results={key: doc[key] for key in MODEL_RESULTS if key in doc},
        expect=expect,
        notes=notes,
    )


def _dtype(value: Any) -> str | None:
    if value is None:
        return None
    dtype_bytes(value)  # validates: a known dtype name
    return str(value)


class _DuplicateKey(Exception):
    """Raised inside the JSON decoder when an object repeats a key."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict, refusing a repeated key (``json`` would keep the last one)."""
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def decode_json(text: str, source: str = "<string>") -> Any:
    """Decode JSON text strictly: duplicate keys, integers over 4,300 digits and nesting deeper
    than MAX_JSON_DEPTH are SpecErrors naming ``source``."""
    try:
        doc = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        raise SpecError(f"{source}: bad JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except _DuplicateKey as err:
        raise SpecError(
            f"{source}: the key {short_json(err.args[0])[:80]} appears twice in one object"
        ) from None
    except RecursionError:
        raise SpecError(f"{source}: JSON nested too deeply") from None
    except ValueError as err:  # Python's 4,300-digit limit on int()
        raise SpecError(f"{source}: bad JSON: {str(err).split(';')[0]}") from None
    depth = nesting_depth(doc)
    if depth > MAX_JSON_DEPTH:
        raise SpecError(f"{source}: JSON nested {depth} levels deep, more than the limit {MAX_JSON_DEPTH}")
    return doc


def loads(text: str, source: str = "<string>", reading: Reading | None = None) -> Spec:
    """Parse a JSON spec from text; ``source`` names it in error messages (``reading``: a saved
    Keras file's weights, see :func:`parse_spec`)."""
    doc = decode_json(text, source)
    try:
        return parse_spec(doc, reading)
    except CnncalcError as err:
        raise err.prefixed(f"{source}: ") from None


def nesting_depth(doc: Any) -> int:
    """How deeply lists and objects nest in a decoded JSON value (iterative: no recursion limit)."""
    if not isinstance(doc, (list, dict)):
        return 0
    deepest, stack = 1, [(doc, 1)]
    containers = (list, dict)
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        nested = [item for item in children if isinstance(item, containers)]  # scalars end here
        if nested:
            deepest = max(deepest, depth + 1)
            stack.extend((item, depth + 1) for item in nested)
    return deepest
