"""Write tests/fixtures/new_kinds.json: what PyTorch and Keras 3 say about the kinds added the
one-definition way (PixelShuffle, PixelUnshuffle, GroupNorm/GroupNormalization, InstanceNorm),
so the default suite checks cnncalc's figures against the frameworks without either installed.

Run with the dev venv: ``KERAS_BACKEND=torch python tools/make_new_kinds_fixture.py``.
Each case: our spec, the input shape (no batch axis), the convention, and the framework's output
shape, parameter count and buffer count.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "new_kinds.json"
#: a Keras model document with GroupNormalization layers, as ``model.to_json()`` writes it
KERAS_DOC = OUT.parent / "keras" / "group_normalization.json"

TORCH = [
    ("pixelshuffle:2", "PixelShuffle", (2,), {}, (16, 7, 5)),
    ("pixelshuffle:4", "PixelShuffle", (4,), {}, (48, 3, 3)),
    ("pixelunshuffle:2", "PixelUnshuffle", (2,), {}, (3, 8, 6)),
    ("pixelunshuffle:3", "PixelUnshuffle", (3,), {}, (5, 9, 12)),
    ("groupnormalization:4,num_channels=32", "GroupNorm", (4, 32), {}, (32, 10, 10)),
    ("groupnormalization:2,center=false,scale=false", "GroupNorm", (2, 8), {"affine": False}, (8, 6)),
    ("instancenorm1d", "InstanceNorm1d", (6,), {}, (6, 20)),
    ("instancenorm2d:affine=true", "InstanceNorm2d", (16,), {"affine": True}, (16, 9, 9)),
    (
        "instancenorm2d:track_running_stats=true",
        "InstanceNorm2d",
        (8,),
        {"track_running_stats": True},
        (8, 4, 4),
    ),
    (
        "instancenorm3d:affine=true,track_running_stats=true",
        "InstanceNorm3d",
        (4,),
        {"affine": True, "track_running_stats": True},
        (4, 3, 5, 5),
    ),
]

KERAS = [
    ("groupnormalization:2", {"groups": 2}, (8, 8, 6)),
    ("groupnormalization:-1", {"groups": -1}, (10, 12)),
    ("groupnormalization:4,center=false", {"groups": 4, "center": False}, (3, 4, 5, 16)),
]


def main() -> None:
    cases = []
    for spec, name, args, kwargs, shape in TORCH:
        module = getattr(torch.nn, name)(*args, **kwargs).eval()
        y = module(torch.zeros(1, *shape))
        cases.append(
            {
                "spec": spec,
                "framework": f"torch.nn.{name}{args}" + (f" {kwargs}" if kwargs else ""),
                "input_shape": list(shape),
                "convention": "pytorch",
                "output_shape": list(y.shape[1:]),
                "params": sum(p.numel() for p in module.parameters()),
                "buffers": sum(b.numel() for b in module.buffers()),
            }
        )
    for spec, config, shape in KERAS:
        layer = keras.layers.GroupNormalization(**config)
        model = keras.Sequential([keras.Input(shape), layer])
        cases.append(
            {
                "spec": spec,
                "framework": f"keras.layers.GroupNormalization({config})",
                "input_shape": list(shape),
                "convention": "keras",
                "output_shape": list(model.output_shape[1:]),
                "params": model.count_params(),
                "buffers": 0,
            }
        )
    model = keras.Sequential(
        [
            keras.Input((8, 8, 6)),
            keras.layers.GroupNormalization(3),
            keras.layers.GroupNormalization(-1, center=False),
        ],
        name="group_norms",
    )
    KERAS_DOC.write_text(model.to_json(indent=1) + "\n")
    keras_model = {
        "file": KERAS_DOC.name,
        "output_shape": list(model.output_shape[1:]),
        "params": [layer.count_params() for layer in model.layers],
        "total_params": model.count_params(),
    }
    document = {
        "torch": torch.__version__,
        "keras": keras.__version__,
        "cases": cases,
        "keras_model": keras_model,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
