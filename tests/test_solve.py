"""cnncalc.solve: exact valid input sizes, layer configurations that map N to M, and hints.

The solver derives its answers from the layer formulas; these tests confirm them against
``cnncalc.summarize`` evaluated size by size (the brute force the solver itself never runs).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnncalc
from cnncalc import zoo
from cnncalc.sizing import has_rule, rule_for
from cnncalc.solve import (
    SizeFn,
    SizeSet,
    SolveError,
    nearest_inputs,
    same_padding_for_pytorch,
    smallest_input,
    solve_layer,
    solve_sizes,
)


def passes(spec: Any, shape: tuple[int, ...], **options: Any) -> bool:
    """True when summarize accepts the spec at ``shape``; False on a ShapeError."""
    try:
        cnncalc.summarize(spec, input_shape=shape, hints=False, **options)
    except cnncalc.ShapeError:
        return False
    return True


def scan(spec: Any, shape_of: Any, top: int = 512, **options: Any) -> set[int]:
    """The sizes 1..top at which summarize accepts the spec (confirmation only)."""
    return {n for n in range(1, top + 1) if passes(spec, shape_of(n), **options)}


def members(sizes: SizeSet, top: int = 512) -> set[int]:
    return set(sizes.members(top))


# ----------------------------------------------------------------------------- the arithmetic


def test_size_fn_composes_floor_divisions_and_multiplications() -> None:
    n = SizeFn.identity()
    half = n.through(2, 1, lambda m: m // 2)
    back = half.scaled(2)  # 2*floor(n/2): n rounded down to even
    assert [back(k) for k in range(1, 8)] == [0, 2, 2, 4, 4, 6, 6]
    assert (back.period, back.step) == (2, 2)
    quarter = half.through(2, 1, lambda m: -(-m // 2))  # ceil(floor(n/2)/2)
    assert [quarter(k) for k in range(1, 10)] == [0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert quarter.period == 4
    # x2 then //2 is the identity again: the period shrinks back to 1
    assert n.scaled(2).through(2, 1, lambda m: m // 2) == n


def test_size_set_where_intersect_and_pattern() -> None:
    n = SizeFn.identity()
    even = SizeSet.where(n - n.through(2, 1, lambda m: m // 2).scaled(2), 0, 0)
    at_least_5 = SizeSet.where(n, 5)
    both = even & at_least_5
    assert members(both, 12) == {6, 8, 10, 12}
    assert both.describe() == "n >= 6 and n % 2 == 0"
    assert both.smallest() == 6 and both.below(9) == 8 and both.above(9) == 10
    assert SizeSet.where(n, 3, 7).describe() == "3 <= n <= 7"
    assert (SizeSet.where(n, 3, 3) & even).empty
    assert SizeSet.nothing().describe() == "no size"
    # a finite exception below a periodic tail
    odd_tail = SizeSet.where(n, 9) & SizeSet.where(n - n.through(2, 1, lambda m: m // 2).scaled(2), 1, 1)
    assert members(odd_tail, 15) == {9, 11, 13, 15}


@given(st.integers(1, 6), st.integers(1, 6), st.integers(-8, 8), st.integers(1, 40))
def test_size_fn_matches_direct_evaluation(s: int, t: int, c: int, n: int) -> None:
    fn = SizeFn.identity().scaled(t).through(s, 1, lambda m: (m + c) // s)
    assert fn(n) == (t * n + c) // s


# ----------------------------------------------------------------------------- known answers


def unet_same(depth: int = 4, base: int = 8) -> dict[str, Any]:
    """A U-Net: same-padded 3x3 convs, 2x2 max pooling, 2x upsampling, concatenated skips."""
    layers: list[dict[str, Any]] = []
    skips, x = [], "input"
    for d in range(depth):
        layers += [
            {
                "name": f"enc{d}a",
                "type": "conv2d",
                "filters": base,
                "kernel_size": 3,
                "padding": "same",
                "inputs": x,
            },
            {"name": f"enc{d}b", "type": "conv2d", "filters": base, "kernel_size": 3, "padding": "same"},
            {"name": f"pool{d}", "type": "maxpooling2d", "pool_size": 2},
        ]
        skips.append(f"enc{d}b")
        x = f"pool{d}"
    layers.append(
        {
            "name": "bottom",
            "type": "conv2d",
            "filters": base,
            "kernel_size": 3,
            "padding": "same",
            "inputs": x,
        }
    )
    x = "bottom"
    for d in reversed(range(depth)):
        layers += [
            {"name": f"up{d}", "type": "upsampling2d", "size": 2, "inputs": x},
            {"name": f"cat{d}", "type": "concatenate", "inputs": [f"up{d}", skips[d]]},
            {"name": f"dec{d}", "type": "conv2d", "filters": base, "kernel_size": 3, "padding": "same"},
        ]
        x = f"dec{d}"
    return {"input_shape": [128, 128, 1], "layers": layers}


def test_unet_same_accepts_exactly_multiples_of_16() -> None:
    solution = solve_sizes(unet_same())
    assert solution.valid
    for axis in solution.axes:
        assert axis.sizes.describe() == "n >= 16 and n % 16 == 0"
        assert axis.smallest == 16
        assert axis.nearest(100) == (96, 112)
        assert members(axis.sizes) == {n for n in range(1, 513) if n % 16 == 0}
    assert scan(unet_same(), lambda n: (n, n, 1)) == set(range(16, 513, 16))


def unet_valid() -> dict[str, Any]:
    """The original U-Net (Ronneberger et al. 2015): valid 3x3 convs, 2x2 pooling, 2x2 up-convs,
    skips cropped by the fixed amounts of the paper's 572x572 tile (4, 16, 40, 88 per side)."""
    layers: list[dict[str, Any]] = []
    x = "input"
    skips = []
    for d, filters in enumerate((64, 128, 256, 512)):
        layers += [
            {"name": f"enc{d}a", "type": "conv2d", "filters": filters, "kernel_size": 3, "inputs": x},
            {"name": f"enc{d}b", "type": "conv2d", "filters": filters, "kernel_size": 3},
            {"name": f"pool{d}", "type": "maxpooling2d", "pool_size": 2},
        ]
        skips.append(f"enc{d}b")
        x = f"pool{d}"
    layers += [
        {"name": "bottom_a", "type": "conv2d", "filters": 1024, "kernel_size": 3, "inputs": x},
        {"name": "bottom_b", "type": "conv2d", "filters": 1024, "kernel_size": 3},
    ]
    x = "bottom_b"
    for d, (filters, crop) in reversed(
        list(enumerate(zip((64, 128, 256, 512), (88, 40, 16, 4), strict=True)))
    ):
        layers += [
            {
                "name": f"up{d}",
                "type": "conv2dtranspose",
                "filters": filters,
                "kernel_size": 2,
                "strides": 2,
                "inputs": x,
            },
            {"name": f"crop{d}", "type": "cropping2d", "cropping": crop, "inputs": skips[d]},
            {"name": f"cat{d}", "type": "concatenate", "inputs": [f"crop{d}", f"up{d}"]},
            {"name": f"dec{d}a", "type": "conv2d", "filters": filters, "kernel_size": 3},
            {"name": f"dec{d}b", "type": "conv2d", "filters": filters, "kernel_size": 3},
        ]
        x = f"dec{d}b"
    layers.append({"name": "head", "type": "conv2d", "filters": 2, "kernel_size": 1})
    return {"input_shape": [572, 572, 1], "layers": layers}


