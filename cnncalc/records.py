"""``record``: ``dataclasses.dataclass`` whose generated methods are compiled when first used.

``dataclass(frozen=True)`` writes ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` as source text and compiles each one when the class is
defined: about 0.3 ms a class, a fifth of ``cnncalc summary``'s own start-up for the two dozen
records it loads, most of whose methods a run never calls, and most of which it makes once.
``record`` takes the same arguments (``frozen``, ``eq``, ``slots``) and gives the same class: the
same fields (``dataclasses.fields``, ``replace`` and ``asdict`` work), arguments, defaults and
factories, ``__post_init__``, repr, equality, hash and frozenness (``FrozenInstanceError``), and
the same ``__dataclass_params__``. Only nothing is compiled up front: ``__init__`` assigns the
fields interpreted for the first :data:`COMPILE_AFTER` objects, then dataclass's own compiled one
takes its place (a record made once per layer runs at dataclass speed); ``__repr__``, ``__eq__``
and ``__hash__`` are compiled by ``dataclasses`` itself on their first call; assigning to a
frozen record raises without a compiled method at all. What differs: ``inspect.signature`` of a
record before it is compiled is the stand-in's ``(*args, **kwargs)``, and the wording of a
TypeError for wrong arguments. tests/test_records.py compares records with dataclasses.

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
        make = _interpreted_init if name == "__init__" else _compiled_on_first_call
        setattr(cls, name, make(cls, name, frozen))
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


#: Objects made with the interpreted __init__ before dataclass's is compiled (compiling costs
#: about as much as making a few dozen: records made once or twice a run are never compiled).
COMPILE_AFTER = 32


def _interpreted_init(owner: Any, name: str, frozen: bool) -> Any:
    """``__init__`` that assigns the fields as dataclass's does (same binding of arguments, the
    same errors, defaults and factories, ``__post_init__``) without compiling anything, until
    :data:`COMPILE_AFTER` objects are made: then dataclass's own takes its place."""
    every = dataclasses.fields(owner)
    given = [f for f in every if f.init]
    positional = [f.name for f in given if not f.kw_only]
    names = frozenset(f.name for f in given)
    post_init = hasattr(owner, "__post_init__")
    assign = object.__setattr__ if frozen else setattr
    slotted = "__slots__" in owner.__dict__
    pseudo = [f for f in owner.__dataclass_fields__.values() if f not in every]  # ClassVar, InitVar
    if any("InitVar" in str(f.type) for f in pseudo):
        return _compiled_on_first_call(owner, name, frozen)  # arguments for __post_init__: dataclass's
    made = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made > COMPILE_AFTER:
            method = getattr(_generated(owner, frozen, _FOR[name]), name)
            setattr(owner, name, method)
            method(self, *args, **kwargs)
            return
        where = f"{owner.__qualname__}.__init__()"
        if len(args) > len(positional):
            raise TypeError(
                f"{where} takes {len(positional) + 1} positional arguments but {len(args) + 1} were given"
            )
        values = dict(zip(positional, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{where} got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{where} got multiple values for argument {key!r}")
            values[key] = value
        missing = [
            f.name
            for f in given
            if f.name not in values
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{where} missing {len(missing)} required argument{plural}: {', '.join(map(repr, missing))}"
            )
        for f in every:
            if f.name in values:
                value = values[f.name]
            elif f.default is not dataclasses.MISSING:
                if not f.init and not slotted:
                    continue  # read from the class attribute, as with dataclass's __init__
                value = f.default
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            else:
                continue  # init=False without a default: dataclass leaves it unset too
            assign(self, f.name, value)
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{owner.__qualname__}.__init__"
    return __init__


def _generated(owner: type, frozen: bool, flags: dict[str, bool]) -> type:
    """A dataclass with ``owner``'s fields, compiled by ``dataclasses``: its methods are the ones
    ``dataclass`` would have given ``owner`` (they name no class: ``self.__class__`` at most)."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": owner.__module__}
    namespace["__qualname__"] = owner.__qualname__
    namespace["__doc__"] = "generated"  # (without one, dataclass writes one: inspect.signature, slow)
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
    slots = "__slots__" in owner.__dict__  # (a slotted __init__ also assigns init=False defaults)
    return dataclasses.dataclass(frozen=frozen, slots=slots, **flags)(type(owner.__name__, (), namespace))
