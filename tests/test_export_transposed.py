"""Keras's transposed 'same' written as PyTorch code with Keras's cells, not only its size.

Keras (every backend; TensorFlow's conv2d_transpose) computes the full transposed output,
L = (n - 1)*s + d*(k - 1) + 1 cells, and keeps out = n*s of them, cropping t = L - out:
floor(t/2) at the start, ceil(t/2) at the end. PyTorch's padding=p crops p at both ends and
output_padding=op gives back op at the end, so an odd t is padding=floor(t/2) and one more cell
cropped at the end by a negative ``nn.ZeroPad`` (padding=ceil(t/2), output_padding=1 has the size,
with every cell one place earlier). The numbers here are derived by hand; the dev-only
tests/test_export_transposed_frameworks.py runs Keras's layer and the exported module on the same
weights.
"""

from __future__ import annotations

import pytest

from cnncalc.engine import summarize
from cnncalc.errors import CnncalcError
from cnncalc.export import export
from cnncalc.io import from_layers
from cnncalc.io.python_source import read_python

from .helpers import run


def modules(code: str) -> list[str]:
    return [line.split(" = ", 1)[1] for line in code.splitlines() if line.startswith("        self.")]


def read_back(code: str) -> list[tuple[str, str, tuple, int]]:
    back = summarize(read_python(code, "export.py"))
    return [(row.name, row.type, tuple(row.output_shape), row.params) for row in back.layers]


def test_odd_crop_is_padding_floor_and_a_negative_zero_pad_at_the_end() -> None:
    # k=3, s=2 on 4x4: L = 3*2 + 2 + 1 = 9, out = 8, t = 1: Keras keeps full[0:8] (crop 0 + 1),
    # so padding=0 and one cell cut at the end of height and width (not padding=1,
    # output_padding=1, which keeps full[1:9]). Params 2*3*3*3 + 3 = 57.
    summary = summarize(from_layers(["conv2dtranspose:3,3,2,same"]), input_shape=(4, 4, 2))
    code = export(summary, "pytorch")
    assert modules(code) == ["nn.ConvTranspose2d(2, 3, 3, stride=2)", "nn.ZeroPad2d((0, -1, 0, -1))"]
    assert "output_padding" not in code
    assert read_back(code) == [
        ("conv2d_transpose_deconv", "conv2dtranspose", (3, 9, 9), 57),
        ("conv2d_transpose", "cropping2d", (3, 8, 8), 0),
    ]


@pytest.mark.parametrize(
    ("layer", "shape", "expected", "out"),
    [
        # k=4, s=2 on 5: L = 4*2 + 3 + 1 = 12, out 10, t = 2 (even): padding=1 both ends
        ("conv1dtranspose:2,4,2,same", (5, 1), ["nn.ConvTranspose1d(1, 2, 4, stride=2, padding=1)"], (2, 10)),
        # k=2, s=3 on 5: L = 4*3 + 1 + 1 = 14, out 15, t = -1: one cell added at the end
        (
            "conv1dtranspose:2,2,3,same",
            (5, 1),
            ["nn.ConvTranspose1d(1, 2, 2, stride=3, output_padding=1)"],
            (2, 15),
        ),
        # k=5, s=1 on 5: L = 4 + 4 + 1 = 9, out 5, t = 4: padding=2 both ends
        ("conv1dtranspose:2,5,1,same", (5, 1), ["nn.ConvTranspose1d(1, 2, 5, padding=2)"], (2, 5)),
        # k=2, s=1 on 5: L = 4 + 1 + 1 = 6, out 5, t = 1: padding=0, one cell cut at the end
        # (PyTorch's output_padding must stay under the stride, 1: before, this was refused)
        (
            "conv1dtranspose:2,2,1,same",
            (5, 1),
            ["nn.ConvTranspose1d(1, 2, 2)", "nn.ZeroPad1d((0, -1))"],
            (2, 5),
        ),
        # k=5, s=3 on 4: L = 3*3 + 4 + 1 = 14, out 12, t = 2 (even) on height; k=4: t = 1 on width
        (
            "conv2dtranspose:2,(5,4),3,same",
            (4, 4, 1),
            ["nn.ConvTranspose2d(1, 2, (5, 4), stride=3, padding=(1, 0))", "nn.ZeroPad2d((0, -1, 0, 0))"],
            (2, 12, 12),
        ),
    ],
)
def test_keras_same_transposed_spellings(layer, shape, expected, out) -> None:
    code = export(summarize(from_layers([layer]), input_shape=shape), "pytorch")
    assert modules(code) == expected
    assert read_back(code)[-1][2] == out


def test_a_negative_zero_pad_reads_as_cropping() -> None:
    # PyTorch's F.pad: negative padding removes cells; ZeroPad2d lists (left, right, top, bottom)
    code = (
        "from torch import nn\n"
        "model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ZeroPad2d((0, -1, -2, 0)), nn.ZeroPad2d(-1))\n"
    )
    spec = read_python(code, "m.py", input_shape=(1, 8, 8))
    assert spec.layers[1].layer.cropping == ((2, 0), (0, 1))
    assert spec.layers[2].layer.cropping == ((1, 1), (1, 1))
    rows = [(row.type, tuple(row.output_shape), row.params) for row in summarize(spec).layers]
    # 8x8 -> height 8 - 2, width 8 - 1 -> 6 - 2, 7 - 2
    assert rows[1:] == [("cropping2d", (2, 6, 7), 0), ("cropping2d", (2, 4, 5), 0)]


def test_a_zero_pad_that_pads_and_crops_is_refused_with_the_reason(tmp_path) -> None:
    path = tmp_path / "mixed.py"
    path.write_text(
        "from torch import nn\nmodel = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ZeroPad2d((1, -1, 0, 0)))\n"
    )
    result = run("summary", str(path), "--input", "1x8x8")
    assert result.exit_code == 2
    assert "both pads and crops" in result.stderr and "Traceback" not in result.output
    with pytest.raises(CnncalcError):
        read_python(path.read_text(), "mixed.py")


def test_a_negative_functional_pad_reads_as_cropping() -> None:
    code = (
        "import torch.nn.functional as F\nfrom torch import nn\n\n\n"
        "class M(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(1, 2, 3)\n\n"
        "    def forward(self, x):\n        return F.pad(self.c(x), (0, -1, -1, 0))\n"
    )
    rows = summarize(read_python(code, "m.py", input_shape=(1, 8, 8))).layers
    # 8 - 2 = 6, then one cell off the top and one off the right
    assert [(row.type, tuple(row.output_shape)) for row in rows] == [
        ("conv2d", (2, 6, 6)),
        ("cropping2d", (2, 5, 5)),
    ]
    assert rows[1].layer.cropping == ((1, 0), (0, 1))
    with pytest.raises(CnncalcError, match="both pads and crops"):
        read_python(code.replace("(0, -1, -1, 0)", "(1, -1, 0, 0)"), "m.py", input_shape=(1, 8, 8))
