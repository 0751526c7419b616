"""Each layer's formulas with the numbers substituted: the data behind ``cnncalc explain``.

Pure text building from a :class:`~cnncalc.summary.Summary` (no numpy, click or rich). The
steps come from each kind (:meth:`~cnncalc.layers.base.Layer.explain_steps`); here they are put
together with the receptive-field steps and the layer's heading. :mod:`cnncalc.render` lays
them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .enums import Convention, DataFormat
from .geometry import AXIS_NAMES, ReceptiveField, Shape
from .layers.base import Step, Worked
from .summary import LayerRow, Summary, known

__all__ = [
    "Explanations",
    "LayerExplanation",
    "Step",
    "explain",
    "explain_row",
    "explanations",
    "heading",
    "legend",
    "legend_text",
    "legend_words",
]

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


def _field_steps(row: LayerRow, previous: ReceptiveField | None) -> tuple[Step, ...]:
    rf = row.receptive_field
    if rf is None:
        return (Step("field", "every output sees the whole input", "", "whole input"),)
    if not rf.tracked:
        return (Step("field", "not tracked (axes reordered or mixed)", "", "n/a"),)
    if previous is None or not previous.tracked or not row.windows or not previous.affine:
        if rf is previous or rf == previous:
            what = "unchanged"
        elif rf.affine and (previous is None or not previous.tracked or previous.affine):
            what = "through the layer's windows"
        else:  # fractional strides: no recurrence, each output's cells counted
            what = "cells read, joined"
        return (Step("field", what, "", _field(rf)),)
    if all(w.f_eff == 1 and w.stride == 1 for w in row.windows):  # padding, cropping, 1x1 stride 1
        return (Step("field", "unchanged: 1-cell windows, stride 1", "", _field(rf)),)
    names = AXIS_NAMES[len(row.windows)]
    sizes, jumps = previous.size, previous.jump  # each a pass over the axes: read once
    per_axis = [(sizes[i], jumps[i], w.f_eff, w.stride) for i, w in enumerate(row.windows)]
    rf_sizes, rf_jumps = rf.size, rf.jump
    steps = []
    for key in dict.fromkeys(per_axis):  # one step per distinct set of numbers, in axis order
        axes = [names[i] for i, k in enumerate(per_axis) if k == key]
        i = per_axis.index(key)
        r, j, f_eff, stride = key
        label = "field" if len(axes) == len(names) else f"field ({', '.join(axes)})"
        work = f"{r} + ({f_eff} - 1)*{j}, jump {j}*{stride}"
        steps.append(
            Step(label, "r_in + (F_eff - 1)*j_in, jump j_in*S", work, f"{rf_sizes[i]}, jump {rf_jumps[i]}")
        )
    return tuple(steps)


def _field(rf: ReceptiveField) -> str:
    sizes = rf.size
    if None in sizes:  # not uniform: the table says "varies by position (...)"; here within 80 columns
        ranges = [f"{lo} to {hi}" if lo != hi else str(lo) for lo, hi in (a.sizes for a in rf.axes)]
        return f"varies: {ranges[0] if len(set(ranges)) == 1 else ' x '.join(ranges)}"
    jumps = rf.jump
    size = "x".join(map(str, sizes)) if len(set(sizes)) > 1 else str(sizes[0])
    jump = "x".join(map(str, jumps)) if len(set(jumps)) > 1 else str(jumps[0])
    return f"{size}, jump {jump}"


#: A layer object's steps and rule per figures (:class:`Explanations` keeps them: a repeated
#: block repeats them).
WorkedOut = dict[tuple[object, ...], tuple[tuple[Step, ...], str]]


def explain_row(
    row: LayerRow,
    summary: Summary,
    previous: ReceptiveField | None,
    shapes: dict[str, Shape],
    worked_out: WorkedOut | None = None,
) -> LayerExplanation:
    """The working for one layer; ``shapes`` holds the shape of every tensor it reads by name.
    ``worked_out`` keeps a layer object's steps per figures (a repeated block repeats them)."""
    input_shapes = tuple(shapes[source] for source in row.inputs) or (row.input_shape,)
    return _explained(row, summary, previous, input_shapes, worked_out, None)


def _explained(
    row: LayerRow,
    summary: Summary,
    previous: ReceptiveField | None,
    input_shapes: tuple[Shape, ...],
    worked_out: WorkedOut | None,
    field_steps: tuple[Step, ...] | None,
) -> LayerExplanation:
    """:func:`explain_row` on the shapes it reads; ``field_steps``: the field's steps when known."""
    layer = row.layer
    macs = row.macs if row.macs is not None else known(row.macs, f"{row.name}'s MACs")
    # the steps follow from the layer and its figures; names of the inputs only for a kind that
    # reads several (a merge names them). The windows are shared by the rows of one layer object
    # on one input shape (and kept alive by them): known by identity.
    names = row.inputs if layer.takes_many or len(row.inputs) != 1 else ()
    output_shape = row.output_shape
    key = (id(layer), names, input_shapes, output_shape, id(row.windows), row.params, row.buffers, macs)
    known_steps = None if worked_out is None else worked_out.get(key)
    if known_steps is None:
        worked = Worked(
            input_shapes=input_shapes,
            sources=row.inputs,
            output_shape=output_shape,
            windows=row.windows,
            params=row.params,
            buffers=row.buffers,
            macs=macs,
            ctx=summary.context,
        )
        known_steps = (tuple(layer.explain_steps(worked)), layer.explain_rule(summary.context))
        if worked_out is not None:
            worked_out[key] = known_steps
    steps, rule = known_steps
    if row.shares is not None:  # a shared layer's later call: its weights are another row's
        shared = Step("params", f"the weights of {row.shares} (counted on its row)", "", "0")
        steps = tuple(shared if step.label == "params" else step for step in steps)
    if layer.takes_many:
        rf = row.receptive_field
        shown = "whole input" if rf is None else _field(rf) if rf.tracked else "n/a"
        steps += (Step("field", "union of the inputs' fields", "", shown),)
    elif previous is not None or row.receptive_field is not None:
        steps += field_steps if field_steps is not None else _field_steps(row, previous)
    return LayerExplanation(
        row.index,
        row.name,
        _class_name(row, summary),
        row.spec,
        row.input_shape,
        output_shape,
        rule,
        steps,
    )


