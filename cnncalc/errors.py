"""The one exception family of cnncalc, in the library's own words.

Every user mistake raises a subclass of :class:`CnncalcError`; each class carries its exit code
(:attr:`CnncalcError.exit_code`: 2 for bad input, 1 for :class:`Failed`, a difference found), so
the CLI's one handler prints the one-line message (and a ``Hint:`` line when the error carries a
hint) and exits with the class's code (Click's own pattern). Library code never calls
``sys.exit`` and never names a command-line flag: a message that tells the user
to change a setting names it as an :class:`Option` (``convention='keras'``), which the CLI shows
as its flag (``--convention keras``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from .records import record


@record(frozen=True)
class Option:
    """A library setting named inside a message: ``Option("convention", "keras")``.

    The library shows it as ``convention='keras'``; a front end passes its own spelling to
    :meth:`CnncalcError.render` (the CLI's is ``--convention keras``).
    """

    name: str
    value: object = None

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value!r}"


Part = str | Option


def _text(parts: tuple[Part, ...], spell: Callable[[Option], str] = str) -> str:
    text = "".join(part if isinstance(part, str) else spell(part) for part in parts)
    return " ".join(text.split())  # one line, whatever the source text held


class CnncalcError(Exception):
    """Base class: bad input that the user can fix. ``str(err)`` is the one-line message.

    ``parts`` are the reason's text and :class:`Option` references; ``layer`` names where it
    happened (``layer 2 (conv:8,5)``); ``hint`` is what to change, when it can be computed.
    """

    #: the process exit code a front end ends with (2: bad input the user can fix)
    exit_code: ClassVar[int] = 2

    def __init__(
        self, *parts: Part, layer: str | None = None, hint: tuple[Part, ...] | str | None = None
    ) -> None:
        self.parts = parts
        self.layer = layer
        self.hint: tuple[Part, ...] | None = (hint,) if isinstance(hint, str) else hint
        self.reason = _text(parts)
        super().__init__(f"{layer}: {self.reason}" if layer else self.reason)

    def render(self, spell: Callable[[Option], str] = str) -> str:
        """The one-line message with options spelled by ``spell`` (the CLI passes its flags)."""
        reason = _text(self.parts, spell)
        return f"{self.layer}: {reason}" if self.layer else reason

    def render_hint(self, spell: Callable[[Option], str] = str) -> str | None:
        """The hint as one line, or None."""
        return None if self.hint is None else _text(self.hint, spell)

    def at(self, layer: str) -> CnncalcError:
        """The same error, now naming the layer it happened in (first naming wins)."""
        if self.layer is not None:
            return self
        return type(self)(*self.parts, layer=layer, hint=self.hint)

    def with_hint(self, hint: tuple[Part, ...] | str) -> CnncalcError:
        """The same error carrying ``hint``."""
        return type(self)(*self.parts, layer=self.layer, hint=hint)

    def prefixed(self, prefix: str) -> CnncalcError:
        """The same error with ``prefix`` before everything (e.g. the file it came from)."""
        parts: tuple[Part, ...] = (f"{self.layer}: ", *self.parts) if self.layer else self.parts
        return type(self)(prefix, *parts, hint=self.hint)


class SpecError(CnncalcError, ValueError):
    """A spec that cannot be read: malformed text or JSON, unknown kind or key, bad value."""


class ShapeError(CnncalcError):
    """A well-formed spec whose shapes are impossible (kernel larger than input, ...)."""


class UnknownSizes(ShapeError):
    """Something that needs every size (a command such as ``verify``, a figure such as a layer's
    input shape) meets a model whose input leaves sizes unknown (``None``, as Keras allows)."""

    @classmethod
    def of(cls, what: str, dims: tuple[int | None, ...]) -> UnknownSizes:
        """The one-line error: what needs the sizes, the sizes, and the option that gives them."""
        shown = " x ".join("None" if n is None else str(n) for n in dims)
        example = "x".join("224" if n is None else str(n) for n in dims)
        return cls(
            f"{what} needs every size known, and the input is {shown} (None sizes are only known when "
            "the model is called): give them with ",
            Option("input_shape"),
            hint=("give the input's sizes, e.g. ", Option("input_shape", example)),
        )


class MismatchError(ShapeError):
    """A redundant argument (network3's ``n_in``, PyTorch's ``in_features``) that disagrees with the
    incoming shape: ``argument`` and the ``value`` it must be, so a caller may continue with it."""

    def __init__(
        self,
        *parts: Part,
        argument: str,
        value: object,
        layer: str | None = None,
        hint: tuple[Part, ...] | str | None = None,
    ) -> None:
        self.argument = argument
        self.value = value
        default = ("", Option("fix"), " continues with the real value, to see the whole table")
        super().__init__(*parts, layer=layer, hint=default if hint is None else hint)

    def at(self, layer: str) -> CnncalcError:
        if self.layer is not None:
            return self
        return MismatchError(
            *self.parts, argument=self.argument, value=self.value, layer=layer, hint=self.hint
        )

    def with_hint(self, hint: tuple[Part, ...] | str) -> CnncalcError:
        return MismatchError(
            *self.parts, argument=self.argument, value=self.value, layer=self.layer, hint=hint
        )

    def prefixed(self, prefix: str) -> CnncalcError:
        parts: tuple[Part, ...] = (f"{self.layer}: ", *self.parts) if self.layer else self.parts
        return MismatchError(prefix, *parts, argument=self.argument, value=self.value, hint=self.hint)


class SizeMismatch(MismatchError):
    """A size the user declared (PyTorch's ``in_channels``, ``in_features``, ``num_features``) that
    the incoming shape contradicts: says the value it must be, and where that value comes from."""

    def __init__(
        self,
        name: str,
        given: int,
        actual: int,
        origin: str,
        layer: str | None = None,
        hint: tuple[Part, ...] | str | None = None,
    ) -> None:
        self.name, self.given, self.actual, self.origin = name, given, actual, origin
        super().__init__(
            f"{name}={actual}, not {given}: {origin}",
            argument=name,
            value=actual,
            layer=layer,
            hint=f"use {name}={actual}" if hint is None else hint,
        )

    def at(self, layer: str) -> CnncalcError:
        if self.layer is not None:
            return self
        return SizeMismatch(self.name, self.given, self.actual, self.origin, layer, self.hint)

    def with_hint(self, hint: tuple[Part, ...] | str) -> CnncalcError:
        return SizeMismatch(self.name, self.given, self.actual, self.origin, self.layer, hint)

    def from_origin(self, origin: str) -> SizeMismatch:
        """The same mismatch with a better account of where the size comes from."""
        return SizeMismatch(self.name, self.given, self.actual, origin, self.layer, self.hint)


class ResourceError(CnncalcError):
    """A run that would need more memory than allowed (refused before allocating)."""


class Failed(CnncalcError):
    """Not bad input: the run worked and found a difference (a verify mismatch), exit code 1."""

    exit_code = 1


def describe_layer(index: int, text: str) -> str:
    """How messages name a layer: its 1-based position and its spec text, e.g. ``layer 2 (conv:8,5)``."""
    if len(text) > 70:
        text = text[:69] + "…"
    return f"layer {index + 1} ({text})"


def spell_with(flags: Mapping[str, str]) -> Callable[[Option], str]:
    """A speller for :meth:`CnncalcError.render` that writes options as flags: ``{"convention":
    "--convention"}`` turns ``Option("convention", "keras")`` into ``--convention keras``."""

    def spell(option: Option) -> str:
        flag = flags.get(option.name)
        if flag is None:
            return str(option)
        return flag if option.value is None else f"{flag} {option.value}"

    return spell
