"""docs/errors.md is true: every example in the catalogue exits 2 with its documented message."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from .helpers import error_lines, run

DOC = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
ROW = re.compile(r"^\| `(?P<message>.+?)` \| `(?P<example>.+?)`(?P<rest>.*)\|$", re.M)


def examples() -> list[tuple[str, str]]:
    rows = []
    for match in ROW.finditer(DOC):
        example = match["example"].replace("\\|", "|")
        if "see the test" in match["rest"]:
            continue  # too long to write inline: covered by tests/test_hardening.py
        rows.append((match["message"], example))
    return rows


def test_catalogue_is_substantial() -> None:
    assert len(examples()) >= 50


@pytest.mark.parametrize(("message", "example"), examples())
def test_documented_error(message: str, example: str) -> None:
    stdin = None
    if example.startswith("printf "):
        head, command = example.split(" | ", 1)
        stdin = shlex.split(head)[1]
    else:
        command = example
    args = shlex.split(command)
    assert args[0] == "cnncalc"
    result = run(*args[1:], input=stdin, width=300)
    assert result.exit_code == 2, (result.exit_code, result.stdout[-300:])
    lines = error_lines(result.stderr)  # usage errors come with Click's Usage:/Try lines
    assert len(lines) == 1 and message in " ".join(lines[0].split()), result.stderr
