"""Model sources for ``-f``: each file format has a reader that turns it into a Spec.

The format is chosen by content (and extension), or forced with ``--from``
(:class:`~cnncalc.enums.SourceFormat`). A file no reader recognises gets one line that says which
formats cnncalc reads, never a codec error. Readers that need an optional package import it inside
the reader and say which ``pip install`` adds it.

Binary model files (``.keras`` zips, ``.h5``) are opened by path and only the part that describes
the model is read, never the weights: time and memory do not grow with the weights' size.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from typing import IO, Any

from ..enums import SourceFormat
from ..errors import Option, SpecError
from .document import loads
from .files import MAX_SPEC_BYTES, decode, open_regular, read_bytes, read_head, source_name
from .spec import Spec

Reader = Callable[[bytes, str], Spec]
#: A reader of a binary container, given the open file (a path, or standard input's bytes as a
#: file object) and the name messages use.
FileReader = Callable[[str | IO[bytes], str], Spec]
#: A reader that computes shapes while reading, so it needs the input shape given with the model.
ShapedReader = Callable[[bytes, str, "tuple[int, ...] | None", "NamedShapes"], Spec]

#: ONNX files carry their weights (VGG16's is 528 MiB): read up to protobuf's own 2 GiB limit.
MAX_ONNX_BYTES = 2 * 2**30

#: What each format is, for messages.
DESCRIPTIONS = {
    SourceFormat.JSON: "JSON specs (cnncalc's own, its JSON output, Keras model.to_json())",
    SourceFormat.KERAS: "Keras .keras files",
    SourceFormat.H5: "Keras .h5 files",
    SourceFormat.ONNX: "ONNX models (.onnx)",
    SourceFormat.PYTHON: "Python model code (.py: Keras, PyTorch, network3), read without running it",
}

#: Signatures at the start of a file: zip (a .keras file; an empty zip too), HDF5.
MAGIC = (
    (b"PK\x03\x04", SourceFormat.KERAS),
    (b"PK\x05\x06", SourceFormat.KERAS),
    (b"\x89HDF\r\n\x1a\n", SourceFormat.H5),
)


def _read_json(data: bytes, name: str) -> Spec:
    return loads(decode(data, name), source_name(name))


def _read_onnx(data: bytes, name: str, input_shape: tuple[int, ...] | None, inputs: NamedShapes = ()) -> Spec:
    from .onnx import read_onnx

    return read_onnx(data, name, input_shape, inputs)


#: ``name=shape`` items of a named-inputs ``--input`` (``a=3x224x224,b=10``): a name, then sizes
#: up to the next ``,name=``.
_NAMED = r"\s*([^=,\s][^=,]*?)\s*=\s*([^=]*?)\s*(?:,(?=[^=,]+=)|$)"  # compiled when used

NamedShapes = tuple[tuple[str, tuple[int, ...]], ...]


def named_shapes(text: str, what: str = "input_shape") -> NamedShapes:
    """``a=3x224x224,b=10`` -> (("a", (3, 224, 224)), ("b", (10,))): the shapes of named model
    inputs (ONNX graphs with several inputs), each without its batch axis."""
    from ..layers.args import shape

    out: list[tuple[str, tuple[int, ...]]] = []
    pos = 0
    while pos < len(text):
        match = re.compile(_NAMED).match(text, pos)
        if match is None or match.end() == pos:
            raise SpecError(f"{what}: expected name=SHAPE[,name=SHAPE...], got {text!r}")
        name, sizes = match.group(1), match.group(2)
        out.append((name, tuple(shape(sizes, f"{what} of {name!r}"))))
        pos = match.end()
    if not out or len({n for n, _ in out}) < len(out):
        raise SpecError(f"{what}: each input named once, got {text!r}")
    return tuple(out)


def _map_onnx(path: str, input_shape: tuple[int, ...] | None, inputs: NamedShapes = ()) -> Spec:
    """An ONNX file read through a memory map: the reader touches the graph's pages and skips
    the weights', so memory stays O(graph) whatever the file's size."""
    import mmap

    from .onnx import read_onnx

    fd = open_regular(path)
    try:
        size = os.fstat(fd).st_size
        if size > MAX_ONNX_BYTES:
            raise SpecError(f"{path} is larger than {MAX_ONNX_BYTES // 2**20} MiB")
        if size == 0:
            return read_onnx(b"", path, input_shape, inputs)
        try:
            view = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as err:
            raise SpecError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
        try:
            return read_onnx(view, path, input_shape, inputs)
        finally:
            view.close()
    finally:
        os.close(fd)


def _read_python(
    data: bytes, name: str, model_name: str | None = None, input_shape: tuple[int, ...] | None = None
) -> Spec:
    from .python_source import read_python  # ast is loaded only when model code is read

    return read_python(decode(data, name), source_name(name), model_name, input_shape)


READERS: dict[SourceFormat, Reader] = {
    SourceFormat.JSON: _read_json,
    SourceFormat.PYTHON: _read_python,
}
SHAPED_READERS: dict[SourceFormat, ShapedReader] = {
    SourceFormat.ONNX: _read_onnx,
}


def looks_like_onnx(data: bytes, name: str) -> bool:
    """ONNX has no magic bytes: the ``.onnx`` extension, or a ModelProto's usual opening (field 1,
    ir_version, a small varint, then a field such as opset_import or producer_name)."""
    if name.lower().endswith(".onnx"):
        return True
    return (
        len(data) > 4 and data[0] == 0x08 and 1 <= data[1] <= 20 and data[2] in (0x12, 0x1A, 0x22, 0x3A, 0x42)
    )


#: Text that is Python rather than JSON: an import, or a model constructor call.
_PYTHON_TEXT = rb"(?m)^\s*(import|from)\s+\w|(Sequential|Network|Model)\s*\("  # compiled when used


def _read_keras(file: str | IO[bytes], name: str) -> Spec:
    """A Keras ``.keras`` file: a zip whose ``config.json`` is the model's serialization (its
    ``model.weights.h5`` is read only for a custom layer's params: dataset shapes, in a child).

    ``config.json`` is read through a counting limit (at most MAX_SPEC_BYTES inflated, in 1 MiB
    steps), never trusting the size the zip declares: a small member that inflates to gigabytes
    is refused after the limit, with the memory of one step."""
    import zipfile

    from .files import zip_errors

    shown = source_name(name)
    data: bytes | None = None
    info: Any = None
    empty = False
    try:
        with zipfile.ZipFile(file) as archive:
            empty = not archive.infolist()
            info = archive.NameToInfo.get("config.json")
            if info is not None and not info.flag_bits & 0x1:  # bit 0: encrypted
                data = _read_member(archive, info, shown)
    except OSError as err:  # BadZipFile is not one: zipfile's own errors come next
        raise SpecError(f"cannot read {shown}: {err.strerror or err}") from None
    except zip_errors() as err:
        raise SpecError(f"cannot read {shown}: not a complete zip file ({err})") from None
    if empty:
        raise SpecError(f"cannot read {shown}: the zip is empty, so it is not a Keras .keras file")
    if info is None:
        raise SpecError(
            f"cannot read {shown}: the zip holds no config.json, so it is not a Keras .keras file"
        )
    if data is None:
        raise SpecError(f"cannot read {shown}: its config.json is encrypted (a password-protected zip)")
    from .keras_opaque import Reading, Weights
    from .keras_weights import LazyTotals, zip_member_totals

    weights = LazyTotals(lambda: zip_member_totals(file))
    reading = Reading(Weights(weights, by_name=False))
    return loads(decode(data, f"{shown} config.json"), f"{shown} config.json", reading)


def _read_member(archive: Any, info: Any, shown: str) -> bytes:
    """A zip member's bytes, at most MAX_SPEC_BYTES of them counted as they inflate."""
    chunks = []
    total = 0
    with archive.open(info) as member:
        while chunk := member.read(2**20):
            total += len(chunk)
            if total > MAX_SPEC_BYTES:
                raise SpecError(
                    f"cannot read {shown}: its config.json is larger than {MAX_SPEC_BYTES // 2**20} MiB"
                )
            chunks.append(chunk)
    return b"".join(chunks)


