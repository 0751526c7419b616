"""ONNX files behind `-f`: shapes by cnncalc's own rules equal the exporters' (fixtures written by
torch.onnx.export with their weights cleared, expected values from torch and onnxruntime:
tests/fixtures/onnx/make_fixtures.py), and bad files are one line, exit 2."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.io.onnx import Graph, Node, Tensor, convert, read_onnx
from cnncalc.io.sources import read_spec

from .helpers import run

onnx = pytest.importorskip("onnx")

HERE = Path(__file__).parent / "fixtures" / "onnx"
FIXTURES = sorted(p.stem for p in HERE.glob("*.onnx"))


def expected(name: str) -> dict:
    return json.loads((HERE / f"{name}.expected.json").read_text())


def test_fixtures_are_small_and_present() -> None:
    assert len(FIXTURES) >= 7
    for name in FIXTURES:
        assert (HERE / f"{name}.onnx").stat().st_size < 200_000


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_reads_as_the_exporter_and_onnx_inference_say(name: str) -> None:
    want = expected(name)
    summary = cnncalc.summarize(read_spec(str(HERE / f"{name}.onnx")))
    assert list(summary.input_shape) == want["input_shape"]
    assert list(summary.output_shape) == want["output_shape"]  # torch's own output
    rows = {row.name: row for row in summary.layers}
    for node, shape in want["nodes"].items():  # onnxruntime's real tensors, node by node
        assert list(rows[node].output_shape) == shape, node
    # the float initializers the nodes read, counted per use (stored without data)
    assert summary.total_params + summary.total_buffers == want["initializer_elements"]


@pytest.mark.parametrize("name", FIXTURES)
def test_stored_elements_are_the_files_float_initializers_each_once(name: str) -> None:
    model = _model(name)
    stored = sum(math.prod(t.dims) for t in model.graph.initializer if t.data_type in (1, 10, 11, 16))
    summary = cnncalc.summarize(read_spec(str(HERE / f"{name}.onnx")))
    assert summary.stored_elements == stored
    doc = summary.to_dict()
    assert doc["stored_elements"] == stored
    assert cnncalc.summarize(cnncalc.parse(doc)).total_params == summary.total_params  # reads back


def test_a_scalar_initializer_in_arithmetic_is_not_a_parameter() -> None:
    # x * s + s, x / s three times with one stored scalar s and a learned 4-channel scale g:
    # only g (4 values) is a parameter; the file stores 5 elements.
    graph = Graph(
        inputs=(("x", (1, 4, 2, 2)),),
        initializers={"s": Tensor((), (1.5,)), "g": Tensor((4, 1, 1))},
        nodes=(
            Node("Mul", "m", ("x", "s"), ("a",)),
            Node("Add", "p", ("a", "s"), ("b",)),
            Node("Div", "d", ("b", "s"), ("c",)),
            Node("Mul", "scale", ("c", "g"), ("y",)),
        ),
    )
    summary = cnncalc.summarize(convert(graph))
    assert [row.params for row in summary.layers] == [0, 0, 0, 4]
    assert summary.stored_elements == 5


def test_unfolded_batchnorm_is_params_and_buffers_as_torch_counts() -> None:
    # The pre-activation BN (before a conv) is not folded by the exporter: 8 weights + 8 biases
    # are parameters, running mean and variance 16 buffers, as in torch.
    summary = cnncalc.summarize(read_spec(str(HERE / "small_resnet.onnx")))
    bn = [row for row in summary.layers if row.type == "batchnormalization"]
    assert [(row.params, row.buffers) for row in bn] == [(16, 16)]


def test_cli_summary_of_an_onnx_file() -> None:
    result = run("summary", "-f", str(HERE / "small_resnet.onnx"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["convention"] == "pytorch" and doc["data_format"] == "channels_first"
    assert doc["output_shape"] == expected("small_resnet")["output_shape"]
    assert doc["layers"][0]["name"] == "/stem/stem.0/Conv"  # rows are named by node name


def test_detected_by_content_without_the_extension(tmp_path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes((HERE / "shuffle.onnx").read_bytes())
    result = run("summary", "-f", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["output_shape"] == expected("shuffle")["output_shape"]


def test_dynamic_batch_and_other_sizes_follow_the_shape_arithmetic() -> None:
    # ShuffleNet's channel shuffle reshapes with sizes read by Shape/Gather: at 3x48x40 the
    # stride-2 conv gives 24x24x20; the shuffle keeps it, the mean and Linear give 5.
    spec = read_spec(str(HERE / "shuffle.onnx"), input_shape=(3, 48, 40))
    summary = cnncalc.summarize(spec)
    shapes = {row.name: row.output_shape for row in summary.layers}
    assert shapes["/c1/Conv"] == (24, 24, 20) and summary.output_shape == (5,)
    assert shapes["/Transpose"] == (12, 2, 24, 20)  # view(b, 2, 12, h, w) then transpose(1, 2)


def test_other_input_sizes_from_the_cli() -> None:
    # 3x96x96: stem /2, pool /2, stride-2 conv /2 -> 16x12x12, then Linear(16, 10).
    result = run("summary", "-f", str(HERE / "small_resnet.onnx"), "--input", "3x96x96", "--format", "json")
    assert result.exit_code == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    assert [x["output_shape"] for x in layers if x["name"] == "/pre/pre.2/Conv"] == [[16, 12, 12]]


def _model(name: str):
    return onnx.load(str(HERE / f"{name}.onnx"))


def _one_line_error(tmp_path, data: bytes, *needles: str) -> str:
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_truncated_protobuf(tmp_path) -> None:
    data = (HERE / "small_resnet.onnx").read_bytes()
    _one_line_error(tmp_path, data[: len(data) // 2], "bad.onnx: not a readable ONNX model")


def test_unknown_op(tmp_path) -> None:
    m = _model("small_resnet")
    node = next(n for n in m.graph.node if n.op_type == "Relu")
    node.op_type = "FancyNorm"
    name = node.name
    _one_line_error(tmp_path, m.SerializeToString(), f"node {name!r}: ONNX op 'FancyNorm' is not supported")


def test_missing_initializer(tmp_path) -> None:
    m = _model("small_resnet")
    weight = next(n for n in m.graph.node if n.op_type == "Conv").input[1]
    kept = [t for t in m.graph.initializer if t.name != weight]
    del m.graph.initializer[:]
    m.graph.initializer.extend(kept)
    _one_line_error(tmp_path, m.SerializeToString(), f"reads {weight!r}", "missing initializer")


def test_cycle(tmp_path) -> None:
    m = _model("small_resnet")
    # the first conv now reads the graph's last output: every node waits on another
    next(n for n in m.graph.node if n.op_type == "Conv").input[0] = m.graph.node[-1].output[0]
    _one_line_error(tmp_path, m.SerializeToString(), "the graph has a cycle")


def test_without_the_onnx_package(monkeypatch) -> None:
    # the graph is read from protobuf's wire format: the onnx package is not needed for it
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    summary = cnncalc.summarize(read_onnx((HERE / "shuffle.onnx").read_bytes(), "m.onnx"))
    assert list(summary.output_shape) == expected("shuffle")["output_shape"]


def test_dynamic_spatial_axes_need_an_input_shape() -> None:
    graph = Graph(
        inputs=(("x", (None, 3, None, None)),),
        initializers={"w": Tensor((8, 3, 3, 3))},
        nodes=(Node("Conv", "c", ("x", "w"), ("y",), {"kernel_shape": (3, 3)}),),
    )
    with pytest.raises(SpecError, match=r"input 'x' is \?x3x\?x\?: give input_shape with 3 sizes"):
        convert(graph)
    assert cnncalc.summarize(convert(graph, (3, 10, 12))).output_shape == (8, 8, 10)


def test_conv_weight_that_disagrees_with_the_input() -> None:
    graph = Graph(
        inputs=(("x", (1, 4, 8, 8)),),
        initializers={"w": Tensor((8, 3, 3, 3))},
        nodes=(Node("Conv", "c", ("x", "w"), ("y",), {}),),
    )
    with pytest.raises(CnncalcError, match="expects 3 input channels, the input has 4"):
        convert(graph)


def test_auto_pad_same_upper_is_tensorflow_padding() -> None:
    # n=7, F=3, S=2: out ceil(7/2)=4, total padding (4-1)*2+3-7 = 2 -> 1 before, 1 after.
    graph = Graph(
        inputs=(("x", (1, 1, 7, 7)),),
        initializers={"w": Tensor((2, 1, 3, 3))},
        nodes=(Node("Conv", "c", ("x", "w"), ("y",), {"strides": (2, 2), "auto_pad": "SAME_UPPER"}),),
    )
    row = cnncalc.summarize(convert(graph)).layers[0]
    assert row.output_shape == (2, 4, 4) and row.padding == ((1, 1), (1, 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_any_bytes_read_or_fail_cleanly(data) -> None:
    base = (HERE / f"{data.draw(st.sampled_from(FIXTURES))}.onnx").read_bytes()
    choice = data.draw(st.sampled_from(["random", "cut", "flip"]))
    if choice == "random":
        blob = data.draw(st.binary(max_size=300))
    elif choice == "cut":
        blob = base[: data.draw(st.integers(0, len(base)))]
    else:
        at = data.draw(st.integers(0, len(base) - 1))
        blob = base[:at] + bytes([data.draw(st.integers(0, 255))]) + base[at + 1 :]
    try:
        spec = read_onnx(blob, "fuzz.onnx")
        cnncalc.summarize(spec)
    except CnncalcError as err:
        assert "\n" not in str(err)


def _two_inputs(tmp_path) -> str:
    """image (N x 3 x H x W) and mask (N x 1 x H x W): a 3x3 stride-2 conv of the image, times the
    mask pooled 2x2 (a graph with two inputs, dynamic sizes)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node(
                "Conv",
                ["image", "w"],
                ["c"],
                name="conv",
                kernel_shape=[3, 3],
                strides=[2, 2],
                pads=[1, 1, 1, 1],
            ),
            helper.make_node("MaxPool", ["mask"], ["m"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Mul", ["c", "m"], ["y"], name="gate"),
        ],
        "two",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", 1, "H", "W"]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)],
    )
    path = tmp_path / "two.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    return str(path)


