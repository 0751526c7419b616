"""Specs: the compact ``conv:16,2,2,valid`` grammar and JSON documents -> :class:`Spec`.

The parser refuses instead of guessing: an unknown kind or key, a value of the wrong type,
a positional argument after a keyword one, all raise :class:`~cnncalc.errors.SpecError`
naming the layer and what was expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from . import values as V
from .base import Layer
from .errors import CnncalcError, SpecError, describe_layer
from .options import Convention, DataFormat, dtype_bytes
from .registry import ACTIVATION_KINDS, Kind, lookup

#: Per-layer result fields that ``--format json`` writes; read back they are expectations.
LAYER_RESULTS = (
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "bias_adds",
    "ops",
    "flops",
    "activation_bytes",
    "receptive_field",
)
#: Model-level result fields that ``--format json`` writes; read back they are expectations.
MODEL_RESULTS = (
    "output_shape",
    "total_params",
    "trainable_params",
    "non_trainable_params",
    "total_buffers",
    "total_macs",
    "total_bias_adds",
    "total_ops",
    "total_flops",
    "input_bytes",
    "activation_bytes",
    "param_bytes",
    "estimated_total_bytes",
    "training_bytes",
)
#: Keras config keys that change nothing cnncalc reports (accepted and ignored).
_IGNORED = frozenset({
    "dtype", "seed", "noise_shape", "synchronized", "lora_rank", "lora_alpha", "renorm_momentum",
    "renorm_clipping",
})  # fmt: skip
#: Keras config keys accepted only with the value that changes nothing (anything else is refused).
_ONLY_DEFAULT = {"renorm": False, "quantization_config": None}
#: Keys of a Keras layer object (around its config) that carry nothing cnncalc uses.
_KERAS_WRAPPER_KEYS = ("module", "registered_name", "build_config")
_IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
_INPUT_KEYS = ("input_shape", "batch_input_shape", "batch_shape")

#: Hardening limits (documented in docs/spec.md): beyond these a spec is refused, not processed.
MAX_LAYERS = 200_000
MAX_LAYER_TEXT = 1_000
MAX_JSON_DEPTH = 64


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class LayerSpec:
    """One parsed layer: the layer, how to show it in messages, and the spec's extras."""

    layer: Layer
    text: str
    name: str | None = None
    trainable: bool = True
    #: result fields given with the layer (output_shape, params, ...): expectations for `check`
    results: Mapping[str, Any] = field(default_factory=dict)
    #: True when ``text`` is the compact spec the layer was written as (not a label for a JSON object)
    compact: bool = True
    #: names of the layers (or model inputs) this one reads; None: the previous layer
    inputs: tuple[str, ...] | None = None


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class Spec:
    """A parsed model spec. ``None`` settings mean "use the caller's or the default"."""

    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, ...] | None = None
    data_format: DataFormat | None = None
    convention: Convention | None = None
    name: str | None = None
    #: named model inputs (name, shape) for graph specs; empty: one input, ``input_shape``
    inputs: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: element type for memory figures (float32, float16, bfloat16, int8)
    dtype: str | None = None
    #: model-level result fields and the ``expect`` object, for `check`
    results: Mapping[str, Any] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- compact grammar

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_TUPLE = re.compile(r"-?\d+(x-?\d+)+")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_value(token: str) -> Any:
    """A compact-grammar value: int, float, true/false, none/null, ``3x5`` tuple, or a word."""
    text = token.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _TUPLE.fullmatch(low):
        return [int(p) for p in low.split("x")]
    if _FLOAT.fullmatch(text):
        return float(text)
    if not text:
        raise SpecError("empty argument")
    return text


def split_compact(text: str) -> tuple[str, list[Any], dict[str, Any]]:
    """``KIND[:ARG,...]`` -> (kind, positional values, keyword values); no kind lookup."""
    if len(text) > MAX_LAYER_TEXT:
        raise SpecError(f"layer text longer than {MAX_LAYER_TEXT} characters")
    kind, _, rest = text.strip().partition(":")
    if not kind.strip():
        raise SpecError("missing layer kind before ':' (expected e.g. conv:16,3)")
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    if rest.strip():
        for token in rest.split(","):
            key, eq, value = token.partition("=")
            if eq:
                key = key.strip()
                if not _KEY.fullmatch(key):
                    raise SpecError(f"bad argument name {key!r}")
                if key in keywords:
                    raise SpecError(f"{key} given twice")
                keywords[key] = parse_value(value)
            elif keywords:
                raise SpecError(f"positional argument {token.strip()!r} after keyword arguments")
            else:
                positional.append(parse_value(token))
    return kind.strip(), positional, keywords