def test_original_unet_exact_set() -> None:
    # By hand. Encoder level l (1..4): e_l = p_{l-1} - 4 (two valid 3x3 convs), p_l = floor(e_l/2),
    # p_0 = n; bottom b = p_4 - 4. The up-conv (k=2, s=2, valid) doubles. Each concat needs the
    # cropped skip to match the doubled decoder: e_4 - 8 == 2b forces e_4 even; then the decoder
    # at level 3 is 2(e_4 - 12) and e_3 - 32 == 2e_4 - 24 forces e_3 even, likewise e_2, e_1.
    # With e_{l+1} = e_l/2 - 4: e_4 even <=> e_3 = 0 mod 4 <=> e_2 = 0 mod 8... solving down,
    # e_1 = 8 (mod 16), i.e. n = 12 (mod 16). Sizes: every decoder conv pair needs b >= 3
    # (2b - 4 >= 1 after two convs), i.e. n >= 172; the first skip's crop 88 + 88 needs
    # e_1 = n - 4 > 176, i.e. n >= 181. The first n = 12 (mod 16) from 181 on is 188.
    # 572 = 35*16 + 12 is in the set (the paper's tile; its output is 388).
    solution = solve_sizes(unet_valid())
    for axis in solution.axes:
        assert axis.sizes.describe() == "n >= 188 and n % 16 == 12"
        assert 572 in axis.sizes and axis.valid
        assert axis.nearest(560) == (556, 572)
    assert cnncalc.summarize(unet_valid()).output_shape == (388, 388, 2)
    assert scan(unet_valid(), lambda n: (n, n, 1), top=700) == set(range(188, 701, 16))


