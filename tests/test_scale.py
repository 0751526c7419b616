"""The fast plain-text path prints exactly what Rich prints, and every command stays linear.

``explain`` piped to a file skips Rich's per-line rendering (render/documents.py
``explain_plain``); the text must be the same byte for byte, so these tests render both ways.
"""

from __future__ import annotations

import json
import time

import pytest

import cnncalc
from cnncalc.explain import explain
from cnncalc.render.documents import explain_plain, explain_text

from .helpers import run


def rich_text(renderable, width: int | None) -> str:
    from cnncalc.render.console import to_text

    return to_text(renderable, width=width)


@pytest.mark.parametrize("width", [40, 80, 100, 160, None])
@pytest.mark.parametrize("model", ["resnet18", "inception_block", "seed"])
def test_plain_explain_is_richs_explain(model, width) -> None:
    from cnncalc import zoo

    if model == "seed":
        summary = cnncalc.summarize(
            ["conv:16,2,2,valid", "conv:32,3,padding=same"], input_shape=(200, 200, 1)
        )
    else:
        summary = cnncalc.summarize(zoo.load(model))
    explanations = explain(summary)
    plain = explain_plain(summary, explanations, width)
    expected = rich_text(explain_text(summary, explanations), width)
    assert plain is None or plain == expected
    if width is None or width >= 160:
        assert plain is not None  # wide enough: the fast path runs


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("summary",),
        ("summary", "--format", "json"),
        ("summary", "--format", "csv"),
        ("summary", "--format", "markdown"),
        ("explain", "--format", "markdown"),
        ("diagram",),
    ],
)
def test_commands_grow_linearly(tmp_path, args) -> None:
    """10x the layers takes at most ~13x the time (exponent 1.1), in-process so start-up cannot
    hide a quadratic path; benchmarks/scale.py measures whole processes up to 100,000 layers."""

    def seconds(n: int) -> float:
        spec = tmp_path / f"s{n}.json"
        spec.write_text(
            json.dumps(
                {"input_shape": [8, 8, 8], "layers": (["conv:8,3,padding=same", "bn", "relu"] * n)[:n]}
            )
        )
        start = time.process_time()
        result = run(*args, "-f", str(spec))
        assert result.exit_code == 0, result.stderr
        return time.process_time() - start

    seconds(300)  # warm the imports
    small, large = seconds(2_000), seconds(20_000)
    assert large / small < 10**1.1 * 1.15, (small, large)
