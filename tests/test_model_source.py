"""ModelSource: the command line's LAYER / -f / --model choice as library API."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import Failed, ShapeError, SpecError


def test_zoo_model_gives_the_published_count() -> None:
    # VGG16: 138,357,544 parameters (Simonyan & Zisserman; keras.applications.VGG16().count_params()).
    spec = cnncalc.ModelSource(model="vgg16").spec()
    assert cnncalc.summarize(spec).total_params == 138_357_544


def test_layers_read_under_the_convention() -> None:
    # PyTorch's Conv2d(3, 8, 3): 3*3*3*8 + 8 = 224 parameters, 32 -> 30.
    spec = cnncalc.ModelSource(layers=("conv2d:3,8,3",), convention="pytorch").spec()
    result = cnncalc.summarize(spec, input_shape=(3, 32, 32), convention="pytorch")
    assert result.total_params == 224 and result.output_shape == (8, 30, 30)


def test_file_reads_any_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.json"
    path.write_text('{"input_shape": [200, 200, 1], "layers": ["conv:16,2,2,valid"]}')
    result = cnncalc.summarize(cnncalc.ModelSource(file=str(path)).spec())
    assert result.total_params == 80  # 16*(2*2*1) + 16


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (cnncalc.ModelSource(layers=("conv:8,3",), model="vgg16"), "not layers and model"),
        (cnncalc.ModelSource(file="a.json", model="vgg16"), "not file and model"),
        (cnncalc.ModelSource(model="vgg16", model_name="Net"), "model_name goes with file FILE.py"),
        (cnncalc.ModelSource(model="vgg16", source_format="json"), "source_format goes with file"),
        (cnncalc.ModelSource(), "no layers: give layers"),
    ],
)
def test_misplaced_settings_are_spec_errors(source: cnncalc.ModelSource, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        source.spec()


def test_exit_codes_live_on_the_classes() -> None:
    assert SpecError("x").exit_code == 2 and ShapeError("x").exit_code == 2
    assert Failed("x").exit_code == 1
