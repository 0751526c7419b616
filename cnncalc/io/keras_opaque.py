"""Custom and unknown Keras layers as opaque rows, from what a saved file records about them.

A Keras file does not say what a user's layer class (or a keras-hub block, or a ``Lambda``)
computes, but it often records enough for a summary row:

- the **output shape**: every call that reads a tensor records that tensor's shape (Keras 3:
  the ``__keras_tensor__`` objects of ``inbound_nodes``; Keras 2: the consumer's
  ``build_config.input_shape``; a ``Sequential`` model: the next layer's ``build_config``); a
  ``Lambda`` may also declare ``output_shape`` in its config;
- the **parameters**: the shapes of the variables the file stores for the layer (a ``.keras``
  zip's ``model.weights.h5``, an ``.h5`` file's ``model_weights`` group), read from the HDF5
  metadata by the file's reader (:mod:`cnncalc.io.sources`), never the data.

A layer whose output shape is not recorded is refused with a hint to ``--trace`` (which builds
the model with the user's Keras).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from ..errors import Option, SpecError

#: What the file's reader answers for a group of the weights file: the number of values stored
#: under it (every dataset below it, however deep), or why that is unknown. The second argument
#: is the layer's name, which Keras 3 also writes on the group (checked when present).
WeightCounter = Callable[[tuple[str, ...], str], "int | str"]

#: Layers without variables of their own: their params are 0 without looking at the weights.
WEIGHTLESS = ("Lambda", "TFOpLambda", "SlicingOpLambda", "TensorFlowOpLayer")

TRACE_HINT = (Option("trace"), " builds it with your installed Keras")


@dataclass(frozen=True)
class Weights:
    """Where a saved Keras file keeps its variables."""

    count: WeightCounter
    #: True: groups named after the layers (Keras 2 ``.h5``: ``model_weights/<layer>``); False:
    #: after the layers' classes in order (Keras 3 ``model.weights.h5``: ``layers/<snake_class>``)
    by_name: bool
    #: the group of the model being read (a nested model's layers live inside its group)
    root: tuple[str, ...] = ()


@dataclass
class Reading:
    """What converting one Keras document carries along: the weights (None for a JSON
    document, which holds none) and the notes the summary shows."""

    weights: Weights | None = None
    notes: list[str] = field(default_factory=list)
    #: opaque rows whose params were all counted as trainable (the file does not say otherwise)
    assumed_trainable: list[str] = field(default_factory=list)

    def inside(self, path: tuple[str, ...]) -> Reading:
        """The same reading for a nested model whose group is ``path``."""
        weights = None if self.weights is None else replace(self.weights, root=path)
        return Reading(weights, self.notes, self.assumed_trainable)

    def finish(self) -> list[str]:
        """The notes, with one line for every opaque row whose split was assumed."""
        notes = list(self.notes)
        if self.assumed_trainable:
            shown = ", ".join(repr(n) for n in self.assumed_trainable[:5])
            more = f" and {len(self.assumed_trainable) - 5} more" if len(self.assumed_trainable) > 5 else ""
            notes.append(
                f"opaque rows {shown}{more}: params read from the weights file, all counted as trainable "
                "(the file does not record which of a custom layer's weights train)"
            )
        return notes


def snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case`` (how ``model.weights.h5`` names a layer's group)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class WeightPaths:
    """The weights-file group of each layer of one model, in config order (Keras 3 numbers
    groups of the same class ``dense``, ``dense_1``, ... as ``saving_lib`` does)."""

    def __init__(self, reading: Reading) -> None:
        self.weights = reading.weights
        self.used: dict[str, int] = {}

    def next(self, layer: dict[str, Any]) -> tuple[str, ...] | None:
        if self.weights is None:
            return None
        if self.weights.by_name:
            return (*self.weights.root, str(layer.get("name") or (layer.get("config") or {}).get("name")))
        name = snake_case(str(layer.get("class_name")))
        if name in self.used:
            self.used[name] += 1
            name = f"{name}_{self.used[name]}"
        else:
            self.used[name] = 0
        return (*self.weights.root, "layers", name)


def qualified(layer: dict[str, Any]) -> str:
    """The class and its package, as Keras registers it: ``keras_hub>ResNetBackbone``,
    ``MyProject>Twice``; a class of Keras itself by its name (``Lambda``)."""
    class_name = str(layer.get("class_name"))
    registered = layer.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        return registered[:200]
    module = layer.get("module")
    if isinstance(module, str) and module:
        package = module.split(".")[0]
        if package not in ("keras", "tf_keras", "tensorflow"):
            return f"{package}>{class_name}"[:200]
    return class_name[:200]


def is_shape(value: Any) -> TypeGuard[list[Any]]:
    """A recorded shape: a list of sizes (``None`` for unknown), batch axis first."""
    return (
        isinstance(value, list)
        and 0 < len(value) <= 16
        and all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0) for v in value)
    )


def refusal(name: str, what: str) -> SpecError:
    """The layer cannot be a row: exit 2, one line, with the hint to trace it."""
    return SpecError(
        f"layer {name!r}: {what}, and the file does not record its output shape", hint=TRACE_HINT
    )


def opaque_row(
    layer: dict[str, Any],
    name: str,
    shape: list[Any],
    in_shapes: list[list[Any]] | None,
    sources: list[str] | None,
    reading: Reading,
    path: tuple[str, ...] | None,
) -> dict[str, Any]:
    """A spec layer for a layer cnncalc has no kind for: its recorded output ``shape`` (batch
    axis included) and, for a layer that can hold variables, the values the weights file stores
    for it (``trainable: false`` in its config makes them non-trainable)."""
    op = qualified(layer)
    sizes = shape[1:]
    if not sizes or None in sizes:
        shown = " x ".join("None" if n is None else str(n) for n in sizes) or "a scalar"
        raise SpecError(
            f"layer {name!r} ({op}): the file records its output shape as {shown}, whose sizes are only "
            "known when the model is called",
            hint=TRACE_HINT,
        )
    row: dict[str, Any] = {"type": "opaque", "name": name, "op": op, "shape": sizes, "source": "keras file"}
    if sources is not None:
        row["inputs"] = sources
    if in_shapes and all(s[1:] and None not in s[1:] for s in in_shapes):
        row["in_shapes"] = [s[1:] for s in in_shapes]
    config = layer.get("config")
    config = config if isinstance(config, dict) else {}
    if layer.get("class_name") in WEIGHTLESS:
        return row
    layer_name = str(layer.get("name") or config.get("name") or name)
    if path is None or reading.weights is None:
        count: int | str = "a model document without its weights file does not record them"
    else:
        count = reading.weights.count(path, layer_name)
    if isinstance(count, str):
        reading.notes.append(f"layer {name!r} ({op}): params unknown ({count}); counted as 0")
    elif config.get("trainable") is False:
        row["non_trainable_count"] = count
    else:
        row["trainable_count"] = count
        if count:
            reading.assumed_trainable.append(name)
    return row
