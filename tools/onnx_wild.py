"""ONNX files nobody on the project wrote: timm, torchvision and segmentation-models-pytorch models
exported with both of torch's exporters (TorchScript, ``dynamo=False``, and dynamo), each read by
cnncalc and compared with ONNX shape inference (the graph's output and every Conv/Gemm row) and
with the file's float initializers (``stored_elements``).

Dev-only (torch 2.13, torchvision, timm, segmentation-models-pytorch, onnx, onnxscript):

    PYTHONPATH=. /work/devvenv/bin/python tools/onnx_wild.py [--only NAME] [--exporter torchscript|dynamo]

Prints one line per file (read / refused with the reason / wrong) and the counts.
``tests/test_onnx_wild.py`` runs the same comparison (marked slow).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import warnings
from typing import Any

#: (source, name, input size): the families the issue tried, one or two of each.
MODELS = (
    ("timm", "resnet18", 224),
    ("timm", "hrnet_w18_small", 224),
    ("timm", "cspdarknet53", 256),
    ("timm", "convnextv2_atto", 224),
    ("timm", "ghostnet_100", 224),
    ("timm", "mobilevit_xxs", 256),
    ("timm", "efficientnet_b0", 224),
    ("timm", "regnety_002", 224),
    ("timm", "mobilenetv3_small_100", 224),
    ("timm", "densenet121", 224),
    ("timm", "vit_tiny_patch16_224", 224),
    ("timm", "deit_tiny_patch16_224", 224),
    ("timm", "levit_128s", 224),
    ("timm", "poolformer_s12", 224),
    ("timm", "coat_lite_tiny", 224),
    ("timm", "swin_tiny_patch4_window7_224", 224),
    ("timm", "dla34", 224),
    ("timm", "res2net50_26w_4s", 224),
    ("smp", "Unet", 256),
    ("smp", "FPN", 256),
    ("smp", "DeepLabV3Plus", 256),
    ("smp", "PSPNet", 256),
    ("smp", "Linknet", 256),
    ("torchvision", "mobilenet_v3_large", 224),
)


def _torchvision_guard() -> None:
    """torchvision registers fake kernels for ops this CPU build lacks (nms): skip those."""
    import torch

    original = torch.library.register_fake

    def guard(op: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(op, str) and op.startswith("torchvision::"):
            if not hasattr(torch.ops.torchvision, op.split("::")[1]):
                return (lambda f: f) if not args else None
        return original(op, *args, **kwargs)

    torch.library.register_fake = guard


def build(source: str, name: str) -> Any:
    if source == "timm":
        import timm

        return timm.create_model(name, pretrained=False).eval()
    if source == "smp":
        import segmentation_models_pytorch as smp

        return getattr(smp, name)(encoder_name="resnet18", encoder_weights=None, classes=3).eval()
    _torchvision_guard()
    import torchvision

    return getattr(torchvision.models, name)(weights=None).eval()


def export(model: Any, size: int, dynamo: bool, path: str) -> None:
    import torch

    x = torch.randn(1, 3, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (x,), path, dynamo=True, external_data=False, verbose=False)
        else:
            torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17)


def compare(path: str) -> tuple[str, str]:
    """("read"|"refused"|"wrong", detail): cnncalc against ONNX shape inference and the file."""
    import onnx

    import cnncalc
    from cnncalc.errors import CnncalcError
    from cnncalc.io.sources import read_spec

    try:
        spec = read_spec(path)
        summary = cnncalc.summarize(spec)
    except CnncalcError as err:
        return "refused", str(err).split(": ", 1)[-1][:200]
    model = onnx.shape_inference.infer_shapes(onnx.load(path, load_external_data=False))
    g = model.graph
    dims = {
        v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim) for v in (*g.value_info, *g.output)
    }
    rows = {row.name: row.output_shape for row in summary.layers}
    final = dims[g.output[0].name]
    got = rows[spec.outputs[0]] if spec.outputs else summary.output_shape
    if tuple(got) not in (final, final[1:]):
        return "wrong", f"output {got} != {final}"
    checked = 0
    for node in g.node:
        if node.op_type in ("Conv", "Gemm") and node.name in rows and node.output[0] in dims:
            want = dims[node.output[0]][1:]
            if any(b and a != b for a, b in zip(rows[node.name], want, strict=True)):
                return "wrong", f"{node.name}: {rows[node.name]} != {want}"
            checked += 1
    stored = sum(math.prod(t.dims) for t in g.initializer if t.data_type in (1, 10, 11, 16))
    if summary.stored_elements != stored:
        return "wrong", f"stored {summary.stored_elements} != {stored}"
    opaque = sum(1 for row in summary.layers if row.opaque)
    return "read", (
        f"{tuple(got)}, {checked} conv/gemm rows equal, params+buffers "
        f"{summary.total_params + summary.total_buffers:,} / stored {stored:,}, {opaque} opaque rows"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None)
    parser.add_argument("--exporter", choices=("torchscript", "dynamo"), default=None)
    args = parser.parse_args()
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for source, name, size in MODELS:
            if args.only and args.only != name:
                continue
            for dynamo in (False, True):
                exporter = "dynamo" if dynamo else "torchscript"
                if args.exporter and args.exporter != exporter:
                    continue
                path = os.path.join(tmp, f"{name}-{exporter}.onnx")
                try:
                    export(build(source, name), size, dynamo, path)
                except Exception as err:  # noqa: BLE001 - the exporter's failure is not ours
                    print(f"{'no-export':9} {source}/{name} {exporter}: {type(err).__name__}", flush=True)
                    counts["no-export"] = counts.get("no-export", 0) + 1
                    continue
                status, detail = compare(path)
                counts[status] = counts.get(status, 0) + 1
                print(f"{status:9} {source}/{name} {exporter}: {detail}", flush=True)
                os.remove(path)
    print(" ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
