"""explain --window: one output of a conv or pooling worked out by hand (issue 26, item 18).

Expected values are derived by hand here; the command itself also checks every map against the
NumPy executor, and the tests assert that check passed.
"""

from __future__ import annotations

from click.testing import CliRunner

from cnncalc.cli import cli

IMAGE = "1,1,1,0,0;0,1,1,1,0;0,0,1,1,1;0,0,1,1,0;0,1,1,0,0"
X_KERNEL = "1,0,1;0,1,0;1,0,1"
RAMP = "1,2,3,4;5,6,7,8;9,10,11,12;13,14,15,16"


def window(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["explain", "--window", *args])


def feature_map(stdout: str) -> list[list[str]]:
    block = stdout.split("feature map", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [line.split() for line in block]


def test_the_classic_5x5_image_and_x_kernel() -> None:
    # The textbook example: a 0/1 5x5 image, the 3x3 X kernel, no padding, stride 1. The top-left
    # window [[1,1,1],[0,1,1],[0,0,1]] . X = 1+1+1+1 = 4; with b = 1, 5.
    result = window("--input", "5x5x1", "conv:1,3", "--values", IMAGE, "--weights", X_KERNEL, "--bias", "1")
    assert result.exit_code == 0, result.output
    assert "sum of window * w = 1 + 0 + 1 + 0 + 1 + 0 + 0 + 0 + 1 = 4" in result.stdout
    assert "+ bias b = 4 + 1 = 5" in result.stdout
    assert feature_map(result.stdout) == [["5", "4", "5"], ["3", "5", "4"], ["3", "4", "5"]]
    assert "checked: the NumPy executor's forward pass gives the same feature map" in result.stdout


def test_another_position_and_padding() -> None:
    # 'same' padding, stride 1: output [0, 0]'s window starts at (-1, -1): its first row and
    # column are padding; window [[0,0,0],[0,1,1],[0,0,1]] . X = 1 + 1 = 2.
    result = window("--input", "5x5x1", "conv:1,3,padding=same", "--values", IMAGE, "--weights", X_KERNEL)
    assert "window at input row -1, column -1" in result.stdout and "* = padding zero" in result.stdout
    assert "= 2\n" in result.stdout and feature_map(result.stdout)[0][0] == "2"
    at = window("--input", "5x5x1", "conv:1,3", "--values", IMAGE, "--weights", X_KERNEL, "--at", "2,1")
    assert "output [2, 1]" in at.stdout and "[2, 1] = 3" in at.stdout  # [[0,1,1],[0,1,1],[1,1,0]] . X


def test_pooling_follows_the_convention() -> None:
    # Keras AveragePooling2D(3, 2, 'same') on 4x4: pads 0 before, 1 after; output [1, 1] averages
    # the real values 11, 12, 15, 16 = 13.5 (Keras leaves padding out of the mean).
    keras = window("--input", "4x4x1", "avgpool:3,2,same", "--values", RAMP, "--at", "1,1")
    assert "mean of the window = 13.5" in keras.stdout and "checked:" in keras.stdout
    # PyTorch AvgPool2d(3, 2, padding=1): output [0, 0] counts the 5 padded zeros: 14 / 9 = 1.556
    torch = window("--convention", "pytorch", "--input", "1x4x4", "avgpool:3,2,1", "--values", RAMP)
    assert "mean of the window = 1.556" in torch.stdout and "checked:" in torch.stdout
    # MaxPooling2D(2): the largest of each 2x2 block
    pooled = window("--input", "4x4x1", "maxpool:2", "--values", RAMP)
    assert feature_map(pooled.stdout) == [["6", "8"], ["14", "16"]]


def test_what_it_cannot_work_out_is_one_line() -> None:
    for args, message in [
        (("--input", "8x8x3", "conv:1,3"), "one input channel"),
        (("--input", "8x8x1", "dense:3"), "works out a 2-D convolution or pooling"),
        (("--input", "5x5x1", "conv:1,3", "--values", "1,2;3"), "equal rows"),
        (("--input", "5x5x1", "conv:1,3", "--weights", "1,0;0,1"), "the kernel is 3x3"),
        (("--input", "5x5x1", "conv:1,3", "--at", "3,0"), "outside the 3x3 output"),
        (("--input", "5x5x1", "conv:1,3,use_bias=false", "--bias", "1"), "has no bias"),
    ]:
        result = window(*args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)
    plain = CliRunner().invoke(cli, ["explain", "--input", "5x5x1", "conv:1,3", "--bias", "1"])
    assert plain.exit_code == 2 and "--bias goes with --window" in plain.stderr
