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


@pytest.mark.slow
@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_auxiliary_heads_equal_torchvision_in_train_mode(name: str) -> None:
    """The training-only rows against the auxiliary classifiers' leaves in train mode (batch 2:
    BatchNorm in train mode refuses one value per channel), and the tools' eval-mode figures of
    the model with its aux heads against the counters fixture (measured 28 s; all equal)."""
    import json
    from pathlib import Path

    from tests.fixtures.counters.make_counters import tool_figures
    from tools.make_torchvision_zoo import AUX

    kwargs, size = MODELS[name]
    assert kwargs["aux_logits"] is True
    model = getattr(torchvision.models, name)(weights=None, **kwargs).train()
    shapes: dict[str, tuple[int, ...]] = {}
    for path, module in model.named_modules():
        if path.split(".")[0] in AUX[name] and not list(module.children()):
            module.register_forward_hook(lambda m, i, o, path=path: shapes.update({path: tuple(o.shape[1:])}))
    with torch.no_grad():
        model(torch.zeros(2, 3, size, size))
    s = cnncalc.summarize(zoo.load(f"torchvision/{name}"))
    rows = {row.name: row for row in s.layers}
    assert shapes and all(rows[path].output_shape == out for path, out in shapes.items())
    assert {r.name for r in s.layers if r.training_only} >= set(shapes)
    assert all(r.name.split(".")[0] in AUX[name] for r in s.layers if r.training_only)
    pytest.importorskip("torchinfo")
    tools = tool_figures(model.eval(), size)
    fixture = json.loads((Path(__file__).parent / "fixtures" / "counters" / "torchvision.json").read_text())
    c = compare(s)
    for counter in Counter:
        if counter is not Counter.CNNCALC:
            assert tools[counter.value] == fixture[name][counter.value]
    assert c.total(Counter.TORCHINFO) == tools["torchinfo"]


@pytest.mark.slow
def test_exported_googlenet_runs_its_aux_heads_in_train_mode_only() -> None:
    """export --to pytorch of torchvision/googlenet: torchvision's parameter count, one output
    in eval mode, the model's and the two auxiliary outputs in train mode."""
    from cnncalc.export import export

    namespace: dict = {"__name__": "__export__"}
    code = export(cnncalc.summarize(zoo.load("torchvision/googlenet")), "pytorch")
    exec(compile(code, "<export>", "exec"), namespace)  # noqa: S102 - code cnncalc just wrote
    model = namespace["model"]
    assert sum(p.numel() for p in model.parameters()) == 13_004_888
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
        outputs = model.train()(torch.zeros(2, 3, 224, 224))
    assert [tuple(o.shape) for o in outputs] == [(2, 1000)] * 3
