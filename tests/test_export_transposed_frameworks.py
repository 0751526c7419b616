"""Dev-only: Keras's transposed 'same' and the PyTorch code ``cnncalc export --to pytorch`` writes
for it compute the same numbers, cell for cell (skipped without torch and Keras; run with
/work/devvenv, KERAS_BACKEND=torch). The Keras layer's kernel and bias are copied into the
exported ConvTranspose (Keras's kernel is (k..., out, in), PyTorch's weight (in, out, k...)), the
same input runs through both, and the outputs (channels moved) must agree: an odd crop written
as padding=ceil(t/2), output_padding=1 would be one cell off.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")

import numpy as np  # noqa: E402

from cnncalc.engine import summarize  # noqa: E402
from cnncalc.export import export  # noqa: E402
from cnncalc.io import from_layers  # noqa: E402

#: spatial input shapes per rank (odd and even lengths)
SHAPES = {1: (5,), 2: (5, 4)}


def run(code: str) -> dict:
    namespace: dict = {"__name__": "__export__"}
    exec(compile(code, "<export>", "exec"), namespace)  # noqa: S102 - code cnncalc just wrote
    return namespace


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [2, 3, 4, 5])
def test_exported_transposed_same_matches_keras_numerically(rank, stride, kernel) -> None:
    spatial, channels, filters = SHAPES[rank], 2, 3
    cls = {1: keras.layers.Conv1DTranspose, 2: keras.layers.Conv2DTranspose}[rank]
    layer = cls(filters, kernel, strides=stride, padding="same")
    x = np.random.default_rng(kernel * 10 + stride).standard_normal((1, *spatial, channels)).astype("float32")
    expected = layer(torch.from_numpy(x)).detach().cpu().numpy()
    kernel_w, bias = (w.value.detach().cpu().numpy() for w in layer.weights)

    summary = summarize(
        from_layers([f"conv{rank}dtranspose:{filters},{kernel},{stride},same"]),
        input_shape=(*spatial, channels),
    )
    model = run(export(summary, "pytorch"))["model"].eval()
    deconvs = [m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvTransposeNd)]
    assert len(deconvs) == 1
    order = (rank + 1, rank, *range(rank))  # (k..., out, in) -> (in, out, k...)
    with torch.no_grad():
        deconvs[0].weight.copy_(torch.from_numpy(kernel_w.transpose(order).copy()))
        deconvs[0].bias.copy_(torch.from_numpy(bias))
        first = torch.from_numpy(np.moveaxis(x, -1, 1).copy())
        got = np.moveaxis(model(first).numpy(), 1, -1)
    assert got.shape == expected.shape == (1, *(n * stride for n in spatial), filters)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
