"""The memory a model needs to run or train at a batch size, by the framework's own rules.

Each kind says what its backward pass keeps and whether its output is a new storage, a view or
its input overwritten (:mod:`cnncalc.layers.autograd`); this module follows the storages through
the model in topological order and adds them up:

- ``saved_for_backward_bytes``: every storage some op keeps for backward, counted once (a view
  counts the storage it shares, in place ops share their input's), parameters left out;
- ``inference_peak_bytes``: parameters and buffers plus the activations alive at the worst
  point of the topological order (a storage lives from the op that makes it to its last reader,
  as an arena planner holds it);
- ``training_peak_bytes``: parameters, buffers, gradients, optimizer state, the saved tensors
  and the largest set of activation gradients alive at one step of the backward pass (at least
  the forward pass's own live tensors, for a model that keeps little).

Every figure is affine in the batch size on each step (per-sample bytes and fixed bytes), so
:func:`largest_batch` finds the largest batch under a budget by bisection on exact figures.
The rules and their sources: ``docs/memory.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from .enums import Convention, Device, Mixed, Optimizer
from .errors import SpecError, describe_layer
from .geometry import Shape
from .layers.autograd import Elem, Keep, Source, Storage
from .summary import LayerRow, Summary

#: State tensors per trainable parameter, each the parameter's size (torch.optim: SGD without
#: momentum keeps none; ``momentum_buffer``; Adam/AdamW ``exp_avg`` and ``exp_avg_sq``;
#: RMSprop ``square_avg`` with its defaults, momentum 0 and centered False).
OPTIMIZER_STATES = {
    Optimizer.SGD: 0,
    Optimizer.MOMENTUM: 1,
    Optimizer.ADAM: 2,
    Optimizer.ADAMW: 2,
    Optimizer.RMSPROP: 1,
}
#: Bytes of one value of each half type (mixed precision's activations).
HALF_BYTES = 2
#: Largest batch :func:`largest_batch` tries.
MAX_BATCH = 2**40


@dataclass(frozen=True)
class MemorySettings:
    """What is run: batch size, training or inference, optimizer, mixed precision, device."""

    batch: int = 1
    training: bool = False
    optimizer: Optimizer = Optimizer.ADAM
    mixed: Mixed | None = None
    device: Device = Device.CUDA


@dataclass(frozen=True, slots=True)  # several per layer: slotted (and shared where equal)
class Bytes:
    """A byte count that grows with the batch: ``per_sample * batch + fixed``."""

    per_sample: int = 0
    fixed: int = 0

    def at(self, batch: int) -> int:
        """The bytes at ``batch``."""
        return self.per_sample * batch + self.fixed

    def __add__(self, other: Bytes) -> Bytes:
        return Bytes(self.per_sample + other.per_sample, self.fixed + other.fixed)


ZERO = Bytes()


@dataclass(frozen=True, eq=False, slots=True)  # records, never compared; made as they are read
class LayerMemory:
    """One layer's part, at the report's batch size."""

    name: str
    type: str
    output_shape: Shape
    #: bytes this layer keeps for backward that no earlier layer kept already
    saved_bytes: int
    #: the output's own new storage (0 for a view or an in-place op)
    output_bytes: int
    #: activations alive while the layer runs at inference (its inputs and output included)
    live_bytes: int
    #: activation gradients alive while its backward runs
    grad_live_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """The layer as ``--format json --all`` writes it."""
        return {
            "name": self.name,
            "type": self.type,
            "output_shape": list(self.output_shape),
            "saved_for_backward_bytes": self.saved_bytes,
            "output_bytes": self.output_bytes,
            "live_bytes": self.live_bytes,
            "grad_live_bytes": self.grad_live_bytes,
        }


#: Model-level keys of the JSON document, in order (stable: documented in docs/memory.md).
MEMORY_KEYS = (
    "param_bytes",
    "buffer_bytes",
    "grad_bytes",
    "optimizer_bytes",
    "saved_for_backward_bytes",
    "inference_peak_bytes",
    "training_peak_bytes",
)


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class MemoryReport:
    """A model's memory at one batch size; ``to_dict()`` is the ``--format json`` document."""

    name: str
    settings: MemorySettings
    convention: str
    #: the activations' dtype (the half type under mixed precision)
    dtype: str
    param_bytes: int
    buffer_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    saved_for_backward_bytes: int
    inference_peak_bytes: int
    training_peak_bytes: int
    input_bytes: int
    #: the layer at which inference peaks, and the one whose backward step holds most gradients
    inference_peak_layer: str
    backward_peak_layer: str
    backward_transient_bytes: int
    #: each layer's part (:class:`LayerMemories`: made as they are read)
    layers: Sequence[LayerMemory]

    @property
    def peak_bytes(self) -> int:
        """The peak of what is run: training's with ``training``, else inference's."""
        return self.training_peak_bytes if self.settings.training else self.inference_peak_bytes

    def to_dict(self, all_layers: bool = False) -> dict[str, Any]:
        """The JSON document: settings, the stable keys, where the peaks are (layers with ``all_layers``)."""
        s = self.settings
        head = {
            "name": self.name,
            "batch": s.batch,
            "mode": "training" if s.training else "inference",
            "optimizer": s.optimizer.value,
            "dtype": self.dtype,
            "mixed": s.mixed.value if s.mixed else None,
            "device": s.device.value,
            "convention": self.convention,
        }
        figures = {key: getattr(self, key) for key in MEMORY_KEYS}
        extra = {
            "peak_bytes": self.peak_bytes,
            "input_bytes": self.input_bytes,
            "backward_transient_bytes": self.backward_transient_bytes,
            "inference_peak_layer": self.inference_peak_layer,
            "backward_peak_layer": self.backward_peak_layer,
        }
        layers = {"layers": [row.to_dict() for row in self.layers]} if all_layers else {}
        return {**head, **figures, **extra, **layers}


