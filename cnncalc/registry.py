"""Layer kinds by name: Keras class names (case-insensitive) and short aliases -> layer classes."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from .base import Layer
from .errors import SpecError
from .values import ACTIVATIONS


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class Kind:
    """One layer kind: its JSON ``type``, Keras class name, where its class lives, fixed arguments (rank).

    The class is imported on first use, so a model only loads the modules of the kinds it uses.
    """

    type: str
    class_name: str
    module: str
    cls_name: str
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def cls(self) -> type[Layer]:
        """The layer class (imported on first use)."""
        return getattr(importlib.import_module(f"cnncalc.{self.module}"), self.cls_name)

    @property
    def name_prefix(self) -> str:
        """Keras's default layer name: the snake_case class name (``MaxPooling2D`` -> ``max_pooling2d``)."""
        name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", self.class_name)
        return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()

    def build(self, args: dict[str, Any]) -> Layer:
        """Instantiate with already-resolved argument names."""
        return self.cls(**args, **dict(self.fixed))


def _ranked(where: str, pattern: str, ranks: tuple[int, ...] = (1, 2, 3)) -> list[Kind]:
    """Kinds for each rank: ``_ranked("conv.Conv", "Conv{}D")`` -> Conv1D, Conv2D, Conv3D."""
    module, cls_name = where.split(".")
    return [
        Kind(pattern.format(r).lower(), pattern.format(r), module, cls_name, (("rank", r),)) for r in ranks
    ]


def _one(type_: str, class_name: str, where: str) -> Kind:
    module, cls_name = where.split(".")
    return Kind(type_, class_name, module, cls_name)


KINDS: tuple[Kind, ...] = (
    *_ranked("conv.Conv", "Conv{}D"),
    *_ranked("conv.ConvTranspose", "Conv{}DTranspose"),
    *_ranked("conv.DepthwiseConv", "DepthwiseConv{}D", (1, 2)),
    *_ranked("conv.SeparableConv", "SeparableConv{}D", (1, 2)),
    *_ranked("pooling.MaxPool", "MaxPooling{}D"),
    *_ranked("pooling.AvgPool", "AveragePooling{}D"),
    *_ranked("pooling.GlobalMaxPool", "GlobalMaxPooling{}D"),
    *_ranked("pooling.GlobalAvgPool", "GlobalAveragePooling{}D"),
    *_ranked("pooling.AdaptiveAvgPool", "AdaptiveAvgPool{}d"),
    *_ranked("pooling.AdaptiveMaxPool", "AdaptiveMaxPool{}d"),
    *_ranked("reshaping.ZeroPadding", "ZeroPadding{}D"),
    *_ranked("reshaping.Cropping", "Cropping{}D"),
    *_ranked("reshaping.UpSampling", "UpSampling{}D"),
    *_ranked("basic.SpatialDropout", "SpatialDropout{}D"),
    _one("flatten", "Flatten", "basic.Flatten"),
    _one("reshape", "Reshape", "reshaping.Reshape"),
    _one("permute", "Permute", "reshaping.Permute"),
    _one("dense", "Dense", "basic.Dense"),
    _one("dropout", "Dropout", "basic.Dropout"),
    _one("activation", "Activation", "basic.Activation"),
    _one("relu", "ReLU", "basic.ReLU"),
    _one("leakyrelu", "LeakyReLU", "basic.LeakyReLU"),
    _one("softmax", "Softmax", "basic.Softmax"),
    _one("batchnormalization", "BatchNormalization", "basic.BatchNorm"),
    _one("layernormalization", "LayerNormalization", "basic.LayerNorm"),
    _one("add", "Add", "merging.Add"),
    _one("subtract", "Subtract", "merging.Subtract"),
    _one("multiply", "Multiply", "merging.Multiply"),
    _one("average", "Average", "merging.Average"),
    _one("maximum", "Maximum", "merging.Maximum"),
    _one("minimum", "Minimum", "merging.Minimum"),
    _one("concatenate", "Concatenate", "merging.Concatenate"),
    _one("convpoollayer", "ConvPoolLayer", "network3.ConvPool"),
    _one("fullyconnectedlayer", "FullyConnectedLayer", "network3.FullyConnected"),
    _one("softmaxlayer", "SoftmaxLayer", "network3.SoftmaxLayer"),
)

