"""Dev-only: timm, segmentation-models-pytorch and torchvision models exported with both of
torch's exporters, read by cnncalc and compared with ONNX shape inference (the final shape and
every Conv/Gemm row) and with the file's float initializers (``tools/onnx_wild.py``)."""

from __future__ import annotations

import pytest

from tools.onnx_wild import MODELS, build, compare, export


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize(("source", "name", "size"), MODELS, ids=[f"{s}/{n}" for s, n, _ in MODELS])
def test_wild_export_reads_like_onnx_shape_inference(
    source: str, name: str, size: int, dynamo: bool, tmp_path
) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip(
        {"timm": "timm", "smp": "segmentation_models_pytorch", "torchvision": "torchvision"}[source]
    )
    if dynamo:
        pytest.importorskip("onnxscript")
    path = str(tmp_path / f"{name}.onnx")
    try:
        export(build(source, name), size, dynamo, path)
    except Exception as err:  # noqa: BLE001 - the exporter's own failure is not cnncalc's
        pytest.skip(f"the exporter fails: {type(err).__name__}")
    status, detail = compare(path)
    assert status == "read", detail
