"""The spec model: :class:`Spec` and :class:`LayerSpec`, and building a layer from its kind's name
and arguments (what every reader in :mod:`cnncalc.io` shares).

The readers refuse instead of guessing: an unknown kind or key, a value of the wrong type, a
positional argument after a keyword one, all raise :class:`~cnncalc.errors.SpecError` naming the
layer and what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, field
from typing import Any

from ..enums import Convention, DataFormat
from ..errors import SpecError, describe_layer
from ..layers import ACTIVATION_KINDS, Kind, kind_of, lookup
from ..layers.base import Layer
from ..records import record

#: Keras config keys that change nothing cnncalc reports (accepted and ignored).
_IGNORED = frozenset(
    {
        "dtype",
        "seed",
        "noise_shape",
        "synchronized",
        "lora_rank",
        "lora_alpha",
        "renorm_momentum",
        "renorm_clipping",
    }
)
#: Keras config keys accepted only with the value that changes nothing (anything else is refused).
#: Keras 2 writes ``groups: 1`` into every convolution's config, DepthwiseConv2D's and
#: SeparableConv2D's too (they inherit Conv's constructor but do not use it).
_ONLY_DEFAULT = {"renorm": False, "quantization_config": None, "groups": 1}
#: Keys of a Keras layer object (around its config) that carry nothing cnncalc uses.
KERAS_WRAPPER_KEYS = ("module", "registered_name", "build_config")
_IGNORED_SUFFIXES = ("_initializer", "_regularizer", "_constraint")
INPUT_KEYS = ("input_shape", "batch_input_shape", "batch_shape")

#: Hardening limits (documented in docs/spec.md): beyond these a spec is refused, not processed.
MAX_LAYERS = 200_000
MAX_LAYER_TEXT = 1_000
MAX_JSON_DEPTH = 64


#: The result fields of a layer given without any: one empty mapping shared by such layers (a
#: dict per layer is 64 bytes each); read-only by its type (nothing writes a spec's results).
NO_RESULTS: Mapping[str, Any] = {}


@record(frozen=True, eq=False, slots=True)  # records, never compared; one per layer: slotted
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
    #: the line of the model code the layer was read from (Python sources)
    line: int | None = None
    #: the name of the row whose weights this one uses (a Keras layer called again): its params
    #: are counted there, once
    shares: str | None = None
    #: True for a layer only train mode runs (torchvision's auxiliary classifiers): its params
    #: count, its costs are not in the eval-mode totals
    training_only: bool = False


@record(frozen=True, eq=False)  # records, never compared: cheaper to define
class Spec:
    """A parsed model spec. ``None`` settings mean "use the caller's or the default"."""

    layers: tuple[LayerSpec, ...]
    #: ``None`` sizes (a Keras ``Input(shape=(None, None, 3))``) are filled by the caller's shape
    input_shape: tuple[int | None, ...] | None = None
    data_format: DataFormat | None = None
    convention: Convention | None = None
    name: str | None = None
    #: named model inputs (name, shape) for graph specs; empty: one input, ``input_shape``
    inputs: tuple[tuple[str, tuple[int | None, ...]], ...] = ()
    #: element type for memory figures (float32, float16, bfloat16, int8)
    dtype: str | None = None
    #: model-level result fields and the ``expect`` object, for `check`
    results: Mapping[str, Any] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)
    #: what a reader wants the user to know (e.g. a value it read in a forgiving way), one line each
    notes: tuple[str, ...] = ()
    #: elements the model file stores in its weight tensors (ONNX initializers), when it says
    stored_elements: int | None = None
    #: the layers (or inputs) that are the model's outputs, when the source says (ONNX graph outputs)
    outputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The layer limit holds for every reader (JSON, .keras, .h5, ONNX, Python) and counts the
        # layers of nested models too: each Spec, inner ones first, counts its own.
        total = len(self.layers)
        for layer_spec in self.layers:
            inner = layer_spec.layer.inner_spec()
            if inner is not None:
                total += inner.total_layers
        if total > MAX_LAYERS:
            raise SpecError(
                f"{total:,} layers (nested models' counted) is more than the limit {MAX_LAYERS:,}"
            )
        object.__setattr__(self, "total_layers", total)

    #: the layers with those of nested models, counted (set by __post_init__)
    total_layers: int = field(init=False, default=0, repr=False)


def resolve_kind(name: Any) -> tuple[Kind, dict[str, Any]]:
    if not isinstance(name, str):
        raise SpecError(f"layer type must be a string, got {name!r}")
    key = name.strip().lower()
    if key in ACTIVATION_KINDS:  # `relu` is Activation('relu'), as Keras's ReLU layer is
        return lookup("activation"), {"activation": key}
    return lookup(name), {}


def build_layer(
    kind_name: str,
    positional: list[Any],
    keywords: Mapping[str, Any],
    convention: Convention | None = None,
) -> Layer:
    """Build a layer from a kind name, positional values and keyword values (Keras names or aliases).

    Under the pytorch convention a kind spelled with its PyTorch class name (``Conv2d``,
    ``BatchNorm2d``, ``Linear``) takes PyTorch's argument order and names
    (:mod:`cnncalc.layers.torch_names`)."""
    if convention is Convention.PYTORCH:
        from ..layers.torch_names import torch_signature

        signature = torch_signature(kind_name)
        if signature is not None:
            keywords = signature.arguments(positional, keywords)
            positional = []
            kind_name = kind_name.strip()[3:] if kind_name.strip().lower().startswith("nn.") else kind_name
    kind, preset = resolve_kind(kind_name)
    arguments = kind.cls.arguments()
    canonical = {alias: name for name, aliases in arguments for alias in (name, *aliases)}
    args: dict[str, Any] = dict(preset)
    keyword_only = {f.name for f in kind.cls.declared() if f.metadata.get("keyword_only")}
    free = [name for name, _ in arguments if name not in preset and name not in keyword_only]
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
            if ignored(key):
                continue
            raise SpecError(_unknown_key(kind, key, canonical))
        if name in args:
            raise SpecError(f"{name} given twice")
        if value is None:  # null means the default, as None does in the Keras constructor
            continue
        args[name] = value
    by_name = {f.name: f for f in kind.cls.declared()}
    for name, value in args.items():  # report a bad value before a missing argument
        try:
            by_name[name].metadata["coerce"](value, dict(kind.fixed).get("rank", 0))
        except SpecError as err:
            raise SpecError(f"{name}: {err.reason}") from None
    missing = [
        f.name
        for f in kind.cls.declared()
        if f.default is MISSING and f.default_factory is MISSING and f.name not in args
    ]
    if missing:
        raise SpecError(f"{kind.type} needs {' and '.join(missing)}")
    return kind.build(args)


def ignored(key: str) -> bool:
    return key in _IGNORED or key.endswith(_IGNORED_SUFFIXES)


def _unknown_key(kind: Kind, key: str, canonical: Mapping[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(canonical), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    known = ", ".join(name for name, _ in kind.cls.arguments())
    return f"unknown argument {key!r} for {kind.type} (arguments: {known}){hint}"


def short_json(obj: Any) -> str:
    """A JSON value on one line (for messages), or its repr when it is not JSON."""
    try:
        return json.dumps(obj, separators=(", ", ": "), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(obj)


def layer_names(layers: tuple[LayerSpec, ...], convention: Convention | None = None) -> list[str]:
    """Default row names in the convention's words, explicit ones kept.

    Keras (the default): ``conv2d``, ``conv2d_1``, ... per kind, as Keras names layers. PyTorch:
    the layer's position, ``0``, ``1``, ... -- the module names ``nn.Sequential`` gives its
    children (``print(model)``'s ``(0): Conv2d(...)``, ``model[0]``, ``state_dict()``'s
    ``0.weight``, torchinfo's ``var_names`` column). A spec whose ``inputs`` name a Keras-style
    default, or whose explicit names take a position's number, keeps the Keras names (its wiring
    was written against them)."""
    keras = _keras_names(layers)
    if convention is not Convention.PYTORCH:
        return keras
    explicit = {ls.name for ls in layers if ls.name}
    defaults = {name for ls, name in zip(layers, keras, strict=True) if not ls.name}
    referenced = {source for ls in layers for source in ls.inputs or ()}
    positions = [ls.name or str(index) for index, ls in enumerate(layers)]
    if referenced & defaults or any(str(i) in explicit for i, ls in enumerate(layers) if not ls.name):
        return keras
    return positions


def _keras_names(layers: tuple[LayerSpec, ...]) -> list[str]:
    """Keras-style names: explicit ones kept, the rest ``conv2d``, ``conv2d_1``, ... per kind."""
    taken = {ls.name for ls in layers if ls.name}
    counts: dict[str, int] = {}
    names = []
    seen: set[str] = set()
    prefixes: dict[int, str] = {}  # per layer object: a spec shares one between equal layers
    for index, ls in enumerate(layers):
        if ls.name:
            if ls.name in seen:
                raise SpecError(f"{describe_layer(index, ls.text)}: the name {ls.name!r} is used twice")
            name = ls.name
        else:
            prefix = prefixes.get(id(ls.layer))
            if prefix is None:
                prefix = prefixes[id(ls.layer)] = kind_of(ls.layer).name_prefix
            while True:
                n = counts.get(prefix, 0)
                counts[prefix] = n + 1
                name = prefix if n == 0 else f"{prefix}_{n}"
                if name not in taken:
                    break
        seen.add(name)
        names.append(name)
    return names