def _class_name(row: LayerRow, summary: Summary) -> str:
    """The row's class in the convention's words: Keras's, or the ``torch.nn`` module PyTorch
    writes it as (``Conv2d``), as the table's type column shows it."""
    if summary.convention is not Convention.PYTORCH:
        return row.class_name  # what type_name says, without a call per row
    from .export_torch import type_name

    return type_name(row, summary.convention)


class Explanations:
    """Every layer's working, in order, made as it is read (never all at once: 100,000 layers'
    steps would take more memory than their rows), as often as it is read; each reads the field
    of the layer it takes its input from. The working needs every size
    (:class:`~cnncalc.errors.UnknownSizes` otherwise)."""

    __slots__ = ("summary", "_inputs", "_worked_out")

    def __init__(self, summary: Summary) -> None:
        summary.require_known("explain")
        self.summary = summary
        # made once and kept: the caches know fields by identity
        self._inputs: dict[str, tuple[Shape, ReceptiveField | None]] = {
            name: (shape, ReceptiveField.of_input(len(shape) - 1) if len(shape) > 1 else None)
            for name, shape in summary.model_inputs
        }
        self._worked_out: WorkedOut = {}

    def __len__(self) -> int:
        return len(self.summary.layers)

    def __iter__(self) -> Iterator[LayerExplanation]:
        summary, inputs, worked_out = self.summary, self._inputs, self._worked_out
        if summary.branches:
            yield from self._graph()
            return
        # a stack: each layer reads the one before it (the first, the model's input)
        shape, previous = next(iter(inputs.values()))
        # the field's steps of the last layer, by (field, field before, windows): the layers after
        # a conv (batch norm, activation) repeat "unchanged" with its numbers
        last: tuple[object, object, object, tuple[Step, ...]] | None = None
        for row in summary.layers:
            rf = row.receptive_field
            if last is not None and last[0] is rf and last[1] is previous and last[2] is row.windows:
                field_steps = last[3]
            else:
                field_steps = _field_steps(row, previous)
                last = (rf, previous, row.windows, field_steps)
            yield _explained(row, summary, previous, (shape,), worked_out, field_steps)
            shape, previous = row.output_shape, rf

    def _graph(self) -> Iterator[LayerExplanation]:
        summary = self.summary
        fields = {name: rf for name, (_, rf) in self._inputs.items()}
        shapes = {name: shape for name, (shape, _) in self._inputs.items()}
        for row in summary.layers:
            previous = fields.get(row.inputs[0]) if row.inputs else None
            yield explain_row(row, summary, previous, shapes, self._worked_out)
            fields[row.name] = row.receptive_field
            shapes[row.name] = row.output_shape


def explain(summary: Summary) -> tuple[LayerExplanation, ...]:
    """Every layer's working, in order (all of :class:`Explanations`, kept)."""
    return tuple(Explanations(summary))


def explanations(summary: Summary) -> Iterator[LayerExplanation]:
    """:func:`explain` one layer at a time, as they are asked for (the HTML report's rows: the
    working of 100,000 layers never held at once)."""
    return iter(Explanations(summary))


def legend_text(explanations: Iterable[LayerExplanation]) -> str:
    """The symbols the explanations' formulas and rules use, each with its meaning, on one line:
    ``H_in, W_in input height, width · S stride · ...`` ("" when none is used)."""
    return legend_of(legend_words(explanations))


def legend_words(explanations: Iterable[LayerExplanation]) -> set[str]:
    """The distinct texts the legend reads (rules, steps' labels and formulas): a layer repeated
    a thousand times adds its texts once."""
    texts: set[str] = set()
    add = texts.add
    for expl in explanations:
        add(expl.rule)
        for step in expl.steps:
            add(step.label)
            add(step.formula)
    return texts


def legend_of(texts: set[str]) -> str:
    """:func:`legend_text` of :func:`legend_words`' texts."""
    import re

    # PyTorch's 2P: twice P (texts joined by spaces: no word spans two of them)
    joined = " ".join(sorted(texts)).replace("2P", "2 P")
    used = {m.group(0) for m in re.finditer(r"(?<![A-Za-z_0-9])[A-Za-z][A-Za-z_]*(?![A-Za-z_0-9])", joined)}
    items = []
    for template, members in SYMBOLS:
        present = [(symbol, word) for symbol, word in members if symbol in used]
        if present:
            names = ", ".join(symbol for symbol, _ in present)
            items.append(f"{names} {template.format(', '.join(word for _, word in present))}")
    return " · ".join(items)


def legend(explanations: Iterable[LayerExplanation] | set[str], width: int = LEGEND_WIDTH) -> tuple[str, ...]:
    """:func:`legend_text` after ``Symbols:``, wrapped to ``width`` (80) columns, continuation
    lines under the legend's start; never a line that starts with the separating dot.
    ``explanations`` may be :func:`legend_words`' texts instead."""
    import textwrap

    text = legend_of(explanations) if isinstance(explanations, set) else legend_text(explanations)
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
