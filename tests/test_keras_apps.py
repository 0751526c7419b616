"""Dev-only: a few ``keras.applications`` models, built by Keras and read by cnncalc, agree layer
by layer (skipped without Keras). The full sweep of every constructor is ``tools/keras_apps.py``
(minutes of CPU: run it by hand; its last counts are in CHANGELOG.md)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "keras_apps.py"


def _tool():
    spec = importlib.util.spec_from_file_location("keras_apps", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MobileNetV3Small", {"input_shape": (96, 96, 3)}),  # keras.ops nodes, broadcasting Multiply
        ("EfficientNetB0", {"include_top": False, "pooling": "avg"}),  # Rescaling, Normalization, None sizes
        ("ConvNeXtTiny", {"input_shape": (64, 64, 3)}),  # nested Sequential, LayerScale
    ],
)
def test_application_agrees_with_keras(name: str, kwargs: dict) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    tool = _tool()
    model = getattr(keras.applications, name)(weights=None, **kwargs)
    doc = {
        "model": json.loads(model.to_json()),
        "expected": tool._figures(model),
        "default_size": tool.default_size(name),
    }
    assert tool.compare_one(doc) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MobileNetV3Small", {}),  # input None x None x 3 by default; Keras: 2,554,968 params
        ("ResNet50", {"include_top": False}),  # None x None x 3 in, None x None x 2048 out
    ],
)
def test_none_sizes_read_as_keras_prints_them(name: str, kwargs: dict) -> None:
    """Issue 21: a model whose input has None sizes reads as Keras prints it (no --input): every
    size equal to Keras's, None where Keras has None, every layer's params and the totals equal."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    tool = _tool()
    model = getattr(keras.applications, name)(weights=None, **kwargs)
    expected = tool._figures(model)
    assert None in expected["layers"][0]["output_shape"]  # the case under test
    doc = {
        "model": json.loads(model.to_json()),
        "expected": expected,
        "default_size": tool.default_size(name),
    }
    assert tool.compare_one(doc, as_keras=True) == []