def test_flatten_dense_fixes_the_size() -> None:
    # LeNet-like: the Dense after Flatten is built for 5x5x16 features at 32x32. Per axis
    # floor((floor((n - 4)/2) - 4)/2) == 5 <=> 10 <= floor((n - 4)/2) - 4 <= 11 <=> 32 <= n <= 35.
    spec = {
        "input_shape": [32, 32, 1],
        "layers": ["conv:6,5", "maxpool:2", "conv:16,5", "maxpool:2", "flatten", "dense:10"],
    }
    solution = solve_sizes(spec)
    assert [a.sizes.describe() for a in solution.axes] == ["32 <= n <= 35"] * 2
    # Without fixed weights Dense follows the input, as summarize does.
    free = solve_sizes(spec, fixed_dense=False)
    assert [a.sizes.describe() for a in free.axes] == ["n >= 16"] * 2
    assert scan(spec, lambda n: (n, 32, 1)) == set(range(16, 513))


def test_network3_image_shape_and_n_in_fix_the_size() -> None:
    spec = {
        "input_shape": [1, 28, 28],
        "data_format": "channels_first",
        "layers": [
            "convpool:filter_shape=20x1x5x5,poolsize=2x2",
            "fullyconnected:n_in=2880,n_out=100",
        ],
    }
    solution = solve_sizes(spec)
    # 20*12*W = 2880 with H = 28 gives W = 28 or 29 (conv 24 or 25, pooled 12).
    assert [a.sizes.describe() for a in solution.axes] == ["28 <= n <= 29"] * 2
    assert scan(spec, lambda n: (1, n, 28), top=80) == {28, 29}
    fixed = {**spec, "layers": ["convpool:filter_shape=20x1x5x5,image_shape=10x1x28x28,poolsize=2x2"]}
    assert [a.sizes.describe() for a in solve_sizes(fixed).axes] == ["n in {28}"] * 2


def test_size_independent_error_means_no_size() -> None:
    spec = {
        "input_shape": [32, 32, 3],
        "layers": [
            {"name": "a", "type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same"},
            {
                "name": "b",
                "type": "conv2d",
                "filters": 4,
                "kernel_size": 3,
                "padding": "same",
                "inputs": "input",
            },
            {"name": "sum", "type": "add", "inputs": ["a", "b"]},
        ],
    }
    solution = solve_sizes(spec)
    assert not solution.valid
    assert "inputs do not broadcast" in (solution.reason or "")
    assert smallest_input(spec) is None


def test_ceil_mode_transposed_and_causal() -> None:
    layers = ["maxpool:3,2,ceil_mode=true", "deconv:4,3,2,1,output_padding=1", "maxpool:2,2,1,ceil_mode=true"]
    spec = {"input_shape": [3, 20, 20], "convention": "pytorch", "layers": layers}
    solution = solve_sizes(spec)
    assert members(solution.axes[0].sizes) == scan(spec, lambda n: (3, n, 20))
    causal = {"input_shape": [10, 4], "layers": ["conv1d:8,5,2,causal", "conv1d:8,3"]}
    solution = solve_sizes(causal)
    assert members(solution.axes[0].sizes) == scan(causal, lambda n: (n, 4))
    assert solution.axes[0].sizes.describe() == "n >= 5"


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.names())
def test_zoo_models_match_summarize(name: str) -> None:
    spec = zoo.load(name)
    solution = solve_sizes(spec, fixed_dense=False)
    given = cnncalc.summarize(spec).input_shape
    assert solution.valid and solution.axes
    axis = solution.axes[0]  # square kernels everywhere: the other axis is the same

    def shape_of(n: int) -> tuple[int, ...]:
        shape = list(given)
        shape[axis.index] = n
        return tuple(shape)

    assert all(other.sizes == axis.sizes for other in solution.axes)
    assert members(axis.sizes, 200) == scan(spec, shape_of, top=200), axis.name


def test_zoo_answers() -> None:
    described = {name: solve_sizes(zoo.load(name)).axes[0].sizes.describe() for name in zoo.names()}
    assert described["keras/resnet50"] == "n >= 1"
    assert described["torchvision/resnet18"] == "n >= 1"
    assert described["keras/vgg16"] == "224 <= n <= 255"  # Flatten + Dense built for 7x7x512
    assert described["torchvision/vgg16"] == "n >= 32"  # AdaptiveAvgPool2d((7, 7)) before the Linear
    assert described["keras/lenet5"] == "32 <= n <= 35"
    assert described["torchvision/inception_v3"] == "n >= 75"


def test_every_registered_kind_has_a_rule() -> None:
    from cnncalc.layers import KINDS

    for kind in KINDS:
        assert has_rule(kind.cls), kind.class_name


def test_unknown_kind_is_a_solve_error() -> None:
    class Odd:
        pass

    with pytest.raises(SolveError):
        rule_for(Odd())


