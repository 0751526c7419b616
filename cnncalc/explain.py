"""Each layer's formulas with the numbers substituted: the data behind ``cnncalc explain``.

Pure text building from a :class:`~cnncalc.summary.Summary` (no numpy, click or rich); every
number is read from the summary or recomputed here by the same formula it prints, so what is
shown is what was used. :mod:`cnncalc.render` lays the steps out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from . import layers as L
from .layers import AXIS_NAMES, Window, split_channels
from .options import Convention, DataFormat
from .summary import LayerRow, Summary


@dataclass(frozen=True)
class Step:
    """One line of working: ``label = formula = work = result``."""

    label: str
    formula: str
    work: str
    result: str


@dataclass(frozen=True)
class LayerExplanation:
    """A layer's heading, the rule that applied, and its steps."""

    index: int
    name: str
    class_name: str
    spec: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    rule: str
    steps: tuple[Step, ...]


_SYMBOL = {"length": "L", "height": "H", "width": "W", "depth": "D"}
_SIDES = {"length": ("left", "right"), "height": ("top", "bottom"), "width": ("left", "right"),
          "depth": ("front", "back")}  # fmt: skip


def _bias(symbol: str, count: int, use_bias: bool) -> tuple[str, str]:
    """The bias term of a params formula, as (formula, numbers): ``(" + K", " + 16")``, or nothing."""
    return (f" + {symbol}", f" + {count}") if use_bias else ("", "")


def _num(n: int) -> str:
    return f"{n:,}"


def _quotient(a: int, b: int) -> str:
    """``199/2`` -> ``99.5``; exact up to 3 decimals, else rounded with an ellipsis."""
    q = Fraction(a, b)
    if q.denominator == 1:
        return str(q.numerator)
    value = f"{float(q):.3f}".rstrip("0")
    return value if Fraction(value) == q else f"{float(q):.2f}…"


def _axes_steps(
    names: tuple[str, ...], windows: tuple[Window, ...], padding: object, ceil_mode: bool
) -> list[Step]:
    """Length steps per spatial axis; axes with the same numbers share one step (``height, width``)."""
    groups: list[tuple[list[str], Window]] = []
    for axis, w in zip(names, windows, strict=True):
        same = [g for g in groups if g[1] == w]
        if same:
            same[0][0].append(axis)
        else:
            groups.append(([axis], w))
    steps: list[Step] = []
    for axes, w in groups:
        steps += _length_steps(
            axes[0], w, padding, ceil_mode, label=", ".join(axes), all_axes=len(groups) == 1
        )
    return steps


