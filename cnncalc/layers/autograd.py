"""What an op keeps for backward, in the words each kind's ``saved_for_backward`` uses.

A kind says which tensors its backward pass needs (its input, its output, or a tensor of its
own: a mask, indices, statistics) and whether its output is a new storage, a view of its input
or its input overwritten in place (:class:`Storage`). :mod:`cnncalc.memory` turns those words
into bytes: a storage saved by several ops counts once, a view counts the whole storage it
shares. The rules are PyTorch's autograd formulas (``tools/autograd/derivatives.yaml``: which
tensors each ``SavedVariable`` holds), measured with ``torch.autograd.graph.saved_tensors_hooks``.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

from ..enums import Convention, DataFormat, PaddingMode
from ..geometry import split_channels
from ..records import record


class Source(Enum):
    """Where a kept tensor comes from."""

    #: one of the op's inputs (``Keep.index``), as it reached the op (a view keeps its storage)
    INPUT = "input"
    #: the op's output (``result`` in derivatives.yaml)
    OUTPUT = "output"
    #: a tensor of the op's own, ``Keep.elements`` values: a mask, indices, statistics, a copy
    NEW = "new"
    #: the half-precision copy of the weight named ``Keep.weight`` that autocast makes (mixed
    #: precision only; without it the saved weight is the parameter itself, not counted)
    WEIGHT = "weight"


class Elem(Enum):
    """The element type of a kept tensor, relative to the run's dtype."""

    #: the activations' dtype (float32, or the half type under mixed precision)
    VALUE = "value"
    #: the accumulation type: float32 for half types, else the dtype (BatchNorm's save_mean)
    ACCUMULATE = "accumulate"
    #: 8 bytes (max-pooling's indices)
    INT64 = "int64"
    #: dropout's mask: bool (1 byte) on CUDA (``native_dropout``), the value's dtype on CPU
    #: (``_dropout_impl`` multiplies by a noise tensor ``empty_like(input)``)
    MASK = "mask"


class Storage(Enum):
    """How an op's output relates to its (first) input's memory."""

    #: a tensor of its own
    NEW = "new"
    #: a view: the same storage, no copy (identity at inference)
    VIEW = "view"
    #: a view that is no longer contiguous (``permute``, cropping, slicing an inner axis): the
    #: same storage
    STRIDED = "strided"
    #: ``reshape``/``flatten``: a view of a contiguous input, a copy of a strided one
    RESHAPE = "reshape"
    #: the input overwritten (``inplace=True``): the same storage
    INPLACE = "inplace"


@record(frozen=True)
class Keep:
    """One tensor an op keeps for backward.

    ``elements`` (NEW only) counts values per sample when ``batched``, else in all (per-channel
    statistics do not grow with the batch).
    """

    source: Source
    index: int = 0
    elements: int = 0
    batched: bool = True
    elem: Elem = Elem.VALUE
    weight: str = ""
    #: Keras on the torch backend permutes this weight into torch's layout first (a conv kernel
    #: HWIO -> OIHW): the permuted copy, not the parameter, is what the op keeps
    layout_copy: bool = False


def kept_input(index: int = 0) -> Keep:
    """The op's input ``index``."""
    return Keep(Source.INPUT, index)


KEEP_OUTPUT = Keep(Source.OUTPUT)


def permute_moves(sizes: tuple[int, ...], order: tuple[int, ...]) -> bool:
    """Whether ``permute(order).contiguous()`` copies: it does not when the axes longer than 1
    keep their relative order (torch ignores the strides of size-1 axes)."""
    kept = [axis for axis in range(len(sizes)) if sizes[axis] > 1]
    return [axis for axis in order if sizes[axis] > 1] != kept


def window_input(
    layer: Any, shape: tuple[int, ...], ctx: Any, window: tuple[int, ...] = (), dilation: tuple[int, ...] = ()
) -> Keep:
    """What a conv or pooling op keeps of its input: the input itself, except under Keras on the
    torch backend (keras/src/backend/torch/nn.py, measured with saved_tensors_hooks):

    - with ``padding='same'`` whose total pad is odd on some axis, Keras pads a copy
      (``_apply_same_padding``: ``tnn.pad``) and the op keeps that padded copy;
    - otherwise under channels_last, the layer makes a channels_first copy
      (``_transpose_spatial_inputs``: ``permute(...).contiguous()``) and the op keeps that.

    ``window`` (kernel or pool size) and ``dilation`` decide Keras's 'same' pad:
    ``_compute_padding_length``, total = k_eff - 1 at stride 1, else
    max(0, (ceil(n/s) - 1)*s + k_eff - n).
    """
    if ctx.convention is not Convention.KERAS:
        return kept_input()
    fmt = layer.layout(ctx)
    if window and layer.padding is PaddingMode.SAME:
        spatial, channels = split_channels(shape, fmt)
        padded, odd = [], False
        for n, k, s, d in zip(spatial, window, layer.strides, dilation or (1,) * len(window), strict=False):
            k_eff = (k - 1) * d + 1
            total = k_eff - 1 if s == 1 else max(0, (-(-n // s) - 1) * s + k_eff - n)
            odd = odd or total % 2 == 1
            padded.append(n + total)
        if odd:
            return Keep(Source.NEW, elements=math.prod(padded) * channels)
    if fmt is DataFormat.CHANNELS_LAST:
        return Keep(Source.NEW, elements=math.prod(shape))
    return kept_input()


#: Activations whose derivative is written with the result (derivatives.yaml: ``relu: result``,
#: ``sigmoid: sigmoid_backward(grad, result)``, ``tanh``, ``_softmax``, ``_log_softmax``, ``elu``
#: written with result only in place): they keep their output; in place that is their input's storage.
SAVES_RESULT = frozenset({"relu", "sigmoid", "tanh", "softmax", "log_softmax", "exponential"})
#: Activations whose in-place form is written with the result (``elu_``/``selu_``/``celu_``:
#: ``elu_backward(grad, ..., is_result=true, result)``, ``leaky_relu_: result``), though the
#: out-of-place one reads ``self``.
RESULT_IN_PLACE = frozenset({"elu", "selu", "celu", "leaky_relu"})
#: Activations that keep nothing (identity).
SAVES_NOTHING = frozenset({"linear"})


def activation_keeps(name: str, elements: int, inplace: bool = False) -> tuple[Keep, ...]:
    """What an activation keeps (``elements`` values per sample in and out).

    Out of place: the output for the result-written ones (relu, sigmoid, tanh, softmax), else
    the input (gelu, silu, hardswish, hardtanh/relu6, leaky_relu, elu, ...: their formulas read
    ``self``). In place, the input is overwritten, so an op whose formula reads ``self`` keeps a
    copy of it (autograd's ``original_self = self.clone()``, measured: a ``CloneBackward0``
    tensor), while relu's result is the shared storage itself (elu's too, in place).
    """
    if name in SAVES_NOTHING:
        return ()
    if name in SAVES_RESULT or (inplace and name in RESULT_IN_PLACE):
        return (KEEP_OUTPUT,)
    return (Keep(Source.NEW, elements=elements),) if inplace else (kept_input(),)


def fused_activation_keeps(name: str, elements: int) -> tuple[Keep, ...]:
    """What a Keras layer's ``activation=`` keeps: the activation runs on the layer's own
    pre-activation tensor (not otherwise kept), so an input-written activation keeps that as a
    tensor of its own, a result-written one keeps the layer's output."""
    if name in SAVES_NOTHING:
        return ()
    if name in SAVES_RESULT:
        return (KEEP_OUTPUT,)
    return (Keep(Source.NEW, elements=elements),)
