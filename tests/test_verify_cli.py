"""`cnncalc verify` end to end: exit codes, mismatch reporting, memory refusal."""

from __future__ import annotations

import json

import numpy as np

from cnncalc.numeric import executor as X

from .helpers import run


def test_seed_examples_verify() -> None:
    for args in (
        ["--input", "200x200x1", "conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"],
        ["--input", "100x100x15", "maxpool:2,2"],
        ["--data-format", "channels_first", "--input", "1x28x28", "conv:20,5", "maxpool:2"],
    ):
        result = run("verify", *args)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "all layers match" in result.stdout


def test_verify_json() -> None:
    result = run(
        "verify",
        "--input",
        "12x12x3",
        "conv:8,3",
        "maxpool:2",
        "flatten",
        "dense:10",
        "--format",
        "json",
        "--dtype",
        "float64",
        "--batch",
        "2",
        "--seed",
        "7",
    )
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["ok"] and doc["batch"] == 2 and doc["seed"] == 7
    assert [layer["real_shape"] for layer in doc["layers"]] == [[10, 10, 8], [5, 5, 8], [200], [10]]
    assert doc["layers"][0]["reference"] == "loop reference" and doc["layers"][0]["max_abs_error"] < 1e-10


def test_a_wrong_executor_is_caught_and_named(monkeypatch) -> None:
    real_forward = X.forward

    def broken(layer, x, w, ctx):
        y = real_forward(layer, x, w, ctx)
        return y[:, :-1] if type(layer).__name__ == "MaxPool" else y  # one row short

    monkeypatch.setattr(X, "forward", broken)
    result = run("verify", "--input", "16x16x3", "conv:8,3", "maxpool:2", "flatten")
    assert result.exit_code == 1
    assert "max_pooling2d (MaxPooling2D)" in result.stderr and "predicted 7x7x8, real 6x7x8" in result.stderr
    assert "not run" in result.stdout  # the layer after it


def test_wrong_numerics_are_caught(monkeypatch) -> None:
    real_forward = X.forward
    monkeypatch.setattr(
        X, "forward", lambda layer, x, w, ctx: real_forward(layer, x, w, ctx) + np.float32(0.5)
    )
    result = run("verify", "--input", "8x8x2", "conv:4,3")
    assert result.exit_code == 1 and "values differ" in result.stderr


def test_memory_is_refused_before_allocating() -> None:
    result = run("verify", "--input", "100000x100000x3", "conv:8,3")
    assert result.exit_code == 2
    assert "more than --max-memory 2.00 GiB" in result.stderr and len(result.stderr.splitlines()) == 1
    assert run("verify", "--input", "64x64x3", "conv:8,3", "--max-memory", "10KB").exit_code == 2
    assert run("verify", "--input", "64x64x3", "conv:8,3", "--max-memory", "lots").exit_code == 2


def test_bad_input_exit_2() -> None:
    result = run("verify", "--input", "4x4x1", "conv:8,5")
    assert result.exit_code == 2 and "kernel 5 is larger" in result.stderr