def parse_layer(text: str) -> LayerSpec:
    """One compact layer spec such as ``conv:16,2,2,valid`` or ``dense:10,activation=softmax``."""
    if not isinstance(text, str):
        raise SpecError(f"a layer must be a string or an object, got {text!r}")
    kind_name, positional, keywords = split_compact(text)
    return LayerSpec(layer=build_layer(kind_name, positional, keywords), text=text.strip())


def _resolve_kind(name: Any) -> tuple[Kind, dict[str, Any]]:
    if not isinstance(name, str):
        raise SpecError(f"layer type must be a string, got {name!r}")
    key = name.strip().lower()
    if key in ACTIVATION_KINDS:  # `relu` is Activation('relu'), as Keras's ReLU layer is
        return lookup("activation"), {"activation": key}
    return lookup(name), {}


def build_layer(kind_name: str, positional: list[Any], keywords: Mapping[str, Any]) -> Layer:
    """Build a layer from a kind name, positional values and keyword values (Keras names or aliases)."""
    kind, preset = _resolve_kind(kind_name)
    arguments = kind.cls.arguments()
    canonical = {alias: name for name, aliases in arguments for alias in (name, *aliases)}
    args: dict[str, Any] = dict(preset)
    free = [name for name, _ in arguments if name not in preset]
    if len(positional) > len(free):
        names = ", ".join(free) or "none"
        raise SpecError(
            f"{kind.type} takes at most {len(free)} positional arguments ({names}), got {len(positional)}"
        )
    args.update(zip(free, positional, strict=False))
    for key, value in keywords.items():
        name = canonical.get(key) or canonical.get(key.lower())
        if name is None:
            if key in _ONLY_DEFAULT:
                if value != _ONLY_DEFAULT[key]:
                    raise SpecError(f"{key}={value!r} is not supported (only {_ONLY_DEFAULT[key]!r})")
                continue
            if _ignored(key):
                continue
            raise SpecError(_unknown_key(kind, key, canonical))
        if name in args:
            raise SpecError(f"{name} given twice")
        if value is None:  # null means the default, as None does in the Keras constructor
            continue
        args[name] = value
    by_name = {f.name: f for f in fields(kind.cls)}
    for name, value in args.items():  # report a bad value before a missing argument
        try:
            by_name[name].metadata["coerce"](value, dict(kind.fixed).get("rank", 0))
        except SpecError as err:
            raise SpecError(f"{name}: {err.reason}") from None
    missing = [
        f.name
        for f in fields(kind.cls)
        if f.default is MISSING and f.default_factory is MISSING and f.name not in args
    ]
    if missing:
        raise SpecError(f"{kind.type} needs {' and '.join(missing)}")
    return kind.build(args)


def _ignored(key: str) -> bool:
    return key in _IGNORED or key.endswith(_IGNORED_SUFFIXES)


