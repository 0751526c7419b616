"""``--trace`` for Keras: deserialise or build the model with the installed Keras (``safe_mode``
on, no weights read), then record each layer call of its graph: the output spec Keras computed and
the layer's ``count_params()`` (trainable and non-trainable).

Each layer call is a cnncalc kind when the Keras reader knows its class (its ``get_config()`` read
as a Keras JSON layer is) and the kind's computed shape and counts equal the recorded ones; any
other (a custom class, a ``Lambda``, a keras-hub block, a nested model) is an opaque row with the
recorded figures. Imported only when asked for (it imports keras).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

from ..enums import Convention, DataFormat
from ..errors import CnncalcError, Option, SpecError
from ..io.document import parse_layer_object
from ..io.spec import LayerSpec, Spec
from ..layers.base import Context
from ..layers.opaque import Opaque
from .common import failure, load_file, need

_CTX = Context(Convention.KERAS, DataFormat.CHANNELS_LAST)
SOURCE = "keras trace"
#: Largest config.json / model_config read from a saved model (as the static reader's limit).
MAX_CONFIG = 64 * 2**20


def keras() -> Any:
    """The installed Keras (a backend chosen when none is set: the first of tensorflow, jax,
    torch that is installed)."""
    if "KERAS_BACKEND" not in os.environ and "keras" not in __import__("sys").modules:
        for backend, package in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch")):
            if importlib.util.find_spec(package) is not None:
                os.environ["KERAS_BACKEND"] = backend
                break
    return need("keras")


def _custom(custom_objects: str | None) -> dict[str, Any]:
    """``--custom-objects MODULE``: a .py file or dotted module imported for its classes."""
    if not custom_objects:
        return {}
    if custom_objects.endswith(".py"):
        path = Path(custom_objects)
        spec = importlib.util.spec_from_file_location("cnncalc_custom_objects", path)
        if spec is None or spec.loader is None or not path.is_file():
            raise SpecError(f"--custom-objects {custom_objects}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        try:
            with contextlib.redirect_stdout(sys.stderr):  # stdout carries cnncalc's own output
                spec.loader.exec_module(module)
        except Exception as err:
            raise failure(f"--custom-objects {custom_objects}: importing it", err) from None
    else:
        try:
            module = importlib.import_module(custom_objects)
        except ImportError as err:
            raise SpecError(f"--custom-objects {custom_objects}: cannot import it ({err.msg})") from None
        except Exception as err:
            raise failure(f"--custom-objects {custom_objects}: importing it", err) from None
    return {k: v for k, v in vars(module).items() if isinstance(v, type) and not k.startswith("_")}


def _config_text(path: str) -> str:
    """The model's configuration, never its weights: ``config.json`` of a .keras zip, the
    ``model_config`` attribute of an .h5 file, or a JSON file as is."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("config.json")
                if info.file_size > MAX_CONFIG:
                    raise SpecError(f"{path}: config.json is larger than {MAX_CONFIG} bytes")
                return archive.read(info).decode("utf-8")
        if suffix in (".h5", ".hdf5"):
            h5py = need("h5py")
            with h5py.File(path, "r") as f:
                config = f.attrs.get("model_config")
                if config is None:
                    raise SpecError(f"{path}: no model_config attribute (weights only?)")
                return config.decode("utf-8") if isinstance(config, bytes) else str(config)
        text = Path(path).read_text()
        if len(text) > MAX_CONFIG:
            raise SpecError(f"{path}: larger than {MAX_CONFIG} bytes")
        return text
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise SpecError(f"{path}: cannot read its model configuration ({err})") from None


