"""Write the model zoo's JSON specs (cnncalc/zoo/*.json) from the architectures' definitions.

Run: python tools/make_zoo.py
Each spec follows its source's code layer by layer (names included) and records the published
parameter count it reproduces; tests/test_zoo.py asserts it.
"""

from __future__ import annotations

import json
from pathlib import Path

ZOO = Path(__file__).resolve().parent.parent / "cnncalc" / "zoo" / "keras"


def layer(kind: str, name: str, inputs: str | list[str] | None = None, **args) -> dict:
    out = {"name": name, "type": kind, **args}
    if inputs is not None:
        out["inputs"] = inputs
    return out


def write(name: str, doc: dict) -> None:
    # One layer per line: readable and diffable.
    lines = ["{"]
    meta = {k: v for k, v in doc.items() if k != "layers"}
    for key, value in meta.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines.append('  "layers": [')
    lines.append(",\n".join(f"    {json.dumps(item)}" for item in doc["layers"]))
    lines.append("  ]")
    lines.append("}")
    (ZOO / f"{name}.json").write_text("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- LeNet-5


def lenet5() -> dict:
    return {
        "name": "lenet5",
        "description": "LeNet-5 (LeCun et al. 1998), classic form: C3 fully connected, average-pooling subsampling without trainable coefficients",
        "source": "LeCun et al., Gradient-Based Learning Applied to Document Recognition (1998); 61,706 params in this form",
        "published_params": 61706,
        "input_shape": [32, 32, 1],
        "convention": "keras",
        "layers": [
            layer("conv2d", "c1", filters=6, kernel_size=5, activation="tanh"),
            layer("averagepooling2d", "s2", pool_size=2),
            layer("conv2d", "c3", filters=16, kernel_size=5, activation="tanh"),
            layer("averagepooling2d", "s4", pool_size=2),
            layer("conv2d", "c5", filters=120, kernel_size=5, activation="tanh"),
            layer("flatten", "flatten"),
            layer("dense", "f6", units=84, activation="tanh"),
            layer("dense", "output", units=10, activation="softmax"),
        ],
    }


# ----------------------------------------------------------------------------- AlexNet (torchvision)


def vgg(depth: int) -> dict:
    convs = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}[depth]
    layers = []
    for block, (count, filters) in enumerate(zip(convs, (64, 128, 256, 512, 512), strict=True), start=1):
        for i in range(1, count + 1):
            layers.append(
                layer(
                    "conv2d",
                    f"block{block}_conv{i}",
                    filters=filters,
                    kernel_size=3,
                    padding="same",
                    activation="relu",
                )
            )
        layers.append(layer("maxpooling2d", f"block{block}_pool", pool_size=2, strides=2))
    layers += [
        layer("flatten", "flatten"),
        layer("dense", "fc1", units=4096, activation="relu"),
        layer("dense", "fc2", units=4096, activation="relu"),
        layer("dense", "predictions", units=1000, activation="softmax"),
    ]
    published = {16: 138357544, 19: 143667240}[depth]
    return {
        "name": f"vgg{depth}",
        "description": f"VGG{depth} with its classifier (include_top=True)",
        "source": f"keras.applications.VGG{depth} (Keras Applications table: {published:,} params)",
        "published_params": published,
        "input_shape": [224, 224, 3],
        "convention": "keras",
        "layers": layers,
    }


# ----------------------------------------------------------------------------- ResNet-18 (torchvision)


