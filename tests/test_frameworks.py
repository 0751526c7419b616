"""Dev-only cross-checks against real Keras 3 and PyTorch; skipped cleanly when they are absent.

Install for a local run: ``pip install torch==2.13.0 keras`` (the CPU torch wheel on this
machine's disk); tests set ``KERAS_BACKEND=torch``. Neither is ever a runtime dependency.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.numeric import executor as X


@st.composite
def keras_layer(draw: st.DrawFn) -> tuple[str, dict, tuple[int, ...]]:
    """A Keras class name, its config (our argument names are Keras's) and an input shape."""
    kind = draw(
        st.sampled_from(
            [
                "Conv1D",
                "Conv2D",
                "Conv3D",
                "DepthwiseConv2D",
                "SeparableConv2D",
                "Conv2DTranspose",
                "Conv1DTranspose",
                "MaxPooling2D",
                "AveragePooling1D",
                "ZeroPadding2D",
                "Cropping2D",
                "UpSampling2D",
                "GlobalAveragePooling2D",
            ]
        )
    )
    rank = 3 if "3D" in kind else 1 if "1D" in kind else 2
    shape = tuple(draw(st.integers(6, 14)) for _ in range(rank)) + (draw(st.integers(1, 4)),)
    ints = lambda lo, hi: [draw(st.integers(lo, hi)) for _ in range(rank)]  # noqa: E731
    padding = draw(st.sampled_from(["valid", "same"]))
    strides = ints(1, 3)
    if "Conv" in kind and "Transpose" not in kind or kind.startswith(("Depthwise", "Separable")):
        dilation = [1] * rank if max(strides) > 1 else ints(1, 2)
        config = {
            "kernel_size": ints(1, 4),
            "strides": strides,
            "padding": padding,
            "dilation_rate": dilation,
        }
        if kind.startswith("Depthwise"):
            config["depth_multiplier"] = draw(st.integers(1, 2))
        else:
            config["filters"] = draw(st.integers(1, 5))
    elif "Transpose" in kind:
        config = {
            "filters": draw(st.integers(1, 4)),
            "kernel_size": ints(1, 4),
            "strides": strides,
            "padding": padding,
        }
        if draw(st.booleans()):
            config["output_padding"] = [draw(st.integers(0, s - 1)) for s in strides]
    elif "Pooling" in kind and "Global" not in kind:
        config = {"pool_size": ints(1, 3), "strides": strides, "padding": padding}
    elif kind == "ZeroPadding2D":
        config = {"padding": [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(rank)]}
    elif kind == "Cropping2D":
        config = {"cropping": [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(rank)]}
    elif kind == "UpSampling2D":
        config = {"size": ints(1, 3)}
    else:
        config = {"keepdims": draw(st.booleans())}
    return kind, config, shape


@settings(max_examples=60, deadline=None)
@given(keras_layer())
def test_shapes_and_params_match_keras(case) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    kind, config, shape = case
    try:
        layer = getattr(keras.layers, kind)(**config)
        model = keras.Sequential([keras.Input(shape), layer])
        theirs = (tuple(model.output_shape[1:]), model.count_params())
    except Exception:  # noqa: BLE001 - Keras refused the config: we must refuse it too
        theirs = None
    try:
        row = cnncalc.summarize(
            {"layers": [{"class_name": kind, "config": config}]}, input_shape=shape
        ).layers[0]
        ours = (row.output_shape, row.params)
    except cnncalc.CnncalcError:
        ours = None
    if theirs is not None and any(n is not None and n <= 0 for n in theirs[0]):
        theirs = None  # Keras computed an empty output instead of raising
    assert ours == theirs, (kind, config, shape)


@st.composite
def torch_transposed(draw: st.DrawFn) -> dict:
    s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    return {
        "n": draw(st.integers(1, 8)),
        "c": draw(st.sampled_from([2, 4])),
        "k": draw(st.sampled_from([2, 4])),
        "f": draw(st.integers(1, 4)),
        "s": s,
        "d": d,
        "p": draw(st.integers(0, 2)),
        "op": draw(st.integers(0, max(s, d) - 1)),
        "g": draw(st.sampled_from([1, 2])),
    }


@settings(max_examples=60, deadline=None)
@given(torch_transposed())
def test_transposed_conv_matches_torch(case) -> None:
    torch = pytest.importorskip("torch")
    n, c, k, f, s, d, p, op, g = (case[x] for x in ("n", "c", "k", "f", "s", "d", "p", "op", "g"))
    spec = f"conv2dtranspose:{k},{f},{s},{p},output_padding={op},dilation={d},groups={g}"
    x = np.random.default_rng(0).standard_normal((2, c, n, n + 1))
    weight = torch.randn(c, k // g, f, f, dtype=torch.float64)
    try:
        theirs = torch.nn.functional.conv_transpose2d(
            torch.from_numpy(x), weight, None, s, p, op, g, d
        ).numpy()
    except RuntimeError:
        theirs = None
    try:
        summary = cnncalc.summarize([spec + ",bias=false"], input_shape=(c, n, n + 1), convention="pytorch")
    except cnncalc.CnncalcError:
        assert theirs is None or 0 in theirs.shape, spec
        return
    assert theirs is not None, spec
    row = summary.layers[0]
    assert row.output_shape == theirs.shape[1:], spec
    # torch weight (C_in, K/g, F, F) -> Keras layout (F, F, K/g, C_in)
    kernel = np.transpose(weight.numpy(), (2, 3, 1, 0))
    ours = X.forward(row.layer, x, {"kernel": kernel}, summary.context)
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_depthwise_matches_torch_grouped_conv() -> None:
    torch = pytest.importorskip("torch")
    summary = cnncalc.summarize(
        ["depthwise:3,2,1,depth_multiplier=2,bias=false"], input_shape=(3, 9, 8), convention="pytorch"
    )
    row = summary.layers[0]
    x = np.random.default_rng(1).standard_normal((1, 3, 9, 8))
    weights = X.init_weights(row.layer, (3, 9, 8), summary.context, np.random.default_rng(2), np.float64)
    kernel = weights["depthwise_kernel"]  # (F, F, C, dm) -> torch (C*dm, 1, F, F), channel c*dm + m
    torch_weight = torch.from_numpy(np.transpose(kernel.reshape(3, 3, 6), (2, 0, 1))[:, None].copy())
    theirs = torch.nn.functional.conv2d(torch.from_numpy(x), torch_weight, None, 2, 1, 1, 3).numpy()
    np.testing.assert_allclose(X.forward(row.layer, x, weights, summary.context), theirs, atol=1e-10)


def test_bilinear_upsampling_matches_keras() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(3).standard_normal((1, 4, 5, 2)).astype("float32")
    theirs = np.asarray(keras.layers.UpSampling2D((2, 3), interpolation="bilinear")(x))
    summary = cnncalc.summarize(["upsampling2d:2x3,interpolation=bilinear"], input_shape=(4, 5, 2))
    ours = X.forward(summary.layers[0].layer, x, {}, summary.context)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
