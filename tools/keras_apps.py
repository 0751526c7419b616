"""Dev-only cross-check: every ``keras.applications`` constructor, read by cnncalc, against Keras.

Two steps, so the expensive one runs once:

    # 1. build each model with Keras (weights=None, nothing downloaded), write its to_json() and
    #    Keras's own figures (every layer's output shape and params, the totals) to DIR
    KERAS_BACKEND=torch python tools/keras_apps.py dump DIR [NAME...]
    # 2. read each dump with cnncalc and compare layer by layer (no Keras needed)
    python tools/keras_apps.py compare DIR
    # ... reading None sizes as Keras prints them (no size given; None must be None)
    python tools/keras_apps.py compare DIR --as-keras

``KERAS_APPS_VARIANTS=notop`` (a comma list of variant names) dumps only those variants.

Variants per constructor: ``default`` (Keras's defaults), ``size`` (include_top=True at another
input size) and ``notop`` (include_top=False, pooling='avg', Keras's default input shape, which
has ``None`` sizes: cnncalc is given the default size with ``input_shape``). Where Keras reports a
``None`` size, any size cnncalc computes is accepted; every other size, every layer's params and
the totals must be equal. A constructor that Keras refuses under the torch backend is dumped
again under jax, in a subprocess; ``dump`` does that by itself. In Keras 3.15.1 that is
NASNetMobile ("not available with the torch backend at this time due to an outstanding bug").
"""

from __future__ import annotations

import gc
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SIZE = {
    "InceptionV3": 299,
    "InceptionResNetV2": 299,
    "Xception": 299,
    "NASNetLarge": 331,
    "EfficientNetB1": 240,
    "EfficientNetB2": 260,
    "EfficientNetB3": 300,
    "EfficientNetB4": 380,
    "EfficientNetB5": 456,
    "EfficientNetB6": 528,
    "EfficientNetB7": 600,
    "EfficientNetV2B1": 240,
    "EfficientNetV2B2": 260,
    "EfficientNetV2B3": 300,
    "EfficientNetV2S": 384,
    "EfficientNetV2M": 480,
    "EfficientNetV2L": 480,
}


def default_size(name: str) -> int:
    return DEFAULT_SIZE.get(name, 224)


def other_size(name: str) -> int:
    """Another input size: 32 less than the default (NASNet's cells need a multiple of 32 + 1 for
    Large, which 299 = 331 - 32 keeps)."""
    return default_size(name) - 32


def constructors() -> list[str]:
    import inspect

    import keras

    return sorted(n for n in dir(keras.applications) if inspect.isfunction(getattr(keras.applications, n)))


def _figures(model) -> dict:
    def shape(layer) -> list | None:
        try:
            return [None if n is None else int(n) for n in layer.output.shape[1:]]
        except (AttributeError, ValueError):
            return None

    return {
        "layers": [
            {
                "name": layer.name,
                "class_name": type(layer).__name__,
                "output_shape": shape(layer),
                "params": int(layer.count_params()),
            }
            for layer in model.layers
            if type(layer).__name__ != "InputLayer"
        ],
        "output_shape": [None if n is None else int(n) for n in model.output.shape[1:]],
        "total_params": int(model.count_params()),
        "trainable_params": int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        "non_trainable_params": int(sum(math.prod(w.shape) for w in model.non_trainable_weights)),
    }


def dump_one(name: str, out: Path) -> list[str]:
    """Build the three variants of one constructor; write VARIANT.json files; return their names."""
    import keras

    ctor = getattr(keras.applications, name)
    variants = {
        "default": {},
        "size": {"input_shape": (other_size(name), other_size(name), 3)},
        "notop": {"include_top": False, "pooling": "avg"},
    }
    chosen = os.environ.get("KERAS_APPS_VARIANTS")  # e.g. "notop": only those (a quicker sweep)
    if chosen:
        variants = {k: v for k, v in variants.items() if k in chosen.split(",")}
    written = []
    for variant, kwargs in variants.items():
        path = out / f"{name}__{variant}.json"
        if path.exists():
            written.append(path.name)
            continue
        start = time.perf_counter()
        model = ctor(weights=None, **kwargs)
        doc = {
            "constructor": name,
            "variant": variant,
            "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
            "default_size": default_size(name),
            "keras": f"keras {keras.__version__}, backend {keras.backend.backend()}",
            "model": json.loads(model.to_json()),
            "expected": _figures(model),
        }
        path.write_text(json.dumps(doc))
        written.append(path.name)
        print(
            f"{path.name}: {doc['expected']['total_params']} params, {time.perf_counter() - start:.1f}s",
            flush=True,
        )
        del model
        keras.backend.clear_session()
        gc.collect()
    return written


