"""Keras 2 (tf.keras / tf-keras) model files from the wild, and Keras's own figures for them (dev-only).

Run with TensorFlow and tf-keras installed (nothing is downloaded: every model is built with
``weights=None``):

    TF_USE_LEGACY_KERAS=1 python tools/keras2_files.py OUT_DIR [--fixtures]

For each model writes ``OUT_DIR/NAME.h5`` (``model.save``, HDF5), ``OUT_DIR/NAME.json``
(``model.to_json()``) and ``OUT_DIR/NAME.expected.json``: every layer's class, params and output
shape per call (Keras 2 lists a layer once; a shared layer has one shape per call), and the totals.
With ``--fixtures`` the small models are also written to ``tests/fixtures/keras2/`` (the default
test suite reads them without TensorFlow). ``tests/test_keras2_files.py`` compares cnncalc's
reading of the files with the figures; ``python tools/keras2_files.py --check OUT_DIR`` (any
Python with cnncalc importable) prints the counts.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras2"


def tf1_builders():
    """Models built in graph mode, where a TensorFlow function on a Keras tensor becomes a
    ``TensorFlowOpLayer`` with the op's NodeDef: what TF 2.0 to 2.3 wrote for every such call."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    import tf_keras as keras

    layers = keras.layers

    def tf1_ops():
        inputs = keras.Input((8, 8, 6), name="image")
        x = layers.Conv2D(8, 3, padding="same", name="conv")(inputs)
        y = tf.nn.relu6(x + 3.0) * (1.0 / 6.0)  # MobileNetV3's hard sigmoid
        y = layers.Multiply(name="gate")([x, y])
        z = tf.math.sigmoid(y - 0.5)
        z = tf.maximum(z, x)
        z = z[:, 1:7, :, :4]
        z = 2.0 - z
        z = layers.GlobalAveragePooling2D(name="pool")(z)
        return keras.Model(inputs, layers.Dense(2, name="head")(z), name="tf1_ops")

    def tf1_mobilenet_v3_small():
        return keras.applications.MobileNetV3Small(
            alpha=0.75, input_shape=(32, 32, 3), weights=None, classes=5
        )

    return keras, [tf1_ops], [tf1_mobilenet_v3_small]


