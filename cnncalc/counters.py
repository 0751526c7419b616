"""How other tools count a network's cost: torchinfo, fvcore, ptflops, thop and PyTorch's own
flop counter, each reproduced per layer from the figures cnncalc computes.

Every tool gets one pure rule per layer kind, written from its source (versions in
``docs/costs.md``: torchinfo 1.8.0, fvcore 0.1.5.post20221221, ptflops 0.7.5 with its pytorch
backend, thop 0.1.1.post2209072238, torch 2.13.0 ``torch.utils.flop_counter``). A rule returns
the figure and why the tool counts it that way; :func:`compare` lists where the tools part from
cnncalc's MACs, one line per reason.

Kinds stand for the PyTorch module of the same job (``conv2d`` = ``nn.Conv2d``, ``relu`` =
``nn.ReLU``, ``adaptiveavgpool2d`` = ``nn.AdaptiveAvgPool2d``), because torchinfo, ptflops and
thop hook modules. A functional call has kinds of its own where PyTorch users meet it:
``activation:relu`` is ``F.relu``, ``globalaveragepooling2d`` is ``F.adaptive_avg_pool2d(x, 1)``;
a ``layernormalization`` over the channel axis of a channels-first tensor is torchvision's
``LayerNorm2d`` (a subclass of ``nn.LayerNorm`` that ptflops and thop do not recognise, since
they look classes up exactly). Residual adds, concatenations and reshapes are counted by none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from .enums import Counter, DataFormat
from .geometry import Shape, split_channels
from .layers.base import Context
from .layers.faces import Counted
from .summary import LayerRow, Summary, known


def _macs(row: LayerRow) -> int:
    return known(row.macs, f"{row.name}'s MACs")


def _bias_adds(row: LayerRow) -> int:
    return known(row.bias_adds, f"{row.name}'s bias adds")


#: What each tool calls its figure (all are per forward pass; batch 1 here).
UNITS = {
    Counter.CNNCALC: "MACs",
    Counter.TORCHINFO: "Mult-Adds",
    Counter.FVCORE: "flops (= MACs)",
    Counter.PTFLOPS: "MACs",
    Counter.THOP: "MACs",
    Counter.TORCH: "FLOPs",
}

#: How each tool is run to get the figures (eval mode, batch 1, the tool's defaults).
HOW = {
    Counter.CNNCALC: "MACs by weights, bias adds not counted",
    Counter.TORCHINFO: "torchinfo.summary(model, input_size) 'Total mult-adds'",
    Counter.FVCORE: "fvcore FlopCountAnalysis(model.eval(), x).total()",
    Counter.PTFLOPS: "ptflops get_model_complexity_info(model, res, backend='pytorch') MACs",
    Counter.THOP: "thop.profile(model, (x,)) ops",
    Counter.TORCH: "torch.utils.flop_counter.FlopCounterMode total (2 FLOPs per MAC)",
}


@dataclass(frozen=True)
class Figure:
    """One layer's figure under one tool, and why the tool counts it so."""

    value: int
    why: str


@dataclass(frozen=True)
class Layer:
    """What a rule reads of a row: its kind, arguments, shapes and cnncalc's own figures."""

    row: LayerRow
    fmt: DataFormat

    @property
    def counted(self) -> Counted:
        """The counting rule the kind declares (:class:`cnncalc.layers.faces.Counted`)."""
        return self.row.layer.counted

    def arg(self, name: str, default: object = None) -> object:
        return getattr(self.row.layer, name, default)

    @property
    def elements_in(self) -> int:
        return math.prod(self.row.input_shape)

    @property
    def elements_out(self) -> int:
        return math.prod(self.row.output_shape)

    def spatial(self, shape: Shape) -> Shape:
        return split_channels(shape, self.fmt)[0]

    @property
    def positions_out(self) -> int:
        """Output positions of a window layer (its output size without the channels)."""
        return math.prod(self.spatial(self.row.output_shape))


Rule = Callable[[Layer], Figure]
_NONE = Figure(0, "")


def _zero(why: str) -> Rule:
    return lambda layer: Figure(0, why)


# --- activations, shared by Activation layers and a layer's own activation= -----------------

