"""Dev-only fuzzer: random stacks of every layer kind cnncalc and PyTorch both have, built in both;
under ``--convention pytorch`` cnncalc must refuse exactly what torch refuses (counting a layer
that emits an empty tensor as refused), and otherwise give torch's output shape and
``sum(p.numel() for p in model.parameters())``.

Skipped without torch. The default run draws 300 stacks; the issue-18 acceptance run drew 5,000:

    CNNCALC_TORCH_STACKS=5000 PYTHONPATH=. /work/devvenv/bin/python -m pytest tests/test_torch_fuzz.py -s

Kinds: Conv1d/2d/3d (padding int/'same'/'valid', stride, dilation, groups, bias), depthwise
(groups = channels), ConvTranspose1d/2d/3d (padding, output_padding, dilation, groups),
MaxPool1d/2d/3d (padding, dilation, ceil_mode), AvgPool1d/2d/3d (padding, ceil_mode,
count_include_pad), AdaptiveAvg/MaxPool1d/2d/3d, ZeroPad1d/2d/3d, Upsample (nearest; bilinear in
2-D), BatchNorm1d/2d/3d, Dropout, ReLU, LeakyReLU, Flatten, Linear, LayerNorm and Softmax on vectors.
"""

from __future__ import annotations

import os
import random

import pytest

import cnncalc

torch = pytest.importorskip("torch")
nn = torch.nn

STACKS = int(os.environ.get("CNNCALC_TORCH_STACKS", "300"))
SPATIAL = [
    "conv",
    "depthwise",
    "transpose",
    "maxpool",
    "avgpool",
    "adaptive",
    "zeropad",
    "upsample",
    "bn",
    "act",
]


def _conv(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    k, s, d = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3)
    groups = rng.choice([g for g in (1, 2, 3) if c % g == 0])
    filters = groups * rng.randint(1, 3)
    padding = rng.choice([0, 1, 2, 3, "same", "valid"])
    bias = rng.random() < 0.7
    spec = {
        "type": f"conv{r}d",
        "filters": filters,
        "kernel_size": k,
        "strides": s,
        "padding": padding,
        "dilation_rate": d,
        "groups": groups,
        "use_bias": bias,
    }
    cls = [nn.Conv1d, nn.Conv2d, nn.Conv3d][r - 1]
    return spec, lambda: cls(c, filters, k, s, padding, d, groups, bias), filters


