"""Click parameter types: SHAPE, SIZE, LIST, SIZES, enum choices, ``--model`` completion."""

from __future__ import annotations

import re
from typing import Any

import click

from ..enums import CONVENTION_SYNONYMS, Column, Convention
from ..errors import SpecError


class ShapeType(click.ParamType):
    """``SHAPE``: sizes without the batch axis, ``200x200x1`` or ``200,200,1``."""

    name = "shape"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        from ..layers.args import shape

        if isinstance(value, str) and "=" in value:  # name=SHAPE,...: the inputs of an ONNX graph
            from ..io.sources import named_shapes

            return named_shapes(value, "--input")  # type: ignore[return-value]
        return value if isinstance(value, tuple) else shape(value, "--input")


class SizeType(click.ParamType):
    """``SIZE``: a number of bytes, ``2GiB``, ``512MiB``, ``100MB`` or ``1e9``."""

    name = "size"

    def __init__(self, flag: str = "--max-memory") -> None:
        self.flag = flag

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([kmgt]?i?b?)\s*", str(value).lower())
        scale = {
            "": 1,
            "k": 10**3,
            "m": 10**6,
            "g": 10**9,
            "t": 10**12,
            "ki": 2**10,
            "mi": 2**20,
            "gi": 2**30,
        }
        scale["ti"] = 2**40
        try:
            if not match:
                raise ValueError(value)
            return int(float(match.group(1)) * scale[match.group(2).rstrip("b")])
        except (ValueError, OverflowError):  # OverflowError: 1e999 is infinite
            raise SpecError(f"{self.flag} {value!r} is not a size like 2GiB or 512MB") from None


class ColumnsType(click.ParamType):
    """``LIST``: comma-separated table columns."""

    name = "columns"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[Column, ...]:
        if isinstance(value, tuple):
            return value
        names = [name.strip() for name in str(value).split(",")]
        if not any(names):
            self.fail("needs at least one column, e.g. shape,params", param, ctx)
        if not all(names):
            self.fail(f"{value!r} has an empty entry", param, ctx)
        try:
            return tuple(Column.parse(name, "entry") for name in names)
        except SpecError as err:
            self.fail(str(err), param, ctx)


def complete_model(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of ``--model``: the zoo's names."""
    from click.shell_completion import CompletionItem

    from .. import zoo

    known = [*zoo.names(), *zoo.ALIASES]
    return [CompletionItem(name) for name in known if name.startswith(incomplete.lower())]


def choice(enum: Any) -> click.Choice:
    return click.Choice(enum.values(), case_sensitive=False)


class SizesType(click.ParamType):
    """``SIZES``: spatial sizes, ``224`` or ``224x160``."""

    name = "sizes"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        from ..layers.args import shape

        flag = f"--{param.name}" if param is not None and param.name else "sizes"
        return value if isinstance(value, tuple) else shape(value, flag)


class ConventionChoice(click.Choice):
    """``--convention``: keras or pytorch, also by the frameworks' other names (``torch``),
    passed on as the canonical value."""

    def __init__(self) -> None:
        super().__init__([*Convention.values(), *CONVENTION_SYNONYMS], case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        chosen = super().convert(value, param, ctx)
        return Convention.parse(chosen, "--convention").value
