"""Dev-only: `solve sizes` against real Keras 3 and torchvision at every size 1..512.

Skipped when the frameworks are absent (they are never runtime dependencies). The models run on
PyTorch's ``meta`` device: the real layer code, shapes only, no arithmetic. (Keras's
``compute_output_spec`` is not enough: a Functional model's Concatenate accepts mismatched
sizes there and fails only when run.) Shape validity only: Keras's constructor policies
(``min_size=32`` in ``keras.applications``) are not shape rules, so the Keras models are built
with ``input_shape=(None, None, 3)``, which skips them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

import cnncalc
from cnncalc import zoo
from cnncalc.solve import solve_sizes

SIZES = range(1, 513)


def test_keras_resnet50_at_every_size() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    spec = zoo.load("resnet50")
    solution = solve_sizes(spec)
    with keras.device("meta"), torch.no_grad():
        base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(None, None, 3))
        # Every layer's output, so the comparison covers each intermediate shape too.
        model = keras.Model(base.inputs, [layer.output for layer in base.layers[1:]])
        names = [layer.name for layer in base.layers[1:]]
        for n in SIZES:
            try:
                outputs = model(torch.empty((1, n, n, 3), device="meta"), training=False)
            except Exception:  # noqa: BLE001 - any framework error means the size is invalid
                real = None
            else:
                real = {name: tuple(y.shape[1:]) for name, y in zip(names, outputs, strict=True)}
            valid = all(n in axis.sizes for axis in solution.axes)
            assert valid == (real is not None), n
            if real is not None:
                ours = {
                    row.name: row.output_shape
                    for row in cnncalc.summarize(spec, input_shape=(n, n, 3)).layers
                }
                common = [k for k in ours if k in real]
                assert len(common) > 100
                assert {k: ours[k] for k in common} == {k: real[k] for k in common}, n


def test_torchvision_resnet18_at_every_size() -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    spec = zoo.load("resnet18")
    solution = solve_sizes(spec)
    model = torchvision.models.resnet18().eval().to("meta")
    shapes: dict[str, tuple[int, ...]] = {}

    def record(name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            shapes[name] = tuple(output.shape[1:])

        return hook

    for name, module in model.named_modules():
        if name and not list(module.children()):
            module.register_forward_hook(record(name))
    for n in SIZES:
        shapes.clear()
        try:
            with torch.no_grad():
                model(torch.empty((1, 3, n, n), device="meta"))
        except Exception:  # noqa: BLE001 - any framework error means the size is invalid
            valid_real = False
        else:
            valid_real = True
        valid = all(n in axis.sizes for axis in solution.axes)
        assert valid == valid_real, n
        if valid_real:
            ours = {
                row.name: row.output_shape for row in cnncalc.summarize(spec, input_shape=(3, n, n)).layers
            }
            common = [k for k in ours if k in shapes]
            assert len(common) > 20
            assert {k: ours[k] for k in common} == {k: shapes[k] for k in common}, n


def test_keras_unet_at_every_size() -> None:
    """A model with invalid sizes: the same-padded U-Net of test_solve, built in Keras."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    from keras import layers

    from .test_solve import unet_same

    # On the CPU: Keras's UpSampling2D does not run on the meta device. Four channels keep it quick.
    with torch.no_grad():
        inputs = keras.Input((None, None, 1))
        x, skips = inputs, []
        for _ in range(4):
            x = layers.Conv2D(4, 3, padding="same")(x)
            x = layers.Conv2D(4, 3, padding="same")(x)
            skips.append(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(4, 3, padding="same")(x)
        for skip in reversed(skips):
            x = layers.Concatenate()([layers.UpSampling2D(2)(x), skip])
            x = layers.Conv2D(4, 3, padding="same")(x)
        model = keras.Model(inputs, x)
        solution = solve_sizes(unet_same())
        for n in SIZES:
            try:
                model(torch.zeros((1, n, n, 1)))
            except Exception:  # noqa: BLE001 - any framework error means the size is invalid
                real = False
            else:
                real = True
            assert real == all(n in axis.sizes for axis in solution.axes), n


def _layers(text: str, namespace: dict[str, Any]) -> list[Any]:
    """The layer objects a constructor text builds (one call, or several separated by commas)."""
    built = eval(text, namespace)  # noqa: S307 - our own generated constructor text
    return list(built) if isinstance(built, tuple) else [built]


@pytest.mark.parametrize("kind", ["conv", "pool", "transposed"])
@pytest.mark.parametrize("convention", ["keras", "pytorch"])
def test_layer_constructor_texts_run_in_the_frameworks(kind: str, convention: str) -> None:
    """Every constructor call `solve layer` prints builds, in real Keras and PyTorch, a layer that
    maps the input to the output."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    from cnncalc.solve import solve_layer

    cases = [((9, 11), (4, 5)), ((7, 6), (14, 12)), ((16, 16), (8, 8)), ((12, 5), (12, 5)), ((10, 9), (3, 3))]
    checked = 0
    for sizes_in, sizes_out in cases:
        solution = solve_layer(sizes_in, sizes_out, kind=kind, convention=convention, filters=2, channels=1)
        for choice in solution.choices[:60]:
            if not choice.keras.startswith("no Keras"):
                model = keras.Sequential(
                    [keras.Input((*sizes_in, 1)), *_layers(choice.keras, {"layers": keras.layers})]
                )
                out = model(torch.zeros((1, *sizes_in, 1)))
                assert tuple(out.shape[1:-1]) == sizes_out, choice.keras
            net = torch.nn.Sequential(*_layers(choice.pytorch, {"nn": torch.nn}))
            with torch.no_grad():
                out = net(torch.zeros((1, 1, *sizes_in)))
            assert tuple(out.shape[2:]) == sizes_out, choice.pytorch
            checked += 1
    assert checked > 0