def test_several_inputs_by_name_from_the_cli(tmp_path) -> None:
    # 32x40 image: conv (32+2-3)//2+1 = 16, (40+2-3)//2+1 = 20; mask pooled 2x2: 16x20.
    path = _two_inputs(tmp_path)
    result = run("summary", "-f", path, "--input", "image=3x32x40,mask=1x32x40", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["inputs"] == [{"name": "image", "shape": [3, 32, 40]}, {"name": "mask", "shape": [1, 32, 40]}]
    assert [(x["name"], x["output_shape"]) for x in doc["layers"]] == [
        ("conv", [8, 16, 20]),
        ("pool", [1, 16, 20]),
        ("gate", [8, 16, 20]),
    ]
    assert doc["layers"][0]["params"] == 216 and doc["stored_elements"] == 216


def test_several_inputs_need_their_names(tmp_path) -> None:
    path = _two_inputs(tmp_path)
    result = run("summary", "-f", path, "--input", "3x32x40")
    assert result.exit_code == 2
    assert "the graph has 2 inputs: give each its shape by name (image=..., mask=...)" in result.stderr
    result = run("summary", "-f", path, "--input", "image=3x32x40")
    assert result.exit_code == 2 and "input 'mask' is ?x1x?x?" in result.stderr
    assert "mask=" in result.stderr and len(result.stderr.splitlines()) == 1
    result = run("summary", "-f", path, "--input", "image=3x32x40,nose=1x2")
    assert (
        result.exit_code == 2
        and "the graph has no input 'nose' (its inputs: 'image', 'mask')" in result.stderr
    )


def test_an_op_without_a_rule_is_an_opaque_row_by_onnx_shape_inference(tmp_path) -> None:
    # Hardmax (no cnncalc kind) keeps its input's shape; ReduceL2 over the channels with
    # keepdims=1 gives 1 channel; CumSum keeps the shape. Shapes by ONNX's rules (opaque rows).
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("Hardmax", ["x"], ["a"], name="hard", axis=1),
            helper.make_node("ReduceL2", ["a"], ["b"], name="l2", axes=[1], keepdims=1),
            helper.make_node("CumSum", ["b", "axis"], ["y"], name="cum"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("axis", TensorProto.INT64, [], [2])],
    )
    path = tmp_path / "odd.onnx"
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    )
    summary = cnncalc.summarize(read_spec(str(path)))
    assert [(r.name, r.output_shape, r.opaque) for r in summary.layers] == [
        ("hard", (4, 6, 5), True),
        ("l2", (1, 6, 5), True),
        ("cum", (1, 6, 5), True),
    ]


