"""One output of a convolution or pooling worked out by hand: ``cnncalc explain --window``.

What a CNN course draws: a small image, a kernel sliding over it, and for one output position
the window under the kernel, the weights, their products and the sum plus the bias (or the
window's maximum or mean for pooling). Pure arithmetic on lists (the core needs no numpy); the
CLI checks the whole feature map against the NumPy executor's real forward pass.

Source of the rule: out[i, j] = b + sum_{u, v} w[u, v] * x[i*S_h + u*D_h - P_top, j*S_w + v*D_w -
P_left] (cross-correlation, as Keras's Conv2D and PyTorch's nn.Conv2d compute it), zeros outside
the image; max/average pooling take the max/mean of the same window (average pooling counts
the padded zeros only where ``count_include_pad`` does: PyTorch's default, not Keras's).
"""

from __future__ import annotations

from dataclasses import dataclass

from .enums import DataFormat
from .errors import SpecError
from .export_torch import type_name
from .summary import Summary

#: The largest image the worked example takes (it prints every value).
MAX_SIDE = 32

Grid = tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class WindowWorking:
    """One output value of a window op, step by step, and the whole feature map."""

    layer: str
    class_name: str
    reduce: str
    #: output position (row, column), 0-based
    at: tuple[int, int]
    #: input position of the window's top-left cell (negative: in the padding)
    origin: tuple[int, int]
    #: the input values under the window (padding cells are 0.0), and which are padding
    window: Grid
    padded: tuple[tuple[bool, ...], ...]
    weights: Grid | None
    products: Grid | None
    #: the sum of the products (a convolution's w . window), before the bias
    products_sum: float
    bias: float
    result: float
    #: every output position, computed the same way
    feature_map: Grid
    image: Grid


def parse_grid(text: str, what: str) -> Grid:
    """``"1,0,1;0,1,0;1,0,1"`` (rows split by ``;`` or ``/``, values by ``,`` or spaces) to rows of numbers."""
    rows = [row for row in text.replace("/", ";").split(";") if row.strip()]
    out = []
    for row in rows:
        try:
            out.append(tuple(float(v) for v in row.replace(",", " ").split()))
        except ValueError:
            raise SpecError(f"{what}: {row.strip()!r} is not a row of numbers like 1,0,1") from None
    if not out or len({len(r) for r in out}) != 1:
        raise SpecError(f"{what}: give equal rows of numbers, e.g. 1,0,1;0,1,0;1,0,1")
    return tuple(out)


def default_image(h: int, w: int) -> Grid:
    """A 0/1 image to slide over when none is given (diagonal bands, like the course's)."""
    return tuple(
        tuple(1.0 if (j - i) % 4 in (0, 1, 2) and (i + j) % 5 != 4 else 0.0 for j in range(w))
        for i in range(h)
    )


def default_kernel(h: int, w: int) -> Grid:
    """The classic 3x3 'X' kernel of course examples, or ones for other sizes."""
    if (h, w) == (3, 3):
        return ((1.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 1.0))
    return tuple(tuple(1.0 for _ in range(w)) for _ in range(h))


def working(
    summary: Summary,
    image: Grid | None = None,
    kernel: Grid | None = None,
    bias: float = 0.0,
    at: tuple[int, int] = (0, 0),
) -> WindowWorking:
    """The first layer's output at ``at`` worked out on ``image`` (H x W, one channel) with
    ``kernel`` and ``bias`` (convolution: the first filter's weights; others are zero)."""
    if not summary.layers:
        raise SpecError("explain --window needs a layer")
    row = summary.layers[0]
    layer = row.layer
    reduce = layer.window_reduce
    if not reduce or len(row.windows) != 2:
        raise SpecError(
            "explain --window works out a 2-D convolution or pooling; the first layer is "
            + type_name(row, summary.convention)
        )
    channels_first = summary.data_format is DataFormat.CHANNELS_FIRST
    shape = row.input_shape
    h, w, c = (shape[1], shape[2], shape[0]) if channels_first else shape
    if c != 1:
        raise SpecError(f"explain --window takes one input channel (an H x W image), got {c}")
    if max(h, w) > MAX_SIDE:
        raise SpecError(
            f"explain --window prints every value: give an input of at most {MAX_SIDE}x{MAX_SIDE}"
        )
    image = image or default_image(h, w)
    if (len(image), len(image[0])) != (h, w):
        raise SpecError(f"--values has {len(image)}x{len(image[0])} values, the input is {h}x{w}")
    wh, ww = row.windows
    if reduce == "dot":
        kernel = kernel or default_kernel(wh.kernel, ww.kernel)
        if (len(kernel), len(kernel[0])) != (wh.kernel, ww.kernel):
            raise SpecError(
                f"--weights has {len(kernel)}x{len(kernel[0])} values, the kernel is {wh.kernel}x{ww.kernel}"
            )
        if bias and "bias" not in layer.weight_shapes(shape, summary.context):
            raise SpecError("--bias: this layer has no bias (use_bias=False)")
    else:
        kernel = None
    if not (0 <= at[0] < wh.out and 0 <= at[1] < ww.out):
        raise SpecError(f"--at {at[0]},{at[1]} is outside the {wh.out}x{ww.out} output")
    include_pad = layer.includes_padding(summary.context)

    def one(i: int, j: int) -> tuple[Grid, tuple[tuple[bool, ...], ...], Grid | None, float]:
        top, left = i * wh.stride - wh.before, j * ww.stride - ww.before
        cells, pads = [], []
        for u in range(wh.kernel):
            line, pad_line = [], []
            for v in range(ww.kernel):
                y, x = top + u * wh.dilation, left + v * ww.dilation
                inside = 0 <= y < h and 0 <= x < w
                line.append(image[y][x] if inside else 0.0)
                pad_line.append(not inside)
            cells.append(tuple(line))
            pads.append(tuple(pad_line))
        if kernel is not None:
            products = tuple(
                tuple(a * b for a, b in zip(cr, kr, strict=True))
                for cr, kr in zip(cells, kernel, strict=True)
            )
            return tuple(cells), tuple(pads), products, sum(map(sum, products)) + bias
        real = [
            x
            for cr, pr in zip(cells, pads, strict=True)
            for x, p in zip(cr, pr, strict=True)
            if include_pad or not p
        ]
        if reduce == "max":  # padding never wins a max (frameworks pad max-pooling with -inf)
            real = [
                x for cr, pr in zip(cells, pads, strict=True) for x, p in zip(cr, pr, strict=True) if not p
            ]
            return tuple(cells), tuple(pads), None, max(real)
        return tuple(cells), tuple(pads), None, sum(real) / len(real)

    feature_map = tuple(tuple(one(i, j)[3] for j in range(ww.out)) for i in range(wh.out))
    cells, pads, products, result = one(*at)
    return WindowWorking(
        layer=row.name,
        class_name=type_name(row, summary.convention),
        reduce=reduce,
        at=at,
        origin=(at[0] * wh.stride - wh.before, at[1] * ww.stride - ww.before),
        window=cells,
        padded=pads,
        weights=kernel,
        products=products,
        products_sum=sum(map(sum, products)) if products is not None else 0.0,
        bias=bias if reduce == "dot" else 0.0,
        result=result,
        feature_map=feature_map,
        image=image,
    )
