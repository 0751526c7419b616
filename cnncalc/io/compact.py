"""The compact layer grammar of the command line: ``KIND[:ARG,ARG,...,key=value]``.

``conv:16,2,2,valid`` is Conv2D(filters=16, kernel_size=2, strides=2, padding='valid'):
positional arguments in the Keras constructor's order, then ``key=value``; ``3x5`` and ``(3,5)``
are tuples; ``40*4*4`` is a product (``+ - * //`` on whole numbers).

A LAYER may also be written as a Keras call, ``Conv2D(16, 2, strides=2, activation='relu')``
(read with :mod:`ast`, never executed). A spec that almost parses gets a hint with the accepted
spelling.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..enums import Convention
from ..errors import CnncalcError, SpecError, describe_layer
from ..layers.base import Layer
from .spec import MAX_LAYER_TEXT, NO_RESULTS, LayerSpec, Spec, build_layer

# Patterns as text, compiled (and cached by re) on first use: compiling them all on import took
# about a millisecond of every start-up, most of them for reading what a run never reads.
# [0-9], not \d: \d matches any Unicode digit and int() would read full-width ones as numbers.
_INT = r"[+-]?[0-9]+"
_FLOAT = r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?"
_TUPLE = r"-?[0-9]+(x-?[0-9]+)+"
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_ARITHMETIC = r"[0-9]+(\s*(\*|//|\+|-)\s*[0-9]+)+"
_CALL = r"(?s)\s*[A-Za-z_][\w.]*\s*\(.*\)\s*"
#: PyTorch spellings that would read as something else under Keras's argument order.
#: Calls spelled as PyTorch spells its classes (``nn.X``, ``Conv2d``, ``MaxPool2d``, ``Linear``) take
#: PyTorch's argument order and names; a lower-case ``conv2d(16, 2)`` is the kind name, read under
#: the convention in force (Keras's ``filters, kernel_size`` unless it is pytorch).
_PYTORCH_CALL = r"(torch\.)?nn\.\w+|[A-Z]\w*\dd|Linear"


def parse_value(token: str) -> Any:
    """A compact-grammar value: int, float, true/false, none/null, ``3x5`` tuple, or a word."""
    text = token.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if re.fullmatch(_INT, text):
        return int(text)
    if re.fullmatch(_TUPLE, low):
        return [int(p) for p in low.split("x")]
    if re.fullmatch(_FLOAT, text):
        return float(text)
    if re.fullmatch(_ARITHMETIC, text):
        from .pyexpr import evaluate, parse_expression

        return evaluate(parse_expression(text))
    if text[:1] in "([" and text[-1:] in ")]":
        inner = text[1:-1].strip().rstrip(",")
        return [parse_value(item) for item in _split_top(inner)] if inner else []
    if not text:
        raise SpecError("empty argument")
    return text


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and brackets: ``16,(2,2),valid`` -> 3 tokens."""
    tokens, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced {char!r}")
        elif char == "," and depth == 0:
            tokens.append(text[start:i])
            start = i + 1
    if depth:
        raise SpecError("unbalanced '(' or '['")
    tokens.append(text[start:])
    return tokens


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
        for token in _split_top(rest):
            key, eq, value = token.partition("=")
            if eq:
                key = key.strip()
                if not re.fullmatch(_KEY, key):
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
    (``conv2d:3,64,7,2,3``, PyTorch's order, under the pytorch convention), or a layer call such as
    ``Conv2D(16, 2, strides=2)`` or ``nn.Conv2d(1, 16, 2, stride=2)``."""
    return parse_layer_declaring(text, convention)[0]


@functools.lru_cache(maxsize=1024)
def _built(text: str, convention: Convention | None) -> tuple[Layer, str | None, str]:
    """The layer (and row name, and the text stripped) a compact string builds. Cached: a
    generated spec repeats a few block strings thousands of times, and a layer is an immutable
    value (a frozen record compared by its fields), so rows may share one (and one copy of the
    text: JSON decodes each occurrence as a string of its own). Errors are not cached (each
    raises anew)."""
    kind_name, positional, keywords = split_compact(text)
    name = keywords.pop("name", None)  # names the row, as "name" does in a JSON layer
    if name is not None and (not isinstance(name, str) or not re.fullmatch(_KEY, name)):
        raise SpecError(f"name must be a word of letters, digits and _, got {name!r}")
    return build_layer(kind_name, positional, keywords, convention), name, text.strip()


@functools.lru_cache(maxsize=1024)
def _compact_spec(text: str, convention: Convention | None) -> LayerSpec:
    """The LayerSpec of a compact string (:func:`_built`'s layer, name and text). Cached too: it is
    an immutable record, so the rows of a repeated string may share one."""
    layer, name, stripped = _built(text, convention)
    return LayerSpec(layer=layer, text=stripped, name=name, results=NO_RESULTS)


def parse_layer_declaring(
    text: str, convention: Convention | None = None
) -> tuple[LayerSpec, tuple[int, ...] | None]:
    """A layer spec and the input shape it declares (a call's ``input_shape=``), if any."""
    if not isinstance(text, str):
        raise SpecError(f"a layer must be a string or an object, got {text!r}")
    if len(text) > MAX_LAYER_TEXT:
        raise SpecError(f"layer text longer than {MAX_LAYER_TEXT} characters")
    if "(" in text and re.fullmatch(_CALL, text):  # (a call has parentheses: most texts are not one)
        return _parse_call(text, convention)
    try:
        return _compact_spec(text, convention), None
    except SpecError as err:
        better = near_miss(text, convention)
        if better is None or err.hint is not None:
            raise
        raise SpecError(*err.parts, layer=err.layer, hint=f"write it as {better}") from None


def _parse_call(text: str, convention: Convention | None) -> tuple[LayerSpec, tuple[int, ...] | None]:
    """``Conv2D(16, 2, strides=2, activation='relu')`` or ``nn.Conv2d(1, 16, 2, stride=2)``: a layer
    call, read with ast; a PyTorch class (``nn.X``, ``Conv2d``, ``Linear``) takes PyTorch's order
    and names whatever the convention."""
    import ast

    from .pyexpr import NotStatic, dotted, evaluate, parse_expression

    node = parse_expression(text)
    if not isinstance(node, ast.Call) or dotted(node.func) is None:
        raise SpecError("expected a layer call like Conv2D(16, 3) or a compact spec like conv:16,3")
    name = dotted(node.func) or ""
    if re.fullmatch(_PYTORCH_CALL, name):
        convention = Convention.PYTORCH
    try:
        positional = [_plain(evaluate(arg)) for arg in node.args]
        keywords: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise SpecError("**kwargs cannot be read; write the arguments out")
            keywords[keyword.arg] = _plain(evaluate(keyword.value))
    except NotStatic as err:
        raise SpecError(err.reason) from None
    declared = None
    for key in ("input_shape", "batch_input_shape", "batch_shape"):
        if key in keywords:
            value = keywords.pop(key)
            declared = (
                tuple(value[1:] if key != "input_shape" else value) if isinstance(value, list) else value
            )
    layer_name = keywords.pop("name", None)
    if layer_name is not None and not isinstance(layer_name, str):
        raise SpecError(f"name must be a string, got {layer_name!r}")
    if convention is Convention.PYTORCH:
        from .torch_source import INPLACE_CLASSES

        if name.rpartition(".")[2] not in INPLACE_CLASSES or keywords.get("inplace") is not True:
            keywords.pop("inplace", None)  # kept only where a kind models it (cnncalc memory)
    layer = build_layer(name.rpartition(".")[2], positional, keywords, convention)
    return LayerSpec(layer=layer, text=text.strip(), name=layer_name), declared


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def near_miss(text: str, convention: Convention | None = None) -> str | None:
    """The accepted compact spelling of a spec that almost parses (quotes, spaces for commas,
    ``(3, 3)`` with spaces, ``kind(args)`` with a colon, ``=`` or spaces after the kind), or None."""
    candidate = text.strip()
    candidate = re.sub(r"""['"]""", "", candidate)
    match = re.fullmatch(r"([A-Za-z_][\w.]*)\s*(?:[:=]|\s)\s*(.*)", candidate, re.DOTALL)
    if match:
        kind, rest = match.group(1), match.group(2)
        rest = re.sub(r"\s*([,=x])\s*", r"\1", rest.strip())
        rest = re.sub(r"\s+", ",", rest)
        candidate = f"{kind}:{rest}" if rest else kind
    if candidate == text.strip():
        return None
    try:
        kind_name, positional, keywords = split_compact(candidate)
        build_layer(kind_name, positional, keywords, convention)
    except CnncalcError:
        return None
    return candidate


def from_layers(texts: list[str] | tuple[str, ...], convention: Convention | None = None) -> Spec:
    """A spec from compact layer strings or layer calls (the CLI's LAYER arguments), read under
    ``convention``; the first call's ``input_shape=`` is the spec's input shape."""
    layers = []
    input_shape = None
    for index, text in enumerate(texts):
        try:
            spec, declared = parse_layer_declaring(text, convention)
            if declared is not None:
                if index != 0:
                    raise SpecError("an input shape is only meaningful on the first layer")
                from ..layers import args as A

                input_shape = A.shape(list(declared) if isinstance(declared, tuple) else declared)
            layers.append(spec)
        except CnncalcError as err:
            raise err.at(describe_layer(index, text)) from None
    return Spec(layers=tuple(layers), input_shape=input_shape)
