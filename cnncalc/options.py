"""Enumerations shared by the library and the CLI (one source, so ``click.Choice`` cannot drift)."""

from __future__ import annotations

from enum import Enum


class _Choice(str, Enum):
    """A string enum whose value is what users type."""

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: object, what: str):  # noqa: ANN206 - returns cls
        from .errors import SpecError

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
        return [m.value for m in cls]


class Convention(_Choice):
    """Whose shape rules and validity checks apply where Keras and PyTorch differ."""

    KERAS = "keras"
    PYTORCH = "pytorch"


class DataFormat(_Choice):
    """Where the channel axis is: ``channels_last`` (H x W x C) or ``channels_first`` (C x H x W)."""

    CHANNELS_LAST = "channels_last"
    CHANNELS_FIRST = "channels_first"


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


class Column(_Choice):
    """Optional summary table columns (JSON always carries every figure)."""

    SHAPE = "shape"
    PARAMS = "params"
    MACS = "macs"
    MEMORY = "memory"
    RF = "rf"


#: Keras's own summary columns: the default.
KERAS_COLUMNS = (Column.SHAPE, Column.PARAMS)


def default_data_format(convention: Convention) -> DataFormat:
    """Keras defaults to channels_last; PyTorch (and Theano) tensors are NCHW."""
    return DataFormat.CHANNELS_FIRST if convention is Convention.PYTORCH else DataFormat.CHANNELS_LAST


#: Bytes per element of each dtype the memory figures can be computed for.
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}


def dtype_bytes(dtype: object) -> int:
    """Bytes per element of ``dtype``; SpecError if unknown."""
    from .errors import SpecError

    if isinstance(dtype, str) and dtype in DTYPE_BYTES:
        return DTYPE_BYTES[dtype]
    raise SpecError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