@dataclass(frozen=True, eq=False)
class _Plan:
    """Everything the figures need, as :class:`Bytes` (computed once per model and settings)."""

    params: Bytes
    buffers: Bytes
    grads: Bytes
    optimizer: Bytes
    saved: Bytes
    input_bytes: Bytes
    #: per layer: saved bytes attributed, output bytes, live bytes (inference), live gradients
    layer_saved: tuple[Bytes, ...]
    layer_output: tuple[Bytes, ...]
    layer_live: tuple[Bytes, ...]
    layer_grads: tuple[Bytes, ...]


def _peak(items: tuple[Bytes, ...], batch: int) -> tuple[int, int]:
    """(largest value at ``batch``, its index; -1 when there is none)."""
    best, where = 0, -1
    for i, item in enumerate(items):
        value = item.at(batch)
        if value > best:
            best, where = value, i
    return best, where


class _Storages:
    """Storages and the tensors on them: a tensor is its storage id and whether it is contiguous,
    kept as one int (``2*id + contiguous``: a tuple per tensor took 64 bytes more)."""

    def __init__(self) -> None:
        self.size: list[Bytes] = []
        self.tensors: dict[str, int] = {}
        self._equal: dict[Bytes, Bytes] = {}  # one object per distinct size

    def new(self, size: Bytes) -> int:
        self.size.append(self.shared(size))
        return len(self.size) - 1

    def shared(self, size: Bytes) -> Bytes:
        """``size``, or the equal object made before it (a model has a few distinct sizes)."""
        if len(self._equal) >= 4096:
            self._equal.clear()
        return self._equal.setdefault(size, size)

    def storage(self, name: str) -> int:
        """The storage id of a tensor."""
        return self.tensors[name] >> 1

    def output(self, name: str, mode: Storage, source: str | None, size: Bytes) -> int:
        """Place a layer's output: a new storage, or its first input's (view, in place, reshape)."""
        if source is None or mode is Storage.NEW:
            storage, contiguous = self.new(size), True
        else:
            code = self.tensors[source]
            storage, contiguous = code >> 1, bool(code & 1)
            if mode is Storage.RESHAPE and not contiguous:  # reshape of a strided tensor copies
                storage, contiguous = self.new(size), True
            else:
                contiguous = contiguous and mode is not Storage.STRIDED
        self.tensors[name] = 2 * storage + contiguous
        return storage


