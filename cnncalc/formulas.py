"""Pure integer formulas for the length of one spatial axis through a window operation.

Nothing here imports anything heavier than the standard library; every function is pure.
``n`` is the input length, ``f`` the kernel (window) size, ``s`` the stride, ``d`` the dilation.
"""

from __future__ import annotations


def ceil_div(a: int, b: int) -> int:
    """Integer ceil(a / b) for b > 0, exact for any size (no float rounding)."""
    return -(-a // b)


def floor_div(m: int, by: int) -> int:
    """Integer floor(m / by) for by > 0 (a named function: size rules pass it around)."""
    return m // by


def effective_kernel(f: int, d: int = 1) -> int:
    """Dilated kernel extent: F_eff = d*(F - 1) + 1.

    Source: Keras ``Conv2D`` docs (``dilation_rate``) and the PyTorch ``Conv2d`` shape formula,
    where the term appears as ``dilation*(kernel_size - 1) + 1``.
    """
    return d * (f - 1) + 1


def keras_valid_length(n: int, f_eff: int, s: int) -> int:
    """Keras ``padding='valid'``: out = ceil((n - F_eff + 1) / S).

    Source: Keras ``ops/operation_utils.compute_conv_output_shape`` writes it as
    floor((n - F_eff) / S) + 1, which is the same integer for every n >= F_eff.
    The result is <= 0 when the kernel is longer than the input; callers reject that.
    """
    return ceil_div(n - f_eff + 1, s)


def keras_same_length(n: int, s: int) -> int:
    """Keras ``padding='same'``: out = ceil(n / S), whatever the kernel.

    Source: Keras ``compute_conv_output_shape`` (floor((n - 1) / S) + 1 == ceil(n / S)).
    """
    return ceil_div(n, s)


def same_padding(n: int, f_eff: int, s: int) -> tuple[int, int]:
    """Zero cells added (before, after) by TensorFlow/Keras ``'same'`` padding.

    total = max((ceil(n / S) - 1)*S + F_eff - n, 0); before = total // 2; after = total - before,
    so an odd total puts the extra cell at the bottom/right. Source: TensorFlow's
    "Padding" guide (tf.nn.convolution), which Keras follows; PyTorch's ``padding='same'``
    (stride 1 only) splits the same way.
    """
    total = max((ceil_div(n, s) - 1) * s + f_eff - n, 0)
    return total // 2, total - total // 2


def causal_padding(f_eff: int) -> tuple[int, int]:
    """Keras ``Conv1D(padding='causal')``: F_eff - 1 zeros on the left only, then valid."""
    return f_eff - 1, 0


def padded_length(n: int, f_eff: int, s: int, before: int, after: int, ceil_mode: bool = False) -> int:
    """Explicit zero padding (PyTorch rule): out = floor((n + P_before + P_after - F_eff) / S) + 1.

    With ``ceil_mode`` the floor becomes a ceil, and a last window that would start inside the
    right padding is dropped: if (out - 1)*S >= n + P_before then out -= 1.
    Source: PyTorch ``Conv2d``/``MaxPool2d`` docs and ``pooling_output_shape`` in
    ``aten/src/ATen/native/Pool.h``.
    """
    span = n + before + after - f_eff
    if not ceil_mode:
        return span // s + 1
    out = ceil_div(span, s) + 1
    if (out - 1) * s >= n + before:
        out -= 1
    return out


def keras_transposed_length(n: int, f_eff: int, s: int, same: bool, output_padding: int | None) -> int:
    """Keras ``Conv*Transpose`` length (``keras.src.utils.conv_utils.deconv_output_length``).

    Without output_padding: valid (n - 1)*S + max(F_eff, S); same n*S. With output_padding op:
    (n - 1)*S + F_eff - 2*pad + op, where pad = F_eff // 2 for same and 0 for valid.
    """
    if output_padding is None:
        return n * s if same else (n - 1) * s + max(f_eff, s)
    pad = f_eff // 2 if same else 0
    return (n - 1) * s + f_eff - 2 * pad + output_padding


def torch_transposed_length(
    n: int, f: int, s: int, d: int, before: int, after: int, output_padding: int
) -> int:
    """PyTorch ``ConvTranspose2d``: out = (n - 1)*S - 2*P + d*(F - 1) + output_padding + 1.

    With different padding before and after, 2*P becomes P_before + P_after.
    """
    return (n - 1) * s - before - after + d * (f - 1) + output_padding + 1


def slice_length(m: int, start: int, stop: int | None, step: int) -> int:
    """Python's slice length ``len(range(m)[start:stop:step])`` for step > 0, in its form for an
    axis at least as long as every bound (negative bounds count from the end, nothing clipped):
    ceil((last - first) / step), quasi-affine in ``m``."""
    first = start if start >= 0 else m + start
    last = m if stop is None else stop if stop >= 0 else m + stop
    return -((first - last) // step)
