"""Write examples/: the files README.md and docs/ name, so every documented command runs as written.

Run from the repository root with the framework venv (Keras 3 on the torch backend, torch, onnx):

    KERAS_BACKEND=torch PYTHONPATH=. /work/devvenv/bin/python tools/make_examples.py

- ``conv-dims.py``, ``network.py``, ``net.py``: model code as the course texts and PyTorch's
  CIFAR-10 tutorial write it (copied from tests/fixtures/model_code, where their framework-written
  expectations live);
- ``model.json``: a JSON spec; ``unet.json``: docs/examples/unet.json;
- ``model.keras``, ``model.h5``: a small Keras CNN saved by Keras (``model.save``);
- ``mobilenet_v3_small.keras`` (its input None x None x 3, as ``MobileNetV3Small(input_shape=(None,
  None, 3))`` saves it) and ``convnext_tiny.keras``: saved by Keras from ``keras.applications``
  with ``weights=None``; the zip's ``model.weights.h5`` (10 MB and 110 MB of random numbers) is
  left out, since cnncalc reads only ``config.json`` (and ``metadata.json``) of these;
- ``model.onnx``: the CIFAR-10 ``Net`` exported by ``torch.onnx.export`` (TorchScript exporter).

``examples/EXPECTED.json`` records each saved model's figures as the framework computes them
(Keras's ``count_params()`` and output shape; torch's ``sum(p.numel())``): tests/test_examples.py
compares cnncalc's reading with them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "examples")
CODE = os.path.join(ROOT, "tests", "fixtures", "model_code")


def strip_weights(path: str) -> None:
    """Rewrite a .keras zip without model.weights.h5 (cnncalc never reads it for these models)."""
    with zipfile.ZipFile(path) as src:
        members = {name: src.read(name) for name in src.namelist() if name != "model.weights.h5"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in members.items():
            dst.writestr(name, data)


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import torch

    os.makedirs(OUT, exist_ok=True)
    shutil.copy(os.path.join(CODE, "conv_dims.py"), os.path.join(OUT, "conv-dims.py"))
    shutil.copy(os.path.join(CODE, "network3_mnist.py"), os.path.join(OUT, "network.py"))
    shutil.copy(os.path.join(CODE, "pytorch_cifar_tutorial.py"), os.path.join(OUT, "net.py"))
    shutil.copy(os.path.join(ROOT, "docs", "examples", "unet.json"), os.path.join(OUT, "unet.json"))
    with open(os.path.join(OUT, "model.json"), "w") as f:
        json.dump(
            {
                "input_shape": [32, 32, 3],
                "layers": ["conv:8,3,activation=relu", "maxpool:2", "flatten", "dense:10"],
            },
            f,
            indent=2,
        )
        f.write("\n")
    expected: dict[str, dict[str, object]] = {}

    small = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name="small_cnn",
    )
    for name in ("model.keras", "model.h5"):
        small.save(os.path.join(OUT, name))
        expected[name] = {"total_params": small.count_params(), "output_shape": list(small.output_shape[1:])}

    apps = {
        "mobilenet_v3_small.keras": keras.applications.MobileNetV3Small(
            input_shape=(None, None, 3), weights=None, include_preprocessing=False
        ),
        "convnext_tiny.keras": keras.applications.ConvNeXtTiny(weights=None),
    }
    for name, model in apps.items():
        path = os.path.join(OUT, name)
        model.save(path)
        strip_weights(path)
        expected[name] = {"total_params": model.count_params(), "output_shape": list(model.output_shape[1:])}

    sys.path.insert(0, CODE)
    from torch import nn

    namespace: dict[str, object] = {}
    source = open(os.path.join(CODE, "pytorch_cifar_tutorial.py")).read().split("net = Net()")[0]
    exec(compile(source, "net.py", "exec"), namespace)  # our own fixture, written by this project
    net = namespace["Net"]()
    assert isinstance(net, nn.Module)
    with tempfile.TemporaryDirectory():
        torch.onnx.export(
            net.eval(), (torch.randn(1, 3, 32, 32),), os.path.join(OUT, "model.onnx"), dynamo=False
        )
    expected["model.onnx"] = {"total_params": sum(p.numel() for p in net.parameters()), "output_shape": [10]}
    with open(os.path.join(OUT, "EXPECTED.json"), "w") as f:
        json.dump({"keras": keras.__version__, "torch": torch.__version__, "files": expected}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
