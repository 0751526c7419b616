"""Each layer's formulas with the numbers substituted: the data behind ``cnncalc explain``.

Pure text building from a :class:`~cnncalc.summary.Summary` (no numpy, click or rich). The
steps come from each kind (:meth:`~cnncalc.layers.base.Layer.explain_steps`); here they are put
together with the receptive-field steps and the layer's heading. :mod:`cnncalc.render` lays
them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .enums import DataFormat
from .geometry import AXIS_NAMES, ReceptiveField, Shape
from .layers.base import Step, Worked
from .summary import LayerRow, Summary, known

__all__ = ["LayerExplanation", "Step", "explain", "explain_row", "heading", "legend", "legend_text"]

#: One name per quantity, as every kind's formulas write it; the legend shows the ones used,
#: a group's symbols together (``H_in, W_in input height, width``).
SYMBOLS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("input {}", (("H_in", "height"), ("W_in", "width"), ("L_in", "length"), ("D_in", "depth"))),
    ("output {}", (("H_out", "height"), ("W_out", "width"), ("L_out", "length"), ("D_out", "depth"))),
    ("{} channels", (("C_in", "input"), ("C_out", "output"))),
    ("kernel {}", (("F", "size"), ("F_h", "height"), ("F_w", "width"), ("F_l", "length"), ("F_d", "depth"))),
    ("{}", (("d", "dilation"),)),
    ("{}", (("F_eff", "dilated kernel"),)),
    ("{}", (("S", "stride"),)),
    ("{}", (("P", "zeros per side"),)),
    (
        "zeros {}",
        (
            ("P_top", "on top"),
            ("P_bottom", "below"),
            ("P_left", "on the left"),
            ("P_right", "on the right"),
            ("P_front", "in front"),
            ("P_back", "behind"),
        ),
    ),
    ("{}", (("out_pad", "output_padding"),)),
    ("{}", (("dm", "depth_multiplier"),)),
    ("{}", (("G", "groups"),)),
    ("{}", (("positions", "values of the other axes"),)),
    ("{}", (("i", "window index"),)),
    ("{}", (("r", "upscale factor"),)),
    ("field {} before the layer", (("r_in", "size"), ("j_in", "jump"))),
)
#: The legend's width (explain's rule lines keep within 80 columns) and its lead.
LEGEND_WIDTH = 80
LEGEND_LEAD = "   Symbols: "


@dataclass(frozen=True, slots=True)  # one per layer: slotted
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


def _field_steps(row: LayerRow, previous: ReceptiveField | None) -> list[Step]:
    rf = row.receptive_field
    if rf is None:
        return [Step("field", "every output sees the whole input", "", "whole input")]
    if not rf.tracked:
        return [Step("field", "not tracked (axes reordered or mixed)", "", "n/a")]
    if previous is None or not previous.tracked or not row.windows or not previous.affine:
        if rf == previous:
            what = "unchanged"
        elif rf.affine and (previous is None or not previous.tracked or previous.affine):
            what = "through the layer's windows"
        else:  # fractional strides: no recurrence, each output's cells counted
            what = "cells read, joined"
        return [Step("field", what, "", _field(rf))]
    if all(w.f_eff == 1 and w.stride == 1 for w in row.windows):  # padding, cropping, 1x1 stride 1
        return [Step("field", "unchanged: 1-cell windows, stride 1", "", _field(rf))]
    names = AXIS_NAMES[len(row.windows)]
    per_axis = [(previous.size[i], previous.jump[i], w.f_eff, w.stride) for i, w in enumerate(row.windows)]
    steps = []
    for key in dict.fromkeys(per_axis):  # one step per distinct set of numbers, in axis order
        axes = [names[i] for i, k in enumerate(per_axis) if k == key]
        i = per_axis.index(key)
        r, j, f_eff, stride = key
        label = "field" if len(axes) == len(names) else f"field ({', '.join(axes)})"
        work = f"{r} + ({f_eff} - 1)*{j}, jump {j}*{stride}"
        steps.append(
            Step(label, "r_in + (F_eff - 1)*j_in, jump j_in*S", work, f"{rf.size[i]}, jump {rf.jump[i]}")
        )
    return steps


#: What a layer's steps read of :class:`Worked` besides the names of its inputs.
_WORKED_FIGURES = ("input_shapes", "output_shape", "windows", "params", "buffers", "macs", "ctx")


def _field(rf: ReceptiveField) -> str:
    if not rf.uniform:  # the table says "varies by position (...)"; here within 80 columns
        ranges = [f"{lo} to {hi}" if lo != hi else str(lo) for lo, hi in (a.sizes for a in rf.axes)]
        return f"varies: {ranges[0] if len(set(ranges)) == 1 else ' x '.join(ranges)}"
    size = "x".join(map(str, rf.size)) if len(set(rf.size)) > 1 else str(rf.size[0])
    jump = "x".join(map(str, rf.jump)) if len(set(rf.jump)) > 1 else str(rf.jump[0])
    return f"{size}, jump {jump}"


def explain_row(
    row: LayerRow,
    summary: Summary,
    previous: ReceptiveField | None,
    shapes: dict[str, Shape],
    worked_out: dict[tuple[object, ...], tuple[Step, ...]] | None = None,
) -> LayerExplanation:
    """The working for one layer; ``shapes`` holds every tensor's shape by name (for merges).
    ``worked_out`` keeps a layer object's steps per figures (a repeated block repeats them)."""
    layer = row.layer
    worked = Worked(
        input_shapes=tuple(shapes[source] for source in row.inputs) or (row.input_shape,),
        sources=row.inputs,
        output_shape=row.output_shape,
        windows=row.windows,
        params=row.params,
        buffers=row.buffers,
        macs=known(row.macs, f"{row.name}'s MACs"),
        ctx=summary.context,
    )
    if worked_out is None:
        steps = layer.explain_steps(worked)
    else:
        # the steps follow from the layer and its figures; names of the inputs only for a kind
        # that reads several (a merge names them)
        names = worked.sources if layer.takes_many or len(worked.sources) != 1 else ()
        key = (id(layer), names, *(getattr(worked, f) for f in _WORKED_FIGURES))
        known_steps = worked_out.get(key)
        if known_steps is None:
            known_steps = worked_out[key] = tuple(layer.explain_steps(worked))
        steps = list(known_steps)
    if row.shares is not None:  # a shared layer's later call: its weights are another row's
        shared = Step("params", f"the weights of {row.shares} (counted on its row)", "", "0")
        steps = [shared if step.label == "params" else step for step in steps]
    if layer.takes_many:
        rf = row.receptive_field
        shown = "whole input" if rf is None else _field(rf) if rf.tracked else "n/a"
        steps.append(Step("field", "union of the inputs' fields", "", shown))
    elif previous is not None or row.receptive_field is not None:
        steps += _field_steps(row, previous)
    return LayerExplanation(
        row.index,
        row.name,
        _class_name(row, summary),
        row.spec,
        row.input_shape,
        row.output_shape,
        layer.explain_rule(summary.context),
        tuple(steps),
    )


