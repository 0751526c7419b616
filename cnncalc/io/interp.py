"""An interpreter of a safe subset of Python over symbolic values: how model code is read.

The file is parsed with :mod:`ast` and its statements are walked by this interpreter; nothing is
imported, compiled or executed by Python, and no function is called that is not on the
interpreter's own whitelist (``range``, ``len``, ``math.floor``, list methods, ...: pure functions of
known values). Names the file imports are symbolic (:class:`Ext`): calling ``nn.Conv2d(...)`` or
``keras.layers.Dense(...)`` records a layer (:mod:`cnncalc.io.frameworks`); calling anything else
from outside the file gives an :class:`Unknown`, which travels through the code and becomes an error
only where a size of the model depends on it.

Bounded: a step budget (:data:`MAX_STEPS`) and a time limit (:data:`MAX_SECONDS`) stop a loop that
does not end, a call depth limit (:data:`MAX_CALL_DEPTH`) a recursion that does not, and sizes are
capped (sequences of :data:`MAX_ITEMS`, integers of :data:`MAX_INT_BITS` bits).
"""

from __future__ import annotations

import ast
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..errors import CnncalcError, SpecError
from .code_values import NotFollowed, Unknown
from .pyexpr import source_of

#: Statements and expressions evaluated before the reader gives up (a loop that does not end).
MAX_STEPS = 3_000_000
#: Wall-clock limit of one read, in seconds.
MAX_SECONDS = 2.5
#: What one top-level statement (or a model's construction, or its forward()) may take: a
#: training loop that runs long is skipped once (what it changed becomes unknown, the rest of the
#: file is still read); a second one ends the read. Steps decide (deterministic: a pathological
#: file fails within about a second); the time is a backstop for a machine under load.
STATEMENT_STEPS = 150_000
STATEMENT_SECONDS = 1.5
#: Deepest chain of calls of the file's own functions (a recursion that does not end).
MAX_CALL_DEPTH = 48
#: Longest list, tuple, string or range the code may build.
MAX_ITEMS = 1_000_000
#: Largest integer (in bits) an operation may produce.
MAX_INT_BITS = 4096

#: ``+=`` in the syntax tree (a name of its own: the merge layer ``Add`` is another thing)
_AST_ADD = ast.Add


#: What a file whose code does not end is told (no --trace: running it would not end either).
BUDGET_HINT = "write the model's layers as a spec (LAYER arguments or -f SPEC.json)"


class OutOfBudget(SpecError):
    """The code runs too long or recurses too deeply: fatal, never skipped."""

    def __init__(self, *parts: Any, **kwargs: Any) -> None:
        kwargs.setdefault("hint", BUDGET_HINT)
        super().__init__(*parts, **kwargs)


class StatementTooLong(SpecError):
    """One top-level statement ran out of its share of the budget: it is skipped like a statement
    that cannot be read."""

    def __init__(self, *parts: Any, **kwargs: Any) -> None:
        kwargs.setdefault("hint", BUDGET_HINT)
        super().__init__(*parts, **kwargs)


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass(eq=False)
class Ext:
    """A name from outside the file (``torch.nn.Conv2d``, ``keras.layers``, ``np``), never imported:
    its dotted path, with the import's spelling resolved (``nn`` -> ``torch.nn``)."""

    path: str
    #: a name the file uses without defining or importing it (``Conv2D`` in a course snippet)
    undefined: bool = False

    @property
    def last(self) -> str:
        return self.path.rpartition(".")[2]


