"""``record``: ``dataclasses.dataclass`` whose generated methods are compiled when first used.

``dataclass(frozen=True)`` writes ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` as source text and compiles each one when the class is
defined: about 0.3 ms a class, a fifth of ``cnncalc summary``'s own start-up for the two dozen
records it loads, most of whose methods a run never calls. ``record`` takes the same arguments
(``frozen``, ``eq``, ``slots``) and gives the same class: the same fields (``dataclasses.fields``,
``replace`` and ``asdict`` work), the same ``__init__`` signature, repr, equality, hash and
frozenness (``FrozenInstanceError``), and the same ``__dataclass_params__``; but each generated
method is compiled by ``dataclasses`` itself on its first call (then it is the very function
``dataclass`` would have made, at the same speed), and assigning to a frozen record raises
without a compiled method at all (only ``inspect.signature`` of a record not yet made tells:
it is the stand-in's). tests/test_records.py compares records with dataclasses.

Type checkers see ``dataclasses.dataclass`` itself (and so check frozenness and signatures).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:

    def record(
        cls: type | None = None, /, *, frozen: bool = False, eq: bool = True, slots: bool = False
    ) -> Any:
        """``dataclass(cls, frozen=frozen, eq=eq, slots=slots)``, its methods compiled on first use."""

        def wrap(cls: type) -> type:
            return _record(cls, frozen, eq, slots)

        return wrap if cls is None else wrap(cls)


def _frozen_setattr(self: object, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: object) -> list[Any]:
    """A frozen slotted record's state for pickle and copy (as ``dataclass`` gives it)."""
    return [getattr(self, f.name) for f in dataclasses.fields(self)]  # type: ignore[arg-type]


def _setstate(self: object, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):  # type: ignore[arg-type]
        object.__setattr__(self, f.name, value)


def _record(cls: Any, frozen: bool, eq: bool, slots: bool) -> Any:
    # Fields only: with every method turned off, dataclass compiles nothing.
    class_hash = cls.__dict__.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (
        class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in cls.__dict__)
    )
    # (dataclass refuses a non-frozen child of a frozen base: the bases say "not frozen" meanwhile)
    frozen_bases = [
        base.__dict__["__dataclass_params__"]
        for base in cls.__mro__[1:]
        if "__dataclass_params__" in base.__dict__ and base.__dict__["__dataclass_params__"].frozen
    ]
    bases = [base for base in cls.__mro__[1:] if "__dataclass_params__" in base.__dict__]
    if frozen_bases and not frozen:
        raise TypeError("cannot inherit non-frozen dataclass from a frozen one")
    if frozen and len(frozen_bases) < len(bases):
        raise TypeError("cannot inherit frozen dataclass from a non-frozen one")
    for base_params in frozen_bases:
        base_params.frozen = False
    try:
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
    finally:
        for base_params in frozen_bases:
            base_params.frozen = True
    params = cls.__dataclass_params__  # fresh per class: said as dataclass would say it
    params.init = params.repr = True
    params.eq = eq
    params.frozen = frozen
    wanted = ("__init__", "__repr__", "__eq__") if eq else ("__init__", "__repr__")
    lazy = [name for name in wanted if name not in cls.__dict__]  # a class's own method stays
    if eq and not explicit_hash:  # dataclass's rule: eq and frozen hash the fields, eq alone unhashable
        if frozen:
            lazy.append("__hash__")
        else:
            cls.__hash__ = None
    for name in lazy:
        setattr(cls, name, _compiled_on_first_call(cls, name, frozen))
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
        if slots:
            cls.__getstate__ = _getstate
            cls.__setstate__ = _setstate
    return cls


#: The arguments of the dataclass that compiles each method: only what that method needs (a
#: frozen __init__ assigns with object.__setattr__, as the record's frozen __setattr__ requires).
_FOR = {
    "__init__": {"repr": False, "eq": False},
    "__repr__": {"init": False, "eq": False},
    "__eq__": {"init": False, "repr": False},
    "__hash__": {"init": False, "repr": False, "unsafe_hash": True},
}


def _compiled_on_first_call(owner: type, name: str, frozen: bool) -> Any:
    """A stand-in for the method ``name`` that, called, puts dataclass's own in its place."""

    def first_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        method = getattr(_generated(owner, frozen and name == "__init__", _FOR[name]), name)
        setattr(owner, name, method)
        return method(self, *args, **kwargs)

    first_call.__name__ = name
    first_call.__qualname__ = f"{owner.__qualname__}.{name}"
    return first_call


def _generated(owner: type, frozen: bool, flags: dict[str, bool]) -> type:
    """A dataclass with ``owner``'s fields, compiled by ``dataclasses``: its methods are the ones
    ``dataclass`` would have given ``owner`` (they name no class: ``self.__class__`` at most)."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": owner.__module__}
    namespace["__qualname__"] = owner.__qualname__
    for f in dataclasses.fields(owner):
        annotations[f.name] = f.type
        namespace[f.name] = dataclasses.field(  # a copy: a Field belongs to one class
            default=f.default,
            default_factory=f.default_factory,
            init=f.init,
            repr=f.repr,
            hash=f.hash,
            compare=f.compare,
            metadata=f.metadata,
            kw_only=f.kw_only,
        )
    if hasattr(owner, "__post_init__"):
        namespace["__post_init__"] = owner.__post_init__  # the generated __init__ calls self's
    return dataclasses.dataclass(frozen=frozen, **flags)(type(owner.__name__, (), namespace))