def load_keras(path: str, custom_objects: str | None, model_name: str | None) -> Any:
    """The model of a Keras file, built (not loaded: no weights) with ``safe_mode`` on."""
    k = keras()
    objects = _custom(custom_objects)
    if Path(path).suffix.lower() == ".py":
        module = load_file(path, None)
        models = {n: v for n, v in vars(module).items() if isinstance(v, k.Model) and not n.startswith("_")}
        if model_name is not None:
            target = models.get(model_name, vars(module).get(model_name))
            if callable(target) and not isinstance(target, k.Model):
                try:
                    target = target()
                except Exception as err:
                    raise failure(f"{path}: building {model_name}()", err) from None
            if not isinstance(target, k.Model):
                raise SpecError(
                    f"{path}: no Keras model {model_name!r} (models: {', '.join(models) or 'none'})"
                )
            return target
        if len(models) != 1:
            listing = ", ".join(models) or "none"
            raise SpecError(
                f"{path}: {len(models)} Keras models at module level ({listing}); pick one with ",
                Option("model_name"),
            )
        return next(iter(models.values()))
    text = _config_text(path)
    try:
        config = json.loads(text)
    except ValueError as err:
        raise SpecError(f"{path}: the model configuration is not JSON ({err})") from None
    try:
        with k.saving.custom_object_scope(objects):
            if (
                Path(path).suffix.lower() in (".h5", ".hdf5")
                or "keras_version" in config
                and "module" not in config
            ):
                return k.models.model_from_json(json.dumps(config), custom_objects=objects)
            return k.saving.deserialize_keras_object(config, custom_objects=objects, safe_mode=True)
    except Exception as err:
        raise failure(f"{path}: Keras could not build the model from its configuration", err) from None


def keras_file_spec(
    path: str, model_name: str | None, input_shape: tuple[int, ...] | None, custom_objects: str | None
) -> Spec:
    """``-f model.keras|.h5|.json|.py --trace`` with Keras."""
    model = load_keras(path, custom_objects, model_name)
    return trace_keras(model, input_shape, str(getattr(model, "name", Path(path).stem)))


def _shape(shape: Any, where: str) -> tuple[int, ...]:
    dims = tuple(shape)[1:]  # Keras shapes carry the batch axis first
    if any(d is None for d in dims):
        raise SpecError(
            f"{where}: Keras leaves sizes of {tuple(shape)} unknown; build the model with explicit sizes "
            "(e.g. Input(shape=(224, 224, 3)), image_shape=..., sequence_length=...)"
        )
    return tuple(int(d) for d in dims) or (1,)


def _graph(k: Any, model: Any, input_shape: tuple[int, ...] | None) -> Any:
    """A functional graph of the model (a Sequential built on ``input_shape`` when it has none)."""
    if isinstance(model, k.Sequential):
        if input_shape is not None and not getattr(model, "_functional", None):
            try:
                model.build((None, *input_shape))
            except Exception as err:
                raise failure(f"{model.name}: building it on {input_shape}", err) from None
        functional = getattr(model, "_functional", None)
        if functional is None:
            raise SpecError(
                f"{model.name}: a Sequential model without an input shape: give ", Option("input_shape")
            )
        return functional
    if not hasattr(model, "operations") or not getattr(model, "inputs", None):
        raise SpecError(
            f"{model.name}: a subclassed Keras model has no graph to record; build it functionally"
        )
    return model


def trace_keras(model: Any, input_shape: tuple[int, ...] | None, name: str | None = None) -> Spec:
    """Record a built Keras model's graph: one row per layer call (see the module doc)."""
    k = keras()
    graph = _graph(k, model, input_shape)
    label = name or str(model.name)
    inputs: list[tuple[str, tuple[int, ...]]] = []
    rows: dict[tuple[int, int, int], str] = {}  # (operation id, node index, output index) -> row
    layers: list[LayerSpec] = []
    shapes: dict[str, tuple[int, ...]] = {}
    taken: set[str] = set()
    for tensor in graph.inputs:
        op, node_index, index = tensor._keras_history
        shape = _shape(tensor.shape, f"input {op.name!r}")
        inputs.append((op.name, shape))
        rows[(id(op), node_index, index)] = op.name
        shapes[op.name] = shape
        taken.add(op.name)
    if input_shape is not None and len(inputs) == 1 and tuple(input_shape) != inputs[0][1]:
        raise SpecError(
            f"{label}: Keras built it for input {'x'.join(map(str, inputs[0][1]))}; --trace records that input "
            "(rebuild the model for another)"
        )
    for op in graph.operations:
        if isinstance(op, k.layers.InputLayer):
            continue
        for node_index, node in enumerate(op._inbound_nodes):
            sources = []
            for t in node.input_tensors:
                key = (id(t._keras_history[0]), t._keras_history[1], t._keras_history[2])
                if key not in rows:
                    break
                sources.append(rows[key])
            else:
                if not sources:
                    continue
                _emit(k, op, node_index, node, list(dict.fromkeys(sources)), rows, layers, shapes, taken)
    if not layers:
        raise SpecError(f"{label}: no layer calls to record")
    return Spec(
        layers=tuple(layers),
        data_format=DataFormat.CHANNELS_LAST,
        convention=Convention.KERAS,
        name=label,
        inputs=tuple(inputs),
    )


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 1
    while out in taken:
        out, n = f"{name}_{n}", n + 1
    taken.add(out)
    return out