def _length_steps(
    axis: str, w: Window, padding: object, ceil_mode: bool, label: str = "", all_axes: bool = False
) -> list[Step]:
    label = label or axis
    suffix = "" if all_axes else f" ({label})"
    sym = _SYMBOL[axis]
    n_in, f = f"{sym}_in", "F_eff" if w.dilation > 1 else "F"
    steps = []
    if w.dilation > 1:
        steps.append(
            Step(f"F_eff{suffix}", "d*(F - 1) + 1", f"{w.dilation}*({w.kernel} - 1) + 1", str(w.f_eff))
        )
    first, second = _SIDES[axis]
    if padding == "same":
        total = w.before + w.after
        steps.append(Step(label, f"ceil({n_in} / S)", f"ceil({w.n} / {w.stride}) = ceil({_quotient(w.n, w.stride)})",
                          str(w.out)))  # fmt: skip
        steps.append(Step(f"padding{suffix}", f"max((out - 1)*S + {f} - {n_in}, 0)",
                          f"max(({w.out} - 1)*{w.stride} + {w.f_eff} - {w.n}, 0)",
                          f"{total} ({w.before} {first} + {w.after} {second})" if suffix or "," not in label
                          else f"{total} ({w.before} before + {w.after} after)"))  # fmt: skip
        return steps
    if padding == "valid" and not ceil_mode:
        span = w.n - w.f_eff + 1
        steps.append(Step(label, f"ceil(({n_in} - {f} + 1) / S)",
                          f"ceil(({w.n} - {w.f_eff} + 1) / {w.stride}) = ceil({_quotient(span, w.stride)})",
                          str(w.out)))  # fmt: skip
        return steps
    p1, p2 = f"P_{first}", f"P_{second}"
    span = w.n + w.before + w.after - w.f_eff
    rounding = "ceil" if ceil_mode else "floor"
    raw = (-(-span // w.stride) if ceil_mode else span // w.stride) + 1
    steps.append(Step(label, f"{rounding}(({n_in} + {p1} + {p2} - {f}) / S) + 1",
                      f"{rounding}(({w.n} + {w.before} + {w.after} - {w.f_eff}) / {w.stride}) + 1 = "
                      f"{rounding}({_quotient(span, w.stride)}) + 1", str(raw)))  # fmt: skip
    if ceil_mode:
        start = (raw - 1) * w.stride
        verdict = f"dropped, so {w.out}" if raw != w.out else "kept"
        relation = ">=" if raw != w.out else "<"
        steps.append(Step(f"last window{suffix}", f"starts in the padding if (out - 1)*S >= {n_in} + {p1}",
                          f"({raw} - 1)*{w.stride} = {start} {relation} {w.n} + {w.before}", verdict))  # fmt: skip
    return steps


def _rule(row: LayerRow, summary: Summary) -> str:
    layer = row.layer
    if isinstance(layer, L.ConvTranspose):
        if summary.convention is Convention.KERAS and isinstance(layer.padding, str):
            return f"Keras transposed conv, '{layer.padding}': each input scattered through the kernel"
        return "PyTorch transposed conv: scatter, cut P from each end, add output_padding"
    if isinstance(layer, (L.ZeroPadding, L.Cropping)):
        return ""
    padding = getattr(layer, "padding", None)
    ceil_mode = getattr(layer, "ceil_mode", False)
    if padding == "same":
        who = "Keras" if summary.convention is Convention.KERAS else "PyTorch (stride 1 only)"
        return f"{who} 'same': ceil(n/S) outputs; an odd padding puts the extra zero after"
    if padding == "valid" and not ceil_mode:
        return "'valid': no padding; every window must fit inside the input"
    if padding == "causal":
        return "Keras 'causal': F_eff - 1 zeros on the left, then valid"
    if padding is not None:
        if ceil_mode:
            return "PyTorch rule with ceil_mode: round up, but no window may start in the padding"
        return "PyTorch rule: explicit zero padding on each side, then windows that fit"
    return ""


def _field_steps(row: LayerRow, previous: L.ReceptiveField | None) -> list[Step]:
    rf = row.receptive_field
    if rf is None:
        return [Step("field", "every output sees the whole input", "", "whole input")]
    if not rf.tracked:
        return [Step("field", "not tracked (fractional stride or mixed axes)", "", "n/a")]
    if previous is None or not previous.tracked or not row.windows:
        what = "unchanged" if rf == previous else "through the layer's convolution and pooling"
        return [Step("field", what, "", _field(rf))]
    names = AXIS_NAMES[len(row.windows)]
    per_axis = [(previous.size[i], previous.jump[i], w.f_eff, w.stride) for i, w in enumerate(row.windows)]
    steps = []
    for key in dict.fromkeys(per_axis):  # one step per distinct set of numbers, in axis order
        axes = [names[i] for i, k in enumerate(per_axis) if k == key]
        i = per_axis.index(key)
        r, j, f_eff, stride = key
        label = "field" if len(axes) == len(names) else f"field ({', '.join(axes)})"
        steps.append(Step(label, "r_in + (F_eff - 1)*j_in, jump j_in*S",
                          f"{r} + ({f_eff} - 1)*{j}, jump {j}*{stride}", f"{rf.size[i]}, jump {rf.jump[i]}"))  # fmt: skip
    return steps


def _field(rf: L.ReceptiveField) -> str:
    size = "x".join(map(str, rf.size)) if len(set(rf.size)) > 1 else str(rf.size[0])
    jump = "x".join(map(str, rf.jump)) if len(set(rf.jump)) > 1 else str(rf.jump[0])
    return f"{size}, jump {jump}"


def _conv_steps(row: LayerRow, layer: L.Conv, summary: Summary) -> list[Step]:
    fmt = layer.layout(summary.context)
    spatial_in, c_in = split_channels(row.input_shape, fmt)
    spatial_out, _ = split_channels(row.output_shape, fmt)
    names = AXIS_NAMES[layer.rank]
    steps: list[Step] = []
    steps += _axes_steps(names, row.windows, layer.padding, False)
    steps.append(Step("channels", "filters", "", str(layer.filters)))
    f_syms = "*".join(f"F_{_SYMBOL[a].lower()}" for a in names)
    f_vals = "*".join(map(str, layer.kernel_size))
    groups = f"/{layer.groups}" if layer.groups > 1 else ""
    bias = _bias("K", layer.filters, layer.use_bias)
    steps.append(Step("params", f"K*{f_syms}*D_in{'/groups' if groups else ''}{bias[0]}",
                      f"{layer.filters}*{f_vals}*{c_in}{groups}{bias[1]}", _num(row.params)))  # fmt: skip
    o_syms = "*".join(f"{_SYMBOL[a]}_out" for a in names)
    steps.append(Step("MACs", f"{o_syms}*K*{f_syms}*D_in{'/groups' if groups else ''}",
                      f"{'*'.join(map(str, spatial_out))}*{layer.filters}*{f_vals}*{c_in}{groups}", _num(row.macs)))  # fmt: skip
    return steps


def _pool_steps(row: LayerRow, layer: L.Pool, summary: Summary) -> list[Step]:
    steps = _axes_steps(AXIS_NAMES[layer.rank], row.windows, layer.padding, layer.ceil_mode)
    _, channels = split_channels(row.output_shape, layer.layout(summary.context))
    steps.append(Step("channels", "unchanged (pooling acts on each channel)", "", str(channels)))
    steps.append(Step("params", "none (pooling has no weights)", "", "0"))
    return steps


def _dense_steps(row: LayerRow, layer: L.Dense) -> list[Step]:
    n_in = row.input_shape[-1]
    positions = math.prod(row.input_shape[:-1])
    formula, work = (
        ("units*(in + 1)", f"{layer.units}*({n_in} + 1)")
        if layer.use_bias
        else ("units*in", f"{layer.units}*{n_in}")
    )
    steps = [
        Step("units", "last axis becomes units", "", str(layer.units)),
        Step("params", formula, work, _num(row.params)),
    ]
    macs_work = f"{positions}*{n_in}*{layer.units}" if positions > 1 else f"{n_in}*{layer.units}"
    steps.append(
        Step("MACs", "positions*in*units" if positions > 1 else "in*units", macs_work, _num(row.macs))
    )
    return steps


def _bn_steps(row: LayerRow, layer: L.BatchNorm, summary: Summary) -> list[Step]:
    axis = layer.feature_axis(row.input_shape, summary.context)
    c = row.input_shape[axis]
    learned = int(layer.center) + int(layer.scale)
    steps = [Step("features", f"size of axis {axis + 1} (C)", "", str(c))]
    if summary.convention is Convention.KERAS:
        steps.append(Step("params", "C*(center + scale) + 2*C (moving mean, variance)",
                          f"{c}*{learned} + 2*{c}", f"{_num(row.params)} ({_num(2 * c)} non-trainable)"))  # fmt: skip
    else:
        steps.append(Step("params", "C*(center + scale) (running mean, variance are buffers)",
                          f"{c}*{learned}", _num(row.params)))  # fmt: skip
        steps.append(Step("buffers", "2*C", f"2*{c}", _num(row.buffers)))
    return steps


def _depthwise_steps(row: LayerRow, layer: L.DepthwiseConv | L.SeparableConv, summary: Summary) -> list[Step]:
    _, c_in = split_channels(row.input_shape, layer.layout(summary.context))
    spatial_out, _ = split_channels(row.output_shape, layer.layout(summary.context))
    names = AXIS_NAMES[layer.rank]
    steps = _axes_steps(names, row.windows, layer.padding, False)
    f_vals = "*".join(map(str, layer.kernel_size))
    dm = layer.depth_multiplier
    positions = "*".join(map(str, spatial_out))
    if isinstance(layer, L.DepthwiseConv):
        steps.append(Step("channels", "C_in*depth_multiplier", f"{c_in}*{dm}", str(c_in * dm)))
        bias = _bias("C_in*dm", c_in * dm, layer.use_bias)
        steps.append(
            Step("params", f"prod(F)*C_in*dm{bias[0]}", f"{f_vals}*{c_in}*{dm}{bias[1]}", _num(row.params))
        )
        steps.append(
            Step("MACs", "positions*prod(F)*C_in*dm", f"{positions}*{f_vals}*{c_in}*{dm}", _num(row.macs))
        )
        return steps
    k = layer.filters
    bias = _bias("K", k, layer.use_bias)
    steps.append(Step("channels", "filters", "", str(k)))
    steps.append(Step("params", f"prod(F)*C_in*dm + C_in*dm*K{bias[0]}",
                      f"{f_vals}*{c_in}*{dm} + {c_in}*{dm}*{k}{bias[1]}", _num(row.params)))  # fmt: skip
    steps.append(Step("MACs", "positions*(prod(F)*C_in*dm + C_in*dm*K)",
                      f"{positions}*({f_vals}*{c_in}*{dm} + {c_in}*{dm}*{k})", _num(row.macs)))  # fmt: skip
    return steps


def _transposed_steps(row: LayerRow, layer: L.ConvTranspose, summary: Summary) -> list[Step]:
    spatial_in, c_in = split_channels(row.input_shape, layer.layout(summary.context))
    steps = []
    axes = L.transposed_axes(layer, spatial_in, summary.context)
    for i, (name, a) in enumerate(zip(AXIS_NAMES[layer.rank], axes, strict=True)):
        if a.rule == "pytorch":
            pads = (0, 0) if layer.padding == "valid" else layer.padding[i]
            steps.append(Step(name, "(n - 1)*S - P_before - P_after + d*(F - 1) + output_padding + 1",
                              f"({a.n} - 1)*{a.stride} - {pads[0]} - {pads[1]} + {a.dilation}*({a.kernel} - 1) + "
                              f"{a.output_padding} + 1", str(a.out)))  # fmt: skip
        elif a.output_padding is None:
            if layer.padding == "same":
                steps.append(Step(name, "n*S (Keras 'same')", f"{a.n}*{a.stride}", str(a.out)))
            else:
                steps.append(Step(name, "(n - 1)*S + max(F_eff, S) (Keras 'valid')",
                                  f"({a.n} - 1)*{a.stride} + max({a.f_eff}, {a.stride})", str(a.out)))  # fmt: skip
        else:
            pad = a.f_eff // 2 if layer.padding == "same" else 0
            steps.append(Step(name, "(n - 1)*S + F_eff - 2*pad + output_padding (Keras)",
                              f"({a.n} - 1)*{a.stride} + {a.f_eff} - 2*{pad} + {a.output_padding}", str(a.out)))  # fmt: skip
    f_vals = "*".join(map(str, layer.kernel_size))
    groups = f"/{layer.groups}" if layer.groups > 1 else ""
    bias = _bias("K", layer.filters, layer.use_bias)
    steps.append(Step("channels", "filters", "", str(layer.filters)))
    steps.append(Step("params", f"C_in*prod(F)*K{'/groups' if groups else ''}{bias[0]}",
                      f"{c_in}*{f_vals}*{layer.filters}{groups}{bias[1]}", _num(row.params)))  # fmt: skip
    steps.append(Step("MACs", "input positions*C_in*prod(F)*K (counted on the input)",
                      f"{'*'.join(map(str, spatial_in))}*{c_in}*{f_vals}*{layer.filters}{groups}", _num(row.macs)))  # fmt: skip
    return steps


def _resize_steps(row: LayerRow, layer: L.Layer, summary: Summary) -> list[Step]:
    spatial_in, _ = split_channels(row.input_shape, layer.layout(summary.context))
    spatial_out, _ = split_channels(row.output_shape, layer.layout(summary.context))
    steps = []
    for i, name in enumerate(AXIS_NAMES[layer.rank]):
        if isinstance(layer, L.ZeroPadding):
            b, a = layer.padding[i]
            steps.append(
                Step(name, "n + before + after", f"{spatial_in[i]} + {b} + {a}", str(spatial_out[i]))
            )
        elif isinstance(layer, L.Cropping):
            b, a = layer.cropping[i]
            steps.append(
                Step(name, "n - before - after", f"{spatial_in[i]} - {b} - {a}", str(spatial_out[i]))
            )
        else:
            steps.append(Step(name, "n*size", f"{spatial_in[i]}*{layer.size[i]}", str(spatial_out[i])))
    return [*steps, Step("params", "none", "", "0")]


def _network3_steps(row: LayerRow, layer: L.Layer) -> list[Step]:
    if isinstance(layer, L.ConvPool):
        k, c, fh, fw = layer.filter_shape
        steps = []
        for name, n, f, p, out in zip(("height", "width"), row.input_shape[1:], (fh, fw), layer.poolsize,
                                      row.output_shape[1:], strict=True):  # fmt: skip
            steps.append(Step(name, "floor((n - F + 1) / pool) (valid conv, ignore_border pooling)",
                              f"floor(({n} - {f} + 1) / {p}) = floor({_quotient(n - f + 1, p)})", str(out)))  # fmt: skip
        steps.append(Step("params", "K*C*F_h*F_w + K (bias added after pooling)", f"{k}*{c}*{fh}*{fw} + {k}",
                          _num(row.params)))  # fmt: skip
        return steps
    n_in = math.prod(row.input_shape)
    return [Step("n_in", "values in the (flattened) input", "*".join(map(str, row.input_shape)), _num(n_in)),
            Step("params", "n_in*n_out + n_out", f"{n_in}*{layer.n_out} + {layer.n_out}", _num(row.params))]  # fmt: skip


def _merge_steps(row: LayerRow, layer: L.Merge, summary: Summary) -> list[Step]:
    out = "x".join(map(str, row.output_shape))
    sources = ", ".join(row.inputs)
    if isinstance(layer, L.Concatenate):
        shapes = {r.name: r.output_shape for r in summary.layers}
        shapes.update(dict(summary.model_inputs))
        axis = layer.concat_axis(row.output_shape, summary.context)
        parts = " + ".join(str(shapes[s][axis]) for s in row.inputs)
        return [Step(f"axis {axis + 1}", f"sum over the inputs ({sources})", parts, str(row.output_shape[axis])),
                Step("shape", "the other axes agree", "", out)]  # fmt: skip
    what = {L.Add: "sum", L.Subtract: "difference", L.Multiply: "product", L.Average: "mean",
            L.Maximum: "maximum", L.Minimum: "minimum"}[type(layer)]  # fmt: skip
    return [
        Step("shape", f"{what} of inputs of one shape ({sources})", "", out),
        Step("params", "none", "", "0"),
    ]


def _shape_steps(row: LayerRow, layer: L.Layer, summary: Summary) -> list[Step]:
    """Kinds whose working is one line of shape and one of params."""
    out = "x".join(map(str, row.output_shape))
    if isinstance(layer, L.GlobalPool):
        what = "one value per channel" + (" (keepdims)" if layer.keepdims else "")
        return [Step("shape", what, "", out), Step("params", "none", "", "0")]
    if isinstance(layer, L.Reshape):
        return [Step("shape", "same number of values, one -1 inferred",
                     f"{math.prod(row.input_shape):,} values", out), Step("params", "none", "", "0")]  # fmt: skip
    if isinstance(layer, L.Permute):
        return [
            Step("shape", f"axes in the order {list(layer.dims)}", "", out),
            Step("params", "none", "", "0"),
        ]
    if isinstance(layer, L.LayerNorm):
        sizes = [row.input_shape[i] for i in layer.normalized_axes(row.input_shape)]
        vectors = " + ".join(layer.learned) or "nothing"
        return [Step("shape", "unchanged", "", out),
                Step("params", f"prod(normalized axes)*({vectors})", f"{'*'.join(map(str, sizes))}*{len(layer.learned)}",
                     _num(row.params))]  # fmt: skip
    what = (
        "identity at inference"
        if isinstance(layer, (L.Dropout, L.SpatialDropout))
        else "applied to each value"
    )
    return [Step("shape", f"unchanged ({what})", "", out), Step("params", "none", "", "0")]


def explain_row(row: LayerRow, summary: Summary, previous: L.ReceptiveField | None) -> LayerExplanation:
    """The working for one layer."""
    layer = row.layer
    if isinstance(layer, L.Conv):
        steps = _conv_steps(row, layer, summary)
    elif isinstance(layer, (L.DepthwiseConv, L.SeparableConv)):
        steps = _depthwise_steps(row, layer, summary)
    elif isinstance(layer, L.ConvTranspose):
        steps = _transposed_steps(row, layer, summary)
    elif isinstance(layer, L.Pool):
        steps = _pool_steps(row, layer, summary)
    elif isinstance(layer, (L.ZeroPadding, L.Cropping, L.UpSampling)):
        steps = _resize_steps(row, layer, summary)
    elif isinstance(layer, L.Dense):
        steps = _dense_steps(row, layer)
    elif isinstance(layer, L.BatchNorm):
        steps = _bn_steps(row, layer, summary)
    elif isinstance(layer, L.Flatten):
        dims = "*".join(map(str, row.input_shape))
        steps = [Step("units", "product of all axes", dims, _num(row.output_shape[0]))]
    elif isinstance(layer, (L.ConvPool, L.FullyConnected, L.SoftmaxLayer)):
        steps = _network3_steps(row, layer)
    elif isinstance(layer, L.Merge):
        steps = _merge_steps(row, layer, summary)
    else:
        steps = _shape_steps(row, layer, summary)
    if isinstance(layer, L.Merge):
        rf = row.receptive_field
        shown = "whole input" if rf is None else _field(rf) if rf.tracked else "n/a"
        steps.append(Step("field", "union of the inputs' fields", "", shown))
    elif previous is not None or row.receptive_field is not None:
        steps += _field_steps(row, previous)
    return LayerExplanation(row.index, row.name, row.class_name, row.spec, row.input_shape, row.output_shape,
                            _rule(row, summary), tuple(steps))  # fmt: skip


def explain(summary: Summary) -> tuple[LayerExplanation, ...]:
    """Every layer's working, in order; each reads the field of the layer it takes its input from."""
    fields: dict[str, L.ReceptiveField | None] = {
        name: L.ReceptiveField.of_input(len(shape) - 1) if len(shape) > 1 else None
        for name, shape in summary.model_inputs
    }
    out = []
    for row in summary.layers:
        out.append(explain_row(row, summary, fields.get(row.inputs[0]) if row.inputs else None))
        fields[row.name] = row.receptive_field
    return tuple(out)


def heading(summary: Summary) -> str:
    """The first line: model, rules, layout and input."""
    layout = "C x H x W" if summary.data_format is DataFormat.CHANNELS_FIRST else "H x W x C"
    shape = "x".join(map(str, summary.input_shape))
    return f'Model "{summary.name}" · {summary.convention.value} rules · input {shape} ({layout})'