def builders():  # noqa: C901 - one small builder per model, kept together
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as keras

    layers = keras.layers
    apps = keras.applications

    def cnn_sequential():
        return keras.Sequential(
            [
                layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
                layers.BatchNormalization(),
                layers.MaxPooling2D(),
                layers.SeparableConv2D(12, 3, padding="same"),
                layers.DepthwiseConv2D(3, depth_multiplier=2),
                layers.GlobalAveragePooling2D(),
                layers.Dropout(0.2),
                layers.Dense(10, activation="softmax"),
            ],
            name="cnn_sequential",
        )

    def functional_branches():
        inputs = keras.Input((16, 16, 3), name="image")
        a = layers.Conv2D(8, 1, name="a")(inputs)
        b = layers.Conv2D(8, 3, padding="same", name="b")(inputs)
        x = layers.Concatenate(name="cat")([a, b])
        y = layers.Conv2D(16, 1, name="proj")(x)
        x = layers.Add(name="residual")([x, y])
        x = layers.GlobalMaxPooling2D(name="pool")(x)
        return keras.Model(inputs, layers.Dense(4, name="head")(x), name="functional_branches")

    def mobilenet_v2():  # DepthwiseConv2D carries "groups": 1 in Keras 2
        return apps.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=5)

    def efficientnet_b0():  # Rescaling, Normalization, groups, squeeze-and-excite Multiply
        return apps.EfficientNetB0(input_shape=(32, 32, 3), weights=None, classes=5)

    def mobilenet_v3_small():  # TFOpLambda nodes: x + 3.0, tf.nn.relu6, x * (1/6)
        return apps.MobileNetV3Small(alpha=0.75, input_shape=(32, 32, 3), weights=None, classes=5)

    def transfer_vgg16():  # the standard transfer-learning file: a whole model as a layer
        base = apps.VGG16(include_top=False, input_shape=(32, 32, 3), weights=None)
        return keras.Sequential([base, layers.Flatten(), layers.Dense(10)], name="transfer_vgg16")

    def transfer_functional():  # the base called on a new Input: node index 1 of the base
        base = apps.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), include_top=False, weights=None)
        base.trainable = False
        inputs = keras.Input((32, 32, 3), name="pixels")
        x = base(inputs, training=False)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        outputs = layers.Dense(3, name="head")(x)
        return keras.Model(inputs, outputs, name="transfer_functional")

    def transfer_small():  # the same with a small functional base, frozen (the committed fixture)
        image = keras.Input((16, 16, 3), name="base_input")
        x = layers.Conv2D(8, 3, strides=2, name="base_conv")(image)
        x = layers.BatchNormalization(name="base_bn")(x)
        x = layers.DepthwiseConv2D(3, padding="same", name="base_dw")(x)
        base = keras.Model(image, layers.ReLU(6.0, name="base_relu")(x), name="base")
        base.trainable = False
        inputs = keras.Input((16, 16, 3), name="pixels")
        x = base(inputs, training=False)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        outputs = layers.Dense(3, name="head")(x)
        return keras.Model(inputs, outputs, name="transfer_small")

    def nested_blocks():  # Sequential blocks inside a Sequential and inside a functional model
        def block(n, name):
            return keras.Sequential(
                [layers.Conv2D(n, 3, padding="same"), layers.BatchNormalization(), layers.ReLU()], name=name
            )

        inner = keras.Sequential(
            [block(8, "block1"), layers.MaxPooling2D(), block(16, "block2")], name="body"
        )
        inputs = keras.Input((16, 16, 3), name="image")
        x = inner(inputs)
        x = block(16, "block3")(x)
        x = layers.Flatten(name="flat")(x)
        return keras.Model(inputs, layers.Dense(2, name="head")(x), name="nested_blocks")

    def shared_layers():  # a siamese pair: one Conv2D and one Dense called twice
        left = keras.Input((12, 12, 1), name="left")
        right = keras.Input((12, 12, 1), name="right")
        conv = layers.Conv2D(4, 3, name="shared_conv")
        dense = layers.Dense(6, name="shared_dense")
        a = dense(layers.Flatten(name="flat_a")(conv(left)))
        b = dense(layers.Flatten(name="flat_b")(conv(right)))
        x = layers.Subtract(name="diff")([a, b])
        return keras.Model([left, right], layers.Dense(1, name="score")(x), name="shared_layers")

    def lambda_layers():  # Lambda: output shape recorded by its consumer, or in its config
        inputs = keras.Input((10, 10, 3), name="image")
        x = layers.Conv2D(4, 3, name="conv")(inputs)
        x = layers.Lambda(lambda t: t * 2.0, name="double")(x)
        x = layers.Lambda(lambda t: t[:, ::2, ::2, :], output_shape=(4, 4, 4), name="subsample")(x)
        x = layers.Flatten(name="flat")(x)
        return keras.Model(inputs, layers.Dense(3, name="head")(x), name="lambda_layers")

    def tf_ops():  # tf functions on Keras tensors: TFOpLambda and SlicingOpLambda
        inputs = keras.Input((8, 8, 6), name="image")
        x = layers.Conv2D(8, 1, name="conv")(inputs)
        a = x[:, :, :, :4]
        b = x[:, 1:-1, ::2, 4:]
        b = tf.nn.relu(b)
        a = tf.math.multiply(a, 0.5)
        a = a - 1.0
        a = tf.nn.relu6(a)
        b = layers.ZeroPadding2D(((1, 1), (0, 0)), name="pad")(b)
        b = layers.Conv2D(4, 1, name="b_conv")(b)
        y = layers.Add(name="sum")([a, layers.UpSampling2D((1, 2), name="up")(b)[:, :, :8, :]])
        y = tf.math.sigmoid(y)
        y = layers.GlobalAveragePooling2D(name="pool")(y)
        return keras.Model(inputs, layers.Dense(2, name="head")(y), name="tf_ops")

    def tf_ops_unmapped():  # TF functions cnncalc has no row for: opaque where the file records them
        inputs = keras.Input((8, 8, 3), name="image")
        x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
        x = tf.concat([x, inputs], axis=-1)
        x = tf.math.reduce_mean(x, axis=[1, 2])
        return keras.Model(inputs, layers.Dense(2, name="head")(x), name="tf_ops_unmapped")

    def resnet50():
        return apps.ResNet50(weights=None)

    def densenet121():
        return apps.DenseNet121(input_shape=(64, 64, 3), weights=None, classes=7)

    class Scale(layers.Layer):  # a user's own layer class with one learned vector
        def build(self, input_shape):
            self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(3,), trainable=False, initializer="zeros")

        def call(self, x):
            return x * self.gamma

    def custom_layer():
        inputs = keras.Input((6, 6, 2), name="image")
        x = layers.Conv2D(5, 3, name="conv")(inputs)
        x = Scale(name="scale")(x)
        x = layers.Flatten(name="flat")(x)
        return keras.Model(inputs, layers.Dense(2, name="head")(x), name="custom_layer")

    small = [
        cnn_sequential,
        functional_branches,
        transfer_small,
        nested_blocks,
        shared_layers,
        lambda_layers,
        tf_ops,
        tf_ops_unmapped,
        custom_layer,
    ]
    big = [
        mobilenet_v2,
        mobilenet_v3_small,
        efficientnet_b0,
        transfer_functional,
        transfer_vgg16,
        resnet50,
        densenet121,
    ]
    return keras, small, big


