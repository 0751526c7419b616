"""The plain-data results of a model: :class:`Summary` and its :class:`LayerRow` s, and the one
output schema (``to_dict``, the ``--format json`` document, whose result fields read back as
expectations).

Computed by :func:`cnncalc.engine.summarize`; renderers (:mod:`cnncalc.render`) only read it.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from functools import cached_property
from typing import Any

from .enums import DTYPE_BYTES, Convention, Count, DataFormat
from .errors import ShapeError, UnknownSizes
from .geometry import OpenShape, ReceptiveField, Shape, Window, known_shape
from .layers.base import Context, Layer
from .records import record

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
    """A receptive field as JSON carries it: ``"global"``, ``"untracked"`` (not followed, or
    not one size: it varies by position) or size/jump/start lists (a fractional jump as a number,
    0.5 after upsampling by 2)."""
    if rf is None:
        return "global"
    if not rf.tracked or not rf.uniform:
        return "untracked"
    # start is a half-integer in general (1.5 after a 2x2 pool); whole values are written as
    # integers so every field of the object has one form ([1, 1], not [1.0, 1.0] beside size [3, 3]).
    start = [int(s) if float(s).is_integer() else s for s in rf.start]
    jump = [j if isinstance(j, int) else float(j) for j in rf.jump]
    return {"size": list(rf.size), "jump": jump, "start": start}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


#: How a result field's value is written where it is not the attribute of the same name as is.
_LAYER_JSON: dict[str, Callable[[LayerRow], Any]] = {
    "output_shape": lambda row: list(row.output_dims),
    "receptive_field": lambda row: field_json(row.receptive_field),
}


def _known(dims: OpenShape, where: str) -> Shape:
    shape = known_shape(dims)
    if shape is None:
        raise UnknownSizes.of(where, dims)
    return shape


def known(value: int | None, what: str) -> int:
    """A figure a computation needs: its value, or :class:`~cnncalc.errors.ShapeError` saying
    it is unknown (a size left ``None``, a layer whose costs nobody knows)."""
    if value is None:
        raise ShapeError(f"{what} is unknown")
    return value


def _sum(values: list[int | None]) -> int | None:
    """The total of figures, unknown (None) when any of them is: a size-dependent figure of a
    model with ``None`` sizes, a cost of an opaque row. Never a partial sum shown as a whole."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