def resnet50() -> dict:
    eps = 1.001e-5
    layers = [
        layer("zeropadding2d", "conv1_pad", padding=3),
        layer("conv2d", "conv1_conv", filters=64, kernel_size=7, strides=2),
        layer("bn", "conv1_bn", epsilon=eps),
        layer("activation", "conv1_relu", activation="relu"),
        layer("zeropadding2d", "pool1_pad", padding=1),
        layer("maxpooling2d", "pool1_pool", pool_size=3, strides=2),
    ]
    previous = "pool1_pool"
    for stage, (filters, blocks, stride1) in enumerate(
        ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), start=2
    ):
        for block in range(1, blocks + 1):
            p = f"conv{stage}_block{block}"
            stride = stride1 if block == 1 else 1
            if block == 1:
                layers += [
                    layer(
                        "conv2d", f"{p}_0_conv", previous, filters=4 * filters, kernel_size=1, strides=stride
                    ),
                    layer("bn", f"{p}_0_bn", epsilon=eps),
                ]
                shortcut = f"{p}_0_bn"
            else:
                shortcut = previous
            layers += [
                layer("conv2d", f"{p}_1_conv", previous, filters=filters, kernel_size=1, strides=stride),
                layer("bn", f"{p}_1_bn", epsilon=eps),
                layer("activation", f"{p}_1_relu", activation="relu"),
                layer("conv2d", f"{p}_2_conv", filters=filters, kernel_size=3, padding="same"),
                layer("bn", f"{p}_2_bn", epsilon=eps),
                layer("activation", f"{p}_2_relu", activation="relu"),
                layer("conv2d", f"{p}_3_conv", filters=4 * filters, kernel_size=1),
                layer("bn", f"{p}_3_bn", epsilon=eps),
                layer("add", f"{p}_add", [shortcut, f"{p}_3_bn"]),
                layer("activation", f"{p}_out", activation="relu"),
            ]
            previous = f"{p}_out"
    layers += [
        layer("globalaveragepooling2d", "avg_pool"),
        layer("dense", "predictions", units=1000, activation="softmax"),
    ]
    return {
        "name": "resnet50",
        "description": "ResNet50 (v1) with its classifier; convs with bias, BN moving statistics counted (as Keras does)",
        "source": "keras.applications.ResNet50 (Keras Applications table: 25,636,712 params)",
        "published_params": 25636712,
        "input_shape": [224, 224, 3],
        "convention": "keras",
        "layers": layers,
    }


# ----------------------------------------------------------------------------- MobileNet v1 (Keras Applications)


