"""JSON spec documents: cnncalc's own, ``summary --format json`` output, and Keras's ``to_json()``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..enums import Convention, DataFormat, dtype_bytes
from ..errors import CnncalcError, SpecError, describe_layer
from ..layers import args as A
from ..summary import LAYER_RESULTS, MODEL_RESULTS
from .compact import parse_layer
from .jsonstream import DuplicateKey, Irregular, Window, nesting_depth, unique_keys
from .spec import (
    INPUT_KEYS,
    KERAS_WRAPPER_KEYS,
    MAX_JSON_DEPTH,
    MAX_LAYERS,
    NO_RESULTS,
    LayerSpec,
    Spec,
    build_layer,
    short_json,
)

if TYPE_CHECKING:
    from .keras_opaque import Reading

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
    return _layer_object(obj, convention)


def _items(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A layer object's arguments and fields, its ``config`` merged in (the Keras wrapper keys
    left out); a key given both ways must have one value."""
    items = dict(obj)
    for key in KERAS_WRAPPER_KEYS:
        items.pop(key, None)
    config = items.pop("config", None)
    if config is not None:
        if not isinstance(config, dict):
            raise SpecError(f"config must be an object, got {config!r}")
        for key, value in config.items():
            if key in items and items[key] != value:
                raise SpecError(f"{key} given both in the layer and in its config")
            items[key] = value
    return items


_RESULT_KEYS = frozenset(LAYER_RESULTS)


def layer_results(obj: Any) -> Mapping[str, Any]:
    """The result fields (expectations) a layer of a spec carries: those of a layer object
    (:data:`LAYER_RESULTS` order, as :func:`parse_layer_object` keeps them), none for a compact
    string. The object must have been read by :func:`parse_layer_object` without error."""
    if not isinstance(obj, dict):
        return NO_RESULTS
    config = obj.get("config")
    # A config without result fields adds none (and was checked to agree with the object).
    items = obj if not isinstance(config, dict) or config.keys().isdisjoint(_RESULT_KEYS) else _items(obj)
    if items.keys() >= _RESULT_KEYS:  # a snapshot's layer: every field, made in C
        return dict(zip(LAYER_RESULTS, map(items.__getitem__, LAYER_RESULTS), strict=True))
    if items.keys().isdisjoint(_RESULT_KEYS):
        return NO_RESULTS
    return {key: items[key] for key in LAYER_RESULTS if key in items}


def _layer_object(
    obj: Mapping[str, Any],
    convention: Convention | None,
    *,
    results: bool = True,
    decoded: bool = False,
) -> tuple[LayerSpec, tuple[int | None, ...] | None]:
    """:func:`parse_layer_object`; ``results=False`` leaves the result fields out of the layer
    spec (a reader that reads them later, :func:`stream_results`); ``decoded``: ``obj`` is
    straight from the JSON decoder (only JSON values, so ``repr`` keeps types apart as a key)."""
    items = _items(obj)
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
    kept: Mapping[str, Any] = NO_RESULTS
    if not items.keys().isdisjoint(_RESULT_KEYS):
        if results:
            kept = {key: items.pop(key) for key in LAYER_RESULTS if key in items}
        else:
            for key in _RESULT_KEYS.intersection(items):
                del items[key]
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
    if decoded:
        # Values straight from the JSON decoder: their repr keeps 1, 1.0 and true apart (and
        # -0.0 from 0.0) and is made in C, twice as fast as json.dumps (keys in the text's order:
        # an equal layer written in another order is only built again)
        by_repr = ("repr", repr(built), repr(items), convention)
        layer = _built_object(by_repr, built, items, convention)
    else:
        try:
            # JSON text keeps 1, 1.0 and true apart (and -0.0 from 0.0); json's C encoder makes
            # the key in a fraction of the time a Python walk of the arguments took
            by_json = (_frozen(built), json.dumps(items, sort_keys=True, allow_nan=False), convention)
        except (TypeError, ValueError, RecursionError):  # not JSON (the Python API, NaN): not cached
            layer = build_layer(built, [], items, convention)
        else:
            layer = _built_object(by_json, built, items, convention)
    # Messages name an object layer by its kind and name, not by its (long) JSON.
    text = f"{kind} {name!r}" if name else str(kind)
    spec = LayerSpec(
        layer,
        text,
        name,
        trainable,
        kept,
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
        # Keras documents only: a cnncalc spec (the zoo's, summary's start-up) never loads them
        from .keras import from_keras_model
        from .keras_opaque import Reading

        reading = reading if reading is not None else Reading()
        doc = from_keras_model(doc, reading)
        notes = tuple(reading.finish())
    if not isinstance(doc, dict):
        raise SpecError(f'a spec must be a JSON object with "layers", got {type(doc).__name__}')
    _known_keys(doc)
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, list):
        raise SpecError('a spec needs "layers": a list of layer strings or objects')
    if len(raw_layers) > MAX_LAYERS:
        raise SpecError(f"{len(raw_layers)} layers is more than the limit {MAX_LAYERS}")
    input_shape = None if doc.get("input_shape") is None else A.free_shape(doc["input_shape"])
    convention = _convention(doc)
    layers = []
    for index, raw in enumerate(raw_layers):
        layer_spec, declared = _layer(index, raw, convention)
        if declared is not None:
            input_shape = input_shape or declared
        layers.append(layer_spec)
    return _spec(doc, tuple(layers), input_shape, convention, notes)


