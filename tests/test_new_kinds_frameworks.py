"""Dev-only: the kinds added the one-definition way (PixelShuffle, PixelUnshuffle,
GroupNormalization, InstanceNorm1d/2d/3d) against PyTorch, Keras 3 and ONNX Runtime: shapes,
params and buffers as each framework counts them, and the executor's numbers on the same weights.
Skipped when a framework is absent.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import cnncalc
from cnncalc.numeric import executor as X


def _ours(spec: str, shape: tuple[int, ...], convention: str, x: np.ndarray, w: dict | None = None):
    s = cnncalc.summarize([spec], input_shape=shape, convention=convention)
    row = s.layers[0]
    if w is None:
        w = X.init_weights(row.layer, shape, s.context, np.random.default_rng(1), np.float64)
    return row, X.forward(row.layer, x, w, s.context), w


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ("pixelshuffle:2", (12, 3, 5)),
        ("pixelshuffle:3", (9, 2, 2)),
        ("pixelunshuffle:2", (3, 4, 6)),
        ("pixelunshuffle:3", (2, 9, 3)),
    ],
)
def test_pixel_shuffles_against_torch(spec: str, shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    r = int(spec.split(":")[1])
    module = torch.nn.PixelShuffle(r) if spec.startswith("pixelshuffle") else torch.nn.PixelUnshuffle(r)
    x = np.random.default_rng(0).standard_normal((2, *shape))
    row, ours, _ = _ours(spec, shape, "pytorch", x)
    theirs = module(torch.from_numpy(x)).numpy()
    assert row.output_shape == theirs.shape[1:] and row.params == 0
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(
    ("op", "mode"), [("DepthToSpace", "DCR"), ("DepthToSpace", "CRD"), ("SpaceToDepth", "DCR")]
)
def test_pixel_shuffles_against_onnx_runtime(op: str, mode: str) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    shape = (8, 3, 2) if op == "DepthToSpace" else (2, 4, 6)
    attrs = {"blocksize": 2, **({"mode": mode} if op == "DepthToSpace" else {})}
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [1, *shape])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, *shape))
    (theirs,) = session.run(None, {"x": x})
    kind = "pixelshuffle" if op == "DepthToSpace" else "pixelunshuffle"
    row, ours, _ = _ours(f"{kind}:2,mode={mode.lower()}", shape, "pytorch", x)
    assert row.output_shape == theirs.shape[1:]
    np.testing.assert_array_equal(ours, theirs)
    del onnx


def _set_norm(module, w: dict, torch) -> None:
    with torch.no_grad():
        for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean")):
            if ours in w:
                getattr(module, theirs).copy_(torch.from_numpy(w[ours]))
        if "moving_variance" in w:
            module.running_var.copy_(torch.from_numpy(w["moving_variance"]))


@pytest.mark.parametrize(
    ("spec", "torch_args", "shape"),
    [
        ("groupnormalization:3,num_channels=6", ("GroupNorm", (3, 6), {}), (6, 4, 5)),
        ("groupnormalization:-1,center=false,scale=false", ("GroupNorm", (4, 4), {"affine": False}), (4, 7)),
        ("groupnormalization:1", ("GroupNorm", (1, 6), {}), (6, 3, 2, 2)),
        ("instancenorm1d", ("InstanceNorm1d", (3,), {}), (3, 9)),
        ("instancenorm2d:affine=true", ("InstanceNorm2d", (4,), {"affine": True}), (4, 5, 6)),
        (
            "instancenorm2d:affine=true,track_running_stats=true",
            ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}),
            (4, 5, 6),
        ),
        (
            "instancenorm3d:track_running_stats=true",
            ("InstanceNorm3d", (2,), {"track_running_stats": True}),
            (2, 3, 4, 5),
        ),
    ],
)
def test_norms_against_torch(spec: str, torch_args: tuple, shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    name, args, kwargs = torch_args
    eps = 1e-5
    spec = spec if spec.startswith("instancenorm") else f"{spec},epsilon={eps}"
    module = getattr(torch.nn, name)(*args, eps=eps, **kwargs).double().eval()
    x = np.random.default_rng(0).standard_normal((2, *shape))
    row, ours, w = _ours(spec, shape, "pytorch", x)
    _set_norm(module, w, torch)
    theirs = module(torch.from_numpy(x)).detach().numpy()
    assert row.output_shape == theirs.shape[1:]
    assert row.params == sum(p.numel() for p in module.parameters())
    assert row.buffers == sum(b.numel() for b in module.buffers())
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("config", "shape"),
    [
        ({"groups": 2}, (5, 4, 6)),
        ({"groups": -1, "epsilon": 1e-5}, (7, 3)),
        ({"groups": 3, "center": False}, (2, 3, 4, 9)),
        ({"groups": 1, "scale": False}, (4, 4, 2)),
    ],
)
def test_group_norm_against_keras(config: dict, shape: tuple[int, ...]) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    layer = keras.layers.GroupNormalization(**config, dtype="float64")
    model = keras.Sequential([keras.Input(shape), layer])
    args = ",".join(f"{k}={str(v).lower()}" for k, v in config.items())
    x = np.random.default_rng(0).standard_normal((2, *shape))
    row, ours, w = _ours(f"groupnormalization:{args}", shape, "keras", x)
    layer.set_weights([w[name] for name in ("gamma", "beta") if name in w])
    theirs = model(x).detach().numpy()
    assert row.output_shape == tuple(model.output_shape[1:])
    assert row.params == model.count_params() == layer.count_params()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_instance_norm_is_keras_group_norm_with_one_group_per_channel() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    shape = (5, 6, 3)
    layer = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, dtype="float64")
    model = keras.Sequential([keras.Input(shape), layer])
    x = np.random.default_rng(0).standard_normal((2, *shape))
    row, ours, w = _ours("instancenorm2d:affine=true", shape, "keras", x)
    layer.set_weights([w["gamma"], w["beta"]])
    np.testing.assert_allclose(ours, model(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    assert row.params == model.count_params()


@pytest.mark.parametrize(
    ("layers", "shape", "convention"),
    [
        (
            [
                "conv:16,3,padding=same",
                "pixelshuffle:2",
                "groupnorm:2",
                "pixelunshuffle:2",
                "instancenorm2d:affine=true",
            ],
            (8, 8, 3),
            "keras",
        ),
        (
            [
                "conv2d:3,16,3,1,1",
                "PixelShuffle:2",
                "GroupNorm:2,4",
                "PixelUnshuffle:2",
                "InstanceNorm2d:16,affine=true",
            ],
            (3, 8, 8),
            "pytorch",
        ),
    ],
)
def test_new_kinds_export_to_pytorch_and_run(
    layers: list[str], shape: tuple[int, ...], convention: str
) -> None:
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from tests.test_export_frameworks import check_in_framework

    doc = {"convention": convention, "input_shape": list(shape), "layers": layers}
    summary = cnncalc.summarize(doc)
    assert check_in_framework(summary, "pytorch") == len(summary.layers)


@pytest.mark.parametrize(
    ("layers", "shape", "convention"),
    [
        (
            ["conv:16,3,padding=same", "groupnorm:4", "instancenorm2d:affine=true", "instancenorm2d"],
            (8, 8, 3),
            "keras",
        ),
        (["conv2d:3,16,3,1,1", "GroupNorm:2,16", "InstanceNorm2d:16"], (3, 8, 8), "pytorch"),
    ],
)
def test_norms_export_to_keras_and_run(layers: list[str], shape: tuple[int, ...], convention: str) -> None:
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from tests.test_export_frameworks import check_in_framework

    doc = {"convention": convention, "input_shape": list(shape), "layers": layers}
    summary = cnncalc.summarize(doc)
    assert check_in_framework(summary, "keras") == len(summary.layers)