# ----------------------------------------------------------------------------- hints


def test_smallest_input_for_a_kernel_larger_than_the_input() -> None:
    with pytest.raises(cnncalc.ShapeError):
        cnncalc.summarize(["conv:8,7", "conv:8,3,2"], input_shape=(3, 3, 1))
    assert smallest_input(["conv:8,7", "conv:8,3,2"], input_shape=(3, 3, 1)) == (9, 9, 1)


def test_nearest_inputs_for_a_merge_mismatch() -> None:
    spec = unet_same()
    with pytest.raises(cnncalc.ShapeError):
        cnncalc.summarize(spec, input_shape=(100, 100, 1))
    assert nearest_inputs(spec, input_shape=(100, 100, 1)) == [(96, 96, 1), (112, 112, 1)]
    assert nearest_inputs(spec, input_shape=(100, 112, 1)) == [(96, 112, 1), (112, 112, 1)]


@pytest.mark.parametrize(
    ("n", "k", "s", "d", "before", "after"),
    [
        (224, 3, 2, 1, 0, 1),  # total (112-1)*2 + 3 - 224 = 1: TF puts it after
        (225, 3, 2, 1, 1, 1),
        (224, 7, 2, 1, 2, 3),  # the ResNet stem: PyTorch's padding=3 gives 112 too, shifted
        (224, 2, 2, 1, 0, 0),
        (5, 4, 3, 1, 1, 1),  # ceil(5/3) = 2: total 3 + 4 - 5 = 2
        (31, 3, 1, 3, 3, 3),  # dilation 3: F_eff 7, total 6
    ],
)
def test_same_padding_for_pytorch(n: int, k: int, s: int, d: int, before: int, after: int) -> None:
    hint = same_padding_for_pytorch([n], [k], [s], [d])[0]
    assert (hint.before, hint.after) == (before, after)
    assert hint.output == -(-n // s)
    assert hint.symmetric == (before if before == after else None)
    keras = cnncalc.summarize(
        [f"conv:1,{k},{s},same,dilation={d}"], input_shape=(n, n, 1), convention="keras"
    )
    torch = cnncalc.summarize(
        [f"conv:1,{k},{s},{hint.length_padding},dilation={d}"], input_shape=(1, n, n), convention="pytorch"
    )
    pad = {"type": "zeropadding2d", "padding": [[before, after], [before, after]]}
    exact = cnncalc.summarize(
        [pad, f"conv:1,{k},{s},valid,dilation={d}"], input_shape=(1, n, n), convention="pytorch"
    )
    assert keras.output_shape[0] == torch.output_shape[1] == exact.output_shape[1] == hint.output
    assert keras.layers[0].padding[0] == (before, after)


# ----------------------------------------------------------------------------- solve layer


def first(solution: Any) -> Any:
    assert solution.choices, solution.nearest
    return solution.choices[0]


def test_224_to_112_with_kernel_3() -> None:
    torch = first(solve_layer(224, 112, kernel=3, convention="pytorch"))
    assert (torch.stride, torch.padding, torch.dilation) == ((2,), (1,), (1,))
    assert torch.spec == "conv1d:16,3,2,1"
    assert torch.pytorch == "nn.Conv1d(3, 16, 3, stride=2, padding=1)"
    keras = first(solve_layer("224x224", "112x112", kernel=3, convention="keras"))
    assert (keras.stride, keras.padding) == ((2, 2), "same")
    assert keras.spec == "conv:16,3,2,same"
    assert keras.keras == "layers.Conv2D(filters=16, kernel_size=(3, 3), strides=(2, 2), padding='same')"
    # Keras pads 0 before and 1 after here: the exact PyTorch equivalent pads explicitly.
    assert keras.pytorch == "nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 16, 3, stride=2)"


def test_7_to_14_transposed() -> None:
    choice = first(solve_layer("7x7", "14x14", kind="transposed", kernel=3, stride=2, convention="pytorch"))
    assert (choice.padding, choice.output_padding) == ((1, 1), (1, 1))
    assert choice.spec == "deconv:16,3,2,1,output_padding=1"
    assert choice.pytorch == "nn.ConvTranspose2d(3, 16, 3, stride=2, padding=1, output_padding=1)"
    keras = first(solve_layer("7x7", "14x14", kind="transposed", kernel=3, stride=2, convention="keras"))
    assert (keras.padding, keras.output_padding) == ("same", None)


def test_no_combination_gives_nearest_outputs() -> None:
    solution = solve_layer(10, 100, kind="conv", convention="keras")
    assert solution.choices == ()
    assert solution.nearest == ((10, None),)


def test_multi_axis_and_pools() -> None:
    solution = solve_layer("224x160", "112x80", kind="pool", convention="pytorch", kernel=3)
    assert first(solution).spec == "maxpool:3,2,1"
    ceil = [
        c
        for c in solve_layer(112, 56, kind="pool", convention="pytorch", kernel=3, stride=2).choices
        if c.ceil_mode
    ]
    assert ceil and ceil[0].spec == "maxpool1d:3,2,0,ceil_mode=true"


@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from(["conv", "transposed", "pool"]),
    st.sampled_from(["keras", "pytorch"]),
    st.booleans(),
)
def test_every_layer_solution_reaches_the_target(
    n: int, m: int, kind: str, convention: str, two: bool
) -> None:
    sizes_in, sizes_out = ((n, n + 3), (m, m)) if two else ((n,), (m,))
    solution = solve_layer(sizes_in, sizes_out, kind=kind, convention=convention, filters=2, channels=1)
    assume(solution.choices)
    fmt = "channels_first" if convention == "pytorch" else "channels_last"
    shape = (1, *sizes_in) if convention == "pytorch" else (*sizes_in, 1)
    for choice in solution.choices[:40]:
        out = cnncalc.summarize([choice.spec], input_shape=shape, convention=convention, data_format=fmt)
        spatial = out.output_shape[1:] if convention == "pytorch" else out.output_shape[:-1]
        assert spatial == sizes_out, choice.spec


