"""One hypothesis strategy per layer kind: valid single-kind models, as (spec, input shape, settings).

Each example is small enough to run through the executor and the loop reference. The registry
test (tests/test_architecture.py) fails when a kind has no strategy here, so a new kind gets one.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

from cnncalc.layers.args import ACTIVATIONS

Example = tuple[Any, tuple[int, ...] | None, dict[str, Any]]


def _rank(type_: str) -> int:
    match = re.search(r"([123])d", type_)
    return int(match.group(1)) if match else 2


@st.composite
def _spatial(draw: Any, rank: int, lo: int = 4, hi: int = 9) -> tuple[tuple[int, ...], int]:
    sizes = tuple(draw(st.integers(lo, hi)) for _ in range(rank))
    return sizes, draw(st.integers(1, 3))


def _shape(sizes: tuple[int, ...], channels: int) -> tuple[int, ...]:
    return (*sizes, channels)  # keras convention, channels_last


@st.composite
def _conv(draw: Any, type_: str) -> Example:
    sizes, c = draw(_spatial(_rank(type_)))
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    pad = draw(st.sampled_from(["valid", "same"]))
    if type_.startswith("depthwise"):
        spec = f"{type_}:{k},{s},{pad},depth_multiplier={draw(st.integers(1, 2))}"
    else:
        spec = f"{type_}:{draw(st.integers(1, 4))},{k},{s},{pad}"
    return spec, _shape(sizes, c), {}


@st.composite
def _pool(draw: Any, type_: str) -> Example:
    sizes, c = draw(_spatial(_rank(type_)))
    spec = f"{type_}:{draw(st.integers(1, 3))},{draw(st.integers(1, 2))},{draw(st.sampled_from(['valid', 'same']))}"
    return spec, _shape(sizes, c), {}


@st.composite
def _plain(draw: Any, type_: str, args: st.SearchStrategy[str]) -> Example:
    sizes, c = draw(_spatial(_rank(type_)))
    suffix = draw(args)
    return f"{type_}{':' + suffix if suffix else ''}", _shape(sizes, c), {}


@st.composite
def _vector(draw: Any, spec: st.SearchStrategy[str]) -> Example:
    return draw(spec), (draw(st.integers(1, 5)), draw(st.integers(1, 6))), {}


@st.composite
def _activation(draw: Any) -> Example:
    name = draw(st.sampled_from(ACTIVATIONS))
    # glu halves the last axis (Keras): an odd size is an error, so draw an even one for it
    last = 2 * draw(st.integers(1, 3)) if name == "glu" else draw(st.integers(1, 6))
    return f"activation:{name}", (draw(st.integers(1, 5)), last), {}


@st.composite
def _merge(draw: Any, type_: str) -> Example:
    sizes, c = draw(_spatial(2))
    a = _shape(sizes, c)
    if type_ == "concatenate":
        b = _shape(sizes, draw(st.integers(1, 3)))
    else:  # Keras's broadcasting: squeeze-and-excite's 1x1xC, a per-channel vector, or the same shape
        b = draw(st.sampled_from([a, (1, 1, c), (c,), (sizes[0], 1, 1)]))
    doc = {
        "inputs": [{"name": "a", "shape": list(a)}, {"name": "b", "shape": list(b)}],
        "layers": [{"type": type_, "inputs": ["a", "b"]}],
    }
    return doc, None, {}


@st.composite
def _network3(draw: Any, type_: str) -> Example:
    settings = {"data_format": "channels_first"}
    if type_ == "convpoollayer":
        c, n, f, p = (
            draw(st.integers(1, 2)),
            draw(st.integers(6, 10)),
            draw(st.integers(1, 3)),
            draw(st.integers(1, 2)),
        )
        return f"convpool:{draw(st.integers(1, 3))}x{c}x{f}x{f},pool={p}", (c, n, n), settings
    n_in, n_out = draw(st.integers(1, 20)), draw(st.integers(1, 6))
    return f"{type_}:n_in={n_in},n_out={n_out}", (n_in,), settings


@st.composite
def _rescaling(draw: Any) -> Example:
    sizes, c = draw(_spatial(2))
    scale = draw(st.sampled_from([1 / 255, 2.0, [0.5 + i for i in range(c)]]))
    return (
        {"layers": [{"type": "rescaling", "scale": scale, "offset": draw(st.sampled_from([0.0, -1.0]))}]},
        (
            *sizes,
            c,
        ),
        {},
    )


@st.composite
def _normalization(draw: Any) -> Example:
    sizes, c = draw(_spatial(2))
    layer: dict[str, Any] = {"type": "normalization", "axis": draw(st.sampled_from([-1, [1, -1], None, 3]))}
    if draw(st.booleans()):  # given statistics: constants, not weights
        layer["axis"] = -1
        layer["mean"] = [0.1 * i for i in range(c)]
        layer["variance"] = [1.0 + i for i in range(c)]
    layer["invert"] = draw(st.booleans())
    return {"layers": [layer]}, (*sizes, c), {}


@st.composite
def _layerscale(draw: Any) -> Example:
    sizes, c = draw(_spatial(2))
    return {"layers": [{"type": "layerscale", "init_values": 1e-6, "projection_dim": c}]}, (*sizes, c), {}


@st.composite
def _custom_scale(draw: Any) -> Example:
    sizes, c = draw(_spatial(2))
    a = (*sizes, c)
    b = draw(st.sampled_from([a, (1, 1, c)]))
    doc = {
        "inputs": [{"name": "a", "shape": list(a)}, {"name": "b", "shape": list(b)}],
        "layers": [{"type": "customscalelayer", "scale": 0.17, "inputs": ["a", "b"]}],
    }
    return doc, None, {}


@st.composite
def _operation(draw: Any) -> Example:
    op = draw(st.sampled_from(["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"]))
    operand = 2.0 if op == "power" else draw(st.sampled_from([3.0, 1 / 6, -0.5]))
    first = draw(st.booleans()) and op not in ("divide", "power")  # c/x and c**x blow up near 0
    layer = {"type": "operation", "op": op, "operand": operand, "operand_first": first}
    return {"layers": [layer]}, draw(_vector(st.just("")))[1], {}


@st.composite
def _nested(draw: Any) -> Example:
    sizes, c = draw(_spatial(2))
    inner = draw(
        st.sampled_from(
            [
                {"layers": ["conv:4,3,padding=same", "bn", "relu"]},
                {  # a functional inner model with a residual add
                    "inputs": [{"name": "x", "shape": [None, None, None]}],
                    "layers": [
                        {"type": "conv2d", "filters": 3, "kernel_size": 1, "name": "a", "inputs": "x"},
                        {"type": "multiply", "name": "m", "inputs": ["a", "a"]},
                    ],
                },
            ]
        )
    )
    return {"layers": [{"type": "model", "spec": inner}]}, (*sizes, c), {}


@st.composite
def _pixel_shuffle(draw: Any, type_: str) -> Example:
    r, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    mode = draw(st.sampled_from(["", ",mode=dcr"]))
    if type_ == "pixelshuffle":
        return f"pixelshuffle:{r}{mode}", (h, w, c * r * r), {}
    return f"pixelunshuffle:{r}{mode}", (h * r, w * r, c), {}


@st.composite
def _group_norm(draw: Any) -> Example:
    groups, per = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sizes, _ = draw(_spatial(draw(st.integers(0, 2)), lo=1, hi=5))
    flags = draw(st.sampled_from(["", ",center=false", ",scale=false"]))
    spec = f"groupnormalization:{draw(st.sampled_from([groups, -1]))}{flags}"
    return spec, _shape(sizes, groups * per), {}


@st.composite
def _instance_norm(draw: Any, type_: str) -> Example:
    sizes, c = draw(_spatial(_rank(type_), lo=1, hi=5))
    flags = draw(
        st.sampled_from(
            ["", "affine=true", "track_running_stats=true", "affine=true,track_running_stats=true"]
        )
    )
    settings = draw(st.sampled_from([{}, {"convention": "pytorch"}]))
    shape = _shape(sizes, c) if not settings else (c, *sizes)
    return f"{type_}{':' + flags if flags else ''}", shape, settings


@st.composite
def _opaque(draw: Any) -> Example:
    """An opaque row reading one input or two, with recorded counts (verify does not run it, so
    a convolution after it checks that the next layers run on its recorded shape)."""
    sizes, c = draw(_spatial(2))
    a = (*sizes, c)
    out = [draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 4))]
    counts = {k: draw(st.integers(0, 50)) for k in ("trainable_count", "non_trainable_count", "buffer_count")}
    if draw(st.booleans()):
        inputs: list[dict[str, Any]] = [{"name": "a", "shape": list(a)}, {"name": "b", "shape": [c]}]
        reads: Any = ["a", "b"]
        recorded = [list(a), [c]]
    else:
        inputs, reads, recorded = [{"name": "a", "shape": list(a)}], "a", [list(a)]
    layers: list[Any] = [
        {"type": "opaque", "op": "torch.roll", "shape": out, "in_shapes": recorded, "inputs": reads, **counts}
    ]
    if draw(st.booleans()):  # a layer after it, then the opaque row again as the model's last row
        layers = [
            {**layers[0], "name": "o"},
            {"type": "conv2d", "filters": 2, "kernel_size": 1, "name": "k", "inputs": "o"},
            {"type": "opaque", "op": "custom.Block", "shape": [3], "inputs": ["k"]},
        ]
    return {"inputs": inputs, "layers": layers}, None, {}


def _crop(rank: int) -> st.SearchStrategy[str]:
    return st.integers(0, 1).map(lambda c: f"cropping={c}")


STRATEGIES: dict[str, Any] = {}
for _r in (1, 2, 3):
    STRATEGIES[f"conv{_r}d"] = _conv(f"conv{_r}d")
    STRATEGIES[f"conv{_r}dtranspose"] = _conv(f"conv{_r}dtranspose")
    STRATEGIES[f"maxpooling{_r}d"] = _pool(f"maxpooling{_r}d")
    STRATEGIES[f"averagepooling{_r}d"] = _pool(f"averagepooling{_r}d")
    for _kind in ("globalmaxpooling", "globalaveragepooling"):
        STRATEGIES[f"{_kind}{_r}d"] = _plain(f"{_kind}{_r}d", st.sampled_from(["", "keepdims=true"]))
    for _kind in ("adaptiveavgpool", "adaptivemaxpool"):
        STRATEGIES[f"{_kind}{_r}d"] = _plain(f"{_kind}{_r}d", st.integers(1, 4).map(str))
    STRATEGIES[f"zeropadding{_r}d"] = _plain(f"zeropadding{_r}d", st.integers(0, 2).map(str))
    STRATEGIES[f"cropping{_r}d"] = _plain(f"cropping{_r}d", _crop(_r))
    STRATEGIES[f"upsampling{_r}d"] = _plain(f"upsampling{_r}d", st.integers(1, 3).map(str))
    STRATEGIES[f"spatialdropout{_r}d"] = _plain(f"spatialdropout{_r}d", st.just("0.5"))
    STRATEGIES[f"instancenorm{_r}d"] = _instance_norm(f"instancenorm{_r}d")
for _r in (1, 2):
    STRATEGIES[f"depthwiseconv{_r}d"] = _conv(f"depthwiseconv{_r}d")
    STRATEGIES[f"separableconv{_r}d"] = _conv(f"separableconv{_r}d")
STRATEGIES.update(
    {
        "flatten": _plain("flatten", st.just("")),
        "reshape": _vector(st.just("reshape:target_shape=-1x1")),
        "permute": _vector(st.sampled_from(["permute:dims=2x1", "permute:dims=1x2"])),
        "slice": _plain("slice", st.sampled_from(["-1,0,1", "1,1", "2,0,3,2", "axis=-1,start=-1"])),
        "arithmetic": _plain(
            "arithmetic",
            st.sampled_from(
                [
                    "add",
                    "multiply,operand_shape=1x1x1,learned=true",
                    "divide,value=2.0",
                    "subtract,value=1.0,reverse=true",
                    "multiply,operand_shape=1,learned=true",
                ]
            ),
        ),
        "dense": _vector(st.integers(1, 5).map(lambda n: f"dense:{n}")),
        "dropout": _vector(st.just("dropout:0.2")),
        "activation": _activation(),
        "relu": _vector(st.sampled_from(["relu:max_value=6", "relu:negative_slope=0.1"])),
        "leakyrelu": _vector(st.just("leakyrelu")),
        "softmax": _vector(st.sampled_from(["softmax", "softmax:axis=1"])),
        "batchnormalization": _plain("batchnormalization", st.sampled_from(["", "scale=false"])),
        "layernormalization": _plain("layernormalization", st.sampled_from(["", "rms_scaling=true"])),
        "groupnormalization": _group_norm(),
        "pixelshuffle": _pixel_shuffle("pixelshuffle"),
        "pixelunshuffle": _pixel_shuffle("pixelunshuffle"),
        **{
            m: _merge(m)
            for m in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")
        },
        **{n: _network3(n) for n in ("convpoollayer", "fullyconnectedlayer", "softmaxlayer")},
        "rescaling": _rescaling(),
        "normalization": _normalization(),
        "layerscale": _layerscale(),
        "customscalelayer": _custom_scale(),
        "operation": _operation(),
        "model": _nested(),
        "opaque": _opaque(),
    }
)
