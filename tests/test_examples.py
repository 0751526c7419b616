"""examples/ ships the files the docs name; every documented command runs as written.

The saved models in examples/ were written by the frameworks (tools/make_examples.py), with the
frameworks' own figures in examples/EXPECTED.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import run_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXPECTED = json.loads((EXAMPLES / "EXPECTED.json").read_text())["files"]
#: A model whose input is None x None x 3 (Keras summarises it with None sizes).
SIZES = {"mobilenet_v3_small.keras": ("--input", "224x224x3")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_examples_read_as_the_framework_counts_them(name: str) -> None:
    if name.endswith(".onnx"):
        pytest.importorskip("onnx")
    if name.endswith(".h5"):
        pytest.importorskip("h5py")
    doc = run_json("summary", "-f", str(EXAMPLES / name), *SIZES.get(name, ()), "--format", "json")
    assert doc["total_params"] == EXPECTED[name]["total_params"]
    assert doc["output_shape"] == EXPECTED[name]["output_shape"]


def documented_commands() -> list[tuple[str, str, bool]]:
    """(page, command, shown failing) for every cnncalc command in README.md and docs/*.md:
    lines of bash blocks, and `$ ` lines of console blocks (whose shown output says whether the
    command fails on purpose: an `Error:` line or `No ... maps`)."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        for lang, body in re.findall(r"```(bash|console)\n(.*?)```", text, re.S):
            lines = body.replace("\\\n", " ").splitlines()
            for i, line in enumerate(lines):
                command = line.strip()
                if lang == "console":
                    if not command.startswith("$ "):
                        continue
                    command = command[2:]
                    shown = []
                    for after in lines[i + 1 :]:
                        if after.startswith("$ "):
                            break
                        shown.append(after)
                    fails = any(s.startswith(("Error:", " No ")) for s in shown)
                else:
                    fails = False
                if re.match(r"^(cat \S+ \| )?cnncalc\b", command):
                    found.append((page.name, command, fails))
    return found


COMMANDS = documented_commands()


@pytest.mark.slow
def test_every_documented_command_runs_as_written(tmp_path: Path) -> None:
    # In order, in one folder holding examples/ (docs/ and tests/ beside it, for the commands
    # that name their files there), as a user who copies the commands one by one would.
    for item in EXAMPLES.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, tmp_path / item.name)
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    failures = []
    for page, command, fails in COMMANDS:
        if any(flag in command for flag in ("--trace", "--torch")):
            continue  # they import the user's framework: tests/test_trace*.py run them
        script = f'cnncalc() {{ "{sys.executable}" -m cnncalc "$@"; }}\n{command}'
        proc = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
        )
        if (proc.returncode != 0) != fails or "Traceback" in proc.stderr:
            failures.append(f"{page}: {command} -> exit {proc.returncode}: {proc.stderr.strip()[-200:]}")
    assert len(COMMANDS) > 50 and not failures, "\n".join(failures)
