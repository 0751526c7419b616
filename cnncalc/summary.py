"""Compute a plain-data :class:`Summary` of a model: per-layer shapes, params, costs and totals.

Computing stays apart from rendering: :mod:`cnncalc.render` only reads a Summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Context, Layer, ReceptiveField, Shape, Window
from .errors import CnncalcError, ShapeError, SpecError, describe_layer
from .options import DTYPE_BYTES, Convention, Count, DataFormat, default_data_format, dtype_bytes
from .registry import kind_of
from .spec import LayerSpec, Spec

#: Largest tensor (values per sample) a spec may produce: int64 indexing, as in every framework.
MAX_ELEMENTS = 2**63 - 1


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
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
    #: multiply-accumulates by weights, one sample, bias not included
    macs: int
    #: bias additions (one per output element of a layer with a bias)
    bias_adds: int = 0
    #: elementwise work that is not a MAC (pooling, activations, normalization)
    ops: int = 0
    #: bytes per element of the dtype memory figures use
    element_bytes: int = 4
    #: resolved window geometry per spatial axis (conv/pool)
    windows: tuple[Window, ...] = ()
    #: receptive field after this layer; None when every output sees the whole input
    receptive_field: ReceptiveField | None = None
    #: the layer object itself (for the executor and explain); not part of the JSON output
    layer: Layer | None = field(default=None, compare=False, repr=False)
    #: the compact spec text the layer came from ("" for a JSON object layer)
    spec: str = field(default="", compare=False, repr=False)
    #: names of the layers (or model inputs) it reads
    inputs: tuple[str, ...] = ()

    @property
    def params(self) -> int:
        """Trainable plus non-trainable parameters (what Keras's ``Param #`` shows)."""
        return self.trainable_params + self.non_trainable_params

    @property
    def flops(self) -> int:
        """FLOPs = 2*MACs (a multiply and an add each) + bias adds + elementwise ops."""
        return 2 * self.macs + self.bias_adds + self.ops

    @property
    def padding(self) -> tuple[tuple[int, int], ...]:
        """Zero padding (before, after) actually applied per spatial axis (conv/pool)."""
        return tuple((w.before, w.after) for w in self.windows)

    def cost(self, count: Count = Count.MACS, bias_macs: bool = False) -> int:
        """The cost figure under a counting convention: MACs (bias adds only with ``bias_macs``,
        as torchinfo and ptflops count them; fvcore does not), or FLOPs."""
        if count is Count.FLOPS:
            return self.flops
        return self.macs + (self.bias_adds if bias_macs else 0)

    @property
    def activation_bytes(self) -> int:
        """Bytes of this layer's output for one sample."""
        return math.prod(self.output_shape) * self.element_bytes

    def to_dict(self) -> dict[str, Any]:
        """The layer as ``--format json`` writes it (itself a valid layer spec)."""
        rf = self.receptive_field
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
            "bias_adds": self.bias_adds,
            "ops": self.ops,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "receptive_field": "global"
            if rf is None
            else "untracked"
            if not rf.tracked
            else {"size": list(rf.size), "jump": list(rf.jump), "start": list(rf.start)},
        }


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class Summary:
    """A whole model's results; ``to_dict()`` is the ``--format json`` document."""

    name: str
    input_shape: Shape
    convention: Convention
    data_format: DataFormat
    layers: tuple[LayerRow, ...]
    dtype: str = "float32"
    #: named model inputs (name, shape) of a graph spec; empty for one plain input
    inputs: tuple[tuple[str, Shape], ...] = ()

    @property
    def model_inputs(self) -> tuple[tuple[str, Shape], ...]:
        """(name, shape) of every model input; a plain spec has one called ``input``."""
        return self.inputs or (("input", self.input_shape),)

    @property
    def branches(self) -> bool:
        """True when some layer does not simply read the one before it (a graph, not a stack)."""
        previous = self.model_inputs[0][0]
        for row in self.layers:
            if row.inputs != (previous,):
                return True
            previous = row.name
        return False

    @property
    def output_shape(self) -> Shape:
        """The last layer's output shape (the input shape for an empty model)."""
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def context(self) -> Context:
        """The convention and data format the summary was computed under."""
        return Context(self.convention, self.data_format)

    @property
    def element_bytes(self) -> int:
        """Bytes per element of the summary's dtype."""
        return DTYPE_BYTES[self.dtype]

    def _sum(self, attribute: str) -> int:
        return sum(getattr(row, attribute) for row in self.layers)

    @property
    def total_params(self) -> int:
        """All parameters, trainable and not (Keras's "Total params")."""
        return self._sum("params")

    @property
    def trainable_params(self) -> int:
        """Parameters that training updates."""
        return self._sum("trainable_params")

    @property
    def non_trainable_params(self) -> int:
        """Parameters that training leaves alone (BN moving statistics, frozen layers)."""
        return self._sum("non_trainable_params")

    @property
    def total_buffers(self) -> int:
        """PyTorch buffers (BN running statistics under the pytorch convention)."""
        return self._sum("buffers")

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of one forward pass for one sample (bias adds not counted)."""
        return self._sum("macs")

    @property
    def total_bias_adds(self) -> int:
        """Bias additions of one forward pass for one sample."""
        return self._sum("bias_adds")

    @property
    def total_ops(self) -> int:
        """Elementwise non-MAC work of one forward pass for one sample."""
        return self._sum("ops")

    @property
    def total_flops(self) -> int:
        """2*MACs + bias adds + ops, one sample."""
        return self._sum("flops")

    @property
    def input_bytes(self) -> int:
        """Bytes of one input sample."""
        return math.prod(self.input_shape) * self.element_bytes

    @property
    def activation_bytes(self) -> int:
        """Bytes of every layer's output for one sample (a forward pass keeping them all)."""
        return self._sum("activation_bytes")

    @property
    def param_bytes(self) -> int:
        """Bytes of all parameters and buffers."""
        return self.bytes_of(self.total_params + self.total_buffers)

    @property
    def estimated_total_bytes(self) -> int:
        """Inference estimate: input + all layer outputs + parameters and buffers (torchinfo's sum)."""
        return self.input_bytes + self.activation_bytes + self.param_bytes

    @property
    def training_bytes(self) -> int:
        """Training estimate for one sample: input, outputs kept for backward, their gradients,
        parameters and buffers, parameter gradients, and Adam's two moment tensors."""
        trainable = self.bytes_of(self.trainable_params)
        return self.input_bytes + 2 * self.activation_bytes + self.param_bytes + 3 * trainable

    def total_cost(self, count: Count = Count.MACS, bias_macs: bool = False) -> int:
        """Sum of :meth:`LayerRow.cost` over the layers."""
        return sum(row.cost(count, bias_macs) for row in self.layers)

    def bytes_of(self, count: int) -> int:
        """Bytes of ``count`` elements of the summary's dtype (the figure in Keras's totals)."""
        return count * self.element_bytes

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (a valid spec when read back)."""
        layers = [row.to_dict() for row in self.layers]
        if self.branches:  # a graph: every layer says what it reads, so the document reads back
            layers = [
                {**layer, "inputs": list(row.inputs)} for layer, row in zip(layers, self.layers, strict=True)
            ]
        named = (
            {"inputs": [{"name": n, "shape": list(shape)} for n, shape in self.inputs]} if self.inputs else {}
        )
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            **named,
            "data_format": self.data_format.value,
            "convention": self.convention.value,
            "dtype": self.dtype,
            "output_shape": list(self.output_shape),
            "layers": layers,
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "total_buffers": self.total_buffers,
            "total_macs": self.total_macs,
            "total_bias_adds": self.total_bias_adds,
            "total_ops": self.total_ops,
            "total_flops": self.total_flops,
            "input_bytes": self.input_bytes,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
            "estimated_total_bytes": self.estimated_total_bytes,
            "training_bytes": self.training_bytes,
        }

    def __rich__(self) -> Any:
        from .render import summary_table

        return summary_table(self)

    def _repr_html_(self) -> str:
        from .render import table_html

        return table_html(self)


def settings(
    spec: Spec,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
) -> Context:
    """Resolve convention and data format: explicit argument > spec > default."""
    conv = Convention.parse(convention, "convention") if convention is not None else spec.convention
    conv = conv or Convention.KERAS
    fmt = DataFormat.parse(data_format, "data format") if data_format is not None else spec.data_format
    return Context(conv, fmt or default_data_format(conv))


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


def model_inputs(spec: Spec, shape: Shape | None) -> tuple[tuple[str, Shape], ...]:
    """The model's named inputs; a plain ``input_shape`` is one input called ``input``.

    ``shape`` (e.g. from ``--input``) replaces the shape of a single input.
    """
    if spec.inputs:
        if shape is not None and tuple(shape) != spec.inputs[0][1]:
            if len(spec.inputs) > 1:
                raise SpecError("--input cannot set the shapes of a model with several inputs")
            return ((spec.inputs[0][0], tuple(shape)),)
        return spec.inputs
    if shape is None:
        raise SpecError("no input shape: give --input like 200x200x1 (or input_shape in the spec)")
    return (("input", tuple(shape)),)


def wiring(spec: Spec, names: list[str], inputs: tuple[tuple[str, Shape], ...]) -> list[tuple[str, ...]]:
    """Each layer's sources: its ``inputs``, else the previous layer (the first model input for the first)."""
    sources = []
    previous = inputs[0][0]
    for ls, name in zip(spec.layers, names, strict=True):
        sources.append(ls.inputs if ls.inputs is not None else (previous,))
        previous = name
    return sources


