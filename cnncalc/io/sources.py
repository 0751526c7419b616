"""Model sources for ``-f``: each file format has a reader that turns its bytes into a Spec.

The format is chosen by content (and extension), or forced with ``--from``
(:class:`~cnncalc.enums.SourceFormat`). A file no reader recognises gets one line that says which
formats cnncalc reads, never a codec error. Readers that need an optional package import it inside
the reader and say which ``pip install`` adds it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..enums import SourceFormat
from ..errors import SpecError
from .document import loads
from .files import decode, read_bytes, source_name
from .spec import Spec

Reader = Callable[[bytes, str], Spec]

#: What each format is, for messages.
DESCRIPTIONS = {
    SourceFormat.JSON: "JSON specs (cnncalc's own, its JSON output, Keras model.to_json())",
}


def _read_json(data: bytes, name: str) -> Spec:
    return loads(decode(data, name), source_name(name))


READERS: dict[SourceFormat, Reader] = {
    SourceFormat.JSON: _read_json,
}


def detect(data: bytes, name: str) -> SourceFormat:
    """The format of a source by its content (and extension); SpecError when no reader knows it."""
    head = data.lstrip()[:1]
    if head in (b"{", b"[") or not data.strip():
        return SourceFormat.JSON  # an empty source is a JSON error that says so
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return SourceFormat.JSON  # text: the JSON reader says what is wrong with it
    known = "; ".join(DESCRIPTIONS[f] for f in SourceFormat)
    raise SpecError(f"cannot read {source_name(name)}: not a format cnncalc reads ({known})")


def read_spec(path: str, fmt: SourceFormat | None = None) -> Spec:
    """The Spec in a file ('-' is standard input), read as ``fmt`` or as its content says."""
    data = read_bytes(path)
    return READERS[fmt or detect(data, path)](data, path)