def _one_node(tmp_path, node, x_dims, inits=(), opset=13) -> list:
    """Summary rows of a one-node (or few-node) graph: input x of ``x_dims``, output y."""
    from onnx import TensorProto, helper

    nodes = node if isinstance(node, list) else [node]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_dims))],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        list(inits),
    )
    path = tmp_path / "one.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 8)
    path.write_bytes(model.SerializeToString())
    return list(cnncalc.summarize(read_spec(str(path))).layers)


def _ints(name: str, values: list[int]):
    from onnx import TensorProto, helper

    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def _floats(name: str, dims: list[int], values: list[float] | None = None):
    from onnx import TensorProto, helper

    return helper.make_tensor(name, TensorProto.FLOAT, dims, values or [0.5] * math.prod(dims))


def test_resize_and_upsample_in_every_opset_form_are_upsampling(tmp_path) -> None:
    from onnx import helper

    # 1x4x5x6 doubled in height, tripled in width: 4x10x18, whatever form carries the scales.
    cases = [
        (helper.make_node("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 3.0]), [], 7),
        (helper.make_node("Upsample", ["x", "s"], ["y"]), [_floats("s", [4], [1, 1, 2, 3])], 9),
        (helper.make_node("Resize", ["x", "s"], ["y"]), [_floats("s", [4], [1, 1, 2, 3])], 10),
        (
            helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear"),
            [_floats("s", [4], [1, 1, 2, 3])],
            13,
        ),
        (helper.make_node("Resize", ["x", "", "", "z"], ["y"]), [_ints("z", [1, 4, 10, 18])], 13),
    ]
    for node, inits, opset in cases:
        (row,) = _one_node(tmp_path, node, [1, 4, 5, 6], inits, opset)
        assert (row.type, row.output_shape) == ("upsampling2d", (4, 10, 18)), (opset, node.op_type)
    # a scale of 1.5: ONNX's rules (floor(5 * 1.5) = 7, floor(6 * 1.5) = 9), an opaque row
    node = helper.make_node("Resize", ["x", "", "s"], ["y"])
    (row,) = _one_node(tmp_path, node, [1, 4, 5, 6], [_floats("s", [4], [1, 1, 1.5, 1.5])])
    assert (row.opaque, row.output_shape) == (True, (4, 7, 9))


def test_pad_as_attribute_or_input_is_zero_padding(tmp_path) -> None:
    from onnx import helper

    # pads (before H, W ... after H, W) = (1, 2) and (3, 4): 5+1+3 = 9, 6+2+4 = 12
    pads = [0, 0, 1, 2, 0, 0, 3, 4]
    for node, inits, opset in (
        (helper.make_node("Pad", ["x"], ["y"], pads=pads), [], 2),
        (helper.make_node("Pad", ["x", "p"], ["y"]), [_ints("p", pads)], 13),
    ):
        (row,) = _one_node(tmp_path, node, [1, 4, 5, 6], inits, opset)
        assert (row.type, row.output_shape) == ("zeropadding2d", (4, 9, 12))
        assert row.layer.padding == ((1, 3), (2, 4))
    node = helper.make_node("Pad", ["x", "p"], ["y"], mode="reflect")
    (row,) = _one_node(tmp_path, node, [1, 4, 5, 6], [_ints("p", pads)])
    assert (row.opaque, row.output_shape) == (True, (4, 9, 12))


def test_activations_reductions_and_nary_ops(tmp_path) -> None:
    from onnx import helper

    rows = _one_node(
        tmp_path,
        [
            helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.2),
            helper.make_node("Selu", ["a"], ["b"]),
            helper.make_node("Sum", ["a", "b", "x"], ["c"]),
            helper.make_node("Max", ["c", "x"], ["d"]),
            helper.make_node("PRelu", ["d", "slope"], ["e"]),
            helper.make_node("ReduceMax", ["e"], ["f"], axes=[2, 3], keepdims=0),
            helper.make_node("LogSoftmax", ["f"], ["y"]),
        ],
        [1, 4, 5, 6],
        [_floats("slope", [4, 1, 1])],
    )
    assert [(r.type, r.output_shape, r.params, r.opaque) for r in rows] == [
        ("leakyrelu", (4, 5, 6), 0, False),
        ("activation", (4, 5, 6), 0, False),
        ("add", (4, 5, 6), 0, False),
        ("maximum", (4, 5, 6), 0, False),
        ("opaque", (4, 5, 6), 4, True),  # PRelu: no cnncalc kind; its 4 slopes are its params
        ("globalmaxpooling2d", (4,), 0, False),
        ("activation", (4,), 0, False),
    ]
    assert rows[0].layer.negative_slope == 0.2 and rows[-1].layer.activation == "log_softmax"


def test_a_transpose_that_moves_the_batch_axis_and_a_one_d_input(tmp_path) -> None:
    from onnx import TensorProto, helper

    # x (1x2x3x4) transposed (1, 0, 2, 3): 2x1x3x4 (the batch axis moved: ONNX's rules, an
    # opaque row without a batch axis), then reshaped back to 1x24; v (5,) has no batch axis.
    graph = helper.make_graph(
        [
            helper.make_node("Transpose", ["x"], ["t"], name="swap", perm=[1, 0, 2, 3]),
            helper.make_node("Reshape", ["t", "s"], ["r"], name="back"),
            helper.make_node("Relu", ["v"], ["w"], name="vec"),
        ],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, 4]),
            helper.make_tensor_value_info("v", TensorProto.FLOAT, [5]),
        ],
        [
            helper.make_tensor_value_info("r", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, None),
        ],
        [_ints("s", [1, 24])],
    )
    path = tmp_path / "moves.onnx"
    path.write_bytes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    )
    spec = read_spec(str(path))
    summary = cnncalc.summarize(spec)
    assert sorted((r.name, r.output_shape, r.opaque) for r in summary.layers) == [
        ("back", (24,), False),
        ("swap", (2, 1, 3, 4), True),
        ("vec", (5,), False),
    ]
    assert spec.outputs == ("back", "vec") and dict(spec.inputs) == {"x": (2, 3, 4), "v": (5,)}
    assert any("the graph has 2 outputs: r 24, w 5" in note for note in summary.notes)