def topological_order(
    spec: Spec, names: list[str], sources: list[tuple[str, ...]], input_names: set[str]
) -> list[int]:
    """Layer indices so that every layer comes after what it reads (ties: spec order).

    Unknown names and cycles are errors that name the layers involved.
    """
    position = {name: i for i, name in enumerate(names)}
    for i, name in enumerate(names):
        if name in input_names:
            raise SpecError(
                f"{describe_layer(i, spec.layers[i].text)}: the name {name!r} is also a model input"
            )
        for source in sources[i]:
            if source not in position and source not in input_names:
                known = ", ".join(sorted(input_names | set(names)))
                raise SpecError(
                    f"{describe_layer(i, spec.layers[i].text)}: unknown input {source!r} (known: {known})"
                )
    if all(ls.inputs is None for ls in spec.layers):
        return list(range(len(names)))  # a plain stack: already in order
    import heapq

    waiting = [sum(1 for s in srcs if s in position) for srcs in sources]
    readers: dict[int, list[int]] = {}
    for i, srcs in enumerate(sources):
        for source in srcs:
            if source in position:
                readers.setdefault(position[source], []).append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for reader in readers.get(i, []):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) < len(names):
        raise SpecError(
            f"the layers form a cycle: {' -> '.join(_cycle(names, sources, set(order), position))}"
        )
    return order