def _elem_bytes(elem: Elem, value: int, device: Device) -> int:
    if elem is Elem.INT64:
        return 8
    if elem is Elem.ACCUMULATE:
        return max(4, value)
    if elem is Elem.MASK and device is Device.CUDA:
        return 1
    return value


def _value_bytes(summary: Summary, settings: MemorySettings) -> tuple[int, int, str]:
    """(activation bytes, parameter bytes, activation dtype)."""
    if settings.mixed is not None:
        half = "float16" if settings.mixed is Mixed.FP16 else "bfloat16"
        return HALF_BYTES, 4, half
    return summary.element_bytes, summary.element_bytes, summary.dtype


def _rows_shapes(summary: Summary) -> dict[str, Shape]:
    shapes = dict(summary.model_inputs)
    shapes.update({row.name: row.output_shape for row in summary.layers})
    return shapes


def _sizes(value: int) -> Callable[[Shape], Bytes]:
    """``tensor_bytes(shape)``: a tensor's :class:`Bytes` at ``value`` bytes an element, one
    object per distinct shape (a model has a few; its layers share them)."""
    made: dict[Shape, Bytes] = {}

    def tensor_bytes(shape: Shape) -> Bytes:
        size = made.get(shape)
        if size is None:
            if len(made) >= 4096:
                made.clear()
            size = made[shape] = Bytes(math.prod(shape) * value, 0)
        return size

    return tensor_bytes


def plan(summary: Summary, settings: MemorySettings) -> _Plan:
    """Follow the storages through the model once; every figure as :class:`Bytes`."""
    value, param, _ = _value_bytes(summary, settings)
    ctx = summary.context
    # Training-only rows (torchvision's auxiliary classifiers) are left out: torch cannot train
    # inception_v3's at batch 1, so the figures are the network's without them (measured so);
    # their parameters are counted with the others.
    rows = summary.eval_layers
    counters = sum(row.layer.counter_buffers(ctx) for row in rows)
    trainable = summary.trainable_params
    params = Bytes(0, summary.total_params * param)
    buffers = Bytes(0, (summary.total_buffers - counters) * param + 8 * counters)
    grads = Bytes(0, trainable * param)
    optimizer = Bytes(0, trainable * param * OPTIMIZER_STATES[settings.optimizer])
    tensor_bytes = _sizes(value)
    # each pass's maps by name are its own (and gone when it ends): one at a time in memory
    saved, layer_saved, layer_output, needs_grad = _training(summary, rows, settings, value, tensor_bytes)
    layer_live = _inference_live(summary, rows, tensor_bytes)
    layer_grads = _backward_live(summary, rows, needs_grad, tensor_bytes)
    input_bytes = ZERO
    for _, shape in summary.model_inputs:
        input_bytes = input_bytes + tensor_bytes(shape)
    return _Plan(
        params,
        buffers,
        grads,
        optimizer,
        saved,
        input_bytes,
        tuple(layer_saved),
        tuple(layer_output),
        tuple(layer_live),
        tuple(layer_grads),
    )


