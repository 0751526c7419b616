"""Dev-only: PyTorch model code run in torch (2.13.0 CPU) against cnncalc reading the same code.

- every ``pytorch_*.py`` example in tests/fixtures/model_code, executed live under forward hooks
  (as make_expected.py does): every module call's output shape and params;
- the output of ``export --to pytorch`` for every PyTorch zoo model it can express and for 200
  random stacks, executed in torch: every module's output shape and params, the model's output
  and ``sum(p.numel() for p in model.parameters())``.

Skipped when torch is absent. Run: ``PYTHONPATH=. /work/devvenv/bin/python -m pytest tests/test_model_code_torch.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from cnncalc import zoo  # noqa: E402
from cnncalc.engine import summarize  # noqa: E402
from cnncalc.export import export  # noqa: E402
from cnncalc.io import loads  # noqa: E402
from cnncalc.io.python_source import read_python  # noqa: E402

from .test_export import TORCH_ZOO, random_torch_summaries  # noqa: E402

EXAMPLES = Path(__file__).parent / "fixtures" / "model_code"
pytestmark = pytest.mark.slow


def _maker():
    spec = importlib.util.spec_from_file_location("make_expected", EXAMPLES / "make_expected.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(summary, expected: dict) -> None:
    rows = {r.name: r for r in summary.layers}
    for name, module in expected["modules"].items():
        for k, shape in enumerate(module["outputs"]):
            assert list(rows[name if k == 0 else f"{name}_{k}"].output_shape) == shape, name
        assert rows[name].params == module["params"], name
    assert list(summary.output_shape) == expected["output"]
    assert summary.total_params == expected["total_params"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("pytorch_*.py")), ids=lambda p: p.stem)
def test_examples_run_in_torch_match(path) -> None:
    expected = _maker().run_torch(path)
    compare(summarize(read_python(path.read_text(), path.name, expected.get("model_name"))), expected)


def _run_export(tmp_path: Path, summary) -> dict:
    code = export(summary, "pytorch")
    path = tmp_path / "export.py"
    path.write_text(code.replace('if __name__ == "__main__":', "if True:"))
    return _maker().run_torch(path)


@pytest.mark.parametrize("name", TORCH_ZOO)
def test_exported_zoo_models_run_in_torch(tmp_path, name) -> None:
    summary = summarize(loads(zoo.load(name)))
    expected = _run_export(tmp_path, summary)
    back = summarize(read_python((tmp_path / "export.py").read_text()))
    compare(back, expected)
    assert back.output_shape == summary.output_shape and back.total_params == summary.total_params


def test_exported_random_stacks_run_in_torch(tmp_path) -> None:
    for summary in random_torch_summaries(200, seed=15):
        expected = _run_export(tmp_path, summary)
        back = summarize(read_python((tmp_path / "export.py").read_text()))
        compare(back, expected)
        assert [r.output_shape for r in back.layers] == [r.output_shape for r in summary.layers]
        assert back.total_params == summary.total_params