@dataclass(eq=False)
class Function:
    """A function (or lambda, or method) defined in the file."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    globals: dict[str, Any]
    closure: tuple[dict[str, Any], ...]
    name: str
    kind: str = "function"  # "staticmethod", "classmethod", "property"
    owner: UserClass | None = None


@dataclass(eq=False)
class Bound:
    """A method bound to its object (or class, for a classmethod)."""

    func: Function
    obj: Any


@dataclass(eq=False)
class UserClass:
    """A class defined in the file: its bases (classes of the file or :class:`Ext` framework
    classes), its namespace, where it is."""

    name: str
    bases: tuple[Any, ...]
    namespace: dict[str, Any]
    line: int

    def mro(self) -> list[UserClass]:
        out: list[UserClass] = [self]
        for base in self.bases:
            if isinstance(base, UserClass):
                out.extend(c for c in base.mro() if c not in out)
        return out

    def framework(self) -> str | None:
        """The framework base path (``torch.nn.Module``, ``keras.Model``) this class derives from."""
        for cls in self.mro():
            for base in cls.bases:
                if isinstance(base, Ext):
                    return base.path
        return None

    def lookup(self, name: str) -> Any:
        for cls in self.mro():
            if name in cls.namespace:
                return cls.namespace[name]
        raise KeyError(name)


@dataclass(eq=False)
class Instance:
    """An object of a class of the file; ``attrs`` in assignment order (PyTorch names submodules
    by it)."""

    cls: UserClass
    attrs: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass(eq=False)
class Builtin:
    """A whitelisted function: ``fn(interp, args, kwargs, node)``."""

    name: str
    fn: Callable[..., Any]


@dataclass(eq=False)
class Super:
    obj: Any
    cls: UserClass


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


_PLAIN = (int, float, bool, str, type(None), tuple, list, dict, set, frozenset, range, slice)

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
    ast.LShift: lambda a, b: a << b,
    ast.RShift: lambda a, b: a >> b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitXor: lambda a, b: a ^ b,
}
SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.MatMult: "@",
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
#: Methods that change the object they are called on: code skipped because it depends on an
#: unknown value taints the objects it would have changed.
MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "add_module",
        "register_module",
        "register_buffer",
        "register_parameter",
        "build",
        "__setitem__",
        "sort",
        "reverse",
    }
)


class Interpreter:
    """Runs the module's statements over symbolic values. ``hooks`` (:mod:`cnncalc.io.frameworks`)
    gives meaning to the framework names: calls, attributes, operators on tensors and layers."""

    def __init__(self, hooks: Any, source: str) -> None:
        self.hooks = hooks
        self.source = source
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS
        self.statement_deadline = self.deadline
        self.statement_steps = MAX_STEPS
        self.overruns = 0
        #: ids of objects changed by the current top-level statement
        self.touched: dict[int, Any] = {}
        self.depth = 0
        self.globals: dict[str, Any] = {"__name__": "__main__", "__file__": source}
        #: id -> (object, why): objects that code skipped for an unknown value could have changed
        self.tainted: dict[int, tuple[Any, str]] = {}
        #: strict while a model's forward()/call() is traced: an unknown condition is an error there
        self.strict = 0
        self.scope_names: list[str] = []
        #: ids of the file's functions that were called
        self.called: set[int] = set()

    # budget ----------------------------------------------------------------------------------

    def step(self, node: ast.AST) -> None:
        self.steps += 1
        if self.steps > self.statement_steps or (
            self.steps & 255 == 0 and time.monotonic() > self.statement_deadline
        ):
            message = (
                f"line {getattr(node, 'lineno', '?')}: the code runs too long to read (a loop that does not end?): "
                f"stopped after {self.steps:,} steps"
            )
            if self.steps > MAX_STEPS or time.monotonic() > self.deadline or self.overruns:
                raise OutOfBudget(message)
            self.overruns += 1
            raise StatementTooLong(message)

    def start_slice(self) -> None:
        """Give the next piece of work (a top-level statement, a construction) its share."""
        self.statement_deadline = min(self.deadline, time.monotonic() + STATEMENT_SECONDS)
        self.statement_steps = min(MAX_STEPS, self.steps + STATEMENT_STEPS)

    def touch(self, obj: Any) -> None:
        """``obj`` is being changed (a layer added, an attribute set)."""
        self.touched[id(obj)] = obj

    def check_size(self, value: Any, node: ast.AST) -> Any:
        if isinstance(value, (str, tuple, list, dict, set, frozenset, range)) and len(value) > MAX_ITEMS:
            raise OutOfBudget(
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)} builds more than {MAX_ITEMS:,} items"
            )
        if integer(value) and value.bit_length() > MAX_INT_BITS:
            raise OutOfBudget(f"line {getattr(node, 'lineno', '?')}: {source_of(node)} is a number too large")
        return value

    # modules and statements --------------------------------------------------------------------

    def run_module(self, tree: ast.Module, top: Callable[[ast.stmt, CnncalcError], None]) -> None:
        """Run the module's statements; a statement that fails is reported to ``top`` (which taints
        what it touched) and the next one runs: one model's unreadable part does not hide another."""
        self.run_top(tree.body, top)

    def run_top(self, body: list[ast.stmt], top: Callable[[ast.stmt, CnncalcError], None]) -> None:
        for stmt in body:
            if (
                isinstance(stmt, ast.If)
                and isinstance(stmt.test, ast.Compare)
                and isinstance(stmt.test.left, ast.Name)
                and stmt.test.left.id == "__name__"
            ):
                self.run_top(stmt.body, top)  # the script's main block: its statements one by one
                continue
            self.hooks.before_statement()
            self.touched = {}
            self.start_slice()
            try:
                self.statement(stmt, self.globals, None)
            except OutOfBudget:
                raise
            except RecursionError:
                raise OutOfBudget(f"line {stmt.lineno}: the code nests too deeply to read") from None
            except (_Return, _Break, _Continue):
                continue
            except CnncalcError as err:
                top(stmt, err)

    def block(self, body: list[ast.stmt], env: dict[str, Any], fn: Frame | None) -> None:
        for stmt in body:
            self.statement(stmt, env, fn)

    def statement(self, stmt: ast.stmt, env: dict[str, Any], fn: Frame | None) -> None:
        self.step(stmt)
        method = _STATEMENTS.get(type(stmt))
        if method is None:
            raise NotFollowed(f"line {stmt.lineno}: {type(stmt).__name__} statements are not read")
        method(self, stmt, env, fn)

    def s_Expr(self, stmt: ast.Expr, env: dict[str, Any], fn: Frame | None) -> None:
        value = self.expr(stmt.value, env, fn)
        if fn is None or fn.function is not None:
            self.hooks.bound(self, None, value, stmt, fn)  # a model made for nothing but its summary

    def s_Pass(self, stmt: ast.stmt, env: dict[str, Any], fn: Frame | None) -> None:
        pass

    s_Global = s_Nonlocal = s_Assert = s_Pass

    def s_Break(self, stmt: ast.stmt, env: dict[str, Any], fn: Frame | None) -> None:
        raise _Break()

    def s_Continue(self, stmt: ast.stmt, env: dict[str, Any], fn: Frame | None) -> None:
        raise _Continue()

    def s_Return(self, stmt: ast.Return, env: dict[str, Any], fn: Frame | None) -> None:
        raise _Return(None if stmt.value is None else self.expr(stmt.value, env, fn))

    def s_Raise(self, stmt: ast.Raise, env: dict[str, Any], fn: Frame | None) -> None:
        what = source_of(stmt.exc) if stmt.exc is not None else "raise"
        raise NotFollowed(f"line {stmt.lineno}: the code raises {what}")

    def s_Assign(self, stmt: ast.Assign, env: dict[str, Any], fn: Frame | None) -> None:
        value = self.expr(stmt.value, env, fn)
        for target in stmt.targets:
            self.assign(target, value, env, fn, stmt)

    def s_AnnAssign(self, stmt: ast.AnnAssign, env: dict[str, Any], fn: Frame | None) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.expr(stmt.value, env, fn), env, fn, stmt)

    def s_AugAssign(self, stmt: ast.AugAssign, env: dict[str, Any], fn: Frame | None) -> None:
        target = stmt.target
        current = self.expr(_load(target), env, fn)
        right = self.expr(stmt.value, env, fn)
        if isinstance(current, list) and isinstance(stmt.op, _AST_ADD):
            self.touch(current)
            items = self.iterate(right, stmt.value)
            current.extend(items)  # lists are extended in place (``layers += [...]``)
            self.check_size(current, stmt)
            return
        if isinstance(current, dict) and isinstance(stmt.op, ast.BitOr) and isinstance(right, dict):
            current.update(right)
            return
        value = self.binop(stmt.op, current, right, stmt)
        self.assign(target, value, env, fn, stmt)

    def s_Delete(self, stmt: ast.Delete, env: dict[str, Any], fn: Frame | None) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                env.pop(target.id, None)
            else:
                owner = (
                    self.expr(target.value, env, fn)
                    if isinstance(target, (ast.Attribute, ast.Subscript))
                    else None
                )
                if owner is not None:
                    self.taint(owner, f"line {stmt.lineno}: del {source_of(target)} is not followed")

    def s_Import(self, stmt: ast.Import, env: dict[str, Any], fn: Frame | None) -> None:
        for alias in stmt.names:
            if alias.asname:
                env[alias.asname] = self.hooks.module(alias.name)
            else:
                head = alias.name.split(".")[0]
                env[head] = self.hooks.module(head)

    def s_ImportFrom(self, stmt: ast.ImportFrom, env: dict[str, Any], fn: Frame | None) -> None:
        base = stmt.module or ""
        for alias in stmt.names:
            if alias.name == "*":
                continue
            env[alias.asname or alias.name] = self.hooks.module(
                f"{base}.{alias.name}" if base else alias.name
            )

    def s_If(self, stmt: ast.If, env: dict[str, Any], fn: Frame | None) -> None:
        training = getattr(self.hooks, "training_branch", None)
        if training is not None and training(self, stmt, env, fn):
            return  # `if self.training:` of a PyTorch forward: both paths read by the hooks
        test = self.expr(stmt.test, env, fn)
        decided = self.truth(test)
        if decided is None:
            self.unknown_branch(stmt, [*stmt.body, *stmt.orelse], test, env, fn)
            return
        self.block(stmt.body if decided else stmt.orelse, env, fn)

    def s_While(self, stmt: ast.While, env: dict[str, Any], fn: Frame | None) -> None:
        while True:
            self.step(stmt)
            test = self.expr(stmt.test, env, fn)
            decided = self.truth(test)
            if decided is None:
                self.unknown_branch(stmt, [*stmt.body, *stmt.orelse], test, env, fn)
                return
            if not decided:
                self.block(stmt.orelse, env, fn)
                return
            try:
                self.block(stmt.body, env, fn)
            except _Break:
                return
            except _Continue:
                continue

    def s_For(self, stmt: ast.For, env: dict[str, Any], fn: Frame | None) -> None:
        iterable = self.expr(stmt.iter, env, fn)
        if is_unknown(iterable) or not self.iterable(iterable):
            self.unknown_branch(stmt, [*stmt.body, *stmt.orelse], iterable, env, fn)
            return
        for item in self.iterate(iterable, stmt.iter):
            self.step(stmt)
            self.assign(stmt.target, item, env, fn, stmt)
            try:
                self.block(stmt.body, env, fn)
            except _Break:
                return
            except _Continue:
                continue
        self.block(stmt.orelse, env, fn)

    s_AsyncFor = s_For

    def s_With(self, stmt: ast.With, env: dict[str, Any], fn: Frame | None) -> None:
        for item in stmt.items:
            value = self.expr(item.context_expr, env, fn)
            if item.optional_vars is not None:
                self.assign(
                    item.optional_vars,
                    Unknown(stmt.lineno, f"{source_of(item.context_expr)} as a context"),
                    env,
                    fn,
                    stmt,
                )
            del value
        self.block(stmt.body, env, fn)

    s_AsyncWith = s_With

    def s_Try(self, stmt: ast.Try, env: dict[str, Any], fn: Frame | None) -> None:
        # The body is read as if it raised nothing (the handlers are for errors the code expects).
        self.block(stmt.body, env, fn)
        self.block(stmt.orelse, env, fn)
        self.block(stmt.finalbody, env, fn)

    s_TryStar = s_Try

    def s_FunctionDef(self, stmt: ast.FunctionDef, env: dict[str, Any], fn: Frame | None) -> None:
        kind = "function"
        for decorator in stmt.decorator_list:
            name = decorator.id if isinstance(decorator, ast.Name) else getattr(decorator, "attr", "")
            if name in ("staticmethod", "classmethod", "property"):
                kind = name
        closure = fn.closure_chain() if fn is not None else ()
        env[stmt.name] = Function(stmt, self.globals, closure, stmt.name, kind)

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, stmt: ast.ClassDef, env: dict[str, Any], fn: Frame | None) -> None:
        bases = tuple(self.expr(b, env, fn) for b in stmt.bases)
        namespace: dict[str, Any] = {}
        cls = UserClass(stmt.name, bases, namespace, stmt.lineno)
        inner = Frame(namespace, fn.closure_chain() if fn is not None else (), None, class_body=True)
        for sub in stmt.body:
            self.statement(sub, namespace, inner)
        for value in namespace.values():
            if isinstance(value, Function):
                value.owner = cls
        env[stmt.name] = cls
        self.hooks.class_defined(self, cls, stmt)

    # skipping code on an unknown value ---------------------------------------------------------

    def unknown_branch(
        self, stmt: ast.stmt, body: list[ast.stmt], value: Any, env: dict[str, Any], fn: Frame | None
    ) -> None:
        """Code that runs or not depending on an unknown value is not run: the names it sets become
        unknown, and every object it would change is tainted (a model using one is refused with why)."""
        head = source_of(stmt.iter if isinstance(stmt, ast.For) else stmt.test)  # type: ignore[attr-defined]
        kind = "loop over" if isinstance(stmt, ast.For) else "condition"
        why = value.why if isinstance(value, Unknown) else f"{type(value).__name__} value"
        reason = (
            f"line {stmt.lineno}: the model depends on the {kind} {head}, which cannot be known without "
            f"running the code ({why})"
        )
        if self.strict:
            raise NotFollowed(reason)
        self.skip(body, env, fn, reason, stmt.lineno)

    def skip(
        self, body: list[ast.stmt], env: dict[str, Any], fn: Frame | None, reason: str, line: int
    ) -> None:
        for stmt in body:
            effects = getattr(stmt, "_cnncalc_effects", None)
            if effects is None:
                effects = _effects(stmt)
                stmt._cnncalc_effects = effects  # type: ignore[attr-defined]
            for name, node in effects:
                if name is not None:
                    env[name] = Unknown(line, reason.partition(": ")[2])
                else:
                    assert node is not None
                    self.taint(self.peek(node, env, fn), reason)

    def peek(self, node: ast.expr, env: dict[str, Any], fn: Frame | None) -> Any:
        """The object a name or ``self.a.b`` chain holds, without running anything."""
        if isinstance(node, ast.Name):
            return self.lookup_name(node.id, env, fn, quiet=True)
        if isinstance(node, ast.Attribute):
            owner = self.peek(node.value, env, fn)
            if isinstance(owner, Instance):
                return owner.attrs.get(node.attr)
            return self.hooks.peek_attribute(owner, node.attr)
        return None

    def taint(self, obj: Any, why: str) -> None:
        if obj is None or isinstance(obj, (int, float, str, bool, Unknown, Ext)):
            return
        self.tainted.setdefault(id(obj), (obj, why))

    def taint_of(self, obj: Any) -> str | None:
        entry = self.tainted.get(id(obj))
        return entry[1] if entry is not None and entry[0] is obj else None

    # assignment ----------------------------------------------------------------------------------

    def assign(
        self, target: ast.expr, value: Any, env: dict[str, Any], fn: Frame | None, stmt: ast.AST
    ) -> None:
        if isinstance(target, ast.Name):
            if fn is not None and target.id in fn.globals_declared:
                self.globals[target.id] = value
            else:
                env[target.id] = value
            self.hooks.bound(self, target.id, value, stmt, fn)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target, value, env, fn, stmt)
        elif isinstance(target, ast.Attribute):
            owner = self.expr(target.value, env, fn)
            self.set_attribute(owner, target.attr, value, target)
        elif isinstance(target, ast.Subscript):
            owner = self.expr(target.value, env, fn)
            key = self.expr(target.slice, env, fn)
            self.set_item(owner, key, value, target)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, env, fn, stmt)
        else:
            raise NotFollowed(f"line {target.lineno}: assignment to {source_of(target)} is not read")

    def unpack(
        self, target: ast.Tuple | ast.List, value: Any, env: dict[str, Any], fn: Frame | None, stmt: ast.AST
    ) -> None:
        if is_unknown(value) or not self.iterable(value):
            why = (
                value
                if isinstance(value, Unknown)
                else Unknown(target.lineno, f"{source_of(target)} unpacked")
            )
            for elt in target.elts:
                self.assign(elt.value if isinstance(elt, ast.Starred) else elt, why, env, fn, stmt)
            return
        items = list(self.iterate(value, target))
        stars = [i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred)]
        if stars:
            i = stars[0]
            after = len(target.elts) - i - 1
            if len(items) < len(target.elts) - 1:
                raise NotFollowed(
                    f"line {target.lineno}: not enough values to unpack into {source_of(target)}"
                )
            parts = [*items[:i], items[i : len(items) - after], *items[len(items) - after :]]
        else:
            if len(items) != len(target.elts):
                raise NotFollowed(
                    f"line {target.lineno}: {len(items)} values unpacked into {len(target.elts)} names ({source_of(target)})"
                )
            parts = items
        for elt, item in zip(target.elts, parts, strict=True):
            self.assign(elt, item, env, fn, stmt)

    def set_attribute(self, owner: Any, name: str, value: Any, node: ast.AST) -> None:
        self.touch(owner)
        if isinstance(owner, Instance):
            self.hooks.set_instance_attribute(self, owner, name, value, node)
        elif isinstance(owner, UserClass):
            owner.namespace[name] = value
        elif is_unknown(owner):
            return
        else:
            self.hooks.set_attribute(self, owner, name, value, node)

    def set_item(self, owner: Any, key: Any, value: Any, node: ast.AST) -> None:
        self.touch(owner)
        if isinstance(owner, list):
            if not integer(key):
                raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: list index {key!r} is not a number")
            try:
                owner[key] = value
            except IndexError:
                raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: list index out of range") from None
        elif isinstance(owner, dict):
            if is_unknown(key):
                self.taint(
                    owner,
                    f"line {getattr(node, 'lineno', '?')}: a key of {source_of(node)} is unknown ({key.why})",
                )
                return
            owner[_hashable(key, node)] = value
        elif is_unknown(owner):
            return
        else:
            self.hooks.set_item(self, owner, key, value, node)

    # expressions ---------------------------------------------------------------------------------

    def expr(self, node: ast.expr, env: dict[str, Any], fn: Frame | None) -> Any:
        self.step(node)
        method = _EXPRESSIONS.get(type(node))
        if method is None:
            raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)} is not read")
        return method(self, node, env, fn)

    def e_Constant(self, node: ast.Constant, env: dict[str, Any], fn: Frame | None) -> Any:
        if isinstance(node.value, (bytes, complex)) or node.value is Ellipsis:
            return Unknown(node.lineno, f"{source_of(node)} is not a value the reader computes with")
        return node.value

    def e_Name(self, node: ast.Name, env: dict[str, Any], fn: Frame | None) -> Any:
        return self.lookup_name(node.id, env, fn, line=node.lineno)

    def lookup_name(
        self, name: str, env: dict[str, Any], fn: Frame | None, quiet: bool = False, line: int = 0
    ) -> Any:
        if fn is not None and fn.class_body and name in env:
            return env[name]
        if name in env and (fn is None or not fn.class_body):
            return env[name]
        if fn is not None:
            for scope in fn.closure:
                if name in scope:
                    return scope[name]
        if name in self.globals:
            return self.globals[name]
        builtin = BUILTINS.get(name)
        if builtin is not None:
            return builtin
        if quiet:
            return None
        return self.hooks.undefined(self, name, line)

    def e_Attribute(self, node: ast.Attribute, env: dict[str, Any], fn: Frame | None) -> Any:
        owner = self.expr(node.value, env, fn)
        return self.attribute(owner, node.attr, node)

    def attribute(self, owner: Any, name: str, node: ast.AST) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(owner, Unknown):
            return owner
        if isinstance(owner, Instance):
            if name in owner.attrs:
                return owner.attrs[name]
            try:
                value = owner.cls.lookup(name)
            except KeyError:
                return self.hooks.instance_attribute(self, owner, name, node)
            return self.bind_method(value, owner, node)
        if isinstance(owner, UserClass):
            try:
                value = owner.lookup(name)
            except KeyError:
                return Unknown(line, f"{owner.name}.{name} is not defined in the file")
            if isinstance(value, Function) and value.kind == "classmethod":
                return Bound(value, owner)
            return value
        if isinstance(owner, Super):
            mro = owner.obj.cls.mro() if isinstance(owner.obj, Instance) else []
            later = mro[mro.index(owner.cls) + 1 :] if owner.cls in mro else []
            for cls in later:
                if name in cls.namespace:
                    return self.bind_method(cls.namespace[name], owner.obj, node)
            return self.hooks.super_attribute(self, owner, name, node)
        if isinstance(owner, Function) and name in ("__name__", "__qualname__"):
            return owner.name
        plain = _plain_attribute(owner, name)
        if plain is not NotImplemented:
            return plain
        return self.hooks.attribute(self, owner, name, node)

    def bind_method(self, value: Any, obj: Any, node: ast.AST) -> Any:
        if isinstance(value, Function):
            if value.kind == "staticmethod":
                return value
            if value.kind == "property":
                return self.call_function(value, [obj], {}, node)
            if value.kind == "classmethod":
                return Bound(value, obj.cls if isinstance(obj, Instance) else obj)
            return Bound(value, obj)
        return value

    def e_Subscript(self, node: ast.Subscript, env: dict[str, Any], fn: Frame | None) -> Any:
        owner = self.expr(node.value, env, fn)
        key = self.expr(node.slice, env, fn)
        return self.subscript(owner, key, node)

    def subscript(self, owner: Any, key: Any, node: ast.AST) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(owner, Unknown):
            return owner
        if isinstance(owner, (list, tuple, str, range)):
            if isinstance(key, Unknown):
                return Unknown(line, f"{source_of(node)}: the index is unknown ({key.why})")
            if isinstance(key, slice):
                if any(is_unknown(v) for v in (key.start, key.stop, key.step)):
                    return Unknown(line, f"{source_of(node)}: a bound of the slice is unknown")
                if not all(v is None or integer(v) for v in (key.start, key.stop, key.step)) or key.step == 0:
                    raise NotFollowed(f"line {line}: {source_of(node)}: slice bounds must be whole numbers")
                return owner[key]
            if not integer(key):
                raise NotFollowed(f"line {line}: {source_of(node)}: index {key!r} is not a whole number")
            try:
                return owner[key]
            except IndexError:
                raise NotFollowed(f"line {line}: {source_of(node)}: index {key} out of range") from None
        if isinstance(owner, dict):
            if isinstance(key, Unknown):
                return Unknown(line, f"{source_of(node)}: the key is unknown ({key.why})")
            hkey = _hashable(key, node)
            if hkey not in owner:
                raise NotFollowed(f"line {line}: {source_of(node)}: no key {key!r}")
            return owner[hkey]
        return self.hooks.subscript(self, owner, key, node)

    def e_Slice(self, node: ast.Slice, env: dict[str, Any], fn: Frame | None) -> Any:
        parts = [None if p is None else self.expr(p, env, fn) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def e_Tuple(self, node: ast.Tuple, env: dict[str, Any], fn: Frame | None) -> Any:
        return tuple(self.elements(node.elts, env, fn))

    def e_List(self, node: ast.List, env: dict[str, Any], fn: Frame | None) -> Any:
        return self.elements(node.elts, env, fn)

    def e_Set(self, node: ast.Set, env: dict[str, Any], fn: Frame | None) -> Any:
        items = self.elements(node.elts, env, fn)
        if any(is_unknown(i) for i in items):
            return Unknown(node.lineno, f"{source_of(node)} holds unknown values")
        return {_hashable(i, node) for i in items}

    def elements(self, elts: list[ast.expr], env: dict[str, Any], fn: Frame | None) -> list[Any]:
        out: list[Any] = []
        for elt in elts:
            if isinstance(elt, ast.Starred):
                value = self.expr(elt.value, env, fn)
                if is_unknown(value) or not self.iterable(value):
                    raise NotFollowed(
                        f"line {elt.lineno}: *{source_of(elt.value)} is not a list the reader knows{_why(value)}"
                    )
                out.extend(self.iterate(value, elt))
            else:
                out.append(self.expr(elt, env, fn))
        self.check_size(out, elts[0] if elts else ast.Pass())
        return out

    def e_Dict(self, node: ast.Dict, env: dict[str, Any], fn: Frame | None) -> Any:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                extra = self.expr(value, env, fn)
                if not isinstance(extra, dict):
                    return Unknown(node.lineno, f"**{source_of(value)} is not a dict the reader knows")
                out.update(extra)
                continue
            k = self.expr(key, env, fn)
            if is_unknown(k):
                return Unknown(node.lineno, f"a key of {source_of(node)} is unknown ({k.why})")
            out[_hashable(k, key)] = self.expr(value, env, fn)
        return out

    def e_JoinedStr(self, node: ast.JoinedStr, env: dict[str, Any], fn: Frame | None) -> Any:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            assert isinstance(value, ast.FormattedValue)
            inner = self.expr(value.value, env, fn)
            if not isinstance(inner, (int, float, str, bool, type(None))):
                return Unknown(node.lineno, f"the f-string {source_of(node)} holds {source_of(value.value)}")
            spec = ""
            if value.format_spec is not None:
                spec_value = self.e_JoinedStr(value.format_spec, env, fn)  # type: ignore[arg-type]
                if not isinstance(spec_value, str):
                    return spec_value
                spec = spec_value
            try:
                text = repr(inner) if value.conversion == ord("r") else inner
                parts.append(format(text, spec))
            except (ValueError, TypeError):
                return Unknown(node.lineno, f"the f-string {source_of(node)} is not read")
        return self.check_size("".join(parts), node)

    def e_FormattedValue(self, node: ast.FormattedValue, env: dict[str, Any], fn: Frame | None) -> Any:
        return self.expr(node.value, env, fn)  # pragma: no cover - always inside a JoinedStr

    def e_NamedExpr(self, node: ast.NamedExpr, env: dict[str, Any], fn: Frame | None) -> Any:
        value = self.expr(node.value, env, fn)
        self.assign(node.target, value, env, fn, node)
        return value

    def e_Lambda(self, node: ast.Lambda, env: dict[str, Any], fn: Frame | None) -> Any:
        closure = fn.closure_chain() if fn is not None else ()
        return Function(node, self.globals, closure, "<lambda>")

    def e_IfExp(self, node: ast.IfExp, env: dict[str, Any], fn: Frame | None) -> Any:
        test = self.expr(node.test, env, fn)
        decided = self.truth(test)
        if decided is None:
            if self.strict:
                raise NotFollowed(
                    f"line {node.lineno}: {source_of(node)} depends on {source_of(node.test)}, which cannot be "
                    f"known without running the code{_why(test)}"
                )
            return Unknown(node.lineno, f"{source_of(node)} depends on {source_of(node.test)}{_why(test)}")
        return self.expr(node.body if decided else node.orelse, env, fn)

    def e_BoolOp(self, node: ast.BoolOp, env: dict[str, Any], fn: Frame | None) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for operand in node.values:
            value = self.expr(operand, env, fn)
            decided = self.truth(value)
            if decided is None:
                return (
                    value if is_unknown(value) else Unknown(node.lineno, f"{source_of(operand)} is not known")
                )
            if decided != is_and:
                return value
        return value

    def e_UnaryOp(self, node: ast.UnaryOp, env: dict[str, Any], fn: Frame | None) -> Any:
        value = self.expr(node.operand, env, fn)
        if isinstance(node.op, ast.Not):
            decided = self.truth(value)
            if decided is None:
                return value if is_unknown(value) else Unknown(node.lineno, f"{source_of(node)} is not known")
            return not decided
        if is_unknown(value):
            return value
        if number(value) or isinstance(value, bool):
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return +value
            if isinstance(node.op, ast.Invert) and integer(value):
                return ~value
        return self.hooks.unary(self, node.op, value, node)

    def e_BinOp(self, node: ast.BinOp, env: dict[str, Any], fn: Frame | None) -> Any:
        left = self.expr(node.left, env, fn)
        right = self.expr(node.right, env, fn)
        return self.binop(node.op, left, right, node)

    def binop(self, op: ast.operator, left_value: Any, right_value: Any, node: ast.AST) -> Any:
        left: Any = left_value
        right: Any = right_value
        line = getattr(node, "lineno", 0)
        symbol = SYMBOLS.get(type(op), "?")
        hooked = self.hooks.binop(self, op, left, right, node)
        if hooked is not NotImplemented:
            return hooked
        if is_unknown(left):
            return left
        if is_unknown(right):
            return right
        if not (isinstance(left, _PLAIN) and isinstance(right, _PLAIN)) or type(op) not in _BINOPS:
            raise NotFollowed(f"line {line}: {source_of(node)}: {symbol} on these values is not read")
        if isinstance(op, ast.Pow) and number(left) and number(right):
            if abs(right) > 4096 or (
                integer(right)
                and right > 0
                and integer(left)
                and abs(left) > 1
                and right * abs(left).bit_length() > MAX_INT_BITS
            ):
                raise OutOfBudget(f"line {line}: {source_of(node)} is a number too large")
        if isinstance(op, ast.LShift) and integer(right) and right > MAX_INT_BITS:
            raise OutOfBudget(f"line {line}: {source_of(node)} is a number too large")
        if isinstance(op, ast.Mult):
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and integer(times)
                    and len(seq) * max(times, 0) > MAX_ITEMS
                ):
                    raise OutOfBudget(f"line {line}: {source_of(node)} builds more than {MAX_ITEMS:,} items")
        if isinstance(op, ast.Mod) and isinstance(left, str):
            args = right if isinstance(right, tuple) else (right,)
            if not all(isinstance(a, (int, float, str, bool, type(None))) for a in args):
                return Unknown(line, f"{source_of(node)} formats unknown values")
        try:
            result = _BINOPS[type(op)](left, right)
        except ZeroDivisionError:
            raise NotFollowed(f"line {line}: {source_of(node)} divides by zero") from None
        except (TypeError, ValueError, OverflowError) as err:
            raise NotFollowed(f"line {line}: {source_of(node)}: {err}") from None
        if isinstance(result, complex):
            raise NotFollowed(f"line {line}: {source_of(node)} is a complex number")
        return self.check_size(result, node)

    def e_Compare(self, node: ast.Compare, env: dict[str, Any], fn: Frame | None) -> Any:
        left = self.expr(node.left, env, fn)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node, env, fn)
            result = self.compare(op, left, right, node)
            if is_unknown(result) or not result:
                return result
            left = right
        return True

    def compare(self, op: ast.cmpop, left: Any, right: Any, node: ast.AST) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(op, (ast.Is, ast.IsNot)):
            if is_unknown(left) or is_unknown(right):
                return left if is_unknown(left) else right
            same = left is right or (left is None and right is None)
            return same if isinstance(op, ast.Is) else not same
        hooked = self.hooks.compare(self, op, left, right, node)
        if hooked is not NotImplemented:
            return hooked
        for side in (left, right):
            if is_unknown(side):
                return side
            if isinstance(side, (list, tuple, dict, set)) and any(is_unknown(v) for v in side):
                return Unknown(line, f"{source_of(node)} compares unknown values")
        if isinstance(left, _PLAIN) and isinstance(right, _PLAIN):
            try:
                return bool(_COMPARE[type(op)](left, right))
            except TypeError as err:
                raise NotFollowed(f"line {line}: {source_of(node)}: {err}") from None
        if isinstance(op, (ast.Eq, ast.NotEq)):
            same = left is right
            return same if isinstance(op, ast.Eq) else not same
        if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (list, tuple, dict, set)):
            found = any(left is item for item in right)
            return found if isinstance(op, ast.In) else not found
        return Unknown(line, f"{source_of(node)} is not read")

    def truth(self, value: Any) -> bool | None:
        """The truth of a value, or None when it is unknown."""
        if is_unknown(value):
            return None
        if isinstance(value, _PLAIN):
            if isinstance(value, (list, tuple, dict)) and False:  # pragma: no cover
                return None
            return bool(value)
        hooked = self.hooks.truth(self, value)
        if hooked is not NotImplemented:
            return hooked  # type: ignore[no-any-return]
        return True  # objects (layers, modules, functions) are true

    # comprehensions --------------------------------------------------------------------------

    def e_ListComp(self, node: ast.ListComp, env: dict[str, Any], fn: Frame | None) -> Any:
        out: list[Any] = []
        result = self.comprehension(
            node, node.generators, env, fn, lambda scope, f: out.append(self.expr(node.elt, scope, f))
        )
        return result if result is not None else self.check_size(out, node)

    def e_GeneratorExp(self, node: ast.GeneratorExp, env: dict[str, Any], fn: Frame | None) -> Any:
        return self.e_ListComp(node, env, fn)  # type: ignore[arg-type]

    def e_SetComp(self, node: ast.SetComp, env: dict[str, Any], fn: Frame | None) -> Any:
        items = self.e_ListComp(node, env, fn)  # type: ignore[arg-type]
        if is_unknown(items):
            return items
        if any(is_unknown(i) for i in items):
            return Unknown(node.lineno, f"{source_of(node)} holds unknown values")
        return {_hashable(i, node) for i in items}

    def e_DictComp(self, node: ast.DictComp, env: dict[str, Any], fn: Frame | None) -> Any:
        out: dict[Any, Any] = {}

        def add(scope: dict[str, Any], f: Frame) -> None:
            key = self.expr(node.key, scope, f)
            if is_unknown(key):
                raise NotFollowed(f"line {node.lineno}: a key of {source_of(node)} is unknown ({key.why})")
            out[_hashable(key, node)] = self.expr(node.value, scope, f)

        result = self.comprehension(node, node.generators, env, fn, add)
        return result if result is not None else out

    def comprehension(
        self,
        node: ast.expr,
        generators: list[ast.comprehension],
        env: dict[str, Any],
        fn: Frame | None,
        emit: Callable[[dict[str, Any], Frame], None],
    ) -> Unknown | None:
        scope: dict[str, Any] = {}
        outer = fn.closure_chain() if fn is not None else ()
        if fn is None or fn.class_body:
            outer = (env, *outer) if fn is None else outer
        else:
            outer = (env, *outer)
        frame = Frame(scope, outer, None)

        def loop(index: int) -> Unknown | None:
            if index == len(generators):
                emit(scope, frame)
                return None
            gen = generators[index]
            iterable = self.expr(gen.iter, env if index == 0 else scope, fn if index == 0 else frame)
            if is_unknown(iterable) or not self.iterable(iterable):
                return Unknown(
                    node.lineno, f"{source_of(node)} loops over {source_of(gen.iter)}{_why(iterable)}"
                )
            for item in self.iterate(iterable, gen.iter):
                self.step(gen.iter)
                self.assign(gen.target, item, scope, frame, gen.iter)
                keep = True
                for cond in gen.ifs:
                    decided = self.truth(self.expr(cond, scope, frame))
                    if decided is None:
                        return Unknown(node.lineno, f"{source_of(node)} filters on {source_of(cond)}")
                    keep = keep and decided
                    if not keep:
                        break
                if keep:
                    unknown = loop(index + 1)
                    if unknown is not None:
                        return unknown
            return None

        return loop(0)

    # iteration -----------------------------------------------------------------------------------

    def iterable(self, value: Any) -> bool:
        if isinstance(value, (list, tuple, str, dict, set, frozenset, range)):
            return True
        return bool(self.hooks.iterable(self, value))

    def iterate(self, value: Any, node: ast.AST) -> Iterator[Any]:
        if isinstance(value, (list, tuple, str, range)):
            if isinstance(value, range) and len(value) > MAX_ITEMS:
                raise OutOfBudget(
                    f"line {getattr(node, 'lineno', '?')}: {source_of(node)} loops more than {MAX_ITEMS:,} times"
                )
            return iter(list(value) if isinstance(value, list) else value)
        if isinstance(value, dict):
            return iter(list(value))
        if isinstance(value, (set, frozenset)):
            return iter(sorted(value, key=repr))
        if is_unknown(value):
            raise NotFollowed(
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)} is unknown ({value.why})"
            )
        items = self.hooks.iterate(self, value, node)
        if items is None:
            raise NotFollowed(
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)} is not a sequence the reader knows"
            )
        return iter(items)

    # calls -----------------------------------------------------------------------------------------

    def e_Call(self, node: ast.Call, env: dict[str, Any], fn: Frame | None) -> Any:
        func = self.expr(node.func, env, fn)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                value = self.expr(arg.value, env, fn)
                if is_unknown(value) or not self.iterable(value):
                    if isinstance(func, (Ext, Unknown)) and not self.strict:
                        return Unknown(
                            node.lineno, f"{source_of(node)}: *{source_of(arg.value)} is unknown{_why(value)}"
                        )
                    raise NotFollowed(
                        f"line {node.lineno}: {source_of(node)}: *{source_of(arg.value)} is not a list the reader knows{_why(value)}"
                    )
                args.extend(self.iterate(value, arg))
            else:
                args.append(self.expr(arg, env, fn))
        for keyword in node.keywords:
            value = self.expr(keyword.value, env, fn)
            if keyword.arg is None:
                if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                    if isinstance(func, (Ext, Unknown)) and not self.strict:
                        return Unknown(
                            node.lineno, f"{source_of(node)}: **{source_of(keyword.value)} is unknown"
                        )
                    raise NotFollowed(
                        f"line {node.lineno}: {source_of(node)}: **{source_of(keyword.value)} is not a dict the reader knows{_why(value)}"
                    )
                kwargs.update(value)
            else:
                kwargs[keyword.arg] = value
        if isinstance(func, Super) or (isinstance(func, Builtin) and func.name == "super" and not args):
            if isinstance(func, Builtin):
                return self.make_super(fn, node)
        return self.call(func, args, kwargs, node)

    def make_super(self, fn: Frame | None, node: ast.AST) -> Super:
        if fn is None or fn.function is None or fn.function.owner is None or not fn.self_name:
            raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: super() outside a method")
        return Super(fn.scope[fn.self_name], fn.function.owner)

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        line = getattr(node, "lineno", 0)
        if isinstance(func, Unknown):
            if self.strict:
                raise NotFollowed(f"line {line}: {source_of(node)}: {func.why}")
            return Unknown(line, f"{source_of(node)}: {func.why}")
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, Bound):
            return self.call_function(func.func, [func.obj, *args], kwargs, node)
        if isinstance(func, Builtin):
            return func.fn(self, args, kwargs, node)
        if isinstance(func, UserClass):
            return self.hooks.instantiate(self, func, args, kwargs, node)
        if isinstance(func, Instance):
            return self.hooks.call_instance(self, func, args, kwargs, node)
        return self.hooks.call(self, func, args, kwargs, node)

    def call_function(self, func: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        line = getattr(node, "lineno", 0)
        if self.depth >= MAX_CALL_DEPTH:
            raise OutOfBudget(
                f"line {line}: {func.name}() calls itself {MAX_CALL_DEPTH} deep (a recursion that does not end?)"
            )
        self.called.add(id(func))
        scope = self.bind_arguments(func, args, kwargs, node)
        frame = Frame(scope, func.closure, func)
        definition = func.node
        if isinstance(definition, ast.Lambda):
            self.depth += 1
            try:
                return self.expr(definition.body, scope, frame)
            finally:
                self.depth -= 1
        params = [*definition.args.posonlyargs, *definition.args.args]
        if params and func.owner is not None and func.kind != "staticmethod":
            frame.self_name = params[0].arg
        for sub in definition.body:
            if isinstance(sub, ast.Global):
                frame.globals_declared.update(sub.names)
        self.depth += 1
        self.scope_names.append(func.name)
        try:
            self.block(definition.body, scope, frame)
        except _Return as ret:
            self.hooks.returned(self, func, ret.value)
            return ret.value
        except (_Break, _Continue):
            raise NotFollowed(f"line {line}: break/continue outside a loop") from None
        finally:
            self.depth -= 1
            self.scope_names.pop()
        return None

    def bind_arguments(
        self, func: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST
    ) -> dict[str, Any]:
        spec = func.node.args
        line = getattr(node, "lineno", 0)
        params = [*spec.posonlyargs, *spec.args]
        names = [p.arg for p in params]
        scope: dict[str, Any] = {}
        defaults = dict(zip(names[len(names) - len(spec.defaults) :], spec.defaults, strict=True))
        kw_defaults = {
            p.arg: d for p, d in zip(spec.kwonlyargs, spec.kw_defaults, strict=True) if d is not None
        }
        for name, value in zip(names, args, strict=False):
            scope[name] = value
        extra = args[len(names) :]
        if extra:
            if spec.vararg is None:
                raise NotFollowed(
                    f"line {line}: {func.name}() takes {len(names)} arguments, {len(args)} given"
                )
        if spec.vararg is not None:
            scope[spec.vararg.arg] = tuple(extra)
        rest: dict[str, Any] = {}
        kwonly = {p.arg for p in spec.kwonlyargs}
        for key, value in kwargs.items():
            if key in names or key in kwonly:
                if key in scope:
                    raise NotFollowed(f"line {line}: {func.name}() got {key} twice")
                scope[key] = value
            elif spec.kwarg is not None:
                rest[key] = value
            else:
                raise NotFollowed(f"line {line}: {func.name}() has no parameter {key}")
        if spec.kwarg is not None:
            scope[spec.kwarg.arg] = rest
        for name in [*names, *kwonly]:
            if name not in scope:
                default = defaults.get(name, kw_defaults.get(name))
                if default is None:
                    raise NotFollowed(f"line {line}: {func.name}() needs {name}: call it with its arguments")
                scope[name] = self.default_value(func, default)
        return scope

    def default_value(self, func: Function, node: ast.expr) -> Any:
        # Defaults are evaluated where the function is defined (its module or enclosing scope).
        frame = Frame({}, func.closure, None)
        return self.expr(node, self.globals, frame)


def _effects(stmt: ast.stmt) -> list[tuple[str | None, ast.expr | None]]:
    """What a statement may change: names it sets, and the objects it may change in place."""
    out: list[tuple[str | None, ast.expr | None]] = []
    for sub in ast.walk(stmt):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            out.append((sub.id, None))
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            out.append((None, sub.value))
        elif isinstance(sub, ast.AugAssign):
            out.append((None, sub.target))
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in MUTATORS:
            out.append((None, sub.func.value))
        elif (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Name)
            and sub.func.id == "setattr"
            and sub.args
        ):
            out.append((None, sub.args[0]))
    return out