def _training(
    summary: Summary,
    rows: tuple[LayerRow, ...],
    settings: MemorySettings,
    value: int,
    tensor_bytes: Callable[[Shape], Bytes],
) -> tuple[Bytes, list[Bytes], list[Bytes], dict[str, bool]]:
    """The storages autograd keeps, and which tensors need a gradient: (saved bytes, each
    layer's saved bytes not kept before, each layer's new output storage, needs_grad by name)."""
    shapes: dict[str, Shape] = {}  # every tensor's shape by name: made for a graph only
    train = _Storages()
    needs_grad: dict[str, bool] = {}
    for name, shape in summary.model_inputs:
        train.output(name, Storage.NEW, None, tensor_bytes(shape))
        needs_grad[name] = False
    kept = bytearray()  # per storage: 1 once some layer keeps it for backward
    layer_saved: list[Bytes] = []
    layer_output: list[Bytes] = []
    previous, shape = summary.model_inputs[0]  # a stack's layer reads the one before it
    for row in rows:
        mode = row.layer.output_storage(True)
        before = len(train.size)
        out = train.output(
            row.name, mode, row.inputs[0] if row.inputs else None, tensor_bytes(row.output_shape)
        )
        layer_output.append(train.size[out] if len(train.size) > before else ZERO)
        grad_fn = row.trainable_params > 0 or any(needs_grad[s] for s in row.inputs)
        needs_grad[row.name] = grad_fn
        own = ZERO
        if grad_fn:  # autograd records the op (and keeps tensors) only when a gradient flows
            if row.inputs == (previous,):
                inputs: tuple[Shape, ...] = (shape,)
            else:
                shapes = shapes or _rows_shapes(summary)
                inputs = tuple(shapes[s] for s in row.inputs)
            try:
                keeps = row.layer.saved_for_backward(inputs, row.output_shape, summary.context)
            except SpecError as err:
                raise err.at(describe_layer(row.index, row.spec or row.name)) from None
            for keep in keeps:
                storage = _kept_storage(keep, row, train, settings, value, summary)
                if storage is None:
                    continue
                if len(kept) <= storage:
                    kept.extend(bytes(len(train.size) - len(kept)))
                if not kept[storage]:
                    kept[storage] = 1
                    own = own + train.size[storage]
        layer_saved.append(train.shared(own))
        previous, shape = row.name, row.output_shape
    saved = ZERO
    for storage, flag in enumerate(kept):
        if flag:
            saved = saved + train.size[storage]
    return saved, layer_saved, layer_output, needs_grad


def _kept_storage(
    keep: Keep, row: LayerRow, train: _Storages, settings: MemorySettings, value: int, summary: Summary
) -> int | None:
    """The storage a kept tensor lives on (a new one for the op's own tensors); None for a
    parameter (not counted)."""
    if keep.source is Source.INPUT:
        return train.storage(row.inputs[keep.index])
    if keep.source is Source.OUTPUT:
        return train.storage(row.name)
    if keep.source is Source.WEIGHT:
        keras_copy = keep.layout_copy and summary.convention is Convention.KERAS
        if settings.mixed is None and not keras_copy:
            return None  # the parameter itself
        shapes = row.layer.weight_shapes(row.input_shape, summary.context)
        size = HALF_BYTES if settings.mixed is not None else value  # autocast's copy, or Keras's permuted one
        return train.new(Bytes(0, math.prod(shapes[keep.weight]) * size))
    size = keep.elements * _elem_bytes(keep.elem, value, settings.device)
    return train.new(Bytes(size, 0) if keep.batched else Bytes(0, size))


def _inference_live(
    summary: Summary, rows: tuple[LayerRow, ...], tensor_bytes: Callable[[Shape], Bytes]
) -> list[Bytes]:
    """Activations alive while each layer runs at inference: a storage lives from the layer that
    makes it to the last layer reading any tensor on it (to the end for a model output; the
    input, which the caller holds, throughout)."""
    store = _Storages()
    born: list[int] = []
    for name, shape in summary.model_inputs:
        store.output(name, Storage.NEW, None, tensor_bytes(shape))
        born.append(-1)
    for position, row in enumerate(rows):
        mode = row.layer.output_storage(False)
        before = len(store.size)
        store.output(row.name, mode, row.inputs[0] if row.inputs else None, tensor_bytes(row.output_shape))
        born.extend([position] * (len(store.size) - before))
    last = list(born)
    read = set()
    for position, row in enumerate(rows):
        for source in row.inputs:
            storage = store.storage(source)
            last[storage] = max(last[storage], position)
            read.add(source)
    for row in rows:
        if row.name not in read:  # a model output lives to the end
            last[store.storage(row.name)] = len(rows)
    for name, _ in summary.model_inputs:  # the caller holds the batch through the pass
        last[store.storage(name)] = len(rows)
    return _spans(len(rows), ((max(born[i], 0), last[i], size) for i, size in enumerate(store.size)))