def _known_keys(doc: dict[str, Any]) -> None:
    unknown = set(doc) - _TOP_KEYS - _INFO_KEYS - set(MODEL_RESULTS)
    if unknown:
        raise SpecError(
            f"unknown top-level key {sorted(unknown)[0]!r} (expected: input_shape, "
            "data_format, convention, layers, name, expect)"
        )


def _convention(doc: dict[str, Any]) -> Convention | None:
    return None if doc.get("convention") is None else Convention.parse(doc["convention"], "convention")


def _layer(
    index: int, raw: Any, convention: Convention | None, *, results: bool = True, decoded: bool = False
) -> tuple[LayerSpec, tuple[int | None, ...] | None]:
    """The spec's layer ``index`` (a string or an object), and the input shape it declares
    (only the first layer may); errors name the layer."""
    try:
        if isinstance(raw, dict):
            layer_spec, declared = _layer_object(raw, convention, results=results, decoded=decoded)
            if declared is not None and index != 0:
                raise SpecError("an input shape is only meaningful on the first layer")
            return layer_spec, declared
        return parse_layer(raw, convention), None
    except CnncalcError as err:
        raise err.at(describe_layer(index, raw if isinstance(raw, str) else short_json(raw))) from None


def _spec(
    doc: dict[str, Any],
    layers: tuple[LayerSpec, ...],
    input_shape: tuple[int | None, ...] | None,
    convention: Convention | None,
    notes: tuple[str, ...],
) -> Spec:
    """The :class:`Spec` of a document whose layers are read: its other keys checked."""
    expect = doc.get("expect") or {}
    if not isinstance(expect, dict):
        raise SpecError(f"expect must be an object, got {expect!r}")
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"name must be a string, got {name!r}")
    return Spec(
        layers=layers,
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


# The names this module had before the decoder's helpers moved to :mod:`.jsonstream`.
_DuplicateKey = DuplicateKey
_unique_keys = unique_keys


def decode_json(text: str, source: str = "<string>") -> Any:
    """Decode JSON text strictly: duplicate keys, integers over 4,300 digits and nesting deeper
    than MAX_JSON_DEPTH are SpecErrors naming ``source``."""
    try:
        doc = json.loads(text, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as err:
        raise SpecError(f"{source}: bad JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except DuplicateKey as err:
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


def stream_spec(window: Window) -> Spec:
    """A cnncalc spec read from JSON text a layer at a time (:mod:`.jsonstream`), without the
    layers' result fields (:func:`stream_results` reads them again): no layer's decoded object
    outlives the building of its layer spec, so a 100,000-layer snapshot never exists as
    Python objects.

    The same spec :func:`loads` makes, for a document it accepts; anything else (any error, a
    Keras document, ``convention`` written after ``layers``) raises :class:`~.jsonstream.Irregular`
    or an error whose wording may differ from :func:`loads`': the caller then reads the text with
    :func:`loads`, which words every error."""
    doc: dict[str, Any] = {}
    layers: list[LayerSpec] | None = None
    input_shape = None
    before = True  # no "convention" after the layers were read with the one before (or none)
    for key in window.members():
        if key in doc:
            raise Irregular("duplicate key")  # decode_json says which
        if key == "layers" and window.peek() == "[":
            before = "convention" in doc
            convention = _convention(doc)
            layers = []
            for index, raw in enumerate(window.elements(MAX_JSON_DEPTH - 2)):
                if index == MAX_LAYERS:
                    raise Irregular("too many layers")
                layer_spec, declared = _layer(index, raw, convention, results=False, decoded=True)
                if declared is not None:
                    input_shape = declared
                layers.append(layer_spec)
            doc[key] = None
        else:
            doc[key] = window.value(MAX_JSON_DEPTH - 1)
    if layers is None:
        raise Irregular("no list of layers")
    if not before and "convention" in doc:
        raise Irregular("convention after the layers")
    _known_keys(doc)
    if doc.get("input_shape") is not None:
        input_shape = A.free_shape(doc["input_shape"]) or input_shape
    return _spec(doc, tuple(layers), input_shape, _convention(doc), ())


def stream_results(window: Window) -> Iterator[Mapping[str, Any]]:
    """Each layer's result fields (:func:`layer_results`), in order, read from the text of a
    spec :func:`stream_spec` has read (the whole text is read, to its end)."""
    for key in window.members():
        if key == "layers":  # (the depth was measured in the first reading)
            for raw in window.elements(None):
                yield layer_results(raw)
        else:
            window.value(None)