def _counts(op: Any) -> tuple[int, int]:
    trainable = sum(int(_size(w)) for w in getattr(op, "trainable_weights", []))
    frozen = sum(int(_size(w)) for w in getattr(op, "non_trainable_weights", []))
    return trainable, frozen


def _size(weight: Any) -> int:
    n = 1
    for d in weight.shape:
        n *= int(d)
    return n


def _emit(
    k: Any,
    op: Any,
    node_index: int,
    node: Any,
    sources: list[str],
    rows: dict[tuple[int, int, int], str],
    layers: list[LayerSpec],
    shapes: dict[str, tuple[int, ...]],
    taken: set[str],
) -> None:
    outs = list(node.outputs)
    base = op.name if node_index == 0 else f"{op.name}_call{node_index}"
    trainable, frozen = _counts(op) if node_index == 0 else (0, 0)
    cls = type(op)
    origin = f"{cls.__module__}.{cls.__qualname__}"
    for i, tensor in enumerate(outs):
        name = _unique(base if i == 0 else f"{base}[{i}]", taken)
        out = _shape(tensor.shape, f"layer {op.name!r}")
        in_shapes = [shapes[s] for s in sources]
        layer = None
        if i == 0 and len(outs) == 1:
            layer = _mapped(op, in_shapes, out, trainable, frozen, node_index)
        spec: LayerSpec
        if layer is not None:
            spec = LayerSpec(
                layer,
                f"{cls.__name__} {name!r}",
                name,
                trainable=bool(getattr(op, "trainable", True)),
                compact=False,
                inputs=tuple(sources),
            )
        else:
            opaque = Opaque(
                op=origin if i == 0 else f"{origin}[{i}]",
                shape=out,
                trainable_count=trainable if i == 0 else 0,
                non_trainable_count=frozen if i == 0 else 0,
                in_shapes=tuple(in_shapes),
                source=SOURCE,
            )
            spec = LayerSpec(opaque, f"{cls.__name__} {name!r}", name, compact=False, inputs=tuple(sources))
        layers.append(spec)
        shapes[name] = out
        rows[(id(op), node_index, i)] = name


def _mapped(
    op: Any,
    in_shapes: list[tuple[int, ...]],
    out: tuple[int, ...],
    trainable: int,
    frozen: int,
    node_index: int,
) -> Any:
    """The cnncalc kind of a Keras layer call, checked against the recording; None: opaque."""
    try:
        config = op.get_config()
        obj = {"class_name": type(op).__name__, "config": json.loads(json.dumps(config, default=str))}
        ls, _ = parse_layer_object(obj, Convention.KERAS)
    except (CnncalcError, TypeError, ValueError, NotImplementedError):
        return None
    except Exception:  # a layer's own get_config failing: not a kind cnncalc can read
        return None
    layer = ls.layer
    with contextlib.suppress(CnncalcError):
        if layer.takes_many:
            result = layer.compute_many(list(in_shapes), [str(i) for i in range(len(in_shapes))], _CTX)  # type: ignore[attr-defined]
        elif len(in_shapes) == 1:
            result = layer.compute(in_shapes[0], _CTX)
        else:
            return None
        if tuple(result.shape) != out or result.buffers:
            return None
        if node_index > 0:  # a shared layer's later call: its weights are counted at the first
            return layer if result.trainable + result.non_trainable == 0 else None
        if getattr(op, "trainable", True):
            same = (result.trainable, result.non_trainable) == (trainable, frozen)
        else:  # a frozen layer: Keras counts all its weights non-trainable (the row says trainable: false)
            same = trainable == 0 and result.trainable + result.non_trainable == frozen
        return layer if same else None
    return None