def _class_name(row: LayerRow, summary: Summary) -> str:
    """The row's class in the convention's words: Keras's, or the ``torch.nn`` module PyTorch
    writes it as (``Conv2d``), as the table's type column shows it."""
    from .export_torch import type_name

    return type_name(row, summary.convention)


def explain(summary: Summary) -> tuple[LayerExplanation, ...]:
    """Every layer's working, in order; each reads the field of the layer it takes its input from
    (the working needs every size: :class:`~cnncalc.errors.UnknownSizes` otherwise)."""
    summary.require_known("explain")
    return tuple(explanations(summary))


def explanations(summary: Summary) -> Iterator[LayerExplanation]:
    """:func:`explain` one layer at a time, as they are asked for (the HTML report's rows: the
    working of 100,000 layers never held at once)."""
    summary.require_known("explain")
    fields: dict[str, ReceptiveField | None] = {
        name: ReceptiveField.of_input(len(shape) - 1) if len(shape) > 1 else None
        for name, shape in summary.model_inputs
    }
    shapes: dict[str, Shape] = dict(summary.model_inputs)
    worked_out: dict[tuple[object, ...], tuple[Step, ...]] = {}
    for row in summary.layers:
        previous = fields.get(row.inputs[0]) if row.inputs else None
        yield explain_row(row, summary, previous, shapes, worked_out)
        fields[row.name] = row.receptive_field
        shapes[row.name] = row.output_shape


def legend_text(explanations: tuple[LayerExplanation, ...]) -> str:
    """The symbols the explanations' formulas and rules use, each with its meaning, on one line:
    ``H_in, W_in input height, width · S stride · ...`` ("" when none is used)."""
    import re

    texts = " ".join(
        " ".join([expl.rule, *(f"{step.label} {step.formula}" for step in expl.steps)])
        for expl in explanations
    ).replace("2P", "2 P")  # PyTorch's 2P: twice P
    used = {m.group(0) for m in re.finditer(r"(?<![A-Za-z_0-9])[A-Za-z][A-Za-z_]*(?![A-Za-z_0-9])", texts)}
    items = []
    for template, members in SYMBOLS:
        present = [(symbol, word) for symbol, word in members if symbol in used]
        if present:
            names = ", ".join(symbol for symbol, _ in present)
            items.append(f"{names} {template.format(', '.join(word for _, word in present))}")
    return " · ".join(items)


def legend(explanations: tuple[LayerExplanation, ...], width: int = LEGEND_WIDTH) -> tuple[str, ...]:
    """:func:`legend_text` after ``Symbols:``, wrapped to ``width`` (80) columns, continuation
    lines under the legend's start; never a line that starts with the separating dot."""
    import textwrap

    text = legend_text(explanations)
    if not text:
        return ()
    lines = textwrap.wrap(
        f"{LEGEND_LEAD}{text}".replace(" · ", "\0· "),  # a line never starts with the dot
        width,
        subsequent_indent=" " * len(LEGEND_LEAD),
        break_long_words=False,
        break_on_hyphens=False,
    )
    return tuple(line.replace("\0", " ") for line in lines)


def heading(summary: Summary) -> str:
    """The first line: model, rules, layout and input (every named input of a graph)."""
    layout = "C x H x W" if summary.data_format is DataFormat.CHANNELS_FIRST else "H x W x C"
    if len(summary.inputs) > 1:
        what = "inputs " + ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in summary.inputs)
    else:
        what = "input " + "x".join(map(str, summary.input_shape))
    return f'Model "{summary.name}" · {summary.convention.value} rules · {what} ({layout})'
