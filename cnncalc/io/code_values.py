"""What the model-code readers know about a name while they walk the code: a layer constructed,
a tensor (a model input or a layer applied), a model, or a value that cannot be known.

Shared by :mod:`cnncalc.io.python_source` (Keras, network3) and :mod:`cnncalc.io.torch_source`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from ..errors import CnncalcError, SpecError
from .spec import LayerSpec


class NotFollowed(SpecError):
    """Code the reader cannot follow without running it (loops, conditionals, custom functions)."""


@dataclass(eq=False)
class LayerObj:
    """A layer constructed in the code: its class as written, its arguments, where it is."""

    cls: str
    call: ast.Call | None
    line: int
    applied: int = 0
    #: a PyTorch class (``nn.Conv2d``): PyTorch's argument order and names
    torch: bool = False
    #: how messages show it when the call was not written as such (``F.relu(x)`` for its Activation)
    text: str | None = None
    #: the layer as built where the code constructs it (its names hold their values there), or why not
    built: tuple[LayerSpec, tuple[int, ...] | None] | CnncalcError | None = None
    #: the argument values the code passed (positional, keyword)
    values: tuple[list[Any], dict[str, Any]] | None = None
    #: builds ``built`` when it is first needed (a file may make many layers it never uses)
    builder: Any = None

    def spec(self) -> tuple[LayerSpec, tuple[int, ...] | None]:
        """The layer as built, or its error raised."""
        if self.built is None and self.builder is not None:
            try:
                self.built = self.builder(self)
            except CnncalcError as err:
                self.built = err
        if isinstance(self.built, CnncalcError):
            raise self.built
        if self.built is None:  # pragma: no cover - every LayerObj has a builder or is built
            raise SpecError(f"line {self.line}: {self.cls} was not read")
        return self.built


@dataclass(eq=False)
class Node:
    """A tensor of a functional model: a model input, or a layer applied to tensors."""

    ident: int
    line: int
    #: a model input (``Input(...)``); its shape is None when the code leaves a size free
    is_input: bool = False
    input_name: str | None = None
    input_shape: tuple[int, ...] | None = None
    layer: LayerObj | None = None
    sources: tuple[Node, ...] = ()
    #: a PyTorch tensor (NCHW, PyTorch's rules) rather than a Keras one
    torch: bool = False


@dataclass(eq=False)
class SequentialModel:
    line: int
    layers: list[LayerObj] = field(default_factory=list)
    name: str | None = None
    built_shape: tuple[int, ...] | None = None


@dataclass(eq=False)
class FunctionalModel:
    line: int
    inputs: tuple[Node, ...]
    outputs: tuple[Node, ...]
    name: str | None = None


@dataclass(eq=False)
class Network3Model:
    line: int
    layers: list[LayerObj]


@dataclass(eq=False)
class TorchSequential:
    """``nn.Sequential(...)``: named children (``"0"``, ``"1"``, or an OrderedDict's keys)."""

    line: int
    children: list[tuple[str, Any]]


@dataclass(eq=False)
class TorchModule:
    """An ``nn.Module`` subclass of the file, instantiated (``call``) or as defined (defaults)."""

    line: int
    definition: ast.ClassDef
    call: ast.Call | None = None
    #: the file's constants where the class is defined or instantiated
    constants: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class TorchTensor:
    """``torch.randn(1, 3, 32, 32)``: a tensor whose sizes (batch first) may be the input shape."""

    line: int
    sizes: tuple[int, ...]


Model = SequentialModel | FunctionalModel | Network3Model | TorchSequential | TorchModule
MODELS = (SequentialModel, FunctionalModel, Network3Model, TorchSequential, TorchModule)


@dataclass(frozen=True)
class Unknown:
    """A value the reader could not know, and why (reported only if the model uses it)."""

    line: int
    why: str


@dataclass(frozen=True)
class Found:
    """One model in the file: what the code calls it and where."""

    name: str
    line: int
    model: Model
