"""Model code from a summary: ``cnncalc export --to keras`` writes runnable Keras Python.

A plain stack becomes ``keras.Sequential([keras.Input(...), layers.X(...), ...])``; a graph a
functional model (``x = layers.X(...)(y)``, ``keras.Model(inputs, outputs)``). Every layer keeps
its name and only its non-default arguments are written, so the code reads like a tutorial's.
Reading the output back (``cnncalc summary -f model.py``) gives the same table; a dev-only test
runs it in Keras and compares every row. Layers Keras has no class for (PyTorch's ``ceil_mode``,
explicit integer padding, adaptive pooling, network3's layers) are refused with the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import MISSING, dataclass
from typing import Any

from . import formulas as F
from .codegen import BUILTINS, Names, docstring
from .enums import Category, Convention, DataFormat, ExportTarget, Framework, PaddingMode
from .errors import SpecError, describe_layer
from .layers import kind_of
from .layers.base import Context, Layer, jsonable
from .layers.conv import keras_refuses
from .layers.faces import KerasCode, KerasFace, rank_of, refusal, written_keras
from .summary import LayerRow, Summary

#: Arguments cnncalc adds for PyTorch's rules; Keras layers have no such argument.
_PYTORCH_ONLY = ("ceil_mode", "count_include_pad", "dilation")
#: Arguments written even at cnncalc's default (Keras 3's AveragePooling has no default pool_size).
_ALWAYS = ("pool_size",)


def export(summary: Summary, target: ExportTarget | str = ExportTarget.KERAS) -> str:
    """:func:`export_pieces` as one string."""
    return "".join(export_pieces(summary, target))


#: Lines per piece of :func:`export_pieces`.
PIECE_LINES = 2000


def in_pieces(lines: Iterable[str]) -> Iterator[str]:
    """``"\n".join(lines)`` as pieces of PIECE_LINES lines each (never one string)."""
    block: list[str] = []
    first = True
    for line in lines:
        block.append(line)
        if len(block) == PIECE_LINES:
            yield ("" if first else "\n") + "\n".join(block)
            block.clear()
            first = False
    if block or first:
        yield ("" if first else "\n") + "\n".join(block)


def export_pieces(summary: Summary, target: ExportTarget | str = ExportTarget.KERAS) -> Iterator[str]:
    """Runnable model code for a computed summary (``target``: keras or pytorch).

    A model under PyTorch's rules becomes Keras code with ``data_format='channels_first'`` on
    every layer that has one (``axis=1`` for normalization) and each PyTorch rule written as the
    Keras layers giving the same shapes and parameter counts: integer padding is a
    ``ZeroPadding`` layer before a valid one (``padding='same'`` when it equals it), ``ceil_mode``
    the extra zero padding on the bottom/right that keeps the last window, adaptive pooling an
    ``UpSampling`` (when the output is larger than a divisor of the input) and a pooling whose
    window and stride are the input over the output (exact for max pooling). Helper layers are
    named after the layer with a suffix of :data:`HELPER_SUFFIXES`."""
    if ExportTarget.parse(target, "export target") is ExportTarget.PYTORCH:
        from .export_torch import pytorch_lines

        return in_pieces(pytorch_lines(summary))
    return in_pieces(_keras_lines(summary))


def _keras_lines(summary: Summary) -> Iterator[str]:
    first = summary.data_format is DataFormat.CHANNELS_FIRST
    parts = (_keras_parts(row, summary.convention, first) for row in summary.layers)
    head = [
        docstring(f"{summary.name}: written by cnncalc export --to keras (run it: python this_file.py)."),
        "",
        "import keras",
        "from keras import layers",
        "",
    ]
    tail = ["", 'if __name__ == "__main__":', "    model.summary()", ""]
    if not summary.branches and len(summary.model_inputs) == 1:
        shape = summary.model_inputs[0][1]
        yield from head
        yield "model = keras.Sequential("
        yield "    ["
        yield f"        keras.Input(shape={_tuple(shape)}),"
        for row_parts in parts:
            for _, call in row_parts:
                yield f"        {call},"
        yield "    ],"
        yield f"    name={_model_name(summary.name)!r},"
        yield ")"
        yield from tail
        return
    yield from head
    names = Names("t_", reserved=BUILTINS | {"keras", "layers", "model"})
    variables: dict[str, str] = {}
    for name, shape in summary.model_inputs:
        variables[name] = names.new(name)
        named = f", name={name!r}" if summary.inputs else ""  # a plain spec's one input has no name
        yield f"{variables[name]} = keras.Input(shape={_tuple(shape)}{named})"
    used: set[str] = set()
    for row, row_parts in zip(summary.layers, parts, strict=True):
        sources = [variables[s] for s in row.inputs]
        used.update(row.inputs)
        argument = f"[{', '.join(sources)}]" if row.layer.takes_many else sources[0]
        for suffix, call in row_parts:
            name = f"{row.name}_{suffix}" if suffix else row.name
            variables[name] = names.new(name)
            yield f"{variables[name]} = {call}({argument})"
            argument = variables[name]
    # the model's own output first, training-only heads (torchvision's auxiliary classifiers;
    # Keras has no train-only branch) after it, as extra outputs
    ends = sorted((row for row in summary.layers if row.name not in used), key=lambda row: row.training_only)
    outputs = [variables[row.name] for row in ends]
    inputs = [variables[name] for name, _ in summary.model_inputs]
    yield f"model = keras.Model(inputs={_list(inputs)}, outputs={_list(outputs)}, name={_model_name(summary.name)!r})"
    yield from tail


def keras_text(
    layer: Layer, input_shape: tuple[int, ...], ctx: Context, name: str | None = "layer"
) -> list[str]:
    """The Keras code of one layer on an input shape: ``layers.X(...)`` calls, helpers first (a
    ZeroPadding for PyTorch's integer padding, ...), as ``cnncalc export --to keras`` writes them
    (``name=None``: without ``name=`` arguments). ``SpecError`` whose ``reason`` is the one-line
    reason when Keras has no face for the kind or cannot express a setting. For callers that
    write one layer (``solve layer``, fix-it hints)."""
    from .export_torch import one_row

    row, summary = one_row(layer, input_shape, ctx, name or "layer")
    return keras_row_text(row, summary, named=name is not None)


def keras_row_text(row: LayerRow, summary: Summary, named: bool = True) -> list[str]:
    """:func:`keras_text` of a computed row (``named=False``: without ``name=`` arguments)."""
    first = summary.data_format is DataFormat.CHANNELS_FIRST
    calls = [call for _, call in _keras_parts(row, summary.convention, first)]
    if not named:  # the row's name arguments dropped (helpers carry a suffix of it)
        own = re.escape(_layer_name(row.name))
        calls = [re.sub(rf", name='{own}(_[a-z]+)?'", "", call) for call in calls]
    return calls


#: Suffixes of the helper layers a layer's Keras code adds before it (zero padding for PyTorch's
#: integer padding and ceil_mode, upsampling for adaptive pooling).
HELPER_SUFFIXES = ("pad", "up", "deconv")


@dataclass(frozen=True)
class _Site:
    """What a Keras writer reads of one row (its face says which writer)."""

    row: LayerRow
    layer: Layer
    face: KerasFace
    #: the keras.layers class name for the layer's rank
    name: str
    torch_rules: bool
    first: bool
    where: str

    @property
    def fmt(self) -> str:
        return ", data_format='channels_first'" if self.first else ""

    def refuse(self, reason: str) -> SpecError:
        return SpecError(reason, layer=self.where)

    def check_strided_dilation(self) -> None:
        """Keras's Conv and Conv*Transpose refuse strides > 1 with dilation_rate > 1 (PyTorch's
        rules allow it)."""
        strides, dilation = getattr(self.layer, "strides", None), getattr(self.layer, "dilation_rate", None)
        if not self.face.strided_dilation and strides and dilation and keras_refuses(strides, dilation):
            raise self.refuse("Keras refuses strides > 1 together with dilation_rate > 1")


def _keras_parts(row: LayerRow, convention: Convention, first: bool) -> list[tuple[str, str]]:
    """(helper suffix or '', ``layers.X(...)``) for each Keras layer a row is written as: the
    kind's Keras face (:mod:`cnncalc.layers.faces`) names the class and the writer; a kind with
    no Keras face is refused with its reason."""
    layer = row.layer
    where = describe_layer(row.index, row.spec or f"{row.class_name} {row.name!r}")
    refused = layer.refusal()
    if refused is not None:  # an opaque row: nothing known to write
        raise SpecError(f"opaque row: {refused}, so no code can be written for it", layer=where)
    reason = refusal(layer, Framework.KERAS)
    face = written_keras(layer)
    if reason is not None or face is None:
        raise SpecError(str(reason), layer=where)
    site = _Site(
        row, layer, face, face.name(rank_of(kind_of(layer))), convention is Convention.PYTORCH, first, where
    )
    return _WRITERS[face.code](site)


def _plain(
    site: _Site, parts: list[tuple[str, str]] | None = None, arguments: list[str] | None = None
) -> list[tuple[str, str]]:
    """``layers.X(non-default arguments)``, after any helper ``parts`` and leading ``arguments``."""
    layer, row = site.layer, site.row
    arguments = list(arguments or [])
    skip = _declared(layer) | (
        {"padding", "ceil_mode", "count_include_pad", "dilation"} if parts is not None else set()
    )
    given = _non_default(layer)
    for key, value in given:
        if key in skip:
            continue
        integer_padding = key == "padding" and isinstance(value, list) and "Padding" not in site.name
        if key in _PYTORCH_ONLY or integer_padding:
            raise site.refuse(f"{key}={value!r} is PyTorch's, Keras has no such argument")
        if key == "data_format":
            continue
        arguments.append(f"{key}={_literal(value)}")
    if site.face.data_format and site.first:
        arguments.append("data_format='channels_first'")
    if site.face.channel_axis and site.first and "axis" not in {k for k, _ in given}:
        arguments.append("axis=1")
    arguments.append(f"name={_layer_name(row.name)!r}")
    if not row.trainable_params and row.non_trainable_params and row.config.get("trainable") is False:
        arguments.append("trainable=False")
    return [*(parts or []), ("", f"layers.{site.name}({', '.join(arguments)})")]


def _layer_writer(site: _Site) -> list[tuple[str, str]]:
    return _plain(site)


def _windowed(site: _Site) -> list[tuple[str, str]]:
    """A conv or pooling: under PyTorch's rules its integer padding and ceil_mode become a
    ZeroPadding layer before it (``padding='same'`` when that is exactly Keras's 'same')."""
    row, layer = site.row, site.layer
    if not (site.torch_rules and row.windows):
        return _plain(site)
    site.check_strided_dilation()
    pad, padding = _explicit(row, layer.category is Category.POOL)
    parts = []
    if pad:
        helper = _layer_name(row.name) + "_pad"
        parts.append(
            (
                "pad",
                f"layers.ZeroPadding{len(row.windows)}D(padding={_literal(pad)}{site.fmt}, name={helper!r})",
            )
        )
    if set(getattr(layer, "dilation", None) or [1]) != {1}:
        raise site.refuse("Keras pooling has no dilation")
    return _plain(site, parts, ["padding='same'"] if padding == PaddingMode.SAME.value else [])


def _transposed_writer(site: _Site) -> list[tuple[str, str]]:
    if not site.torch_rules:
        return _plain(site)
    site.check_strided_dilation()
    extra = site.row.config.get("output_padding") or []
    if any(op >= s for op, s in zip(extra, site.row.config["strides"], strict=False)):
        raise site.refuse("Keras needs output_padding below the stride")
    return _transposed(site.row, site.layer, site.name, site.fmt)


def _adaptive_writer(site: _Site) -> list[tuple[str, str]]:
    return _adaptive(site.row, "Average" if site.name.startswith("Average") else "Max", site.fmt)


def _instance_norm(site: _Site) -> list[tuple[str, str]]:
    """PyTorch's InstanceNorm as Keras's ``GroupNormalization(groups=-1)`` (one group per channel,
    as Keras documents it), its affine weights as center and scale."""
    layer = site.layer
    if getattr(layer, "track_running_stats", False):
        raise site.refuse(
            "an InstanceNorm with track_running_stats keeps running statistics; Keras's "
            "GroupNormalization has none"
        )
    affine = bool(getattr(layer, "affine", False))
    arguments = [f"groups=-1, epsilon={getattr(layer, 'epsilon', 1e-5)!r}"]
    if not affine:
        arguments.append("center=False, scale=False")
    if site.first:
        arguments.append("axis=1")
    arguments.append(f"name={_layer_name(site.row.name)!r}")
    return [("", f"layers.{site.name}({', '.join(arguments)})")]


#: The writer of each Keras face's code.
_WRITERS: dict[KerasCode, Callable[[_Site], list[tuple[str, str]]]] = {
    KerasCode.LAYER: _layer_writer,
    KerasCode.WINDOWED: _windowed,
    KerasCode.TRANSPOSED: _transposed_writer,
    KerasCode.ADAPTIVE: _adaptive_writer,
    KerasCode.INSTANCE_NORM: _instance_norm,
}


def _declared(layer: Layer) -> set[str]:
    """Arguments that only check the incoming shape (PyTorch's in_channels, in_features, ...),
    and ``inplace``, a PyTorch memory choice (a Keras layer always writes a new tensor)."""
    return {f.name for f in layer.declared() if f.metadata.get("keyword_only")} | {"inplace"}


def _explicit(row: LayerRow, pooling: bool) -> tuple[list[list[int]] | None, str]:
    """Keras padding for a conv or pool under PyTorch's rules: (the ZeroPadding pairs or None,
    ``'same'`` when the padding is exactly Keras's 'same' (its cells, at any stride), else ``''``).

    The bottom/right pad is what a valid window needs to give the row's output length:
    ``(out - 1)*S + F_eff - n - before`` (more than PyTorch's own pad under ``ceil_mode``, less
    when the last rows are never reached)."""
    pairs = []
    for w in row.windows:
        after = max(0, (w.out - 1) * w.stride + w.f_eff - w.n - w.before)
        pairs.append([w.before, after])
    if all(b == a == 0 for b, a in pairs):
        return None, ""
    # Keras's 'same' when it pads exactly these cells, at any stride (TensorFlow's split)
    is_same = all(
        w.out == F.keras_same_length(w.n, w.stride)
        and (w.before, a) == F.same_padding(w.n, w.f_eff, w.stride)
        for w, (_, a) in zip(row.windows, pairs, strict=True)
    )
    if is_same and not pooling:
        return None, PaddingMode.SAME.value
    return pairs, ""


def _transposed(row: LayerRow, layer: Layer, name: str, fmt: str) -> list[tuple[str, str]]:
    """A ConvTranspose under PyTorch's rules, out = (n - 1)*S - 2P + D*(K - 1) + output_padding + 1:
    Keras's valid Conv2DTranspose with the same output_padding gives it without the - 2P (Keras
    writes output_padding even when 0: without it, Keras's valid length is n*S when K < S), and a
    Cropping layer of P on each side takes that off (the transposed conv is then its helper)."""
    arguments = [
        f"{key}={_literal(value)}"
        for key, value in _non_default(layer)
        if key not in (*_declared(layer), "padding", "output_padding", "data_format")
    ]
    rank = len(row.windows) or len(row.output_shape) - 1
    padding = row.config.get("padding")
    pads = [p for p, _ in padding] if isinstance(padding, list) else [0] * rank
    extra = row.config.get("output_padding") or [0] * rank
    arguments.append(f"output_padding={_tuple(extra)}")
    if fmt:
        arguments.append("data_format='channels_first'")
    if not any(pads):
        return [("", f"layers.{name}({', '.join([*arguments, f'name={_layer_name(row.name)!r}'])})")]
    helper = f"{_layer_name(row.name)}_deconv"
    conv = f"layers.{name}({', '.join([*arguments, f'name={helper!r}'])})"
    crop = f"layers.Cropping{rank}D(cropping={_tuple([[p, p] for p in pads])}{fmt}, name={_layer_name(row.name)!r})"
    return [("deconv", conv), ("", crop)]


def _adaptive(row: LayerRow, pool: str, fmt: str) -> list[tuple[str, str]]:
    """Adaptive pooling as Keras layers with the same output: output 1 everywhere is global
    pooling (keepdims); else per axis with g = gcd(n, out), upsample by out/g and pool with
    window and stride n/g (adaptive max pooling exactly; average pooling weighs the windows'
    edges differently)."""
    spatial = row.input_shape[1:] if fmt else row.input_shape[:-1]
    out = row.output_shape[1:] if fmt else row.output_shape[:-1]
    if all(o == 1 for o in out):
        return [
            ("", f"layers.Global{pool}Pooling{len(out)}D(keepdims=True{fmt}, name={_layer_name(row.name)!r})")
        ]
    gcd = [math.gcd(n, o) for n, o in zip(spatial, out, strict=True)]
    up = [o // g for o, g in zip(out, gcd, strict=True)]
    window = [n // g for n, g in zip(spatial, gcd, strict=True)]
    parts = []
    if set(up) != {1}:
        parts.append(
            (
                "up",
                f"layers.UpSampling{len(out)}D(size={_tuple(up)}{fmt}, name={_layer_name(row.name) + '_up'!r})",
            )
        )
    parts.append(
        (
            "",
            f"layers.{pool}Pooling{len(out)}D(pool_size={_tuple(window)}, strides={_tuple(window)}{fmt}, name={_layer_name(row.name)!r})",
        )
    )
    return parts


def _non_default(layer: Layer) -> list[tuple[str, Any]]:
    """(name, value) of every argument that differs from the kind's default (required ones too)."""
    rank = getattr(layer, "rank", 0)
    out = []
    for f in layer.declared():
        coerce = f.metadata.get("coerce")
        if coerce is None:
            continue
        value = jsonable(getattr(layer, f.name))
        if f.default is not MISSING and value == jsonable(coerce(f.default, rank)) and f.name not in _ALWAYS:
            continue
        if value is None:
            continue
        out.append((f.name, value))
    return out


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return _tuple(value)
    return repr(value)


def _tuple(values: Any) -> str:
    items = [_literal(v) for v in values]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"[{', '.join(names)}]"


def _model_name(name: str) -> str:
    """Keras refuses '/' in a name (a zoo name like ``keras/vgg16``): written ``_``."""
    return name.replace("/", "_")


def _layer_name(name: str) -> str:
    """A layer name Keras takes on every backend: '/' is refused, and on the torch backend '.'
    too (a torch ParameterDict key): both written ``_`` (torchvision's ``features.0``)."""
    return re.sub(r"[./]", "_", name)
