"""Write tests/fixtures/trace/expected.json: what the frameworks themselves say about each model the
--trace tests build (output shape without the batch axis, parameter and buffer totals).

Independent of cnncalc: PyTorch models are built on the meta device and run once on a meta input
(``out.shape``, ``sum(p.numel() for p in model.parameters())``, buffers likewise); Keras models
report ``model.output_shape`` and ``count_params()`` (trainable and non-trainable weights).

    /work/devvenv/bin/python tools/make_trace_expectations.py            # torch, timm, Keras 3
    KERAS_BACKEND=tensorflow /work/tfvenv/bin/python tools/make_trace_expectations.py --keras-hub

Each run updates its own part of the file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
FIXTURES = HERE / "tests" / "fixtures" / "trace"
OUT = FIXTURES / "expected.json"

#: --torch targets and their input (C, H, W)
TORCH = {
    "torchvision.models:resnet18": (3, 224, 224),
    "torchvision.models:resnet50": (3, 224, 224),
    "torchvision.models:mobilenet_v2": (3, 224, 224),
    "torchvision.models:mobilenet_v3_small": (3, 224, 224),
    "torchvision.models:efficientnet_b0": (3, 224, 224),
    "torchvision.models:densenet121": (3, 224, 224),
    "torchvision.models:googlenet(aux_logits=True, init_weights=False)": (3, 224, 224),
    "torchvision.models:inception_v3(init_weights=False)": (3, 299, 299),
    "torchvision.models:convnext_tiny": (3, 224, 224),
    "torchvision.models:vit_b_16": (3, 224, 224),
    "torchvision.models:swin_t": (3, 224, 224),
    "torchvision.models:regnet_y_400mf": (3, 224, 224),
    "torchvision.models:shufflenet_v2_x1_0": (3, 224, 224),
    "torchvision.models:squeezenet1_0": (3, 224, 224),
    "torchvision.models:alexnet": (3, 224, 224),
    "torchvision.models:vgg11_bn": (3, 224, 224),
    "torchvision.models:mnasnet0_5": (3, 224, 224),
    "torchvision.models:resnet18(num_classes=10)": (3, 64, 64),
    "timm:resnet50": (3, 224, 224),
    "timm:resnet50d": (3, 224, 224),
    "timm:vit_tiny_patch16_224": (3, 224, 224),
    "timm:deit_tiny_patch16_224": (3, 224, 224),
    "timm:convnext_atto": (3, 224, 224),
    "timm:efficientnet_b0": (3, 224, 224),
    "timm:swin_tiny_patch4_window7_224": (3, 224, 224),
    "timm:mobilevit_xxs": (3, 256, 256),
    "timm:regnety_002": (3, 224, 224),
    "timm:levit_128s": (3, 224, 224),
    "timm:coat_lite_tiny": (3, 224, 224),
    "timm:poolformer_s12": (3, 224, 224),
}
#: model files (tests/fixtures/trace): (file, model name or None, input)
FILES = [
    ("cifar_net.py", None, (3, 32, 32)),
    ("resnet_blocks.py", None, (3, 32, 32)),
    ("dcgan.py", "netG", (100, 1, 1)),
    ("dcgan.py", "netD", (3, 64, 64)),
    ("swin_shift.py", None, (3, 8, 8)),
]


def _torch_truth(model, shape):
    import torch

    x = torch.zeros((1, *shape), device="meta")
    with torch.no_grad():
        out = model.eval()(x)
    return {
        "output_shape": list(out.shape[1:]),
        "params": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in model.buffers()),
    }


def torch_part() -> dict:
    import ast

    import torch

    out = {}
    for target, shape in TORCH.items():
        module_name, _, call = target.partition(":")
        node = ast.parse(call, mode="eval").body
        name = node.func.id if isinstance(node, ast.Call) else node.id
        kwargs = (
            {k.arg: ast.literal_eval(k.value) for k in node.keywords} if isinstance(node, ast.Call) else {}
        )
        module = importlib.import_module(module_name)

        def build(module=module, name=name, kwargs=kwargs, module_name=module_name):
            if module_name == "timm":
                return module.create_model(name, pretrained=False, **kwargs)
            return getattr(module, name)(**kwargs)

        try:
            with torch.device("meta"):
                model = build()
        except NotImplementedError:  # a factory that reads tensor values (regnet)
            model = build().to("meta")
        out[target] = {"input": list(shape), **_torch_truth(model, shape)}
        print(target, out[target], flush=True)
    files = {}
    for file, model_name, shape in FILES:
        path = FIXTURES / file
        spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        argv, sys.argv = sys.argv, [str(path)]
        try:
            with torch.device("meta"):
                spec.loader.exec_module(module)
                if model_name is not None:
                    model = getattr(module, model_name)
                else:
                    found = [v for v in vars(module).values() if isinstance(v, torch.nn.Module)]
                    model = (
                        found[0]
                        if found
                        else next(
                            v()
                            for v in vars(module).values()
                            if isinstance(v, type)
                            and issubclass(v, torch.nn.Module)
                            and v.__module__ == module.__name__
                        )
                    )
        finally:
            sys.argv = argv
        key = f"{file}:{model_name}" if model_name else file
        files[key] = {"input": list(shape), **_torch_truth(model, shape)}
        print(key, files[key], flush=True)
    return {"torch": out, "files": files}


def keras_part() -> dict:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    def lambda_model():
        inp = keras.Input((32, 32, 3))
        x = keras.layers.Conv2D(8, 3)(inp)
        x = keras.layers.BatchNormalization()(x)
        y = keras.layers.Lambda(lambda t: t * 2, output_shape=(30, 30, 8))(x)
        x = keras.layers.Add()([x, y])
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inp, keras.layers.Dense(10)(x), name="lambda_model")

    models = {
        "MobileNetV2(96)": lambda: keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3)),
        "ResNet50": lambda: keras.applications.ResNet50(weights=None),
        "EfficientNetB0": lambda: keras.applications.EfficientNetB0(weights=None),
        "ConvNeXtTiny": lambda: keras.applications.ConvNeXtTiny(weights=None),
        "lambda_model": lambda_model,
    }
    out = {}
    for name, build in models.items():
        model = build()
        trainable = sum(
            int(w.numpy().size) if hasattr(w, "numpy") else _size(w) for w in model.trainable_weights
        )
        frozen = sum(_size(w) for w in model.non_trainable_weights)
        out[name] = {
            "output_shape": list(model.output_shape[1:]),
            "params": model.count_params(),
            "trainable": trainable,
            "non_trainable": frozen,
        }
        print(name, out[name], flush=True)
    spec = importlib.util.spec_from_file_location("keras_custom", FIXTURES / "keras_custom.py")
    custom = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(custom)
    inp = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(4, 3, name="conv")(inp)
    x = custom.Scale(name="scale")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    model = keras.Model(inp, keras.layers.Dense(2, name="out")(x), name="custom_model")
    (FIXTURES / "keras_model.json").write_text(model.to_json())
    files = {
        "keras_model.json": {
            "output_shape": list(model.output_shape[1:]),
            "params": model.count_params(),
            "scale_params": model.get_layer("scale").count_params(),
        }
    }
    print(files, flush=True)
    return {"keras": out, "keras_files": files}


def _size(w) -> int:
    n = 1
    for d in w.shape:
        n *= int(d)
    return n


def keras_hub_part() -> dict:
    import keras_hub

    builds = {
        "ResNetBackbone": lambda: keras_hub.models.ResNetBackbone(
            input_conv_filters=[64],
            input_conv_kernel_sizes=[7],
            stackwise_num_filters=[64, 64, 64],
            stackwise_num_blocks=[2, 2, 2],
            stackwise_num_strides=[1, 2, 2],
            block_type="basic_block",
            image_shape=(96, 96, 3),
        ),
        "MobileNetBackbone": lambda: keras_hub.models.MobileNetBackbone(
            stackwise_expansion=[[40, 56], [64, 144, 144], [72, 72], [144, 288, 288]],
            stackwise_num_blocks=[2, 3, 2, 3],
            stackwise_num_filters=[[16, 16], [24, 24, 24], [24, 24], [48, 48, 48]],
            stackwise_kernel_size=[[3, 3], [5, 5, 5], [5, 5], [5, 5, 5]],
            stackwise_num_strides=[[2, 1], [2, 1, 1], [1, 1], [2, 1, 1]],
            stackwise_se_ratio=[[None, None], [0.25, 0.25, 0.25], [0.3, 0.3], [0.3, 0.25, 0.25]],
            stackwise_activation=[
                ["relu", "relu"],
                ["hard_swish"] * 3,
                ["hard_swish"] * 2,
                ["hard_swish"] * 3,
            ],
            stackwise_padding=[[1, 1], [2, 2, 2], [2, 2], [2, 2, 2]],
            output_num_filters=288,
            input_activation="hard_swish",
            output_activation="hard_swish",
            input_num_filters=16,
            image_shape=(96, 96, 3),
            depthwise_filters=8,
            squeeze_and_excite=0.5,
        ),
        "ViTBackbone": lambda: keras_hub.models.ViTBackbone(
            image_shape=(32, 32, 3),
            patch_size=8,
            num_layers=2,
            num_heads=2,
            hidden_dim=32,
            mlp_dim=64,
        ),
        "BertBackbone(seq=16)": None,  # sequence models need explicit sizes (see trace docs)
    }
    out = {}
    for name, build in builds.items():
        if build is None:
            continue
        try:
            model = build()
        except Exception as err:  # a constructor this keras-hub version spells differently
            print(name, "skipped:", type(err).__name__, err, flush=True)
            continue
        path = FIXTURES / f"keras_hub_{name.lower()}.keras"
        config = json.dumps(keras_serialize(model))
        import zipfile

        with zipfile.ZipFile(path, "w") as z:  # config only: cnncalc never reads weights
            z.writestr("config.json", config)
            z.writestr("metadata.json", json.dumps({"keras_version": "3"}))
        out[name] = {
            "file": path.name,
            "output_shape": [list(s[1:]) for s in _outputs(model)],
            "params": model.count_params(),
        }
        print(name, out[name], flush=True)
    return {"keras_hub": out}


def keras_serialize(model):
    import keras

    return keras.saving.serialize_keras_object(model)


def _outputs(model):
    outs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    return [tuple(o.shape) for o in outs]


def main() -> None:
    doc = json.loads(OUT.read_text()) if OUT.exists() else {}
    if "--keras-hub" in sys.argv:
        doc.update(keras_hub_part())
    else:
        doc.update(torch_part())
        doc.update(keras_part())
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
