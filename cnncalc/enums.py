"""Enumerations shared by the library and the CLI (one source, so ``click.Choice`` cannot drift).

Every closed set of words the code compares is an enum here: conventions, data formats, padding
modes, transposed-conv rules, statuses, output formats, columns and the diagram's categories.
Each is a ``str`` enum whose value is what users type and what JSON carries.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from .errors import SpecError

_C = TypeVar("_C", bound="_Choice")


class _Choice(str, Enum):
    """A string enum whose value is what users type."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def parse(cls: type[_C], value: object, what: str) -> _C:
        """The member whose value is ``value`` (case-insensitive); SpecError naming ``what`` otherwise."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            for member in cls:
                if member.value == value.strip().lower():
                    return member
        choices = ", ".join(m.value for m in cls)
        raise SpecError(f"{what} must be one of {choices}, got {value!r}")

    @classmethod
    def values(cls) -> list[str]:
        """Every member's value, in declaration order."""
        return [m.value for m in cls]


class Convention(_Choice):
    """Whose shape rules and validity checks apply where Keras and PyTorch differ."""

    KERAS = "keras"
    PYTORCH = "pytorch"

    @classmethod
    def parse(cls, value: object, what: str) -> Convention:
        """Also the frameworks' other names: ``torch`` is PyTorch's, ``tf.keras``/``tensorflow`` Keras's."""
        if isinstance(value, str) and value.strip().lower() in CONVENTION_SYNONYMS:
            return cls(CONVENTION_SYNONYMS[value.strip().lower()])
        return super().parse(value, what)


#: Other names users give the conventions.
CONVENTION_SYNONYMS = {"torch": "pytorch", "tf.keras": "keras", "tensorflow": "keras"}


class DataFormat(_Choice):
    """Where the channel axis is: ``channels_last`` (H x W x C) or ``channels_first`` (C x H x W)."""

    CHANNELS_LAST = "channels_last"
    CHANNELS_FIRST = "channels_first"

    @classmethod
    def parse(cls, value: object, what: str) -> DataFormat:
        """Also PyTorch's and ONNX's layout names: NCHW (NCW, NCDHW) and NHWC (NWC, NDHWC)."""
        if isinstance(value, str) and value.strip().upper() in DATA_FORMAT_SYNONYMS:
            return cls(DATA_FORMAT_SYNONYMS[value.strip().upper()])
        return super().parse(value, what)


#: Layout names PyTorch, ONNX and TensorFlow use, as data formats.
DATA_FORMAT_SYNONYMS = {
    "NCW": "channels_first",
    "NCHW": "channels_first",
    "NCDHW": "channels_first",
    "NWC": "channels_last",
    "NHWC": "channels_last",
    "NDHWC": "channels_last",
}


class OutputFormat(_Choice):
    """How a summary is printed."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"
    HTML = "html"


class Count(_Choice):
    """What the cost column counts: multiply-accumulates or floating-point operations."""

    MACS = "macs"
    FLOPS = "flops"


class Counter(_Choice):
    """Whose counting rules a cost figure follows (``summary --counter``, ``cnncalc counters``)."""

    CNNCALC = "cnncalc"
    TORCHINFO = "torchinfo"
    FVCORE = "fvcore"
    PTFLOPS = "ptflops"
    THOP = "thop"
    TORCH = "torch"


class Column(_Choice):
    """Optional summary table columns (JSON always carries every figure)."""

    SHAPE = "shape"
    PARAMS = "params"
    MACS = "macs"
    MEMORY = "memory"
    RF = "rf"


class PaddingMode(_Choice):
    """Padding given by name (explicit integer padding is a tuple of (before, after) pairs instead)."""

    VALID = "valid"
    SAME = "same"
    #: Keras ``Conv1D(padding='causal')``: F_eff - 1 zeros on the left only
    CAUSAL = "causal"


class TransposedRule(_Choice):
    """Which length formula a transposed-conv axis followed."""

    KERAS = "keras"
    PYTORCH = "pytorch"


class CheckStatus(_Choice):
    """The outcome of checking one spec."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


