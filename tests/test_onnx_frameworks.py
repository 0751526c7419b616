"""Dev-only cross-check of the ONNX reader against real torch/torchvision/onnx (skips without them).

For each of torchvision's 15 classification models and both exporters (TorchScript and dynamo):
cnncalc's final shape and every Conv/Gemm row's output shape equal onnx shape inference's, and
params + buffers equal the elements of the float initializers each node reads.
"""

from __future__ import annotations

import math
import warnings

import pytest

import cnncalc
from cnncalc.io.sources import read_spec

MODELS = (
    "alexnet",
    "vgg16",
    "vgg19",
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "squeezenet1_0",
    "shufflenet_v2_x1_0",
    "densenet121",
    "googlenet",
    "inception_v3",
    "efficientnet_b0",
    "regnet_y_400mf",
    "convnext_tiny",
)


def export(name: str, dynamo: bool, path: str) -> None:
    """Export torchvision's ``name`` (random weights, eval mode) with the chosen exporter."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    kw = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    model = getattr(torchvision.models, name)(weights=None, **kw).eval()
    size = 299 if name == "inception_v3" else 224
    x = torch.randn(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (x,), path, dynamo=True, external_data=False, verbose=False)
        else:
            torch.onnx.export(
                model, (x,), path, dynamo=False, input_names=["input"], dynamic_axes={"input": {0: "batch"}}
            )


def inferred(path: str) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...], int]:
    """onnx shape inference: output shapes by node name, the graph's output shape, and the float
    initializer elements the nodes read (counted per use: exporters share equal initializers)."""
    onnx = pytest.importorskip("onnx")
    model = onnx.shape_inference.infer_shapes(onnx.load(path, load_external_data=False))
    g = model.graph
    dims = {
        v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim) for v in (*g.value_info, *g.output)
    }
    floats = {t.name: math.prod(t.dims) for t in g.initializer if t.data_type in (1, 10, 11, 16)}
    # Clip's min/max are bounds, not weights (ReLU6 as Clip(0, 6)); a one-value tensor in
    # arithmetic (GELU's sqrt(2), the dynamo exporter's scalars) is a constant, not a weight.
    arithmetic = {"Add", "Sub", "Mul", "Div", "Pow"}
    per_use = sum(
        floats.get(name, 0)
        for node in g.node
        if node.op_type != "Clip"
        for name in node.input
        if not (node.op_type in arithmetic and floats.get(name) == 1)
    )
    by_node = {n.name: dims[n.output[0]] for n in g.node if n.op_type in ("Conv", "Gemm")}
    return by_node, dims[g.output[0].name], per_use


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_onnx_export_reads_like_onnx_shape_inference(name: str, dynamo: bool, tmp_path) -> None:
    pytest.importorskip("onnxscript" if dynamo else "onnx")
    path = str(tmp_path / f"{name}.onnx")
    export(name, dynamo, path)
    by_node, final, per_use = inferred(path)
    summary = cnncalc.summarize(read_spec(path))
    rows = {row.name: row for row in summary.layers}
    assert summary.output_shape == final[1:]
    for node, shape in by_node.items():
        # 0: a size onnx inference left symbolic (ShuffleNet's chunk under a dynamic batch)
        got = rows[node].output_shape
        assert all(a == b for a, b in zip(got, shape[1:], strict=True) if b), (node, got, shape)
    assert summary.total_params + summary.total_buffers == per_use
    stored = onnx_stored(path)
    assert summary.stored_elements == stored


def onnx_stored(path: str) -> int:
    """Elements of the float initializers the file stores, each once (as onnx-tool counts)."""
    onnx = pytest.importorskip("onnx")
    g = onnx.load(path, load_external_data=False).graph
    return sum(math.prod(t.dims) for t in g.initializer if t.data_type in (1, 10, 11, 16))