def test_depth_to_space_and_normalizations(tmp_path) -> None:
    from onnx import helper

    # 1x8x3x5: DepthToSpace(2) -> 2x6x10; SpaceToDepth(2) back -> 8x3x5; InstanceNormalization
    # (scale, bias of 8: 16 params) and GroupNormalization(4 groups, opset 21: 16 params) keep it.
    # cnncalc's PixelShuffle/InstanceNorm/GroupNorm kinds when present, else ONNX's rules.
    rows = _one_node(
        tmp_path,
        [
            helper.make_node("DepthToSpace", ["x"], ["a"], blocksize=2, mode="CRD"),
            helper.make_node("SpaceToDepth", ["a"], ["b"], blocksize=2),
            helper.make_node("InstanceNormalization", ["b", "s", "t"], ["c"]),
            helper.make_node("GroupNormalization", ["c", "s", "t"], ["y"], num_groups=4),
        ],
        [1, 8, 3, 5],
        [_floats("s", [8]), _floats("t", [8])],
        opset=21,
    )
    assert [(r.output_shape, r.params + r.buffers) for r in rows] == [
        ((2, 6, 10), 0),
        ((8, 3, 5), 0),
        ((8, 3, 5), 16),
        ((8, 3, 5), 16),
    ]


def test_slices_that_cut_nothing_or_several_axes(tmp_path) -> None:
    from onnx import helper

    # 1x4x6x8: [0:INT_MAX] on axis 1 cuts nothing (no row); then rows 1:5 and columns 0:8:2 -> 4x4x4.
    rows = _one_node(
        tmp_path,
        [
            helper.make_node("Slice", ["x", "s0", "e0", "a0"], ["a"], name="noop"),
            helper.make_node("Slice", ["a", "s1", "e1", "a1", "p1"], ["y"], name="cut"),
        ],
        [1, 4, 6, 8],
        [
            _ints("s0", [0]),
            _ints("e0", [2**63 - 1]),
            _ints("a0", [1]),
            _ints("s1", [1, 0]),
            _ints("e1", [5, 8]),
            _ints("a1", [2, 3]),
            _ints("p1", [1, 2]),
        ],
    )
    assert [(r.name, r.type, r.output_shape) for r in rows] == [
        ("cut:axis2", "slice", (4, 4, 8)),
        ("cut:axis3", "slice", (4, 4, 4)),
    ]


