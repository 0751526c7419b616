"""Dev-only: the output of ``cnncalc export`` run in the frameworks, every row compared with the
model cnncalc computed (skipped without torch and Keras; run with /work/devvenv, KERAS_BACKEND=torch).

- every zoo model exported to both targets (torchvision's under torch and, channels_first, under
  Keras; Keras's under Keras and, NCHW, under torch), except what tests/test_export.py's REFUSED lists;
- 200 random stacks per direction across the conventions (Keras rules -> torch, PyTorch rules ->
  Keras).

A framework row is a Keras layer (its output shape, trainable weights, all weights) or a torch
module call (forward hook: output shape, parameters, buffers but num_batches_tracked, which
Keras has no counterpart for); its
cnncalc twin has the same name (PyTorch: ``.`` and ``-`` written ``_``) plus the helpers the export
adds (zero padding, upsampling, a separable conv's depthwise half, a cropped transposed conv).
PyTorch's functional rows (``x + y``, ``torch.cat``, ``x.mean``) have no module: the model's output
shape covers them.
"""

from __future__ import annotations

import math
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

from cnncalc import zoo  # noqa: E402
from cnncalc.engine import summarize  # noqa: E402
from cnncalc.enums import DataFormat  # noqa: E402
from cnncalc.export import HELPER_SUFFIXES, export  # noqa: E402
from cnncalc.export_torch import HELPER_SUFFIXES as TORCH_HELPERS  # noqa: E402
from cnncalc.io import loads  # noqa: E402

from .test_export import (  # noqa: E402
    REFUSED,
    channels_first,
    cross_summaries,
    exported_name,
    state,
)

pytestmark = pytest.mark.slow


def run(code: str) -> dict:
    namespace: dict = {"__name__": "__export__"}
    exec(compile(code, "<export>", "exec"), namespace)  # noqa: S102 - code cnncalc just wrote
    return namespace


def keras_rows(code: str) -> tuple[dict, tuple]:
    model = run(code)["model"]
    rows = {}
    for layer in model.layers:
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        rows[layer.name] = (tuple(layer.output.shape[1:]), trainable, layer.count_params())
    return rows, tuple(model.outputs[0].shape[1:])


def torch_rows(code: str, shape: tuple) -> tuple[dict, tuple]:
    model = run(code)["model"].eval()
    names = {module: name for name, module in model.named_modules() if name}
    rows: dict = {}

    def hook(module, inputs, output):  # noqa: ANN001 - torch's hook signature
        name = names.get(module)
        if name is None or name in rows or list(module.children()):
            return
        params = sum(p.numel() for p in module.parameters(recurse=False))
        buffers = sum(b.numel() for n, b in module.named_buffers(recurse=False) if n != "num_batches_tracked")
        rows[name] = (tuple(output.shape[1:]), params, params + buffers)

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        with torch.no_grad():
            out = model(torch.randn(1, *shape))
    finally:
        handle.remove()
    return rows, tuple(out.shape[1:])


def check_in_framework(summary, target: str) -> int:
    """Run the export; compare every row the framework shows; the number of rows compared."""
    code = export(summary, target)
    move = target == "pytorch" and summary.data_format is DataFormat.CHANNELS_LAST
    if target == "keras":
        rows, output = keras_rows(code)
    else:
        shape = summary.model_inputs[0][1]
        rows, output = torch_rows(code, channels_first(shape) if move else tuple(shape))
    originals = {exported_name(row.name, target) for row in summary.layers}
    compared = 0
    for row in summary.layers:
        key = exported_name(row.name, target)
        if key not in rows:
            assert target == "pytorch", row.name  # every Keras layer is a layer of the model
            continue
        fused = row.config.get("activation", "linear")
        helpers = [
            rows[f"{key}_{s}"]
            for s in dict.fromkeys((*HELPER_SUFFIXES, *TORCH_HELPERS))  # both write 'deconv'
            if f"{key}_{s}" in rows and f"{key}_{s}" not in originals
        ]
        shape = channels_first(row.output_shape) if move else tuple(row.output_shape)
        got, trainable, held = rows[key]
        assert got == shape, (row.name, shape, got)
        assert trainable + sum(h[1] for h in helpers) == row.trainable_params, row.name
        assert held + sum(h[2] for h in helpers) == state(row), (row.name, fused)
        compared += 1
    final = channels_first(summary.output_shape) if move else tuple(summary.output_shape)
    assert output == final
    return compared


@pytest.mark.parametrize("target", ["keras", "pytorch"])
@pytest.mark.parametrize("name", [n for n in zoo.names()])
def test_every_zoo_export_runs_in_the_framework(name, target) -> None:
    if (name, target) in REFUSED:
        pytest.skip(REFUSED[name, target])
    summary = summarize(loads(zoo.load(name)))
    compared = check_in_framework(summary, target)
    print(f"{name} -> {target}: {compared} rows of {len(summary.layers)} compared")


@pytest.mark.parametrize("target", ["keras", "pytorch"])
def test_200_random_stacks_across_conventions_run_in_the_framework(target) -> None:
    compared = 0
    summaries = cross_summaries(200, seed=1515, target=target)
    for summary in summaries:
        compared += check_in_framework(summary, target)
    print(f"random -> {target}: {len(summaries)} models, {compared} rows compared")
