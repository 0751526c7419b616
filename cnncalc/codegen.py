"""The naming and escaping layer of ``cnncalc export``: no text from an input file becomes code.

Every string that reaches generated code is either a Python literal (``repr`` of the value, which
Python reads back as the same string whatever it holds: quotes, newlines, ``\\N``, ``\"\"\"``;
the exporters write names as ``{name!r}`` and the docstring through :func:`docstring`) or an
identifier from a :class:`Names` allocator, which gives each name a valid Python identifier that is

* normalised as the parser normalises identifiers (NFKC, PEP 3131), so two names Python would read
  as one (``fi`` and the ligature ``ﬁ``) get different identifiers;
* never a keyword, a soft keyword, a dunder name, or a name the generated code itself
  uses (``keras``, ``layers``, ``torch``, ``nn``, ``x``, ``self``, an ``nn.Module`` method such as
  ``forward``): those get a prefix;
* unique among the names the allocator gave (with ``_1``, ``_2``, ... appended), found in constant
  time per name (a counter per base), so a model of 100,000 layers exports in linear time.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable

#: What no identifier may be, whatever the target: a keyword, a soft keyword.
_RESERVED = frozenset({*keyword.kwlist, *keyword.softkwlist})
#: Builtins: a module-level variable of that name would shadow them.
BUILTINS = frozenset(dir(builtins))

#: ``torch.nn.Module``'s own attributes and methods (torch 2.x; listed here so the exporter never
#: imports torch): an attribute of that name would replace or shadow them (``self.forward``).
MODULE_ATTRIBUTES = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children named_modules
    named_parameters parameters register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module
    register_parameter register_state_dict_post_hook register_state_dict_pre_hook requires_grad_
    set_extra_state set_submodule share_memory state_dict to to_empty train training type xpu
    zero_grad""".split()
)

_NOT_ASCII_WORD = re.compile(r"[^0-9A-Za-z_]")


def docstring(text: str) -> str:
    """A module docstring line holding ``text`` verbatim, as one escaped string literal (in double
    quotes when ``repr`` chose single ones only by default: the text then has neither quote)."""
    code = repr(text)
    if code.startswith("'") and '"' not in text:
        code = f'"{code[1:-1]}"'
    return code


def identifier(name: str) -> str:
    """``name`` as a valid Python identifier, already in the form the parser reads it (NFKC):
    characters an identifier cannot hold become ``_``; a leading digit gets a ``_`` before it."""
    text = unicodedata.normalize("NFKC", name)
    chars = [c if ("_" + c).isidentifier() else "_" for c in text]
    base = "".join(chars) or "_"
    if not base.isidentifier():
        base = f"_{base}"
    if not base.isidentifier() or unicodedata.normalize("NFKC", base) != base:
        base = _NOT_ASCII_WORD.sub("_", base)  # a character whose NFKC form is not one: ASCII only
        base = base if base.isidentifier() else f"_{base}"
    return base


class Names:
    """Allocates unique, safe identifiers; ``reserved`` adds the names the target's code uses.

    A name that is reserved, a dunder, or (``private=True``: attributes of an object with private
    state of its own) starts with ``_`` gets ``prefix``."""

    def __init__(self, prefix: str, reserved: Iterable[str] = (), private: bool = False) -> None:
        self._prefix = prefix
        self._reserved = _RESERVED | frozenset(reserved)
        self._private = private
        self._taken: set[str] = set()
        self._next: dict[str, int] = {}

    def take(self, name: str) -> None:
        """Mark an identifier the code binds itself as taken."""
        self._taken.add(name)

    def new(self, name: str) -> str:
        """A fresh identifier for ``name``, unique among all given or taken so far."""
        base = identifier(name)
        if base in self._reserved or base.startswith("__") or (self._private and base.startswith("_")):
            base = f"{self._prefix}{base}"
        candidate = base
        n = self._next.get(base, 1)
        while candidate in self._taken:
            candidate, n = f"{base}_{n}", n + 1
        if candidate != base:
            self._next[base] = n
        self._taken.add(candidate)
        return candidate
