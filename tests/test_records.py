"""``cnncalc.records.record`` gives the class ``dataclasses.dataclass`` gives (its methods only
compiled when first called): every behaviour compared with a real dataclass of the same fields."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError, dataclass, field

import pytest

from cnncalc import records
from cnncalc.records import record


@pytest.fixture(params=["interpreted", "compiled"], autouse=True)
def init_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with records' interpreted __init__ and with dataclass's compiled one."""
    if request.param == "compiled":
        monkeypatch.setattr(records, "COMPILE_AFTER", 0)
    return str(request.param)


OPTIONS = [
    {"frozen": True},
    {"frozen": True, "eq": False},
    {"frozen": True, "slots": True},
    {"frozen": True, "eq": False, "slots": True},
    {"eq": False},
    {},
]


def classes(options: dict[str, bool]) -> tuple[type, type]:
    """The same class through dataclass and through record."""
    made = []
    for decorate in (dataclass, record):

        @decorate(**options)
        class Point:
            """A record with required, defaulted, factory and keyword-only fields."""

            x: int
            y: int = 2
            tags: list[str] = field(default_factory=list, hash=False)
            note: str = field(default="", compare=False, repr=False)
            z: int = field(default=0, kw_only=True)

        made.append(Point)
    return made[0], made[1]


@pytest.mark.parametrize("options", OPTIONS)
def test_a_record_behaves_as_the_dataclass(options: dict[str, bool], init_path: str) -> None:
    real, ours = classes(options)
    ours(0)  # (until it is compiled, __init__'s signature is a stand-in's: (*args, **kwargs))
    if init_path == "compiled":
        assert str(inspect.signature(ours)) == str(inspect.signature(real))
    assert [f.name for f in dataclasses.fields(ours)] == [f.name for f in dataclasses.fields(real)]
    assert ours.__match_args__ == real.__match_args__
    assert ours.__dataclass_params__.__repr__() == real.__dataclass_params__.__repr__()
    a, b = real(1, tags=["t"], note="n", z=3), ours(1, tags=["t"], note="n", z=3)
    assert repr(b) == repr(a).replace(".real", ".ours") or repr(b) == repr(a)
    assert dataclasses.asdict(b) == dataclasses.asdict(a)
    assert dataclasses.astuple(b) == dataclasses.astuple(a)
    assert ours(1).tags is not ours(1).tags  # the factory runs per instance
    with pytest.raises(TypeError):
        ours()  # x is required
    with pytest.raises(TypeError):
        ours(1, 2, [], "", 4)  # z is keyword-only
    eq = options.get("eq", True)
    assert (ours(1, note="a") == ours(1, note="b")) is eq  # note is not compared
    assert (ours(1) == ours(2)) is False
    assert (ours(1) == real(1)) is False
    hashable = real.__hash__ is not None
    assert (ours.__hash__ is not None) is hashable
    if hashable and eq:
        assert hash(ours(1, 5, z=7)) == hash(ours(1, 5, z=7))
        assert hash(ours(1, 5, z=7)) == hash(real(1, 5, z=7))  # the same fields hashed
    if options.get("frozen"):
        with pytest.raises(FrozenInstanceError):
            b.x = 5  # type: ignore[misc]
        with pytest.raises(FrozenInstanceError):
            del b.x  # type: ignore[misc]
    else:
        b.x = 5
        assert b.x == 5
    changed = dataclasses.replace(ours(1, z=2), y=9)
    assert (changed.x, changed.y, changed.z) == (1, 9, 2)
    assert ("__slots__" in ours.__dict__) is bool(options.get("slots"))
    if options.get("slots"):
        with pytest.raises((AttributeError, TypeError)):
            b.other = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("options", OPTIONS)
def test_records_copy_and_pickle(options: dict[str, bool]) -> None:
    global Pickled  # pickle finds a class by its module and name

    @record(**options)
    class Pickled:
        """Picklable."""

        a: int
        b: tuple[int, ...] = ()

    value = Pickled(1, (2, 3))
    for again in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert (again.a, again.b) == (1, (2, 3))


def test_a_class_keeps_its_own_methods_and_post_init() -> None:
    @record(frozen=True)
    class Own:
        """Own repr, equality by a key, a post-init check."""

        a: int
        b: int = 0

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

        def __repr__(self) -> str:
            return "own"

    assert repr(Own(1)) == "own"
    assert Own(1, 2) == Own(1, 2) and hash(Own(1, 2)) == hash(Own(1, 2))
    with pytest.raises(ValueError, match="negative"):
        Own(-1)


def test_subclasses_get_their_own_methods() -> None:
    @record(frozen=True)
    class Base:
        """A base record."""

        a: int

    @record(frozen=True)
    class Child(Base):
        """Adds a field."""

        b: int = 1

    assert Child(1, 2) != Base(1)
    assert repr(Child(1, 2)) == "test_subclasses_get_their_own_methods.<locals>.Child(a=1, b=2)"
    assert repr(Base(3)) == "test_subclasses_get_their_own_methods.<locals>.Base(a=3)"
    assert dataclasses.replace(Child(1, 2), a=5) == Child(5, 2)

    @dataclass(frozen=True)  # a real dataclass may extend a frozen record
    class Real(Base):
        """A dataclass child."""

        c: int = 0

    assert Real(1, 2) == Real(1, 2) and Real(1, 2).a == 1


def test_frozenness_is_inherited_as_dataclass_requires() -> None:
    @record(frozen=True)
    class Frozen:
        """Frozen."""

        a: int

    @record
    class Thawed:
        """Not frozen."""

        a: int

    with pytest.raises(TypeError, match="non-frozen dataclass from a frozen"):

        @record
        class Bad(Frozen):
            """Not frozen, from a frozen base."""

    with pytest.raises(TypeError, match="frozen dataclass from a non-frozen"):

        @record(frozen=True)
        class Worse(Thawed):
            """Frozen, from a non-frozen base."""


@pytest.mark.parametrize("options", OPTIONS)
def test_wrong_arguments_are_type_errors(options: dict[str, bool]) -> None:
    real, ours = classes(options)
    for args, kwargs in [
        ((), {}),  # x missing
        ((1, 2, [], "", 5), {}),  # z is keyword-only
        ((1,), {"x": 2}),  # x twice
        ((1,), {"w": 2}),  # no field w
        ((), {"y": 2}),  # x missing
    ]:
        with pytest.raises(TypeError):
            real(*args, **kwargs)
        with pytest.raises(TypeError):
            ours(*args, **kwargs)


@pytest.mark.parametrize("slots", [False, True])
def test_init_false_fields_and_the_switch_to_the_compiled_init(slots: bool) -> None:
    made = []
    for decorate in (dataclass, record):

        @decorate(frozen=True, slots=slots)
        class Counted:
            """An init=False field with a default, one with a factory."""

            a: int
            b: int = field(default=5, init=False)
            c: list[int] = field(default_factory=lambda: [1], init=False)

        made.append([Counted(i) for i in range(records.COMPILE_AFTER + 3)])  # both __init__s run
        with pytest.raises(TypeError):
            Counted(1, 2)  # b is not an argument
    real, ours = made
    assert [(m.a, m.b, m.c, getattr(m, "__dict__", None)) for m in ours] == [
        (m.a, m.b, m.c, getattr(m, "__dict__", None)) for m in real
    ]
