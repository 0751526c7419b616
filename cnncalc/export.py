"""Model code from a summary: ``cnncalc export --to keras`` writes runnable Keras Python.

A plain stack becomes ``keras.Sequential([keras.Input(...), layers.X(...), ...])``; a graph a
functional model (``x = layers.X(...)(y)``, ``keras.Model(inputs, outputs)``). Every layer keeps
its name and only its non-default arguments are written, so the code reads like a tutorial's.
Reading the output back (``cnncalc summary -f model.py``) gives the same table; a dev-only test
runs it in Keras and compares every row. Layers Keras has no class for (PyTorch's ``ceil_mode``,
explicit integer padding, adaptive pooling, network3's layers) are refused with the reason.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import MISSING
from typing import Any

from .enums import Convention, DataFormat, ExportTarget
from .errors import Option, SpecError, describe_layer
from .layers import kind_of
from .layers.base import Layer, jsonable
from .summary import LayerRow, Summary

#: Arguments cnncalc adds for PyTorch's rules; Keras layers have no such argument.
_PYTORCH_ONLY = ("ceil_mode", "count_include_pad", "dilation")
#: Kinds without a Keras class.
_NOT_KERAS = ("AdaptiveAvgPool", "AdaptiveMaxPool", "ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer")
#: Arguments written even at cnncalc's default (Keras 3's AveragePooling has no default pool_size).
_ALWAYS = ("pool_size",)


def export(summary: Summary, target: ExportTarget | str = ExportTarget.KERAS) -> str:
    """Runnable model code for a computed summary (``target``: keras or pytorch)."""
    if ExportTarget.parse(target, "export target") is ExportTarget.PYTORCH:
        from .export_torch import export_pytorch

        return export_pytorch(summary)
    if summary.convention is not Convention.KERAS:
        raise SpecError(
            "Keras code follows Keras's rules, and the model uses ",
            Option("convention", summary.convention.value),
            ": summarize it under ",
            Option("convention", "keras"),
            " (PyTorch-only arguments are then refused by layer)",
        )
    if summary.data_format is not DataFormat.CHANNELS_LAST:
        raise SpecError(
            "Keras code is written channels_last, and the model uses ",
            Option("data_format", summary.data_format.value),
        )
    calls = [_keras_call(row) for row in summary.layers]
    head = [
        f'"""{summary.name}: written by cnncalc export --to keras (run it: python this_file.py)."""',
        "",
        "import keras",
        "from keras import layers",
        "",
    ]
    tail = ["", 'if __name__ == "__main__":', "    model.summary()", ""]
    if not summary.branches and len(summary.model_inputs) == 1:
        shape = summary.model_inputs[0][1]
        items = [f"        keras.Input(shape={_tuple(shape)}),", *(f"        {call}," for call in calls)]
        body = ["model = keras.Sequential(", "    [", *items, "    ],", f"    name={summary.name!r},", ")"]
        return "\n".join([*head, *body, *tail])
    variables: dict[str, str] = {}
    body = []
    for name, shape in summary.model_inputs:
        variables[name] = _variable(name, variables)
        named = f", name={name!r}" if summary.inputs else ""  # a plain spec's one input has no name
        body.append(f"{variables[name]} = keras.Input(shape={_tuple(shape)}{named})")
    used: set[str] = set()
    for row, call in zip(summary.layers, calls, strict=True):
        sources = [variables[s] for s in row.inputs]
        used.update(row.inputs)
        argument = f"[{', '.join(sources)}]" if row.layer is not None and row.layer.takes_many else sources[0]
        variables[row.name] = _variable(row.name, variables)
        body.append(f"{variables[row.name]} = {call}({argument})")
    outputs = [variables[row.name] for row in summary.layers if row.name not in used]
    inputs = [variables[name] for name, _ in summary.model_inputs]
    body.append(
        f"model = keras.Model(inputs={_list(inputs)}, outputs={_list(outputs)}, name={summary.name!r})"
    )
    return "\n".join([*head, *body, *tail])


def _keras_call(row: LayerRow) -> str:
    layer = row.layer
    assert layer is not None  # rows of a computed summary carry their layer
    kind = kind_of(layer)
    where = describe_layer(row.index, row.spec or f"{row.class_name} {row.name!r}")
    if kind.class_name.startswith(_NOT_KERAS):
        raise SpecError(f"{where}: {kind.class_name} has no Keras class")
    arguments = []
    for name, value in _non_default(layer):
        integer_padding = name == "padding" and isinstance(value, list) and "Padding" not in kind.class_name
        if name in _PYTORCH_ONLY or integer_padding:
            raise SpecError(f"{where}: {name}={value!r} is PyTorch's, Keras has no such argument")
        if name == "data_format" and value == DataFormat.CHANNELS_LAST.value:
            continue
        arguments.append(f"{name}={_literal(value)}")
    arguments.append(f"name={row.name!r}")
    if not row.trainable_params and row.non_trainable_params and row.config.get("trainable") is False:
        arguments.append("trainable=False")
    return f"layers.{kind.class_name}({', '.join(arguments)})"


def _non_default(layer: Layer) -> list[tuple[str, Any]]:
    """(name, value) of every argument that differs from the kind's default (required ones too)."""
    rank = getattr(layer, "rank", 0)
    out = []
    for f in layer.declared():
        coerce = f.metadata.get("coerce")
        if coerce is None:
            continue
        value = jsonable(getattr(layer, f.name))
        if f.default is not MISSING and value == jsonable(coerce(f.default, rank)) and f.name not in _ALWAYS:
            continue
        if value is None:
            continue
        out.append((f.name, value))
    return out


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return _tuple(value)
    return repr(value)


def _tuple(values: Any) -> str:
    items = [_literal(v) for v in values]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"[{', '.join(names)}]"


def _variable(name: str, taken: dict[str, str]) -> str:
    """A Python identifier for a tensor named ``name`` (unique among those already given)."""
    base = re.sub(r"\W", "_", name)
    if (
        not base
        or base[0].isdigit()
        or keyword.iskeyword(base)
        or base in ("keras", "layers", "model", "input")
    ):
        base = f"t_{base}"
    candidate, n = base, 1
    values = set(taken.values())
    while candidate in values:
        candidate, n = f"{base}_{n}", n + 1
    return candidate
