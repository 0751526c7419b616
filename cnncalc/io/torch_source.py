"""PyTorch's module classes as cnncalc kinds, for the model-code reader
(:mod:`cnncalc.io.frameworks`): which ``nn.X`` classes are read, how the ones the PyTorch names table
(:mod:`cnncalc.layers.torch_names`) does not spell become kinds (``nn.ReLU6`` is ReLU(max_value=6),
``nn.ZeroPad2d`` ZeroPadding2D, ``nn.Upsample`` UpSampling2D, ``nn.LayerNorm`` LayerNormalization),
and the spec of a PyTorch model (NCHW, the pytorch convention).
"""

from __future__ import annotations

from typing import Any

from ..enums import Convention, DataFormat
from ..errors import SpecError
from ..layers.faces import TORCH_INPLACE, TorchCode, rank_of, torch_module_kind, torch_negative_pad_kind
from .spec import LayerSpec, Spec

#: Tensor factories whose sizes give the input shape (``torch.randn(1, 3, 32, 32)``).
INPUT_FACTORIES = frozenset({"randn", "rand", "zeros", "ones", "empty"})


def known_layer(name: str) -> bool:
    """A PyTorch module class cnncalc reads: one a kind's PyTorch face names
    (:func:`~cnncalc.layers.faces.torch_modules`, exact case)."""
    from ..layers.faces import torch_modules

    return name in torch_modules()


def kind_name(cls: str) -> str:
    """The name a PyTorch module is built under: its own when the registry spells it (``Conv2d``,
    or a kind :func:`torch_module` translated it to), else the class name of the kind its PyTorch
    face says (``Dropout2d`` -> ``SpatialDropout2D``)."""
    from ..layers.faces import kind_for_torch_module
    from .spec import resolve_kind

    try:
        resolve_kind(cls)
    except SpecError:
        kind = kind_for_torch_module(cls)
        return kind.class_name if kind is not None else cls
    return cls


#: PyTorch activation modules whose ``inplace=True`` cnncalc keeps (the memory model shares the
#: input's storage; ``cnncalc memory``): the faces' list.
INPLACE_CLASSES = TORCH_INPLACE


def torch_keywords(cls: str, keywords: dict[str, Any]) -> dict[str, Any]:
    """PyTorch keywords that have no cnncalc meaning dropped or renamed (``inplace`` where no
    kind keeps it, ``inplace=False``; a softmax's ``dim`` is its ``axis``)."""
    if cls not in INPLACE_CLASSES or keywords.get("inplace") is not True:
        keywords.pop("inplace", None)
    if _code(cls) is TorchCode.SOFTMAX and "dim" in keywords:
        keywords["axis"] = keywords.pop("dim")
    return keywords


def _code(cls: str) -> TorchCode | None:
    """The writer code of the kind's PyTorch face a module is (how its arguments read), or None."""
    found = torch_module_kind(cls)
    return found[1] if found is not None else None


def torch_module(
    cls: str, positional: list[Any], keywords: dict[str, Any]
) -> tuple[str, list[Any], dict[str, Any]]:
    """:func:`_torch_module`, with an ``inplace=True`` kept on the kind it becomes."""
    inplace = keywords.pop("inplace", None)
    kind, positional, keywords = _torch_module(cls, positional, keywords)
    return kind, positional, ({**keywords, "inplace": True} if inplace is True else keywords)


def _torch_module(
    cls: str, positional: list[Any], keywords: dict[str, Any]
) -> tuple[str, list[Any], dict[str, Any]]:
    """A PyTorch module spelled as the cnncalc kind it is. Which kind, and what its name alone
    implies, the kind's PyTorch face says (:func:`~cnncalc.layers.faces.torch_module_kind`:
    ``nn.ReLU6()`` is ReLU(max_value=6) as torchvision's zoo rows are, ``nn.Hardswish()`` the
    activation hard_swish); PyTorch's arguments read here by the face's writer code:
    ``nn.ZeroPad2d((l, r, t, b))`` (PyTorch lists the last axis first), ``nn.Upsample(scale_factor=2)``,
    ``nn.LayerNorm(C, eps=...)`` a LayerNormalization over the last axis."""
    found = torch_module_kind(cls)
    if found is None:
        return cls, positional, keywords
    kind, code, implied = found
    if code is TorchCode.ZERO_PAD:
        rank = rank_of(kind)
        values = [*positional, *([keywords.pop("padding")] if "padding" in keywords else [])]
        if len(values) != 1 or keywords:
            raise SpecError(f"{cls} takes one argument, padding")
        padding = values[0]
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = [padding] * (2 * rank)
        if not isinstance(padding, (list, tuple)) or len(padding) != 2 * rank:
            raise SpecError(f"{cls} padding is one number or {2 * rank} numbers (last axis first)")
        pairs = [list(padding[i : i + 2]) for i in range(0, 2 * rank, 2)][::-1]
        numbers = [v for v in padding if isinstance(v, int) and not isinstance(v, bool)]
        if len(numbers) == len(padding) and any(v < 0 for v in numbers):
            # PyTorch's negative padding crops (export writes one after a transposed conv)
            if any(v > 0 for v in numbers):
                raise SpecError(
                    f"{cls} padding {tuple(padding)} both pads and crops; cnncalc reads one or the other "
                    "(write two ZeroPad modules)"
                )
            return torch_negative_pad_kind(rank).class_name, [[[-b, -a] for b, a in pairs]], {}
        return kind.class_name, [pairs], {}
    if code is TorchCode.UPSAMPLE:
        if implied:  # nn.UpsamplingNearest2d: its mode is its name
            if keywords.get("size") is not None or keywords.get("scale_factor") is None:
                raise SpecError(f"nn.{cls} is read with scale_factor= only")
            keywords.pop("size", None)
        allowed = {"scale_factor", "mode"}
        if positional or set(keywords) - allowed or "scale_factor" not in keywords:
            raise SpecError("nn.Upsample is read with scale_factor= (and mode=) only")
        mode = keywords.get("mode", implied.get("interpolation", "nearest"))
        return kind.class_name, [keywords["scale_factor"]], {"interpolation": mode}
    if code is TorchCode.LAYER_NORM:
        given = dict(zip(("normalized_shape", "eps", "elementwise_affine", "bias"), positional, strict=False))
        given.update(keywords)
        shape = given.pop("normalized_shape", None)
        dims = len(shape) if isinstance(shape, (list, tuple)) else 1
        out: dict[str, Any] = {"axis": list(range(-dims, 0)) if dims > 1 else -1}
        if "eps" in given:
            out["epsilon"] = given.pop("eps")
        affine = given.pop("elementwise_affine", True)
        out["center"] = bool(affine) and bool(given.pop("bias", True))
        out["scale"] = bool(affine)
        if given:
            raise SpecError(f"nn.{cls}: {', '.join(given)} not read")
        return kind.class_name, [], out
    if implied and not positional and not keywords:
        return kind.class_name, [], implied
    return cls, positional, keywords


def torch_spec(
    layers: tuple[LayerSpec, ...], shape: tuple[int, ...] | None, name: str, inputs: Any = ()
) -> Spec:
    """A spec under PyTorch's rules: NCHW, the pytorch convention."""
    if not layers:
        raise SpecError("the model has no layers")
    return Spec(
        layers=layers,
        input_shape=shape,
        inputs=inputs,
        data_format=DataFormat.CHANNELS_FIRST,
        convention=Convention.PYTORCH,
        name=name,
    )
