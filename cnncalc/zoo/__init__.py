"""The built-in model zoo: JSON specs shipped with the package (readable examples too), named by
their source: ``torchvision/<name>`` (torchvision's classification models, written by
``tools/make_torchvision_zoo.py`` from the traced modules) and ``keras/<name>`` (Keras and
paper architectures, written by ``tools/make_zoo.py``).

Each spec records the parameter count it matches (``published_params``); ``tests/test_zoo.py``
asserts it. The names of cnncalc 0.1 stay as aliases (:data:`ALIASES`).
"""

from __future__ import annotations

import os

from ..errors import SpecError

# Plain files beside this module (package data). importlib.resources would cost start-up time
# (it imports tempfile, pathlib and inspect) for no gain in a regular install.
_HERE = os.path.dirname(os.path.abspath(__file__))

#: The folders (sources) the zoo's names start with.
SOURCES = ("torchvision", "keras")

#: cnncalc 0.1's names -> the entries they name now (alexnet and resnet18 were torchvision's).
ALIASES = {
    "alexnet": "torchvision/alexnet",
    "resnet18": "torchvision/resnet18",
    "inception_block": "keras/inception_block",
    "lenet5": "keras/lenet5",
    "mobilenet": "keras/mobilenet",
    "mobilenetv2": "keras/mobilenetv2",
    "resnet50": "keras/resnet50",
    "vgg16": "keras/vgg16",
    "vgg19": "keras/vgg19",
}


def names() -> list[str]:
    """The zoo's model names (``source/name``), sorted within each source."""
    out = []
    for source in SOURCES:
        folder = os.path.join(_HERE, source)
        out += sorted(f"{source}/{n[: -len('.json')]}" for n in os.listdir(folder) if n.endswith(".json"))
    return out


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "")


def resolve(name: str, convention: object = None) -> str:
    """The zoo entry a name means: ``source/name`` as given; under a convention, the bare name of
    that framework's model when the zoo has one (``resnet50`` is torchvision's under pytorch,
    Keras's under keras); else an alias, or a name that only one source has (``convnext_tiny``).
    SpecError naming the closest names otherwise."""
    key = _key(name)
    known = names()
    exact = [n for n in known if _key(n) == key]
    if exact:
        return exact[0]
    source = _SOURCE_OF.get(str(getattr(convention, "value", convention) or ""))
    if source is not None:
        own = [n for n in known if n.startswith(f"{source}/") and _key(n.split("/", 1)[1]) == key]
        if own:
            return own[0]
    for alias, target in ALIASES.items():
        if _key(alias) == key:
            return target
    bare = [n for n in known if _key(n.split("/", 1)[1]) == key]
    if len(bare) == 1:
        return bare[0]
    import difflib

    words = sorted({*known, *(n.split("/", 1)[1] for n in known), *ALIASES})
    close = difflib.get_close_matches(name.strip().lower(), words, n=3, cutoff=0.6)
    raise SpecError(
        f"no model {name!r} in the zoo (known: {', '.join(known)}; aliases: {', '.join(ALIASES)})",
        hint=f"did you mean {' or '.join(close)}?" if close else "`cnncalc models` lists them",
    )


#: Which source a convention's bare names come from.
_SOURCE_OF = {"pytorch": "torchvision", "keras": "keras"}


def load(name: str, convention: object = None) -> str:
    """A zoo model's JSON text (by name or alias; a bare name follows ``convention``, see
    :func:`resolve`)."""
    with open(os.path.join(_HERE, f"{resolve(name, convention)}.json"), encoding="utf-8") as handle:
        return handle.read()
