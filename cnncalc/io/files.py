"""Reading spec files and standard input within the size limit, and writing files atomically.

Only regular files (and standard input) are read: a FIFO, a device or a directory is refused at
once, before anything could block on it. Every file cnncalc writes goes through
:func:`write_atomic`, so it is replaced whole or not at all.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import signal
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, AnyStr

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
        return _read_upto(buffer, limit + 1)
    except (OSError, ValueError) as err:  # ValueError: read of a closed file
        raise SpecError(f"cannot read <stdin>: {getattr(err, 'strerror', None) or err}") from None


#: The first read of standard input; larger inputs are read on in steps of this size.
_STDIN_STEP = 16 * 2**20


def _read_upto(stream: Any, size: int) -> bytes:
    """At most ``size`` bytes of a stream, read in steps: a buffered ``read(size)`` reserves
    ``size`` bytes before the first byte arrives, so ``-f - --from onnx`` (a 2 GiB limit)
    failed with MemoryError under a 2 GiB ``ulimit -v`` whatever the input's size."""
    chunks: list[bytes] = []
    total = 0
    while total < size:
        chunk: bytes = stream.read(min(_STDIN_STEP, size - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def zip_errors() -> tuple[type[BaseException], ...]:
    """What :mod:`zipfile` raises on a damaged archive besides OSError: its own error, the
    decompressors' (zlib's, and lzma's for a member whose header says LZMA: a fuzzed ``.keras``
    file ended in exit 3 with ``LZMAError``), a truncated stream, an unknown method, and the
    ValueError of a seek before the start of an in-memory file (standard input) where a damaged
    header offset points (a fuzzed ``.keras`` on ``-f -``: exit 3 too)."""
    import zipfile
    import zlib

    errors: list[type[BaseException]] = [
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ]
    try:
        import lzma
    except ImportError:  # a Python built without lzma: zipfile raises RuntimeError for such a member
        pass
    else:
        errors.append(lzma.LZMAError)
    return tuple(errors)


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


#: Temporary files :func:`write_atomic` writes: ``.<target>.<pid>.<8 random>.tmp`` beside the target.
_TEMP = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp")
#: Paths that name a descriptor of this process (``/dev/stdout`` is ``/proc/self/fd/1``).
_DESCRIPTORS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_FD_DIRECTORY = re.compile(r"/(?:dev|proc/(?:self|thread-self|\d+)(?:/task/\d+)?)/fd")
#: Test hook (docs/contributing.md): ``CNNCALC_STOP_AT=STEP:SIGNAL`` sends SIGNAL (KILL, TERM) to
#: the writing process at STEP (``created``, ``written``, ``replaced``), to test a kill at a known
#: point instead of at a guessed time.
_STOP_AT = "CNNCALC_STOP_AT"


#: Output :func:`held` keeps in memory, in bytes (characters for text); the rest waits in an
#: unlinked temporary file, so a 100,000-layer table or page never exists whole in memory.
HOLD_IN_MEMORY = 8 * 2**20
_READ_BACK = 2**20


def _chunks(data: bytes | str | Iterable[str], path: str) -> Iterator[bytes]:
    """``data`` as UTF-8 bytes, a piece at a time (SpecError naming ``path`` for what UTF-8
    cannot encode)."""
    if isinstance(data, bytes):
        yield data
    elif isinstance(data, str):
        yield encode_text(data, path)
    else:
        for piece in data:
            yield encode_text(piece, path)


def held(pieces: Iterable[AnyStr], check: Callable[[AnyStr], object]) -> Iterator[AnyStr]:
    """Every piece, handed out only once all of them are made and ``check`` (which raises to
    refuse one) passed each: output that must not be half-written (a stream cannot be taken
    back) without holding it all in memory. The first HOLD_IN_MEMORY stay in memory, the rest go
    to an unlinked temporary file (text as UTF-8, lone surrogates kept) and are read back in
    chunks; when no temporary file can be made or written (no space), the rest stays in memory."""
    memory: list[AnyStr] = []
    size = 0
    spool: IO[Any] | None = None
    can_spool = True
    try:
        for piece in pieces:
            check(piece)
            if spool is not None:
                try:
                    spool.write(piece)
                    continue
                except OSError:  # a full disk: the rest in memory, as before there was a spool
                    memory, spool, can_spool = _read_back(spool), None, False
            memory.append(piece)
            size += len(piece)
            if can_spool and size > HOLD_IN_MEMORY:
                spool = _spool(memory)
                can_spool = spool is not None
                if spool is not None:
                    memory = []
        if spool is None:
            memory.reverse()  # handed out first to last, each dropped as it goes
            while memory:
                yield memory.pop()
            return
        spool.seek(0)
        while chunk := spool.read(_READ_BACK):
            yield chunk
    finally:
        if spool is not None:
            spool.close()


def _spool(pieces: list[Any]) -> IO[Any] | None:
    """An unlinked temporary file holding ``pieces`` (bytes or text), or None when it cannot be
    made or written."""
    import tempfile

    text = isinstance(pieces[0], str)
    try:
        spool: IO[Any] = (
            tempfile.TemporaryFile("w+", encoding="utf-8", errors="surrogatepass", newline="")
            if text
            else tempfile.TemporaryFile("w+b")
        )
    except OSError:
        return None
    try:
        for piece in pieces:
            spool.write(piece)
    except OSError:
        spool.close()
        return None
    return spool


def _read_back(spool: IO[Any]) -> list[Any]:
    spool.seek(0)
    pieces = list(iter(lambda: spool.read(_READ_BACK), spool.read(0)))
    spool.close()
    return pieces


def _special(path: str) -> bool:
    """True for a device, FIFO or socket named as the output (nothing there to replace)."""
    try:
        mode = os.stat(os.path.realpath(path)).st_mode
    except (OSError, ValueError):
        return False  # missing or unreachable: the regular path makes or reports it
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_atomic(path: str, data: bytes | str | Iterable[str]) -> None:
    """Replace ``path`` with ``data`` whole or not at all (SpecError on failure).

    The bytes go to a temporary file in the target's directory, which is flushed, fsynced and
    renamed over the target (``os.replace`` is atomic on POSIX and Windows), as pip and
    pre-commit write files users care about. On any failure, including an interrupt, SIGTERM or
    a full disk, the old file is untouched and the temporary file is removed; one left by a
    process killed outright (SIGKILL) is removed by the next write to the same target. A new file
    gets the permissions ``open()`` would give it; a replaced one keeps its own.

    ``-`` is standard output; a path naming one of this process's descriptors (``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/N``) is written to that descriptor in place, never resolved to the
    file behind it (``-o /dev/stdout >> app.log`` appends to the log); a device or FIFO is written
    in place too.

    ``data`` may be text in pieces, a list or a generator (a big rendering, never joined into one
    string): a regular file's pieces are encoded and written to the temporary file as they come,
    so the output never exists whole in memory, and text UTF-8 cannot encode (or an error while
    the pieces are produced) still leaves the target as it was. A descriptor, device or FIFO
    cannot be taken back: every piece is produced and encoded first, held by :func:`held`.
    """
    fd = _descriptor(path)
    if fd is not None or _special(path):
        # Nothing reaches a stream until the whole output is made and encodable.
        pieces = held(_chunks(data, path), lambda piece: None)
        if fd is not None:
            for piece in pieces:
                _write_descriptor(path, fd, piece)
        else:
            _write_special(path, pieces)
        return
    target = os.path.realpath(path)  # through a symlink: replace the file, keep the link
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as err:
        raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
    import tempfile  # only a write needs it: summary's start-up skips it

    directory, name = os.path.split(target)
    _remove_stale(directory, name)
    with _removed_on_sigterm() as temps:
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=directory)
        except OSError as err:
            raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
        temps.append(temp)
        try:
            _stop_at("created")
            with os.fdopen(fd, "wb") as handle:
                for piece in _chunks(data, path):
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, mode)
            _stop_at("written")
            os.replace(temp, target)
            temps.clear()
            _stop_at("replaced")
        except BaseException as err:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if isinstance(err, OSError):
                raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
            raise


def _stop_at(step: str) -> None:
    """The test hook: stop this process at ``step`` with the signal ``CNNCALC_STOP_AT`` names."""
    wanted = os.environ.get(_STOP_AT)
    if wanted and wanted.partition(":")[0] == step:
        os.kill(os.getpid(), getattr(signal, f"SIG{wanted.partition(':')[2] or 'KILL'}"))
        import time

        time.sleep(5)  # the signal is handled before the next bytecode; never reached in practice


def _remove_stale(directory: str, name: str) -> None:
    """Remove temporary files of ours for ``name`` whose writer is gone (killed by SIGKILL):
    only names of :data:`_TEMP`'s form whose process id is no running process."""
    try:
        entries = [
            e for e in os.listdir(directory or ".") if e.startswith(f".{name}.") and e.endswith(".tmp")
        ]
    except OSError:
        return
    for entry in entries:
        match = _TEMP.fullmatch(entry)
        if match is None or match["target"] != name or _alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, entry))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own earlier process of this id cannot be writing: this one is
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # exists (another user's) or cannot tell: leave it
    return True


@contextlib.contextmanager
def _removed_on_sigterm() -> Iterator[list[str]]:
    """While a temporary file exists, SIGTERM removes it before the process dies of the signal
    (Python's default would die at once, leaving it); the list holds the paths to remove."""
    temps: list[str] = []

    def terminate(signum: int, frame: Any) -> None:
        for temp in temps:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: signals are the main thread's to handle
        yield temps
        return
    try:
        yield temps
    finally:
        signal.signal(signal.SIGTERM, previous)


