"""--trace-batch, and a traced file's own prints kept off stdout (dev-only: needs torch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import run

NET = Path(__file__).resolve().parent.parent / "examples" / "net.py"


@pytest.mark.parametrize("batch", ["1", "4"])
def test_trace_batch_and_a_clean_stdout(batch: str) -> None:
    pytest.importorskip("torch")
    # net.py prints the output's size at import: that goes to stderr, the JSON stays whole
    result = run(
        "summary", "-f", str(NET), "--trace", "--trace-batch", batch, "--input", "3x32x32", "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    # PyTorch's CIFAR-10 tutorial Net: sum(p.numel()) = 62,006 (examples/EXPECTED.json), 10 classes
    assert doc["total_params"] == 62_006 and doc["output_shape"] == [10]
    assert doc["layers"][0]["output_shape"] == [6, 28, 28]  # nn.Conv2d(3, 6, 5) on 32x32, batch aside


def test_trace_batch_goes_with_trace() -> None:
    result = run("summary", "--input", "8x8x1", "conv:2,3", "--trace-batch", "2")
    assert result.exit_code == 2 and "--trace-batch goes with --trace or --torch" in result.stderr
