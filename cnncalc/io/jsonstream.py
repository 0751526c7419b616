"""JSON text read one value at a time: the top-level object's members, and the elements of one of
its arrays (a spec's ``layers``) one by one, so a big document never exists whole as Python objects.

The reader is a fast path, not a second JSON parser: every value is decoded by the standard
library's C decoder (``json.JSONDecoder.raw_decode``); this module only walks the two outer levels
(``{ "key": value, ... }`` and ``[ value, ... ]``) between them. Whatever it does not handle
(bad JSON, a repeated key, nesting near the limit, a value split in a way it cannot resume) raises
:class:`Irregular`, and the caller reads the text the general way (:func:`~cnncalc.io.document.decode_json`),
which says what is wrong in its own words: messages never depend on which way a text was read.

The text may come in pieces (a file read a chunk at a time): a value is decoded only once the
window holds it whole, followed by the delimiter after it (a number cut at a chunk's end would
otherwise decode short). The window grows geometrically when a value is longer than what it holds,
so a long value is decoded a bounded number of times (at most about twice its length in all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: JSON's four whitespace characters (``json`` skips exactly these).
_WHITESPACE = re.compile(r"[ \t\n\r]*")
#: What may follow a member's value or an array's element.
_AFTER_VALUE = frozenset(",]}")
_OPENERS = ("[", "{")


class Irregular(Exception):
    """The text is not what the fast reader reads (any error, duplicate key or deep nesting
    included): read it the general way."""


class DuplicateKey(Exception):
    """Raised inside the JSON decoder when an object repeats a key."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's pairs as a dict, refusing a repeated key (``json`` would keep the last one)."""
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


def nesting_depth(doc: Any) -> int:
    """How deeply lists and objects nest in a decoded JSON value (iterative: no recursion limit).

    Level by level, one comprehension per level (not a call per container: a 100,000-layer
    snapshot has a million containers)."""
    containers = (list, dict)
    level = [doc] if isinstance(doc, containers) else []
    depth = 0
    while level:
        depth += 1
        level = [
            item
            for value in level
            for item in (value.values() if isinstance(value, dict) else value)
            if isinstance(item, containers)
        ]
    return depth


#: The decoder's own string reader (C), for the keys this module reads between values.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_STRICT = json.JSONDecoder(object_pairs_hook=unique_keys).raw_decode
_PLAIN = json.JSONDecoder().raw_decode


class Window:
    """A moving window over JSON text that arrives in pieces (``chunks``; one piece: a whole text).

    ``strict``: repeated keys are :class:`Irregular` (the text's first reading); without it the
    standard decoder keeps the last one (a reading of text already read strictly)."""

    def __init__(self, chunks: Iterable[str], *, strict: bool = True) -> None:
        self._chunks: Iterator[str] = iter(chunks)
        self._decode: Callable[[str, int], tuple[Any, int]] = _STRICT if strict else _PLAIN
        self.text = ""
        self.pos = 0
        self.eof = False

    def _more(self) -> bool:
        """Drop what has been read and append at least as much text as is left (geometric
        growth); False at the end of the text, the window then as it was."""
        if self.eof:
            return False
        left = len(self.text) - self.pos
        pieces = []
        added = 0
        while added <= left:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.eof = True
                break
            pieces.append(chunk)
            added += len(chunk)
        if not added:
            return False
        # one piece is kept as it is: a whole text read at once is not copied
        self.text = pieces[0] if not left and len(pieces) == 1 else "".join([self.text[self.pos :], *pieces])
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character after whitespace ('' at the end of the text), not consumed."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                return ""

    def expect(self, char: str) -> None:
        """Consume ``char`` (after whitespace), else :class:`Irregular`."""
        if self.peek() != char:
            raise Irregular(char)
        self.pos += 1

    def key(self) -> str:
        """A member's key and its colon."""
        if self.peek() != '"':
            raise Irregular("key")
        while True:
            try:
                key, end = _scanstring(self.text, self.pos + 1, True)
            except ValueError:
                if self._more():
                    continue
                raise Irregular("key") from None
            self.pos = end
            self.expect(":")
            return str(key)

    def value(self, depth_limit: int | None) -> Any:
        """The next value, decoded whole; :class:`Irregular` if it is not valid JSON, or nests
        more than ``depth_limit`` levels (lists and objects) deep (None: not measured). The
        whitespace after it is read too."""
        self.peek()
        while True:
            start = self.pos
            try:
                value, end = self._decode(self.text, start)
            except (ValueError, RecursionError, DuplicateKey):  # JSONDecodeError is a ValueError
                if self._more():
                    continue
                raise Irregular("value") from None
            after = _WHITESPACE.match(self.text, end).end()  # type: ignore[union-attr]
            if after >= len(self.text) or self.text[after] not in _AFTER_VALUE:
                # cut at the window's end (a number may go on), or not followed by a delimiter:
                # read on; at the end of the text this is the structure's business
                if self._more():
                    continue
            text = self.text
            # A value holding k opening brackets nests at most k deep: most values need no walk.
            if (
                depth_limit is not None
                and text.count("[", start, end) + text.count("{", start, end) > depth_limit
                and nesting_depth(value) > depth_limit
            ):
                raise Irregular("depth")
            self.pos = after
            return value

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here, in order; after each key the caller reads
        its value (:meth:`value` or :meth:`elements`). Then the text must end."""
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
        else:
            while True:
                yield self.key()
                char = self.peek()
                self.pos += 1
                if char == "}":
                    break
                if char != ",":
                    raise Irregular("member")
        if self.peek() != "":
            raise Irregular("extra data")

    def elements(self, depth_limit: int | None) -> Iterator[Any]:
        """The values of the array that starts here, decoded one at a time."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value(depth_limit)
            char = self.text[self.pos] if self.pos < len(self.text) else self.peek()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise Irregular("element")
