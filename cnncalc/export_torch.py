"""``cnncalc export --to pytorch``: runnable PyTorch code for a model computed under PyTorch's rules.

The model becomes one ``nn.Module``: ``__init__`` assigns each layer (``in_channels`` and
``in_features`` filled in from the incoming shapes, PyTorch's argument names through the same
table the readers use, :mod:`cnncalc.layers.torch_names`) and ``forward`` applies them in order,
with ``x + y``, ``torch.cat`` and ``x.mean([2, 3])`` for what has no module. Reading the output back
gives the same table (module rows keep their names, with ``.`` written ``_``; functional rows are
named by their function; a fused ``activation=`` becomes a module and a row of its own, as PyTorch
writes it). Layers PyTorch has no module or operation for are refused with the reason.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any

from .enums import Convention, DataFormat, PaddingMode
from .errors import Option, SpecError, describe_layer
from .layers import kind_of
from .summary import LayerRow, Summary

#: cnncalc activation names and the torch.nn module of each.
_ACTIVATION_MODULES = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "gelu": "GELU",
    "silu": "SiLU",
    "swish": "SiLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "elu": "ELU",
    "selu": "SELU",
    "softplus": "Softplus",
    "mish": "Mish",
    "hard_swish": "Hardswish",
    "hard_sigmoid": "Hardsigmoid",
}


def export_pytorch(summary: Summary) -> str:
    """A runnable ``nn.Module`` for a summary computed under the pytorch convention, NCHW."""
    if summary.convention is not Convention.PYTORCH or summary.data_format is not DataFormat.CHANNELS_FIRST:
        raise SpecError(
            "PyTorch code follows PyTorch's rules: summarize the model under ",
            Option("convention", "pytorch"),
            " (NCHW, ",
            Option("data_format", "channels_first"),
            ")",
        )
    if len(summary.model_inputs) != 1:
        raise SpecError("PyTorch code is written for one input; the model has several")
    input_name, shape = summary.model_inputs[0]
    attributes: dict[str, str] = {}
    variables: dict[str, str] = {input_name: "x"}
    init: list[str] = []
    forward: list[str] = []
    stack = not summary.branches  # a plain stack reads best as x = self.layer(x)
    for row in summary.layers:
        module, expression = _layer(row, [variables[s] for s in row.inputs])
        target = _identifier(row.name, set(attributes.values()) | {"x"})
        if module is not None:
            attributes[row.name] = target
            init.append(f"        self.{target} = {module}")
            expression = f"self.{target}({variables[row.inputs[0]]})"
        variables[row.name] = "x" if stack else target
        forward.append(f"        {variables[row.name]} = {expression}")
        fused = row.config.get("activation", "linear")
        if fused != "linear" and kind_of(row.layer).class_name != "Activation":  # type: ignore[arg-type]
            # PyTorch layers have no activation argument: it is a module of its own (its own row)
            act = _identifier(f"{row.name}_{fused}", set(attributes.values()) | {"x"})
            attributes[f"{row.name}/{fused}"] = act
            init.append(f"        self.{act} = {_activation_module(fused, row)}")
            forward.append(f"        {variables[row.name]} = self.{act}({variables[row.name]})")
    used = {s for row in summary.layers for s in row.inputs}
    outputs = [variables[row.name] for row in summary.layers if row.name not in used] or ["x"]
    forward.append(f"        return {', '.join(outputs)}")
    sizes = ", ".join(str(v) for v in (1, *shape))
    lines = [
        f'"""{summary.name}: written by cnncalc export --to pytorch (run it: python this_file.py)."""',
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
        f"    print(model(torch.randn({sizes})).shape)",
        "",
    ]
    return "\n".join(lines)


def _layer(row: LayerRow, sources: list[str]) -> tuple[str | None, str]:
    """(the nn module call, or None) and the forward expression when it has no module."""
    layer = row.layer
    assert layer is not None  # rows of a computed summary carry their layer
    kind = kind_of(layer)
    name = kind.class_name
    where = describe_layer(row.index, row.spec or f"{name} {row.name!r}")
    config = row.config
    channels = row.input_shape[0] if row.input_shape else 0
    rank = len(row.input_shape) - 1

    def refuse(reason: str) -> SpecError:
        return SpecError(f"{where}: {reason}")

    if name.startswith("Conv") and "Transpose" not in name:
        args = [channels, config["filters"], _t(config["kernel_size"])]
        extra = _conv_options(config, refuse)
        return f"nn.Conv{rank}d({', '.join(map(str, args))}{extra})", ""
    if name.startswith("Conv") and "Transpose" in name:
        args = [channels, config["filters"], _t(config["kernel_size"])]
        extra = _conv_options(config, refuse, transposed=True)
        return f"nn.ConvTranspose{rank}d({', '.join(map(str, args))}{extra})", ""
    if name == "Dense":
        bias = "" if config.get("use_bias", True) else ", bias=False"
        return f"nn.Linear({row.input_shape[-1]}, {config['units']}{bias})", ""
    if name == "BatchNormalization":
        if config.get("axis") not in (None, 1) or config.get("center") != config.get("scale"):
            raise refuse("only a BatchNorm over the channel axis, with center and scale alike, is PyTorch's")
        dims = 1 if rank <= 1 else rank
        affine = "" if config.get("center", True) else ", affine=False"
        momentum = round(1 - float(config.get("momentum", 0.99)), 12)
        return (
            f"nn.BatchNorm{dims}d({channels}, eps={config.get('epsilon', 0.001)!r}, momentum={momentum!r}{affine})",
            "",
        )
    if name.startswith(("MaxPooling", "AveragePooling")):
        torch_name = "MaxPool" if name.startswith("Max") else "AvgPool"
        options = [f"stride={_t(config['strides'])}"]
        padding = _symmetric(config.get("padding"), refuse)
        if padding:
            options.append(f"padding={padding}")
        if config.get("ceil_mode"):
            options.append("ceil_mode=True")
        if torch_name == "MaxPool" and config.get("dilation", 1) not in (1, [1] * rank):
            options.append(f"dilation={_t(config['dilation'])}")
        if torch_name == "AvgPool" and config.get("count_include_pad") is False:
            options.append("count_include_pad=False")
        return f"nn.{torch_name}{rank}d({_t(config['pool_size'])}, {', '.join(options)})", ""
    if name.startswith(("AdaptiveAvgPool", "AdaptiveMaxPool")):
        return f"nn.{name}({_t(config['output_size'])})", ""
    if name == "GlobalAveragePooling2D":
        keep = ", keepdim=True" if config.get("keepdims") else ""
        return None, f"{sources[0]}.mean([2, 3]{keep})"
    if name == "Flatten":
        return "nn.Flatten()", ""
    if name == "Dropout":
        return f"nn.Dropout({config['rate']!r})", ""
    if name.startswith("SpatialDropout"):
        return f"nn.Dropout{rank}d({config['rate']!r})", ""
    if name == "Activation":
        return _activation_module(config["activation"], row), ""
    if name == "ReLU":
        if (
            config.get("max_value") is not None
            or config.get("threshold", 0)
            or config.get("negative_slope", 0)
        ):
            raise refuse("ReLU with max_value, threshold or a slope has no PyTorch module")
        return "nn.ReLU()", ""
    if name == "LeakyReLU":
        return f"nn.LeakyReLU({config.get('negative_slope', 0.3)!r})", ""
    if name == "Softmax":
        return f"nn.Softmax(dim={config.get('axis', -1)})", ""
    if name == "Add":
        return None, " + ".join(sources)
    if name == "Multiply":
        return None, " * ".join(sources)
    if name == "Concatenate":
        axis = config.get("axis", 1)
        return None, f"torch.cat([{', '.join(sources)}], dim={axis})"
    if name == "Reshape":
        target = ", ".join(str(v) for v in config["target_shape"])
        return None, f"{sources[0]}.view({sources[0]}.size(0), {target})"
    raise refuse(f"{name} has no PyTorch module cnncalc writes")


def _activation_module(activation: str, row: LayerRow) -> str:
    if activation in _ACTIVATION_MODULES:
        return f"nn.{_ACTIVATION_MODULES[activation]}()"
    if activation == "softmax":
        return "nn.Softmax(dim=1)"
    raise SpecError(
        f"{describe_layer(row.index, row.spec or repr(row.name))}: the activation {activation!r} has no "
        "PyTorch module cnncalc writes"
    )


def _conv_options(config: Mapping[str, Any], refuse: Any, transposed: bool = False) -> str:
    options = []
    if config.get("strides") and set(config["strides"]) != {1}:
        options.append(f"stride={_t(config['strides'])}")
    padding = config.get("padding")
    if padding == PaddingMode.SAME.value and not transposed:
        options.append("padding='same'")
    else:
        value = _symmetric(padding, refuse)
        if value:
            options.append(f"padding={value}")
    if transposed and config.get("output_padding"):
        if set(config["output_padding"]) != {0}:
            options.append(f"output_padding={_t(config['output_padding'])}")
    if config.get("dilation_rate") and set(config["dilation_rate"]) != {1}:
        options.append(f"dilation={_t(config['dilation_rate'])}")
    if config.get("groups", 1) != 1:
        options.append(f"groups={config['groups']}")
    if not config.get("use_bias", True):
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
    if not isinstance(values, list):
        return str(values)
    return str(values[0]) if len(set(values)) == 1 else f"({', '.join(map(str, values))})"


def _identifier(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit() or keyword.iskeyword(base) or base in ("torch", "nn", "self", "model"):
        base = f"layer_{base}"
    candidate, n = base, 1
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate
