"""The built-in model zoo: JSON specs shipped with the package (readable examples too).

Each spec reproduces a published architecture layer by layer and records the parameter count
it matches (``published_params``); ``tests/test_zoo.py`` asserts it. Written by
``tools/make_zoo.py``.
"""

from __future__ import annotations

import os

from ..errors import SpecError

# Plain files beside this module (package data). importlib.resources would cost start-up time
# (it imports tempfile, pathlib and inspect) for no gain in a regular install.
_HERE = os.path.dirname(os.path.abspath(__file__))


def names() -> list[str]:
    """The zoo's model names, sorted."""
    return sorted(name[: -len(".json")] for name in os.listdir(_HERE) if name.endswith(".json"))


def load(name: str) -> str:
    """A zoo model's JSON text; SpecError naming the known models if there is no such model."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    for known in names():
        if known.replace("_", "") == key:
            with open(os.path.join(_HERE, f"{known}.json"), encoding="utf-8") as handle:
                return handle.read()
    raise SpecError(f"no model {name!r} in the zoo (known: {', '.join(names())})")
