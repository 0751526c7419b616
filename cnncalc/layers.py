"""Every layer kind, in one namespace: ``from cnncalc import layers as L; L.Conv``.

The kinds live in small modules (:mod:`cnncalc.base` for the shared machinery,
:mod:`cnncalc.conv`, :mod:`cnncalc.pooling`, :mod:`cnncalc.reshaping`, :mod:`cnncalc.basic`,
:mod:`cnncalc.network3`); this module re-exports them.
"""

from __future__ import annotations

from . import values as V
from .base import (
    AXIS_NAMES,
    UNTRACKED,
    Context,
    Layer,
    LayerOutput,
    ReceptiveField,
    Shape,
    Window,
    activation_ops,
    arg,
    join_channels,
    required,
    split_channels,
)
from .basic import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    LayerNorm,
    LeakyReLU,
    ReLU,
    Softmax,
    SpatialDropout,
)
from .conv import Conv, ConvTranspose, DepthwiseConv, SeparableConv, resolve_windows, transposed_axes
from .merging import Add, Average, Concatenate, Maximum, Merge, Minimum, Multiply, Subtract, merge_fields
from .network3 import ConvPool, FullyConnected, SoftmaxLayer
from .pooling import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AdaptivePool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    GlobalPool,
    MaxPool,
    Pool,
)
from .reshaping import Cropping, Permute, Reshape, UpSampling, ZeroPadding

__all__ = [
    "AdaptiveAvgPool", "AdaptiveMaxPool", "AdaptivePool",
    "Add", "Average", "Concatenate", "Maximum", "Merge", "Minimum", "Multiply", "Subtract", "merge_fields",
    "AXIS_NAMES", "UNTRACKED", "Activation", "AvgPool", "BatchNorm", "Context", "Conv", "ConvPool",
    "ConvTranspose", "Cropping", "Dense", "DepthwiseConv", "Dropout", "Flatten", "FullyConnected",
    "GlobalAvgPool", "GlobalMaxPool", "GlobalPool", "Layer", "LayerNorm", "LayerOutput", "LeakyReLU",
    "MaxPool", "Permute", "Pool", "ReLU", "ReceptiveField", "Reshape", "SeparableConv", "Shape", "Softmax",
    "SoftmaxLayer", "SpatialDropout", "UpSampling", "V", "Window", "ZeroPadding", "activation_ops", "arg",
    "join_channels", "required", "resolve_windows", "split_channels", "transposed_axes",
]  # fmt: skip