def _cycle(
    names: list[str], sources: list[tuple[str, ...]], done: set[int], position: dict[str, int]
) -> list[str]:
    """One cycle among the layers that could not be ordered, as names (first repeated at the end)."""
    node = next(i for i in range(len(names)) if i not in done)
    path: list[int] = []
    while node not in path:
        path.append(node)
        node = next(position[s] for s in sources[node] if s in position and position[s] not in done)
    loop = path[path.index(node) :]
    return [names[i] for i in reversed(loop)] + [names[loop[-1]]]


def summarize(
    spec: Spec,
    *,
    input_shape: Shape | None = None,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
    dtype: str | None = None,
) -> Summary:
    """Compute every layer's output shape, params and costs, following the graph when the spec
    branches; raise on the first impossible layer."""
    from .values import shape as check_shape

    ctx = settings(spec, convention, data_format)
    dtype = dtype or spec.dtype or "float32"
    element = dtype_bytes(dtype)
    inputs = tuple(
        (name, check_shape(list(shape), f"input {name!r}" if spec.inputs else "input shape"))
        for name, shape in model_inputs(spec, input_shape if input_shape is not None else spec.input_shape)
    )
    for name, shape in inputs:
        if math.prod(shape) > MAX_ELEMENTS:
            raise ShapeError(
                f"input {name!r} would hold {math.prod(shape):.3g} values, more than the limit 2**63 - 1"
            )
    names = layer_names(spec.layers)
    sources = wiring(spec, names, inputs)
    shapes: dict[str, Shape] = dict(inputs)
    # The field is tracked over the spatial axes of each input (none for a plain vector).
    fields: dict[str, ReceptiveField | None] = {
        name: ReceptiveField.of_input(len(shape) - 1) if len(shape) > 1 else None for name, shape in inputs
    }
    rows = []
    for index in topological_order(spec, names, sources, set(shapes)):
        ls, name, srcs = spec.layers[index], names[index], sources[index]
        in_shapes = [shapes[s] for s in srcs]
        try:
            if ls.layer.takes_many:
                from .merging import merge_fields

                out = ls.layer.compute_many(in_shapes, list(srcs), ctx)  # type: ignore[attr-defined]
                rf = merge_fields([fields[s] for s in srcs])
            else:
                if len(srcs) != 1:
                    raise ShapeError(f"takes one input, got {len(srcs)} ({', '.join(map(repr, srcs))})")
                out = ls.layer.compute(in_shapes[0], ctx)
                rf = fields[srcs[0]]
                rf = None if rf is None else ls.layer.receptive_field(rf, out, in_shapes[0], ctx)
        except CnncalcError as err:
            raise err.at(describe_layer(index, ls.text)) from None
        if math.prod(out.shape) > MAX_ELEMENTS:
            raise ShapeError(
                f"{describe_layer(index, ls.text)}: the output would hold {math.prod(out.shape):.3g} values, "
                f"more than the limit 2**63 - 1 (frameworks index tensors with int64)"
            )
        shapes[name], fields[name] = out.shape, rf
        kind = kind_of(ls.layer)
        params = out.trainable + out.non_trainable
        trainable = out.trainable if ls.trainable else 0
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
                input_shape=in_shapes[0],
                output_shape=out.shape,
                trainable_params=trainable,
                non_trainable_params=params - trainable,
                buffers=out.buffers,
                macs=out.macs,
                bias_adds=out.bias_adds,
                ops=out.ops,
                element_bytes=element,
                windows=out.windows,
                receptive_field=rf,
                layer=ls.layer,
                spec=ls.text if ls.compact else "",
                inputs=tuple(srcs),
            )
        )
    return Summary(
        name=spec.name or ("model" if spec.inputs else "sequential"),
        input_shape=inputs[0][1],
        convention=ctx.convention,
        data_format=ctx.data_format,
        layers=tuple(rows),
        dtype=dtype,
        inputs=inputs if spec.inputs else (),
    )
