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


def resolve(name: str) -> str:
    """The zoo entry a name means: ``source/name`` as given, an alias, or a name that only one
    source has (``convnext_tiny``); SpecError naming the known models otherwise."""
    key = _key(name)
    for alias, target in ALIASES.items():
        if _key(alias) == key:
            return target
    known = names()
    exact = [n for n in known if _key(n) == key]
    bare = [n for n in known if _key(n.split("/", 1)[1]) == key]
    if exact or len(bare) == 1:
        return (exact or bare)[0]
    raise SpecError(
        f"no model {name!r} in the zoo (known: {', '.join(known)}; aliases: {', '.join(ALIASES)})"
    )


def load(name: str) -> str:
    """A zoo model's JSON text (by name or alias)."""
    with open(os.path.join(_HERE, f"{resolve(name)}.json"), encoding="utf-8") as handle:
        return handle.read()
