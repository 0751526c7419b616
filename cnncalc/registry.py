"""Layer kinds by name: Keras class names (case-insensitive) and short aliases -> layer classes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from . import layers as L
from .errors import SpecError


@dataclass(frozen=True)
class Kind:
    """One layer kind: its JSON ``type``, Keras class name, class and fixed arguments (rank)."""

    type: str
    class_name: str
    cls: type[L.Layer]
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def name_prefix(self) -> str:
        """Keras's default layer name: the snake_case class name (``MaxPooling2D`` -> ``max_pooling2d``)."""
        name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", self.class_name)
        return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()

    def build(self, args: dict[str, Any]) -> L.Layer:
        """Instantiate with already-resolved argument names."""
        return self.cls(**args, **dict(self.fixed))


def _ranked(cls: type[L.Layer], pattern: str, ranks: tuple[int, ...] = (1, 2, 3)) -> list[Kind]:
    """Kinds for each rank: ``_ranked(L.Conv, "Conv{}D")`` -> Conv1D, Conv2D, Conv3D."""
    return [Kind(pattern.format(r).lower(), pattern.format(r), cls, (("rank", r),)) for r in ranks]


KINDS: tuple[Kind, ...] = (
    *_ranked(L.Conv, "Conv{}D"),
    *_ranked(L.ConvTranspose, "Conv{}DTranspose"),
    *_ranked(L.DepthwiseConv, "DepthwiseConv{}D", (1, 2)),
    *_ranked(L.SeparableConv, "SeparableConv{}D", (1, 2)),
    *_ranked(L.MaxPool, "MaxPooling{}D"),
    *_ranked(L.AvgPool, "AveragePooling{}D"),
    *_ranked(L.GlobalMaxPool, "GlobalMaxPooling{}D"),
    *_ranked(L.GlobalAvgPool, "GlobalAveragePooling{}D"),
    *_ranked(L.AdaptiveAvgPool, "AdaptiveAvgPool{}d"),
    *_ranked(L.AdaptiveMaxPool, "AdaptiveMaxPool{}d"),
    *_ranked(L.ZeroPadding, "ZeroPadding{}D"),
    *_ranked(L.Cropping, "Cropping{}D"),
    *_ranked(L.UpSampling, "UpSampling{}D"),
    *_ranked(L.SpatialDropout, "SpatialDropout{}D"),
    Kind("flatten", "Flatten", L.Flatten),
    Kind("reshape", "Reshape", L.Reshape),
    Kind("permute", "Permute", L.Permute),
    Kind("dense", "Dense", L.Dense),
    Kind("dropout", "Dropout", L.Dropout),
    Kind("activation", "Activation", L.Activation),
    Kind("relu", "ReLU", L.ReLU),
    Kind("leakyrelu", "LeakyReLU", L.LeakyReLU),
    Kind("softmax", "Softmax", L.Softmax),
    Kind("batchnormalization", "BatchNormalization", L.BatchNorm),
    Kind("layernormalization", "LayerNormalization", L.LayerNorm),
    Kind("add", "Add", L.Add),
    Kind("subtract", "Subtract", L.Subtract),
    Kind("multiply", "Multiply", L.Multiply),
    Kind("average", "Average", L.Average),
    Kind("maximum", "Maximum", L.Maximum),
    Kind("minimum", "Minimum", L.Minimum),
    Kind("concatenate", "Concatenate", L.Concatenate),
    Kind("convpoollayer", "ConvPoolLayer", L.ConvPool),
    Kind("fullyconnectedlayer", "FullyConnectedLayer", L.FullyConnected),
    Kind("softmaxlayer", "SoftmaxLayer", L.SoftmaxLayer),
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
ACTIVATION_KINDS = frozenset(L.V.ACTIVATIONS) - {"linear", "relu", "softmax", "leaky_relu"}


def lookup(name: str) -> Kind:
    """The kind for a class name or alias, case-insensitive; ``SpecError`` if unknown."""
    key = name.strip().lower().replace("_", "")
    key = ALIASES.get(key, key)
    if key in _BY_TYPE:
        return _BY_TYPE[key]
    close = difflib.get_close_matches(key, known_names(), n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise SpecError(f"unknown layer kind {name!r} ({hint}`cnncalc kinds` lists them all)")


def kind_of(layer: L.Layer) -> Kind:
    """The kind a layer was built as."""
    for k in KINDS:  # rank-generic classes (Conv) are told apart by their fixed arguments
        if type(layer) is k.cls and all(getattr(layer, a) == v for a, v in k.fixed):
            return k
    raise TypeError(f"not a registered layer kind: {layer!r}")


def known_names() -> list[str]:
    """Every kind name users may type (types and aliases)."""
    return sorted({*_BY_TYPE, *ALIASES, *ACTIVATION_KINDS})
