"""Reading spec files and standard input, with the size limit every reader honours."""

from __future__ import annotations

import sys

from ..errors import SpecError

#: Refuse larger spec files instead of reading gigabytes (documented in docs/spec.md).
MAX_SPEC_BYTES = 64 * 1024 * 1024


def source_name(path: str) -> str:
    """How messages name a spec source: the path, or ``<stdin>`` for '-'."""
    return "<stdin>" if path == "-" else path


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """A file's bytes ('-' is standard input), at most ``limit`` (default MAX_SPEC_BYTES);
    an unreadable or oversized file is a SpecError."""
    limit = MAX_SPEC_BYTES if limit is None else limit
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as err:
            raise SpecError(f"cannot read {path}: {err.strerror or err}") from None
    if len(data) > limit:
        raise SpecError(f"{source_name(path)} is larger than {limit // 2**20} MiB")
    return data


def read_head(path: str, size: int = 8) -> bytes:
    """The first ``size`` bytes of a file (where format signatures are); SpecError if unreadable."""
    try:
        with open(path, "rb") as handle:
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
