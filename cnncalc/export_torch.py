"""``cnncalc export --to pytorch``: runnable PyTorch code for a model computed under PyTorch's rules.

The model becomes one ``nn.Module``: ``__init__`` assigns each layer (``in_channels`` and
``in_features`` filled in from the incoming shapes, PyTorch's argument names through the same
faces the readers use, :mod:`cnncalc.layers.faces`) and ``forward`` applies them in order,
with ``x + y``, ``torch.cat`` and ``x.mean([2, 3])`` for what has no module. Reading the output back
gives the same table (module rows keep their names, with ``.`` written ``_``; functional rows are
named by their function; a fused ``activation=`` becomes a module and a row of its own, as PyTorch
writes it). Layers PyTorch has no module or operation for are refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .codegen import MODULE_ATTRIBUTES, Names, docstring
from .enums import Convention, DataFormat, Framework, PaddingMode
from .errors import SpecError, describe_layer
from .layers import kind_of
from .layers.base import Context, Layer
from .layers.faces import (
    TORCH_ACTIVATIONS,
    TORCH_INPLACE,
    TorchCode,
    refusal,
    torch_momentum,
    torch_transposed_padding,
    torch_values,
    torch_zero_pad,
    written_torch,
)
from .summary import LayerRow, Summary

#: Names the generated module binds or reads besides its layers' attributes and variables.
_CODE_NAMES = frozenset({"torch", "nn", "self", "model", "Model", "super", "print"})


def export_pytorch(summary: Summary) -> str:
    """:func:`pytorch_lines` as one text."""
    return "\n".join(pytorch_lines(summary))


def pytorch_lines(summary: Summary) -> list[str]:
    """A runnable ``nn.Module`` for a computed summary, written NCHW.

    A model under Keras's rules (channels_last) is written with its channel axis first and each
    Keras rule replaced by the PyTorch code that gives the same shapes and parameter counts:
    ``padding='same'`` becomes the explicit padding Keras applies (an ``nn.ZeroPad2d`` of its own
    when the two sides differ, as with stride 2), depthwise convolutions are grouped ones, a
    separable convolution is a depthwise and a pointwise one, Keras's BatchNormalization is
    ``nn.BatchNorm2d`` (its moving statistics are buffers there). Reading the code back gives the
    same rows with the channel axis moved (helper rows carry the layer's name plus a suffix of
    :data:`HELPER_SUFFIXES`)."""
    if len(summary.model_inputs) != 1:
        for row in summary.layers:  # a kind PyTorch has no face for is the first reason
            reason = refusal(row.layer, Framework.PYTORCH)
            if reason is not None:
                raise SpecError(f"{describe_layer(row.index, row.spec or repr(row.name))}: {reason}")
        raise SpecError("PyTorch code is written for one input; the model has several")
    input_name, shape = summary.model_inputs[0]
    moved = summary.data_format is DataFormat.CHANNELS_LAST
    names = Names("layer_", reserved=MODULE_ATTRIBUTES | _CODE_NAMES, private=True)
    names.take("x")
    variables: dict[str, str] = {input_name: "x"}
    init: list[str] = []
    forward: list[str] = []
    stack = not summary.branches  # a plain stack reads best as x = self.layer(x)

    def add_module(target: str, module: str, source: str) -> str:
        init.append(f"        self.{target} = {module}")
        return f"self.{target}({source})"

    for row in summary.layers:
        sources = [variables[s] for s in row.inputs]
        parts = _layer(row, sources, moved, summary.convention)
        start = len(forward)
        target = names.new(row.name)  # the row's module attribute and its variable in forward
        variables[row.name] = "x" if stack else target
        current = sources[0] if sources else "x"
        for index, (suffix, module, expression) in enumerate(parts):
            last = index == len(parts) - 1
            into = target if last else names.new(f"{row.name}_{suffix}")
            if module is not None:
                expression = add_module(into, module, current)
            if stack:
                into = "x"
            forward.append(f"        {into} = {expression}")
            current = into
        fused = row.config.get("activation", "linear")
        face = written_torch(row.layer)
        if fused != "linear" and not (face is not None and face.code is TorchCode.ACTIVATION):
            # PyTorch layers have no activation argument: it is a module of its own (its own row)
            call = add_module(
                names.new(f"{row.name}_{fused}"), _activation_module(fused, row, moved), variables[row.name]
            )
            forward.append(f"        {variables[row.name]} = {call}")
        if row.training_only:  # torchvision's auxiliary heads: run in train mode only
            forward[start:] = [TRAINING_ONLY + line for line in forward[start:]]
    forward = _training_blocks(forward)
    used = {s for row in summary.layers for s in row.inputs}
    ends = [row for row in summary.layers if row.name not in used]
    outputs = [variables[row.name] for row in ends if not row.training_only] or ["x"]
    extra = [variables[row.name] for row in ends if row.training_only]
    if extra:  # train mode returns the auxiliary outputs too, as torchvision's models do
        forward.append(f"        if self.training: return {', '.join([*outputs, *extra])}")
    forward.append(f"        return {', '.join(outputs)}")
    sizes = ", ".join(str(v) for v in (1, *(_first(shape) if moved else shape)))
    return [
        docstring(f"{summary.name}: written by cnncalc export --to pytorch (run it: python this_file.py)."),
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        "class Model(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *(init or ["        pass"]),
        "",
        "    def forward(self, x):",
        *forward,
        "",
        "",
        "model = Model()",
        "",
        'if __name__ == "__main__":',
        # a model with training-only rows returns a tuple in train mode (nn.Module's default)
        f"    print(model{'.eval()' if extra else ''}(torch.randn({sizes})).shape)",
        "",
    ]


#: Marks a forward line of a training-only row until :func:`_training_blocks` groups them.
TRAINING_ONLY = "\0"


def _training_blocks(lines: list[str]) -> list[str]:
    """Each run of training-only lines as one ``if self.training:`` block (its names stay in one
    scope for the reader, which reads the block as train mode's)."""
    out: list[str] = []
    inside = False
    for line in lines:
        train = line.startswith(TRAINING_ONLY)
        if train and not inside:
            out.append("        if self.training:")
        inside = train
        out.append("    " + line[len(TRAINING_ONLY) :] if train else line)
    return out


def torch_text(layer: Layer, input_shape: tuple[int, ...], ctx: Context, name: str = "layer") -> list[str]:
    """The PyTorch code of one layer on an input shape: ``nn.X(...)`` modules (helpers first, an
    ``nn.ZeroPad2d`` for Keras's uneven 'same'; after a transposed conv, a negative one cropping the
    cell Keras's uneven 'same' drops), or the forward expression on ``x`` for a kind without a
    module, as ``cnncalc export --to pytorch`` writes them. ``SpecError`` whose ``reason`` is the
    one-line reason when PyTorch has no face for the kind or cannot express a setting. For callers
    that write one layer (``solve layer``, fix-it hints)."""
    row, summary = one_row(layer, input_shape, ctx, name)
    return torch_row_text(row, summary)


def torch_row_text(row: LayerRow, summary: Summary) -> list[str]:
    """:func:`torch_text` of a computed row."""
    moved = summary.data_format is DataFormat.CHANNELS_LAST
    parts = _layer(row, ["x"], moved, summary.convention)
    return [module or expression for _, module, expression in parts]


def module_class(row: LayerRow, convention: Convention) -> str | None:
    """The ``torch.nn`` class a computed row is written as (``BatchNorm2d``, ``ReLU``), or None
    when PyTorch writes it as a function, several modules or not at all (the table's PyTorch
    type names; the writer that exports it decides, so the two never disagree)."""
    import re

    try:
        parts = _layer(row, ["x"], False, convention)
    except (SpecError, KeyError, ValueError, TypeError):
        return None
    module = parts[-1][1] if len(parts) == 1 else None
    found = re.match(r"nn\.(\w+)\(", module or "")
    return found.group(1) if found else None


def type_name(row: LayerRow, convention: Convention) -> str:
    """A row's class in the words of the convention's framework: Keras's (``Conv2D``), or under
    pytorch the ``torch.nn`` module ``export --to pytorch`` writes it as (``Conv2d``, ``MaxPool2d``);
    a row PyTorch writes otherwise keeps its Keras name. Every place that names a layer's class
    (tables, diagram boxes, explain headings) asks here."""
    if convention is Convention.PYTORCH:
        return module_class(row, convention) or row.class_name
    return row.class_name


def one_row(layer: Layer, input_shape: tuple[int, ...], ctx: Context, name: str) -> tuple[LayerRow, Summary]:
    """A one-layer summary and its row (the writers read a computed row)."""
    from .engine import summarize
    from .io.spec import LayerSpec, Spec

    spec = Spec(
        layers=(LayerSpec(layer, text=name, name=name),),
        input_shape=input_shape,
        data_format=ctx.data_format,
        convention=ctx.convention,
    )
    summary = summarize(spec)
    return summary.layers[0], summary


#: Suffixes of the rows a layer's code adds before its own row (zero padding PyTorch applies as a
#: module of its own; a separable convolution's depthwise half; a transposed conv whose Keras
#: 'same' crop a negative nn.ZeroPad, the row itself, completes).
HELPER_SUFFIXES = ("pad", "depthwise", "deconv")


def _first(shape: Any) -> tuple[Any, ...]:
    """A channels_last shape with its channel axis moved first (``H, W, C`` -> ``C, H, W``)."""
    shape = tuple(shape)
    return (shape[-1], *shape[:-1]) if len(shape) >= 2 else shape


Part = tuple[str, str | None, str]


@dataclass(frozen=True)
class _Site:
    """What a PyTorch writer reads of one row (its kind's PyTorch face says which writer)."""

    row: LayerRow
    layer: Layer
    #: the kind's registry class name (``Conv2D``), for messages
    name: str
    sources: list[str]
    moved: bool
    keras: bool
    where: str

    @property
    def config(self) -> Mapping[str, Any]:
        return self.row.config

    @property
    def in_shape(self) -> tuple[int, ...]:
        """The input shape, channels first."""
        return _first(self.row.input_shape) if self.moved else tuple(self.row.input_shape)

    @property
    def channels(self) -> int:
        return self.in_shape[0] if self.in_shape else 0

    @property
    def rank(self) -> int:
        return len(self.in_shape) - 1

    def refuse(self, reason: str) -> SpecError:
        return SpecError(reason, layer=self.where)

    def unwritten(self, reason: str) -> SpecError:
        return self.refuse(f"{self.name} has no PyTorch module cnncalc writes: {reason}")

    def axis_of(self, axis: int) -> int:
        """A cnncalc axis (batch counted, Keras numbering) of this row's input, in NCHW."""
        size = len(self.row.input_shape) + 1
        axis = axis % size
        if not self.moved or size <= 2 or axis == 0:
            return axis
        return 1 if axis == size - 1 else axis + 1


def _one(module: str | None, expression: str = "") -> list[Part]:
    return [("", module, expression)]


def _layer(row: LayerRow, sources: list[str], moved: bool, convention: Convention) -> list[Part]:
    """The parts a row is written as: (helper suffix, the nn module call or None, the forward
    expression when there is no module); the last part is the row itself. The kind's PyTorch face
    (:mod:`cnncalc.layers.faces`) says which writer; a kind without one is refused with its reason."""
    layer = row.layer
    name = kind_of(layer).class_name
    where = describe_layer(row.index, row.spec or f"{name} {row.name!r}")
    refused = layer.refusal()
    if refused is not None:  # an opaque row: nothing known to write
        raise SpecError(f"opaque row: {refused}, so no code can be written for it", layer=where)
    reason = refusal(layer, Framework.PYTORCH)
    face = written_torch(layer)
    if reason is not None or face is None or face.code is None:
        raise SpecError(str(reason), layer=where)
    site = _Site(row, layer, name, sources, moved, convention is Convention.KERAS, where)
    return _WRITERS[face.code](site)


def _conv(site: _Site) -> list[Part]:
    """Conv, and depthwise (a grouped conv, groups = C) and separable (depthwise + pointwise) convs."""
    config, channels, rank, layer = site.config, site.channels, site.rank, site.layer
    pad, padding = _padding(site.row, config, rank, site.keras, site.refuse)
    groups = config.get("groups", 1)
    parts: list[Part] = [pad] if pad else []
    multiplier = getattr(layer, "depth_multiplier", None)
    if multiplier is None:  # a plain conv
        args = [channels, config["filters"], _t(config["kernel_size"])]
    else:
        args = [channels, channels * multiplier, _t(config["kernel_size"])]
        groups = channels
    bias = config.get("use_bias", True)
    if multiplier is not None and "filters" in config:  # separable: depthwise, then pointwise
        options = _conv_options(config, padding, channels, use_bias=False)
        parts.append(("depthwise", f"nn.Conv{rank}d({', '.join(map(str, args))}{options})", ""))
        pointwise = [channels * multiplier, config["filters"], 1]
        extra = "" if bias else ", bias=False"
        return [*parts, ("", f"nn.Conv{rank}d({', '.join(map(str, pointwise))}{extra})", "")]
    options = _conv_options(config, padding, groups, use_bias=bias)
    return [*parts, ("", f"nn.Conv{rank}d({', '.join(map(str, args))}{options})", "")]


def _conv_transpose(site: _Site) -> list[Part]:
    config = site.config
    args = [site.channels, config["filters"], _t(config["kernel_size"])]
    padding, output_padding, crops = _transposed_padding(site.row, config, site.moved, site.refuse)
    options = _conv_options(config, padding, config.get("groups", 1), use_bias=config.get("use_bias", True))
    if output_padding:
        options += f", output_padding={output_padding}"
    module = f"nn.ConvTranspose{site.rank}d({', '.join(map(str, args))}{options})"
    if not any(crops):
        return _one(module)
    cropped = torch_zero_pad([(0, -crop) for crop in crops])  # a negative ZeroPad crops
    return [("deconv", module, ""), ("", cropped, "")]


def _linear(site: _Site) -> list[Part]:
    if site.moved and site.rank > 0:
        raise site.refuse(
            "Dense on a channels_last feature map acts on its channels; PyTorch's Linear acts on the "
            "last axis of NCHW (the width): flatten or pool first"
        )
    bias = "" if site.config.get("use_bias", True) else ", bias=False"
    return _one(f"nn.Linear({site.in_shape[-1]}, {site.config['units']}{bias})")


def _batch_norm(site: _Site) -> list[Part]:
    config = site.config
    axis = config.get("axis")
    channel_axis = (-1 if site.moved else 1) if axis is None else axis
    if site.axis_of(channel_axis if isinstance(channel_axis, int) else channel_axis[0]) != 1:
        raise site.refuse("only a BatchNorm over the channel axis is PyTorch's")
    if config.get("center") != config.get("scale"):
        raise site.refuse("a BatchNorm with center and scale different has no PyTorch module")
    dims = 1 if site.rank <= 1 else site.rank
    affine = "" if config.get("center", True) else ", affine=False"
    momentum = torch_momentum(float(config.get("momentum", 0.99)))
    return _one(
        f"nn.BatchNorm{dims}d({site.channels}, eps={config.get('epsilon', 0.001)!r}, momentum={momentum!r}{affine})"
    )


def _pool(site: _Site) -> list[Part]:
    config, rank = site.config, site.rank
    face = written_torch(site.layer)
    assert face is not None  # the writer of a PyTorch face
    torch_name = face.modules[0].partition("{")[0]  # MaxPool or AvgPool
    pad, padding = _padding(site.row, config, rank, site.keras, site.refuse, pooling=True)
    pool_options = [f"stride={_t(config['strides'])}"]
    if padding:
        pool_options.append(f"padding={padding}")
    if config.get("ceil_mode"):
        pool_options.append("ceil_mode=True")
    if torch_name == "MaxPool" and config.get("dilation", 1) not in (1, [1] * rank):
        pool_options.append(f"dilation={_t(config['dilation'])}")
    if torch_name == "AvgPool" and (config.get("count_include_pad") is False or (site.keras and padding)):
        pool_options.append("count_include_pad=False")  # Keras's 'same' averages over the input only
    module = f"nn.{torch_name}{rank}d({_t(config['pool_size'])}, {', '.join(pool_options)})"
    return [*([pad] if pad else []), ("", module, "")]


def _adaptive_pool(site: _Site) -> list[Part]:
    face = written_torch(site.layer)
    assert face is not None  # the writer of a PyTorch face
    return _one(f"nn.{face.names(site.rank)[0]}({_t(site.config['output_size'])})")


def _global_avg(site: _Site) -> list[Part]:
    if site.rank != 2:
        raise site.unwritten("only the 2-D one is written (x.mean([2, 3]))")
    keep = ", keepdim=True" if site.config.get("keepdims") else ""
    return _one(None, f"{site.sources[0]}.mean([2, 3]{keep})")


def _zero_pad(site: _Site) -> list[Part]:
    return _one(torch_zero_pad(site.config["padding"]))


def _upsample(site: _Site) -> list[Part]:
    if site.rank != 2:
        raise site.unwritten("only the 2-D one is written (nn.Upsample)")
    size = site.config["size"]
    mode = site.config.get("interpolation", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise site.refuse(f"interpolation={mode!r} has no nn.Upsample mode cnncalc writes")
    factor = size[0] if len(set(size)) == 1 else f"({', '.join(map(str, size))})"
    return _one(f"nn.Upsample(scale_factor={factor}, mode={mode!r})")


def _relu(site: _Site) -> list[Part]:
    config = site.config
    inplace = "inplace=True" if config.get("inplace") else ""
    slope, threshold, ceiling = (
        config.get("negative_slope", 0) or 0,
        config.get("threshold", 0) or 0,
        config.get("max_value"),
    )
    if threshold:
        raise site.refuse("ReLU with a threshold has no PyTorch module")
    if ceiling is not None:
        if slope or float(ceiling) != 6:
            raise site.refuse("ReLU with a max_value other than 6, or with a slope, has no PyTorch module")
        return _one(f"nn.ReLU6({inplace})")
    return _one(f"nn.LeakyReLU({slope!r})" if slope else f"nn.ReLU({inplace})")


def _softmax(site: _Site) -> list[Part]:
    axis = site.config.get("axis", -1)
    return _one(f"nn.Softmax(dim={site.axis_of(axis if isinstance(axis, int) else axis[0])})")


def _concat(site: _Site) -> list[Part]:
    axis = site.axis_of(site.config.get("axis", -1 if site.moved else 1))
    return _one(None, f"torch.cat([{', '.join(site.sources)}], dim={axis})")


def _slice(site: _Site) -> list[Part]:
    config = site.config
    axis = site.axis_of(config["axis"])
    stop = "" if config.get("stop") is None else config["stop"]
    step = "" if config.get("step", 1) == 1 else f":{config['step']}"
    index = ", ".join([":"] * axis + [f"{config.get('start', 0)}:{stop}{step}"])
    return _one(None, f"{site.sources[0]}[{index}]")


def _layer_norm(site: _Site) -> list[Part]:
    config = site.config
    axes = config.get("axis", [-1])
    size = len(site.row.input_shape) + 1
    if site.moved or sorted(a % size for a in axes) != list(range(size - len(axes), size)):
        raise site.refuse(
            "torch.nn.LayerNorm normalizes the last axes of NCHW; this one normalizes "
            f"axis {axes} (torchvision writes a LayerNorm2d class of its own for the channel axis)"
        )
    if config.get("center") is False and config.get("scale") is True:
        raise site.refuse("a LayerNorm scaled but not centred has no PyTorch module")
    sizes = site.in_shape[len(site.in_shape) - len(axes) :]
    normalized = sizes[0] if len(sizes) == 1 else f"({', '.join(map(str, sizes))})"
    affine = "" if config.get("scale", True) else ", elementwise_affine=False"
    return _one(f"nn.LayerNorm({normalized}, eps={config.get('epsilon', 0.001)!r}{affine})")


def _reshape(site: _Site) -> list[Part]:
    shape = site.config["target_shape"]
    if site.moved and len(shape) >= 2:
        shape = _first(shape)  # the same sizes, channels first (values land elsewhere)
    target = ", ".join(str(v) for v in shape)
    source = site.sources[0]
    return _one(None, f"{source}.view({source}.size(0), {target})")


def _pixel_shuffle(site: _Site) -> list[Part]:
    """``nn.PixelShuffle(r)``/``nn.PixelUnshuffle(r)``: PyTorch's channel order only."""
    layer = site.layer
    if str(getattr(layer, "mode", "crd")) != "crd":
        raise site.refuse("PyTorch's pixel shuffles order channels as mode='crd'; this one is 'dcr'")
    face = written_torch(layer)
    assert face is not None  # the writer of a PyTorch face
    factor = getattr(layer, "upscale_factor", None) or getattr(layer, "downscale_factor", None)
    return _one(f"nn.{face.modules[0]}({factor})")


def _group_norm(site: _Site) -> list[Part]:
    config, layer = site.config, site.layer
    if "axis" in config and site.axis_of(config["axis"]) != 1:
        raise site.refuse("only a GroupNorm over the channel axis is PyTorch's")
    if config.get("center") != config.get("scale"):
        raise site.refuse("a GroupNorm with center and scale different has no PyTorch module")
    groups = site.channels if config.get("groups") == -1 else config.get("groups", 32)
    affine = "" if config.get("center", True) else ", affine=False"
    return _one(f"nn.GroupNorm({groups}, {site.channels}, eps={getattr(layer, 'epsilon', 0.001)!r}{affine})")


def _instance_norm(site: _Site) -> list[Part]:
    config = site.config
    options = [f"eps={config.get('epsilon', 1e-5)!r}"]
    if config.get("momentum", 0.1) != 0.1:
        options.append(f"momentum={config['momentum']!r}")
    if config.get("affine"):
        options.append("affine=True")
    if config.get("track_running_stats"):
        options.append("track_running_stats=True")
    return _one(f"nn.InstanceNorm{site.rank}d({site.channels}, {', '.join(options)})")


#: The writer of each PyTorch face's code.
_WRITERS: dict[TorchCode, Callable[[_Site], list[Part]]] = {
    TorchCode.CONV: _conv,
    TorchCode.TRANSPOSED: _conv_transpose,
    TorchCode.LINEAR: _linear,
    TorchCode.BATCH_NORM: _batch_norm,
    TorchCode.POOL: _pool,
    TorchCode.ADAPTIVE_POOL: _adaptive_pool,
    TorchCode.GLOBAL_AVG: _global_avg,
    TorchCode.ZERO_PAD: _zero_pad,
    TorchCode.UPSAMPLE: _upsample,
    TorchCode.FLATTEN: lambda site: _one("nn.Flatten()"),
    TorchCode.DROPOUT: lambda site: _one(f"nn.Dropout({site.config['rate']!r})"),
    TorchCode.SPATIAL_DROPOUT: lambda site: _one(f"nn.Dropout{site.rank}d({site.config['rate']!r})"),
    TorchCode.ACTIVATION: lambda site: _one(
        _activation_module(
            site.config["activation"], site.row, site.moved, inplace=bool(site.config.get("inplace"))
        )
    ),
    TorchCode.RELU: _relu,
    TorchCode.LEAKY_RELU: lambda site: _one(f"nn.LeakyReLU({site.config.get('negative_slope', 0.3)!r})"),
    TorchCode.SOFTMAX: _softmax,
    TorchCode.ADD: lambda site: _one(None, " + ".join(site.sources)),
    TorchCode.MULTIPLY: lambda site: _one(None, " * ".join(site.sources)),
    TorchCode.CONCAT: _concat,
    TorchCode.SLICE: _slice,
    TorchCode.LAYER_NORM: _layer_norm,
    TorchCode.RESHAPE: _reshape,
    TorchCode.PIXEL_SHUFFLE: _pixel_shuffle,
    TorchCode.GROUP_NORM: _group_norm,
    TorchCode.INSTANCE_NORM: _instance_norm,
}


def _padding(
    row: LayerRow, config: Mapping[str, Any], rank: int, keras: bool, refuse: Any, pooling: bool = False
) -> tuple[Part | None, str]:
    """(an nn.ZeroPad part or None, the layer's own ``padding=`` value or '') for a conv or pool.

    Under PyTorch's rules the padding is the layer's; under Keras's it is the padding Keras
    applies (``row.windows``: TensorFlow's split of 'same', the extra on the bottom/right), written
    on the layer when both sides are equal (and, for pooling, at most half the window, as PyTorch
    requires), else as a zero-padding module before a valid layer."""
    padding = config.get("padding")
    if not keras:
        if padding == PaddingMode.SAME.value:
            if pooling:
                raise refuse("padding='same' on a pooling layer has no PyTorch equivalent here")
            return None, "'same'"
        return None, _symmetric(padding, refuse)
    if padding == PaddingMode.VALID.value or not row.windows:
        return None, ""
    pairs = [(w.before, w.after) for w in row.windows]
    if all(b == a for b, a in pairs) and (not pooling or all(2 * w.before <= w.kernel for w in row.windows)):
        if all(b == 0 for b, _ in pairs):
            return None, ""
        return None, _t([b for b, _ in pairs])
    return ("pad", torch_zero_pad(pairs), ""), ""


def _transposed_padding(
    row: LayerRow, config: Mapping[str, Any], moved: bool, refuse: Any
) -> tuple[str, str, list[int]]:
    """(``padding=``, ``output_padding=``, cells cropped after it per axis) of a ConvTranspose
    giving the row's output cells as Keras computes them
    (:func:`~cnncalc.layers.faces.torch_transposed_padding`): Keras crops floor(t/2) cells of the
    full output at the start and ceil(t/2) at the end, so an odd t is padding=floor(t/2) and one
    cell cropped at the end (padding=ceil(t/2), output_padding=1 has the size but not the cells)."""
    padding = config.get("padding")
    if isinstance(padding, list):
        out_pad = config.get("output_padding")
        given = _t(out_pad) if out_pad and set(out_pad) != {0} else ""
        return _symmetric(padding, refuse), given, []
    n_in = (_first(row.input_shape) if moved else tuple(row.input_shape))[1:]
    n_out = (_first(row.output_shape) if moved else tuple(row.output_shape))[1:]
    pads: list[int] = []
    extras: list[int] = []
    crops: list[int] = []
    for n, out, k, s, d in zip(
        n_in,
        n_out,
        config["kernel_size"],
        config["strides"],
        config.get("dilation_rate") or [1] * len(n_in),
        strict=True,
    ):
        p, extra, cut = torch_transposed_padding(n, out, k, s, d)
        if extra >= max(s, d):
            raise refuse(
                f"no ConvTranspose padding gives the output length {out} (output_padding would be "
                f"{extra}, and must stay under {max(s, d)})"
            )
        pads.append(p)
        extras.append(extra)
        crops.append(cut)
    return ("" if set(pads) == {0} else _t(pads)), ("" if set(extras) == {0} else _t(extras)), crops


def _activation_module(activation: str, row: LayerRow, moved: bool = False, inplace: bool = False) -> str:
    if activation in TORCH_ACTIVATIONS:
        module = TORCH_ACTIVATIONS[activation]
        return f"nn.{module}({'inplace=True' if inplace and module in TORCH_INPLACE else ''})"
    if activation == "softmax":
        return "nn.Softmax(dim=1)"  # the channel axis (NCHW), the last one of a channels_last input
    raise SpecError(
        f"{describe_layer(row.index, row.spec or repr(row.name))}: the activation {activation!r} has no "
        "PyTorch module cnncalc writes"
    )


def _conv_options(config: Mapping[str, Any], padding: str, groups: int, use_bias: bool) -> str:
    options = []
    if config.get("strides") and set(config["strides"]) != {1}:
        options.append(f"stride={_t(config['strides'])}")
    if padding:
        options.append(f"padding={padding}")
    if config.get("dilation_rate") and set(config["dilation_rate"]) != {1}:
        options.append(f"dilation={_t(config['dilation_rate'])}")
    if groups != 1:
        options.append(f"groups={groups}")
    if not use_bias:
        options.append("bias=False")
    return "".join(f", {o}" for o in options)


def _symmetric(padding: Any, refuse: Any) -> str:
    """PyTorch's padding per axis from cnncalc's ``[[before, after], ...]`` ('' for none)."""
    if padding in (None, PaddingMode.VALID.value):
        return ""
    if not isinstance(padding, list):
        raise refuse(f"padding={padding!r} has no PyTorch equivalent here")
    if any(before != after for before, after in padding):
        raise refuse(f"padding={padding!r} is not the same on both sides, as PyTorch's is")
    return _t([before for before, _ in padding])  # an explicit 0 stays explicit (it reads back as 0)


def _t(values: Any) -> str:
    return torch_values(values)
