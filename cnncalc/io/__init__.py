"""Readers: every form a spec comes in becomes one :class:`~cnncalc.io.spec.Spec`.

- :mod:`.compact`: the command line's ``conv:16,2,2,valid`` grammar;
- :mod:`.document`: JSON spec documents (cnncalc's own and ``--format json`` output);
- :mod:`.keras`: Keras ``model.to_json()`` documents, converted to spec documents;
- :mod:`.files`: reading files and standard input within the size limit.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError
from .compact import from_layers, parse_layer, parse_value, split_compact
from .document import loads, parse_spec
from .spec import LayerSpec, Spec

__all__ = [
    "LayerSpec",
    "Spec",
    "from_layers",
    "loads",
    "parse",
    "parse_layer",
    "parse_spec",
    "parse_value",
    "split_compact",
]


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