def mobilenet() -> dict:
    layers = [
        layer("conv2d", "conv1", filters=32, kernel_size=3, strides=2, padding="same", use_bias=False),
        layer("bn", "conv1_bn"),
        layer("relu", "conv1_relu", max_value=6.0),
    ]
    plan = (
        [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    )
    for block_id, (filters, stride) in enumerate(plan, start=1):
        if stride == 2:
            layers.append(layer("zeropadding2d", f"conv_pad_{block_id}", padding=[[0, 1], [0, 1]]))
        layers += [
            layer(
                "depthwiseconv2d",
                f"conv_dw_{block_id}",
                kernel_size=3,
                strides=stride,
                padding="same" if stride == 1 else "valid",
                use_bias=False,
            ),
            layer("bn", f"conv_dw_{block_id}_bn"),
            layer("relu", f"conv_dw_{block_id}_relu", max_value=6.0),
            layer(
                "conv2d",
                f"conv_pw_{block_id}",
                filters=filters,
                kernel_size=1,
                padding="same",
                use_bias=False,
            ),
            layer("bn", f"conv_pw_{block_id}_bn"),
            layer("relu", f"conv_pw_{block_id}_relu", max_value=6.0),
        ]
    layers += [
        layer("globalaveragepooling2d", "global_average_pooling2d", keepdims=True),
        layer("dropout", "dropout", rate=0.001),
        layer("conv2d", "conv_preds", filters=1000, kernel_size=1, padding="same"),
        layer("reshape", "reshape_2", target_shape=[1000]),
        layer("activation", "predictions", activation="softmax"),
    ]
    return {
        "name": "mobilenet",
        "description": "MobileNet v1, alpha 1.0, depth multiplier 1, 224x224, with its classifier",
        "source": "keras.applications.MobileNet (Keras Applications table: 4,253,864 params)",
        "published_params": 4253864,
        "input_shape": [224, 224, 3],
        "convention": "keras",
        "layers": layers,
    }


# ----------------------------------------------------------------------------- MobileNetV2 (Keras Applications)


def mobilenetv2() -> dict:
    layers = [
        layer("conv2d", "Conv1", filters=32, kernel_size=3, strides=2, padding="same", use_bias=False),
        layer("bn", "bn_Conv1", epsilon=1e-3, momentum=0.999),
        layer("relu", "Conv1_relu", max_value=6.0),
    ]
    previous, channels = "Conv1_relu", 32
    plan = [
        (16, 1, 1),
        (24, 2, 6),
        (24, 1, 6),
        (32, 2, 6),
        (32, 1, 6),
        (32, 1, 6),
        (64, 2, 6),
        (64, 1, 6),
        (64, 1, 6),
        (64, 1, 6),
        (96, 1, 6),
        (96, 1, 6),
        (96, 1, 6),
        (160, 2, 6),
        (160, 1, 6),
        (160, 1, 6),
        (320, 1, 6),
    ]
    for block_id, (filters, stride, expansion) in enumerate(plan):
        p = f"block_{block_id}_" if block_id else "expanded_conv_"
        block_input = previous
        if block_id:
            layers += [
                layer(
                    "conv2d",
                    p + "expand",
                    previous,
                    filters=expansion * channels,
                    kernel_size=1,
                    padding="same",
                    use_bias=False,
                ),
                layer("bn", p + "expand_BN", epsilon=1e-3, momentum=0.999),
                layer("relu", p + "expand_relu", max_value=6.0),
            ]
        if stride == 2:  # imagenet_utils.correct_pad for even sizes (224x224 input)
            layers.append(layer("zeropadding2d", p + "pad", padding=[[0, 1], [0, 1]]))
        layers += [
            layer(
                "depthwiseconv2d",
                p + "depthwise",
                kernel_size=3,
                strides=stride,
                padding="same" if stride == 1 else "valid",
                use_bias=False,
            ),
            layer("bn", p + "depthwise_BN", epsilon=1e-3, momentum=0.999),
            layer("relu", p + "depthwise_relu", max_value=6.0),
            layer("conv2d", p + "project", filters=filters, kernel_size=1, padding="same", use_bias=False),
            layer("bn", p + "project_BN", epsilon=1e-3, momentum=0.999),
        ]
        previous = p + "project_BN"
        if channels == filters and stride == 1:
            layers.append(layer("add", p + "add", [block_input, previous]))
            previous = p + "add"
        channels = filters
    layers += [
        layer("conv2d", "Conv_1", previous, filters=1280, kernel_size=1, use_bias=False),
        layer("bn", "Conv_1_bn", epsilon=1e-3, momentum=0.999),
        layer("relu", "out_relu", max_value=6.0),
        layer("globalaveragepooling2d", "global_average_pooling2d"),
        layer("dense", "predictions", units=1000, activation="softmax"),
    ]
    return {
        "name": "mobilenetv2",
        "description": "MobileNetV2, alpha 1.0, 224x224, with its classifier; paddings of strided blocks pinned for 224x224",
        "source": "keras.applications.MobileNetV2 (Keras Applications table: 3,538,984 params)",
        "published_params": 3538984,
        "input_shape": [224, 224, 3],
        "convention": "keras",
        "layers": layers,
    }


# ----------------------------------------------------------------------------- Inception block


def inception_block() -> dict:
    relu = {"activation": "relu"}
    return {
        "name": "inception_block",
        "description": "GoogLeNet's inception (3a) block on 28x28x192: four towers concatenated to 28x28x256",
        "source": "Szegedy et al., Going Deeper with Convolutions (2014), Table 1, inception (3a)",
        "input_shape": [28, 28, 192],
        "convention": "keras",
        "layers": [
            layer("conv2d", "branch1x1", "input", filters=64, kernel_size=1, **relu),
            layer("conv2d", "branch3x3_reduce", "input", filters=96, kernel_size=1, **relu),
            layer("conv2d", "branch3x3", filters=128, kernel_size=3, padding="same", **relu),
            layer("conv2d", "branch5x5_reduce", "input", filters=16, kernel_size=1, **relu),
            layer("conv2d", "branch5x5", filters=32, kernel_size=5, padding="same", **relu),
            layer("maxpooling2d", "branch_pool", "input", pool_size=3, strides=1, padding="same"),
            layer("conv2d", "branch_pool_proj", filters=32, kernel_size=1, **relu),
            layer("concatenate", "mixed_3a", ["branch1x1", "branch3x3", "branch5x5", "branch_pool_proj"]),
        ],
    }


if __name__ == "__main__":
    ZOO.mkdir(exist_ok=True)
    for make in (
        lenet5,
        lambda: vgg(16),
        lambda: vgg(19),
        resnet50,
        mobilenet,
        mobilenetv2,
        inception_block,
    ):
        doc = make()
        write(doc["name"], doc)
        print(doc["name"], len(doc["layers"]), "layers")
