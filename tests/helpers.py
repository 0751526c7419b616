"""Small helpers for running the CLI in tests."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from click.testing import CliRunner

from cnncalc.cli import cli


def run(*args: str, input: str | None = None, width: int = 100) -> Any:
    """Invoke the CLI in-process; returns Click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(cli, list(args), input=input, env={"NO_COLOR": "1", "COLUMNS": str(width)})


def run_json(*args: str, input: str | None = None) -> dict:
    """Invoke the CLI with ``--format json`` and decode stdout."""
    result = run(*args, "--format", "json", input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def run_process(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m cnncalc`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "cnncalc", *args], input=input, capture_output=True, text=True, timeout=60
    )


def error_lines(stderr: str) -> list[str]:
    """The ``Error: `` lines of stderr, after checking the rest is Click's usage preamble
    (``Usage: cnncalc ...`` and ``Try 'cnncalc ... -h' for help.``) or a ``Hint:``."""
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    others = [line for line in lines if not line.startswith("Error: ")]
    usage = [line for line in others if line.startswith(("Usage: cnncalc", "Try 'cnncalc"))]
    if usage:
        assert len(usage) == 2 and lines[:2] == usage and lines[1].endswith(" -h' for help."), stderr
    assert all(line in usage or line.startswith("Hint: ") for line in others), stderr
    return errors