#: ptflops hooks these modules (output numel) AND patches the F.* function they call, so one
#: application counts twice; nn.SiLU and nn.Softmax only through the patched F.silu/F.softmax.
_PTFLOPS_TWICE = {"gelu", "elu"}
_PTFLOPS_ONCE = {"silu", "swish", "softmax", "relu", "relu6", "leaky_relu"}


def _activation_ptflops(name: str, elements: int) -> Figure:
    if name in _PTFLOPS_TWICE:
        return Figure(2 * elements, f"nn.{name.upper()}: module hook + patched F.{name}, 1 each per value")
    if name in ("relu",):
        return Figure(elements, "F.relu (a function, no module): the patched F.relu, 1 per value")
    if name in _PTFLOPS_ONCE:
        return Figure(elements, f"{name}: counted once per value (module hook or patched function)")
    return Figure(0, f"{name}: neither hooked nor patched by ptflops")


def _softmax_thop(layer: Layer, axis_size: int) -> Figure:
    # thop count_softmax: batch*(exp + add + div) = (numel/n)*(n + (n - 1) + n)
    return Figure(layer.elements_out // axis_size * (3 * axis_size - 1), "nn.Softmax: (3n - 1) per row of n")


def _fused_activation(counter: Counter, layer: Layer) -> Figure:
    """A Keras layer's own ``activation=`` as PyTorch would write it: a function call after it."""
    name = str(layer.arg("activation", "linear"))
    if name == "linear":
        return _NONE
    if counter is Counter.PTFLOPS:
        return _activation_ptflops(name, layer.elements_out)
    if counter is Counter.THOP and name == "softmax":
        return Figure(0, "F.softmax is not a module: thop does not see it")
    return _NONE


def _plus(base: Figure, extra: Figure) -> Figure:
    if not extra.value:
        return base
    return Figure(base.value + extra.value, f"{base.why}; activation: {extra.why}")


# --- convolutions ------------------------------------------------------------------------------


def _conv(counter: Counter, layer: Layer) -> Figure:
    row = layer.row
    transposed = layer.counted is Counted.CONV_TRANSPOSE
    if counter is Counter.TORCHINFO:
        base = Figure(
            row.params * layer.positions_out,
            "Conv: weight and bias elements x output positions"
            + (
                " (the output's, so a stride-S transposed conv counts about S^2 too much)"
                if transposed
                else ""
            ),
        )
    elif counter is Counter.FVCORE:
        base = Figure(_macs(row), "conv: one flop per multiply-add, bias ignored")
    elif counter is Counter.PTFLOPS:
        base = Figure(_macs(row) + _bias_adds(row), "conv: MACs plus one per output value for the bias")
    elif counter is Counter.THOP:
        if transposed:
            positions_in = math.prod(layer.spatial(row.input_shape))
            value = _macs(row) // positions_in * layer.positions_out
            base = Figure(value, "ConvTranspose: output elements x in/groups x kernel (the output's size)")
        else:
            base = Figure(_macs(row), "conv: output elements x in/groups x kernel, bias ignored")
    elif counter is Counter.TORCH:
        base = Figure(2 * _macs(row), "convolution: 2 FLOPs per multiply-add, bias ignored")
    else:
        base = Figure(_macs(row), "multiply-adds by weights")
    return _plus(base, _fused_activation(counter, layer))


def _dense(counter: Counter, layer: Layer) -> Figure:
    row = layer.row
    positions = math.prod(row.input_shape[:-1])
    if counter is Counter.TORCHINFO:
        why = "Linear: weight and bias elements x batch"
        if positions > 1:
            why += f", once, not per position ({positions} positions on an N-D input)"
        base = Figure(row.params, why)
    elif counter is Counter.FVCORE:
        base = Figure(_macs(row), "linear: one flop per multiply-add, bias ignored")
    elif counter is Counter.PTFLOPS:
        base = Figure(_macs(row) + _bias_adds(row), "Linear: (in*out + out bias) per position")
    elif counter is Counter.THOP:
        base = Figure(_macs(row), "Linear: in_features x output elements, bias ignored")
    elif counter is Counter.TORCH:
        base = Figure(2 * _macs(row), "addmm/mm: 2 FLOPs per multiply-add, bias ignored")
    else:
        base = Figure(_macs(row), "multiply-adds by weights")
    return _plus(base, _fused_activation(counter, layer))


# --- normalization -----------------------------------------------------------------------------


def _batchnorm(counter: Counter, layer: Layer) -> Figure:
    center, scale = bool(layer.arg("center", True)), bool(layer.arg("scale", True))
    affine = center or scale
    n = layer.elements_in
    if counter is Counter.TORCHINFO:
        shape = layer.row.input_shape
        channels = shape[layer.row.layer.feature_axis(shape, Context(data_format=layer.fmt))]  # type: ignore[attr-defined]
        return Figure(
            channels * (int(center) + int(scale)), "BatchNorm: weight and bias elements (2*C) x batch"
        )
    if counter in (Counter.FVCORE, Counter.PTFLOPS):
        return Figure(n * (2 if affine else 1), "batch norm at inference: 2 per value (1 without affine)")
    if counter is Counter.THOP:
        return Figure(n * (4 if affine else 2), "BatchNorm: 2 per value, doubled for affine: 4 per value")
    if counter is Counter.TORCH:
        return Figure(0, "torch's flop counter counts only matrix products and convolutions")
    return Figure(0, "no multiply-adds by weights (2 elementwise ops per value, in ops)")


def _layernorm(counter: Counter, layer: Layer) -> Figure:
    lay = layer.row.layer
    axes = lay.normalized_axes(layer.row.input_shape)  # type: ignore[attr-defined]
    affine = bool(lay.learned)  # type: ignore[attr-defined]
    last_axis = axes == (len(layer.row.input_shape) - 1,)
    n = layer.elements_in
    if counter is Counter.TORCHINFO:
        return Figure(layer.row.params, "LayerNorm: weight and bias elements x batch")
    if counter is Counter.FVCORE:
        return Figure(n * (5 if affine else 4), "layer_norm: 5 per value (4 without affine)")
    if counter is Counter.PTFLOPS:
        if not last_axis:
            return Figure(0, "LayerNorm2d (a subclass over channels): ptflops looks classes up exactly")
        return Figure(
            n, "nn.LayerNorm: 1 per value (its 'affine' test looks for an attribute LayerNorm lacks)"
        )
    if counter is Counter.THOP:
        if not last_axis:
            return Figure(0, "LayerNorm2d (a subclass over channels): thop looks classes up exactly")
        return Figure(n * (4 if affine else 2), "LayerNorm: 2 per value, doubled for affine: 4 per value")
    return Figure(0, "not a matrix product or convolution" if counter is Counter.TORCH else "no weights MACs")


def _groupnorm(counter: Counter, layer: Layer) -> Figure:
    """nn.GroupNorm, measured with each tool (torchinfo 1.8.0, fvcore 0.1.5, ptflops 0.7.5, thop
    0.1.1, torch 2.13): fvcore's group_norm handle 5 per value (4 without affine), ptflops's norm
    hook 2 per value (1 without affine), thop and torch none."""
    affine = bool(layer.row.params)
    n = layer.elements_in
    if counter is Counter.TORCHINFO:
        return Figure(layer.row.params, "GroupNorm: weight and bias elements x batch")
    if counter is Counter.FVCORE:
        return Figure(n * (5 if affine else 4), "group_norm: 5 per value (4 without affine)")
    if counter is Counter.PTFLOPS:
        return Figure(n * (2 if affine else 1), "GroupNorm: 2 per value (1 without affine)")
    if counter is Counter.THOP:
        return Figure(0, "thop has no GroupNorm rule")
    return Figure(0, "not a matrix product or convolution" if counter is Counter.TORCH else "no weights MACs")


def _instancenorm(counter: Counter, layer: Layer) -> Figure:
    """nn.InstanceNorm1d/2d/3d, measured as GroupNorm was: fvcore 5 per value (4 without affine),
    ptflops 2 (1), thop's normalization rule 4 (2), torch none; running statistics change none."""
    affine = bool(layer.arg("affine", False))
    n = layer.elements_in
    if counter is Counter.TORCHINFO:
        return Figure(layer.row.trainable_params, "InstanceNorm: weight and bias elements x batch")
    if counter is Counter.FVCORE:
        return Figure(n * (5 if affine else 4), "instance_norm: 5 per value (4 without affine)")
    if counter is Counter.PTFLOPS:
        return Figure(n * (2 if affine else 1), "InstanceNorm: 2 per value (1 without affine)")
    if counter is Counter.THOP:
        return Figure(n * (4 if affine else 2), "InstanceNorm: 2 per value, doubled for affine: 4 per value")
    return Figure(0, "not a matrix product or convolution" if counter is Counter.TORCH else "no weights MACs")


# --- activations and pooling --------------------------------------------------------------------


def _relu(counter: Counter, layer: Layer) -> Figure:
    n = layer.elements_out
    if counter is not Counter.PTFLOPS:
        return Figure(0, "activations are not counted")
    slope, cap = layer.arg("negative_slope", 0.0), layer.arg("max_value")
    if layer.counted is Counted.LEAKY_RELU or slope:
        return Figure(n, "nn.LeakyReLU: module hook, 1 per value (F.leaky_relu is not patched)")
    if cap is not None:
        return Figure(n, "nn.ReLU6: module hook, 1 per value (it calls F.hardtanh, not patched)")
    return Figure(2 * n, "nn.ReLU: module hook + patched F.relu, 1 each per value")


def _activation(counter: Counter, layer: Layer) -> Figure:
    name = str(layer.arg("activation"))
    if counter is Counter.PTFLOPS:
        return _activation_ptflops(name, layer.elements_out)
    if counter is Counter.THOP and name == "softmax":
        return _softmax_thop(layer, layer.row.output_shape[-1])
    return Figure(0, "activations are not counted")


def _softmax(counter: Counter, layer: Layer) -> Figure:
    if counter is Counter.PTFLOPS:
        return Figure(layer.elements_out, "nn.Softmax: the patched F.softmax, 1 per value")
    if counter is Counter.THOP:
        axis = int(str(layer.arg("axis", -1)))
        return _softmax_thop(layer, layer.row.output_shape[axis if axis < 0 else axis - 1])
    return Figure(0, "softmax is not counted")


def _maxpool(counter: Counter, layer: Layer) -> Figure:
    if counter is Counter.PTFLOPS:
        return Figure(2 * layer.elements_in, "MaxPool: module hook + patched F.max_pool, input size each")
    return Figure(0, "max pooling is not counted")


def _avgpool(counter: Counter, layer: Layer) -> Figure:
    if counter is Counter.PTFLOPS:
        return Figure(2 * layer.elements_in, "AvgPool: module hook + patched F.avg_pool, input size each")
    if counter is Counter.THOP:
        return Figure(layer.elements_out, "AvgPool: 1 per output value")
    return Figure(0, "average pooling is not counted (fvcore handles only adaptive_avg_pool2d)")


def _adaptive_avg(counter: Counter, layer: Layer) -> Figure:
    row = layer.row
    rank = len(layer.spatial(row.input_shape))
    if counter is Counter.PTFLOPS:
        return Figure(
            2 * layer.elements_in,
            "AdaptiveAvgPool: module hook + patched F.adaptive_avg_pool, input size each",
        )
    if counter is Counter.THOP:
        # thop count_adap_avgpool: (prod(in/out per axis) + 1) * output elements, in doubles
        kernel = 1.0
        for n_in, n_out in zip(layer.spatial(row.input_shape), layer.spatial(row.output_shape), strict=True):
            kernel *= n_in / n_out
        return Figure(
            int((kernel + 1) * layer.elements_out), "AdaptiveAvgPool: (in/out window + 1) per output value"
        )
    if counter is Counter.FVCORE:
        if rank == 2:
            return Figure(layer.elements_in, "adaptive_avg_pool2d: 1 per input value")
        return Figure(0, f"adaptive_avg_pool{rank}d has no fvcore handle")
    return Figure(0, "pooling is not counted")


def _adaptive_max(counter: Counter, layer: Layer) -> Figure:
    if counter is Counter.PTFLOPS:
        return Figure(
            2 * layer.elements_in, "AdaptiveMaxPool: module hook + patched function, input size each"
        )
    return Figure(0, "max pooling is not counted")


def _global_avg(counter: Counter, layer: Layer) -> Figure:
    rank = len(layer.spatial(layer.row.input_shape))
    if counter is Counter.PTFLOPS:
        return Figure(layer.elements_in, "F.adaptive_avg_pool (a function, no module): patched, input size")
    if counter is Counter.FVCORE and rank == 2:
        return Figure(layer.elements_in, "adaptive_avg_pool2d: 1 per input value")
    return Figure(0, "a global average written as a function: no module to hook")


def _global_max(counter: Counter, layer: Layer) -> Figure:
    if counter is Counter.PTFLOPS:
        return Figure(layer.elements_in, "F.adaptive_max_pool (a function, no module): patched, input size")
    return Figure(0, "max pooling is not counted")


def _upsampling(counter: Counter, layer: Layer) -> Figure:
    n = layer.elements_out
    bilinear = layer.arg("interpolation") == "bilinear"
    if counter is Counter.PTFLOPS:
        return Figure(n, "nn.Upsample: 1 per output value")
    if counter is Counter.THOP:
        return Figure(n * (11 if bilinear else 1), "Upsample: 1 per output value (bilinear 11)")
    if counter is Counter.FVCORE and len(layer.spatial(layer.row.output_shape)) == 2:
        return Figure(n * (4 if bilinear else 1), "upsample: 1 per output value (bilinear 4)")
    return Figure(0, "resizing is not counted")


def _layerscale(counter: Counter, layer: Layer) -> Figure:
    if counter is Counter.TORCHINFO:
        return Figure(layer.row.params, "a leaf module with a parameter: its elements x batch")
    return Figure(0, "an elementwise product is not counted")


#: The rule of each counting kind (the kinds declare theirs: ``counted``).
_RULES: dict[Counted, Callable[[Counter, Layer], Figure]] = {
    Counted.CONV: _conv,
    Counted.CONV_TRANSPOSE: _conv,
    Counted.DENSE: _dense,
    Counted.BATCH_NORM: _batchnorm,
    Counted.LAYER_NORM: _layernorm,
    Counted.GROUP_NORM: _groupnorm,
    Counted.INSTANCE_NORM: _instancenorm,
    Counted.RELU: _relu,
    Counted.LEAKY_RELU: _relu,
    Counted.ACTIVATION: _activation,
    Counted.SOFTMAX: _softmax,
    Counted.MAX_POOL: _maxpool,
    Counted.AVG_POOL: _avgpool,
    Counted.ADAPTIVE_AVG: _adaptive_avg,
    Counted.ADAPTIVE_MAX: _adaptive_max,
    Counted.GLOBAL_AVG: _global_avg,
    Counted.GLOBAL_MAX: _global_max,
    Counted.UPSAMPLING: _upsampling,
    Counted.LAYER_SCALE: _layerscale,
}

#: Kinds every tool leaves at zero, and why.
_NOT_COUNTED = {
    Counted.RESIDUAL_ADD: "residual adds (the + operator) are counted by none",
    Counted.DIFFERENCE: "elementwise merges are counted by none",
    Counted.PRODUCT: "elementwise products (the * operator) are counted by none",
    Counted.CONSTANT_ARITHMETIC: "tensor-constant arithmetic (operators) is counted by none",
    Counted.OPAQUE: "an opaque row: its cost is unknown to cnncalc (counted as 0)",
}


def figure(row: LayerRow, counter: Counter, fmt: DataFormat) -> Figure:
    """One layer's figure under ``counter``'s rules."""
    if row.training_only:  # the tools count model.eval()'s forward pass, which skips the row
        return Figure(0, "runs only in training: eval mode's forward skips it")
    if counter is Counter.CNNCALC:
        return Figure(_macs(row), "multiply-adds by weights, bias adds not counted")
    layer = Layer(row, fmt)
    rule = _RULES.get(layer.counted)
    if rule is not None:
        return rule(counter, layer)
    if _macs(row):
        # a kind no PyTorch tool knows (network3, a nested model): its MACs as the tools would
        # count a conv or linear of that size
        return Figure(_macs(row) * (2 if counter is Counter.TORCH else 1), "counted as its multiply-adds")
    return Figure(0, _NOT_COUNTED.get(layer.counted, "no weights: not counted"))


def figures(summary: Summary, counter: Counter) -> tuple[Figure, ...]:
    """Every layer's figure under ``counter``'s rules, in the summary's order (the figures need
    every size: :class:`~cnncalc.errors.UnknownSizes` otherwise)."""
    summary.require_known("counting as other tools do")
    fmt = summary.data_format
    # Rows of one layer object with the same shapes and figures count the same (a repeated
    # block): each such figure is worked out once. Keyed by everything a rule reads of a row.
    seen: dict[tuple[Any, ...], Figure] = {}
    out = []
    for row in summary.layers:
        key = (
            id(row.layer),
            row.input_dims,
            row.output_dims,
            row.macs,
            row.bias_adds,
            row.params,
            row.trainable_params,
            row.training_only,  # eval mode skips the row: the tools count 0
        )
        found = seen.get(key)
        if found is None:
            found = seen[key] = figure(row, counter, fmt)
        out.append(found)
    return tuple(out)


@dataclass(frozen=True)
class Difference:
    """Where one tool parts from cnncalc's MACs for one reason: the layers and the amount."""

    counter: Counter
    why: str
    kind: str
    layers: tuple[str, ...]
    delta: int


@dataclass(frozen=True)
class Comparison:
    """Every tool's figure per layer and in total, and the differences from cnncalc's MACs."""

    summary: Summary
    counters: tuple[Counter, ...]
    #: per layer, one figure per counter (in ``counters`` order; :class:`FigureRows`)
    rows: Sequence[tuple[Figure, ...]]
    differences: tuple[Difference, ...]

    def total(self, counter: Counter) -> int:
        """The tool's total for the network."""
        i = self.counters.index(counter)
        if isinstance(self.rows, FigureRows):  # the column as it is, without a tuple per row
            return sum(f.value for f in self.rows.column(i))
        return sum(row[i].value for row in self.rows)


class FigureRows(Sequence[tuple[Figure, ...]]):
    """Per layer, one figure per counter, read from the counters' columns (100,000 layers'
    tuples of six are never all made at once)."""

    __slots__ = ("_columns", "_length")

    def __init__(self, columns: Sequence[tuple[Figure, ...]], length: int) -> None:
        self._columns, self._length = tuple(columns), length

    def __len__(self) -> int:
        return self._length

    def column(self, i: int) -> Sequence[Figure]:
        """Every layer's figure under the i-th counter."""
        return self._columns[i]

    @overload
    def __getitem__(self, index: int) -> tuple[Figure, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[Figure, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[Figure, ...] | Sequence[tuple[Figure, ...]]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(self._length)[index])
        i = range(self._length)[index]  # negative indices, IndexError as a tuple's
        return tuple(column[i] for column in self._columns)

    def __iter__(self) -> Iterator[tuple[Figure, ...]]:
        if not self._columns:
            return iter([()] * self._length)
        return zip(*self._columns, strict=True)


def compare(summary: Summary, counters: tuple[Counter, ...] = tuple(Counter)) -> Comparison:
    """Each tool's figures side by side, with one :class:`Difference` per (tool, reason) where a
    tool's figure is not cnncalc's MACs."""
    columns = [figures(summary, c) for c in counters]
    rows = FigureRows(columns, len(summary.layers))
    groups: dict[tuple[Counter, str, str], tuple[list[str], list[int]]] = {}
    for counter, column in zip(counters, columns, strict=True):
        if counter is Counter.CNNCALC:
            continue
        for row, fig in zip(summary.layers, column, strict=True):
            if row.training_only or fig.value == _macs(row):
                continue
            names, deltas = groups.setdefault((counter, fig.why, row.type), ([], []))
            names.append(row.name)
            deltas.append(fig.value - _macs(row))
    differences = tuple(
        Difference(counter, why, kind, tuple(names), sum(deltas))
        for (counter, why, kind), (names, deltas) in groups.items()
    )
    return Comparison(summary, tuple(counters), rows, differences)
