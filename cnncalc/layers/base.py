"""The machinery every layer kind shares: Layer, Context, LayerOutput, and what explain reads.

A kind is a frozen record of Keras-named arguments (declared in the Keras constructor's order,
which is the compact grammar's positional order) that carries its own pure behaviour: output
shape, params and costs (:meth:`Layer.compute`), receptive field, weight shapes, explain steps
and diagram category. Its numpy forward pass lives in :mod:`cnncalc.numeric.executor`.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, Field, FrozenInstanceError, dataclass, fields, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from ..enums import Category, Convention, DataFormat
from ..errors import Part, ShapeError, SizeMismatch, SpecError
from ..geometry import OpenShape, ReceptiveField, Shape, Window, fmt_shape, spatial_layout, split_channels
from ..records import record
from . import kind_of  # the registry (the package): it imports no layer module, so no cycle
from .autograd import Keep, Storage, kept_input

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..io.spec import Spec
    from ..summary import Summary
    from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchFace
    from .rules import Sizes

D = TypeVar("D")


@record(frozen=True)
class Context:
    """The model-wide settings a layer's rules depend on."""

    convention: Convention = Convention.KERAS
    data_format: DataFormat = DataFormat.CHANNELS_LAST


@record(frozen=True, eq=False, slots=True)  # records, never compared; one per layer: slotted
class LayerOutput:
    """What a layer does to a shape: its output shape, parameter counts and multiply-accumulates.

    ``non_trainable`` are parameters the framework counts but does not train (Keras BatchNorm's
    moving statistics); ``buffers`` are tensors PyTorch keeps outside ``parameters()``.
    """

    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    buffers: int = 0
    #: multiply-accumulates by weights, bias not included
    macs: int = 0
    #: one addition per output element that gets a bias
    bias_adds: int = 0
    #: elementwise work that is not a MAC: pooling comparisons/adds, activations, normalization
    ops: int = 0
    #: the resolved window geometry per spatial axis (conv/pool only)
    windows: tuple[Window, ...] = ()


@record(frozen=True, slots=True)  # several per layer in explain: slotted
class Step:
    """One line of a layer's working in ``explain``: ``label = formula = work = result``."""

    label: str
    formula: str
    work: str
    result: str


@record(frozen=True, eq=False)  # records, never compared: cheaper to define
class Worked:
    """What a layer's explain steps read: its inputs and the figures the engine computed."""

    input_shapes: tuple[Shape, ...]
    #: names of the tensors the layer reads, in order
    sources: tuple[str, ...]
    output_shape: Shape
    windows: tuple[Window, ...]
    params: int
    buffers: int
    macs: int
    ctx: Context

    @property
    def input_shape(self) -> Shape:
        """The (first) input's shape."""
        return self.input_shapes[0]


def activation_ops(name: str, elements: int) -> int:
    """Ops of an activation over ``elements`` values: 0 for linear, 3 per value for softmax
    (exp, sum, divide), 1 per value for every other elementwise function."""
    if name == "linear":
        return 0
    return 3 * elements if name in ("softmax", "log_softmax") else elements


