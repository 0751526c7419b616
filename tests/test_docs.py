"""Docs stay true: docs/cli.md is the --help text, README examples are real output.

Regenerate docs/cli.md with ``UPDATE_DOCS=1 python -m pytest tests/test_docs.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cnncalc.cli import cli

from .helpers import run

ROOT = Path(__file__).resolve().parent.parent


def cli_reference() -> str:
    parts = [
        "# CLI reference",
        "",
        "Generated from `--help`; see the other pages in `docs/` for details.",
        "",
    ]
    parts += ["## cnncalc", "", "```", run("--help").stdout.rstrip(), "```", ""]
    for name in sorted(cli.commands):
        parts += [f"## cnncalc {name}", "", "```", run(name, "--help").stdout.rstrip(), "```", ""]
    parts += [
        "## Exit codes",
        "",
        "| code | meaning |",
        "|---|---|",
        "| 0 | success |",
        "| 1 | `check` / `verify` found a difference |",
        "| 2 | bad input: malformed spec, unknown layer or key, impossible shape, bad JSON, unreadable file |",
        "| 3 | internal error (a bug: please report it; `CNNCALC_DEBUG=1` shows the traceback) |",
        "",
        "Errors are one line on standard error, naming the layer (1-based index and its spec) and the reason.",
        "",
    ]
    return "\n".join(parts)


def test_cli_reference_is_current() -> None:
    path = ROOT / "docs" / "cli.md"
    expected = cli_reference()
    if os.environ.get("UPDATE_DOCS"):
        path.write_text(expected)
    assert path.read_text() == expected, "docs/cli.md is stale: run UPDATE_DOCS=1 pytest tests/test_docs.py"


def test_every_command_has_an_example_and_a_page() -> None:
    for name in cli.commands:
        assert "Example" in run(name, "--help").stdout, name
        assert f"## cnncalc {name}" in (ROOT / "docs" / "cli.md").read_text()


def test_console_examples_are_real_output() -> None:
    blocks = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks += re.findall(r"```console\n(.*?)```", page.read_text(), re.S)
    assert len(blocks) >= 4
    for block in blocks:
        command, *expected = block.splitlines()
        args = command.removeprefix("$ cnncalc ").split()
        result = run(*args)
        assert (result.stdout + result.stderr).splitlines() == expected, command


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    command = next(line for line in readme.splitlines() if "pip install -q '.[test]'" in line)
    assert "pytest" in command
    assert "README.md" in (ROOT / ".ci" / "run").read_text()


def test_layer_params_add_up_to_totals() -> None:
    # torchinfo's assert_sum_column_totals_match, for every zoo model and fixture.
    import cnncalc
    from cnncalc import zoo

    sources = [zoo.load(name) for name in zoo.names()]
    sources += [p.read_text() for p in (ROOT / "tests" / "fixtures" / "keras").glob("*[a-z].json")
                if not p.name.endswith(".expected.json")]  # fmt: skip
    for text in sources:
        s = cnncalc.summarize(text)
        assert sum(row.params for row in s.layers) == s.total_params
        assert sum(row.trainable_params for row in s.layers) == s.trainable_params
        assert sum(row.macs for row in s.layers) == s.total_macs
