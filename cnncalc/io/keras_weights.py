"""How many values a saved Keras file stores for a layer: the shapes of its variables in an HDF5
weights file (a ``.keras`` zip's ``model.weights.h5``, an ``.h5`` file's ``model_weights``).

Only HDF5 metadata is read (each dataset's shape), never the data, and only when a custom layer
needs it: the first question walks the file once, in a child process stopped after
:data:`WEIGHTS_SECONDS` (the HDF5 C library can spin forever on a damaged file, deaf to Ctrl-C),
and answers every group's total. A stored zip member (Keras writes it so) is read in place in the
file, never read through. A damaged or missing weights file makes the count unknown, with the
reason, never an error: the layer's row says its params are unknown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO

#: Seconds the walk of a weights file may take.
WEIGHTS_SECONDS = 30.0
#: Datasets and groups visited at most (a reader bounded in time and memory).
MAX_OBJECTS = 200_000
MEMBER = "model.weights.h5"
#: Bytes a compressed ``model.weights.h5`` may inflate to (Keras stores it uncompressed, read in place).
MAX_INFLATED = 256 * 2**20

#: The child: argv[1] the path ('-': the file's bytes on stdin), argv[2], argv[3] the offset and
#: size of the HDF5 file inside it (0 0: the whole file), argv[4] the object limit. Exit 0: JSON
#: {"totals": {group: values below it}, "names": {group: its "name" attribute}}; 3: no h5py;
#: 5: too many objects; 6: damaged (the reason on stderr).
_CHILD = """
import io, json, math, sys
try:
    import h5py
except ImportError:
    sys.exit(3)
path, offset, size, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

class Window(io.RawIOBase):
    def __init__(self, raw):
        super().__init__()
        self.raw, self.position = raw, 0
    def readable(self):
        return True
    def seekable(self):
        return True
    def tell(self):
        return self.position
    def seek(self, position, whence=0):
        base = (0, self.position, size)[whence]
        self.position = max(0, base + position)
        return self.position
    def readinto(self, buffer):
        wanted = max(0, min(len(buffer), size - self.position))
        if not wanted:
            return 0
        self.raw.seek(offset + self.position)
        data = self.raw.read(wanted)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

totals, names, seen = {}, {}, 0
try:
    if path == "-":
        source = io.BytesIO(sys.stdin.buffer.read())
    elif size:
        source = Window(open(path, "rb"))
    else:
        source = path
    with h5py.File(source, "r") as handle:
        def visit(name, obj):
            global seen
            seen += 1
            if seen > limit:
                return True
            if isinstance(obj, h5py.Dataset):
                count = math.prod(obj.shape) if obj.shape is not None else 0
                parts = name.split("/")
                for depth in range(len(parts)):
                    key = "/".join(parts[:depth])
                    totals[key] = totals.get(key, 0) + count
            else:
                totals.setdefault(name, 0)
                value = obj.attrs.get("name")
                if value is not None:
                    names[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        handle.visititems(visit)
except Exception as err:
    sys.stderr.write(" ".join(str(err).split())[:200] or type(err).__name__)
    sys.exit(6)
if seen > limit:
    sys.exit(5)
json.dump({"totals": totals, "names": names}, sys.stdout)
"""

Totals = tuple[dict[str, int], dict[str, str]]


def _walk(path: str, offset: int, size: int, data: bytes, what: str = MEMBER) -> Totals | str:
    """Every group's total in the HDF5 file at ``path`` (or ``data``), or why it is unknown."""
    import subprocess
    import sys

    try:
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, path, str(offset), str(size), str(MAX_OBJECTS)],
            input=data,
            capture_output=True,
            timeout=WEIGHTS_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return f"the HDF5 library took longer than {WEIGHTS_SECONDS:g} s on {what} (damaged?)"
    except OSError as err:
        return f"{what} cannot be read ({err.strerror or err})"
    reason = child.stderr.decode("utf-8", "replace").strip()
    problems = {
        3: f"reading {what} needs h5py: pip install 'cnncalc[h5]'",
        5: f"{what} holds more than {MAX_OBJECTS:,} objects",
        6: f"{what} is not a readable HDF5 file ({reason[:120]})",
    }
    if child.returncode != 0:
        return problems.get(child.returncode, f"the HDF5 library failed on {what} (exit {child.returncode})")
    try:
        found = json.loads(child.stdout)
        return dict(found["totals"]), dict(found["names"])
    except (ValueError, KeyError, TypeError):
        return f"the walk of {what} gave no answer"


def zip_member_totals(file: str | IO[bytes]) -> Totals | str:
    """The totals of ``model.weights.h5`` in a ``.keras`` zip (a path, or the bytes of standard
    input as a file object): a stored member is walked in place, a compressed one from its bytes."""
    import struct
    import zipfile

    from .files import zip_errors

    errors: tuple[type[BaseException], ...] = (OSError, ValueError, *zip_errors())
    try:
        with zipfile.ZipFile(file) as archive:
            info = archive.NameToInfo.get(MEMBER)
            if info is None:
                return f"the .keras file holds no {MEMBER}"
            if info.flag_bits & 0x1:
                return f"its {MEMBER} is encrypted"
            if info.compress_type == zipfile.ZIP_STORED:
                raw = open(file, "rb") if isinstance(file, str) else file  # noqa: SIM115
                try:
                    raw.seek(info.header_offset)
                    header = raw.read(30)
                finally:
                    if isinstance(file, str):
                        raw.close()
                if len(header) == 30 and header[:4] == b"PK\x03\x04":
                    names, extra = struct.unpack("<HH", header[26:30])
                    offset = info.header_offset + 30 + names + extra
                    if isinstance(file, str):
                        return _walk(file, offset, info.file_size, b"")
                    file.seek(offset)
                    return _walk("-", 0, 0, file.read(info.file_size))
            with archive.open(info) as member:  # compressed (Keras does not write it so)
                # Inflated through a counting limit, never trusting the declared size: a small
                # member may inflate to gigabytes.
                data = member.read(MAX_INFLATED + 1)
                if len(data) > MAX_INFLATED:
                    return f"its compressed {MEMBER} inflates to more than {MAX_INFLATED // 2**20} MiB"
                return _walk("-", 0, 0, data)
    except errors as err:
        return f"{MEMBER} cannot be read from the zip ({str(err)[:120]})"


def h5_totals(path: str, data: bytes) -> Totals | str:
    """The totals of an ``.h5`` file (a path, or ``-`` with its bytes)."""
    return _walk(path, 0, 0, data, "the .h5 file's weights")


class LazyTotals:
    """A :data:`~cnncalc.io.keras_opaque.WeightCounter` whose file is walked on the first
    question (a model without custom layers never walks it)."""

    def __init__(self, load: Callable[[], Totals | str]) -> None:
        self.load = load
        self.found: Totals | str | None = None

    def __call__(self, path: tuple[str, ...], name: str) -> int | str:
        if self.found is None:
            self.found = self.load()
        if isinstance(self.found, str):
            return self.found
        totals, names = self.found
        key = "/".join(path)
        if key not in totals:
            return f"the weights file has no group {key}"
        recorded = names.get(f"{key}/vars")  # Keras 3 writes the layer's name there
        if recorded is not None and recorded != name:
            return f"the weights file's group {key} holds layer {recorded[:80]!r}"
        return totals[key]
