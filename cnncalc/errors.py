"""The one exception family of cnncalc.

Every user mistake raises a subclass of :class:`CnncalcError`; the CLI maps the whole family
to exit code 2 with a one-line message. Library code never calls ``sys.exit``.
"""

from __future__ import annotations


class CnncalcError(Exception):
    """Base class: bad input that the user can fix. ``str(err)`` is the one-line message."""

    def __init__(self, reason: str, *, layer: str | None = None) -> None:
        self.reason = " ".join(str(reason).split())  # one line, whatever the source text held
        self.layer = layer
        super().__init__(f"{layer}: {self.reason}" if layer else self.reason)

    def at(self, layer: str) -> CnncalcError:
        """The same error, now naming the layer it happened in (first naming wins)."""
        if self.layer is not None:
            return self
        return type(self)(self.reason, layer=layer)


class SpecError(CnncalcError, ValueError):
    """A spec that cannot be read: malformed text or JSON, unknown kind or key, bad value."""


class ShapeError(CnncalcError):
    """A well-formed spec whose shapes are impossible (kernel larger than input, ...)."""


def describe_layer(index: int, text: str) -> str:
    """How messages name a layer: its 1-based position and its spec text, e.g. ``layer 2 (conv:8,5)``."""
    if len(text) > 70:
        text = text[:69] + "…"
    return f"layer {index + 1} ({text})"
