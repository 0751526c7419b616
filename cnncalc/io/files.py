"""Reading spec files and standard input within the size limit, and writing files atomically.

Only regular files (and standard input) are read: a FIFO, a device or a directory is refused at
once, before anything could block on it. Every file cnncalc writes goes through
:func:`write_atomic`, so it is replaced whole or not at all.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import sys
import tempfile
from collections.abc import Iterable

from ..errors import SpecError

#: Refuse larger spec files instead of reading gigabytes (documented in docs/spec.md).
MAX_SPEC_BYTES = 64 * 1024 * 1024


def source_name(path: str) -> str:
    """How messages name a spec source: the path, or ``<stdin>`` for '-'."""
    return "<stdin>" if path == "-" else path


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _read_stdin(limit: int) -> bytes:
    stream = sys.stdin
    buffer = getattr(stream, "buffer", None) if stream is not None else None
    if buffer is None:
        raise SpecError("cannot read <stdin>: standard input is closed")
    try:
        data: bytes = buffer.read(limit + 1)
    except (OSError, ValueError) as err:  # ValueError: read of a closed file
        raise SpecError(f"cannot read <stdin>: {getattr(err, 'strerror', None) or err}") from None
    return data


def _open_regular(path: str) -> int:
    """A descriptor for reading ``path``, refused at once unless it is a regular file."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        raise SpecError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise SpecError(f"cannot read {path}: {_kind_of(mode)}, not a regular file")
    return fd


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """A file's bytes ('-' is standard input), at most ``limit`` (default MAX_SPEC_BYTES);
    an unreadable, oversized or non-regular file is a SpecError."""
    limit = MAX_SPEC_BYTES if limit is None else limit
    if path == "-":
        data = _read_stdin(limit)
    else:
        with os.fdopen(_open_regular(path), "rb") as handle:
            try:
                data = handle.read(limit + 1)
            except OSError as err:
                raise SpecError(f"cannot read {path}: {err.strerror or err}") from None
    if len(data) > limit:
        raise SpecError(f"{source_name(path)} is larger than {limit // 2**20} MiB")
    return data


def read_head(path: str, size: int = 8) -> bytes:
    """The first ``size`` bytes of a file (where format signatures are); SpecError if unreadable."""
    with os.fdopen(_open_regular(path), "rb") as handle:
        try:
            return handle.read(size)
        except OSError as err:
            raise SpecError(f"cannot read {path}: {err.strerror or err}") from None


def decode(data: bytes, path: str) -> str:
    """UTF-8 text of a spec source; SpecError naming the source otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(f"cannot read {source_name(path)}: not UTF-8 text (byte {err.start})") from None


def read_text(path: str) -> str:
    """A spec file's text ('-' is standard input); an unreadable, oversized or non-UTF-8 file is a SpecError."""
    return decode(read_bytes(path), path)


def encode_text(text: str, path: str) -> bytes:
    """UTF-8 bytes of text to write; SpecError when it holds what UTF-8 cannot encode (a lone
    surrogate, e.g. from a ``"\\udcff"`` escape in a spec)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        bad = text[err.start : err.start + 1]
        raise SpecError(f"cannot write {path}: the text holds {bad!r}, which UTF-8 cannot encode") from None


def write_atomic(path: str, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` whole or not at all (SpecError on failure).

    The bytes go to a temporary file in the target's directory, which is flushed, fsynced and
    renamed over the target (``os.replace`` is atomic on POSIX and Windows), as pip and
    pre-commit write files users care about. On any failure, including an interrupt or a full
    disk, the old file is untouched and the temporary file is removed. A new file gets the
    permissions ``open()`` would give it; a replaced one keeps its own.
    """
    payload = encode_text(data, path) if isinstance(data, str) else data
    target = os.path.realpath(path)  # through a symlink: replace the file, keep the link
    try:
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            _write_special(path, payload)  # /dev/null, /dev/stdout, a FIFO: nothing to replace
            return
        mode = stat.S_IMODE(st.st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as err:
        raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        fd, temp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target)
        )
    except OSError as err:
        raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(err, OSError):
            raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
        raise


def _write_special(path: str, payload: bytes) -> None:
    """Write to a device or pipe named as the output (``-o /dev/stdout``): there is no file to replace."""
    try:
        with open(path, "wb") as handle:
            handle.write(payload)
    except OSError as err:
        raise SpecError(f"cannot write {path}: {err.strerror or err}") from None


def expand_sources(specs: Iterable[str]) -> list[str]:
    """Spec arguments with globs expanded (sorted); a glob matching nothing stays, to be reported."""
    out: list[str] = []
    for spec in specs:
        if spec != "-" and glob.has_magic(spec):
            out.extend(sorted(glob.glob(spec, recursive=True)) or [spec])
        else:
            out.append(spec)
    return out


def unmatched_glob(source: str) -> bool:
    """True for a glob pattern that :func:`expand_sources` kept because nothing matched it."""
    return source != "-" and glob.has_magic(source) and not os.path.exists(source)
