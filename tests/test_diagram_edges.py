"""Every graph edge is drawn once, visibly, and crosses no box; rows wrap; kernels stay on their face.

The oracle is the summary's own graph (each layer's inputs) and plain geometry on the SVG's
numbers: a path is a list of points, a box a rectangle (``data-box``, checked against the
polygons it bounds).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import zoo
from cnncalc.render.diagram import MAX_WIDTH, gutter_slots, kernel_face, layout, to_svg

SVG = "{http://www.w3.org/2000/svg}"
MODELS = ["resnet18", "resnet50", "vgg16", "inception_block", "mobilenetv2", "lenet5"]


def parse(svg: str) -> tuple[ET.Element, dict[str, tuple[float, float, float, float]], list[ET.Element]]:
    root = ET.fromstring(svg)
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "volume":
            x, y, w, h = map(float, g.get("data-box").split())
            xs, ys = [], []
            for polygon in g.iter(f"{SVG}polygon"):
                for point in polygon.get("points").split():
                    px, py = map(float, point.split(","))
                    xs.append(px)
                    ys.append(py)
            # data-box bounds every polygon of the box (to the 0.1 px the SVG is written in)
            assert (
                x - 0.11 <= min(xs)
                and max(xs) <= x + w + 0.11
                and y - 0.11 <= min(ys)
                and max(ys) <= y + h + 0.11
            )
            boxes[g.get("data-name")] = (x, y, x + w, y + h)
    edges = [p for p in root.iter(f"{SVG}path") if "edge" in (p.get("class") or "").split()]
    return root, boxes, edges


def points(path: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path.get("d"))]


def crosses(a: tuple[float, float], b: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    """Does the segment a-b pass through the open interior of the box? (Segments are axis-aligned.)"""
    left, top, right, bottom = box
    eps = 0.2  # the SVG rounds to 0.1 px
    if a[0] == b[0]:  # vertical
        lo, hi = sorted((a[1], b[1]))
        return left + eps < a[0] < right - eps and lo < bottom - eps and hi > top + eps
    if a[1] == b[1]:  # horizontal
        lo, hi = sorted((a[0], b[0]))
        return top + eps < a[1] < bottom - eps and lo < right - eps and hi > left + eps
    raise AssertionError(f"segment {a} -> {b} is not axis-aligned")


def on_boundary(p: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    left, top, right, bottom = box
    return (abs(p[0] - left) < 0.11 or abs(p[0] - right) < 0.11) and top - 0.11 <= p[1] <= bottom + 0.11


def check_drawing(summary: cnncalc.Summary, svg: str) -> None:
    root, boxes, edges = parse(svg)
    expected = sorted((source, row.name) for row in summary.layers for source in row.inputs)
    drawn = sorted((e.get("data-from"), e.get("data-to")) for e in edges)
    assert drawn == expected  # one drawn edge per graph edge, no more, no fewer
    assert len(boxes) == len(summary.layers) + len(summary.model_inputs)
    for edge in edges:
        pts = points(edge)
        source, target = boxes[edge.get("data-from")], boxes[edge.get("data-to")]
        assert (
            on_boundary(pts[0], source) and abs(pts[0][0] - source[2]) < 0.11
        )  # leaves its source's right side
        assert (
            on_boundary(pts[-1], target) and abs(pts[-1][0] - target[0]) < 0.11
        )  # enters its target's left side
        for a, b in zip(pts, pts[1:], strict=False):
            for name, box in boxes.items():
                assert not crosses(a, b, box), (edge.get("data-from"), edge.get("data-to"), "crosses", name)
    width = float(root.get("width"))
    assert width <= MAX_WIDTH


@pytest.mark.parametrize("name", MODELS)
def test_zoo_diagrams_draw_every_edge_around_every_box(name: str) -> None:
    s = cnncalc.summarize(zoo.load(name))
    check_drawing(s, to_svg(s))


def test_resnet_skip_edges_run_above_the_row() -> None:
    s = cnncalc.summarize(zoo.load("resnet18"))
    _, boxes, edges = parse(to_svg(s))
    drawing = layout(s)
    column = {p.volume.name: p.column for p in drawing.placed}
    long = [e for e in edges if column[e.get("data-to")] - column[e.get("data-from")] > 1]
    # resnet18's 8 basic blocks each add a shortcut (5 identities, 3 downsampling 1x1 convs) that
    # skips the block's two convs: 8 edges over columns, drawn over the row or (when the row
    # wraps in between) through the corridors between rows.
    assert len(long) == 8
    assert all(set(e.get("class").split()) & {"skip", "wrap"} for e in long)
    skips = [e for e in long if "skip" in e.get("class").split()]
    assert skips
    for edge in skips:
        highest = min(y for _, y in points(edge))
        source, target = boxes[edge.get("data-from")], boxes[edge.get("data-to")]
        assert highest < min(source[1], target[1])


def test_long_networks_wrap_into_rows_under_the_width() -> None:
    s = cnncalc.summarize(zoo.load("resnet50"))
    drawing = layout(s)
    assert max(p.row for p in drawing.placed) >= 3  # 24,267 px in one strip before: many rows now
    assert drawing.width <= MAX_WIDTH
    assert any(e.kind == "wrap" for e in drawing.edges)
    vgg = layout(cnncalc.summarize(zoo.load("vgg16")))
    assert vgg.width <= MAX_WIDTH and max(p.row for p in vgg.placed) >= 1  # was 3145 px wide


def test_boxes_carry_layer_names() -> None:
    s = cnncalc.summarize(zoo.load("vgg16"))
    root = ET.fromstring(to_svg(s))
    names = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "name"]
    assert names == ["input", *(row.name for row in s.layers)]
    assert sum(1 for t in root.iter(f"{SVG}text") if t.get("class") == "kind" and t.text == "Conv2D") == 13


def inside(p: tuple[float, float], quad: list[tuple[float, float]]) -> bool:
    """Is p inside (or on) the convex quadrilateral?"""
    signs = []
    for (x1, y1), (x2, y2) in zip(quad, quad[1:] + quad[:1], strict=False):
        signs.append((x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1))
    return all(s >= -1e-6 for s in signs) or all(s <= 1e-6 for s in signs)


@pytest.mark.parametrize("name", ["vgg16", "lenet5", "resnet18"])
def test_kernels_stay_on_their_face(name: str) -> None:
    drawing = layout(cnncalc.summarize(zoo.load(name)))
    where = {p.volume.name: p for p in drawing.placed}
    s = cnncalc.summarize(zoo.load(name))
    checked = 0
    for row in s.layers:
        source = where[row.inputs[0]]
        quad = kernel_face(source, where[row.name].volume.kernel)
        if quad is None:
            continue
        v, x, y = source.volume, source.x, source.y
        d = v.depth * 0.7
        face = [
            (x + v.thickness, y),
            (x + v.thickness + d, y - d),
            (x + v.thickness + d, y - d - v.height),
            (x + v.thickness, y - v.height),
        ]
        assert all(inside(corner, face) for corner in quad), row.name
        checked += 1
    assert checked >= 3


layer = st.sampled_from(["conv:4,3,padding=same", "conv:8,1", "maxpool:2,1,same", "relu", "bn"])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(layer, st.integers(0, 6)), min_size=1, max_size=14),
    st.sampled_from([400, 900, MAX_WIDTH]),
)
def test_random_graphs_draw_every_edge_around_every_box(chain: list[tuple[str, int]], width: int) -> None:
    """Random DAGs: each layer reads the previous one, and some add a skip from further back."""
    layers: list[object] = []
    names = ["input"]
    for i, (text, back) in enumerate(chain):
        name = f"l{i}"
        kind, _, args = text.partition(":")
        layers.append({"type": kind, "name": name, "inputs": [names[-1]], **_args(kind, args)})
        names.append(name)
        if back >= 2 and len(names) > back + 1:
            add = f"a{i}"
            layers.append({"type": "concatenate", "name": add, "inputs": [names[-1], names[-1 - back]]})
            names.append(add)
    s = cnncalc.summarize({"input_shape": [8, 8, 4], "layers": layers})
    svg = to_svg(s, max_width=width)
    _, boxes, edges = parse(svg)
    check_drawing(s, svg) if width == MAX_WIDTH else _no_crossings(boxes, edges, s)


def _no_crossings(boxes, edges, s) -> None:
    expected = sorted((source, row.name) for row in s.layers for source in row.inputs)
    assert sorted((e.get("data-from"), e.get("data-to")) for e in edges) == expected
    for edge in edges:
        pts = points(edge)
        for a, b in zip(pts, pts[1:], strict=False):
            for box in boxes.values():
                assert not crosses(a, b, box)


def _args(kind: str, args: str) -> dict:
    values = args.split(",") if args else []
    if kind == "conv":
        out = {"filters": int(values[0]), "kernel_size": int(values[1])}
        if len(values) > 2:
            out["padding"] = values[2].split("=")[1]
        return out
    if kind == "maxpool":
        return {"pool_size": int(values[0]), "strides": int(values[1]), "padding": values[2]}
    return {}


# ----------------------------------------------------------------------------- U-Nets, folded


def unet_spec(depth: int, up: str = "upsampling2d", size: int = 64) -> dict:
    """Two 3x3 convs per level, 2x2 max pooling, ``up`` back (nearest 2x or a 2x2/2 transposed
    conv), the encoder's output concatenated on the way up."""
    layers: list[dict] = []
    x, skips = "input", []
    for d in range(depth):
        layers += [
            {
                "name": f"enc{d}a",
                "type": "conv2d",
                "filters": 4,
                "kernel_size": 3,
                "padding": "same",
                "inputs": x,
            },
            {"name": f"enc{d}b", "type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"},
            {"name": f"pool{d}", "type": "maxpooling2d", "pool_size": 2},
        ]
        skips.append(f"enc{d}b")
        x = f"pool{d}"
    layers.append(
        {"name": "bottom", "type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "inputs": x}
    )
    x = "bottom"
    up_args = {"size": 2} if up == "upsampling2d" else {"filters": 4, "kernel_size": 2, "strides": 2}
    for d in reversed(range(depth)):
        layers += [
            {"name": f"up{d}", "type": up, "inputs": x, **up_args},
            {"name": f"cat{d}", "type": "concatenate", "inputs": [f"up{d}", skips[d]]},
            {"name": f"dec{d}a", "type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"},
            {"name": f"dec{d}b", "type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same"},
        ]
        x = f"dec{d}b"
    layers.append({"name": "head", "type": "conv2d", "filters": 2, "kernel_size": 1})
    return {"input_shape": [size, size, 1], "layers": layers}


def segments(edges: list[ET.Element]) -> list[tuple[int, tuple[float, float], tuple[float, float]]]:
    out = []
    for k, edge in enumerate(edges):
        pts = points(edge)
        out += [(k, a, b) for a, b in zip(pts, pts[1:], strict=False)]
    return out


def crossing_pairs(edges: list[ET.Element]) -> list[tuple[int, int]]:
    """Pairs (edge index, edge index), once per pair of segments of different edges that cross
    or run on top of each other."""
    eps = 0.2
    out = []
    segs = segments(edges)
    for i, (ka, a1, a2) in enumerate(segs):
        for kb, b1, b2 in segs[i + 1 :]:
            if ka == kb:
                continue
            (ax1, ax2), (ay1, ay2) = sorted((a1[0], a2[0])), sorted((a1[1], a2[1]))
            (bx1, bx2), (by1, by2) = sorted((b1[0], b2[0])), sorted((b1[1], b2[1]))
            a_vertical, b_vertical = ax1 == ax2, bx1 == bx2
            if a_vertical != b_vertical:  # one across the other
                v, h = (
                    ((ax1, ay1, ay2), (by1, bx1, bx2)) if a_vertical else ((bx1, by1, by2), (ay1, ax1, ax2))
                )
                hit = h[1] + eps < v[0] < h[2] - eps and v[1] + eps < h[0] < v[2] - eps
            elif a_vertical and abs(ax1 - bx1) < eps:  # on one vertical line, overlapping
                hit = min(ay2, by2) - max(ay1, by1) > eps
            elif not a_vertical and abs(ay1 - by1) < eps:
                hit = min(ax2, bx2) - max(ax1, bx1) > eps
            else:
                hit = False
            if hit:
                out.append((ka, kb))
    return out


def edge_crossings(edges: list[ET.Element]) -> int:
    """Pairs of segments of different edges that cross or run on top of each other."""
    return len(crossing_pairs(edges))


def check_folded(summary: cnncalc.Summary) -> None:
    svg = to_svg(summary)
    root, boxes, edges = parse(svg)
    expected = sorted((source, row.name) for row in summary.layers for source in row.inputs)
    assert sorted((e.get("data-from"), e.get("data-to")) for e in edges) == expected
    for edge in edges:
        pts = points(edge)
        source, target = boxes[edge.get("data-from")], boxes[edge.get("data-to")]
        assert on_boundary(pts[0], source) and on_boundary(pts[-1], target)  # from a side, to a side
        for a, b in zip(pts, pts[1:], strict=False):
            for name, box in boxes.items():
                assert not crosses(a, b, box), (edge.get("data-from"), edge.get("data-to"), "crosses", name)
    assert edge_crossings(edges) == 0
    width = float(root.get("width"))
    skips = [e for e in edges if "skip" in e.get("class").split()]
    assert len(skips) == sum(1 for row in summary.layers if row.class_name == "Concatenate")
    for edge in skips:
        xs = [x for x, _ in points(edge)]
        # each skip drops from its encoder column to the decoder column under it: it runs
        # across no more than the gap beside its source box, never back along the drawing
        assert max(xs) - min(xs) < 0.05 * width, (edge.get("data-from"), max(xs) - min(xs), width)
        source, target = boxes[edge.get("data-from")], boxes[edge.get("data-to")]
        assert target[1] > source[3]  # the decoder row is under the encoder row
        verticals = [(a, b) for a, b in zip(points(edge), points(edge)[1:], strict=False) if a[0] == b[0]]
        assert len(verticals) == 1  # one straight drop


@pytest.mark.parametrize(("depth", "up"), [(3, "upsampling2d"), (4, "upsampling2d"), (4, "conv2dtranspose")])
def test_unets_fold_with_skips_that_cross_nothing(depth: int, up: str) -> None:
    s = cnncalc.summarize(unet_spec(depth, up))
    check_folded(s)
    drawing = layout(s)
    assert {p.row for p in drawing.placed} == {0, 1}
    rows = {p.volume.name: p.row for p in drawing.placed}
    assert rows["bottom"] == 0 and rows[f"up{depth - 1}"] == 1 and rows["head"] == 1


def test_the_original_unet_with_cropped_skips_folds_too() -> None:
    from tests.test_solve import unet_valid

    s = cnncalc.summarize(unet_valid())
    check_folded(s)


def test_before_the_fold_the_unet_wrapped_and_its_skips_crossed() -> None:
    # The old layout, still used for every graph that is not a nested encoder-decoder, on the
    # same U-Net (a second skip from enc0b does not nest): the check sees the crossings it is
    # meant to catch.
    spec = unet_spec(4)
    spec["layers"].append({"name": "extra", "type": "concatenate", "inputs": ["head", "enc0b"]})
    s = cnncalc.summarize(spec)
    _, _, edges = parse(to_svg(s))
    assert all(e.get("class").split()[1] != "turn" for e in edges)
    assert edge_crossings(edges) > 0


def res_unet_spec(depth: int = 3) -> dict:
    """A U-Net whose levels are residual blocks (conv, then two convs added to the first): ResNet
    shortcuts inside the encoder and the decoder, concatenated skips between them."""
    layers: list[dict] = []

    def conv(name: str, inputs: object) -> dict:
        return {
            "name": name,
            "type": "conv2d",
            "filters": 4,
            "kernel_size": 3,
            "padding": "same",
            "inputs": inputs,
        }

    def block(prefix: str, x: str) -> str:
        layers.extend(
            [
                conv(f"{prefix}a", x),
                conv(f"{prefix}b", f"{prefix}a"),
                conv(f"{prefix}c", f"{prefix}b"),
                {"name": f"{prefix}add", "type": "add", "inputs": [f"{prefix}a", f"{prefix}c"]},
            ]
        )
        return f"{prefix}add"

    x, skips = "input", []
    for d in range(depth):
        skips.append(block(f"enc{d}", x))
        layers.append({"name": f"pool{d}", "type": "maxpooling2d", "pool_size": 2, "inputs": skips[-1]})
        x = f"pool{d}"
    x = block("mid", x)
    for d in reversed(range(depth)):
        layers += [
            {"name": f"up{d}", "type": "upsampling2d", "size": 2, "inputs": x},
            {"name": f"cat{d}", "type": "concatenate", "inputs": [f"up{d}", skips[d]]},
        ]
        x = block(f"dec{d}", f"cat{d}")
    return {"input_shape": [32, 32, 1], "layers": layers}


def test_a_residual_unet_folds_with_its_shortcuts_in_corridors() -> None:
    s = cnncalc.summarize(res_unet_spec())
    check_folded(s)
    drawing = layout(s)
    rows = {p.volume.name: p for p in drawing.placed}
    shorts = [e for e in drawing.edges if e.kind == "short"]
    assert len(shorts) == 7  # one per block: 3 encoder levels, the middle, 3 decoder levels
    for edge in shorts:
        ys = [y for _, y in edge.points]
        source = rows[edge.source]
        if source.row == 0:  # over the encoder row
            assert min(ys) < min(p.box[1] for p in drawing.placed if p.row == 0)
        else:  # under the decoder row
            assert max(ys) > max(p.box[3] for p in drawing.placed if p.row == 1)


@pytest.mark.parametrize(("name", "before", "now"), [("resnet18", 21, 3), ("resnet50", 65, 0)])
def test_resnet_shortcuts_stay_over_their_row(name: str, before: int, now: int) -> None:
    # Rows end between blocks (where only adjacent-column edges pass), so no shortcut runs back
    # along the width to the next row; a gap's edges take the order that crosses least. The
    # crossings left (``before``: the previous layout's count) are each a downsampling block's
    # shortcut climbing from its second lane past the first lane's edge to the next column.
    s = cnncalc.summarize(zoo.load(name))
    _, _, edges = parse(to_svg(s))
    drawing = layout(s)
    assert not [e for e in drawing.edges if e.kind == "wrap" and e.long]
    pairs = crossing_pairs(edges)
    assert len(pairs) == now < before
    for a, b in pairs:
        ends = {edges[a].get("data-from"), edges[b].get("data-from")}
        assert any("downsample" in name for name in ends), ends


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(1, 5)), max_size=30))
def test_gutter_slots_put_an_edge_right_of_every_edge_still_running(runs: list[tuple[int, int]]) -> None:
    """An edge down the gutter leaves row ``start`` and enters row ``end``; one that leaves a row
    while another is still running (it enters a later row), or leaves the same row, is to its
    right: the later one never crosses the earlier one's run."""
    runs = sorted((start, start + length) for start, length in runs)
    starts, ends = [s for s, _ in runs], [e for _, e in runs]
    slots, used = gutter_slots(starts, ends)
    assert len(slots) == len(runs) and used == (max(slots) + 1 if slots else 0)
    for a in range(len(runs)):
        for b in range(a + 1, len(runs)):
            if ends[a] > starts[b] or starts[a] == starts[b]:
                assert slots[b] > slots[a], (runs, slots, a, b)


def test_a_long_stack_keeps_a_narrow_gutter() -> None:
    """Each wrapping edge of a stack runs from one row to the next: they share one slot, so the
    boxes start as far left at 1,000 layers as at 40 (the gutter took 810 px of the 2,000 at
    1,000 layers when every wrapping edge had a slot of its own, and a 3,000-layer stack
    degenerated into one column per row)."""
    assert gutter_slots(list(range(500)), list(range(1, 501))) == ([0] * 500, 1)

    def left(n: int) -> float:
        block = ["conv:8,3,padding=same", "bn", "relu"]
        s = cnncalc.summarize([block[i % 3] for i in range(n)], input_shape=(8, 8, 8))
        svg = to_svg(s)
        if n < 200:  # (every edge drawn, none through a box: the slow check on the short one)
            check_drawing(s, svg)
        return min(box[0] for box in parse(svg)[1].values())

    assert left(1000) == left(40) < 60
