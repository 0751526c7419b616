"""Dev-only: model code run in Keras 3 (torch backend) against cnncalc reading the same code.

- every Keras example file in tests/fixtures/model_code, executed live (as make_expected.py does);
- the output of ``export --to keras`` for every Keras zoo model and for 200 random stacks,
  executed in Keras: every row's class, output shape and params must equal cnncalc's.

Skipped when Keras is absent (the default suite compares against the committed fixtures).
Run: ``KERAS_BACKEND=torch PYTHONPATH=. /work/devvenv/bin/python -m pytest tests/test_model_code_frameworks.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from cnncalc import zoo  # noqa: E402
from cnncalc.engine import summarize  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.export import export  # noqa: E402
from cnncalc.io import loads  # noqa: E402
from cnncalc.io.python_source import read_python  # noqa: E402

from .test_export import KERAS_ZOO, random_summaries  # noqa: E402

EXAMPLES = Path(__file__).parent / "fixtures" / "model_code"
pytestmark = pytest.mark.slow


def _maker():
    spec = importlib.util.spec_from_file_location("make_expected", EXAMPLES / "make_expected.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.tensorflow_shim()
    keras.Model.fit = lambda *args, **kwargs: None
    keras.Model.summary = lambda *args, **kwargs: None
    return module


def keras_rows(model) -> dict[str, tuple[str, list[int], int]]:
    return {
        layer.name: (type(layer).__name__, list(layer.output.shape[1:]), int(layer.count_params()))
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    }


def our_rows(summary) -> dict[str, tuple[str, list[int], int]]:
    return {r.name: (r.class_name, list(r.output_shape), r.params) for r in summary.layers}


def run_code(code: str):
    keras.backend.clear_session()
    namespace: dict = {"__name__": "__export__"}
    exec(compile(code, "<export>", "exec"), namespace)  # noqa: S102 - code cnncalc just wrote
    return namespace["model"]


# The course-style examples pass input_shape= to their first layer, which Keras 3 accepts with a
# UserWarning; the suite turns warnings into errors, so this one is allowed here.
@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`:UserWarning")
@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in EXAMPLES.glob("*.py")
        if p.name not in ("make_expected.py", "network3_mnist.py") and not p.name.startswith("pytorch_")
    ),
)
def test_examples_run_in_keras_match(path) -> None:
    maker = _maker()
    maker.stub_datasets()  # an example that loads CIFAR-10 gets zeros of its shape, never a download
    keras.backend.clear_session()
    models = maker.run(path)
    for model in models:
        name = model["variable"] if len(models) > 1 else None
        if "refused" in model:  # a layer class cnncalc has no kind for: one error naming it
            with pytest.raises(CnncalcError, match="|".join(model["refused"])):
                summarize(read_python(path.read_text(), path.name, name))
            continue
        given = tuple(model["input"]) if "input" in model else None
        summary = summarize(read_python(path.read_text(), path.name, name, given))
        ours = [(r.class_name, list(r.output_shape), r.params) for r in summary.layers]
        theirs = {layer[0]: tuple(layer[1:]) for layer in model["layers"]}
        if set(theirs) == {r.name for r in summary.layers}:
            assert our_rows(summary) == theirs
        else:
            assert ours == list(theirs.values())
        assert summary.total_params == model["total_params"]


@pytest.mark.parametrize("name", KERAS_ZOO)
def test_exported_zoo_models_run_in_keras(name) -> None:
    summary = summarize(loads(zoo.load(name)))
    model = run_code(export(summary))
    assert keras_rows(model) == our_rows(summary)
    assert model.count_params() == summary.total_params


def test_exported_random_stacks_run_in_keras() -> None:
    summaries = random_summaries(200, seed=15)
    mismatches = []
    for summary in summaries:
        code = export(summary)
        model = run_code(code)
        if keras_rows(model) != our_rows(summary):
            mismatches.append((json.dumps([r.spec for r in summary.layers]), summary.input_shape))
    assert not mismatches, mismatches[:5]
