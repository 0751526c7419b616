"""The test models that ship inside the ``onnx`` package (``onnx/backend/test/data``: the ONNX model
zoo's ``light/`` networks, ``pytorch-converted/``, ``pytorch-operator/``, ``simple/``), each read
by cnncalc and compared with its own expected output tensor (``output_0.pb``: the final shape) and
with ONNX shape inference (every row whose node onnx can shape).

Runs wherever onnx is installed (the ``test`` extra installs it); the listing and the reasons are
``tools/onnx_backend_models.py``. The models cnncalc leaves are listed below with the reason: none
is a vision network (strings, sequences, a training-only op).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc
from cnncalc.errors import CnncalcError
from cnncalc.io.onnx_wire import read_graph
from cnncalc.io.sources import read_spec
from tools.onnx_backend_models import expected_shape, models

onnx = pytest.importorskip("onnx")

#: Models left, with the op that decides it: none has a tensor shape a summary could show.
LEFTOVERS = {
    "simple/test_sequence_model1": "SequenceEmpty",  # sequences of tensors, not tensors
    "simple/test_sequence_model2": "SequenceConstruct",
    "simple/test_sequence_model3": "SequenceConstruct",
    "simple/test_sequence_model4": "SequenceConstruct",
    "simple/test_sequence_model5": "SequenceConstruct",
    "simple/test_sequence_model6": "SplitToSequence",
    "simple/test_sequence_model7": "SplitToSequence",
    "simple/test_sequence_model8": "expected a positive integer",  # an empty input (and a sequence)
    "simple/test_gradient_of_add": "Gradient",  # a training-only op (ai.onnx.preview.training)
    "simple/test_gradient_of_add_and_mul": "Gradient",
    "simple/test_strnorm_model_monday_casesensintive_lower": "StringNormalizer",  # strings
    "simple/test_strnorm_model_monday_casesensintive_nochangecase": "StringNormalizer",
    "simple/test_strnorm_model_monday_casesensintive_upper": "StringNormalizer",
    "simple/test_strnorm_model_monday_empty_output": "StringNormalizer",
    "simple/test_strnorm_model_nostopwords_nochangecase": "StringNormalizer",
}

MODELS = list(models())


def _inputs(path: Path, ident: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Named input shapes from the model's own test inputs (input_k.pb), for dynamic inputs."""
    graph = read_graph(path.read_bytes())
    dynamic = [(n, d) for n, d in graph.inputs if n not in graph.initializers and None in d]
    if not dynamic or ident.startswith("light/"):
        return ()
    data = path.parent / "test_data_set_0"
    names = [n for n, _ in graph.inputs if n not in graph.initializers]
    out = []
    for k, name in enumerate(names):
        dims = expected_shape(data / f"input_{k}.pb")
        if dims is not None and name in dict(dynamic):
            out.append((name, dims[1:] if len(dims) >= 2 else dims))
    return tuple(out)


@pytest.mark.parametrize(("ident", "path", "output"), MODELS, ids=[m[0] for m in MODELS])
def test_backend_model(ident: str, path: Path, output: Path | None) -> None:
    if ident in LEFTOVERS:
        with pytest.raises(CnncalcError) as err:
            cnncalc.summarize(read_spec(str(path), inputs=_inputs(path, ident)))
        assert LEFTOVERS[ident] in str(err.value) and "\n" not in str(err.value)
        return
    spec = read_spec(str(path), inputs=_inputs(path, ident))
    summary = cnncalc.summarize(spec)
    rows = {row.name: row.output_shape for row in summary.layers}
    want = expected_shape(output)
    if want is not None:
        got = rows[spec.outputs[0]] if spec.outputs else summary.output_shape
        assert tuple(got) in (want, want[1:]), (got, want)
    model = onnx.load(str(path))
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception:  # noqa: BLE001 - onnx cannot shape some of its own old test models
        return
    dims = {
        v.name: tuple(d.dim_value if d.HasField("dim_value") else 0 for d in v.type.tensor_type.shape.dim)
        for v in (*inferred.graph.value_info, *inferred.graph.output)
    }
    for node in model.graph.node:
        name = node.name or node.output[0]
        shape = dims.get(node.output[0])
        if name in rows and shape and 0 not in shape and len(node.output) == 1:
            assert tuple(rows[name]) in (shape, shape[1:]), (name, rows[name], shape)


def test_count_read() -> None:
    # onnx 1.23 ships 149 models: every one but the 15 listed reads (65 before the wire reader
    # and opaque rows); other versions ship other sets, each model checked above all the same
    if onnx.__version__.startswith("1.23."):
        assert len(MODELS) == 149
        assert len(MODELS) - len(LEFTOVERS) == 134
    assert len(MODELS) > 100