#: Short names (and PyTorch-flavoured ones) for the kinds above.
ALIASES: dict[str, str] = {
    "conv": "conv2d", "convolution1d": "conv1d", "convolution2d": "conv2d", "convolution3d": "conv3d",
    "deconv": "conv2dtranspose", "convtranspose": "conv2dtranspose", "convtranspose1d": "conv1dtranspose",
    "convtranspose2d": "conv2dtranspose", "convtranspose3d": "conv3dtranspose",
    "depthwise": "depthwiseconv2d", "dwconv": "depthwiseconv2d",
    "separable": "separableconv2d", "sepconv": "separableconv2d",
    "maxpool": "maxpooling2d", "pool": "maxpooling2d", "maxpool1d": "maxpooling1d",
    "maxpool2d": "maxpooling2d", "maxpool3d": "maxpooling3d",
    "avgpool": "averagepooling2d", "avgpool1d": "averagepooling1d",
    "avgpool2d": "averagepooling2d", "avgpool3d": "averagepooling3d",
    "gap": "globalaveragepooling2d", "globalavgpool": "globalaveragepooling2d",
    "gmp": "globalmaxpooling2d", "globalmaxpool": "globalmaxpooling2d",
    "zeropad": "zeropadding2d", "pad": "zeropadding2d", "crop": "cropping2d",
    "upsample": "upsampling2d", "up": "upsampling2d",
    "bn": "batchnormalization", "batchnorm": "batchnormalization",
    "batchnorm1d": "batchnormalization", "batchnorm2d": "batchnormalization",
    "batchnorm3d": "batchnormalization", "ln": "layernormalization", "layernorm": "layernormalization",
    "fc": "dense", "linear": "dense", "view": "reshape",
    "convpool": "convpoollayer", "fullyconnected": "fullyconnectedlayer", "concat": "concatenate",
    "cat": "concatenate", "adaptiveavgpool": "adaptiveavgpool2d", "adaptivemaxpool": "adaptivemaxpool2d",
}  # fmt: skip

_BY_TYPE = {k.type: k for k in KINDS}

#: Activation names usable as a layer kind of their own (``sigmoid`` == ``activation:sigmoid``);
#: relu, softmax and leaky_relu name Keras layer classes of their own (ReLU, Softmax, LeakyReLU).
ACTIVATION_KINDS = frozenset(ACTIVATIONS) - {"linear", "relu", "softmax", "leaky_relu"}


def lookup(name: str) -> Kind:
    """The kind for a class name or alias, case-insensitive; ``SpecError`` if unknown."""
    key = name.strip().lower().replace("_", "")
    key = ALIASES.get(key, key)
    if key in _BY_TYPE:
        return _BY_TYPE[key]
    import difflib  # only on this error path

    close = difflib.get_close_matches(key, known_names(), n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise SpecError(f"unknown layer kind {name!r} ({hint}`cnncalc kinds` lists them all)")


def kind_of(layer: Layer) -> Kind:
    """The kind a layer was built as."""
    cls = type(layer)
    for k in KINDS:  # rank-generic classes (Conv) are told apart by their fixed arguments
        if cls.__name__ == k.cls_name and cls.__module__ == f"cnncalc.{k.module}":
            if all(getattr(layer, a) == v for a, v in k.fixed):
                return k
    raise TypeError(f"not a registered layer kind: {layer!r}")


def known_names() -> list[str]:
    """Every kind name users may type (types and aliases)."""
    return sorted({*_BY_TYPE, *ALIASES, *ACTIVATION_KINDS})