# ----------------------------------------------------------------------------- property: random stacks


@st.composite
def stacks(draw: Any) -> tuple[dict[str, Any], str]:
    """A random 2-D stack (square kernels), sometimes with a residual or concatenated branch."""
    convention = draw(st.sampled_from(["keras", "pytorch"]))
    layers: list[Any] = []
    names: list[str] = []

    def add(item: dict[str, Any]) -> None:
        item = {"name": f"l{len(layers)}", **item}
        layers.append(item)
        names.append(item["name"])

    for _ in range(draw(st.integers(1, 6))):
        choice = draw(
            st.sampled_from(["conv", "pool", "deconv", "up", "pad", "crop", "branch", "excite", "slice"])
        )
        k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        if choice == "conv":
            pad = draw(st.sampled_from(["valid", "same", 0, 1, 2]))
            if convention == "pytorch" and pad == "same" and s > 1:
                pad = 1
            if convention == "keras" and s > 1:
                d = 1
            add(
                {
                    "type": "conv2d",
                    "filters": 2,
                    "kernel_size": k,
                    "strides": s,
                    "dilation_rate": d,
                    "padding": pad,
                }
            )
        elif choice == "pool":
            pad = (
                draw(st.sampled_from(["valid", "same", 0, 1]))
                if convention == "keras"
                else draw(st.integers(0, k // 2))
            )
            ceil = convention == "pytorch" and draw(st.booleans())
            add({"type": "maxpooling2d", "pool_size": k, "strides": s, "padding": pad, "ceil_mode": ceil})
        elif choice == "deconv":
            if convention == "keras":
                pad = draw(st.sampled_from(["valid", "same"]))
                op = draw(st.one_of(st.none(), st.integers(0, s - 1)))
            else:
                pad = draw(st.integers(0, 2))
                op = draw(st.integers(0, max(s, 1) - 1))
            add(
                {
                    "type": "conv2dtranspose",
                    "filters": 2,
                    "kernel_size": k,
                    "strides": s,
                    "padding": pad,
                    "output_padding": op,
                }
            )
        elif choice == "up":
            add({"type": "upsampling2d", "size": s})
        elif choice == "pad":
            add({"type": "zeropadding2d", "padding": draw(st.integers(0, 2))})
        elif choice == "crop":
            add({"type": "cropping2d", "cropping": draw(st.integers(0, 2))})
        elif choice == "slice":
            # the same slice on both spatial axes (Keras axis numbers: the batch axis is 0)
            start, stop = draw(st.integers(-3, 3)), draw(st.one_of(st.none(), st.integers(-2, 5)))
            step = draw(st.integers(1, 2))
            for axis in (2, 3) if convention == "pytorch" else (1, 2):
                add({"type": "slice", "axis": axis, "start": start, "stop": stop, "step": step})
        elif choice == "excite":
            # squeeze-and-excite: a 1x1 per-channel scale broadcast back onto the input
            start = names[-1] if names else "input"
            add({"type": "globalaveragepooling2d", "keepdims": True, "inputs": start})
            add({"type": "conv2d", "filters": 1, "kernel_size": 1})
            add({"type": "multiply", "inputs": [start, names[-1]]})
        else:
            # y = x -> pool/conv path -> upsample back; merge with x (add or concat)
            start = names[-1] if names else "input"
            add(
                {
                    "type": "conv2d",
                    "filters": 2,
                    "kernel_size": k,
                    "strides": s,
                    "padding": "same" if convention == "keras" else k // 2,
                    "inputs": start,
                }
            )
            if draw(st.booleans()):
                add({"type": "upsampling2d", "size": s})
            else:
                add({"type": "conv2dtranspose", "filters": 2, "kernel_size": s, "strides": s})
            merge = draw(st.sampled_from(["add", "concatenate"]))
            if merge == "add":
                add({"type": "conv2d", "filters": 2, "kernel_size": 1, "inputs": start})
                add({"type": "add", "inputs": [names[-2], names[-1]]})
            else:
                add({"type": "concatenate", "inputs": [names[-1], start]})
    return {
        "convention": convention,
        "input_shape": [1, 24, 24] if convention == "pytorch" else [24, 24, 1],
        "layers": layers,
    }, convention


@pytest.mark.slow
@given(stacks())
def test_solved_sizes_are_exactly_the_valid_ones(drawn: tuple[dict[str, Any], str]) -> None:
    spec, convention = drawn
    try:
        cnncalc.parse(spec)
    except cnncalc.SpecError:
        assume(False)
    try:
        solution = solve_sizes(spec)
    except SolveError:
        assume(False)
        return
    channels_first = convention == "pytorch"
    if solution.reason is not None or not solution.axes:
        assert not scan(spec, lambda n: (1, n, n) if channels_first else (n, n, 1), top=64)
        return
    height, width = solution.axes
    # Square kernels on both axes: the same set.
    assert height.sizes == width.sizes
    expected = members(height.sizes)
    found = scan(spec, lambda n: (1, n, n) if channels_first else (n, n, 1))
    assert expected == found, (height.sizes.describe(), sorted(expected ^ found)[:10])


@given(stacks())
def test_one_axis_at_a_time(drawn: tuple[dict[str, Any], str]) -> None:
    spec, convention = drawn
    try:
        solution = solve_sizes(spec)
    except (cnncalc.SpecError, SolveError):
        assume(False)
        return
    assume(solution.valid)
    width = solution.axes[1]
    w = width.sizes.smallest()
    assert w is not None
    if convention == "pytorch":
        found = scan(spec, lambda n: (1, n, w), top=128)
    else:
        found = scan(spec, lambda n: (n, w, 1), top=128)
    assert members(solution.axes[0].sizes, 128) == found


def test_one_dimensional_and_rank_checks() -> None:
    spec = {
        "input_shape": [50, 2],
        "layers": ["conv1d:4,3,2", "maxpool1d:2", "upsampling1d:3", "conv1d:4,4,padding=same"],
    }
    solution = solve_sizes(spec)
    assert members(solution.axes[0].sizes) == scan(spec, lambda n: (n, 2))
    bad = solve_sizes({"input_shape": [50, 2], "layers": ["conv:4,3"]})
    assert not bad.valid and "rank-3" in (bad.reason or "")


def test_period_limit() -> None:
    layers = ["conv:2,1,7,same"] * 6 + ["upsample:7"] * 6
    spec = {
        "input_shape": [64, 64, 1],
        "layers": [*layers, {"type": "add", "inputs": ["conv2d", "up_sampling2d_5"]}],
    }
    with pytest.raises(SolveError, match="repeats only every"):
        solve_sizes(spec)


def test_the_docs_unet_is_the_tested_one() -> None:
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).parent.parent / "docs" / "examples" / "unet.json").read_text())
    assert doc["layers"] == unet_same()["layers"]