def _depthwise(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    k, s, dm = rng.randint(1, 4), rng.randint(1, 2), rng.randint(1, 2)
    padding = rng.choice([0, 1, "same", "valid"])
    spec = {
        "type": f"depthwiseconv{r}d",
        "kernel_size": k,
        "strides": s,
        "padding": padding,
        "depth_multiplier": dm,
    }
    cls = [nn.Conv1d, nn.Conv2d][r - 1]
    return spec, lambda: cls(c, c * dm, k, s, padding, groups=c), c * dm


def _transpose(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    k, s, d = rng.randint(1, 4), rng.randint(1, 3), rng.randint(1, 2)
    p, op = rng.randint(0, 3), rng.randint(0, 2)
    groups = rng.choice([g for g in (1, 2) if c % g == 0])
    filters = groups * rng.randint(1, 3)
    spec = {
        "type": f"conv{r}dtranspose",
        "filters": filters,
        "kernel_size": k,
        "strides": s,
        "padding": p,
        "output_padding": op,
        "dilation_rate": d,
        "groups": groups,
    }
    cls = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][r - 1]
    return spec, lambda: cls(c, filters, k, s, p, op, groups, True, d), filters


def _maxpool(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    k, s, d, p = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 2)
    ceil = rng.random() < 0.5
    spec = {
        "type": f"maxpooling{r}d",
        "pool_size": k,
        "strides": s,
        "padding": p,
        "dilation": d,
        "ceil_mode": ceil,
    }
    cls = [nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d][r - 1]
    return spec, lambda: cls(k, s, p, d, ceil_mode=ceil), c


def _avgpool(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    k, s, p = rng.randint(1, 4), rng.randint(1, 4), rng.randint(0, 2)
    ceil, include = rng.random() < 0.5, rng.random() < 0.5
    spec = {
        "type": f"averagepooling{r}d",
        "pool_size": k,
        "strides": s,
        "padding": p,
        "ceil_mode": ceil,
        "count_include_pad": include,
    }
    cls = [nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d][r - 1]
    return spec, lambda: cls(k, s, p, ceil_mode=ceil, count_include_pad=include), c


def _adaptive(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    size, op = rng.randint(1, 5), rng.choice(["avg", "max"])
    spec = {"type": f"adaptive{op}pool{r}d", "output_size": size}
    cls = getattr(nn, f"Adaptive{op.capitalize()}Pool{r}d")
    return spec, lambda: cls(size), c


def _zeropad(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    p = rng.randint(0, 3)
    return (
        {"type": f"zeropadding{r}d", "padding": p},
        lambda: [nn.ZeroPad1d, nn.ZeroPad2d, nn.ZeroPad3d][r - 1](p),
        c,
    )


def _upsample(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    size = rng.randint(1, 3)
    bilinear = r == 2 and rng.random() < 0.5
    spec = {"type": f"upsampling{r}d", "size": size, "interpolation": "bilinear" if bilinear else "nearest"}
    return spec, lambda: nn.Upsample(scale_factor=size, mode="bilinear" if bilinear else "nearest"), c


def _bn(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    return (
        {"type": "batchnormalization"},
        lambda: [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d][r - 1](c),
        c,
    )


def _act(rng: random.Random, r: int, c: int) -> tuple[dict, nn.Module, int]:
    kind = rng.choice(["relu", "leakyrelu", "dropout"])
    if kind == "relu":
        return {"type": "relu"}, nn.ReLU, c
    if kind == "leakyrelu":
        return {"type": "leakyrelu", "negative_slope": 0.1}, lambda: nn.LeakyReLU(0.1), c
    return {"type": "dropout", "rate": 0.5}, lambda: nn.Dropout(0.5), c


MAKERS = {
    "conv": _conv,
    "depthwise": _depthwise,
    "transpose": _transpose,
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "adaptive": _adaptive,
    "zeropad": _zeropad,
    "upsample": _upsample,
    "bn": _bn,
    "act": _act,
}


def random_stack(rng: random.Random) -> tuple[list[int], list[dict], list]:
    """(input shape C x spatial, cnncalc layer objects, torch modules)."""
    r = rng.randint(1, 3)
    c = rng.randint(1, 4)
    shape = [c, *(rng.randint(1, 12 if r < 3 else 7) for _ in range(r))]
    specs, modules = [], []
    for _ in range(rng.randint(1, 4)):
        kinds = [k for k in SPATIAL if not (k == "depthwise" and r == 3)]
        spec, module, c = MAKERS[rng.choice(kinds)](rng, r, c)
        specs.append(spec)
        modules.append(module)
    if rng.random() < 0.4:
        units = rng.randint(1, 6)
        specs += [{"type": "flatten"}, {"type": "dense", "units": units}]
        modules += [nn.Flatten, lambda: nn.LazyLinear(units)]
        tail = rng.choice([None, "layernorm", "softmax"])
        if tail == "layernorm":
            specs.append({"type": "layernormalization"})
            modules.append(lambda: nn.LayerNorm(units))
        elif tail == "softmax":
            specs.append({"type": "softmax"})
            modules.append(lambda: nn.Softmax(dim=-1))
    return shape, specs, modules


def run_torch(shape: list[int], modules: list) -> tuple[tuple[int, ...], int] | None:
    """(output shape without batch, parameter count) or None when torch refuses."""
    try:
        model = nn.Sequential(*(make() for make in modules)).eval()
        y = torch.randn(1, *shape)
        with torch.no_grad():
            for module in model:
                y = module(y)
                # torch lets a layer emit an empty tensor (a transposed conv whose padding eats
                # its output) that a later layer may pad back; cnncalc refuses the empty layer.
                if y.numel() == 0:
                    return None
    except (RuntimeError, ValueError):
        return None
    return tuple(y.shape[1:]), sum(p.numel() for p in model.parameters())


def run_cnncalc(shape: list[int], specs: list[dict]) -> tuple[tuple[int, ...], int] | None:
    try:
        s = cnncalc.summarize(specs, input_shape=tuple(shape), convention="pytorch")
    except cnncalc.CnncalcError:
        return None
    return s.output_shape, s.total_params


@pytest.mark.slow
# torch 2.13 warns that an even kernel with padding='same' may copy the input (a speed note from
# ATen, not a result): the suite's warnings-as-errors must not turn it into a failure.
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_cnncalc_agrees_with_torch_on_random_stacks() -> None:
    rng = random.Random(18)
    disagreements = []
    for _ in range(STACKS):
        shape, specs, modules = random_stack(rng)
        theirs = run_torch(shape, modules)
        ours = run_cnncalc(shape, specs)
        if ours != theirs:
            disagreements.append((shape, specs, ours, theirs))
    for case in disagreements[:10]:
        print(case)
    assert not disagreements, f"{len(disagreements)} of {STACKS} stacks differ; first: {disagreements[0]}"
