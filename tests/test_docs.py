"""Docs stay true: docs/cli.md is the --help text, README examples are real output.

Regenerate docs/cli.md with ``python tools/make_cli_docs.py``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from cnncalc.cli import all_commands

from .helpers import run

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("make_cli_docs", ROOT / "tools" / "make_cli_docs.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    expected = generator.cli_reference()
    assert (ROOT / "docs" / "cli.md").read_text() == expected, (
        "docs/cli.md is stale: run python tools/make_cli_docs.py"
    )


def test_every_command_has_an_example_and_a_page() -> None:
    for name, command in all_commands().items():
        assert "Example" in run(name, "--help").stdout, name
        assert f"## cnncalc {name}" in (ROOT / "docs" / "cli.md").read_text()
        for sub in getattr(command, "commands", {}):
            assert "Example" in run(name, sub, "--help").stdout, (name, sub)
            assert f"## cnncalc {name} {sub}" in (ROOT / "docs" / "cli.md").read_text()


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


def test_layer_params_add_up_to_independent_totals() -> None:
    # torchinfo's assert_sum_column_totals_match, against totals that do not come from cnncalc:
    # each zoo model's published count, and the totals Keras itself wrote beside each fixture.
    import json

    import cnncalc
    from cnncalc import zoo

    cases = []
    for name in zoo.names():
        text = zoo.load(name)
        published = json.loads(text).get("published_params")
        if published is not None:
            cases.append((text, {"total_params": published}))
    from cnncalc.io.sources import read_spec

    for path in sorted((ROOT / "tests" / "fixtures" / "keras").glob("*.expected.json")):
        expected = json.loads(path.read_text())
        stem = path.name.replace(".expected.json", "")
        # the model Keras wrote: to_json() text, or a saved .keras/.h5 file
        source = next(p for ext in (".json", ".keras", ".h5") if (p := path.with_name(stem + ext)).exists())
        cases.append((read_spec(str(source)), expected))
    assert len(cases) >= 10
    for text, expected in cases:
        s = cnncalc.summarize(text)
        assert sum(row.params for row in s.layers) == expected["total_params"]
        if "trainable_params" in expected:
            assert sum(row.trainable_params for row in s.layers) == expected["trainable_params"]


def test_python_api_examples_run(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Every ```python block of docs/python-api.md runs as written (in one namespace, in order),
    # beside a model.json like the one the page's check example reads.
    import contextlib
    import io
    import re

    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.json").write_text(
        '{"input_shape": [32, 32, 3], "layers": ["conv:8,3"], "expect": {"total_params": 224}}'
    )
    namespace: dict[str, object] = {}
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "python-api.md").read_text(), re.S)
    assert len(blocks) >= 5
    for i, block in enumerate(blocks):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, f"python-api.md block {i + 1}", "exec"), namespace)
