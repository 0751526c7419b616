"""Safe evaluation of the little Python that model code and call-syntax LAYER arguments hold.

Only literals (numbers, strings, True/False/None, tuples and lists of them), names bound to such
values, unary minus and the operators ``+ - * //`` on integers are evaluated, by walking the
:mod:`ast` tree. Nothing is imported, called or executed; anything else is a :class:`NotStatic`
that says what could not be read, so the reader can refuse with the line instead of guessing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import SpecError

#: Largest integer an expression may produce (int64, as every framework indexes tensors).
MAX_VALUE = 2**63 - 1
#: Deepest expression walked (ast.parse itself limits nesting; this keeps our walk bounded too).
MAX_DEPTH = 100


class NotStatic(SpecError):
    """An expression that cannot be known without running the code."""


_OPERATORS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//"}


def source_of(node: ast.AST) -> str:
    """The expression as Python text (for messages), shortened to one line (kept on the node:
    the model-code interpreter asks again for the nodes of a loop)."""
    cached = getattr(node, "_cnncalc_text", None)
    if cached is not None:
        return str(cached)
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):  # pragma: no cover - unparse of a parsed tree
        text = type(node).__name__
    text = " ".join(text.split())
    text = text if len(text) <= 60 else text[:59] + "…"
    try:
        node._cnncalc_text = text  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - every ast node takes attributes
        pass
    return text


def evaluate(
    node: ast.AST, names: Mapping[str, Any] | None = None, lookup: Callable[[ast.AST], Any] | None = None
) -> Any:
    """The value of a static expression: literals, ``names`` and ``+ - * //`` on integers.

    ``lookup`` is asked first for every node that is not a literal or an operator (the model-code
    reader resolves attribute names such as ``tf.nn.relu`` with it); it returns ``NotImplemented``
    to let the walk go on.

    >>> evaluate(ast.parse("16 * 5 * 5", mode="eval").body)
    400
    """
    return _walk(node, names or {}, lookup, 0)


def _walk(
    node: ast.AST, names: Mapping[str, Any], lookup: Callable[[ast.AST], Any] | None, depth: int
) -> Any:
    if depth > MAX_DEPTH:
        raise NotStatic("expression nested too deeply")
    if lookup is not None:
        found = lookup(node)
        if found is not NotImplemented:
            return found
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, float, str)) or node.value is None:
            return _bounded(node.value)
        raise NotStatic(f"{source_of(node)} is not a number, string, True/False or None")
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_walk(item, names, lookup, depth + 1) for item in node.elts)
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise NotStatic(f"{node.id} is not defined as a number in the file")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _walk(node.operand, names, lookup, depth + 1)
        if not _number(value):
            raise NotStatic(f"{source_of(node)} is not a number")
        return _bounded(-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _walk(node.left, names, lookup, depth + 1)
        right = _walk(node.right, names, lookup, depth + 1)
        if not (_integer(left) and _integer(right)):
            raise NotStatic(
                f"{source_of(node)}: {_SYMBOLS[type(node.op)]} is evaluated on whole numbers only"
            )
        if isinstance(node.op, ast.FloorDiv) and right == 0:
            raise NotStatic(f"{source_of(node)} divides by zero")
        return _bounded(_OPERATORS[type(node.op)](left, right))
    raise NotStatic(
        f"{source_of(node)} cannot be known without running the code "
        "(only numbers, names of numbers and + - * // are read)"
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded(value: Any) -> Any:
    if _integer(value) and abs(value) > MAX_VALUE:
        raise NotStatic(f"a number larger than the limit 2**63 - 1 ({str(value)[:12]}...)")
    return value


def parse_expression(text: str) -> ast.expr:
    """One Python expression; SpecError (one line) when it is not one."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise SpecError(f"not a Python expression: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise SpecError("not a Python expression: nested too deeply") from None


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attribute names, ``None`` for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))
