"""The built-in model zoo: JSON specs shipped with the package (readable examples too).

Each spec reproduces a published architecture layer by layer and records the parameter count
it matches (``published_params``); ``tests/test_zoo.py`` asserts it. Written by
``tools/make_zoo.py``.
"""

from __future__ import annotations

from importlib import resources

from ..errors import SpecError


def names() -> list[str]:
    """The zoo's model names, sorted."""
    return sorted(
        p.name[: -len(".json")] for p in resources.files(__name__).iterdir() if p.name.endswith(".json")
    )


def load(name: str) -> str:
    """A zoo model's JSON text; SpecError naming the known models if there is no such model."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    for known in names():
        if known.replace("_", "") == key:
            return resources.files(__name__).joinpath(f"{known}.json").read_text(encoding="utf-8")
    raise SpecError(f"no model {name!r} in the zoo (known: {', '.join(names())})")