class VerifyStatus(_Choice):
    """The outcome of running one layer through the executor."""

    OK = "ok"
    MISMATCH = "mismatch"
    NOT_RUN = "not run"
    #: an opaque row: recorded shapes, nothing to run or compare (not a difference)
    OPAQUE = "opaque"


class Category(_Choice):
    """What a layer does, as the diagram colours it."""

    INPUT = "input"
    CONV = "conv"
    POOL = "pool"
    DENSE = "dense"
    NORM = "norm"
    MERGE = "merge"
    RESHAPE = "reshape"
    ELEMENTWISE = "elementwise"
    #: a recorded op cnncalc has no kind for (an opaque row)
    OPAQUE = "opaque"


class SourceFormat(_Choice):
    """What a model file (``-f``) holds; each has a reader in :mod:`cnncalc.io.sources`."""

    #: a cnncalc JSON spec, ``--format json`` output, or a Keras ``model.to_json()`` document
    JSON = "json"
    #: a Keras ``.keras`` file: a zip whose ``config.json`` is read (never the weights)
    KERAS = "keras"
    #: a Keras ``.h5`` (HDF5) file: its ``model_config`` attribute (needs h5py)
    H5 = "h5"
    #: an ONNX model (``.onnx``): the graph and initializer dims, never run
    ONNX = "onnx"
    #: Python model code (Keras, PyTorch, network3), read with ``ast``, never imported or executed
    PYTHON = "python"


class Operator(_Choice):
    """The elementwise ``keras.ops`` call of an ``operation`` layer (a tensor and a constant)."""

    ADD = "add"
    SUBTRACT = "subtract"
    MULTIPLY = "multiply"
    DIVIDE = "divide"
    POWER = "power"
    MAXIMUM = "maximum"
    MINIMUM = "minimum"


class DepthOrder(_Choice):
    """How a pixel shuffle orders the channels it moves into space (ONNX DepthToSpace's ``mode``).

    ``crd`` (column, row, depth): channel ``c*r*r + i*r + j`` goes to block offset (i, j) of
    output channel c, as PyTorch's ``PixelShuffle``/``PixelUnshuffle`` do. ``dcr`` (depth, column,
    row): channel ``(i*r + j)*C + c``, as TensorFlow's ``depth_to_space`` and ONNX's default
    ``DepthToSpace``/``SpaceToDepth`` do.
    """

    CRD = "crd"
    DCR = "dcr"


class Framework(_Choice):
    """A framework a kind has a face in (its spelling there): :mod:`cnncalc.layers.faces`."""

    KERAS = "keras"
    PYTORCH = "pytorch"
    ONNX = "onnx"


class ExportTarget(_Choice):
    """Which framework's code ``cnncalc export`` writes."""

    KERAS = "keras"
    PYTORCH = "pytorch"


#: Keras's own summary columns: the default.
KERAS_COLUMNS = (Column.SHAPE, Column.PARAMS)


def default_data_format(convention: Convention) -> DataFormat:
    """Keras defaults to channels_last; PyTorch (and Theano) tensors are NCHW."""
    return DataFormat.CHANNELS_FIRST if convention is Convention.PYTORCH else DataFormat.CHANNELS_LAST


#: Bytes per element of each dtype the memory figures can be computed for.
class Optimizer(_Choice):
    """The optimizer whose state ``cnncalc memory`` counts (per trainable parameter)."""

    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"
    ADAMW = "adamw"
    RMSPROP = "rmsprop"


class Mixed(_Choice):
    """Mixed precision: activations in a half type, fp32 master weights (``torch.autocast``)."""

    FP16 = "fp16"
    BF16 = "bf16"


class Device(_Choice):
    """Where the model runs, for the few rules that differ (dropout's mask)."""

    CUDA = "cuda"
    CPU = "cpu"


DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


def dtype_bytes(dtype: object) -> int:
    """Bytes per element of ``dtype``; SpecError if unknown."""
    if isinstance(dtype, str) and dtype in DTYPE_BYTES:
        return DTYPE_BYTES[dtype]
    raise SpecError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
