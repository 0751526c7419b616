"""PyTorch's spelling of the kinds: ``nn.Conv2d(in_channels, out_channels, kernel_size, ...)``.

One table, :data:`SIGNATURES`, keyed by the PyTorch class name (lower case): the constructor's
positional order, how each PyTorch argument maps to cnncalc's (Keras) argument, value conversions
(BatchNorm's momentum is the complement of Keras's) and PyTorch's defaults where they differ from
Keras's. Under the pytorch convention a kind spelled with its PyTorch class name
(``conv2d:3,64,7,2,3``, ``BatchNorm2d:64``, ``Linear:512,1000``) takes PyTorch's order and names.
Readers and writers that speak PyTorch (export, Python sources) share this table.

``in_channels``, ``in_features`` and ``num_features`` map onto the kinds' own check arguments:
the layer compares them with its incoming shape and says what the value must be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError


def _complement(value: Any) -> Any:
    """PyTorch BatchNorm momentum m weighs the new batch; Keras's weighs the running value: 1 - m."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 1 - value
    return value  # not a number: the Keras coercer says what is wrong


@dataclass(frozen=True)
class TorchSignature:
    """How one PyTorch class spells a cnncalc kind's arguments."""

    #: the PyTorch class name (``Conv2d``)
    class_name: str
    #: PyTorch argument names in constructor order (the positional order)
    positional: tuple[str, ...]
    #: PyTorch argument name -> cnncalc argument name(s)
    names: Mapping[str, tuple[str, ...]]
    #: value conversions, by PyTorch argument name
    convert: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    #: PyTorch's defaults where they differ from Keras's, by cnncalc argument name
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def arguments(self, positional: list[Any], keywords: Mapping[str, Any]) -> dict[str, Any]:
        """PyTorch positional and keyword values -> cnncalc keyword values."""
        if len(positional) > len(self.positional):
            raise SpecError(
                f"{self.class_name} takes at most {len(self.positional)} positional arguments "
                f"({', '.join(self.positional)}), got {len(positional)}"
            )
        given = dict(zip(self.positional, positional, strict=False))
        for key, value in keywords.items():
            if key in given:
                raise SpecError(f"{key} given twice")
            given[key] = value
        out: dict[str, Any] = {}
        for key, value in given.items():
            # cnncalc's own (Keras) names pass through: a --format json document reads back
            targets = self.names.get(key, (key,))
            value = self.convert.get(key, lambda v: v)(value)
            for target in targets:
                if target in out:
                    raise SpecError(f"{target} given twice (as {key})")
                out[target] = value
        return {**self.defaults, **out}


_CONV = {
    "in_channels": ("in_channels",),
    "out_channels": ("filters",),
    "kernel_size": ("kernel_size",),
    "stride": ("strides",),
    "padding": ("padding",),
    "dilation": ("dilation_rate",),
    "groups": ("groups",),
    "bias": ("use_bias",),
}
_POOL = {
    "kernel_size": ("pool_size",),
    "stride": ("strides",),
    "padding": ("padding",),
    "ceil_mode": ("ceil_mode",),
}
_BN = TorchSignature(
    "BatchNorm",
    ("num_features", "eps", "momentum", "affine"),
    {
        "num_features": ("num_features",),
        "eps": ("epsilon",),
        "momentum": ("momentum",),
        "affine": ("center", "scale"),
    },
    convert={"momentum": _complement},
    defaults={"epsilon": 1e-5, "momentum": 0.9},  # PyTorch: eps=1e-5, momentum=0.1
)

SIGNATURES: dict[str, TorchSignature] = {
    **{
        f"conv{r}d": TorchSignature(
            f"Conv{r}d",
            ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias"),
            _CONV,
        )
        for r in (1, 2, 3)
    },
    **{
        f"convtranspose{r}d": TorchSignature(
            f"ConvTranspose{r}d",
            (
                "in_channels",
                "out_channels",
                "kernel_size",
                "stride",
                "padding",
                "output_padding",
                "groups",
                "bias",
                "dilation",
            ),
            {**_CONV, "output_padding": ("output_padding",)},
        )
        for r in (1, 2, 3)
    },
    "linear": TorchSignature(
        "Linear",
        ("in_features", "out_features", "bias"),
        {"in_features": ("in_features",), "out_features": ("units",), "bias": ("use_bias",)},
    ),
    **{f"batchnorm{r}d": _BN for r in (1, 2, 3)},
    **{
        f"maxpool{r}d": TorchSignature(
            f"MaxPool{r}d",
            ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
            {**_POOL, "dilation": ("dilation",), "return_indices": ()},
        )
        for r in (1, 2, 3)
    },
    **{
        f"avgpool{r}d": TorchSignature(
            f"AvgPool{r}d",
            ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
            {**_POOL, "count_include_pad": ("count_include_pad",)},
        )
        for r in (1, 2, 3)
    },
}


def torch_signature(spelled: str) -> TorchSignature | None:
    """The PyTorch signature of a kind spelled with its PyTorch class name (``Conv2d``,
    ``nn.Linear``), or None."""
    key = spelled.strip().lower()
    key = key[3:] if key.startswith("nn.") else key
    return SIGNATURES.get(key)