def _descriptor(path: str) -> int | None:
    """The descriptor of this process that ``path`` names ('-' is standard output; also through
    symlinks: ``/dev/stdout`` -> ``/proc/self/fd/1``), else None."""
    if path == "-":
        return 1
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on symlinks followed
        normal = os.path.normpath(current)
        if normal in _DESCRIPTORS:
            return _DESCRIPTORS[normal]
        directory, name = os.path.split(normal)
        real_directory = os.path.realpath(directory)
        fd_directory = _FD_DIRECTORY.fullmatch(real_directory) or _FD_DIRECTORY.fullmatch(directory)
        if fd_directory and name.isdigit():
            own = {"/dev/fd", "/proc/self/fd", "/proc/thread-self/fd", f"/proc/{os.getpid()}/fd"}
            if (
                directory in own
                or real_directory in own
                or real_directory.startswith(f"/proc/{os.getpid()}/")
            ):
                return int(name)
            return None
        try:
            link = os.readlink(normal)
        except OSError:
            return None  # not a symlink (or not there): a path like any other
        current = os.path.join(directory, link)
    return None


def _write_descriptor(path: str, fd: int, payload: bytes) -> None:
    """Write to one of this process's descriptors where it stands (appending to a log opened
    with ``>>``, into a pipe): never reopened, truncated or replaced."""
    if fd in (1, 2):  # what Python still buffers for the stream goes first
        stream = sys.stdout if fd == 1 else sys.stderr
        if stream is None:
            raise SpecError(
                f"cannot write {path}: {'standard output' if fd == 1 else 'standard error'} is closed"
            )
        with contextlib.suppress(ValueError):
            stream.flush()
    view = memoryview(payload)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except BrokenPipeError:
        raise
    except OSError as err:
        raise SpecError(f"cannot write {path}: {err.strerror or err}") from None


def _write_special(path: str, payload: Iterable[bytes]) -> None:
    """Write to a device or FIFO named as the output (``-o /dev/null``): there is no file to
    replace; opened without truncating or creating anything."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as err:
        raise SpecError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        for piece in payload:
            _write_descriptor(path, fd, piece)
    finally:
        os.close(fd)


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