#: Seconds an ``.h5`` file's model description may take to read. The HDF5 C library can spin
#: forever on a damaged file, deaf to Ctrl-C: it is read in a child process, stopped after this.
H5_SECONDS = 30.0
#: What the child process runs: argv[1] the path ('-': the bytes on its stdin), argv[2] the size
#: limit. Exit 0: model_config on stdout; 3: no h5py; 4: no model_config; 5: too large; 6: damaged.
_H5_CHILD = """
import io, sys
try:
    import h5py
except ImportError:
    sys.exit(3)
path, limit = sys.argv[1], int(sys.argv[2])
try:
    with h5py.File(io.BytesIO(sys.stdin.buffer.read()) if path == "-" else path, "r") as handle:
        if "model_config" not in handle.attrs:
            sys.exit(4)
        if handle.attrs.get_id("model_config").get_storage_size() > limit:
            sys.exit(5)
        config = handle.attrs["model_config"]
except Exception as err:
    sys.stderr.write(" ".join(str(err).split())[:300] or type(err).__name__)
    sys.exit(6)
data = config if isinstance(config, bytes) else str(config).encode("utf-8", "surrogatepass")
if len(data) > limit:
    sys.exit(5)
sys.stdout.buffer.write(data)
"""


def _read_h5(file: str | IO[bytes], name: str) -> Spec:
    """A Keras ``.h5`` file: the ``model_config`` attribute of its root (h5py reads only that),
    read in a child process within :data:`H5_SECONDS` and MAX_SPEC_BYTES (and, for a custom
    layer's params, the dataset shapes under ``model_weights``, likewise)."""
    import importlib.util
    import subprocess
    import sys

    shown = source_name(name)
    if importlib.util.find_spec("h5py") is None:
        raise SpecError(f"cannot read {shown}: .h5 files need h5py: pip install 'cnncalc[h5]'")
    path, stdin = (file, b"") if isinstance(file, str) else ("-", file.read())
    try:
        child = subprocess.run(
            [sys.executable, "-c", _H5_CHILD, path, str(MAX_SPEC_BYTES)],
            input=stdin,
            capture_output=True,
            timeout=H5_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise SpecError(
            f"cannot read {shown}: the HDF5 library took longer than {H5_SECONDS:g} s on it (a damaged file)"
        ) from None
    except OSError as err:
        raise SpecError(f"cannot read {shown}: {err.strerror or err}") from None
    reason = child.stderr.decode("utf-8", "replace").strip()
    problems = {
        3: ".h5 files need h5py: pip install 'cnncalc[h5]'",
        4: "the HDF5 file holds no Keras model (no model_config attribute; files written by save_weights have none)",
        5: f"its model_config is larger than {MAX_SPEC_BYTES // 2**20} MiB",
        6: f"not a readable HDF5 file ({reason})",
    }
    if child.returncode != 0:
        problem = problems.get(child.returncode, f"the HDF5 library failed on it (exit {child.returncode})")
        raise SpecError(f"cannot read {shown}: {problem}")
    config = decode(child.stdout, f"{shown} model_config")
    from .keras_opaque import Reading, Weights
    from .keras_weights import LazyTotals, h5_totals

    weights = LazyTotals(lambda: h5_totals(path, stdin))
    reading = Reading(Weights(weights, by_name=True, root=("model_weights",)))
    return loads(config, f"{shown} model_config", reading)


FILE_READERS: dict[SourceFormat, FileReader] = {
    SourceFormat.KERAS: _read_keras,
    SourceFormat.H5: _read_h5,
}


def sniff(head: bytes) -> SourceFormat | None:
    """The binary format whose signature ``head`` starts with, or None."""
    for magic, fmt in MAGIC:
        if head.startswith(magic):
            return fmt
    return None


def detect(data: bytes, name: str) -> SourceFormat:
    """The format of a source by its content (and extension); SpecError when no reader knows it."""
    binary = sniff(data)
    if binary is not None:
        return binary
    if looks_like_onnx(data, name):
        return SourceFormat.ONNX
    head = data.lstrip()[:1]
    if name.lower().endswith((".py", ".pyw")):
        return SourceFormat.PYTHON
    if head not in (b"{", b"[") and re.search(_PYTHON_TEXT, data[:65536]):
        return SourceFormat.PYTHON
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


def read_spec(
    path: str,
    fmt: SourceFormat | None = None,
    input_shape: tuple[int, ...] | None = None,
    model_name: str | None = None,
    inputs: NamedShapes = (),
) -> Spec:
    """The Spec in a file ('-' is standard input), read as ``fmt`` or as its content says;
    ``input_shape`` (no batch axis) is for readers that compute shapes while reading (ONNX), and
    ``inputs`` the shapes of named inputs of a graph with several;
    ``model_name`` picks one of several models in Python model code."""
    if path != "-":
        fmt = fmt or sniff(read_head(path))
        if fmt in FILE_READERS:
            return _no_model_name(FILE_READERS[fmt](path, path), model_name, path, fmt)
    onnx = fmt is SourceFormat.ONNX or (fmt is None and path.lower().endswith(".onnx"))
    if path != "-" and (onnx or (fmt is None and looks_like_onnx(read_head(path, 8), path))):
        return _no_model_name(_map_onnx(path, input_shape, inputs), model_name, path, SourceFormat.ONNX)
    data = read_bytes(path, MAX_ONNX_BYTES if onnx else None)
    fmt = fmt or detect(data, path)
    if fmt in FILE_READERS:
        return _no_model_name(FILE_READERS[fmt](io.BytesIO(data), path), model_name, path, fmt)
    if fmt in SHAPED_READERS:
        return _no_model_name(SHAPED_READERS[fmt](data, path, input_shape, inputs), model_name, path, fmt)
    if inputs:
        raise SpecError(f"{source_name(path)}: named input shapes are for ONNX graphs with several inputs")
    if fmt is SourceFormat.PYTHON:
        return _read_python(data, path, model_name, input_shape)
    return _no_model_name(READERS[fmt](data, path), model_name, path, fmt)


def _no_model_name(spec: Spec, model_name: str | None, path: str, fmt: SourceFormat) -> Spec:
    if model_name is not None:
        raise SpecError(
            Option("model_name"), f" picks a model in Python code; {source_name(path)} is {fmt.value}"
        )
    return spec
