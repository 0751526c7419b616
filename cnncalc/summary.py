"""Compute a plain-data :class:`Summary` of a model: per-layer shapes, params, MACs and totals.

Computing stays apart from rendering: :mod:`cnncalc.render` only reads a Summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import CnncalcError, SpecError, describe_layer
from .layers import Context, Layer, Shape
from .options import Convention, DataFormat, default_data_format
from .registry import kind_of
from .spec import LayerSpec, Spec

#: bytes per parameter for the "(18.44 KB)" figures, as Keras's summary assumes float32
PARAM_BYTES = 4


@dataclass(frozen=True)
class LayerRow:
    """One layer's results."""

    index: int
    name: str
    type: str
    class_name: str
    config: Mapping[str, Any]
    input_shape: Shape
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    #: explicit zero padding (before, after) per spatial axis, for windowed layers
    padding: tuple[tuple[int, int], ...] = ()
    #: the layer object itself (for the executor); not part of the JSON output
    layer: Layer | None = field(default=None, compare=False, repr=False)

    @property
    def params(self) -> int:
        """Trainable plus non-trainable parameters (what Keras's ``Param #`` shows)."""
        return self.trainable_params + self.non_trainable_params

    def to_dict(self) -> dict[str, Any]:
        """The layer as ``--format json`` writes it (itself a valid layer spec)."""
        return {
            "name": self.name,
            "type": self.type,
            "config": dict(self.config),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "buffers": self.buffers,
            "macs": self.macs,
        }


@dataclass(frozen=True)
class Summary:
    """A whole model's results; ``to_dict()`` is the ``--format json`` document."""

    name: str
    input_shape: Shape
    convention: Convention
    data_format: DataFormat
    layers: tuple[LayerRow, ...]

    @property
    def output_shape(self) -> Shape:
        """The last layer's output shape (the input shape for an empty model)."""
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def total_params(self) -> int:
        """All parameters, trainable and not (Keras's "Total params")."""
        return sum(row.params for row in self.layers)

    @property
    def trainable_params(self) -> int:
        """Parameters that training updates."""
        return sum(row.trainable_params for row in self.layers)

    @property
    def non_trainable_params(self) -> int:
        """Parameters that training leaves alone (BN moving statistics, frozen layers)."""
        return sum(row.non_trainable_params for row in self.layers)

    @property
    def total_buffers(self) -> int:
        """PyTorch buffers (BN running statistics under the pytorch convention)."""
        return sum(row.buffers for row in self.layers)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of one forward pass for one sample (bias adds not counted)."""
        return sum(row.macs for row in self.layers)

    @property
    def activation_bytes(self) -> int:
        """Bytes of every layer's output for one float32 sample (a forward pass keeping all)."""
        return sum(math.prod(row.output_shape) for row in self.layers) * PARAM_BYTES

    @staticmethod
    def param_bytes(count: int) -> int:
        """Bytes that ``count`` float32 parameters take (the figure in Keras's totals)."""
        return count * PARAM_BYTES

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (a valid spec when read back)."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "data_format": self.data_format.value,
            "convention": self.convention.value,
            "output_shape": list(self.output_shape),
            "layers": [row.to_dict() for row in self.layers],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_buffers": self.total_buffers,
            "total_macs": self.total_macs,
            "activation_bytes": self.activation_bytes,
        }

    @property
    def context(self) -> Context:
        """The convention and data format the summary was computed under."""
        return Context(self.convention, self.data_format)

    def __rich__(self) -> Any:
        from .render import summary_table

        return summary_table(self)

    def _repr_html_(self) -> str:
        from .render import to_html

        return to_html(self)


def settings(
    spec: Spec,
    input_shape: Shape | None = None,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
) -> tuple[Shape, Context]:
    """Resolve input shape, convention and data format: explicit argument > spec > default."""
    conv = Convention.parse(convention, "convention") if convention is not None else spec.convention
    conv = conv or Convention.KERAS
    fmt = DataFormat.parse(data_format, "data format") if data_format is not None else spec.data_format
    fmt = fmt or default_data_format(conv)
    shape = input_shape if input_shape is not None else spec.input_shape
    if shape is None:
        raise SpecError("no input shape: give --input like 200x200x1 (or input_shape in the spec)")
    return tuple(shape), Context(conv, fmt)


def layer_names(layers: tuple[LayerSpec, ...]) -> list[str]:
    """Keras-style names: explicit ones kept, the rest ``conv2d``, ``conv2d_1``, ... per kind."""
    taken = {ls.name for ls in layers if ls.name}
    counts: dict[str, int] = {}
    names = []
    seen: set[str] = set()
    for index, ls in enumerate(layers):
        if ls.name:
            if ls.name in seen:
                raise SpecError(f"{describe_layer(index, ls.text)}: the name {ls.name!r} is used twice")
            name = ls.name
        else:
            prefix = kind_of(ls.layer).name_prefix
            while True:
                n = counts.get(prefix, 0)
                counts[prefix] = n + 1
                name = prefix if n == 0 else f"{prefix}_{n}"
                if name not in taken:
                    break
        seen.add(name)
        names.append(name)
    return names


def summarize(
    spec: Spec,
    *,
    input_shape: Shape | None = None,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
) -> Summary:
    """Compute every layer's output shape, params and MACs; raise on the first impossible layer."""
    shape, ctx = settings(spec, input_shape, convention, data_format)
    from .values import shape as check_shape

    shape = check_shape(list(shape))
    rows = []
    for index, (ls, name) in enumerate(zip(spec.layers, layer_names(spec.layers), strict=False)):
        try:
            out = ls.layer.compute(shape, ctx)
        except CnncalcError as err:
            raise err.at(describe_layer(index, ls.text)) from None
        kind = kind_of(ls.layer)
        trainable, frozen = (
            (out.trainable, out.non_trainable) if ls.trainable else (0, out.trainable + out.non_trainable)
        )
        config = ls.layer.config()
        if not ls.trainable:
            config["trainable"] = False
        rows.append(
            LayerRow(
                index=index,
                name=name,
                type=kind.type,
                class_name=kind.class_name,
                config=config,
                input_shape=shape,
                output_shape=out.shape,
                trainable_params=trainable,
                non_trainable_params=frozen,
                buffers=out.buffers,
                macs=out.macs,
                padding=out.padding,
                layer=ls.layer,
            )
        )
        shape = out.shape
    return Summary(
        name=spec.name or "sequential",
        input_shape=rows[0].input_shape if rows else shape,
        convention=ctx.convention,
        data_format=ctx.data_format,
        layers=tuple(rows),
    )
