"""How every failure ends: one line on stderr and the exit code the exception class carries.

Exit codes: 0 success, 1 a difference found (:class:`~cnncalc.errors.Failed`, a failed check),
2 bad input (every other :class:`~cnncalc.errors.CnncalcError`, Click's usage errors, an
unusable environment: a full disk, a closed standard input or output), 130 Ctrl-C, 141 a closed
pipe, 3 an internal error. :func:`exit_code_for` is the one place an exception becomes a code;
commands never exit themselves (they raise, or end with ``ctx.exit(code)``).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Iterator

import click

from ..errors import CnncalcError, Option, spell_with

#: How library settings named in messages are spelled on the command line.
FLAGS = {
    "convention": "--convention",
    "data_format": "--data-format",
    "input_shape": "--input",
    "max_memory": "--max-memory",
    "batch": "--batch",
    "model_name": "--model-name",
    "fix": "--fix",
    "trace": "--trace",
    "layers": "LAYER arguments",
    "file": "-f",
    "model": "--model",
    "source_format": "--from",
}


class Interrupted(BaseException):
    """Ctrl-C inside a command, carried past Click (which would turn it into ``Abort``, exit 1)."""


class PipeClosed(BaseException):
    """The reader of standard output went away, carried past Click (which would exit 1)."""


@contextlib.contextmanager
def carried() -> Iterator[None]:
    """Re-raise Ctrl-C and a closed pipe as exceptions Click lets through to ``main``."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted from None
    except BrokenPipeError:
        raise PipeClosed from None


class ClosedOutput(io.TextIOBase):
    """Standard output when the process started without one (``>&-``): every write fails (exit
    2), as writing to a closed descriptor does, instead of Click dropping the output silently."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")

    def isatty(self) -> bool:
        return False


def flush_stdout() -> None:
    """Flush standard output now, so a full disk or a closed pipe is reported here, not as an
    "Exception ignored" at interpreter exit."""
    stream = sys.stdout
    if stream is not None:
        stream.flush()


def _interrupted() -> int:
    """Ctrl-C: one line, exit 130 (128 + SIGINT), as shells report it."""
    with contextlib.suppress(Exception, KeyboardInterrupt):
        error("interrupted")
    return 130


def _pipe_closed() -> int:
    """The reader went away (``| head``): say nothing, exit 141 (128 + SIGPIPE) as a killed
    process would."""
    _drop_stdout()
    return 141


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what it still buffers cannot fail again at interpreter exit."""
    with contextlib.suppress(Exception, KeyboardInterrupt):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def echo_err(line: str) -> None:
    """One line on stderr, whatever stderr can encode (an unencodable character is escaped)."""
    stream = sys.stderr
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        line = line.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    with contextlib.suppress(OSError):  # stderr itself failing (2>/dev/full): the exit code still says it
        click.echo(line, err=True)


def error(message: str) -> None:
    echo_err("Error: " + " ".join(str(message).split()))


def spell(option: Option) -> str:
    """A library option as its flag: ``convention='keras'`` -> ``--convention keras``."""
    return spell_with(FLAGS)(option)


def exit_code_for(err: BaseException) -> int:
    """Report ``err`` on stderr (one line, and a ``Hint:`` line where it carries one) and return
    the exit code it stands for."""
    if isinstance(err, click.exceptions.NoArgsIsHelpError):
        # Bare `cnncalc` (or a group without its command): the help, on stdout, as success.
        click.echo(err.ctx.get_help() if err.ctx else "")
        return 0
    if isinstance(err, click.UsageError):
        # Click's own form: the usage line and where help is, then our one error line.
        if err.ctx is not None:
            click.echo(err.ctx.get_usage(), err=True)
            click.echo(f"Try '{err.ctx.command_path} -h' for help.", err=True)
        error(err.format_message())
        return err.exit_code
    if isinstance(err, click.ClickException):
        error(err.format_message())
        return err.exit_code
    if isinstance(err, CnncalcError):
        error(err.render(spell))
        hint = err.render_hint(spell)
        if hint:
            echo_err(f"Hint: {hint}")
        return err.exit_code
    if isinstance(err, (KeyboardInterrupt, Interrupted)):
        return _interrupted()
    if isinstance(err, click.Abort):
        if isinstance(err.__context__, EOFError):
            error("standard input is closed")
            return 2
        return _interrupted()  # Click's Abort stands for Ctrl-C while it parsed the command line
    if isinstance(err, (BrokenPipeError, PipeClosed)):
        return _pipe_closed()
    if isinstance(err, UnicodeEncodeError):
        encoding = getattr(sys.stdout, "encoding", None) or err.encoding
        error(
            f"standard output ({encoding}) cannot encode {err.object[err.start : err.start + 1]!r}; "
            "set PYTHONIOENCODING=utf-8"
        )
        _drop_stdout()
        return 2
    if isinstance(err, OSError):  # the environment: disk full (> /dev/full), I/O error, file size limit
        where = f"cannot use {err.filename}" if err.filename else "cannot write standard output"
        error(f"{where}: {err.strerror or err}")
        _drop_stdout()
        return 2
    if os.environ.get("CNNCALC_DEBUG"):
        raise err
    error(
        f"internal error: {type(err).__name__}: {err} (please report it; set CNNCALC_DEBUG=1 for the traceback)"
    )
    return 3