# ----------------------------------------------------------------------------- hints on errors


def hint_of(spec: Any, shape: tuple[int, ...], **options: Any) -> str | None:
    with pytest.raises(cnncalc.ShapeError) as caught:
        cnncalc.summarize(spec, input_shape=shape, **options)
    return caught.value.render_hint()


def test_hint_kernel_larger_than_input() -> None:
    # conv 7 then conv 3 stride 2: n - 6 >= 3, so n >= 9.
    assert hint_of(["conv:8,7", "conv:8,3,2"], (3, 3, 1)) == (
        "smallest input that works: input_shape='9x9x1' (sizes that work on height and width: n >= 9)"
    )
    # Only the axis that fails moves.
    assert hint_of(["conv:8,7"], (3, 10, 1)) == (
        "smallest input that works: input_shape='7x10x1' (sizes that work on height: n >= 7)"
    )


def test_hint_merge_mismatch() -> None:
    assert hint_of(unet_same(), (100, 100, 1)) == (
        "nearest inputs that work: input_shape='96x96x1' or input_shape='112x112x1' "
        "(sizes that work on height and width: n >= 16 and n % 16 == 0)"
    )


def test_hint_pytorch_same_with_stride() -> None:
    # 224: Keras's total padding (112 - 1)*2 + 3 - 224 = 1 goes after; padding=1 matches the length.
    assert hint_of(["conv:8,3,2,same"], (3, 224, 224), convention="pytorch") == (
        "Keras pads 0 before and 1 after on height, 0 before and 1 after on width here (output 112x112); "
        "nn.ZeroPad2d((0, 1, 0, 1)) then padding=0 is exactly that; padding=1 gives the same output size, "
        "windows a cell earlier"
    )
    # Keras's full transposed output is (7 - 1)*2 + 3 = 15 cells; it keeps the first 14 (crops
    # 0 before, 1 after); padding=1, output_padding=1 keeps cells 1..14: the size, not the cells.
    hint = hint_of(["deconv:8,3,2,same"], (3, 7, 7), convention="pytorch")
    assert hint is not None and "padding=1, output_padding=1 gives Keras's 'same' output 14x14 here" in hint
    assert hint == (
        "padding=0 then nn.ZeroPad2d((0, -1, 0, -1)) (cropping the last cell Keras drops) is exactly "
        "Keras's 'same' output 14x14 here; padding=1, output_padding=1 gives Keras's 'same' output "
        "14x14 here too, its cells shifted by one"
    )
    # k=4: 16 cells, crop 1 + 1: padding=1 both ends is exactly Keras's cells
    assert hint_of(["deconv:8,4,2,same"], (3, 7, 7), convention="pytorch") == (
        "padding=1, output_padding=0 gives Keras's 'same' output 14x14 here"
    )


