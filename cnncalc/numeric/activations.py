"""Elementwise activations as Keras defines them, in NumPy (what ``activation=`` runs in verify)."""

from __future__ import annotations

import numpy as np


def activate(x: np.ndarray, name: str) -> np.ndarray:
    """Elementwise activations as Keras defines them (softmax over the last axis)."""
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "relu6":
        return np.clip(x, 0, 6)
    if name == "leaky_relu":
        return np.where(x > 0, x, 0.2 * x)  # Keras's default negative_slope
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    if name == "selu":
        alpha, scale = 1.6732632423543772, 1.0507009873554805
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    if name == "gelu":  # Keras's default approximate=False: x * Phi(x)
        from math import erf

        return x * 0.5 * (1 + np.vectorize(erf, otypes=[x.dtype])(x / np.sqrt(2)))
    if name in ("silu", "swish"):
        return x * _sigmoid(x)
    if name == "mish":
        return x * np.tanh(np.logaddexp(0, x))
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "hard_sigmoid":  # Keras 3: relu6(x + 3) / 6
        return np.clip(x + 3, 0, 6) / 6
    if name == "tanh":
        return np.tanh(x)
    if name in ("softmax", "log_softmax"):
        return softmax(x, -1, log=name == "log_softmax")
    if name == "softplus":
        return np.logaddexp(0, x)
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "exponential":
        return np.exp(x)
    raise ValueError(f"no executor for activation {name!r}")


def softmax(x: np.ndarray, axis: int, log: bool = False) -> np.ndarray:
    """Softmax (or log-softmax) over ``axis`` of the batched tensor, shifted for stability."""
    shifted = x - x.max(axis=axis, keepdims=True)
    logs = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return logs if log else np.exp(logs)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))  # overflow-free logistic