def dump(out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    backend = os.environ.get("KERAS_BACKEND")
    names = names or constructors()
    for name in names:
        try:
            dump_one(name, out)
        except Exception as err:  # noqa: BLE001 - report and go on: one sweep, every model
            print(f"{name}: Keras ({backend}) could not build it: {type(err).__name__}: {err}", flush=True)
            if backend != "jax":
                env = {**os.environ, "KERAS_BACKEND": "jax"}
                subprocess.run([sys.executable, __file__, "dump", str(out), name], env=env, check=False)


# ----------------------------------------------------------------------------- compare


def compare_one(doc: dict, as_keras: bool = False) -> list[str]:
    """Differences between cnncalc's reading of one dump and Keras's figures ([] when equal).

    With ``as_keras`` a model whose input has ``None`` sizes is read as it is (no size given), and
    every size must be what Keras prints, ``None`` included; otherwise it gets its default size
    and Keras's ``None`` sizes accept any size."""
    import cnncalc
    from cnncalc.errors import CnncalcError
    from cnncalc.io.document import parse_spec

    expected = doc["expected"]
    try:
        spec = parse_spec(doc["model"])
        size = doc["default_size"]
        needs_size = any(n is None for _, shape in spec.inputs for n in shape) if spec.inputs else False
        given = (size, size, 3) if needs_size and not as_keras else None
        summary = cnncalc.summarize(spec, input_shape=given)
    except CnncalcError as err:
        return [f"cnncalc refused it: {err}"]
    same = _exact_shape if as_keras else _same_shape
    rows = {row.name: row for row in summary.layers}
    problems = []
    for layer in expected["layers"]:
        row = rows.get(layer["name"])
        if row is None:
            problems.append(f"{layer['name']}: no row")
            continue
        if not same(list(row.output_dims), layer["output_shape"]):
            problems.append(
                f"{layer['name']}: shape {list(row.output_dims)} != Keras {layer['output_shape']}"
            )
        if row.params != layer["params"]:
            problems.append(f"{layer['name']}: params {row.params} != Keras {layer['params']}")
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        if getattr(summary, key) != expected[key]:
            problems.append(f"{key}: {getattr(summary, key)} != Keras {expected[key]}")
    if not same(list(summary.output_dims), expected["output_shape"]):
        problems.append(f"output shape {list(summary.output_dims)} != Keras {expected['output_shape']}")
    return problems


def _exact_shape(ours: list, keras: list | None) -> bool:
    return keras is None or ours == keras


def _same_shape(ours: list, keras: list | None) -> bool:
    if keras is None:
        return True
    return len(ours) == len(keras) and all(k is None or o == k for o, k in zip(ours, keras, strict=True))


def compare(directory: Path, as_keras: bool = False) -> int:
    agree = 0
    files = sorted(directory.glob("*__*.json"))
    for path in files:
        problems = compare_one(json.loads(path.read_text()), as_keras)
        if problems:
            print(f"DIFFER {path.stem}: {len(problems)} differences; first: {problems[0]}")
        else:
            agree += 1
    print(f"{agree} of {len(files)} models agree with Keras on every layer's shape and params and the totals")
    return 0 if agree == len(files) else 1


if __name__ == "__main__":
    command, directory, *rest = sys.argv[1:]
    if command == "dump":
        dump(Path(directory), rest)
    elif command == "compare":
        sys.exit(compare(Path(directory), as_keras="--as-keras" in rest))
    else:
        sys.exit(f"unknown command {command!r} (dump or compare)")
