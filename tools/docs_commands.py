"""Run every ``cnncalc ...`` command the README and docs/*.md show; write their output to a file.

Dev-only: compare two runs byte for byte (before and after a change)::

    python tools/docs_commands.py /tmp/before.txt            # on the old tree
    python tools/docs_commands.py /tmp/after.txt             # on the new tree
    diff /tmp/before.txt /tmp/after.txt

Each command runs through bash in one scratch directory (in page order, so a ``> model.json``
is there for the command that reads it), with ``cnncalc`` the tree's ``python -m cnncalc``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(?:\$ )?(cnncalc .*)$")


def commands() -> list[tuple[str, str]]:
    """(page, command) for every command line in fenced blocks of the README and docs."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        inside = False
        for line in page.read_text().splitlines():
            if line.startswith("```"):
                inside = not inside
                continue
            match = LINE.match(line.strip()) if inside else None
            if match:
                found.append((page.name, match.group(1)))
    return found


def main(out: str) -> None:
    prelude = f'cnncalc() {{ PYTHONPATH={ROOT} {sys.executable} -m cnncalc "$@"; }}\n'
    with tempfile.TemporaryDirectory() as scratch, open(out, "w") as sink:
        for page, command in commands():
            try:
                done = subprocess.run(
                    ["bash", "-c", prelude + command],
                    cwd=scratch,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    env={"PATH": "/usr/bin:/bin", "COLUMNS": "120", "NO_COLOR": "1", "HOME": scratch},
                )
                text = f"{done.stdout}{done.stderr}exit {done.returncode}\n"
            except subprocess.TimeoutExpired:
                text = "timeout\n"
            sink.write(f"### {page}: {command}\n{text}")
    print(f"{len(commands())} commands")


if __name__ == "__main__":
    main(sys.argv[1])