def gated(layer: Layer, out: LayerOutput) -> LayerOutput:
    """The output after a layer's ``activation='glu'``: Keras's glu splits the last axis in two
    halves, ``a * sigmoid(b)``, so that axis halves (an odd size is an error). Other activations
    keep the shape."""
    if getattr(layer, "activation", None) != "glu":
        return out
    last = out.shape[-1]
    if last % 2:
        raise ShapeError(f"activation glu halves the last axis, which has an odd size {last}")
    return replace(out, shape=(*out.shape[:-1], last // 2))


def kind(cls: type) -> type:
    """Declare a layer kind: a dataclass of its fields, whose init, equality, hash, repr and
    frozenness come from :class:`Layer`. (``dataclass(frozen=True)`` generates and compiles all of
    those for every class; for the forty-odd kinds that alone doubled cnncalc's start-up.)"""
    return dataclass(init=False, repr=False, eq=False)(cls)


_FIELDS: dict[type, tuple[Field[Any], ...]] = {}
_NAMES: dict[type, frozenset[str]] = {}


def _fields(cls: type) -> tuple[Field[Any], ...]:
    """``dataclasses.fields`` of a kind, computed once per class (it runs several times per layer)."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = fields(cls)
    return found


class Layer:
    """Base class: a frozen record of Keras-named arguments. Subclasses are declared with
    :func:`kind`, list fields with :func:`~cnncalc.layers.args.arg`/``required``, set
    :attr:`category` and implement :meth:`compute` and :meth:`explain_steps`; names (``conv2d``,
    ``Conv2D``) live in the registry, :mod:`cnncalc.layers`."""

    #: True for merges, which read several inputs (``compute_many``)
    takes_many: ClassVar[bool] = False
    #: True for opaque rows (:mod:`cnncalc.layers.opaque`): shapes recorded, costs unknown
    opaque: ClassVar[bool] = False
    #: what the layer does, as the diagram colours it (every kind sets it)
    category: ClassVar[Category]
    #: how Keras, PyTorch and ONNX spell the kind, or why one has no such thing
    #: (:mod:`cnncalc.layers.faces`; every kind sets all three itself)
    keras_face: ClassVar[KerasFace | NoFace]
    torch_face: ClassVar[TorchFace | NoFace]
    onnx_face: ClassVar[OnnxFace | NoFace]
    #: which counting rule other tools apply to it (:mod:`cnncalc.counters`)
    counted: ClassVar[Counted]
    #: how one output of a sliding-window op comes from its window, as ``explain --window`` works
    #: it out: "dot" (weights . window + bias), "max" or "avg"; "" where that is not the story
    window_reduce: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        declared = _fields(type(self))
        if len(args) > len(declared):
            raise TypeError(f"{type(self).__name__} takes at most {len(declared)} arguments")
        values = dict(zip((f.name for f in declared), args, strict=False))
        names = _NAMES.get(type(self))
        if names is None:
            names = _NAMES[type(self)] = frozenset(f.name for f in declared)
        for name, value in kwargs.items():
            if name in values or name not in names:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated argument {name!r}")
            values[name] = value
        for f in declared:
            if f.name in values:
                value = values[f.name]
            elif f.default is not MISSING:
                value = f.default
            else:
                raise TypeError(f"{type(self).__name__} needs {f.name}")
            object.__setattr__(self, f.name, value)
        self.__post_init__()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in _fields(type(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layer) and type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in _fields(type(self)))
        return f"{type(self).__name__}({args})"

    def __post_init__(self) -> None:
        rank = getattr(self, "rank", 0)
        for f in _fields(type(self)):
            coerce = f.metadata.get("coerce")
            if coerce is None:
                continue
            try:
                object.__setattr__(self, f.name, coerce(getattr(self, f.name), rank))
            except SpecError as err:
                raise SpecError(f"{f.name}: {err.reason}") from None
        self.check()

    def check(self) -> None:
        """Validate argument combinations that no single coercer can see."""

    def includes_padding(self, ctx: Context) -> bool:
        """Whether padded zeros count as values of a window (an average pooling's choice)."""
        return False

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        """Output shape, params and MACs for an input ``shape`` (no batch axis)."""
        raise NotImplementedError

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        """The kind's size rule (:mod:`cnncalc.layers.rules`): the output's sizes from the input's,
        over the size domain ``p`` (known-or-unknown integers, solve's symbolic sizes).

        Every kind declares its own, or names the one it reuses (``sizes = Pool.sizes``): a test
        fails on a kind that would silently inherit its parent's."""
        raise ShapeError(f"{type(self).__name__} has no size rule")

    def same_hint(self, shape: Shape, ctx: Context) -> tuple[Part, ...] | None:
        """For ``padding='same'`` the convention refuses on input ``shape`` (PyTorch: strided
        windows, transposed convs): the explicit padding that gives Keras's shape; None otherwise."""
        return None

    def origin_note(self, in_dims: OpenShape) -> str | None:
        """How an error downstream names this layer's output when a size there is wrong (a
        flatten says what it flattened), None when the output needs no words."""
        return None

    def many(self) -> ManyInputs | None:
        """The layer as a merge (several inputs), None for a kind that reads one input."""
        return None

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """The tensors autograd keeps for this op's backward (:mod:`cnncalc.layers.autograd`).

        Default: every input, the rule of an op whose gradient reads what it read (PyTorch's
        ``derivatives.yaml`` saves ``self`` for most of them); kinds with another rule say so.
        """
        return tuple(kept_input(i) for i in range(len(inputs)))

    def output_storage(self, training: bool) -> Storage:
        """Whether the output is a tensor of its own, a view of the input or the input
        overwritten in place (default: its own)."""
        return Storage.NEW

    def counter_buffers(self, ctx: Context) -> int:
        """How many of the layer's buffers are int64 counters (8 bytes whatever the dtype)."""
        return 0

    def inner_spec(self) -> Spec | None:
        """The model inside a layer that is a whole model (None for every other kind)."""
        return None

    def inner_summary(self, shape: Shape, ctx: Context) -> Summary | None:
        """The inner model's summary on ``shape`` for a layer that is a whole model, else None."""
        return None

    def fan_in(self, kernel_shape: Shape) -> int:
        """Inputs that meet one output through a weight array of this shape (Keras layouts: the
        last axis is the outputs, as a conv kernel (*F, C_in/groups, K) and a dense one (in, units))."""
        return max(1, math.prod(kernel_shape[:-1]))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        """The field after this layer, or None once every output sees the whole input (global).

        Default: elementwise layers keep the field; window ops extend it.
        """
        return rf.through(out.windows) if out.windows else rf

    def weight_shapes(self, in_shape: Shape, ctx: Context) -> dict[str, Shape]:
        """Shapes of the layer's weight arrays, in Keras's layout and naming (none by default).

        Their sizes add up to the layer's params plus buffers (a test checks it for every kind).
        """
        return {}

    def refusal(self) -> str | None:
        """Why this layer cannot be run, solved or exported (an opaque row), or None (every kind
        cnncalc computes)."""
        return None

    def explain_rule(self, ctx: Context) -> str:
        """The rule that decided the output length, in one line ("" when there is none to name)."""
        return ""

    def explain_steps(self, w: Worked) -> list[Step]:
        """The layer's formulas with its numbers substituted (every kind implements it)."""
        raise NotImplementedError(f"{type(self).__name__} has no explain steps")

    def config(self) -> dict[str, Any]:
        """The layer's full arguments by their Keras names (JSON-ready; tuples become lists)."""
        out: dict[str, Any] = {}
        for f in _fields(type(self)):
            if "coerce" not in f.metadata:
                continue
            value = getattr(self, f.name)
            if f.name == "data_format" and value is None:
                continue  # None means "the model's": leave it to the model-level setting
            if value is None and f.metadata.get("omit_none"):
                continue  # an optional check that was not asked for
            out[f.name] = jsonable(value)
        return out

    @classmethod
    def declared(cls) -> tuple[Field[Any], ...]:
        """The kind's dataclass fields (its arguments, plus fixed ones such as ``rank``)."""
        return _fields(cls)  # every kind is a dataclass (see `kind`)

    @classmethod
    def arguments(cls) -> list[tuple[str, tuple[str, ...]]]:
        """(name, aliases) of every user-settable argument, in positional order."""
        return [(f.name, f.metadata["aliases"]) for f in _fields(cls) if "coerce" in f.metadata]

    def layout(self, ctx: Context) -> DataFormat:
        """The layer's own data format if it set one, else the model's."""
        own = getattr(self, "data_format", None)
        return own if isinstance(own, DataFormat) else ctx.data_format


class ManyInputs(Protocol):
    """What a merge kind (several inputs, one output) declares, and the engine and solve call."""

    def compute_many(self, shapes: list[Shape], sources: list[str], ctx: Context) -> LayerOutput:
        """Output shape and costs for several inputs; ``sources`` names where each comes from."""
        ...

    def sizes_many(self, p: Sizes[D], many: Sequence[tuple[D, ...]]) -> tuple[D, ...]:
        """The merge's size rule over several inputs (see :meth:`Layer.sizes`)."""
        ...


def declares_sizes(cls: type) -> bool:
    """True when a kind's class states its size rule itself (``sizes``, or ``sizes_many`` for a
    merge), not through a parent class."""
    return "sizes" in vars(cls) or "sizes_many" in vars(cls)


def jsonable(value: Any) -> Any:
    """A config value as JSON carries it: tuples become lists, enums their value."""
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def spatial_input(layer: Any, shape: Shape, ctx: Context) -> tuple[Shape, int, DataFormat]:
    """(spatial sizes, channels, data format) of a rank-matching input, else a clear ShapeError."""
    fmt = layer.layout(ctx)
    expect_rank(layer, shape, layer.rank + 1, spatial_layout(layer.rank, fmt), ctx)
    spatial, channels = split_channels(shape, fmt)
    return spatial, channels, fmt


def expect_rank(layer: Layer, shape: Shape, rank: int, what: str, ctx: Context) -> None:
    """A clear error when an input's rank does not fit the kind (a Conv1D gets length x channels),
    naming the class in the convention's words (PyTorch's ``Conv2d``, Keras's ``Conv2D``)."""
    if len(shape) != rank:
        raise ShapeError(
            f"{class_in(layer, ctx.convention)} expects a rank-{rank} input ({what}, no batch axis), "
            f"got {len(shape)} {'axis' if len(shape) == 1 else 'axes'} {fmt_shape(shape)}"
        )


def class_in(layer: Layer, convention: Convention) -> str:
    """The layer's class as the convention's framework names it: under pytorch the ``torch.nn``
    module of its kind and rank (``Conv2d``, ``MaxPool2d``) when PyTorch has one, else (and under
    keras) the Keras class (``Conv2D``)."""
    from .faces import rank_of, torch_face_of  # faces imports this module: imported when needed

    kind = kind_of(layer)
    face = torch_face_of(type(layer))
    if convention is Convention.PYTORCH and face is not None and face.modules:
        return face.names(rank_of(kind))[0]
    return kind.class_name


def check_size(name: str, given: int | None, actual: int, shape: Shape) -> None:
    """A declared input size (``in_channels``...) must equal the incoming one."""
    if given is not None and given != actual:
        raise SizeMismatch(name, given, actual, f"the input is {fmt_shape(shape)}")


def channels_of(layer: Layer, shape: Shape, ctx: Context) -> int:
    """The channel count of a spatial layer's input."""
    return split_channels(shape, layer.layout(ctx))[1]