def _spans(steps: int, spans: Iterable[tuple[int, int, Bytes]]) -> list[Bytes]:
    """The sum at each step of the sizes whose span [first, last] covers it (difference array:
    linear in steps and spans, so a 10,000-layer model stays fast)."""
    per_sample = [0] * (steps + 1)
    fixed = [0] * (steps + 1)
    for first, last, size in spans:
        if first > last or first >= steps:
            continue
        per_sample[first] += size.per_sample
        fixed[first] += size.fixed
        end = min(last, steps - 1) + 1
        per_sample[end] -= size.per_sample
        fixed[end] -= size.fixed
    out = []
    running = ZERO
    for i in range(steps):
        if per_sample[i] or fixed[i]:  # else the same as the step before: one object for both
            running = Bytes(running.per_sample + per_sample[i], running.fixed + fixed[i])
        out.append(running)
    return out


def _backward_live(
    summary: Summary,
    rows: tuple[LayerRow, ...],
    needs_grad: dict[str, bool],
    tensor_bytes: Callable[[Shape], Bytes],
) -> list[Bytes]:
    """Activation gradients alive while each layer's backward runs: a tensor's gradient exists
    from the backward of its last reader (the loss, for a model output) to its producer's."""
    position = {row.name: i for i, row in enumerate(rows)}
    last = [len(rows)] * len(rows)  # by position: the last reader's (the loss's: len(rows))
    read = bytearray(len(rows))
    for i, row in enumerate(rows):
        for source in row.inputs:
            j = position.get(source)
            if j is not None:
                last[j] = i if not read[j] else max(last[j], i)
                read[j] = 1
    spans = (
        (position[row.name], last[position[row.name]], tensor_bytes(row.output_shape))
        for row in rows
        if needs_grad[row.name]
    )
    return _spans(len(rows), spans)


def memory(
    summary: Summary,
    *,
    batch: int = 1,
    training: bool = False,
    optimizer: Optimizer | str = Optimizer.ADAM,
    mixed: Mixed | str | None = None,
    device: Device | str = Device.CUDA,
) -> MemoryReport:
    """The memory ``summary``'s model needs at ``batch`` (:class:`MemoryReport`): parameters,
    buffers, gradients, optimizer state, what autograd keeps for backward, and the inference and
    training peaks, by PyTorch's rules (``docs/memory.md``)."""
    settings = MemorySettings(
        batch=_batch(batch),
        training=training,
        optimizer=Optimizer.parse(optimizer, "optimizer"),
        mixed=None if mixed is None else Mixed.parse(mixed, "mixed"),
        device=Device.parse(device, "device"),
    )
    return report(summary, settings, plan(summary, settings))


def _batch(batch: object) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise SpecError(f"batch must be an integer from 1 to {MAX_BATCH}, got {batch!r}")
    return batch


def report(summary: Summary, settings: MemorySettings, p: _Plan) -> MemoryReport:
    """The figures of a plan at ``settings.batch``."""
    b = settings.batch
    _, _, dtype = _value_bytes(summary, settings)
    fixed = p.params.at(b) + p.buffers.at(b)
    live, live_at = _peak(p.layer_live, b)
    transient, transient_at = _peak(p.layer_grads, b)
    state = p.grads.at(b) + p.optimizer.at(b)
    rows = summary.eval_layers
    if not rows:  # an empty model holds its input
        live = p.input_bytes.at(b)
    layers = LayerMemories(rows, p, b)
    return MemoryReport(
        name=summary.name,
        settings=settings,
        convention=summary.convention.value,
        dtype=dtype,
        param_bytes=p.params.at(b),
        buffer_bytes=p.buffers.at(b),
        grad_bytes=p.grads.at(b),
        optimizer_bytes=p.optimizer.at(b),
        saved_for_backward_bytes=p.saved.at(b),
        inference_peak_bytes=fixed + live,
        training_peak_bytes=fixed + state + max(p.saved.at(b) + transient, live),
        input_bytes=p.input_bytes.at(b),
        inference_peak_layer=rows[live_at].name if live_at >= 0 else "",
        backward_peak_layer=rows[transient_at].name if transient_at >= 0 else "",
        backward_transient_bytes=transient,
        layers=layers,
    )


