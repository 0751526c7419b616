"""The plain-data results of a model: :class:`Summary` and its :class:`LayerRow` s, and the one
output schema (``to_dict``, the ``--format json`` document, whose result fields read back as
expectations).

Computed by :func:`cnncalc.engine.summarize`; renderers (:mod:`cnncalc.render`) only read it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .enums import DTYPE_BYTES, Convention, Count, DataFormat
from .geometry import ReceptiveField, Shape, Window
from .layers.base import Context, Layer

#: Per-layer result fields of the JSON output, in order; read back they are expectations.
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
#: Model-level result fields of the JSON output, in order; read back they are expectations.
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


def field_json(rf: ReceptiveField | None) -> Any:
    """A receptive field as JSON carries it: ``"global"``, ``"untracked"`` or size/jump/start lists."""
    if rf is None:
        return "global"
    if not rf.tracked:
        return "untracked"
    # start is a half-integer in general (1.5 after a 2x2 pool); whole values are written as
    # integers so every field of the object has one form ([1, 1], not [1.0, 1.0] beside size [3, 3]).
    start = [int(s) if float(s).is_integer() else s for s in rf.start]
    return {"size": list(rf.size), "jump": list(rf.jump), "start": start}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


#: How a result field's value is written where it is not the attribute of the same name as is.
_LAYER_JSON: dict[str, Callable[[LayerRow], Any]] = {
    "receptive_field": lambda row: field_json(row.receptive_field),
}


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
    #: the line of the model code it was read from (Python sources); JSON carries it as "line"
    line: int | None = None
    #: the row whose weights this call of a shared layer uses (its params are counted there)
    shares: str | None = None

    @property
    def params(self) -> int:
        """Trainable plus non-trainable parameters (what Keras's ``Param #`` shows)."""
        return self.trainable_params + self.non_trainable_params

    @property
    def opaque(self) -> bool:
        """True for an opaque row: shapes and counts recorded, costs unknown (its MACs, bias adds
        and ops are 0 here and ``null`` nowhere yet; JSON marks the row ``"opaque": true``)."""
        return self.layer is not None and self.layer.opaque

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

    def __repr__(self) -> str:
        """One line: the row's name, kind, shapes and params."""
        return (
            f"LayerRow({self.index}, {self.name!r}, {self.class_name}, {self.input_shape} -> "
            f"{self.output_shape}, params={self.params})"
        )

    def result(self, key: str) -> Any:
        """One result field (``LAYER_RESULTS``) as JSON carries it."""
        convert = _LAYER_JSON.get(key)
        return convert(self) if convert else _plain(getattr(self, key))

    def to_dict(self) -> dict[str, Any]:
        """The layer as ``--format json`` writes it (itself a valid layer spec)."""
        head = {"name": self.name, "type": self.type, "config": dict(self.config)}
        where: dict[str, Any] = {} if self.line is None else {"line": self.line}
        if self.opaque:
            where["opaque"] = True
        if self.shares is not None:
            where["shares"] = self.shares
        return {**head, **where, **{key: self.result(key) for key in LAYER_RESULTS}}


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
    #: what the user should know about how the model was read or fixed, one line each (not in JSON)
    notes: tuple[str, ...] = ()

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

    def __repr__(self) -> str:
        """One line: what a notebook needs to recognise the model (``to_dict()`` has the rest)."""
        return (
            f"Summary(name={self.name!r}, input_shape={self.input_shape}, "
            f"output_shape={self.output_shape}, layers={len(self.layers)}, "
            f"total_params={self.total_params}, convention={self.convention.value!r}, "
            f"data_format={self.data_format.value!r})"
        )

    def result(self, key: str) -> Any:
        """One model-level result field (``MODEL_RESULTS``) as JSON carries it."""
        return _plain(getattr(self, key))

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (a valid spec when read back): settings, the output
        shape, the layers (with what each reads, for a graph), then the model's totals."""
        layers = [row.to_dict() for row in self.layers]
        if self.branches:  # a graph: every layer says what it reads, so the document reads back
            layers = [
                {**layer, "inputs": list(row.inputs)} for layer, row in zip(layers, self.layers, strict=True)
            ]
        named = (
            {"inputs": [{"name": n, "shape": list(shape)} for n, shape in self.inputs]} if self.inputs else {}
        )
        head = {
            "name": self.name,
            "input_shape": list(self.input_shape),
            **named,
            "data_format": self.data_format.value,
            "convention": self.convention.value,
            "dtype": self.dtype,
            MODEL_RESULTS[0]: self.result(MODEL_RESULTS[0]),
        }
        return {**head, "layers": layers, **{key: self.result(key) for key in MODEL_RESULTS[1:]}}


def json_lines(doc: Mapping[str, Any], list_key: str = "layers") -> str:
    """A JSON object as ``--format json`` writes it: each top-level key on its own line, the
    items of ``list_key`` one per line, other objects indented (``check --update`` keeps this).

    Written by json's C encoder for the big parts (``indent=`` on everything would force the
    pure-Python one: half the time of a 10,000-layer summary).
    """
    lines = []
    for key, value in doc.items():
        if key == list_key and isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(item, ensure_ascii=False) for item in value)
            lines.append(f"  {json.dumps(key)}: [\n{items}\n  ]")
        elif isinstance(value, dict) and value:
            nested = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {nested}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"
