"""The compact layer grammar of the command line: ``KIND[:ARG,ARG,...,key=value]``.

``conv:16,2,2,valid`` is Conv2D(filters=16, kernel_size=2, strides=2, padding='valid'):
positional arguments in the Keras constructor's order, then ``key=value``; ``3x5`` is a tuple.
"""

from __future__ import annotations

import re
from typing import Any

from ..enums import Convention
from ..errors import CnncalcError, SpecError, describe_layer
from .spec import MAX_LAYER_TEXT, LayerSpec, Spec, build_layer

# [0-9], not \d: \d matches any Unicode digit and int() would read full-width ones as numbers.
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?")
_TUPLE = re.compile(r"-?[0-9]+(x-?[0-9]+)+")
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


def parse_layer(text: str, convention: Convention | None = None) -> LayerSpec:
    """One compact layer spec such as ``conv:16,2,2,valid`` or ``dense:10,activation=softmax``
    (``conv2d:3,64,7,2,3``, PyTorch's order, under the pytorch convention)."""
    if not isinstance(text, str):
        raise SpecError(f"a layer must be a string or an object, got {text!r}")
    kind_name, positional, keywords = split_compact(text)
    name = keywords.pop("name", None)  # names the row, as "name" does in a JSON layer
    if name is not None and (not isinstance(name, str) or not _KEY.fullmatch(name)):
        raise SpecError(f"name must be a word of letters, digits and _, got {name!r}")
    layer = build_layer(kind_name, positional, keywords, convention)
    return LayerSpec(layer=layer, text=text.strip(), name=name)


def from_layers(texts: list[str] | tuple[str, ...], convention: Convention | None = None) -> Spec:
    """A spec from compact layer strings (the CLI's LAYER arguments), read under ``convention``."""
    layers = []
    for index, text in enumerate(texts):
        try:
            layers.append(parse_layer(text, convention))
        except CnncalcError as err:
            raise err.at(describe_layer(index, text)) from None
    return Spec(layers=tuple(layers))