class LayerMemories(Sequence[LayerMemory]):
    """Each layer's :class:`LayerMemory` at a batch size, made when it is read (a report of
    100,000 layers whose table shows only the model's figures never makes them)."""

    __slots__ = ("_rows", "_plan", "_batch")

    def __init__(self, rows: tuple[LayerRow, ...], p: _Plan, batch: int) -> None:
        self._rows, self._plan, self._batch = rows, p, batch

    def __len__(self) -> int:
        return len(self._rows)

    def _at(self, i: int) -> LayerMemory:
        p, b, row = self._plan, self._batch, self._rows[i]
        return LayerMemory(
            name=row.name,
            type=row.type,
            output_shape=row.output_shape,
            saved_bytes=p.layer_saved[i].at(b),
            output_bytes=p.layer_output[i].at(b),
            live_bytes=p.layer_live[i].at(b),
            grad_live_bytes=p.layer_grads[i].at(b),
        )

    @overload
    def __getitem__(self, index: int) -> LayerMemory: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LayerMemory]: ...

    def __getitem__(self, index: int | slice) -> LayerMemory | Sequence[LayerMemory]:
        if isinstance(index, slice):
            return tuple(self._at(i) for i in range(len(self))[index])
        return self._at(range(len(self))[index])  # negative indices, IndexError as a tuple's

    def __iter__(self) -> Iterator[LayerMemory]:
        return (self._at(i) for i in range(len(self)))


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class BatchAnswer:
    """The largest batch whose peak fits ``budget`` bytes, with the reports at N and N+1.

    ``fits`` is None when even batch 1 does not fit (``above`` is then batch 1's report);
    ``above`` is None when the search stopped at :data:`MAX_BATCH`.
    """

    budget: int
    training: bool
    fits: MemoryReport | None
    above: MemoryReport | None

    @property
    def batch(self) -> int:
        """N (0 when even batch 1 does not fit)."""
        return self.fits.settings.batch if self.fits is not None else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``cnncalc solve batch``."""
        return {
            "budget_bytes": self.budget,
            "mode": "training" if self.training else "inference",
            "batch": self.batch,
            "fits": None if self.fits is None else self.fits.to_dict(),
            "next": None if self.above is None else self.above.to_dict(),
        }


def largest_batch(
    summary: Summary,
    budget: int,
    *,
    training: bool = False,
    optimizer: Optimizer | str = Optimizer.ADAM,
    mixed: Mixed | str | None = None,
    device: Device | str = Device.CUDA,
) -> BatchAnswer:
    """The largest batch N whose peak (training's or inference's) is at most ``budget`` bytes.

    The peak never falls as the batch grows (every term is affine with non-negative slopes), so
    N is found by doubling then bisection, each step an exact figure.
    """
    base = memory(summary, batch=1, training=training, optimizer=optimizer, mixed=mixed, device=device)
    p = plan(summary, base.settings)

    def at(batch: int) -> MemoryReport:
        return report(summary, MemorySettings(**{**_fields(base.settings), "batch": batch}), p)

    def fits(batch: int) -> bool:
        return _peak_only(p, training, batch) <= budget

    if base.peak_bytes > budget:
        return BatchAnswer(budget, training, None, base)
    low, high = 1, 2
    while high <= MAX_BATCH and fits(high):
        low, high = high, high * 2
    if high > MAX_BATCH:
        return BatchAnswer(budget, training, at(low), None)
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return BatchAnswer(budget, training, at(low), at(low + 1))


def _peak_only(p: _Plan, training: bool, batch: int) -> int:
    """The peak :func:`report` computes, without the per-layer records (the search's inner loop)."""
    fixed = p.params.at(batch) + p.buffers.at(batch)
    live, _ = _peak(p.layer_live, batch)
    if not training:
        return fixed + live
    transient, _ = _peak(p.layer_grads, batch)
    state = p.grads.at(batch) + p.optimizer.at(batch)
    return fixed + state + max(p.saved.at(batch) + transient, live)


def _fields(settings: MemorySettings) -> dict[str, Any]:
    return {
        "batch": settings.batch,
        "training": settings.training,
        "optimizer": settings.optimizer,
        "mixed": settings.mixed,
        "device": settings.device,
    }
