"""Write cnncalc/zoo/torchvision/*.json: torchvision's classification models, layer for layer.

Run with the framework venv (torch 2.13.0 CPU, torchvision 0.28):

    PYTHONPATH=. /work/devvenv/bin/python tools/make_torchvision_zoo.py

Each model (``weights=None``, eval mode) is traced with ``torch.fx``; every leaf module becomes
one layer named by its module path (``layer1.0.conv1``) in PyTorch's argument names, and the
functions between them (residual ``+``, ``torch.cat``, ``torch.flatten``, ``F.relu``, pooling
functions, ``x.mean``, ``chunk``) become layers of their own, so the spec has the module
structure the FLOP counters hook. Views and transposes that give back the shape they started
from (ShuffleNet's channel shuffle, a permutation of the channels) are not rows. GoogLeNet and
Inception v3 are built as ``torchvision.models`` builds them by default (``aux_logits=True``):
eval mode's forward skips the auxiliary classifiers, so each is traced alone from the output
of the block that feeds it in train mode and its rows (named ``aux1.conv.conv``,
``aux1.adaptive_avg_pool2d``, ...) carry ``"training_only": true``: their parameters count in
the total, their MACs not in the eval-mode totals.

``published_params`` is ``sum(p.numel() for p in model.parameters())``; the dev-only test
``tests/test_torchvision_zoo.py`` compares every leaf module's output shape with torchvision's.
"""

from __future__ import annotations

import json
import operator
import os
import sys

import torch
import torch.fx
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp
from torchvision.models.convnext import LayerNorm2d
from torchvision.ops.misc import Permute
from torchvision.ops.stochastic_depth import StochasticDepth, stochastic_depth

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "cnncalc", "zoo", "torchvision")

#: name -> (constructor keyword arguments, input size)
MODELS = {
    "alexnet": ({}, 224),
    "vgg16": ({}, 224),
    "vgg19": ({}, 224),
    "resnet18": ({}, 224),
    "resnet50": ({}, 224),
    "mobilenet_v2": ({}, 224),
    "mobilenet_v3_small": ({}, 224),
    "squeezenet1_0": ({}, 224),
    "shufflenet_v2_x1_0": ({}, 224),
    "densenet121": ({}, 224),
    "googlenet": ({"aux_logits": True, "init_weights": False}, 224),
    "inception_v3": ({"aux_logits": True, "init_weights": False}, 299),
    "efficientnet_b0": ({}, 224),
    "regnet_y_400mf": ({}, 224),
    "convnext_tiny": ({}, 224),
}

#: Published descriptions (torchvision's docs and papers).
TITLES = {
    "alexnet": "AlexNet (one-tower torchvision variant)",
    "vgg16": "VGG16 (configuration D) with AdaptiveAvgPool2d(7)",
    "vgg19": "VGG19 (configuration E) with AdaptiveAvgPool2d(7)",
    "resnet18": "ResNet-18",
    "resnet50": "ResNet-50 v1.5 (stride on the 3x3 conv of each bottleneck)",
    "mobilenet_v2": "MobileNetV2, width 1.0",
    "mobilenet_v3_small": "MobileNetV3-Small",
    "squeezenet1_0": "SqueezeNet 1.0",
    "shufflenet_v2_x1_0": "ShuffleNetV2 x1.0",
    "densenet121": "DenseNet-121",
    "googlenet": "GoogLeNet (Inception v1) with its two auxiliary classifiers (aux1, aux2: training only)",
    "inception_v3": "Inception v3 with its auxiliary classifier (AuxLogits: training only)",
    "efficientnet_b0": "EfficientNet-B0",
    "regnet_y_400mf": "RegNetY-400MF",
    "convnext_tiny": "ConvNeXt-Tiny",
}

#: The auxiliary classifiers (module path -> the block whose output it reads, as the model's
#: forward feeds it in train mode).
AUX = {"googlenet": {"aux1": "inception4a", "aux2": "inception4d"}, "inception_v3": {"AuxLogits": "Mixed_6e"}}

_LEAVES = (LayerNorm2d, Permute, StochasticDepth)


