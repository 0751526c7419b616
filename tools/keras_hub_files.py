"""keras-hub models saved as ``.keras`` files, and Keras's own figures for them (dev-only).

Every model is built from explicit constructor arguments (never a preset: nothing is
downloaded). Run with Keras 3 and keras-hub installed (any backend):

    KERAS_BACKEND=tensorflow python tools/keras_hub_files.py OUT_DIR [--fixtures]

Writes ``OUT_DIR/NAME.keras`` and ``OUT_DIR/NAME.expected.json`` (every layer's class, output
shape and params as Keras reports them, and the totals; ``"whole": true`` for a keras-hub model
saved at the top level, whose config holds only constructor arguments). With ``--fixtures`` the
block models' files also go to ``tests/fixtures/keras_hub/``, and of each whole model its
``config.json`` (as ``NAME.config.json``: that is all cnncalc reads of it). ``--check OUT_DIR`` (any Python with cnncalc
importable) reads every file with cnncalc and prints the counts.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras_hub"
#: committed fixtures stay small
FIXTURE_BYTES = 120_000


def builders():  # noqa: C901 - one small builder per model, kept together
    import keras
    import keras_hub
    from keras import layers
    from keras_hub.src.models.efficientnet.fusedmbconv import FusedMBConvBlock
    from keras_hub.src.models.efficientnet.mbconv import MBConvBlock
    from keras_hub.src.models.mobilenet.mobilenet_backbone import ConvBnActBlock, InvertedResidualBlock

    models = keras_hub.models

    def resnet(image_shape=(32, 32, 3)):
        return models.ResNetBackbone(
            input_conv_filters=[64],
            input_conv_kernel_sizes=[3],
            stackwise_num_filters=[64, 16],
            stackwise_num_blocks=[1, 1],
            stackwise_num_strides=[1, 2],
            block_type="basic_block",
            use_pre_activation=False,
            image_shape=image_shape,
        )

    def vgg(image_shape=(16, 16, 3)):
        return models.VGGBackbone(
            stackwise_num_repeats=[1, 1], stackwise_num_filters=[4, 8], image_shape=image_shape
        )

    # ---- saved at the top level: config.json holds constructor arguments only
    def resnet_backbone():
        return resnet()

    def resnet_classifier():
        return models.ResNetImageClassifier(backbone=resnet(), num_classes=3)

    def vgg_backbone():
        return vgg()

    def vgg_classifier():
        return models.VGGImageClassifier(
            backbone=vgg(), num_classes=2, pooling="flatten", pooling_hidden_dim=8
        )

    def densenet_backbone():
        return models.DenseNetBackbone(stackwise_num_repeats=[1, 1], image_shape=(32, 32, 3), growth_rate=4)

    def densenet_classifier():
        backbone = models.DenseNetBackbone(
            stackwise_num_repeats=[1, 1], image_shape=(32, 32, 3), growth_rate=4
        )
        return models.DenseNetImageClassifier(backbone=backbone, num_classes=2)

    def xception_backbone():
        return models.XceptionBackbone(
            stackwise_conv_filters=[[4, 8], [8, 8], [16, 16]],
            stackwise_pooling=[False, False, False],
            image_shape=(32, 32, 3),
        )

    def vit_backbone():
        return models.ViTBackbone(
            image_shape=(16, 16, 3), patch_size=8, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16
        )

    def deit_backbone():
        return models.DeiTBackbone(
            image_shape=(16, 16, 3),
            patch_size=8,
            num_layers=1,
            num_heads=2,
            hidden_dim=8,
            intermediate_dim=16,
        )

    def mit_backbone():
        return models.MiTBackbone(
            layerwise_depths=[1, 1],
            num_layers=2,
            layerwise_num_heads=[1, 1],
            layerwise_sr_ratios=[2, 1],
            max_drop_path_rate=0.0,
            layerwise_patch_sizes=[3, 3],
            layerwise_strides=[2, 2],
            image_shape=(16, 16, 3),
            hidden_dims=[4, 8],
        )

    def cspnet_backbone():
        return models.CSPNetBackbone(
            stem_filters=8,
            stem_kernel_size=3,
            stem_strides=2,
            stackwise_depth=[1, 1],
            stackwise_strides=[1, 2],
            stackwise_num_filters=[8, 16],
            block_type="dark_block",
            stage_type="dark",
            image_shape=(32, 32, 3),
        )

    def mobilenet_backbone():
        return models.MobileNetBackbone(
            stackwise_expansion=[[1], [2]],
            stackwise_num_blocks=[1, 1],
            stackwise_num_filters=[[8], [16]],
            stackwise_kernel_size=[[3], [3]],
            stackwise_num_strides=[[2], [2]],
            stackwise_se_ratio=[[None], [0.25]],
            stackwise_activation=[["relu"], ["hard_swish"]],
            stackwise_padding=[[1], [1]],
            output_num_filters=32,
            depthwise_filters=8,
            depthwise_stride=2,
            depthwise_residual=False,
            last_layer_filter=32,
            image_shape=(32, 32, 3),
        )

    # ---- Functional models that use keras-hub blocks as layers: opaque rows
    def backbone_as_layer():
        backbone = vgg()
        inputs = keras.Input((16, 16, 3), name="pixels")
        x = backbone(inputs)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        return keras.Model(inputs, layers.Dense(3, name="head")(x), name="backbone_as_layer")

    def efficientnet_blocks():
        inputs = keras.Input((16, 16, 8), name="image")
        x = FusedMBConvBlock(8, 16, expand_ratio=2, kernel_size=3, strides=2, se_ratio=0.25, name="fused")(
            inputs
        )
        x = MBConvBlock(16, 16, expand_ratio=2, kernel_size=3, strides=1, se_ratio=0.25, name="mbconv")(x)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        return keras.Model(inputs, layers.Dense(3, name="head")(x), name="efficientnet_blocks")

    def mobilenet_blocks():
        inputs = keras.Input((16, 16, 3), name="image")
        x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
        x = InvertedResidualBlock(
            expansion=2,
            infilters=8,
            filters=8,
            kernel_size=3,
            stride=1,
            squeeze_excite_ratio=0.25,
            activation="relu",
            padding=1,
            name="inverted",
        )(x)
        x = ConvBnActBlock(filter=16, activation="hard_swish", name="conv_bn_act")(x)
        x = layers.GlobalAveragePooling2D(name="pool")(x)
        return keras.Model(inputs, layers.Dense(2, name="head")(x), name="mobilenet_blocks")

    def sequential_block():
        return keras.Sequential(
            [
                keras.Input((8, 8, 4)),
                layers.Conv2D(8, 1, name="expand"),
                MBConvBlock(8, 8, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0, name="block"),
                layers.Flatten(name="flat"),
                layers.Dense(2, name="head"),
            ],
            name="sequential_block",
        )

    whole = [
        resnet_backbone,
        resnet_classifier,
        vgg_backbone,
        vgg_classifier,
        densenet_backbone,
        densenet_classifier,
        xception_backbone,
        vit_backbone,
        deit_backbone,
        mit_backbone,
        cspnet_backbone,
        mobilenet_backbone,
    ]
    blocks = [backbone_as_layer, efficientnet_blocks, mobilenet_blocks, sequential_block]
    return keras, keras_hub, whole, blocks


def figures(keras, keras_hub, model, whole: bool) -> dict:
    import numpy as np

    def shape(layer):
        out = layer.output
        return [list(t.shape[1:]) for t in out] if isinstance(out, (list, tuple)) else list(out.shape[1:])

    return {
        "source": f"keras {keras.__version__}, keras-hub {keras_hub.__version__}, backend {keras.backend.backend()}",
        "class_name": type(model).__name__,
        "whole": whole,
        "layers": [
            {
                "name": layer.name,
                "class_name": type(layer).__name__,
                "output_shape": shape(layer),
                "params": layer.count_params(),
            }
            for layer in model.layers
            if type(layer).__name__ != "InputLayer"
        ],
        "total_params": model.count_params(),
        "trainable_params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "non_trainable_params": int(sum(np.prod(w.shape) for w in model.non_trainable_weights)),
    }


def backbone_or_blocks_fixture(build):
    """The block model whose .h5 is also a committed fixture."""
    return build if build.__name__ == "efficientnet_blocks" else None


def write(out: Path, fixtures: bool) -> None:
    keras, keras_hub, whole, blocks = builders()
    out.mkdir(parents=True, exist_ok=True)
    for build in whole + blocks:
        model = build()
        name = build.__name__
        path = out / f"{name}.keras"
        model.save(path)
        expected = json.dumps(figures(keras, keras_hub, model, build in whole), indent=1) + "\n"
        (out / f"{name}.expected.json").write_text(expected)
        size = path.stat().st_size
        if fixtures:
            FIXTURES.mkdir(parents=True, exist_ok=True)
            if build in whole:  # only its config.json matters (and it is what gets refused)
                with zipfile.ZipFile(path) as archive:
                    (FIXTURES / f"{name}.config.json").write_bytes(archive.read("config.json"))
            elif size <= FIXTURE_BYTES:
                (FIXTURES / f"{name}.keras").write_bytes(path.read_bytes())
        if build in blocks:  # Keras 3's legacy HDF5 file of the same model
            model.save(out / f"{name}.h5")
            if fixtures and build is backbone_or_blocks_fixture(build):
                (FIXTURES / f"{name}.h5").write_bytes((out / f"{name}.h5").read_bytes())
            (FIXTURES / f"{name}.expected.json").write_text(expected)
        print(name, model.count_params(), "params", size, "bytes")


def check(directory: Path) -> int:
    """Read every NAME.keras with cnncalc: blocks against Keras's figures, whole models refused
    with the class and its package."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from cnncalc import summarize
    from cnncalc.errors import CnncalcError
    from cnncalc.io.sources import read_spec

    tried = read = refused = wrong = splits = 0
    for expected_path in sorted(directory.glob("*.expected.json")):
        theirs = json.loads(expected_path.read_text())
        stem = expected_path.name[: -len(".expected.json")]
        for path in (directory / f"{stem}.keras", directory / f"{stem}.h5"):
            if not path.exists():
                continue
            tried += 1
            try:
                summary = summarize(read_spec(str(path)))
            except CnncalcError as err:
                named = f"keras_hub>{theirs['class_name']}" in str(err) and err.hint is not None
                if theirs["whole"] and named:
                    refused += 1
                    print(f"refused as it should {path.name}: {err}")
                else:
                    print(f"REFUSED {path.name}: {err}")
                continue
            problems = compare(summary.to_dict(), theirs)
            split = compare(summary.to_dict(), theirs, split=True)
            if problems:
                wrong += 1
                print(f"WRONG {path.name}: {'; '.join(problems[:5])}")
            else:
                read += 1
                splits += split != []
                print(f"ok {path.name}{' (trainable split differs)' if split else ''}")
    print(
        f"keras-hub files: {tried} tried, {read} read exactly (shapes, params, total; the trainable split "
        f"differs in {splits}), {refused} whole models refused by name, {wrong} wrong"
    )
    return 1 if wrong else 0


def compare(ours: dict, theirs: dict, split: bool = False) -> list[str]:
    """Differences in shapes and params (and, with ``split``, in the trainable/non-trainable split)."""
    rows = {row["name"]: row for row in ours["layers"]}
    problems = []
    for layer in theirs["layers"]:
        row = rows.get(layer["name"])
        if row is None:
            problems.append(f"no row for {layer['name']}")
            continue
        if row["output_shape"] != layer["output_shape"]:
            problems.append(f"{layer['name']}: shape {row['output_shape']} != {layer['output_shape']}")
        if row["params"] != layer["params"]:
            problems.append(f"{layer['name']}: params {row['params']} != {layer['params']}")
    keys = ("total_params", "trainable_params", "non_trainable_params") if split else ("total_params",)
    for key in keys:
        if ours[key] != theirs[key]:
            problems.append(f"{key} {ours[key]} != {theirs[key]}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        sys.exit(check(Path(sys.argv[2])))
    write(Path(sys.argv[1]), "--fixtures" in sys.argv)
