"""How many values a saved Keras file stores for a layer: the shapes of its variables in an HDF5
weights file (a ``.keras`` zip's ``model.weights.h5``, an ``.h5`` file's ``model_weights``).

Only HDF5 metadata is read (each dataset's shape), never the data, and only when a custom layer
needs it. A damaged or missing weights file makes the count unknown, with the reason, never an
error: the layer's row says its params are unknown.
"""

from __future__ import annotations

import io
import math
import struct
from typing import IO, Any

#: Datasets and groups visited under one layer at most (a reader bounded in time).
MAX_OBJECTS = 100_000


def count_values(handle: Any, path: tuple[str, ...], name: str) -> int | str:
    """The values stored under ``path`` of an open ``h5py.File`` (every dataset below it), or
    why that is unknown. Keras 3 writes the layer's name on its ``vars`` group: when it does,
    it must be ``name`` (else the group is another layer's)."""
    import h5py  # type: ignore[import-untyped, import-not-found, unused-ignore]  # no stubs

    key = "/".join(path)
    try:
        group = handle.get(key)
        if not isinstance(group, h5py.Group):
            return f"the weights file has no group {key}"
        own = group.get("vars")
        recorded = own.attrs.get("name") if isinstance(own, h5py.Group) else None
        if isinstance(recorded, bytes):
            recorded = recorded.decode("utf-8", "replace")
        if recorded is not None and str(recorded) != name:
            return f"the weights file's group {key} holds layer {str(recorded)[:80]!r}"
        total = 0
        seen = 0

        def visit(_: str, obj: Any) -> bool | None:
            nonlocal total, seen
            seen += 1
            if seen > MAX_OBJECTS:
                return True  # stops the walk
            if isinstance(obj, h5py.Dataset) and obj.shape is not None:
                total += math.prod(obj.shape)
            return None

        group.visititems(visit)
    except Exception as err:  # noqa: BLE001 - h5py raises many kinds of error on damaged metadata
        return f"the weights file is damaged ({str(err)[:80]})"
    if seen > MAX_OBJECTS:
        return f"the weights file holds more than {MAX_OBJECTS} objects under {key}"
    return total


class _Window(io.RawIOBase):
    """Bytes ``[offset, offset + size)`` of a file, as a file of their own: a stored (uncompressed)
    zip member read in place, so seeking to HDF5 metadata never reads the data before it (Python's
    own zip member file reads everything it seeks past)."""

    def __init__(self, raw: IO[bytes], offset: int, size: int) -> None:
        super().__init__()
        self.raw, self.offset, self.size, self.position = raw, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + position)
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = max(0, min(len(buffer), self.size - self.position))
        if not wanted:
            return 0
        self.raw.seek(self.offset + self.position)
        data = self.raw.read(wanted)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def _stored_member(path: str, info: Any) -> _Window | None:
    """A stored member of the zip at ``path`` as a window on the file, or None when it is
    compressed or its local header is not where the directory says."""
    import zipfile

    if info.compress_type != zipfile.ZIP_STORED:
        return None
    raw = open(path, "rb")  # noqa: SIM115 - closed with the window
    raw.seek(info.header_offset)
    header = raw.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raw.close()
        return None
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return _Window(raw, info.header_offset + 30 + name_length + extra_length, info.file_size)


class ZipWeights:
    """The ``model.weights.h5`` member of an open ``.keras`` zip, opened on first use (a model
    without custom layers never opens it). Use as a context manager; it closes what it opened.
    ``path`` (when the zip is a file) lets a stored member be read in place."""

    MEMBER = "model.weights.h5"

    def __init__(self, archive: Any, path: str | None = None) -> None:
        self.archive = archive
        self.path = path
        self.handle: Any = None
        self.stream: io.RawIOBase | IO[bytes] | None = None
        self.error: str | None = None

    def __enter__(self) -> ZipWeights:
        return self

    def __exit__(self, *exc: object) -> None:
        for closing in (self.handle, self.stream):
            if closing is not None:
                try:
                    closing.close()
                except Exception:  # noqa: BLE001, S110 - closing a damaged file: nothing left to do
                    pass

    def _open(self) -> str | None:
        try:
            import h5py  # type: ignore[import-untyped, import-not-found, unused-ignore]  # no stubs
        except ImportError:
            return "reading model.weights.h5 needs h5py: pip install 'cnncalc[h5]'"
        try:
            info = self.archive.getinfo(self.MEMBER)
        except KeyError:
            return f"the .keras file holds no {self.MEMBER}"
        try:
            window = _stored_member(self.path, info) if self.path is not None else None
            self.stream = window if window is not None else self.archive.open(info)
            self.handle = h5py.File(self.stream, "r")
        except Exception as err:  # noqa: BLE001 - zipfile and h5py both raise many kinds
            return f"{self.MEMBER} is not a readable HDF5 file ({str(err)[:80]})"
        return None

    def __call__(self, path: tuple[str, ...], name: str) -> int | str:
        if self.handle is None and self.error is None:
            self.error = self._open()
        if self.error is not None:
            return self.error
        return count_values(self.handle, path, name)
