"""``--trace``: build a model with the user's installed framework and record one forward pass.

Opt-in only: this imports and runs code (the model file, the factory, the framework). Static
reading (:mod:`cnncalc.io`) stays the default. The frameworks are imported inside the functions
here, never at start-up; this package is the one place of cnncalc that imports torch or keras
(``tests/test_architecture.py``).

- PyTorch (:func:`torch_spec`, :func:`torch_file_spec`, :func:`trace_module`): the model is built
  on the meta device (no weight memory), run once on a meta input, and every module call and
  tensor op becomes a row (:mod:`.torch_trace`).
- Keras (:func:`keras_file_spec`, :func:`trace_keras`): the model is deserialised or built with
  the installed Keras (``safe_mode`` on, no weights loaded) and each layer's output spec and
  ``count_params()`` recorded (:mod:`.keras_trace`).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import CnncalcError, Option, SpecError
from ..io.spec import Spec
from .common import TraceError, failure, importable_cwd, load_file, need, require

__all__ = [
    "TraceError",
    "failure",
    "file_spec",
    "live_spec",
    "load_file",
    "need",
    "require",
    "torch_spec",
    "trace_module",
]

#: What the first line of output says when a model was traced (the help and docs say it too).
RUNS_CODE = "--trace imported and ran the model's code with your installed {framework}"

_TARGET = re.compile(r"^\s*([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)\s*:\s*(.+?)\s*$", re.S)


# ----------------------------------------------------------------------------- --torch targets


def parse_target(text: str) -> tuple[str, str, list[Any], dict[str, Any]]:
    """``MODULE:FACTORY[(ARGS)]`` -> (module, factory, args, kwargs). ARGS are Python literals
    only (read with :func:`ast.literal_eval`, never evaluated as code)."""
    match = _TARGET.match(text)
    if not match:
        raise SpecError(
            f"--torch {text!r}: expected MODULE:FACTORY or MODULE:FACTORY(ARGS), e.g. "
            "torchvision.models:resnet50, timm:resnet50d, mypkg.nets:Net(width=2)"
        )
    module, call = match.groups()
    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError:
        raise SpecError(f"--torch {text!r}: {call!r} is not FACTORY or FACTORY(ARGS)") from None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if isinstance(node, ast.Call):
        func = node.func
        try:
            args = [ast.literal_eval(a) for a in node.args]
            for kw in node.keywords:
                if kw.arg is None:
                    raise ValueError("**")
                kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise SpecError(
                f"--torch {text!r}: arguments must be Python literals (numbers, strings, True/False/None, "
                "tuples, lists, dicts)"
            ) from None
    else:
        func = node
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        raise SpecError(f"--torch {text!r}: {call!r} does not name a factory")
    parts.append(func.id)
    return module, ".".join(reversed(parts)), args, kwargs


def build_torch(text: str) -> tuple[Any, Any, str, tuple[int, ...] | None, tuple[str, ...]]:
    """(torch, the model built on the meta device, its name, the input size its factory declares,
    notes: a factory that computes with tensor values is built on the CPU instead)."""
    torch = need("torch")
    module_name, factory, args, kwargs = parse_target(text)
    for key in ("pretrained", "weights", "pretrained_cfg_overlay", "checkpoint_path"):
        if kwargs.get(key) not in (None, False, ""):
            raise SpecError(
                f"--torch {text!r}: {key}= would load weights; cnncalc never loads or downloads any"
            )
    import importlib

    try:
        with importable_cwd():
            module = importlib.import_module(module_name)
    except ImportError as err:
        raise SpecError(f"--torch {text!r}: cannot import {module_name!r} ({err.msg})") from None
    except Exception as err:  # the module's own code failed
        raise failure(f"--torch {text!r}: importing {module_name}", err) from None
    declared = None
    if module_name == "timm" and factory != "create_model":
        # timm builds by name; pretrained=False: nothing is downloaded
        args, kwargs, factory = [factory, *args], {**kwargs, "pretrained": False}, "create_model"
    target: Any = module
    for part in factory.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise SpecError(f"--torch {text!r}: {module_name} has no {factory!r}")
    if not callable(target):
        raise SpecError(f"--torch {text!r}: {module_name}.{factory} is not callable")
    notes: tuple[str, ...] = ()
    try:
        with torch.device("meta"):
            model = target(*args, **kwargs)
    except NotImplementedError:  # the factory reads tensor values (regnet's widths): meta has none
        notes = (
            f"{factory} computes with tensor values while it builds: built on the CPU (weights allocated)",
        )
        try:
            model = target(*args, **kwargs)
        except Exception as err:
            raise failure(f"--torch {text!r}: building the model", err) from None
    except Exception as err:
        raise failure(f"--torch {text!r}: building the model", err) from None
    if not isinstance(model, torch.nn.Module):
        raise SpecError(
            f"--torch {text!r}: {factory} returned a {type(model).__name__}, not a torch.nn.Module"
        )
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    if isinstance(cfg, dict) and isinstance(cfg.get("input_size"), tuple):
        declared = tuple(int(n) for n in cfg["input_size"])
    name = str(args[0]) if factory == "create_model" and args else factory.rpartition(".")[2]
    return torch, model, name, declared, notes


def torch_spec(text: str, input_shape: tuple[int, ...] | None, batch: int = 1) -> Spec:
    """``--torch MODULE:FACTORY[(ARGS)]``: built on meta, traced on ``input_shape``."""
    torch, model, name, declared, notes = build_torch(text)
    shape = input_shape or declared
    if shape is None:
        raise SpecError(
            f"--torch {text!r}: give the input shape with ",
            Option("input_shape"),
            " (C x H x W, e.g. 3x224x224)",
        )
    spec = trace_module(model, shape, batch=batch, name=name, torch=torch)
    return replace(spec, notes=(*notes, *spec.notes))


def trace_module(
    model: Any, input_shape: tuple[int, ...], *, batch: int = 1, name: str | None = None, torch: Any = None
) -> Spec:
    """A live ``torch.nn.Module`` traced on ``(batch, *input_shape)``: on meta when its weights
    are on meta, else under a fake-tensor mode (nothing computed, nothing copied)."""
    torch = torch or need("torch")
    from . import torch_trace

    label = name or type(model).__name__
    real = any(p.device.type != "meta" for p in model.parameters())
    try:
        if real:
            from torch._subclasses.fake_tensor import FakeTensorMode

            with FakeTensorMode(allow_non_fake_inputs=True):
                spec, _ = torch_trace.record(torch, model, tuple(input_shape), batch, label)
        else:
            spec, _ = torch_trace.record(torch, model, tuple(input_shape), batch, label)
    except CnncalcError:
        raise
    except Exception as err:
        raise failure(
            f"{label}: running the model on a {'x'.join(map(str, input_shape))} input", err
        ) from None
    return spec


# ----------------------------------------------------------------------------- model files


def choose_torch(module: Any, torch: Any, path: str, model_name: str | None) -> tuple[Any, str]:
    """The model of an imported file, by the static reader's rules: a module-level model instance
    (an ``nn.Module`` class the file instantiates is that instance), an ``nn.Module`` class of
    the file no one instantiates (built without arguments), a ``nn.Sequential`` that is part of
    another model is not a model of its own; ``--model-name`` picks one (a variable, a class or a
    function of the file that returns a model, called without arguments)."""
    nn = torch.nn
    instances = {k: v for k, v in vars(module).items() if isinstance(v, nn.Module) and not k.startswith("_")}
    classes = {
        k: v
        for k, v in vars(module).items()
        if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module.__name__
    }
    parts = {id(m) for v in instances.values() for m in v.modules() if m is not v}
    made = {type(m) for v in instances.values() for m in v.modules()}  # classes used inside models
    models: dict[str, Any] = {k: v for k, v in instances.items() if id(v) not in parts}
    for k, cls in classes.items():
        if cls not in made and k not in models:
            models[k] = cls
    if model_name is not None:
        target = models.get(model_name, vars(module).get(model_name))
        if target is None or not (callable(target) or isinstance(target, nn.Module)):
            listing = ", ".join(models) or "none"
            raise SpecError(f"{path}: no model {model_name!r} in the file (models: {listing})")
    elif len(models) == 1:
        model_name, target = next(iter(models.items()))
    elif not models:
        raise SpecError(f"{path}: found no torch.nn.Module model in the file")
    else:
        raise SpecError(
            f"{path}: the file defines {len(models)} models: {', '.join(models)}; pick one with ",
            Option("model_name"),
        )
    if isinstance(target, nn.Module):
        return target, model_name
    try:
        with torch.device("meta"):
            built = target()
    except TypeError as err:
        raise SpecError(
            f"{path}: {model_name}() cannot be built without arguments ({err}); build it at module level "
            "(model = Net(...)) or use --torch MODULE:FACTORY(ARGS)"
        ) from None
    except Exception as err:
        raise failure(f"{path}: building {model_name}()", err) from None
    if not isinstance(built, nn.Module):
        raise SpecError(f"{path}: {model_name}() returned a {type(built).__name__}, not a torch.nn.Module")
    return built, model_name


def input_of(module: Any, torch: Any) -> tuple[int, ...] | None:
    """The input shape of a file's one module-level tensor of rank >= 2 (``x = torch.randn(1, 3,
    32, 32)``), without its batch axis, or None."""
    found = [
        v
        for k, v in vars(module).items()
        if isinstance(v, torch.Tensor) and v.dim() >= 2 and not k.startswith("_")
    ]
    return tuple(int(n) for n in found[0].shape[1:]) if len(found) == 1 else None


def torch_file_spec(
    path: str, model_name: str | None, input_shape: tuple[int, ...] | None, batch: int = 1
) -> Spec:
    """``-f model.py --trace`` for PyTorch code."""
    torch = need("torch")
    module = load_file(path, torch)
    model, name = choose_torch(module, torch, path, model_name)
    shape = input_shape or input_of(module, torch)
    if shape is None:
        raise SpecError(
            f"{path}: give the input shape with ", Option("input_shape"), " (C x H x W, e.g. 3x32x32)"
        )
    return trace_module(model, shape, batch=batch, name=name, torch=torch)


def is_keras_code(path: str) -> bool:
    """A .py file that imports keras (or tf.keras) and not torch: traced with Keras."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return False
    torch = re.search(r"^\s*(import torch|from torch)", text, re.M)
    keras = re.search(r"^\s*(import (keras|tensorflow)|from (keras|tensorflow))", text, re.M)
    return bool(keras) and not torch


