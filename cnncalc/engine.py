"""The engine: :func:`summarize` turns a :class:`~cnncalc.io.spec.Spec` into a :class:`Summary`.

Naming (Keras-style ``conv2d_1``), wiring (what each layer reads), topological order for graphs,
and the per-layer computation by each kind; raises on the first impossible layer.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace

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
from .geometry import ReceptiveField, Shape, fmt_shape, merge_fields
from .io.spec import LayerSpec, Spec
from .layers import args as A
from .layers import kind_of
from .layers.base import Context, Layer, gated
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


def layer_names(layers: tuple[LayerSpec, ...]) -> list[str]:
    """Keras-style names: explicit ones kept, the rest ``conv2d``, ``conv2d_1``, ... per kind."""
    taken = {ls.name for ls in layers if ls.name}
    counts: dict[str, int] = {}
    names = []
    seen: set[str] = set()
    for index, ls in enumerate(layers):
        if ls.name:
            if ls.name in seen:
                raise SpecError(f"{describe_layer(index, ls.text)}: the name {ls.name!r} is used twice")
            name = ls.name
        else:
            prefix = kind_of(ls.layer).name_prefix
            while True:
                n = counts.get(prefix, 0)
                counts[prefix] = n + 1
                name = prefix if n == 0 else f"{prefix}_{n}"
                if name not in taken:
                    break
        seen.add(name)
        names.append(name)
    return names


def model_inputs(spec: Spec, shape: Shape | None) -> tuple[tuple[str, Shape], ...]:
    """The model's named inputs; a plain ``input_shape`` is one input called ``input``.

    ``shape`` (e.g. from ``--input``) replaces the shape of a single input. A declared shape with
    ``None`` sizes (Keras's ``Input(shape=(None, None, 3))``) needs ``shape`` to fill them.
    """
    if shape is not None and not (spec.inputs and tuple(shape) == spec.inputs[0][1]):
        if len(spec.inputs) > 1:
            raise SpecError(Option("input_shape"), " cannot set the shapes of a model with several inputs")
        return ((spec.inputs[0][0] if spec.inputs else "input", tuple(shape)),)
    declared = spec.inputs or ((("input", spec.input_shape),) if spec.input_shape is not None else ())
    if not declared:
        raise SpecError(
            "no input shape: give ", Option("input_shape"), " like 200x200x1 (or input_shape in the spec)"
        )
    out = []
    for name, sizes in declared:
        if None in sizes:
            shown = " x ".join("None" if n is None else str(n) for n in sizes)
            example = "x".join("224" if n is None else str(n) for n in sizes)
            raise SpecError(
                f"input {name!r} has sizes {shown}: the None sizes are only known when the model is "
                "called, so give the whole input shape with ",
                Option("input_shape"),
                hint=("give the input's sizes, e.g. ", Option("input_shape", example)),
            )
        out.append((name, tuple(n for n in sizes if n is not None)))
    return tuple(out)


def wiring(spec: Spec, names: list[str], inputs: tuple[tuple[str, Shape], ...]) -> list[tuple[str, ...]]:
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
    inputs = tuple(
        (name, A.shape(list(shape), f"input {name!r}" if spec.inputs else "input shape"))
        for name, shape in model_inputs(spec, input_shape)
    )
    for name, shape in inputs:
        if math.prod(shape) > MAX_ELEMENTS:
            raise ShapeError(
                f"input {name!r} would hold {math.prod(shape):.3g} values, more than the limit 2**63 - 1"
            )
    names = layer_names(spec.layers)
    sources = wiring(spec, names, inputs)
    shapes: dict[str, Shape] = dict(inputs)
    # The field is tracked over the spatial axes of each input (none for a plain vector).
    fields: dict[str, ReceptiveField | None] = {
        name: ReceptiveField.of_input(len(shape) - 1) if len(shape) > 1 else None for name, shape in inputs
    }
    rows = []
    by_name: dict[str, LayerRow] = {}
    notes = list(spec.notes)
    order = topological_order(spec, names, sources, set(shapes))
    for index in order:
        ls, name, srcs = spec.layers[index], names[index], sources[index]
        in_shapes = [shapes[s] for s in srcs]
        layer = ls.layer
        for _attempt in range(4):  # each fix settles one argument; a layer has few redundant ones
            try:
                if layer.takes_many:
                    out = layer.compute_many(in_shapes, list(srcs), ctx)  # type: ignore[attr-defined]
                    rf = merge_fields([fields[s] for s in srcs])
                    # a merge keeps the union; a kind that knows less (an opaque row) says so
                    rf = None if rf is None else layer.receptive_field(rf, out, in_shapes[0], ctx)
                else:
                    if len(srcs) != 1:
                        raise ShapeError(f"takes one input, got {len(srcs)} ({', '.join(map(repr, srcs))})")
                    out = gated(layer, layer.compute(in_shapes[0], ctx))
                    rf = fields[srcs[0]]
                    rf = None if rf is None else layer.receptive_field(rf, out, in_shapes[0], ctx)
                break
            except MismatchError as err:
                flat = by_name.get(srcs[0])
                if isinstance(err, SizeMismatch) and flat is not None and flat.type == "flatten":
                    err = err.from_origin(
                        f"{fmt_shape(flat.input_shape)} after flatten"
                    )  # say what was flattened
                if not fix:
                    raise err.at(describe_layer(index, ls.text)) from None
                layer = with_argument(layer, err.argument, err.value)
                notes.append(f"{describe_layer(index, ls.text)}: {err.reason} (continuing with it)")
            except CnncalcError as err:
                err = err.at(describe_layer(index, ls.text))
                if hints and isinstance(err, ShapeError) and err.hint is None:
                    routed = [(i, names[i], tuple(sources[i])) for i in order]
                    try:
                        hint = _hint(spec, ctx, inputs, routed, layer, in_shapes)
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
        shapes[name], fields[name] = out.shape, rf
        kind = kind_of(layer)
        if ls.shares is not None:  # a shared layer's later call: its weights are counted once
            out = replace(out, trainable=0, non_trainable=0, buffers=0)
        params = out.trainable + out.non_trainable
        trainable = out.trainable if ls.trainable else 0
        config = layer.config()
        if not ls.trainable:
            config["trainable"] = False
        row = LayerRow(
            index=index,
            name=name,
            type=kind.type,
            class_name=kind.class_name,
            config=config,
            input_shape=in_shapes[0],
            output_shape=out.shape,
            trainable_params=trainable,
            non_trainable_params=params - trainable,
            buffers=out.buffers,
            macs=out.macs,
            bias_adds=out.bias_adds,
            ops=out.ops,
            element_bytes=element,
            windows=out.windows,
            receptive_field=rf,
            layer=layer,
            spec=ls.text if ls.compact else "",
            inputs=tuple(srcs),
            line=ls.line,
            shares=ls.shares,
        )
        rows.append(row)
        by_name[name] = row
    opaque = sum(1 for row in rows if row.opaque)
    if opaque:
        notes.append(
            f"{opaque} opaque row{'s' if opaque > 1 else ''} (recorded, no cnncalc kind): "
            "shapes and params as recorded, MACs/FLOPs unknown (counted as 0 in the totals)"
        )
    return Summary(
        name=spec.name or ("model" if spec.inputs else "sequential"),
        input_shape=inputs[0][1],
        convention=ctx.convention,
        data_format=ctx.data_format,
        layers=tuple(rows),
        dtype=dtype,
        inputs=inputs if spec.inputs else (),
        notes=tuple(notes),
    )


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

    if not layer.takes_many and sizing.is_refused_same(layer, in_shapes[0], ctx):
        return sizing.same_hint(layer, in_shapes[0], ctx)

    def works(shape: Shape) -> bool:
        try:
            summarize(
                spec, input_shape=shape, convention=ctx.convention, data_format=ctx.data_format, hints=False
            )
        except CnncalcError:
            return False
        return True

    def wire(
        inner: Spec, shape: Shape
    ) -> tuple[list[tuple[int, str, tuple[str, ...]]], tuple[tuple[str, Shape], ...]]:
        inner_inputs = model_inputs(inner, shape if not inner.inputs or len(inner.inputs) == 1 else None)
        names = layer_names(inner.layers)
        sources = wiring(inner, names, inner_inputs)
        ordered = topological_order(inner, names, sources, {n for n, _ in inner_inputs})
        return [(i, names[i], tuple(sources[i])) for i in ordered], inner_inputs

    return sizing.size_hint(spec.layers, order, inputs, ctx, works, wire)
