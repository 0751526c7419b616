"""Every layer kind, in one namespace: ``from cnncalc import layers as L; L.Conv``.

The kinds live in small modules (:mod:`cnncalc.base` for the shared machinery,
:mod:`cnncalc.conv`, :mod:`cnncalc.pooling`, :mod:`cnncalc.basic`); this module re-exports them.
"""

from __future__ import annotations

from . import values as V
from .base import (
    AXIS_NAMES,
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
from .basic import Activation, BatchNorm, Dense, Dropout, Flatten
from .conv import Conv, resolve_windows
from .pooling import AvgPool, MaxPool, Pool

__all__ = [
    "AXIS_NAMES",
    "Activation",
    "AvgPool",
    "BatchNorm",
    "Context",
    "Conv",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "LayerOutput",
    "MaxPool",
    "Pool",
    "ReceptiveField",
    "Shape",
    "V",
    "Window",
    "activation_ops",
    "arg",
    "join_channels",
    "required",
    "resolve_windows",
    "split_channels",
]