def test_declared_sizes_fix_the_size() -> None:
    # PyTorch's in_features after a flatten: 16 channels x 5 x 5 only at 32 <= n <= 35 (LeNet).
    spec = {
        "input_shape": [1, 32, 32],
        "convention": "pytorch",
        "layers": ["conv:6,5", "maxpool:2", "conv:16,5", "maxpool:2", "flatten", "dense:10,in_features=400"],
    }
    solution = solve_sizes(spec, fixed_dense=False)
    assert [a.sizes.describe() for a in solution.axes] == ["32 <= n <= 35"] * 2
    assert scan(spec, lambda n: (1, n, 32), top=80) == set(range(32, 36))
    # network3's n_in: 20*12*W' = 2880 with the height at 28 (conv 24, pool 12).
    net3 = {
        "data_format": "channels_first",
        "layers": ["convpool:filter_shape=20x1x5x5", "fullyconnected:n_in=2880,n_out=10"],
    }
    assert [a.sizes.describe() for a in solve_sizes(net3, input_shape=(1, 28, 28)).axes] == [
        "28 <= n <= 29"
    ] * 2


def test_no_hint_when_no_size_helps() -> None:
    with pytest.raises(cnncalc.ShapeError) as caught:
        cnncalc.summarize(["conv:8,3,groups=4"], input_shape=(8, 8, 6))
    assert caught.value.hint is None


# ----------------------------------------------------------------------------- the CLI


def test_cli_solve_sizes() -> None:
    from .helpers import run

    result = run(
        "solve", "sizes", "--input", "100x100x1", "-f", "docs/examples/unet.json", "--format", "markdown"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "**Input sizes: unet**\n\n"
        "| Axis | Valid sizes | Smallest | Given | Nearest valid |\n"
        "|---|---|---:|---:|---|\n"
        "| height | n >= 16 and n % 16 == 0 | 16 | 100 | 96 / 112 |\n"
        "| width | n >= 16 and n % 16 == 0 | 16 | 100 | 96 / 112 |\n\n"
        "height and width: layer 12 (maxpooling2d 'pool3'): pool window 2 needs 2 cells  \n"
        "height and width: layer 24 (concatenate 'cat0'): its inputs' sizes must match  \n"
        "Convention: keras · channels_last  \n"
    )
    import json

    doc = json.loads(run("solve", "sizes", "--model", "vgg16", "--format", "json").stdout)
    assert [a["sizes"] for a in doc["axes"]] == ["224 <= n <= 255"] * 2
    assert doc["axes"][0]["pattern"] == {
        "from": None,
        "modulus": 1,
        "residues": [],
        "also": list(range(224, 256)),
    }
    bad = run("solve", "sizes", "--input", "8x8x6", "conv:8,3,groups=4")
    assert bad.exit_code == 1 and "No size works: layer 1 (conv:8,3,groups=4): groups=4" in bad.stdout


