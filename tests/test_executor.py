"""The NumPy executor against the core (shapes, params) and against the loop reference (values)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import cnncalc
from cnncalc.enums import PaddingMode
from cnncalc.errors import CnncalcError, ShapeError
from cnncalc.layers.args import ACTIVATIONS
from cnncalc.numeric import executor as X
from cnncalc.numeric.verify import verify

FORMATS = ["channels_last", "channels_first"]


@st.composite
def conv_or_pool(draw: st.DrawFn) -> tuple[str, tuple[int, ...], str, str]:
    """A random conv/pool layer spec, an input shape, a data format and a convention."""
    rank = draw(st.sampled_from([1, 2, 2, 2, 3]))
    fmt = draw(st.sampled_from(FORMATS))
    convention = draw(st.sampled_from(["keras", "pytorch"]))
    kind = draw(st.sampled_from(["conv", "maxpool", "avgpool"]))
    sizes = [draw(st.integers(1, 13 if rank < 3 else 6)) for _ in range(rank)]
    kernel = [draw(st.integers(1, 5)) for _ in range(rank)]
    strides = [draw(st.integers(1, 4)) for _ in range(rank)]
    padding = draw(st.sampled_from(["valid", "same", "explicit"]))
    args = [f"{'x'.join(map(str, kernel))}", f"{'x'.join(map(str, strides))}"]
    keywords = []
    if padding == "explicit":
        keywords.append("padding=" + "x".join(str(draw(st.integers(0, 3))) for _ in range(rank)))
    else:
        keywords.append(f"padding={padding}")
    groups = 1
    if kind == "conv":
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        filters = groups * draw(st.integers(1, 3))
        channels = groups * draw(st.integers(1, 3))
        dilation = [draw(st.integers(1, 3)) for _ in range(rank)]
        keywords += [
            f"dilation={'x'.join(map(str, dilation))}",
            f"groups={groups}",
            f"bias={draw(st.booleans())}".lower(),
        ]
        args.insert(0, str(filters))
    else:
        channels = draw(st.integers(1, 4))
        if padding != "same" and draw(st.booleans()):
            keywords.append("ceil_mode=true")
        if kind == "avgpool" and draw(st.booleans()):
            keywords.append(f"count_include_pad={str(draw(st.booleans())).lower()}")
    name = kind if rank == 2 else f"{kind}{rank}d"
    shape = (*sizes, channels) if fmt == "channels_last" else (channels, *sizes)
    return f"{name}:{','.join(args + keywords)}", tuple(shape), fmt, convention


@given(conv_or_pool(), st.sampled_from(["float32", "float64"]))
def test_core_shape_equals_executor_shape_and_values_match_reference(case, dtype) -> None:
    text, shape, fmt, convention = case
    try:
        summary = cnncalc.summarize([text], input_shape=shape, data_format=fmt, convention=convention)
    except ShapeError as err:
        if "larger than" in str(err):
            # A geometric rejection: the executor finds no window that fits either.
            layer = cnncalc.parse([text]).layers[0].layer
            from cnncalc.layers.base import Context

            ctx = Context(cnncalc.Convention(convention), cnncalc.DataFormat(fmt))
            x = np.zeros((1, *shape))
            w = X.init_weights(layer, shape, ctx, np.random.default_rng(0), np.float64)
            with pytest.raises(ValueError):
                X.forward(layer, x, w, ctx)
        return
    except CnncalcError:
        assume(False)  # rejected by a rule of the convention, not by geometry
    report = verify(summary, dtype=dtype, batch=2, seed=1)
    row = report.rows[0]
    assert row.real_shape == row.predicted_shape, (text, shape, fmt, row)
    assert row.real_params == row.predicted_params
    assert row.reference == "loop reference" and row.ok, (text, shape, fmt, row)


def test_tolerances_are_tight() -> None:
    # 1e-5 (float32) and 1e-10 (float64) against the float64 loop reference, relative to the values' scale.
    for dtype, tol in (("float32", 1e-5), ("float64", 1e-10)):
        s = cnncalc.summarize(
            ["conv:6,3,2,1,dilation=1,groups=3", "avgpool:3,2,1,ceil_mode=true"],
            input_shape=(9, 11, 6),
            convention="pytorch",
            data_format="channels_last",
        )
        for row in verify(s, dtype=dtype).rows:
            assert row.max_abs_error is not None and row.max_abs_error <= tol * 10, row


@pytest.mark.parametrize(
    ("layers", "shape", "kw"),
    [
        (["conv:16,2,2,valid,activation=relu", "conv:32,3,padding=same"], (200, 200, 1), {}),
        (["maxpool:2,2"], (100, 100, 15), {}),
        (["maxpool:2,1"], (100, 100, 15), {}),
        (["conv:20,5", "maxpool:2"], (1, 28, 28), {"data_format": "channels_first"}),
        (["conv:8,3", "bn", "relu", "flatten", "dense:10,softmax", "dropout:0.5"], (8, 8, 3), {}),
        (["conv:8,3,1,1", "bn", "relu6", "maxpool:3,2,1"], (3, 9, 9), {"convention": "pytorch"}),
    ],
)
def test_models_verify(layers, shape, kw) -> None:
    report = verify(cnncalc.summarize(layers, input_shape=shape, **kw))
    assert report.ok, [r for r in report.rows if not r.ok]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_runs(name: str) -> None:
    # dense:8 so glu (which halves the last axis) has even sizes to halve twice
    report = verify(cnncalc.summarize([f"dense:8,activation={name}", f"activation:{name}"], input_shape=(4,)))
    assert report.ok


def test_batchnorm_counts_real_arrays() -> None:
    # torch: BatchNorm2d(64) has 128 parameters and 129 buffer elements (mean, var, num_batches_tracked)
    for conv, params, buffers in (("keras", 256, 0), ("pytorch", 128, 129)):
        s = cnncalc.summarize(["bn"], input_shape=(4, 4, 64), convention=conv, data_format="channels_last")
        row = verify(s).rows[0]
        assert (s.total_params, s.total_buffers) == (params, buffers)
        assert row.real_params == params + buffers and row.ok


def test_plan_axis_walks_windows() -> None:
    assert X.plan_axis(5, 3, 3, ((1, 1),), 0, ceil_mode=True).out == 2
    assert X.plan_axis(6, 3, 2, PaddingMode.VALID, 0, ceil_mode=True).out == 3
    assert X.plan_axis(6, 3, 2, PaddingMode.VALID, 0).out == 2
    assert X.plan_axis(2, 3, 1, PaddingMode.VALID, 0).out == 0


def test_conv_tiles_rows_under_a_small_budget(monkeypatch) -> None:
    s = cnncalc.summarize(["conv:4,3,2,same,dilation=1"], input_shape=(17, 15, 3))
    whole = verify(s, dtype="float64")
    monkeypatch.setattr(X, "WINDOW_BUDGET", 1)  # one output row per tile
    tiled = verify(s, dtype="float64")
    assert whole.ok and tiled.ok and tiled.rows[0].max_abs_error < 1e-10


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ("conv:6,3,2,1,dilation=2,groups=3", (3, 13, 11)),
        ("conv:4,4,1,same", (2, 9, 8)),
        ("conv:4,3x5,2x1,1x2", (2, 10, 9)),
        ("maxpool:3,2,1,ceil_mode=true", (3, 10, 11)),
        ("avgpool:3,2,1,ceil_mode=true", (3, 10, 11)),
        ("avgpool:3,2,1,count_include_pad=false", (3, 10, 11)),
        ("conv1d:4,3,2,1,dilation=2", (2, 17)),
        ("conv3d:4,3,2,1", (2, 7, 6, 5)),
    ],
)
def test_against_torch_functional(spec: str, shape: tuple[int, ...]) -> None:
    torch = _torch()
    import torch.nn.functional as tf

    s = cnncalc.summarize([spec], input_shape=shape, convention="pytorch")
    row = s.layers[0]
    layer, ctx = row.layer, s.context
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *shape))
    w = X.init_weights(layer, shape, ctx, rng, np.float64)
    ours = X.forward(layer, x, w, ctx)
    tx = torch.from_numpy(x)
    if spec.startswith("conv"):
        rank = layer.rank
        weight = torch.from_numpy(np.moveaxis(np.moveaxis(w["kernel"], -1, 0), -1, 1).copy())  # (K, C/g, *F)
        pad = "same" if layer.padding == "same" else tuple(p for p, _ in layer.padding)
        fn = {1: tf.conv1d, 2: tf.conv2d, 3: tf.conv3d}[rank]
        theirs = fn(
            tx,
            weight,
            torch.from_numpy(w["bias"]),
            stride=layer.strides,
            padding=pad,
            dilation=layer.dilation_rate,
            groups=layer.groups,
        )
    elif spec.startswith("maxpool"):
        theirs = tf.max_pool2d(
            tx, layer.pool_size, layer.strides, layer.padding[0][0], ceil_mode=layer.ceil_mode
        )
    else:
        inc = True if layer.count_include_pad is None else layer.count_include_pad
        theirs = tf.avg_pool2d(
            tx,
            layer.pool_size,
            layer.strides,
            layer.padding[0][0],
            ceil_mode=layer.ceil_mode,
            count_include_pad=inc,
        )
    assert tuple(theirs.shape[1:]) == row.output_shape
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-10)
