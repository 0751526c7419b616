"""Activations as Keras 3 defines them (``keras.src.backend.numpy.nn``), in NumPy: what
``activation=`` runs in verify. Every name in :data:`cnncalc.layers.args.ACTIVATIONS` has one."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))  # overflow-free logistic


def _gelu(x: np.ndarray) -> np.ndarray:  # Keras's default approximate=False: x * Phi(x)
    from math import erf

    return x * 0.5 * (1 + np.vectorize(erf, otypes=[x.dtype])(x / np.sqrt(2)))


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:  # Keras 3: relu6(x + 3) / 6
    return np.clip(x + 3, 0, 6) / 6


def _glu(x: np.ndarray) -> np.ndarray:
    """Gated linear unit over the last axis: first half * sigmoid(second half)."""
    a, b = np.split(x, 2, axis=-1)
    return a * _sigmoid(b)


def _sparsemax(x: np.ndarray) -> np.ndarray:
    """Sparsemax over the last axis (Martins & Astudillo 2016): the Euclidean projection onto the
    simplex, max(x - tau, 0) with tau chosen so the outputs sum to 1."""
    z = np.sort(x, axis=-1)[..., ::-1]
    k = np.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    cumulative = np.cumsum(z, axis=-1)
    support = (1 + k * z > cumulative).sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0)


def softmax(x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
    """Softmax (or log-softmax) over ``axis`` of the batched tensor, shifted for stability."""
    shifted = x - x.max(axis=axis, keepdims=True)
    logs = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return logs if log else np.exp(logs)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

ACTIVATE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),  # Keras's default negative_slope
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "celu": lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)),  # alpha = 1
    "gelu": _gelu,
    "glu": _glu,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "hard_swish": lambda x: x * _hard_sigmoid(x),
    "erf": lambda x: np.vectorize(math.erf, otypes=[x.dtype])(x),  # ONNX Erf (a decomposed GELU)
    "mish": lambda x: x * np.tanh(np.logaddexp(0, x)),
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "sparse_sigmoid": lambda x: np.clip(0.5 * (x + 1), 0, 1),
    "log_sigmoid": lambda x: -np.logaddexp(0, -x),
    "tanh": np.tanh,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "softmax": lambda x: softmax(x, -1),
    "log_softmax": lambda x: softmax(x, -1, log=True),
    "sparsemax": _sparsemax,
    "softplus": lambda x: np.logaddexp(0, x),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x < 1, 0.25 * (x + 1) ** 2, x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,  # b = 4
    "exponential": np.exp,
}


def activate(x: np.ndarray, name: str) -> np.ndarray:
    """Elementwise activations as Keras defines them (softmax, sparsemax and glu over the last axis)."""
    if name == "linear":  # the common case: the tensor as it is
        return x
    run = ACTIVATE.get(name)
    if run is None:
        raise ValueError(f"no executor for activation {name!r}")
    return np.asarray(run(x)).astype(x.dtype, copy=False)
