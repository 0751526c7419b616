"""The layer kinds, one module per family, and this registry: names and aliases -> classes.

Keras class names (case-insensitive) and short aliases map to a :class:`Kind`, which names the
module and class that implement it. The class is imported on first use, so a model only loads
the modules of the kinds it uses (start-up time). ``cnncalc.layers.Conv`` and the like resolve
the same way. Adding a kind is one class in a family module plus one line in :data:`KINDS`
(``docs/contributing.md``).
"""

from __future__ import annotations

import builtins
import importlib
import re
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..records import record
from .args import ACTIVATIONS

if TYPE_CHECKING:
    from .base import Layer


#: (module, class name) -> the imported class.
_CLASSES: dict[tuple[str, str], builtins.type[Layer]] = {}


@record(frozen=True, eq=False)  # records, never compared: cheaper to define
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
    def cls(self) -> builtins.type[Layer]:
        """The layer class (imported on first use, then looked up: a spec builds it per layer)."""
        key = (self.module, self.cls_name)
        cls = _CLASSES.get(key)
        if cls is None:
            cls = _CLASSES[key] = getattr(importlib.import_module(f"{__name__}.{self.module}"), self.cls_name)
        return cls

    @property
    def name_prefix(self) -> str:
        """Keras's default layer name: the snake_case class name (``MaxPooling2D`` -> ``max_pooling2d``)."""
        name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", self.class_name)
        return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()

    def signature(self) -> list[tuple[str, tuple[str, ...], str | None]]:
        """(name, aliases, default as JSON or None when required) of each argument, in the
        compact grammar's positional order (the Keras constructor's)."""
        import json
        from dataclasses import MISSING

        fixed = dict(self.fixed)
        out: list[tuple[str, tuple[str, ...], str | None]] = []
        for f in self.cls.declared():
            if "coerce" not in f.metadata or f.name in fixed:
                continue
            if f.default is not MISSING:
                default: str | None = json.dumps(_plain(f.default))
            elif f.default_factory is not MISSING:
                default = json.dumps(_plain(f.default_factory()))
            else:
                default = None
            out.append((f.name, tuple(f.metadata["aliases"]), default))
        return out

    def build(self, args: dict[str, Any]) -> Layer:
        """Instantiate with already-resolved argument names."""
        return self.cls(**args, **dict(self.fixed))