def uses_keras(path: str) -> bool:
    """Whether --trace reads ``path`` with Keras (a saved Keras model, or Keras code), else torch."""
    suffix = Path(path).suffix.lower()
    return suffix in (".keras", ".h5", ".hdf5", ".json") or (suffix == ".py" and is_keras_code(path))


def file_spec(
    path: str,
    model_name: str | None,
    input_shape: tuple[int, ...] | None,
    custom_objects: str | None = None,
    batch: int = 1,
) -> tuple[Spec, str]:
    """``-f FILE --trace``: (the traced spec, the framework that ran it)."""
    suffix = Path(path).suffix.lower()
    if uses_keras(path):
        from .keras_trace import keras_file_spec

        return keras_file_spec(path, model_name, input_shape, custom_objects), "keras"
    if suffix != ".py":
        raise SpecError(
            f"{path}: --trace reads .py (PyTorch or Keras code), .keras, .h5 or .json model files"
        )
    return torch_file_spec(path, model_name, input_shape, batch), "torch"


# ----------------------------------------------------------------------------- live models


def live_spec(source: Any, input_shape: tuple[int, ...] | None, depth: int | None = None) -> Spec | None:
    """The traced spec of a live ``torch.nn.Module`` or Keras model (None for any other source:
    a spec, a document, a file). Only frameworks the user already imported are looked at."""
    spec: Spec | None = None
    torch = sys.modules.get("torch")
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(source, keras.Model):  # first: on torch, a torch module too
        from .keras_trace import trace_keras

        spec = trace_keras(source, input_shape)
    elif torch is not None and isinstance(source, torch.nn.Module):
        if input_shape is None:
            raise SpecError("a torch.nn.Module is traced on an input: give input=(C, H, W)")
        spec = trace_module(source, tuple(input_shape), torch=torch)
    if spec is not None and depth is not None:
        from .fold import fold

        spec = fold(spec, depth)
    elif depth is not None and not isinstance(source, (str, bytes)):
        raise SpecError("depth folds a traced model's modules: give a torch.nn.Module or Keras model")
    return spec
