"""How many values a saved Keras file stores for a layer: the shapes of its variables in an HDF5
weights file (a ``.keras`` zip's ``model.weights.h5``, an ``.h5`` file's ``model_weights``).

Only HDF5 metadata is read (each dataset's shape), never the data, and only when a custom layer
needs it. A damaged or missing weights file makes the count unknown, with the reason, never an
error: the layer's row says its params are unknown.
"""

from __future__ import annotations

import math
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


class ZipWeights:
    """The ``model.weights.h5`` member of an open ``.keras`` zip, opened on first use (a model
    without custom layers never opens it). Use as a context manager; it closes what it opened."""

    MEMBER = "model.weights.h5"

    def __init__(self, archive: Any) -> None:
        self.archive = archive
        self.handle: Any = None
        self.stream: IO[bytes] | None = None
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
            self.stream = self.archive.open(info)  # a stored member seeks without reading the rest
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
