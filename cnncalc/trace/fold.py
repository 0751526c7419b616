"""``--depth N``: a traced model's rows folded to module depth N, as torchinfo's ``depth`` does.

A traced row is named by its module path (``layer1.0.conv1``; an op by its module's path and its
own name, ``layer1.0.add``). With depth N, every run of consecutive rows whose path is deeper than
N and shares the first N parts becomes one row named by that prefix (``layer1``): a nested model
(the ``model`` kind) holding the rows it folds, so its shape, params and costs are the sums of
theirs and ``--expand`` shows them again. A run that reads more than one outside tensor, or whose
inner rows other than the last are read from outside, cannot be one row and stays unfolded.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..engine import summarize
from ..errors import SpecError
from ..io.spec import LayerSpec, Spec, build_layer, layer_names
from ..layers import kind_of


def _key(name: str, depth: int) -> str | None:
    parts = name.split(".")
    return ".".join(parts[:depth]) if len(parts) > depth else None


def fold(spec: Spec, depth: int) -> Spec:
    """The spec with rows deeper than ``depth`` folded into one row per module (see the module doc)."""
    summary = summarize(spec)
    shapes = {row.name: row.output_shape for row in summary.layers}
    shapes.update(dict(summary.model_inputs))
    names = layer_names(spec.layers)
    previous = summary.model_inputs[0][0]
    sources: list[tuple[str, ...]] = []
    for ls, name in zip(spec.layers, names, strict=True):
        sources.append(ls.inputs if ls.inputs is not None else (previous,))
        previous = name
    runs: list[tuple[str | None, list[int]]] = []
    for i, name in enumerate(names):
        key = _key(name, depth)
        if runs and key is not None and runs[-1][0] == key:
            runs[-1][1].append(i)
        else:
            runs.append((key, [i]))
    readers: dict[str, set[int]] = {}
    for i, srcs in enumerate(sources):
        for s in srcs:
            readers.setdefault(s, set()).add(i)
    last_row = len(names) - 1
    out: list[LayerSpec] = []
    renamed: dict[str, str] = {}
    taken = set(names)
    for key, members in runs:
        inside = {names[i] for i in members}
        outside = [s for i in members for s in sources[i] if s not in inside]
        external = list(dict.fromkeys(outside))
        read_out = {
            names[i]
            for i in members
            if any(r not in members for r in readers.get(names[i], ())) or i == last_row
        }
        if key is None or len(external) != 1 or read_out - {names[members[-1]]}:
            for i in members:
                ls = spec.layers[i]
                out.append(replace(ls, name=names[i], inputs=tuple(renamed.get(s, s) for s in sources[i])))
            continue
        name = key or "model"
        if name in taken and name not in inside:
            n = 1
            while f"{name}_{n}" in taken:
                n += 1
            name = f"{name}_{n}"
        taken.add(name)
        document = {
            "inputs": [{"name": "input", "shape": list(shapes[external[0]])}],
            "layers": [
                {
                    "type": kind_of(spec.layers[i].layer).type,
                    "name": names[i],
                    "config": spec.layers[i].layer.config(),
                    "inputs": ["input" if s == external[0] else s for s in sources[i]],
                    **({} if spec.layers[i].trainable else {"trainable": False}),
                }
                for i in members
            ],
        }
        layer = _nested(document, name)
        out.append(
            LayerSpec(
                layer,
                f"module {name!r}",
                name,
                compact=False,
                inputs=(renamed.get(external[0], external[0]),),
            )
        )
        renamed[names[members[-1]]] = name
    notes = (*spec.notes, f"--depth {depth}: modules deeper than {depth} are folded into one row each")
    return replace(spec, layers=tuple(out), notes=notes)


def _nested(document: dict[str, Any], name: str) -> Any:
    try:
        return build_layer("model", [], {"spec": document})
    except SpecError as err:  # pragma: no cover - the rows were computed once already
        raise err.prefixed(f"folding {name!r}: ") from None