def figures(keras, model) -> dict:
    """Keras's own figures: per layer its class, params and output shape of each call in the model."""
    import numpy as np

    nodes = model._network_nodes  # "name_ib-N": the calls that belong to this model

    def shapes(layer):
        out = []
        for index in range(len(layer._inbound_nodes)):
            if f"{layer.name}_ib-{index}" in nodes:
                shape = layer.get_output_shape_at(index)
                if isinstance(shape, list) and len(shape) == 1:  # TensorFlowOpLayer: [(None, 8, 8, 8)]
                    shape = shape[0]
                out.append(list(shape)[1:] if not isinstance(shape, list) else [list(s)[1:] for s in shape])
        return out

    return {
        "source": f"tf-keras {keras.__version__}",
        "class_name": type(model).__name__,
        "layers": [
            {
                "name": layer.name,
                "class_name": type(layer).__name__,
                "output_shapes": shapes(layer),
                "params": layer.count_params(),
            }
            for layer in model.layers
            if type(layer).__name__ != "InputLayer"
        ],
        "total_params": model.count_params(),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "non_trainable_params": int(sum(np.prod(w.shape) for w in model.non_trainable_weights)),
    }


def write(out: Path, fixtures: bool, tf1: bool = False) -> None:
    if not tf1:  # graph mode is for the whole process: those models are written by another one
        import subprocess

        command = [sys.executable, __file__, str(out), "--tf1"] + (["--fixtures"] if fixtures else [])
        subprocess.run(command, check=True)
    keras, small, big = tf1_builders() if tf1 else builders()
    out.mkdir(parents=True, exist_ok=True)
    for build in small + big:
        model = build()
        name = build.__name__
        expected = json.dumps(figures(keras, model), indent=1) + "\n"
        targets = [out] + ([FIXTURES] if fixtures and build in small else [])
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            model.save(target / f"{name}.h5")
            (target / f"{name}.json").write_text(model.to_json())
            (target / f"{name}.expected.json").write_text(expected)
        print(name, model.count_params(), "params", (out / f"{name}.h5").stat().st_size, "bytes")


def check(directory: Path) -> int:
    """Read every NAME.h5 and NAME.json in ``directory`` with cnncalc and compare with Keras's figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from cnncalc import summarize
    from cnncalc.errors import CnncalcError
    from cnncalc.io.sources import read_spec

    tried = read = unknown = refused = wrong = 0
    for expected_path in sorted(directory.glob("*.expected.json")):
        theirs = json.loads(expected_path.read_text())
        stem = expected_path.name[: -len(".expected.json")]
        for ext in ("h5", "json"):
            path = directory / f"{stem}.{ext}"
            if not path.exists():
                continue
            tried += 1
            try:
                summary = summarize(read_spec(str(path)))
            except CnncalcError as err:
                if err.hint is not None and "trace" in str(err.hint):
                    refused += 1
                    print(f"refused, shape not recorded {path.name}: {err}")
                else:
                    print(f"REFUSED {path.name}: {err}")
                continue
            # a layer whose params are unknown (a to_json() document holds no weights) is noted
            blind = {n.split("'")[1] for n in summary.notes if "params unknown" in n}
            problems = compare(summary.to_dict(), theirs, blind)
            if problems:
                wrong += 1
                print(f"WRONG {path.name}: {'; '.join(problems[:5])}")
            elif blind:
                unknown += 1
                print(f"ok but params unknown for {sorted(blind)} {path.name}")
            else:
                read += 1
                print(f"ok {path.name}")
    print(
        f"tf-keras files: {tried} tried, {read} read exactly, {unknown} read with a custom layer's params "
        f"unknown (noted), {refused} refused (a shape not recorded, --trace hint), {wrong} wrong"
    )
    return 1 if wrong else 0


def compare(ours: dict, theirs: dict, blind: set[str] | None = None) -> list[str]:
    """Differences between cnncalc's JSON summary and Keras's figures (per call rows: ``name``,
    then ``name@1``... for a layer's later calls); the params of ``blind`` layers are unknown
    to cnncalc (and left out of the totals' comparison)."""
    blind = blind or set()
    rows = {row["name"]: row for row in ours["layers"]}
    problems = []
    missing = sum(layer["params"] for layer in theirs["layers"] if layer["name"] in blind)
    theirs = {**theirs, "total_params": theirs["total_params"] - missing}
    if blind:  # the split of what is missing is unknown too
        theirs = {k: v for k, v in theirs.items() if k not in ("trainable_params", "non_trainable_params")}
        ours = {k: v for k, v in ours.items() if k not in ("trainable_params", "non_trainable_params")}
    for layer in theirs["layers"]:
        if layer["name"] in blind:
            layer = {**layer, "params": 0}
        params = 0
        for call, shape in enumerate(layer["output_shapes"]):
            row = rows.get(layer["name"] if call == 0 else f"{layer['name']}@{call}")
            if row is None:
                problems.append(f"no row for {layer['name']} call {call}")
                continue
            if row["output_shape"] != shape:
                problems.append(f"{layer['name']}: shape {row['output_shape']} != {shape}")
            params += row["params"] if row["params"] is not None else -(10**12)
        if params != layer["params"]:
            problems.append(f"{layer['name']}: params {params} != {layer['params']}")
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        if key in theirs and ours[key] != theirs[key]:
            problems.append(f"{key} {ours[key]} != {theirs[key]}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        sys.exit(check(Path(sys.argv[2])))
    write(Path(sys.argv[1]), "--fixtures" in sys.argv, "--tf1" in sys.argv)