def test_a_reshape_that_moves_the_batch_axis_and_back(tmp_path) -> None:
    from onnx import helper

    # batch 1, every size concrete (MobileViT's unfold): 1x8x4x4 -> 16x2x4 (the batch axis folded
    # in), a Linear 4 -> 6 on the last axis (16x2x6), softmax, LayerNorm, then back to 1x8x4x6.
    rows = _one_node(
        tmp_path,
        [
            helper.make_node("Reshape", ["x", "s1"], ["a"], name="unfold"),
            helper.make_node("MatMul", ["a", "w"], ["b"], name="linear"),
            helper.make_node("Softmax", ["b"], ["c"], name="attn", axis=-1),
            helper.make_node("LayerNormalization", ["c", "g"], ["d"], name="ln", axis=-1),
            helper.make_node("Reshape", ["d", "s2"], ["y"], name="fold"),
        ],
        [1, 8, 4, 4],
        [_ints("s1", [16, 2, -1]), _floats("w", [4, 6]), _floats("g", [6]), _ints("s2", [1, 8, 4, 6])],
        opset=17,
    )
    assert [(r.name, r.type, r.output_shape, r.params) for r in rows] == [
        ("unfold", "reshape", (16, 2, 4), 0),
        ("linear", "dense", (16, 2, 6), 24),
        ("attn", "softmax", (16, 2, 6), 0),
        ("ln", "layernormalization", (16, 2, 6), 6),
        ("fold", "reshape", (8, 4, 6), 0),
    ]