class Tracer(torch.fx.Tracer):
    """torch.nn modules and torchvision's LayerNorm2d/Permute/StochasticDepth are leaves."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, _LEAVES) or super().is_leaf_module(m, qualname)


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def inplace(m: nn.Module) -> dict:
    """``inplace: true`` for a module built with ``inplace=True`` (the memory model shares its
    input's storage); nothing otherwise (the default)."""
    return {"inplace": True} if getattr(m, "inplace", False) else {}


def module_layer(m: nn.Module) -> dict:
    """One leaf module in PyTorch's argument names (cnncalc's own names where PyTorch has none)."""
    if isinstance(m, nn.Conv2d):
        assert m.padding_mode == "zeros" and not isinstance(m.padding, str)
        return {
            "type": "Conv2d",
            "in_channels": m.in_channels,
            "out_channels": m.out_channels,
            "kernel_size": pair(m.kernel_size),
            "stride": pair(m.stride),
            "padding": pair(m.padding),
            "dilation": pair(m.dilation),
            "groups": m.groups,
            "bias": m.bias is not None,
        }
    if isinstance(m, nn.BatchNorm2d):
        assert m.affine and m.track_running_stats
        return {"type": "BatchNorm2d", "num_features": m.num_features, "eps": m.eps, "momentum": m.momentum}
    if isinstance(m, nn.Linear):
        return {
            "type": "Linear",
            "in_features": m.in_features,
            "out_features": m.out_features,
            "bias": m.bias is not None,
        }
    if isinstance(m, nn.MaxPool2d):
        return {
            "type": "MaxPool2d",
            "kernel_size": pair(m.kernel_size),
            "stride": pair(m.stride),
            "padding": pair(m.padding),
            "dilation": pair(m.dilation),
            "ceil_mode": m.ceil_mode,
        }
    if isinstance(m, nn.AvgPool2d):
        return {
            "type": "AvgPool2d",
            "kernel_size": pair(m.kernel_size),
            "stride": pair(m.stride),
            "padding": pair(m.padding),
            "ceil_mode": m.ceil_mode,
            "count_include_pad": m.count_include_pad,
        }
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return {"type": "AdaptiveAvgPool2d", "output_size": pair(m.output_size)}
    if isinstance(m, nn.ReLU6):
        return {"type": "ReLU", "max_value": 6.0, **inplace(m)}
    if isinstance(m, nn.ReLU):
        return {"type": "ReLU", **inplace(m)}
    activations = {
        nn.SiLU: "silu",
        nn.Hardswish: "hard_swish",
        nn.Hardsigmoid: "hard_sigmoid",
        nn.Sigmoid: "sigmoid",
        nn.GELU: "gelu",
    }
    if type(m) in activations:
        if isinstance(m, nn.GELU):
            assert m.approximate == "none"
        return {"type": "Activation", "activation": activations[type(m)], **inplace(m)}
    if isinstance(m, StochasticDepth):  # one draw per sample ("row") or per batch
        noise = [None, 1, 1, 1] if m.mode == "row" else [1, 1, 1, 1]
        return {"type": "Dropout", "rate": m.p, "noise_shape": noise}
    if isinstance(m, nn.Dropout):
        return {"type": "Dropout", "rate": m.p}
    if isinstance(m, nn.Flatten):
        assert m.start_dim == 1 and m.end_dim == -1
        return {"type": "Flatten"}
    if isinstance(m, LayerNorm2d):  # the channel axis of N x C x H x W: Keras axis 1
        return {"type": "LayerNormalization", "axis": 1, "epsilon": m.eps}
    if isinstance(m, nn.LayerNorm):
        assert len(m.normalized_shape) == 1 and m.elementwise_affine
        return {"type": "LayerNormalization", "axis": -1, "epsilon": m.eps}
    if isinstance(m, Permute):
        assert m.dims[0] == 0
        return {"type": "Permute", "dims": list(m.dims[1:])}
    raise NotImplementedError(f"no mapping for {type(m).__name__}")


def shape_of(node: torch.fx.Node) -> list[int] | None:
    meta = node.meta.get("tensor_meta")
    return list(meta.shape)[1:] if hasattr(meta, "shape") else None


def output_of(graph: torch.fx.Graph, path: str) -> torch.fx.Node:
    """The node that gives the output of submodule ``path`` (the last one traced inside it)."""
    inside = [n for n in graph.nodes if path in n.meta.get("nn_module_stack", {})]
    return inside[-1]


def convert(name: str) -> dict:
    kwargs, size = MODELS[name]
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    graph = torch.fx.GraphModule(model, Tracer().trace(model))
    ShapeProp(graph).propagate(torch.zeros(1, 3, size, size))

    layers: list[dict] = []
    used_names: set[str] = set()
    row_shape: dict[str, list[int] | None] = {"input": [3, size, size]}

    def walk(
        graph: torch.fx.GraphModule, entry: str, prefix: str = "", extra: dict | None = None
    ) -> tuple[list[dict], dict[str, str]]:
        """The rows of one traced graph (its placeholder stands for the row ``entry``): module
        rows named ``prefix`` + module path, function rows ``prefix`` + fx node name."""
        out: list[dict] = []
        modules = dict(graph.named_modules())
        alias: dict[str, str] = {}  # fx node name -> the layer (or input) it stands for
        chunks: dict[str, tuple[str, int, int]] = {}  # chunk node -> (source, dim, parts)

        def src(arg) -> str:
            # a dropped view/transpose must give back the shape of what it stands for
            row = alias[arg.name]
            assert shape_of(arg) == row_shape[row], (name, arg.name, shape_of(arg), row_shape[row])
            return row

        def emit(node: torch.fx.Node, layer: dict, inputs: list[str], row_name: str | None = None) -> None:
            row = base = prefix + (row_name or node.name)
            n = 0
            while row in used_names:  # a module called twice (ResNet's relu): relu, relu_1
                n += 1
                row = f"{base}_{n}"
            used_names.add(row)
            out.append({"name": row, **layer, **(extra or {}), "inputs": inputs})
            alias[node.name] = row
            row_shape[row] = shape_of(node)

        for node in graph.graph.nodes:
            if node.op == "placeholder":
                alias[node.name] = entry
            elif node.op == "output":
                continue
            elif node.op == "get_attr":
                continue  # a parameter read by an op below
            elif node.op == "call_module":
                m = modules[node.target]
                emit(node, module_layer(m), [src(node.args[0])], node.target)
            elif node.op == "call_function":
                fn, args = node.target, node.args
                tensors = [a for a in args if isinstance(a, torch.fx.Node) and shape_of(a) is not None]
                if fn in (operator.add, operator.iadd, torch.add):
                    if all(isinstance(a, torch.fx.Node) for a in args[:2]):
                        emit(node, {"type": "Add"}, [src(a) for a in args[:2]])
                    else:
                        raise NotImplementedError(f"{name}: add of a constant at {node.name}")
                elif fn in (operator.mul, torch.mul):
                    attrs = [a for a in args if isinstance(a, torch.fx.Node) and a.op == "get_attr"]
                    if attrs:  # ConvNeXt's layer scale: a learned C x 1 x 1 tensor times the block
                        param = graph.get_parameter(attrs[0].target)
                        other = next(a for a in args if a is not attrs[0])
                        layer = {
                            "type": "Arithmetic",
                            "op": "multiply",
                            "operand_shape": list(param.shape),
                            "learned": True,
                        }
                        emit(node, layer, [src(other)])
                    else:
                        emit(node, {"type": "Multiply"}, [src(a) for a in args[:2]])
                elif fn is torch.cat:
                    dim = args[1] if len(args) > 1 else node.kwargs.get("dim", 0)
                    if len(args[0]) == 1:  # DenseNet's first layer concatenates one tensor: a no-op
                        alias[node.name] = src(args[0][0])
                        continue
                    emit(node, {"type": "Concatenate", "axis": dim}, [src(a) for a in args[0]])
                elif fn is torch.flatten:
                    assert (args[1] if len(args) > 1 else node.kwargs.get("start_dim")) == 1
                    emit(node, {"type": "Flatten"}, [src(args[0])])
                elif fn is F.relu:
                    in_place = (
                        {"inplace": True}
                        if node.kwargs.get("inplace", args[1] if len(args) > 1 else False)
                        else {}
                    )
                    emit(node, {"type": "Activation", "activation": "relu", **in_place}, [src(args[0])])
                elif fn is F.adaptive_avg_pool2d and tuple(pair(args[1])) == (1, 1):
                    emit(node, {"type": "GlobalAveragePooling2D", "keepdims": True}, [src(args[0])])
                elif fn is F.adaptive_avg_pool2d:  # GoogLeNet's auxiliary heads: to 4 x 4
                    emit(node, {"type": "AdaptiveAvgPool2d", "output_size": pair(args[1])}, [src(args[0])])
                elif fn in (F.max_pool2d, F.avg_pool2d):
                    order = ("input", "kernel_size", "stride", "padding")
                    kw = {**dict(zip(order, args, strict=False)), **node.kwargs}
                    kind = "MaxPool2d" if fn is F.max_pool2d else "AvgPool2d"
                    layer = {
                        "type": kind,
                        "kernel_size": pair(kw["kernel_size"]),
                        "stride": pair(kw.get("stride") or kw["kernel_size"]),
                        "padding": pair(kw.get("padding", 0)),
                    }
                    emit(node, layer, [src(args[0])])
                elif fn is stochastic_depth:
                    alias[node.name] = src(args[0])  # identity at inference
                elif fn is operator.getitem and args[0].name in chunks:
                    source, dim, parts = chunks[args[0].name]
                    n = row_shape[source][dim - 1]
                    step = -(-n // parts)
                    start, stop = args[1] * step, min(n, (args[1] + 1) * step)
                    emit(node, {"type": "Slice", "axis": dim, "start": start, "stop": stop}, [source])
                elif fn in (operator.getitem, operator.floordiv, getattr) and not tensors:
                    continue  # shape arithmetic (x.size()[i], c // groups)
                elif fn is torch.transpose:
                    alias[node.name] = alias[args[0].name]  # part of a channel shuffle (checked below)
                else:
                    raise NotImplementedError(f"{name}: function {fn} at {node.name}")
            elif node.op == "call_method":
                method, args = node.target, node.args
                if method == "size":
                    continue
                if method == "mean":
                    dims = args[1] if len(args) > 1 else node.kwargs["dim"]
                    assert list(dims) == [2, 3] and not node.kwargs.get("keepdim", False)
                    emit(node, {"type": "GlobalAveragePooling2D"}, [src(args[0])])
                elif method == "chunk":
                    chunks[node.name] = (
                        src(args[0]),
                        args[2] if len(args) > 2 else node.kwargs["dim"],
                        args[1],
                    )
                elif method in ("view", "reshape", "contiguous", "transpose"):
                    alias[node.name] = alias[args[0].name]  # channel shuffle: checked below
                elif method == "flatten":
                    emit(node, {"type": "Flatten"}, [src(args[0])])
                else:
                    raise NotImplementedError(f"{name}: method {method} at {node.name}")
        return out, alias

    layers, alias = walk(graph, "input")
    # The auxiliary classifiers (training only: eval mode's forward skips them) as rows of their
    # own, each traced alone from the output of the block torchvision feeds it, placed after that
    # block's last row (where train mode runs it) and marked "training_only".
    for head, reader in AUX.get(name, {}).items():
        entry = alias[output_of(graph.graph, reader).name]
        sub = getattr(model, head)
        sub_graph = torch.fx.GraphModule(sub, Tracer().trace(sub))
        ShapeProp(sub_graph).propagate(torch.zeros(1, *row_shape[entry]))
        rows, _ = walk(sub_graph, entry, f"{head}.", {"training_only": True})
        at = next(i for i, layer in enumerate(layers) if layer["name"] == entry) + 1
        layers[at:at] = rows

    for i, layer in enumerate(layers):
        if layer["inputs"] == [layers[i - 1]["name"] if i else "input"]:
            del layer["inputs"]  # reads the layer before it: the plain Sequential wiring

    params = sum(p.numel() for p in model.parameters())
    return {
        "name": f"torchvision/{name}",
        "description": f"{TITLES[name]}, as torchvision.models.{name} builds it (layer names are its module paths)",
        "source": f"torchvision 0.28 torchvision.models.{name}(weights=None"
        + "".join(f", {k}={v}" for k, v in kwargs.items())
        + f"), traced with torch.fx by tools/make_torchvision_zoo.py; {params:,} params",
        "published_params": params,
        "input_shape": [3, size, size],
        "convention": "pytorch",
        "data_format": "channels_first",
        "layers": layers,
    }


def write(doc: dict, path: str) -> None:
    """One key per line, one layer per line (the zoo's layout)."""
    head = {k: v for k, v in doc.items() if k != "layers"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    body = ",\n".join("    " + json.dumps(layer) for layer in doc["layers"])
    text = "{\n" + ",\n".join(lines) + ',\n  "layers": [\n' + body + "\n  ]\n}\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main(names: list[str]) -> None:
    os.makedirs(OUT, exist_ok=True)
    for name in names or MODELS:
        doc = convert(name)
        write(doc, os.path.join(OUT, f"{name}.json"))
        print(f"{name}: {len(doc['layers'])} layers, {doc['published_params']:,} params")


if __name__ == "__main__":
    main(sys.argv[1:])