@record(frozen=True, eq=False, slots=True)  # records, never compared; one per layer: slotted
class LayerRow:
    """One layer's results. A size the model leaves open (Keras's ``None``) is ``None`` in the
    shapes; then the figures that depend on sizes (``macs``, ``bias_adds``, ``ops`` and what
    follows from them) are ``None``: unknown, not zero."""

    index: int
    name: str
    type: str
    class_name: str
    config: Mapping[str, Any]
    #: the input's and output's sizes, ``None`` where unknown (:attr:`input_shape` and
    #: :attr:`output_shape` are the same when every size is known)
    input_dims: OpenShape
    output_dims: OpenShape
    trainable_params: int
    non_trainable_params: int
    buffers: int
    #: multiply-accumulates by weights, one sample, bias not included (None: unknown)
    macs: int | None
    #: bias additions (one per output element of a layer with a bias; None: unknown)
    bias_adds: int | None = 0
    #: elementwise work that is not a MAC (pooling, activations, normalization; None: unknown)
    ops: int | None = 0
    #: bytes per element of the dtype memory figures use
    element_bytes: int = 4
    #: resolved window geometry per spatial axis (conv/pool)
    windows: tuple[Window, ...] = ()
    #: receptive field after this layer; None when every output sees the whole input
    receptive_field: ReceptiveField | None = None
    #: the layer object itself (for the executor and explain); not part of the JSON output.
    #: Every row is computed (JSON read back is expectations, never rows), so it is always there.
    layer: Layer = field(kw_only=True, compare=False, repr=False)
    #: the compact spec text the layer came from ("" for a JSON object layer)
    spec: str = field(default="", compare=False, repr=False)
    #: names of the layers (or model inputs) it reads
    inputs: tuple[str, ...] = ()
    #: the line of the model code it was read from (Python sources); JSON carries it as "line"
    line: int | None = None
    #: the row whose weights this call of a shared layer uses (its params are counted there)
    shares: str | None = None
    #: a row only train mode runs (torchvision's auxiliary classifiers): its params are counted,
    #: its costs and activations are not in the eval-mode totals; JSON marks it
    training_only: bool = False

    @property
    def params(self) -> int:
        """Trainable plus non-trainable parameters (what Keras's ``Param #`` shows)."""
        return self.trainable_params + self.non_trainable_params

    @property
    def opaque(self) -> bool:
        """True for an opaque row: shapes and counts recorded, costs unknown (its MACs, bias adds
        and ops are 0 here -- ``None``, unknown, is representable now (a size left ``None`` uses it);
        JSON marks the row ``"opaque": true``)."""
        return self.layer.opaque

    @property
    def flops(self) -> int | None:
        """FLOPs = 2*MACs (a multiply and an add each) + bias adds + elementwise ops."""
        if self.macs is None or self.bias_adds is None or self.ops is None:
            return None
        return 2 * self.macs + self.bias_adds + self.ops

    @property
    def known(self) -> bool:
        """True when every size of the row's shapes is known (no ``None``)."""
        return None not in self.input_dims and None not in self.output_dims

    @property
    def input_shape(self) -> Shape:
        """The input shape; :class:`~cnncalc.errors.UnknownSizes` while a size is unknown."""
        return _known(self.input_dims, self.name)

    @property
    def output_shape(self) -> Shape:
        """The output shape; :class:`~cnncalc.errors.UnknownSizes` while a size is unknown."""
        return _known(self.output_dims, self.name)

    @property
    def padding(self) -> tuple[tuple[int, int], ...]:
        """Zero padding (before, after) actually applied per spatial axis (conv/pool)."""
        return tuple((w.before, w.after) for w in self.windows)

    def cost(self, count: Count = Count.MACS, bias_macs: bool = False) -> int | None:
        """The cost figure under a counting convention: MACs (bias adds only with ``bias_macs``,
        as torchinfo and ptflops count them; fvcore does not), or FLOPs. None: unknown."""
        if count is Count.FLOPS:
            return self.flops
        if not bias_macs:
            return self.macs
        return None if self.macs is None or self.bias_adds is None else self.macs + self.bias_adds

    @property
    def activation_bytes(self) -> int | None:
        """Bytes of this layer's output for one sample (None while a size is unknown)."""
        shape = known_shape(self.output_dims)
        return None if shape is None else math.prod(shape) * self.element_bytes

    def __repr__(self) -> str:
        """One line: the row's name, kind, shapes and params."""
        return (
            f"LayerRow({self.index}, {self.name!r}, {self.class_name}, {self.input_dims} -> "
            f"{self.output_dims}, params={self.params})"
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
        if self.training_only:
            where["training_only"] = True
        return {**head, **where, **{key: self.result(key) for key in LAYER_RESULTS}}


@record(frozen=True, eq=False)  # records, never compared: cheaper to define
class Summary:
    """A whole model's results; ``to_dict()`` is the ``--format json`` document."""

    name: str
    #: the (first) input's sizes, ``None`` where unknown (:attr:`input_shape` when all are known)
    input_dims: OpenShape
    convention: Convention
    data_format: DataFormat
    layers: tuple[LayerRow, ...]
    dtype: str = "float32"
    #: named model inputs (name, shape) of a graph spec; empty for one plain input
    inputs: tuple[tuple[str, OpenShape], ...] = ()
    #: what the user should know about how the model was read or fixed, one line each (not in JSON)
    notes: tuple[str, ...] = ()
    #: elements the model file stores in its weight tensors (ONNX initializers), when known
    stored_elements: int | None = None

    @property
    def model_dims(self) -> tuple[tuple[str, OpenShape], ...]:
        """(name, sizes) of every model input, ``None`` where unknown; a plain spec has one called ``input``."""
        return self.inputs or (("input", self.input_dims),)

    @property
    def model_inputs(self) -> tuple[tuple[str, Shape], ...]:
        """(name, shape) of every model input; :class:`~cnncalc.errors.UnknownSizes` while a size
        is unknown (:attr:`model_dims` has them as they are)."""
        return tuple((name, _known(dims, f"input {name!r}")) for name, dims in self.model_dims)

    @property
    def branches(self) -> bool:
        """True when some layer does not simply read the one before it (a graph, not a stack)."""
        previous = self.model_dims[0][0]
        for row in self.layers:
            if row.inputs != (previous,):
                return True
            previous = row.name
        return False

    @property
    def known(self) -> bool:
        """True when every size is known (no ``None`` from the model's input)."""
        return all(None not in shape for _, shape in self.model_dims) and all(
            row.known for row in self.layers
        )

    def require_known(self, what: str) -> None:
        """:class:`~cnncalc.errors.UnknownSizes` (one line, exit 2) when ``what`` (a command or
        figure that needs every size) meets a model whose sizes are not all known."""
        if not self.known:
            raise UnknownSizes.of(what, self.input_dims)

    @property
    def input_shape(self) -> Shape:
        """The (first) input's shape; :class:`~cnncalc.errors.UnknownSizes` while a size is unknown."""
        return _known(self.input_dims, "the input")

    @property
    def output_dims(self) -> OpenShape:
        """The last layer's output sizes (the input's for an empty model), None where unknown."""
        return self.layers[-1].output_dims if self.layers else self.input_dims

    @property
    def output_shape(self) -> Shape:
        """The last layer's output shape (the input shape for an empty model)."""
        return _known(self.output_dims, "the output")

    @cached_property  # read per row by explain and the executor: made once
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
    def eval_layers(self) -> tuple[LayerRow, ...]:
        """The rows eval mode runs: all but the training-only ones (auxiliary classifiers)."""
        return tuple(row for row in self.layers if not row.training_only)

    def _total(self, attribute: str) -> int | None:
        # costs and activations are those of the eval-mode forward pass, as torchinfo, ptflops
        # and fvcore count a model.eval(): training-only rows are not run
        return _sum([getattr(row, attribute) for row in self.eval_layers])

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
    def total_macs(self) -> int | None:
        """Multiply-accumulates of one forward pass for one sample (bias adds not counted)."""
        return self._total("macs")

    @property
    def total_bias_adds(self) -> int | None:
        """Bias additions of one forward pass for one sample."""
        return self._total("bias_adds")

    @property
    def total_ops(self) -> int | None:
        """Elementwise non-MAC work of one forward pass for one sample."""
        return self._total("ops")

    @property
    def total_flops(self) -> int | None:
        """2*MACs + bias adds + ops, one sample."""
        return self._total("flops")

    @property
    def input_bytes(self) -> int | None:
        """Bytes of one input sample (None while a size is unknown)."""
        shape = known_shape(self.input_dims)
        return None if shape is None else math.prod(shape) * self.element_bytes

    @property
    def activation_bytes(self) -> int | None:
        """Bytes of every layer's output for one sample (a forward pass keeping them all)."""
        return self._total("activation_bytes")

    @property
    def param_bytes(self) -> int:
        """Bytes of all parameters and buffers."""
        return self.bytes_of(self.total_params + self.total_buffers)

    @property
    def estimated_total_bytes(self) -> int | None:
        """Inference estimate: input + all layer outputs + parameters and buffers (torchinfo's sum)."""
        return _sum([self.input_bytes, self.activation_bytes, self.param_bytes])

    @property
    def training_bytes(self) -> int | None:
        """Training estimate for one sample: input, outputs kept for backward, their gradients,
        parameters and buffers, parameter gradients, and Adam's two moment tensors."""
        trainable = self.bytes_of(self.trainable_params)
        kept = None if self.activation_bytes is None else 2 * self.activation_bytes
        return _sum([self.input_bytes, kept, self.param_bytes, 3 * trainable])

    def total_cost(self, count: Count = Count.MACS, bias_macs: bool = False) -> int | None:
        """Sum of :meth:`LayerRow.cost` over the layers (None when one is unknown)."""
        return _sum([row.cost(count, bias_macs) for row in self.eval_layers])

    def bytes_of(self, count: int) -> int:
        """Bytes of ``count`` elements of the summary's dtype (the figure in Keras's totals)."""
        return count * self.element_bytes

    def __repr__(self) -> str:
        """One line: what a notebook needs to recognise the model (``to_dict()`` has the rest)."""
        return (
            f"Summary(name={self.name!r}, input_shape={self.input_dims}, "
            f"output_shape={self.output_dims}, layers={len(self.layers)}, "
            f"total_params={self.total_params}, convention={self.convention.value!r}, "
            f"data_format={self.data_format.value!r})"
        )

    def result(self, key: str) -> Any:
        """One model-level result field (``MODEL_RESULTS``) as JSON carries it."""
        return _plain(getattr(self, "output_dims" if key == "output_shape" else key))

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document (a valid spec when read back): settings, the output
        shape, the layers (with what each reads, for a graph), then the model's totals."""
        return self.document(list(self.layer_dicts()))

    def layer_dicts(self) -> Iterator[dict[str, Any]]:
        """The document's layers, one at a time (with what each reads, for a graph)."""
        branches = self.branches  # a graph: every layer says what it reads, so it reads back
        for row in self.layers:
            layer = row.to_dict()
            yield {**layer, "inputs": list(row.inputs)} if branches else layer

    def document(self, layers: Any) -> dict[str, Any]:
        """:meth:`to_dict` with ``layers`` in the place of the layers (an iterator of them:
        :func:`json_pieces` writes one at a time)."""
        named = (
            {"inputs": [{"name": n, "shape": list(shape)} for n, shape in self.inputs]} if self.inputs else {}
        )
        head = {
            "name": self.name,
            "input_shape": list(self.input_dims),
            **named,
            "data_format": self.data_format.value,
            "convention": self.convention.value,
            "dtype": self.dtype,
            MODEL_RESULTS[0]: self.result(MODEL_RESULTS[0]),
        }
        stored = {} if self.stored_elements is None else {"stored_elements": self.stored_elements}
        return {**head, "layers": layers, **{key: self.result(key) for key in MODEL_RESULTS[1:]}, **stored}


def json_lines(doc: Mapping[str, Any], list_key: str = "layers") -> str:
    """A JSON object as ``--format json`` writes it: each top-level key on its own line, the
    items of ``list_key`` one per line, other objects indented (``check --update`` keeps this).

    Written by json's C encoder for the big parts (``indent=`` on everything would force the
    pure-Python one: half the time of a 10,000-layer summary).
    """
    return "".join(json_pieces(doc, list_key))


#: Items of the list per piece of :func:`json_pieces`.
PIECE_ITEMS = 500


def json_pieces(doc: Mapping[str, Any], list_key: str = "layers") -> Iterator[str]:
    """:func:`json_lines` as a generator of pieces that join to it; the value of ``list_key``
    may be an iterator (:meth:`Summary.layer_dicts`): each item is encoded as it comes, so a
    document of 100,000 layers never exists as objects, nor as one string."""
    yield "{\n"
    first = True
    for key, value in doc.items():
        lead = "  " if first else ",\n  "
        first = False
        if key == list_key and isinstance(value, (list, Iterator)):
            items = iter(value)
            block = [f"    {json.dumps(item, ensure_ascii=False)}" for item in itertools.islice(items, 1)]
            if not block:  # an empty list, as any other value
                yield f"{lead}{json.dumps(key)}: []"
                continue
            yield f"{lead}{json.dumps(key)}: [\n"
            while block:
                more = [
                    f"    {json.dumps(item, ensure_ascii=False)}"
                    for item in itertools.islice(items, PIECE_ITEMS)
                ]
                # the last item of a block waits for the next: only the last of all ends the list
                yield ",\n".join(block) + (",\n" if more else "\n  ]")
                block = more
        elif isinstance(value, dict) and value:
            nested = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            yield f"{lead}{json.dumps(key)}: {nested}"
        else:
            yield f"{lead}{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"
    yield "\n}\n"