@dataclass(eq=False)
class Frame:
    """A function's running scope: its locals, the enclosing scopes, the function itself."""

    scope: dict[str, Any]
    closure: tuple[dict[str, Any], ...]
    function: Function | None
    class_body: bool = False
    self_name: str | None = None
    globals_declared: set[str] = field(default_factory=set)

    def closure_chain(self) -> tuple[dict[str, Any], ...]:
        if self.class_body:
            return self.closure  # a class body's names are not seen by its methods
        return (self.scope, *self.closure)


def _load(target: ast.expr) -> ast.expr:
    """The target of ``x += ...`` read as an expression."""
    copy = ast.parse(ast.unparse(target), mode="eval").body
    ast.copy_location(copy, target)
    for sub in ast.walk(copy):
        sub.lineno = getattr(target, "lineno", 0)  # type: ignore[attr-defined]
    return copy


def _why(value: Any) -> str:
    return f" ({value.why})" if isinstance(value, Unknown) else ""


def _hashable(value: Any, node: ast.AST) -> Any:
    try:
        hash(value)
    except TypeError:
        raise NotFollowed(
            f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: a key that is not hashable"
        ) from None
    return value


def _plain_attribute(owner: Any, name: str) -> Any:
    """Methods of plain values (``list.append``, ``dict.get``, ``str.format``...) as builtins."""
    methods = _METHODS.get(type(owner))
    if methods is None or name not in methods:
        if isinstance(owner, (int, float)) and name in ("real",):
            return owner
        return NotImplemented
    impl = methods[name]
    return Builtin(
        f"{type(owner).__name__}.{name}",
        lambda interp, args, kwargs, node: impl(interp, owner, args, kwargs, node),
    )