def test_cli_solve_layer() -> None:
    import json

    from .helpers import run

    result = run(
        "solve", "layer", "--input", "224", "--output", "112", "--kernel", "3", "--format", "markdown"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:5] == [
        "**conv: 224 -> 112**",
        "",
        "| # | Spec | Keras | PyTorch |",
        "|---:|---|---|---|",
        "| 1 | `conv1d:16,3,2,same` | `layers.Conv1D(filters=16, kernel_size=(3,), strides=(2,), "
        "padding='same')` | `nn.ZeroPad1d((0, 1)), nn.Conv1d(3, 16, 3, stride=2)` |",
    ]
    doc = json.loads(
        run(
            "solve",
            "layer",
            "-i",
            "7x7",
            "-o",
            "14x14",
            "--kind",
            "transposed",
            "--kernel",
            "3",
            "--stride",
            "2",
            "--convention",
            "pytorch",
            "--format",
            "json",
        ).stdout
    )
    assert doc["choices"][0]["spec"] == "deconv:16,3,2,1,output_padding=1"
    none = run("solve", "layer", "--input", "10", "--output", "100")
    assert none.exit_code == 1
    assert "No conv maps 10 to 100; nearest reachable outputs: 10 below, none above" in none.stdout
    usage = run("solve", "layer", "--input", "10")
    assert usage.exit_code == 2


def test_hints_never_replace_the_error() -> None:
    # A rank error on a layer whose 'same' PyTorch also refuses: the rank error, no hint.
    with pytest.raises(cnncalc.ShapeError, match="expects a rank-3 input") as caught:
        cnncalc.summarize(
            ["gap", "deconv:1,1,1,same"],
            input_shape=(5, 5, 1),
            convention="pytorch",
            data_format="channels_last",
        )
    assert caught.value.hint is None


def test_tied_axes_are_solved_one_at_a_time() -> None:
    # n_in = 2400 = 20*12*10: with the width at 28 (12 after conv and pool) the height must pool
    # to 10 (24 or 25), and the other way round; both at 24 would give 2000 values.
    spec = {
        "data_format": "channels_first",
        "layers": ["convpool:filter_shape=20x1x5x5", "fullyconnected:n_in=2400,n_out=10"],
    }
    solution = solve_sizes(spec, input_shape=(1, 28, 28))
    assert solution.valid
    assert [a.sizes.describe() for a in solution.axes] == ["24 <= n <= 25"] * 2
    assert scan(spec, lambda n: (1, n, 28), top=60) == {24, 25}


def test_pattern_with_exceptions_and_huge_thresholds() -> None:
    # Odd sizes from 3 on, and the single size 2.
    odd_and_two = SizeSet(2, ((1, None), (0, 0)))
    assert members(odd_and_two, 9) == {2, 3, 5, 7, 9}
    assert odd_and_two.describe() == "n >= 3 and n % 2 == 1 or n in {2}"
    # A threshold near the input-size limit is described at once (nothing walks up to it).
    solution = solve_sizes(["conv:1,100000000", "maxpool:2"], input_shape=(8, 8, 1))
    assert solution.axes[0].sizes.describe() == "n >= 100000001"


@settings(max_examples=400)
@given(st.sampled_from(sorted(__import__("tests.strategies", fromlist=["STRATEGIES"]).STRATEGIES)), st.data())
def test_every_kind_solves_like_summarize(type_: str, data: Any) -> None:
    """Every layer kind, through the registry's own strategies: the solved sizes of each axis are
    exactly the sizes 1..40 at which summarize accepts the model (other axes as given)."""
    from .strategies import STRATEGIES

    spec, shape, settings = data.draw(STRATEGIES[type_])
    options = {key: value for key, value in settings.items() if key in ("convention", "data_format")}
    try:
        solution = solve_sizes(spec, input_shape=shape, fixed_dense=False, **options)
    except SolveError:
        assume(False)
        return
    import copy

    several = isinstance(spec, dict) and len(spec.get("inputs", [])) > 1
    given = dict(cnncalc.summarize(spec, input_shape=shape, **options).model_inputs)
    for axis in solution.axes:

        def accepts(n: int, axis: Any = axis) -> bool:
            sizes = list(given[axis.input])
            sizes[axis.index] = n
            if several:  # a graph with named inputs: move that input's axis in the spec itself
                probe = copy.deepcopy(spec)
                for entry in probe["inputs"]:
                    if entry["name"] == axis.input:
                        entry["shape"] = sizes
                return passes(probe, None, **options)  # type: ignore[arg-type]
            return passes(spec, tuple(sizes), **options)

        found = {n for n in range(1, 41) if accepts(n)}
        if solution.reason is not None:
            assert not found, (type_, spec)
        else:
            assert members(axis.sizes, 40) == found, (type_, spec, axis.name, axis.sizes.describe())
