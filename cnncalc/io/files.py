"""Reading spec files and standard input, with the size limit every reader honours."""

from __future__ import annotations

import sys

from ..errors import SpecError

#: Refuse larger spec files instead of reading gigabytes (documented in docs/spec.md).
MAX_SPEC_BYTES = 64 * 1024 * 1024


def read_text(path: str) -> str:
    """A spec file's text ('-' is standard input); an unreadable or oversized file is a SpecError."""
    if path == "-":
        text = sys.stdin.read(MAX_SPEC_BYTES + 1)
        name = "<stdin>"
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(MAX_SPEC_BYTES + 1)
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise SpecError(f"cannot read {path}: {reason}") from None
        name = path
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"{name} is larger than {MAX_SPEC_BYTES // 2**20} MiB")
    return text


def source_name(path: str) -> str:
    """How messages name a spec source: the path, or ``<stdin>`` for '-'."""
    return "<stdin>" if path == "-" else path