def test_flatten_after_axis_1_folds_the_batch_axis(tmp_path) -> None:
    from onnx import helper

    # LeViT's x.flatten(0, 1) exported as Flatten(axis=2): 1x196x16 -> 196x16 (2-D, no batch
    # axis), then BatchNormalization over its 16 channels... by ONNX's rules (an opaque row).
    rows = _one_node(
        tmp_path,
        [
            helper.make_node("Flatten", ["x"], ["a"], name="flat", axis=2),
            helper.make_node("BatchNormalization", ["a", "g", "b", "m", "v"], ["y"], name="bn"),
        ],
        [1, 196, 16],
        [_floats(n, [16]) for n in "gbmv"],
    )
    assert [(r.name, r.output_shape, r.opaque) for r in rows] == [
        ("flat", (196, 16), False),
        ("bn", (196, 16), True),
    ]


def test_squeeze_of_a_split_without_a_batch_axis_and_a_stack_sum(tmp_path) -> None:
    from onnx import helper

    # Swin's qkv in a batch-1 model: 1x6x4 -> reshape 3x1x2x4 (batch axis folded: dims) -> Split
    # on axis 0 into three 1x1x2x4 -> Squeeze(0) -> 1x2x4, whose leading 1 is the batch axis again.
    rows = _one_node(
        tmp_path,
        [
            helper.make_node("Reshape", ["x", "s"], ["r"], name="qkv"),
            helper.make_node("Split", ["r"], ["q", "k", "v"], name="split", axis=0),
            helper.make_node("Squeeze", ["q", "zero"], ["y"], name="sq"),
        ],
        [1, 6, 4],
        [_ints("s", [3, 1, 2, 4]), _ints("zero", [0])],
    )
    shapes = {r.name: r.output_shape for r in rows}
    assert shapes["qkv"] == (3, 1, 2, 4)  # no batch axis: all four dims
    assert shapes["sq"] == (2, 4)  # batch 1 x 2 x 4
