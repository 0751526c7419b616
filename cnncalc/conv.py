"""Window layers: the geometry resolver and the convolution family."""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import formulas as F
from . import values as V
from .base import (
    AXIS_NAMES,
    Context,
    Layer,
    LayerOutput,
    Shape,
    Window,
    _expect_rank,
    _fmt,
    _spatial_layout,
    activation_ops,
    arg,
    join_channels,
    required,
    split_channels,
)
from .errors import ShapeError, SpecError
from .options import Convention, DataFormat


def resolve_windows(
    spatial: Shape,
    kernel: Shape,
    strides: Shape,
    dilation: Shape,
    padding: V.Padding,
    ctx: Context,
    *,
    ceil_mode: bool = False,
    what: str = "kernel",
) -> tuple[Window, ...]:
    """Per-axis output length and padding for conv/pool, under the convention in force.

    valid: Keras ceil((n - F_eff + 1)/S); same: Keras ceil(n/S) with TensorFlow's split of the
    padding; explicit (and valid with ceil_mode): the PyTorch floor/ceil formula.
    See :mod:`cnncalc.formulas` for the sources.
    """
    if padding == "same" and ceil_mode:
        raise SpecError("ceil_mode goes with valid or integer padding, not 'same'")
    if padding == "same" and ctx.convention is Convention.PYTORCH and max(strides) > 1:
        raise ShapeError(
            f"padding='same' needs stride 1 under the pytorch convention (PyTorch refuses it for "
            f"strided layers), got strides {_fmt(strides)}; use integer padding or --convention keras"
        )
    names = AXIS_NAMES.get(len(spatial), tuple(f"axis {i}" for i in range(len(spatial))))
    out: list[Window] = []
    for i, n in enumerate(spatial):
        f, s, d = kernel[i], strides[i], dilation[i]
        f_eff = F.effective_kernel(f, d)
        shown = f"{f_eff} (dilated from {f})" if d > 1 else str(f_eff)
        if padding == "same":
            before, after = F.same_padding(n, f_eff, s)
            length = F.keras_same_length(n, s)
        elif padding == "causal":
            before, after = F.causal_padding(f_eff)
            length = F.padded_length(n, f_eff, s, before, after)
        else:
            before, after = (0, 0) if padding == "valid" else padding[i]
            if padding == "valid" and not ceil_mode:
                length = F.keras_valid_length(n, f_eff, s)
            else:
                length = F.padded_length(n, f_eff, s, before, after, ceil_mode)
            if n + before + after < f_eff or length <= 0:
                padded = f"padded input {n + before + after}" if before or after else f"input {n}"
                raise ShapeError(f"{what} {shown} is larger than the {padded} on {names[i]}")
        out.append(Window(n, f, f_eff, s, d, before, after, length))
    return tuple(out)


# ----------------------------------------------------------------------------- convolution


@dataclass(frozen=True)
class Conv(Layer):
    """Conv1D/2D/3D. out = see :func:`resolve_windows`; params = K*prod(F)*(C_in/groups) + K."""

    filters: int = required(V.positive_int)
    kernel_size: Shape = required(V.positive_tuple, aliases=("kernel",))
    strides: Shape = arg(V.positive_tuple, 1, aliases=("stride",))
    padding: V.Padding = arg(V.padding, "valid")
    data_format: DataFormat | None = arg(V.optional_data_format)
    dilation_rate: Shape = arg(V.positive_tuple, 1, aliases=("dilation",))
    groups: int = arg(V.positive_int, 1)
    activation: str = arg(V.activation, "linear")
    use_bias: bool = arg(V.boolean, True, aliases=("bias",))
    rank: int = 2

    def check(self) -> None:
        if self.filters % self.groups:
            raise SpecError(f"groups={self.groups} does not divide filters={self.filters}")

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        fmt = self.layout(ctx)
        _expect_rank(self, shape, self.rank + 1, _spatial_layout(self.rank, fmt))
        if ctx.convention is Convention.KERAS and max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ShapeError(
                "Keras does not allow strides > 1 together with dilation_rate > 1 "
                "(use --convention pytorch for PyTorch's rules)"
            )
        spatial, c_in = split_channels(shape, fmt)
        if c_in % self.groups:
            raise ShapeError(f"groups={self.groups} does not divide the {c_in} input channels")
        windows = resolve_windows(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, ctx
        )
        out_spatial = tuple(w.out for w in windows)
        weights = self.filters * math.prod(self.kernel_size) * (c_in // self.groups)
        return LayerOutput(
            shape=join_channels(out_spatial, self.filters, fmt),
            trainable=weights + (self.filters if self.use_bias else 0),
            macs=math.prod(out_spatial) * weights,
            bias_adds=math.prod(out_spatial) * self.filters if self.use_bias else 0,
            ops=activation_ops(self.activation, math.prod(out_spatial) * self.filters),
            windows=windows,
        )
