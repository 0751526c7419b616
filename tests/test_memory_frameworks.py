"""Dev-only: ``cnncalc memory``'s saved-for-backward bytes against PyTorch's own, measured with
``torch.autograd.graph.saved_tensors_hooks`` (distinct storages, parameters and buffers left
out), on random stacks of every kind ``export --to pytorch`` writes (run as cnncalc wrote them, in
training mode, batch 2, CPU) and, re-measured, on the torchvision zoo (the committed fixture
tests/fixtures/memory/torchvision.json is what the default suite checks without torch).
Skipped without torch (run with /work/devvenv).
"""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")

from cnncalc import zoo  # noqa: E402
from cnncalc.engine import summarize  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.export_torch import export_pytorch  # noqa: E402
from cnncalc.io import from_layers, loads  # noqa: E402
from cnncalc.memory import memory  # noqa: E402

from .fixtures.memory.make_memory import import_torchvision, saved_bytes  # noqa: E402

pytestmark = pytest.mark.slow

#: One draw per kind family: windows, normalization, every activation rule (result-written,
#: input-written, in place or not), dropout's mask, views, padding and resizing.
_CHOICES = (
    lambda r: f"conv:{r.randint(1, 8)},{r.randint(1, 3)},{r.randint(1, 2)},{r.randint(0, 1)}",
    lambda r: f"conv:{r.randint(1, 8)},3,padding=same,dilation_rate=2,use_bias={r.random() < 0.5}",
    lambda r: f"maxpool:{r.randint(1, 3)},{r.randint(1, 2)},0,ceil_mode={r.random() < 0.5}",
    lambda r: f"avgpool:{r.randint(1, 3)},{r.randint(1, 2)}",
    lambda r: f"adaptiveavgpool2d:{r.randint(1, 3)}",
    lambda r: f"adaptivemaxpool2d:{r.randint(1, 3)}",
    lambda r: f"conv2dtranspose:{r.randint(1, 6)},{r.randint(1, 3)},{r.randint(1, 2)}",
    lambda r: r.choice(["bn", "zeropadding2d:1", "upsampling2d:2", "spatialdropout2d:0.5"]),
    lambda r: r.choice(["relu", "relu:inplace=true", "relu:max_value=6", "relu:max_value=6,inplace=true"]),
    lambda r: (
        f"activation:{r.choice(['silu', 'hard_swish', 'hard_sigmoid', 'elu'])},inplace={r.random() < 0.5}"
    ),
    lambda r: f"activation:{r.choice(['sigmoid', 'tanh', 'gelu', 'softplus', 'mish', 'selu'])}",
    lambda r: r.choice(["leakyrelu:0.1", "dropout:0.25", "dropout:0", "softmax:1"]),
    lambda r: f"depthwiseconv2d:{r.randint(1, 3)},depth_multiplier={r.randint(1, 2)}",
    lambda r: f"separableconv2d:{r.randint(1, 6)},{r.randint(1, 3)},activation={r.choice(['relu', 'gelu'])}",
    lambda r: f"conv:{r.randint(1, 8)},1,activation={r.choice(['relu', 'sigmoid', 'silu', 'tanh'])}",
)


def random_stacks(count: int, seed: int) -> list:
    """``count`` computable stacks under PyTorch's rules that export writes, ending in a Linear."""
    rng = random.Random(seed)
    out: list = []
    while len(out) < count:
        shape = (rng.randint(1, 4), rng.randint(6, 20), rng.randint(6, 20))
        layers = [rng.choice(_CHOICES)(rng) for _ in range(rng.randint(1, 7))]
        if rng.random() < 0.7:
            layers += [
                "flatten",
                *(["dropout:0.5"] if rng.random() < 0.5 else []),
                f"dense:{rng.randint(1, 12)}",
            ]
        try:
            summary = summarize(from_layers(layers), input_shape=shape, convention="pytorch")
            code = export_pytorch(summary)
        except CnncalcError:
            continue  # an impossible shape or a row export does not write: draw again
        out.append((summary, code))
    return out


