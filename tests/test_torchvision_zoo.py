"""Dev-only: the torchvision zoo against torchvision itself, and the counters against the real
tools (skipped without torch/torchvision; see DEVELOPERS.md on the framework venv)."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc import zoo
from cnncalc.counters import compare
from cnncalc.enums import Counter

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from tools.make_torchvision_zoo import MODELS  # noqa: E402


def leaf_shapes(name: str, size: int) -> tuple[dict[str, list[tuple[int, ...]]], int]:
    kwargs, _ = MODELS[name]
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    shapes: dict[str, list[tuple[int, ...]]] = {}
    for path, module in model.named_modules():
        if not list(module.children()):
            module.register_forward_hook(
                lambda m, i, o, path=path: shapes.setdefault(path, []).append(tuple(o.shape[1:]))
            )
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    return shapes, sum(p.numel() for p in model.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_zoo_equals_torchvision(name: str) -> None:
    size = MODELS[name][1]
    for shape in (size, size + 32):  # the declared size and another one torchvision accepts
        shapes, params = leaf_shapes(name, shape)
        s = cnncalc.summarize(zoo.load(f"torchvision/{name}"), input_shape=(3, shape, shape))
        rows = {row.name: row.output_shape for row in s.layers}
        assert s.total_params == params
        for path, outputs in shapes.items():
            for call, out in enumerate(outputs):  # a module called twice: path, path_1
                assert rows[path if call == 0 else f"{path}_{call}"] == out, (path, shape)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "convnext_tiny"])
def test_counters_equal_the_tools(name: str) -> None:
    pytest.importorskip("fvcore")
    pytest.importorskip("ptflops")
    pytest.importorskip("thop")
    pytest.importorskip("torchinfo")
    from tests.fixtures.counters.make_counters import tool_figures

    kwargs, size = MODELS[name]
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
    tools = tool_figures(model, size)
    c = compare(cnncalc.summarize(zoo.load(f"torchvision/{name}")))
    for counter in Counter:
        if counter is not Counter.CNNCALC:
            assert c.total(counter) == tools[counter.value], counter