def _unknown_key(kind: Kind, key: str, canonical: Mapping[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(canonical), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    known = ", ".join(name for name, _ in kind.cls.arguments())
    return f"unknown argument {key!r} for {kind.type} (arguments: {known}){hint}"


# ----------------------------------------------------------------------------- JSON


def parse_layer_object(obj: Mapping[str, Any]) -> tuple[LayerSpec, tuple[int, ...] | None]:
    """A JSON layer object -> (layer spec, input shape it declares, if any).

    Forms: ``{"type": "conv2d", "filters": 16, ...}``, ``{"type": ..., "config": {...}}`` (what
    ``--format json`` writes) and Keras's ``{"class_name": "Conv2D", "config": {...}}``.
    """
    items = {key: value for key, value in obj.items() if key not in _KERAS_WRAPPER_KEYS}
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
    inputs = _input_names(items.pop("inputs", None))
    declared = None
    for key in _INPUT_KEYS:
        if key in items:
            value = items.pop(key)
            if value is not None:
                shape = list(value)[1:] if key != "input_shape" and isinstance(value, list) else value
                declared = V.shape(shape, key)
    kind = kind_name if kind_name is not None else class_name
    layer = build_layer(kind, [], items)
    # Messages name an object layer by its kind and name, not by its (long) JSON.
    text = f"{kind} {name!r}" if name else str(kind)
    return LayerSpec(layer, text, name, trainable, results, compact=False, inputs=inputs), declared


def _input_names(value: Any) -> tuple[str, ...] | None:
    """A layer's ``inputs``: a name or a list of names (None: the previous layer)."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise SpecError(f"inputs must be a layer name or a list of names, got {value!r}")
    return tuple(names)


def _model_inputs(value: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
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
        out.append((item["name"], V.shape(item.get("shape"), f"input {item['name']!r}")))
    if len({name for name, _ in out}) < len(out):
        raise SpecError("input names must be unique")
    return tuple(out)


def _short_json(obj: Any) -> str:
    try:
        return json.dumps(obj, separators=(", ", ": "), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(obj)


_TOP_KEYS = frozenset(
    {"input_shape", "inputs", "data_format", "convention", "dtype", "layers", "name", "expect"}
)
#: Informational keys (the zoo's provenance): accepted, kept out of every figure.
_INFO_KEYS = frozenset({"description", "source", "published_params"})


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
        raise SpecError(f"InputLayer without a batch_shape: {_short_json(layer)[:80]}")
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


def parse_spec(doc: Any) -> Spec:
    """A JSON spec document (already decoded) -> :class:`Spec`; Keras ``model.to_json()`` documents too."""
    if isinstance(doc, dict) and "class_name" in doc and "layers" not in doc:
        doc = from_keras_model(doc)
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
    input_shape = None if doc.get("input_shape") is None else V.shape(doc["input_shape"])
    layers = []
    for index, raw in enumerate(raw_layers):
        try:
            if isinstance(raw, dict):
                layer_spec, declared = parse_layer_object(raw)
                if declared is not None:
                    if index != 0:
                        raise SpecError("an input shape is only meaningful on the first layer")
                    input_shape = input_shape or declared
            else:
                layer_spec = parse_layer(raw)
        except CnncalcError as err:
            raise err.at(describe_layer(index, raw if isinstance(raw, str) else _short_json(raw))) from None
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
        convention=None
        if doc.get("convention") is None
        else Convention.parse(doc["convention"], "convention"),
        name=name,
        inputs=() if doc.get("inputs") is None else _model_inputs(doc["inputs"]),
        dtype=_dtype(doc.get("dtype")),
        results={key: doc[key] for key in MODEL_RESULTS if key in doc},
        expect=expect,
    )


def _dtype(value: Any) -> str | None:
    if value is not None:
        dtype_bytes(value)  # validates
    return value


def loads(text: str, source: str = "<string>") -> Spec:
    """Parse a JSON spec from text; ``source`` names it in error messages."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise SpecError(f"{source}: bad JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise SpecError(f"{source}: JSON nested too deeply") from None
    depth = nesting_depth(doc)
    if depth > MAX_JSON_DEPTH:
        raise SpecError(f"{source}: JSON nested {depth} levels deep, more than the limit {MAX_JSON_DEPTH}")
    try:
        return parse_spec(doc)
    except CnncalcError as err:
        raise type(err)(f"{source}: {err}") from None


def nesting_depth(doc: Any) -> int:
    """How deeply lists and objects nest in a decoded JSON value (iterative: no recursion limit)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def from_layers(texts: list[str] | tuple[str, ...]) -> Spec:
    """A spec from compact layer strings (the CLI's LAYER arguments)."""
    layers = []
    for index, text in enumerate(texts):
        try:
            layers.append(parse_layer(text))
        except CnncalcError as err:
            raise err.at(describe_layer(index, text)) from None
    return Spec(layers=tuple(layers))


def parse(source: Any) -> Spec:
    """Any spec form -> :class:`Spec`: a Spec, a JSON text, a decoded JSON object, or a list of
    layers (compact strings or layer objects)."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, str):
        return loads(source) if source.lstrip().startswith("{") else from_layers([source])
    if isinstance(source, dict):
        return parse_spec(source)
    if isinstance(source, (list, tuple)):
        return parse_spec({"layers": list(source)})
    raise SpecError(f"cannot read a spec from {type(source).__name__}")