def _m(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A method on known values: unknown arguments give an unknown result."""

    def wrapped(
        interp: Interpreter, owner: Any, args: list[Any], kwargs: dict[str, Any], node: ast.AST
    ) -> Any:
        for value in (*args, *kwargs.values()):
            if is_unknown(value):
                return value
        try:
            result = fn(owner, *args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError) as err:
            raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: {err}") from None
        return interp.check_size(result, node)

    return wrapped


def _append(
    interp: Interpreter, owner: list[Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> None:
    if len(args) != 1 or kwargs:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: append() takes one value")
    interp.touch(owner)
    owner.append(args[0])
    interp.check_size(owner, node)


def _extend(
    interp: Interpreter, owner: list[Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> None:
    if len(args) != 1 or kwargs:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: extend() takes one list")
    if is_unknown(args[0]):
        interp.taint(
            owner,
            f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: extended with an unknown value ({args[0].why})",
        )
        return
    interp.touch(owner)
    owner.extend(interp.iterate(args[0], node))
    interp.check_size(owner, node)


def _insert(
    interp: Interpreter, owner: list[Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> None:
    if len(args) != 2 or not integer(args[0]):
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: insert(index, value) with a known index")
    owner.insert(args[0], args[1])


def _dict_get(
    interp: Interpreter, owner: dict[Any, Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> Any:
    if not args or is_unknown(args[0]):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: the key is unknown")
    return owner.get(_hashable(args[0], node), args[1] if len(args) > 1 else None)


def _dict_update(
    interp: Interpreter, owner: dict[Any, Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> None:
    for arg in args:
        if not isinstance(arg, dict):
            interp.taint(
                owner,
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: updated with an unknown value",
            )
            return
        owner.update(arg)
    owner.update(kwargs)


def _setdefault(
    interp: Interpreter, owner: dict[Any, Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> Any:
    if not args or is_unknown(args[0]):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: the key is unknown")
    return owner.setdefault(_hashable(args[0], node), args[1] if len(args) > 1 else None)


def _list_pop(
    interp: Interpreter, owner: list[Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> Any:
    if not owner:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: pop from an empty list")
    return owner.pop(*[a for a in args if integer(a)])


def _sort(
    interp: Interpreter, owner: list[Any], args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> None:
    owner[:] = _sorted(interp, [list(owner)], kwargs, node)


def _str_format(
    interp: Interpreter, owner: str, args: list[Any], kwargs: dict[str, Any], node: ast.AST
) -> Any:
    if not all(isinstance(v, (int, float, str, bool, type(None))) for v in (*args, *kwargs.values())):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} formats unknown values")
    try:
        return interp.check_size(owner.format(*args, **kwargs), node)
    except (IndexError, KeyError, ValueError) as err:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: {err}") from None


_STR_METHODS = (
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "startswith",
    "endswith",
    "replace",
    "join",
    "find",
    "count",
    "isdigit",
    "title",
    "capitalize",
    "partition",
    "rpartition",
    "splitlines",
)
_METHODS: dict[type, dict[str, Callable[..., Any]]] = {
    list: {
        "append": _append,
        "extend": _extend,
        "insert": _insert,
        "pop": _list_pop,
        "index": _m(list.index),
        "count": _m(list.count),
        "copy": _m(list.copy),
        "reverse": _m(list.reverse),
        "remove": _m(list.remove),
        "clear": _m(list.clear),
        "sort": _sort,
    },
    tuple: {"index": _m(tuple.index), "count": _m(tuple.count)},
    dict: {
        "get": _dict_get,
        "keys": _m(lambda d: list(d.keys())),
        "values": _m(lambda d: list(d.values())),
        "items": _m(lambda d: list(d.items())),
        "update": _dict_update,
        "setdefault": _setdefault,
        "pop": _m(lambda d, *a: d.pop(*a)),
        "copy": _m(dict.copy),
    },
    str: {"format": _str_format, **{name: _m(getattr(str, name)) for name in _STR_METHODS}},
}


# builtins --------------------------------------------------------------------------------------


def _known(args: list[Any], kwargs: dict[str, Any], node: ast.AST, what: str) -> Unknown | None:
    for value in (*args, *kwargs.values()):
        if is_unknown(value):
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: {value.why}")
        if isinstance(value, (list, tuple)) and any(is_unknown(v) for v in value):
            bad = next(v for v in value if is_unknown(v))
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: {bad.why}")
    return None


def _pure(fn: Callable[..., Any], *, plain: bool = True) -> Callable[..., Any]:
    """A builtin computed by Python on known plain values (the arguments are checked first)."""

    def wrapped(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        unknown = _known(args, kwargs, node, "")
        if unknown is not None:
            return unknown
        if plain and not all(_is_plain_deep(v) for v in (*args, *kwargs.values())):
            hooked = interp.hooks.builtin(interp, fn, args, kwargs, node)
            if hooked is not NotImplemented:
                return hooked
            raise NotFollowed(
                f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: not computed on these values"
            )
        for value in args:
            if isinstance(value, range) and len(value) > MAX_ITEMS:
                raise OutOfBudget(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: too many items")
        try:
            result = fn(*args, **kwargs)
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, KeyError, IndexError) as err:
            raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: {err}") from None
        if isinstance(result, Iterator):
            result = list(result)
        return interp.check_size(result, node)

    return wrapped


def _is_plain_deep(value: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_plain_deep(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_is_plain_deep(v, depth + 1) for v in value.values())
    return isinstance(value, _PLAIN)


def _range(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    unknown = _known(args, kwargs, node, "")
    if unknown is not None:
        return unknown
    if not args or len(args) > 3 or not all(integer(a) for a in args) or kwargs:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: range() of whole numbers")
    if len(args) == 3 and args[2] == 0:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: range() step 0")
    made = range(*args)
    try:
        len(made)  # every size check asks len(), which fails past sys.maxsize items
    except OverflowError:
        raise OutOfBudget(
            f"line {getattr(node, 'lineno', '?')}: {source_of(node)} has more than 2**63 - 1 items"
        ) from None
    return made


def _len(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 1:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: len() takes one value")
    value = args[0]
    if is_unknown(value):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: {value.why}")
    if isinstance(value, (list, tuple, str, dict, set, frozenset, range)):
        return len(value)
    hooked = interp.hooks.length(interp, value, node)
    if hooked is not NotImplemented:
        return hooked
    return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not known")


def _zip(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    for arg in args:
        if is_unknown(arg) or not interp.iterable(arg):
            return Unknown(
                getattr(node, "lineno", 0),
                f"{source_of(node)}: {arg.why if is_unknown(arg) else 'not a sequence'}",
            )
    lists = [list(interp.iterate(a, node)) for a in args]
    return list(zip(*lists, strict=False))


def _enumerate(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if not args or is_unknown(args[0]) or not interp.iterable(args[0]):
        return Unknown(
            getattr(node, "lineno", 0), f"{source_of(node)}: {_why(args[0]) if args else ''}".rstrip(": ")
        )
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if not integer(start):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: start is unknown")
    return list(enumerate(interp.iterate(args[0], node), start))


def _list(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if not args:
        return []
    if is_unknown(args[0]) or not interp.iterable(args[0]):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}{_why(args[0])}")
    return interp.check_size(list(interp.iterate(args[0], node)), node)


def _tuple(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    value = _list(interp, args, kwargs, node)
    return tuple(value) if isinstance(value, list) else value


def _dict(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    out: dict[Any, Any] = {}
    if args:
        source = args[0]
        if isinstance(source, dict):
            out.update(source)
        elif interp.iterable(source) and not is_unknown(source):
            for pair in interp.iterate(source, node):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2 or is_unknown(pair[0]):
                    return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: not (key, value) pairs")
                out[_hashable(pair[0], node)] = pair[1]
        else:
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}{_why(source)}")
    out.update(kwargs)
    return out


def _reversed(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 1 or is_unknown(args[0]) or not interp.iterable(args[0]):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}{_why(args[0]) if args else ''}")
    return list(reversed(list(interp.iterate(args[0], node))))


def _sorted(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 1 or is_unknown(args[0]) or not interp.iterable(args[0]):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}{_why(args[0]) if args else ''}")
    items = list(interp.iterate(args[0], node))
    key = kwargs.get("key")
    reverse = bool(kwargs.get("reverse", False))
    if key is not None:
        keyed = [(interp.call(key, [item], {}, node), i) for i, item in enumerate(items)]
        if any(is_unknown(k) for k, _ in keyed):
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: a key is unknown")
        try:
            order = sorted(keyed, key=lambda pair: pair[0], reverse=reverse)
        except TypeError as err:
            raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: {err}") from None
        return [items[i] for _, i in order]
    if any(is_unknown(i) for i in items):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} sorts unknown values")
    try:
        return sorted(items, reverse=reverse)
    except TypeError as err:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: {err}") from None


def _map(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) < 2:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: map() takes a function and a sequence")
    lists = _zip(interp, args[1:], {}, node)
    if is_unknown(lists):
        return lists
    return [interp.call(args[0], list(items), {}, node) for items in lists]


def _filter(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 2 or is_unknown(args[1]) or not interp.iterable(args[1]):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not known")
    out = []
    for item in interp.iterate(args[1], node):
        keep = interp.truth(item if args[0] is None else interp.call(args[0], [item], {}, node))
        if keep is None:
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} filters on unknown values")
        if keep:
            out.append(item)
    return out


def _isinstance(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 2:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: isinstance() takes two arguments")
    value, classes = args
    if is_unknown(value):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: {value.why}")
    options = classes if isinstance(classes, tuple) else (classes,)
    for cls in options:
        if isinstance(cls, Builtin) and cls.name in _TYPES:
            if isinstance(value, _TYPES[cls.name]):
                return True
            continue
        if isinstance(cls, UserClass):
            if isinstance(value, Instance) and cls in value.cls.mro():
                return True
            continue
        hooked = interp.hooks.isinstance(interp, value, cls, node)
        if hooked is None:
            return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not known")
        if hooked:
            return True
    return False


def _hasattr(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 2 or not isinstance(args[1], str):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not known")
    obj = args[0]
    if isinstance(obj, Instance):
        if args[1] in obj.attrs:
            return True
        try:
            obj.cls.lookup(args[1])
            return True
        except KeyError:
            return interp.hooks.has_attribute(interp, obj, args[1])
    if isinstance(obj, _PLAIN):
        return args[1] in _METHODS.get(type(obj), {})
    return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not known")


def _getattr(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) not in (2, 3) or not isinstance(args[1], str):
        return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}: the attribute name is unknown")
    if len(args) == 3 and isinstance(args[0], Instance):
        if _hasattr(interp, args[:2], {}, node) is not True:
            return args[2]
    return interp.attribute(args[0], args[1], node)


def _setattr(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 3:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: setattr() takes three arguments")
    if not isinstance(args[1], str):
        interp.taint(
            args[0], f"line {getattr(node, 'lineno', '?')}: {source_of(node)}: the attribute name is unknown"
        )
        return None
    interp.set_attribute(args[0], args[1], args[2], node)
    return None


def _print(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    return None  # printing changes no model


def _super(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) == 2 and isinstance(args[0], UserClass):
        return Super(args[1], args[0])
    raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: super() with these arguments is not read")


def _int(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if not args:
        return 0
    value = args[0]
    if is_unknown(value):
        return value
    hooked = interp.hooks.to_number(interp, value, int, node)
    if hooked is not NotImplemented:
        return hooked
    return _pure(int)(interp, args, kwargs, node)


def _float(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if not args:
        return 0.0
    if is_unknown(args[0]):
        return args[0]
    hooked = interp.hooks.to_number(interp, args[0], float, node)
    if hooked is not NotImplemented:
        return hooked
    return _pure(float)(interp, args, kwargs, node)


def _str(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if not args:
        return ""
    if isinstance(args[0], (int, float, str, bool, type(None))):
        return str(args[0])
    return Unknown(getattr(node, "lineno", 0), f"{source_of(node)} is not known")


def _minmax(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        items = args
        if len(args) == 1:
            if is_unknown(args[0]) or not interp.iterable(args[0]):
                return Unknown(getattr(node, "lineno", 0), f"{source_of(node)}{_why(args[0])}")
            items = list(interp.iterate(args[0], node))
        return _pure(fn)(interp, [items], kwargs, node)

    return wrapped


def _callable(interp: Interpreter, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    if len(args) != 1:
        raise NotFollowed(f"line {getattr(node, 'lineno', '?')}: callable() takes one value")
    value = args[0]
    if is_unknown(value):
        return value
    return isinstance(value, (Function, Bound, Builtin, UserClass, Ext)) or not isinstance(value, _PLAIN)


_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "tuple": tuple,
    "dict": dict,
    "set": set,
}

BUILTINS: dict[str, Builtin] = {
    name: Builtin(name, fn)
    for name, fn in {
        "range": _range,
        "len": _len,
        "enumerate": _enumerate,
        "zip": _zip,
        "reversed": _reversed,
        "sorted": _sorted,
        "min": _minmax(min),
        "max": _minmax(max),
        "sum": _pure(sum),
        "any": _pure(any),
        "all": _pure(all),
        "abs": _pure(abs),
        "round": _pure(round),
        "divmod": _pure(divmod),
        "pow": _pure(lambda a, b: _bounded_pow(a, b)),
        "int": _int,
        "float": _float,
        "bool": _pure(bool, plain=False),
        "str": _str,
        "repr": _str,
        "list": _list,
        "tuple": _tuple,
        "dict": _dict,
        "set": _pure(set),
        "frozenset": _pure(frozenset),
        "map": _map,
        "filter": _filter,
        "isinstance": _isinstance,
        "hasattr": _hasattr,
        "getattr": _getattr,
        "setattr": _setattr,
        "print": _print,
        "super": _super,
        "callable": _callable,
    }.items()
}
BUILTINS["True"] = True  # type: ignore[assignment]
BUILTINS["False"] = False  # type: ignore[assignment]
BUILTINS["None"] = None  # type: ignore[assignment]


def _bounded_pow(a: Any, b: Any) -> Any:
    if number(b) and abs(b) > 4096:
        raise ValueError("exponent too large")
    return a**b


def _math(fn: Callable[..., Any]) -> Builtin:
    return Builtin(fn.__name__, _pure(fn))


#: ``math.X`` (and ``np.X`` on plain numbers): pure functions of known numbers.
MATH: dict[str, Any] = {
    "floor": _math(math.floor),
    "ceil": _math(math.ceil),
    "sqrt": _math(math.sqrt),
    "prod": _math(math.prod),
    "log": _math(math.log),
    "log2": _math(math.log2),
    "log10": _math(math.log10),
    "exp": _math(math.exp),
    "gcd": _math(math.gcd),
    "isqrt": _math(math.isqrt),
    "fabs": _math(math.fabs),
    "trunc": _math(math.trunc),
    "pow": Builtin("pow", _pure(lambda a, b: _bounded_pow(a, b))),
    "pi": math.pi,
    "e": math.e,
    "inf": math.inf,
}


_STATEMENTS: dict[type, Callable[..., None]] = {
    getattr(ast, name[2:]): method
    for name, method in vars(Interpreter).items()
    if name.startswith("s_") and hasattr(ast, name[2:])
}
_EXPRESSIONS: dict[type, Callable[..., Any]] = {
    getattr(ast, name[2:]): method
    for name, method in vars(Interpreter).items()
    if name.startswith("e_") and hasattr(ast, name[2:])
}