def _plain(value: Any) -> Any:
    """A default value as JSON shows it (enums by value, tuples as lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


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
    *_ranked("core.SpatialDropout", "SpatialDropout{}D"),
    _one("flatten", "Flatten", "reshaping.Flatten"),
    _one("reshape", "Reshape", "reshaping.Reshape"),
    _one("permute", "Permute", "reshaping.Permute"),
    _one("slice", "Slice", "reshaping.Slice"),
    _one("arithmetic", "Arithmetic", "core.Arithmetic"),
    _one("dense", "Dense", "core.Dense"),
    _one("dropout", "Dropout", "core.Dropout"),
    _one("activation", "Activation", "core.Activation"),
    _one("relu", "ReLU", "core.ReLU"),
    _one("leakyrelu", "LeakyReLU", "core.LeakyReLU"),
    _one("softmax", "Softmax", "core.Softmax"),
    _one("batchnormalization", "BatchNormalization", "normalization.BatchNorm"),
    _one("layernormalization", "LayerNormalization", "normalization.LayerNorm"),
    _one("groupnormalization", "GroupNormalization", "normalization.GroupNorm"),
    *_ranked("normalization.InstanceNorm", "InstanceNorm{}d"),
    _one("pixelshuffle", "PixelShuffle", "reshaping.PixelShuffle"),
    _one("pixelunshuffle", "PixelUnshuffle", "reshaping.PixelUnshuffle"),
    _one("add", "Add", "merging.Add"),
    _one("subtract", "Subtract", "merging.Subtract"),
    _one("multiply", "Multiply", "merging.Multiply"),
    _one("average", "Average", "merging.Average"),
    _one("maximum", "Maximum", "merging.Maximum"),
    _one("minimum", "Minimum", "merging.Minimum"),
    _one("concatenate", "Concatenate", "merging.Concatenate"),
    _one("rescaling", "Rescaling", "preprocessing.Rescaling"),
    _one("normalization", "Normalization", "preprocessing.Normalization"),
    _one("layerscale", "LayerScale", "applications.LayerScale"),
    _one("customscalelayer", "CustomScaleLayer", "applications.CustomScale"),
    _one("operation", "Operation", "core.Operation"),
    _one("model", "Model", "nested.NestedModel"),
    _one("convpoollayer", "ConvPoolLayer", "network3.ConvPool"),
    _one("fullyconnectedlayer", "FullyConnectedLayer", "network3.FullyConnected"),
    _one("softmaxlayer", "SoftmaxLayer", "network3.SoftmaxLayer"),
    _one("opaque", "Opaque", "opaque.Opaque"),
)

#: Short names (and PyTorch-flavoured ones) for the kinds above, by the kind they name.
_ALIAS_GROUPS: dict[str, tuple[str, ...]] = {
    "conv1d": ("convolution1d",),
    "conv2d": ("conv", "convolution2d"),
    "conv3d": ("convolution3d",),
    "conv1dtranspose": ("convtranspose1d",),
    "conv2dtranspose": ("deconv", "convtranspose", "convtranspose2d"),
    "conv3dtranspose": ("convtranspose3d",),
    "depthwiseconv2d": ("depthwise", "dwconv"),
    "separableconv2d": ("separable", "sepconv"),
    "maxpooling1d": ("maxpool1d",),
    "maxpooling2d": ("maxpool", "pool", "maxpool2d"),
    "maxpooling3d": ("maxpool3d",),
    "averagepooling1d": ("avgpool1d",),
    "averagepooling2d": ("avgpool", "avgpool2d"),
    "averagepooling3d": ("avgpool3d",),
    "globalaveragepooling2d": ("gap", "globalavgpool"),
    "globalmaxpooling2d": ("gmp", "globalmaxpool"),
    "zeropadding2d": ("zeropad", "pad"),
    "cropping2d": ("crop",),
    "upsampling2d": ("upsample", "up"),
    "batchnormalization": ("bn", "batchnorm", "batchnorm1d", "batchnorm2d", "batchnorm3d"),
    "layernormalization": ("ln", "layernorm"),
    "groupnormalization": ("gn", "groupnorm"),
    "instancenorm2d": ("instancenorm", "instancenormalization"),
    "dense": ("fc", "linear"),
    "reshape": ("view",),
    "convpoollayer": ("convpool",),
    "fullyconnectedlayer": ("fullyconnected",),
    "concatenate": ("concat", "cat"),
    "adaptiveavgpool2d": ("adaptiveavgpool",),
    "adaptivemaxpool2d": ("adaptivemaxpool",),
    "model": ("sequential", "functional"),
}
ALIASES: dict[str, str] = {alias: type_ for type_, aliases in _ALIAS_GROUPS.items() for alias in aliases}

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
    candidates = _BY_CLASS.get(cls)
    if candidates is None:
        candidates = _BY_CLASS[cls] = [
            k for k in KINDS if cls.__name__ == k.cls_name and cls.__module__ == f"{__name__}.{k.module}"
        ]
    for k in candidates:  # rank-generic classes (Conv) are told apart by their fixed arguments
        if all(getattr(layer, a) == v for a, v in k.fixed):
            return k
    raise TypeError(f"not a registered layer kind: {layer!r}")


#: class -> the kinds built from it (looked up once per class: kind_of runs for every layer).
_BY_CLASS: dict[builtins.type[Layer], list[Kind]] = {}


def known_names() -> list[str]:
    """Every kind name users may type (types and aliases)."""
    return sorted({*_BY_TYPE, *ALIASES, *ACTIVATION_KINDS})


def __getattr__(name: str) -> Any:
    """``cnncalc.layers.Conv``: a kind's class by its Python name, imported on first use."""
    for k in KINDS:
        if k.cls_name == name:
            return k.cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
