"""The engine: :func:`summarize` turns a :class:`~cnncalc.io.spec.Spec` into a :class:`Summary`.

Naming (Keras-style ``conv2d_1``), wiring (what each layer reads), topological order for graphs,
and the per-layer computation by each kind; raises on the first impossible layer.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from .enums import Convention, DataFormat, default_data_format, dtype_bytes
from .errors import (
    CnncalcError,
    MismatchError,
    Option,
    Part,
    ShapeError,
    SizeMismatch,
    SpecError,
    describe_layer,
)
from .geometry import UNTRACKED, OpenShape, ReceptiveField, Shape, known_shape, merge_fields
from .hints import MAX_LAYERS as MAX_HINT_LAYERS
from .hints import flatten_fix, input_fix
from .io.spec import LayerSpec, Spec, layer_names
from .layers import Kind, kind_of
from .layers import args as A
from .layers.base import Context, Layer, LayerOutput, gated
from .layers.rules import Known, gated_sizes
from .summary import LayerRow, Summary

#: Largest tensor (values per sample) a spec may produce: int64 indexing, as in every framework.
MAX_ELEMENTS = 2**63 - 1


def settings(
    spec: Spec,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
) -> Context:
    """Resolve convention and data format: explicit argument > spec > default."""
    conv = Convention.parse(convention, "convention") if convention is not None else spec.convention
    conv = conv or Convention.KERAS
    fmt = DataFormat.parse(data_format, "data format") if data_format is not None else spec.data_format
    return Context(conv, fmt or default_data_format(conv))


def model_inputs(spec: Spec, shape: OpenShape | None) -> tuple[tuple[str, OpenShape], ...]:
    """The model's named inputs; a plain ``input_shape`` is one input called ``input``.

    ``shape`` (e.g. from ``--input``) replaces the shape of a single input. A declared shape may
    keep ``None`` sizes (Keras's ``Input(shape=(None, None, 3))``): they propagate as in Keras.
    """
    if shape is not None and not (spec.inputs and tuple(shape) == spec.inputs[0][1]):
        if len(spec.inputs) > 1:
            raise SpecError(Option("input_shape"), " cannot set the shapes of a model with several inputs")
        return ((spec.inputs[0][0] if spec.inputs else "input", tuple(shape)),)
    declared = spec.inputs or ((("input", spec.input_shape),) if spec.input_shape is not None else ())
    if not declared:
        # PyTorch code reads C x H x W: an H x W x C example would mislead its users
        first = spec.data_format is DataFormat.CHANNELS_FIRST or (
            spec.data_format is None and spec.convention is Convention.PYTORCH
        )
        example = " like 3x224x224 (C x H x W)" if first else " like 200x200x1"
        raise SpecError(
            "no input shape: give ", Option("input_shape"), f"{example} (or input_shape in the spec)"
        )
    return tuple((name, tuple(sizes)) for name, sizes in declared)


def wiring(spec: Spec, names: list[str], inputs: tuple[tuple[str, OpenShape], ...]) -> list[tuple[str, ...]]:
    """Each layer's sources: its ``inputs``, else the previous layer (the first model input for the first)."""
    sources = []
    previous = inputs[0][0]
    for ls, name in zip(spec.layers, names, strict=True):
        sources.append(ls.inputs if ls.inputs is not None else (previous,))
        previous = name
    return sources


def topological_order(
    spec: Spec, names: list[str], sources: list[tuple[str, ...]], input_names: set[str]
) -> list[int]:
    """Layer indices so that every layer comes after what it reads (ties: spec order).

    Unknown names and cycles are errors that name the layers involved.
    """
    position = {name: i for i, name in enumerate(names)}
    for i, name in enumerate(names):
        if name in input_names:
            raise SpecError(
                f"{describe_layer(i, spec.layers[i].text)}: the name {name!r} is also a model input"
            )
        for source in sources[i]:
            if source not in position and source not in input_names:
                known = _some(sorted(input_names | set(names)))
                raise SpecError(
                    f"{describe_layer(i, spec.layers[i].text)}: unknown input {source!r} (known: {known})"
                )
    if all(ls.inputs is None for ls in spec.layers):
        return list(range(len(names)))  # a plain stack: already in order

    waiting = [sum(1 for s in srcs if s in position) for srcs in sources]
    readers: dict[int, list[int]] = {}
    for i, srcs in enumerate(sources):
        for source in srcs:
            if source in position:
                readers.setdefault(position[source], []).append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for reader in readers.get(i, []):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) < len(names):
        loop = _cycle(names, sources, set(order), position)
        shown = loop if len(loop) <= 2 * CYCLE_ENDS + 1 else [*loop[:CYCLE_ENDS], "…", *loop[-CYCLE_ENDS:]]
        size = f" of {len(loop) - 1} layers" if len(loop) > 2 * CYCLE_ENDS + 1 else ""
        raise SpecError(f"the layers form a cycle{size}: {' -> '.join(shown)}")
    return order


