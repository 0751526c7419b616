"""`cnncalc check`: expectations, budgets, many specs, JUnit, --update, the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from .helpers import run, run_json

ROOT = Path(__file__).resolve().parent.parent
SEED = ["--input", "200x200x1", "conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"]


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.json"
    good.write_text(run("summary", *SEED, "--format", "json").stdout)
    changed = tmp_path / "changed.json"
    doc = json.loads(good.read_text())
    doc["layers"][0]["config"]["kernel_size"] = [3, 3]  # an edit that changes the shapes
    changed.write_text(json.dumps(doc))
    budget = tmp_path / "budget.json"
    budget.write_text(
        json.dumps({"input_shape": [200, 200, 1], "layers": SEED[2:], "expect": {"max_params": 4000}})
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"input_shape": [32, 32, 3], "layers": [')
    return {"good": good, "changed": changed, "budget": budget, "bad": bad}


def test_passing_spec_exits_0(specs) -> None:
    result = run("check", str(specs["good"]))
    assert result.exit_code == 0, result.stdout
    assert "PASS" in result.stdout and "1 passed, 0 failed, 0 errors" in result.stdout


def test_changed_kernel_exits_1_showing_layer_and_shapes(specs) -> None:
    result = run("check", str(specs["changed"]))
    assert result.exit_code == 1
    out = result.stdout
    assert "FAIL" in out
    assert re.search(r"layer 1 conv2d\s+output_shape\s+100x100x16\s+99x99x16", out), out
    assert re.search(r"layer 1 conv2d\s+params\s+80\s+160", out), out


def test_budget_exceeded_exits_1(specs) -> None:
    result = run("check", str(specs["budget"]))
    assert result.exit_code == 1
    assert re.search(r"model\s+max_params\s+≤ 4,000\s+4,720", result.stdout), result.stdout


def test_malformed_spec_among_good_ones(specs) -> None:
    result = run("check", str(specs["good"]), str(specs["bad"]), str(specs["changed"]))
    assert result.exit_code == 2
    assert f"ERROR {specs['bad']}: bad JSON" in result.stdout
    assert f"PASS  {specs['good']}" in result.stdout and f"FAIL  {specs['changed']}" in result.stdout


def test_globs_and_stdin(specs) -> None:
    pattern = str(specs["good"].parent / "g*.json")
    assert run("check", pattern).exit_code == 0
    assert run("check", "-", input=specs["good"].read_text()).exit_code == 0
    missing = run("check", str(specs["good"].parent / "none*.json"))
    assert missing.exit_code == 2 and "no file matches" in missing.stdout and "none*.json" in missing.stderr


def test_json_report(specs) -> None:
    result = run("check", str(specs["good"]), str(specs["changed"]), "--format", "json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["ok"] is False and (doc["passed"], doc["failed"]) == (1, 1)
    diff = doc["specs"][1]["differences"][0]
    assert diff == {
        "where": "model",
        "field": "output_shape",
        "expected": [100, 100, 32],
        "actual": [99, 99, 32],
        "derived": False,
    }


def test_junit_report(specs) -> None:
    result = run("check", *(str(specs[k]) for k in ("good", "changed", "budget", "bad")), "--format", "junit")
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == 4 == int(suite.get("tests"))
    assert int(suite.get("failures")) == 2 == sum(c.find("failure") is not None for c in cases)
    assert int(suite.get("errors")) == 1 == sum(c.find("error") is not None for c in cases)
    assert result.exit_code == 2


def test_explicit_expect_by_name_and_position(tmp_path) -> None:
    spec = {
        "input_shape": [32, 32, 3],
        "layers": ["conv:8,3", "maxpool:2", "flatten", {"type": "dense", "units": 10, "name": "head"}],
        "expect": {
            "output_shape": [10],
            "total_params": 18234,
            "layers": {"head": {"params": 18010}, "1": {"output_shape": [30, 30, 8]}},
            "max_params": 20000,
            "max_macs": 500000,
            "max_activation_bytes": 100000,
        },
    }
    path = tmp_path / "m.json"
    path.write_text(json.dumps(spec))
    assert run("check", str(path)).exit_code == 0
    spec["expect"]["layers"]["head"]["params"] = 1
    path.write_text(json.dumps(spec))
    result = run("check", str(path))
    assert result.exit_code == 1 and "layer 4 head" in result.stdout


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"totl_params": 1}, "unknown key 'totl_params'"),
        ({"layers": {"nope": {"params": 1}}}, "no layer named"),
        ({"layers": {"9": {"params": 1}}}, "no layer 9"),
        ({"max_params": "x"}, "must be a number"),
    ],
)
def test_bad_expectations_are_errors(tmp_path, expect, message) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"input_shape": [8, 8, 1], "layers": ["conv:2,3"], "expect": expect}))
    result = run("check", str(path))
    assert result.exit_code == 2 and message in result.stdout


def test_update_rewrites_snapshots_never_silently(specs) -> None:
    result = run("check", "--update", str(specs["changed"]))
    assert result.exit_code == 0
    assert "updated" in result.stderr and "params 80 -> 160" in result.stderr
    assert run("check", str(specs["changed"])).exit_code == 0
    # Budgets are limits, not snapshots: --update leaves them failing.
    assert run("check", "--update", str(specs["budget"])).exit_code == 1
    assert json.loads(specs["budget"].read_text())["expect"]["max_params"] == 4000


def test_output_of_summary_is_a_checkable_spec() -> None:
    doc = run_json("summary", *SEED)
    assert run("check", "-", input=json.dumps(doc)).exit_code == 0


def test_pre_commit_hook_entry_runs(specs, tmp_path) -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"^\s*entry:\s*(.+)$", text, re.M).group(1).split()
    files = re.search(r"^\s*files:\s*'(.+)'$", text, re.M).group(1)
    staged = tmp_path / "model.cnncalc.json"
    staged.write_text(specs["good"].read_text())
    assert re.search(files, staged.name) and not re.search(files, "package.json")
    # pre-commit runs `entry` with the matching file names appended.
    assert entry[0] == "cnncalc"
    command = [sys.executable, "-m", "cnncalc", *entry[1:]]
    assert subprocess.run([*command, str(staged)], capture_output=True).returncode == 0
    staged.write_text(specs["changed"].read_text())
    proc = subprocess.run([*command, str(staged)], capture_output=True, text=True)
    assert proc.returncode == 1 and "FAIL" in proc.stdout and "Traceback" not in proc.stderr


def test_no_color_and_pipes_are_plain(specs) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", "check", str(specs["changed"])], capture_output=True, text=True
    )
    assert "\x1b[" not in proc.stdout


# ----------------------------------------------------------------------------- a gate that cannot pass by accident

THREE = {"input_shape": [32, 32, 3], "layers": ["conv:8,3"]}


def write(tmp_path: Path, doc: dict | str, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_a_spec_with_nothing_to_check_is_an_error(tmp_path) -> None:
    path = write(tmp_path, THREE)
    result = run("check", str(path))
    assert result.exit_code == 2 and "ERROR" in result.stdout
    assert "nothing to check" in result.stderr and "Hint: --allow-empty" in result.stderr
    junit = ET.fromstring(run("check", str(path), "--format", "junit").stdout)
    assert junit.get("errors") == "1"  # a red build, not a green one
    allowed = run("check", "--allow-empty", str(path))
    assert allowed.exit_code == 0 and "PASS" in allowed.stdout and "(0 expectations)" in allowed.stdout


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"total_params": "80"}, 'expect.total_params must be a whole number >= 0 to be checked, got "80"'),
        ({"total_params": 80.0}, "expect.total_params must be a whole number >= 0 to be checked, got 80.0"),
        ({"total_params": True}, "expect.total_params must be a whole number >= 0 to be checked, got true"),
        ({"output_shape": "30x30x8"}, "expect.output_shape must be a list of positive integers"),
        ({"output_shape": [30, 30, "8"]}, "expect.output_shape must be a list of positive integers"),
        ({"layers": {"1": {"params": "224"}}}, "expect.layers['1'].params must be a whole number"),
        ({"max_params": "NaN"}, 'expect.max_params must be a number, got "NaN"'),
    ],
)
def test_expectation_values_are_type_checked(tmp_path, expect, message) -> None:
    result = run("check", str(write(tmp_path, {**THREE, "expect": expect})))
    assert result.exit_code == 2 and message in result.stderr, result.stderr


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-5"])
def test_non_finite_or_negative_budgets_are_refused(tmp_path, literal) -> None:
    # Python's json reads NaN and Infinity, and 1e400 overflows to inf: each would disable the budget.
    text = '{"input_shape": [32, 32, 3], "layers": ["conv:8,3"], "expect": {"max_macs": LIMIT}}'
    text = text.replace("LIMIT", literal)
    result = run("check", str(write(tmp_path, text)))
    assert result.exit_code == 2 and "expect.max_macs must be a finite number >= 0" in result.stderr


def test_snapshot_values_are_type_checked_too(tmp_path) -> None:
    doc = json.loads(run("summary", *SEED, "--format", "json").stdout)
    doc["layers"][1]["params"] = "4640"
    result = run("check", str(write(tmp_path, doc)))
    assert result.exit_code == 2 and "layer 2 conv2d_1: params must be a whole number" in result.stderr


def test_update_keeps_the_json_output_layout(tmp_path) -> None:
    args = ["--input", "32x32x3", "conv:8,3", "maxpool:2", "flatten", "dense:10"]
    original = run("summary", *args, "--format", "json").stdout
    path = write(tmp_path, original.replace('"filters": 8,', '"filters": 16,'))
    result = run("check", "--update", str(path))
    assert result.exit_code == 0, result.stdout
    after = path.read_text()
    assert len(after.splitlines()) == len(original.splitlines())  # 27 lines, not one number per line
    # ... and exactly what summary --format json writes for the edited model:
    assert after == run("summary", *args[:1], args[1], "conv:16,3", *args[3:], "--format", "json").stdout


def test_update_keeps_an_expect_object_and_budgets(tmp_path) -> None:
    doc = {**THREE, "expect": {"total_params": 1, "max_params": 10**6, "layers": {"1": {"params": 2}}}}
    path = write(tmp_path, doc)
    assert run("check", "--update", str(path)).exit_code == 0
    new = json.loads(path.read_text())
    # 3*3*3*8 + 8 = 224, by hand; the budget is a limit, never rewritten.
    assert new["expect"] == {"total_params": 224, "max_params": 10**6, "layers": {"1": {"params": 224}}}


def test_update_refuses_standard_input(tmp_path) -> None:
    text = run("summary", *SEED, "--format", "json").stdout
    result = run("check", "--update", "-", input=text)
    assert result.exit_code == 2
    assert "standard input cannot be updated" in result.stdout + result.stderr


def test_one_changed_filters_value_lists_primary_fields_and_summarises_the_rest(tmp_path) -> None:
    args = ["--input", "32x32x3", "conv:8,3", "maxpool:2", "flatten", "dense:10"]
    path = write(
        tmp_path, run("summary", *args, "--format", "json").stdout.replace('"filters": 8,', '"filters": 16,')
    )
    result = run("check", str(path))
    assert result.exit_code == 1
    rows = [
        line for line in result.stdout.splitlines() if line.startswith(" model") or line.startswith(" layer")
    ]
    fields = {line.split()[-3] for line in rows}
    assert fields == {"total_params", "trainable_params", "output_shape", "params"}, rows
    # conv: 3*3*3*16 + 16 = 448 params; dense: 15*15*16*10 + 10 = 36,010
    assert re.search(r"layer 1 conv2d\s+params\s+224\s+448", result.stdout)
    assert re.search(r"layer 4 dense\s+params\s+18,010\s+36,010", result.stdout)
    assert re.search(r"and \d+ derived figures \(total_macs, .*\) differ too", result.stdout)
    doc = json.loads(run("check", str(path), "--format", "json").stdout)
    derived = [d for d in doc["specs"][0]["differences"] if d["derived"]]
    assert derived and {d["field"] for d in derived} >= {"macs", "flops", "training_bytes"}


@pytest.mark.slow
def test_pre_commit_try_repo_runs_both_hooks(specs, tmp_path) -> None:
    # docs/ci.md's advice, run for real: pre-commit installs this clone in its own environment
    # and runs the hooks on a project's files (skipped where pre-commit is not installed).
    import shutil

    pre_commit = shutil.which("pre-commit")
    if pre_commit is None or not (ROOT / ".git").exists():
        pytest.skip("pre-commit (pip install pre-commit) and a git clone of cnncalc are needed")
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "model.cnncalc.json").write_text(specs["good"].read_text())
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def hook(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [pre_commit, "try-repo", str(ROOT), *args],
            cwd=project,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    ok = hook("cnncalc-check", "--files", "model.cnncalc.json")
    assert ok.returncode == 0 and "Passed" in ok.stdout, ok.stdout + ok.stderr
    (project / "model.cnncalc.json").write_text(specs["changed"].read_text())
    bad = hook("cnncalc-check", "--files", "model.cnncalc.json")
    assert bad.returncode == 1 and "Failed" in bad.stdout and "FAIL" in bad.stdout