def torch_saved(code: str, shape: tuple, batch: int) -> int:
    namespace: dict = {"__name__": "__export__"}
    exec(compile(code, "<export>", "exec"), namespace)  # noqa: S102 - code cnncalc just wrote
    model = namespace["model"].train()
    torch.manual_seed(0)
    total, _ = saved_bytes(model, torch.randn(batch, *shape))
    return total


def test_random_stacks_keep_what_torch_keeps() -> None:
    stacks = random_stacks(200, seed=2727)
    wrong = []
    for summary, code in stacks:
        ours = memory(summary, batch=2, training=True, device="cpu").saved_for_backward_bytes
        theirs = torch_saved(code, summary.input_shape, 2)
        if ours != theirs:
            wrong.append((ours, theirs, [row.spec for row in summary.layers]))
    assert not wrong, wrong[:5]
    print(f"{len(stacks)} random stacks: saved-for-backward equal to torch's, byte for byte")


@pytest.mark.parametrize("name", [n.split("/")[1] for n in zoo.names() if n.startswith("torchvision/")])
def test_torchvision_zoo_remeasured(name: str) -> None:
    from tools.make_torchvision_zoo import AUX, MODELS

    tv = import_torchvision()
    kwargs, size = MODELS[name]
    if name in AUX:  # the memory model leaves the training-only aux heads out (docs/memory.md)
        kwargs = {**kwargs, "aux_logits": False}
    model = getattr(tv.models, name)(weights=None, **kwargs).train()
    summary = summarize(loads(zoo.load(f"torchvision/{name}")))
    total, _ = saved_bytes(model, torch.randn(2, 3, size, size))
    assert memory(summary, batch=2, training=True, device="cpu").saved_for_backward_bytes == total


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [("keras/lenet5", 0), ("keras/vgg16", 0), ("keras/resnet50", 0), ("keras/mobilenetv2", 1e-4)],
)
def test_keras_zoo_on_the_torch_backend(name: str, tolerance: float) -> None:
    """Keras 3 on the torch backend, as ``export --to keras`` writes the model: exact for the
    plain conv nets; MobileNetV2's 'same' depthwise convs with stride 2 pad a copy (0.005%)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras runs on another backend")
    from cnncalc.export import export

    summary = summarize(loads(zoo.load(name)))
    namespace: dict = {"__name__": "__export__"}
    exec(compile(export(summary, "keras"), "<export>", "exec"), namespace)  # noqa: S102
    model = namespace["model"]
    state = {v.value.untyped_storage().data_ptr() for v in model.weights}
    seen: dict[int, int] = {}

    def pack(t):  # noqa: ANN001, ANN202 - torch's hook signature
        storage = t.untyped_storage()
        if storage.data_ptr() not in state and storage.nbytes():
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(1, *summary.input_shape), training=True)
    ours = memory(summary, batch=1, training=True, device="cpu").saved_for_backward_bytes
    assert abs(ours - sum(seen.values())) <= tolerance * sum(seen.values())


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "densenet121"])
def test_training_peak_bounds_torchs_profiler(name: str) -> None:
    """One training step as the usual loop runs it (``zero_grad(set_to_none=True)``, forward,
    backward), batch 4, CPU: torch's profiler peak (the allocations' running total, plus the
    input) against cnncalc's training peak less parameters and buffers. The additive figure
    (all gradients, all saved tensors, the largest backward gradient set at once) is an upper
    bound: measured 111-129% on the torchvision models."""
    from torch.profiler import ProfilerActivity, profile

    tv = import_torchvision()
    model = getattr(tv.models, name)(weights=None).train()
    x = torch.randn(4, 3, 224, 224)
    model(x).sum().backward()
    model.zero_grad(set_to_none=True)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        model(x).sum().backward()
    events = sorted((e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start)
    total = peak = 0
    for event in events:
        total += event.self_cpu_memory_usage
        peak = max(peak, total)
    summary = summarize(loads(zoo.load(f"torchvision/{name}")))
    r = memory(summary, batch=4, training=True, optimizer="sgd", device="cpu")
    ours = r.training_peak_bytes - r.param_bytes - r.buffer_bytes
    assert peak + r.input_bytes <= ours <= 1.35 * (peak + r.input_bytes)
