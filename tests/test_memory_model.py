"""``cnncalc memory`` and ``solve batch``: what autograd keeps, the peaks, the largest batch.

Oracles: PyTorch's own figures (tests/fixtures/memory/torchvision.json, written by
make_memory.py with torch 2.13.0 on torchvision 0.28's models: the bytes of the distinct
storages ``saved_tensors_hooks`` sees, parameters left out, in float32 at batch 1 and 8 and under
``torch.autocast("cpu", bfloat16)`` at batch 2; the profiler's inference peak) and hand derivations from
derivatives.yaml's rules, written out in each test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import zoo
from cnncalc.memory import largest_batch, memory

from .helpers import run
from .strategies import STRATEGIES

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "memory" / "torchvision.json").read_text())


def _model(*layers: str, shape: tuple[int, ...] = (4, 8, 8)) -> cnncalc.Summary:
    spec = cnncalc.parse({"input_shape": list(shape), "convention": "pytorch", "layers": list(layers)})
    return cnncalc.summarize(spec)


@pytest.mark.parametrize("name", sorted(FIXTURE))
@pytest.mark.parametrize("batch", [1, 8])
def test_saved_for_backward_equals_torch(name: str, batch: int) -> None:
    summary = cnncalc.summarize(zoo.load(f"torchvision/{name}"))
    report = memory(summary, batch=batch, training=True, device="cpu")
    assert report.saved_for_backward_bytes == FIXTURE[name][f"saved_batch{batch}"]


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_inference_peak_against_torchs_profiler(name: str) -> None:
    # torch's CPU profiler (no-grad forward, batch 8) counts what the pass allocates; the caller
    # holds the input besides. cnncalc's arena figure is exact for the chains (VGG, ResNet-18,
    # AlexNet, GoogLeNet, ShuffleNet) and at most 25% lower where eager PyTorch keeps a tensor
    # past its last reader (Python locals such as ResNet's ``identity``, DenseNet's feature lists).
    summary = cnncalc.summarize(zoo.load(f"torchvision/{name}"))
    r = memory(summary, batch=8)
    ours = r.inference_peak_bytes - r.param_bytes - r.buffer_bytes
    torch_peak = FIXTURE[name]["inference_peak_batch8"] + r.input_bytes
    assert 0.75 * torch_peak <= ours <= torch_peak


#: Under bf16 autocast, ConvNeXt's LayerNorm2d and layer-scale ops run partly in fp32 (autocast's
#: type promotion with fp32 parameters), which the model leaves at the half type: 1.25% under.
MIXED_TOLERANCE = {"convnext_tiny": 0.0126}


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_saved_for_backward_under_bf16_autocast_equals_torch(name: str) -> None:
    summary = cnncalc.summarize(zoo.load(f"torchvision/{name}"))
    ours = memory(summary, batch=2, training=True, mixed="bf16", device="cpu").saved_for_backward_bytes
    theirs = FIXTURE[name]["saved_bf16_batch2"]
    assert abs(ours - theirs) <= MIXED_TOLERANCE.get(name, 0) * theirs


def test_conv_bn_inplace_relu_maxpool_by_hand() -> None:
    # batch 2, 4x8x8 float32 (2048 bytes a tensor): the conv keeps its input x (2048); BN its
    # input, the conv's output (2048), and save_mean/save_invstd (2*4 floats = 32); the in-place
    # ReLU its result, BN's output (2048); max pooling that same storage (counted once) and int64
    # indices of its 2x4x4x4 output (1024). torch measures 7200 (saved_tensors_hooks).
    s = _model("Conv2d:4,4,1", "BatchNorm2d:4", "ReLU:inplace=true", "MaxPool2d:2")
    assert memory(s, batch=2, training=True).saved_for_backward_bytes == 2048 + 2048 + 32 + 2048 + 1024


def test_relu_in_place_or_not_keeps_the_same_bytes_but_not_the_same_peak() -> None:
    # relu keeps its result: a new tensor out of place, the input's storage in place; the next
    # conv keeps that same tensor, so x + relu's result either way (torch measures 4096 for both),
    # while inference holds one tensor less.
    # batch 2: x 4x8x8 (2048 B), the 8-channel tensors 4096 B. Inference peaks at relu out of
    # place (conv output + relu output, 8192), in place at conv1 or conv2 (2048 + 4096 = 6144).
    apart = _model("Conv2d:4,8,1", "ReLU", "Conv2d:8,4,1")
    shared = _model("Conv2d:4,8,1", "ReLU:inplace=true", "Conv2d:8,4,1")
    a, b = (memory(s, batch=2, training=True) for s in (apart, shared))
    assert a.saved_for_backward_bytes == b.saved_for_backward_bytes == 2048 + 4096
    assert a.inference_peak_bytes - b.inference_peak_bytes == 8192 - 6144


def test_in_place_activation_reading_its_input_keeps_a_copy() -> None:
    # hardtanh (relu6) and silu read ``self``: in place, autograd keeps a clone of the input
    # (CloneBackward0), so x + the copy + the overwritten storage the next conv keeps.
    s = _model("Conv2d:4,4,1", "Activation:silu,inplace=true", "Conv2d:4,4,1")
    assert memory(s, batch=2, training=True).saved_for_backward_bytes == 3 * 2048


def test_dropout_mask_depends_on_the_device() -> None:
    # CUDA's native_dropout keeps a bool mask (1 byte a value); CPU's _dropout_impl keeps the
    # float noise (4 bytes a value). The conv keeps x (2048), the Linear the dropout's output
    # (2*256 floats, 2048).
    s = _model("Conv2d:4,4,1", "Flatten", "Dropout:0.5", "Linear:256,10")
    cuda = memory(s, batch=2, training=True, device="cuda").saved_for_backward_bytes
    cpu = memory(s, batch=2, training=True, device="cpu").saved_for_backward_bytes
    assert (cuda, cpu) == (2048 + 512 + 2048, 2048 + 2048 + 2048)


def test_flatten_and_permute_are_views_and_reshape_of_a_permuted_tensor_copies() -> None:
    # Linear after Flatten keeps the conv output's storage (a view): x + conv output = 4096.
    s = _model("Conv2d:4,4,1", "Flatten", "Linear:256,10")
    assert memory(s, batch=2, training=True).saved_for_backward_bytes == 4096
    # After a permute, flatten copies: the Linear keeps the copy, not the conv's output.
    p = _model("Conv2d:4,4,1", "Permute:2x3x1", "Flatten", "Linear:256,10")
    assert memory(p, batch=2, training=True).saved_for_backward_bytes == 4096


def test_nothing_is_kept_before_the_first_layer_with_parameters() -> None:
    # No op before a trainable one needs a gradient: torch records no node, keeps nothing.
    s = _model("MaxPool2d:2", "Conv2d:4,4,1", shape=(4, 8, 8))
    # the conv keeps its input, the pooled tensor 2*4*4*4 floats = 512; max pooling nothing
    assert memory(s, batch=2, training=True).saved_for_backward_bytes == 512


def test_parameters_gradients_and_optimizer_state_by_hand() -> None:
    # Conv2d(3, 8, 3): 8*3*3*3 + 8 = 224 params; BatchNorm2d(8): 16 params, buffers 2*8 floats
    # and one int64 num_batches_tracked (8 bytes).
    s = _model("Conv2d:3,8,3", "BatchNorm2d:8", shape=(3, 8, 8))
    for optimizer, states in (("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2), ("rmsprop", 1)):
        r = memory(s, batch=4, training=True, optimizer=optimizer)
        assert (r.param_bytes, r.buffer_bytes, r.grad_bytes) == (240 * 4, 16 * 4 + 8, 240 * 4)
        assert r.optimizer_bytes == states * 240 * 4
    mixed = memory(s, batch=4, training=True, mixed="bf16")
    assert (mixed.param_bytes, mixed.grad_bytes) == (240 * 4, 240 * 4)  # fp32 master weights


def test_mixed_precision_keeps_half_activations_and_the_weight_copies() -> None:
    # autocast: the conv keeps its input in bf16 (2*4*8*8*2 = 1024 bytes) and the bf16 copy of its
    # 4x4x1x1 weight (32 bytes); BN keeps its half input (1024) and fp32 statistics (32).
    s = _model("Conv2d:4,4,1", "BatchNorm2d:4")
    assert memory(s, batch=2, training=True, mixed="bf16").saved_for_backward_bytes == 1024 + 32 + 1024 + 32


def test_inference_peak_by_hand() -> None:
    # batch 2: x 3x32x32 (24,576 B, held by the caller throughout), conv1 8x30x30 (57,600 B),
    # relu (57,600 B), conv2 8x28x28 (50,176 B). At relu, conv1's output and relu's are alive
    # besides x: 24,576 + 115,200 bytes; torch's profiler peak for this stack is the same 115,200
    # allocated bytes. Params: 224 + 584 floats.
    s = _model("Conv2d:3,8,3", "ReLU", "Conv2d:8,8,3", shape=(3, 32, 32))
    r = memory(s, batch=2)
    assert r.inference_peak_bytes == 24_576 + 115_200 + (224 + 584) * 4
    assert r.inference_peak_layer == "1"  # the ReLU, named as nn.Sequential names it (position 1)


def test_training_peak_is_the_sum_of_its_parts() -> None:
    s = cnncalc.summarize(zoo.load("torchvision/resnet18"))
    r = memory(s, batch=4, training=True)
    parts = r.param_bytes + r.buffer_bytes + r.grad_bytes + r.optimizer_bytes + r.saved_for_backward_bytes
    assert r.training_peak_bytes == parts + r.backward_transient_bytes  # more than the forward's peak
    assert sum(layer.saved_bytes for layer in r.layers) == r.saved_for_backward_bytes


@given(st.integers(1, 2**34), st.booleans(), st.sampled_from(["sgd", "adam"]))
def test_solve_batch_answers_at_the_edge(budget: int, training: bool, optimizer: str) -> None:
    s = _model(
        "Conv2d:4,16,3,1,1", "BatchNorm2d:16", "ReLU:inplace=true", "MaxPool2d:2", "Flatten", "Linear:256,10"
    )
    answer = largest_batch(s, budget, training=training, optimizer=optimizer)
    key = "training_peak_bytes" if training else "inference_peak_bytes"
    if answer.fits is None:
        assert answer.above is not None and getattr(answer.above, key) > budget
        return
    assert getattr(answer.fits, key) <= budget
    assert answer.above is not None and getattr(answer.above, key) > budget
    assert answer.above.settings.batch == answer.batch + 1
    # the same figures as cnncalc memory at those batches
    again = memory(s, batch=answer.batch, training=training, optimizer=optimizer)
    assert getattr(again, key) == getattr(answer.fits, key)


def test_cli_memory_json_keys_and_solve_batch_exit_codes() -> None:
    out = run("memory", "--model", "torchvision/resnet18", "--batch", "2", "--train", "--format", "json")
    assert out.exit_code == 0
    doc = json.loads(out.stdout)
    for key in (
        "param_bytes",
        "buffer_bytes",
        "grad_bytes",
        "optimizer_bytes",
        "saved_for_backward_bytes",
        "inference_peak_bytes",
        "training_peak_bytes",
    ):
        assert isinstance(doc[key], int)
    assert doc["batch"] == 2 and doc["mode"] == "training"
    edge = run(
        "solve",
        "batch",
        "--memory",
        "16GiB",
        "--model",
        "torchvision/resnet50",
        "--train",
        "--format",
        "json",
    )
    assert edge.exit_code == 0
    answer = json.loads(edge.stdout)
    assert answer["fits"]["training_peak_bytes"] <= 16 * 2**30 < answer["next"]["training_peak_bytes"]
    assert answer["next"]["batch"] == answer["batch"] + 1
    tiny = run("solve", "batch", "--memory", "1MB", "--model", "torchvision/resnet50", "--train")
    assert tiny.exit_code == 1 and "No batch fits" in tiny.stdout


def test_cli_errors_are_one_line() -> None:
    bad = run("solve", "batch", "--memory", "lots", "--model", "torchvision/resnet18")
    assert bad.exit_code == 2 and "--memory 'lots' is not a size" in bad.stderr
    mixed = run("memory", "--model", "torchvision/resnet18", "--mixed", "bf16", "--dtype", "float16")
    assert mixed.exit_code == 2


@pytest.mark.parametrize("type_", sorted(STRATEGIES))
def test_every_kind_has_a_memory_rule(type_: str) -> None:
    """Each kind's strategy (tests/strategies.py) in training, both devices and under mixed
    precision: the layers' saved bytes add up to the model's, nothing is negative, every storage
    a kept tensor names exists, and the peaks hold at least the parameters."""

    @settings(max_examples=4, deadline=None)
    @given(STRATEGIES[type_])
    def check(example) -> None:  # noqa: ANN001 - hypothesis's example tuple
        source, shape, kw = example
        summary = cnncalc.summarize(source, input_shape=shape, expand=True, **kw)
        for device, mixed in (("cuda", None), ("cpu", "bf16")):
            r = memory(summary, batch=3, training=True, device=device, mixed=mixed)
            assert sum(layer.saved_bytes for layer in r.layers) == r.saved_for_backward_bytes >= 0
            assert r.inference_peak_bytes >= r.param_bytes + r.buffer_bytes
            assert r.training_peak_bytes >= r.inference_peak_bytes + r.grad_bytes + r.optimizer_bytes

    check()