#: A long cycle is shown as its first and last few layers, so the message stays one short line.
CYCLE_ENDS = 3
#: How many names a list in a message shows before "and N more".
NAMES_SHOWN = 10


def _some(names: list[str]) -> str:
    """The first NAMES_SHOWN names, and how many more there are."""
    more = len(names) - NAMES_SHOWN
    return ", ".join(names[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _cycle(
    names: list[str], sources: list[tuple[str, ...]], done: set[int], position: dict[str, int]
) -> list[str]:
    """One cycle among the layers that could not be ordered, as names (first repeated at the end)."""
    node = next(i for i in range(len(names)) if i not in done)
    path: list[int] = []
    on_path: dict[int, int] = {}  # node -> its place in path: the walk stays linear
    while node not in on_path:
        on_path[node] = len(path)
        path.append(node)
        node = next(position[s] for s in sources[node] if s in position and position[s] not in done)
    loop = path[on_path[node] :]
    return [names[i] for i in reversed(loop)] + [names[loop[-1]]]


Order = list[tuple[int, str, tuple[str, ...]]]


def wire(
    spec: Spec, shape: OpenShape | None = None, convention: Convention | None = None
) -> tuple[Order, tuple[tuple[str, OpenShape], ...]]:
    """A spec wired as :func:`summarize` wires it: ([(index, name, sources)] in topological
    order, the model inputs, whose sizes may be ``None``). ``shape`` replaces a single input's;
    ``convention`` (else the spec's) chooses the default names (:func:`layer_names`)."""
    inputs = tuple(
        (name, A.free_shape(list(dims), f"input {name!r}" if spec.inputs else "input shape"))
        for name, dims in model_inputs(spec, shape)
    )
    names = layer_names(spec.layers, convention or spec.convention)
    sources = wiring(spec, names, inputs)
    order = topological_order(spec, names, sources, {n for n, _ in inputs})
    return [(i, names[i], tuple(sources[i])) for i in order], inputs


def wire_inner(spec: Spec, shape: OpenShape) -> tuple[Order, tuple[tuple[str, OpenShape], ...]]:
    """A nested model wired inside another: ``shape`` is its input's (a model with several
    inputs keeps its own)."""
    return wire(spec, shape if not spec.inputs or len(spec.inputs) == 1 else None)


def expand_nested(spec: Spec) -> Spec:
    """The spec with every nested model replaced by its own layers (recursively), named
    ``outer/inner`` so names stay unique, wired to what the nested model read and to what read it
    (Keras's ``summary(expand_nested=True)`` shows the same layers)."""
    if all(ls.layer.inner_spec() is None for ls in spec.layers):
        return spec
    names = layer_names(spec.layers)
    renamed: dict[str, str] = {}  # a nested model's name -> its last inner layer's new name
    previous = spec.inputs[0][0] if spec.inputs else "input"
    layers: list[LayerSpec] = []
    for ls, name in zip(spec.layers, names, strict=True):
        sources = tuple(renamed.get(s, s) for s in (ls.inputs if ls.inputs is not None else (previous,)))
        nested = ls.layer.inner_spec()
        if nested is None:
            layers.append(replace(ls, name=name, inputs=sources))
            previous = name
            continue
        inner = expand_nested(nested)
        if len(inner.inputs) > 1 or len(sources) != 1:
            raise SpecError(f"{describe_layer(len(layers), ls.text)}: a nested model takes one input")
        inner_names = layer_names(inner.layers)
        mapping = {inner.inputs[0][0] if inner.inputs else "input": sources[0]}
        mapping.update({n: f"{name}/{n}" for n in inner_names})
        inner_previous = next(iter(mapping))
        for ils, iname in zip(inner.layers, inner_names, strict=True):
            reads = ils.inputs if ils.inputs is not None else (inner_previous,)
            layers.append(
                replace(
                    ils,
                    name=mapping[iname],
                    inputs=tuple(mapping.get(s, s) for s in reads),
                    trainable=ils.trainable and ls.trainable,
                    # a shared nested model's later call: each inner layer shares its first call's
                    shares=ils.shares if ls.shares is None else f"{ls.shares}/{iname}",
                    text=f"{ls.text} > {ils.text}",
                    compact=False,
                )
            )
            inner_previous = iname
        renamed[name] = previous = mapping[inner_names[-1]] if inner_names else sources[0]
    return replace(spec, layers=tuple(layers))


def summarize(
    spec: Spec,
    *,
    input_shape: Shape | None = None,
    convention: Convention | str | None = None,
    data_format: DataFormat | str | None = None,
    dtype: str | None = None,
    expand: bool = False,
    fix: bool = False,
    hints: bool = True,
) -> Summary:
    """Compute every layer's output shape, params and costs, following the graph when the spec
    branches; raise on the first impossible layer. ``expand`` shows nested models' own layers
    instead of one row each (:func:`expand_nested`). A shape error carries a computed ``hint``
    (the input sizes that work, the padding that does) unless ``hints`` is False.

    With ``fix``, a redundant argument that disagrees with the incoming shape (a
    :class:`~cnncalc.errors.MismatchError`: network3's ``n_in``, ...) is replaced by the value it
    must be and the computation goes on; each replacement is one of the summary's ``notes``.
    """
    if expand:
        spec = expand_nested(spec)
    ctx = settings(spec, convention, data_format)
    dtype = dtype or spec.dtype or "float32"
    element = dtype_bytes(dtype)
    order, inputs = wire(spec, input_shape, ctx.convention)
    for name, dims in inputs:
        known = known_shape(dims)
        if known is not None and math.prod(known) > MAX_ELEMENTS:
            raise ShapeError(
                f"input {name!r} would hold {math.prod(known):.3g} values, more than the limit 2**63 - 1"
            )
    shapes: dict[str, OpenShape] = dict(inputs)
    # The field is tracked over the spatial axes of each input (none for a plain vector).
    fields: dict[str, ReceptiveField | None] = {
        name: ReceptiveField.of_input(len(shape) - 1) if len(shape) > 1 else None for name, shape in inputs
    }
    rows = []
    by_name: dict[str, LayerRow] = {}
    notes = list(spec.notes)
    # A spec reuses one layer object for equal layers (a repeated block): its kind, its config and
    # its output on an input shape are computed once per object (layers are immutable; the spec
    # keeps them alive, so their ids stay theirs while this runs).
    kinds: dict[int, Kind] = {}
    configs: dict[tuple[int, bool], Mapping[str, Any]] = {}
    outputs: dict[tuple[int, Shape], LayerOutput] = {}
    left_out: list[str] = []  # training-only rows that cannot run at this input size
    # A stack's layer is read by the next one only: once that has run, it leaves the maps by name
    # (100,000 layers' shapes, fields and rows would stay there to the end otherwise).
    stack = len(inputs) == 1 and all(ls.inputs is None for ls in spec.layers)
    for index, name, srcs in order:
        ls = spec.layers[index]
        if ls.training_only and any(s not in shapes for s in srcs):
            continue  # reads a training-only row left out
        in_dims = [shapes[s] for s in srcs]
        in_shapes = [known_shape(dims) for dims in in_dims]
        layer = ls.layer
        if ls.training_only:  # eval mode never runs it: at a size it cannot take, it is left out
            try:
                _open_layer(layer, in_dims, list(srcs), ctx, describe_layer(index, ls.text))
            except ShapeError as err:
                left_out.append(f"{name} ({err.reason})")
                continue
        if None in in_shapes:  # (a shape is a tuple, never equal to None)
            out, out_dims = _open_layer(layer, in_dims, list(srcs), ctx, describe_layer(index, ls.text))
            rf: ReceptiveField | None = UNTRACKED  # windows depend on the unknown sizes
            costs: tuple[int | None, int | None, int | None] = (None, None, None)
        else:
            known_in = [shape for shape in in_shapes if shape is not None]
            out, rf, layer = _known_layer(
                spec,
                ctx,
                inputs,
                order,
                index,
                layer,
                known_in,
                list(srcs),
                fields,
                by_name,
                notes,
                fix,
                hints,
                outputs,
            )
            out_dims = out.shape
            costs = (out.macs, out.bias_adds, out.ops)
        shapes[name], fields[name] = out_dims, rf
        kind = kinds.get(id(layer))
        if kind is None:
            kind = kinds[id(layer)] = kind_of(layer)
        if ls.shares is not None:  # a shared layer's later call: its weights are counted once
            out = replace(out, trainable=0, non_trainable=0, buffers=0)
        params = out.trainable + out.non_trainable
        trainable = out.trainable if ls.trainable else 0
        config = configs.get((id(layer), ls.trainable))
        if config is None:
            made = layer.config()
            if not ls.trainable:
                made["trainable"] = False
            # shared by the rows of one layer object (LayerRow.config is a read-only Mapping)
            config = configs[id(layer), ls.trainable] = made
        row = LayerRow(
            index=index,
            name=name,
            type=kind.type,
            class_name=kind.class_name,
            config=config,
            input_dims=in_dims[0],
            output_dims=out_dims,
            trainable_params=trainable,
            non_trainable_params=params - trainable,
            buffers=out.buffers,
            macs=costs[0],
            bias_adds=costs[1],
            ops=costs[2],
            element_bytes=element,
            windows=out.windows if costs[0] is not None else (),
            receptive_field=rf,
            layer=layer,
            spec=ls.text if ls.compact else "",
            inputs=tuple(srcs),
            line=ls.line,
            shares=ls.shares,
            training_only=ls.training_only,
        )
        rows.append(row)
        by_name[name] = row
        if stack and srcs[0] != name:
            del shapes[srcs[0]], fields[srcs[0]]
            by_name.pop(srcs[0], None)  # a model input has no row
    opaque = sum(1 for row in rows if row.opaque)
    if opaque:
        notes.append(
            f"{opaque} opaque row{'s' if opaque > 1 else ''} (recorded, no cnncalc kind): "
            "shapes and params as recorded, MACs/FLOPs unknown (counted as 0 in the totals)"
        )
    if left_out:
        notes.append(
            f"training-only rows left out at this input size (train mode would fail there; eval "
            f"mode does not run them), from {left_out[0]}"
        )
    training = [row.name for row in rows if row.training_only]
    if training:
        notes.append(
            f"{len(training)} row{'s' if len(training) > 1 else ''} marked training-only "
            f"({training[0]} ...) run only in train mode (auxiliary classifiers): their params are "
            "counted, their MACs/FLOPs and activations are not in the totals (eval mode's forward)"
        )
    if not all(None not in dims for _, dims in inputs):
        notes.append(
            "sizes given as None are unknown until the model is called: shapes show None, params are "
            "exact, MACs and memory are unknown (?); --input gives them"
        )
    return Summary(
        name=spec.name or ("model" if spec.inputs else "sequential"),
        input_dims=inputs[0][1],
        convention=ctx.convention,
        data_format=ctx.data_format,
        layers=tuple(rows),
        dtype=dtype,
        inputs=inputs if spec.inputs else (),
        notes=tuple(notes),
        stored_elements=spec.stored_elements,
    )


def _known_layer(
    spec: Spec,
    ctx: Context,
    inputs: tuple[tuple[str, OpenShape], ...],
    order: Order,
    index: int,
    layer: Layer,
    in_shapes: list[Shape],
    srcs: list[str],
    fields: dict[str, ReceptiveField | None],
    by_name: dict[str, LayerRow],
    notes: list[str],
    fix: bool,
    hints: bool,
    outputs: dict[tuple[int, Shape], LayerOutput] | None = None,
) -> tuple[LayerOutput, ReceptiveField | None, Layer]:
    """One layer on known input shapes: its output, receptive field and the layer itself (replaced
    by ``fix`` when a redundant argument disagrees with its input). ``outputs`` remembers a
    one-input layer's output per (layer object, input shape): the computation is pure."""
    if outputs is not None and len(srcs) == 1:
        out = outputs.get((id(layer), in_shapes[0]))
        if out is not None:
            rf = fields[srcs[0]]
            return out, (None if rf is None else layer.receptive_field(rf, out, in_shapes[0], ctx)), layer
    ls = spec.layers[index]
    for _attempt in range(4):  # each fix settles one argument; a layer has few redundant ones
        try:
            merge = layer.many()
            if merge is not None:
                out = merge.compute_many(in_shapes, srcs, ctx)
                rf = merge_fields([fields[s] for s in srcs])
                # a merge keeps the union; a kind that knows less (an opaque row) says so
                rf = None if rf is None else layer.receptive_field(rf, out, in_shapes[0], ctx)
            else:
                if len(srcs) != 1:
                    raise ShapeError(f"takes one input, got {len(srcs)} ({_some(list(map(repr, srcs)))})")
                out = gated(layer, layer.compute(in_shapes[0], ctx))
                rf = fields[srcs[0]]
                rf = None if rf is None else layer.receptive_field(rf, out, in_shapes[0], ctx)
            break
        except MismatchError as err:
            source = by_name.get(srcs[0])
            origin = None if source is None else source.layer.origin_note(source.input_dims)
            if isinstance(err, SizeMismatch) and origin is not None:
                err = err.from_origin(origin)  # say what was flattened
            if not fix:
                if hints:
                    err = _slip_hint(err, spec, ctx, inputs, srcs, in_shapes)
                raise err.at(describe_layer(index, ls.text)) from None
            layer = with_argument(layer, err.argument, err.value)
            notes.append(f"{describe_layer(index, ls.text)}: {err.reason} (continuing with it)")
        except CnncalcError as err:
            err = err.at(describe_layer(index, ls.text))
            if (
                hints
                and isinstance(err, ShapeError)
                and err.hint is None
                and all(None not in dims for _, dims in inputs)
            ):
                known_inputs = tuple((n, known_shape(d) or ()) for n, d in inputs)
                try:
                    hint = _hint(spec, ctx, known_inputs, order, layer, in_shapes)
                except CnncalcError:  # a hint is extra: it never replaces the error it explains
                    hint = None
                if hint:
                    err = err.with_hint(hint)
            raise err from None
    else:  # pragma: no cover - a kind whose fix does not settle it
        raise ShapeError(f"{describe_layer(index, ls.text)}: cannot settle its arguments")
    if math.prod(out.shape) > MAX_ELEMENTS:
        raise ShapeError(
            f"{describe_layer(index, ls.text)}: the output would hold {math.prod(out.shape):.3g} values, "
            f"more than the limit 2**63 - 1 (frameworks index tensors with int64)"
        )
    if outputs is not None and len(srcs) == 1 and layer is spec.layers[index].layer and layer.many() is None:
        outputs[id(layer), in_shapes[0]] = out
    return out, rf, layer


#: What an unknown size stands in as when a layer's params are computed (params never depend on
#: a spatial size; a kind whose params would, such as Dense on an unknown last axis, is refused by
#: its size rule). Divisible by 2**6 * 3**2 * 5 * 7, so windows and reshapes take it; small
#: enough that three such axes stay far below the element limit.
PROBE = 20160


def _open_layer(
    layer: Layer, in_dims: list[OpenShape], srcs: list[str], ctx: Context, where: str
) -> tuple[LayerOutput, OpenShape]:
    """One layer on an input with unknown (``None``) sizes, as Keras builds it: the output sizes
    from the kind's size rule over known-or-unknown sizes (unknown stays unknown), the params
    from the kind's computation with :data:`PROBE` standing in for each unknown size."""
    p = Known(ctx, nested=partial(nested_sizes, ctx=ctx))
    probes = [tuple(PROBE if n is None else n for n in dims) for dims in in_dims]
    try:
        merge = layer.many()
        if merge is not None:
            dims = merge.sizes_many(p, in_dims)
            out = merge.compute_many(probes, srcs, ctx)
        else:
            if len(srcs) != 1:
                raise ShapeError(f"takes one input, got {len(srcs)} ({_some(list(map(repr, srcs)))})")
            dims = gated_sizes(layer, p, layer.sizes(p, in_dims[0]))
            out = layer.compute(probes[0], ctx)
    except CnncalcError as err:
        raise err.at(where) from None
    return out, dims


def nested_sizes(spec: Spec, dims: OpenShape, ctx: Context) -> OpenShape:
    """A nested model's output sizes on known-or-unknown input sizes (its kinds' size rules)."""
    order, inputs = wire_inner(spec, dims)
    p = Known(ctx, nested=partial(nested_sizes, ctx=ctx))
    sizes: dict[str, OpenShape] = dict(inputs)
    out: OpenShape = dims
    for index, name, srcs in order:
        layer = spec.layers[index].layer
        merge = layer.many()
        if merge is not None:
            out = merge.sizes_many(p, [sizes[s] for s in srcs])
        else:
            out = gated_sizes(layer, p, layer.sizes(p, sizes[srcs[0]]))
        sizes[name] = out
    return out


def with_argument(layer: Layer, argument: str, value: object) -> Layer:
    """The same layer with one argument replaced (``--fix``: the value the input requires)."""
    args = {name: getattr(layer, name) for name, _ in layer.arguments()}
    args[argument] = value
    return kind_of(layer).cls(**args, **dict(kind_of(layer).fixed))


def _hint(
    spec: Spec,
    ctx: Context,
    inputs: tuple[tuple[str, Shape], ...],
    order: list[tuple[int, str, tuple[str, ...]]],
    layer: Layer,
    in_shapes: list[Shape],
) -> tuple[Part, ...] | None:
    """What to change, computed (:mod:`cnncalc.sizing`): the padding Keras's 'same' needs under
    pytorch, or the input sizes that work (a size mismatch already says the value it must be)."""
    from . import sizing

    if layer.many() is None:
        same = layer.same_hint(in_shapes[0], ctx)
        if same is not None:
            return same

    if len(spec.layers) > MAX_HINT_LAYERS:
        # Each candidate input is tried on the whole model: a failure early in a 100,000-layer
        # model would spend longer on its hint than a whole run (found by tools/fuzz_readers.py).
        return None
    works = _works(spec, ctx)
    if len(inputs) == 1:
        slip = input_fix(inputs[0][1], ctx.data_format, ctx.convention is Convention.PYTORCH, works)
        if slip is not None:
            return slip
    return sizing.size_hint(spec.layers, order, inputs, ctx, works, wire_inner)


def _works(spec: Spec, ctx: Context) -> Callable[[Shape], bool]:
    """Whether the whole spec computes on an input shape (the hints try their candidates)."""

    def works(shape: Shape) -> bool:
        try:
            summarize(
                spec, input_shape=shape, convention=ctx.convention, data_format=ctx.data_format, hints=False
            )
        except CnncalcError:
            return False
        return True

    return works


def _slip_hint(
    err: MismatchError,
    spec: Spec,
    ctx: Context,
    inputs: tuple[tuple[str, OpenShape], ...],
    srcs: list[str],
    in_shapes: list[Shape],
) -> MismatchError:
    """A declared size that disagrees with the input often means another slip: a Linear whose
    input was never flattened, or (on the layer that reads the model's input) the input given in
    the other axis order or with a batch axis. Such a hint replaces "use in_features=28"."""
    hint: tuple[Part, ...] | str | None = None
    if isinstance(err, SizeMismatch):
        hint = flatten_fix(err.name, err.given, in_shapes[0]) if in_shapes else None
    reads_input = len(inputs) == 1 and srcs == [inputs[0][0]]
    given = known_shape(inputs[0][1]) if reads_input else None
    if hint is None and given is not None and len(spec.layers) <= MAX_HINT_LAYERS:
        try:
            hint = input_fix(given, ctx.data_format, ctx.convention is Convention.PYTORCH, _works(spec, ctx))
        except CnncalcError:  # a hint is extra: it never replaces the error it explains
            hint = None
    if hint is None:
        return err
    changed = err.with_hint(hint)
    return changed if isinstance(changed, MismatchError) else err
