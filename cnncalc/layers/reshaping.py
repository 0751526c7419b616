"""Layers that move or resize values without weights: flatten, padding, cropping, upsampling,
reshape, permute, slice, pixel shuffle and unshuffle."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, ClassVar, TypeVar

from .. import formulas as F
from ..enums import Category, DataFormat, DepthOrder
from ..errors import ShapeError, SpecError
from ..geometry import (
    AXIS_NAMES,
    UNTRACKED,
    AxisMap,
    OpenShape,
    ReceptiveField,
    Shape,
    Window,
    fmt_shape,
    join_channels,
    keras_axis_index,
    split_channels,
)
from . import args as A
from .autograd import Keep, Storage
from .base import Context, Layer, LayerOutput, Step, Worked, kind, spatial_input
from .faces import Counted, KerasFace, NoFace, OnnxFace, TorchCode, TorchFace, TorchSignature
from .rules import Sizes, joined, spatial
from .working import SIDES, SYMBOL, no_params, num

D = TypeVar("D")

#: ``nn.PixelShuffle(upscale_factor)``, ``nn.PixelUnshuffle(downscale_factor)``
PIXEL_SHUFFLE_SIGNATURE = TorchSignature("PixelShuffle", ("upscale_factor",), {})
PIXEL_UNSHUFFLE_SIGNATURE = TorchSignature("PixelUnshuffle", ("downscale_factor",), {})


@kind
class Flatten(Layer):
    """Flatten: (d1, ..., dk) -> (d1*...*dk,)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Flatten", data_format=True)
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Flatten",), ("flatten",), code=TorchCode.FLATTEN, orders={"Flatten": ("start_dim", "end_dim")}
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Flatten",))

    category: ClassVar[Category] = Category.RESHAPE
    data_format: DataFormat | None = A.arg(A.optional_data_format)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        return (p.product(dims),)

    def origin_note(self, in_dims: OpenShape) -> str:
        return f"{fmt_shape(in_dims)} after flatten"

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        return LayerOutput(shape=(math.prod(shape),))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """A view: its backward reshapes the gradient (sizes only)."""
        return ()

    def output_storage(self, training: bool) -> Storage:
        return Storage.RESHAPE

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField | None:
        return None  # whatever follows mixes every position

    def explain_steps(self, w: Worked) -> list[Step]:
        return [
            Step("length", "product of all axes", "*".join(map(str, w.input_shape)), num(w.output_shape[0]))
        ]


class Resize(Layer):
    """Kinds that change each spatial axis on its own (padding, cropping, upsampling)."""

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Sizes only: ``constant_pad_nd``, slicing and ``upsample_*`` backward read no tensor."""
        return ()

    category: ClassVar[Category] = Category.RESHAPE
    rank: int

    def axis_step(self, axis: int, n: int, out: int) -> Step:
        """The working of one spatial axis."""
        raise NotImplementedError

    def explain_steps(self, w: Worked) -> list[Step]:
        spatial_in, _ = split_channels(w.input_shape, self.layout(w.ctx))
        spatial_out, _ = split_channels(w.output_shape, self.layout(w.ctx))
        steps = [self.axis_step(i, spatial_in[i], spatial_out[i]) for i in range(self.rank)]
        return [*steps, no_params()]


def _pairs(value: Any, rank: int) -> tuple[tuple[int, int], ...]:
    """Keras's ZeroPadding/Cropping argument: int, one int per axis, or (before, after) per axis."""
    if isinstance(value, str):
        raise SpecError(f"expected integers, got {value!r}")
    pairs = A.padding(value, rank)
    if not isinstance(pairs, tuple):  # unreachable for non-str values; keeps the type exact
        raise SpecError(f"expected integers, got {value!r}")
    return pairs


@kind
class ZeroPadding(Resize):
    """ZeroPadding1D/2D/3D: out = n + before + after per spatial axis (Keras argument forms)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("ZeroPadding{rank}D", data_format=True)
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("ZeroPad{rank}d",), ("pad",), code=TorchCode.ZERO_PAD
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Pad",))

    padding: tuple[tuple[int, int], ...] = A.arg(_pairs, 1)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    rank: int = 2

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, self.rank)
        return joined(
            [p.plus(g, b + a) for g, (b, a) in zip(sizes, self.padding, strict=True)], channels, first
        )

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        # As a kernel-1 window with padding, each output sees one input cell (or a zero).
        windows = tuple(
            Window(n, 1, 1, 1, 1, b, a, n + b + a) for n, (b, a) in zip(spatial, self.padding, strict=True)
        )
        return LayerOutput(shape=join_channels(tuple(w.out for w in windows), channels, fmt), windows=windows)

    def axis_step(self, axis: int, n: int, out: int) -> Step:
        b, a = self.padding[axis]
        name = AXIS_NAMES[self.rank][axis]
        first, second = SIDES[name]
        return Step(name, f"{SYMBOL[name]}_in + P_{first} + P_{second}", f"{n} + {b} + {a}", str(out))


@kind
class Cropping(Resize):
    """Cropping1D/2D/3D: out = n - before - after per spatial axis; nothing may be left empty."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Cropping{rank}D", data_format=True)
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "PyTorch has no cropping module (x[..., a:b] is a slice)"
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = NoFace("ONNX writes cropping as Slice, read as slices")

    cropping: tuple[tuple[int, int], ...] = A.arg(_pairs, 0)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    rank: int = 2

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, self.rank)
        out = []
        for g, (b, a) in zip(sizes, self.cropping, strict=True):
            p.need(g, b + a + 1, None, f"cropping {b} + {a} needs more than {b + a} cells")
            out.append(p.plus(g, -b - a))
        return joined(out, channels, first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        for n, (b, a), axis in zip(spatial, self.cropping, AXIS_NAMES[self.rank], strict=True):
            if b + a >= n:
                raise ShapeError(f"cropping {b} + {a} removes all {n} cells on {axis}")
        # Cropping is a kernel-1 window with negative padding: the field's start moves inwards.
        windows = tuple(
            Window(n, 1, 1, 1, 1, -b, -a, n - b - a) for n, (b, a) in zip(spatial, self.cropping, strict=True)
        )
        return LayerOutput(shape=join_channels(tuple(w.out for w in windows), channels, fmt), windows=windows)

    def output_storage(self, training: bool) -> Storage:
        """Cropping is slicing: a view of the input's storage, strided (a flatten after it copies)."""
        return Storage.STRIDED

    def axis_step(self, axis: int, n: int, out: int) -> Step:
        b, a = self.cropping[axis]
        name = AXIS_NAMES[self.rank][axis]
        first, second = SIDES[name]
        return Step(name, f"{SYMBOL[name]}_in - {first} - {second} (cells cut)", f"{n} - {b} - {a}", str(out))


@kind
class UpSampling(Resize):
    """UpSampling1D/2D/3D: out = n*size per spatial axis. ``interpolation`` nearest, or bilinear (2-D)."""

    counted: ClassVar[Counted] = Counted.UPSAMPLING
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("UpSampling{rank}D", data_format=True)
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
        ("interpolate",),
        code=TorchCode.UPSAMPLE,
        orders={
            "Upsample": ("size", "scale_factor", "mode", "align_corners"),
            "UpsamplingNearest2d": ("size", "scale_factor"),
            "UpsamplingBilinear2d": ("size", "scale_factor"),
        },
        implies={
            "UpsamplingNearest2d": {"interpolation": "nearest"},
            "UpsamplingBilinear2d": {"interpolation": "bilinear"},
        },
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Resize", "Upsample"))

    size: Shape = A.arg(A.positive_tuple, 2)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    interpolation: str = A.arg(lambda v, r: _interpolation(v, r), "nearest")
    rank: int = 2

    def config(self) -> dict[str, Any]:
        out = super().config()
        if self.rank != 2:
            del out["interpolation"]  # only Keras's UpSampling2D has it
        return out

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, self.rank)
        return joined([p.times(g, k) for g, k in zip(sizes, self.size, strict=True)], channels, first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        out = tuple(n * s for n, s in zip(spatial, self.size, strict=True))
        interpolated = math.prod(out) * channels if self.interpolation == "bilinear" else 0
        return LayerOutput(shape=join_channels(out, channels, fmt), ops=3 * interpolated)

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        """Nearest: output o reads floor(o/u); bilinear (half-pixel centres, Keras's rule): the
        two cells around (o + 1/2)/u - 1/2 (:class:`AxisMap`): a fractional stride 1/u."""
        make = AxisMap.bilinear if self.interpolation == "bilinear" else AxisMap.nearest
        return rf.mapped(tuple(make(u) for u in self.size))

    def axis_step(self, axis: int, n: int, out: int) -> Step:
        name = AXIS_NAMES[self.rank][axis]
        return Step(name, f"{SYMBOL[name]}_in*size", f"{n}*{self.size[axis]}", str(out))


def _interpolation(value: Any, rank: int) -> str:
    allowed = ("nearest", "bilinear") if rank == 2 else ("nearest",)
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise SpecError(f"expected {' or '.join(allowed)}, got {value!r}")


def _target(value: Any, rank: int) -> Shape:
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"expected a shape like [-1, 32], got {value!r}")
    if sum(1 for v in value if v == -1) > 1:
        raise SpecError("at most one -1 is allowed")
    return tuple(-1 if v == -1 else A.positive_int(v) for v in value)


@kind
class Reshape(Layer):
    """Reshape(target_shape): same number of values; one -1 is inferred (Keras and NumPy rule)."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Reshape")
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("Unflatten",),
        ("view", "reshape"),
        code=TorchCode.RESHAPE,
        orders={"Unflatten": ("dim", "unflattened_size")},
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Reshape",))

    category: ClassVar[Category] = Category.RESHAPE
    target_shape: Shape = A.required(_target, aliases=("shape",))

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        total = p.product(dims)
        known = math.prod(v for v in self.target_shape if v != -1)
        if -1 in self.target_shape:
            p.divisible(total, known, f"reshape needs a multiple of {known:,} values")
            fill = p.through(total, known, 1, partial(F.floor_div, by=known))
            return tuple(fill if v == -1 else p.const(v) for v in self.target_shape)
        p.need(total, known, known, f"reshape needs exactly {known:,} values")
        return tuple(p.const(v) for v in self.target_shape)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        total = math.prod(shape)
        known = math.prod(v for v in self.target_shape if v != -1)
        if -1 in self.target_shape:
            if total % known:
                raise ShapeError(
                    f"cannot reshape {fmt_shape(shape)} ({total:,} values) to {self._text()}: "
                    f"{total:,} is not a multiple of {known:,}"
                )
            out = tuple(total // known if v == -1 else v for v in self.target_shape)
        else:
            if known != total:
                raise ShapeError(
                    f"cannot reshape {fmt_shape(shape)} ({total:,} values) to {self._text()} ({known:,} values)"
                )
            out = self.target_shape
        return LayerOutput(shape=out)

    def _text(self) -> str:
        return "x".join(str(v) for v in self.target_shape)

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """A view (or a copy of a permuted input): sizes only."""
        return ()

    def output_storage(self, training: bool) -> Storage:
        return Storage.RESHAPE

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return rf if out.shape == shape else UNTRACKED

    def explain_steps(self, w: Worked) -> list[Step]:
        return [
            Step(
                "shape",
                "same number of values, one -1 inferred",
                f"{math.prod(w.input_shape):,} values",
                fmt_shape(w.output_shape),
            ),
            no_params(),
        ]


def _dims(value: Any, rank: int) -> Shape:
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"expected a permutation like [2, 1] (1-based, batch axis excluded), got {value!r}")
    order = tuple(A.positive_int(v) for v in value)
    if sorted(order) != list(range(1, len(order) + 1)):
        raise SpecError(f"{list(order)} is not a permutation of 1..{len(order)}")
    return order


@kind
class Permute(Layer):
    """Permute(dims): reorder the non-batch axes; ``dims`` counts from 1, as in Keras."""

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = KerasFace("Permute")
    torch_face: ClassVar[TorchFace | NoFace] = NoFace(
        "cnncalc writes no x.permute",
        reads=("permute", "transpose"),  # --trace reads both
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Transpose",))

    category: ClassVar[Category] = Category.RESHAPE
    dims: Shape = A.required(_dims)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        if len(self.dims) != len(dims):
            raise ShapeError(f"dims {list(self.dims)} has {len(self.dims)} axes, the input has {len(dims)}")
        return tuple(dims[d - 1] for d in self.dims)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        if len(self.dims) != len(shape):
            raise ShapeError(
                f"dims {list(self.dims)} has {len(self.dims)} axes, the input {fmt_shape(shape)} has {len(shape)}"
            )
        return LayerOutput(shape=tuple(shape[d - 1] for d in self.dims))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``permute`` is a view; its backward permutes the gradient back (nothing kept)."""
        return ()

    def output_storage(self, training: bool) -> Storage:
        return Storage.VIEW if list(self.dims) == sorted(self.dims) else Storage.STRIDED

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        return rf if list(self.dims) == sorted(self.dims) else UNTRACKED

    def explain_steps(self, w: Worked) -> list[Step]:
        return [
            Step("shape", f"axes in the order {list(self.dims)}", "", fmt_shape(w.output_shape)),
            no_params(),
        ]


def _axis(value: Any, rank: int) -> int:
    axis = A.optional_axis(value)
    if axis is None:
        raise SpecError(f"expected an axis integer, got {value!r}")
    return axis


@kind
class Slice(Layer):
    """Slice(axis, start, stop, step): ``x[..., start:stop:step]`` on one axis (Keras axis numbering,
    batch axis 0), Python's slice rule: out = len(range(n)[start:stop:step]). PyTorch's ``x[:, a:b]``,
    ``torch.chunk``/``split`` outputs, ONNX ``Slice``/``Split``.

    >>> len(range(116)[58:None:1])
    58
    """

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "keras.layers has no slicing layer", what="a slice of a tensor"
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        functions=("chunk", "split", "narrow"), code=TorchCode.SLICE
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("Slice", "Split"))

    category: ClassVar[Category] = Category.RESHAPE
    axis: int = A.required(_axis)
    start: int = A.arg(lambda v, r: _index(v), 0)
    stop: int | None = A.arg(lambda v, r: None if v is None else _index(v))
    step: int = A.arg(A.positive_int, 1)

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        index = keras_axis_index(self.axis, (1,) * len(dims))
        out = p.sliced(dims[index], self.start, self.stop, self.step)
        p.need(out, 1, None, f"slice {self.start}:{self.stop}:{self.step} leaves nothing")
        return tuple(out if i == index else d for i, d in enumerate(dims))

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        index = keras_axis_index(self.axis, shape)
        size = self.length(shape[index])
        if size <= 0:
            raise ShapeError(
                f"slice {self._text()} of axis {self.axis} leaves nothing of its {shape[index]} cells"
            )
        out = list(shape)
        out[index] = size
        return LayerOutput(shape=tuple(out))

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """``x[..., a:b]`` and ``chunk`` are views of the input's storage; backward reads sizes only."""
        return ()

    def output_storage(self, training: bool) -> Storage:
        """A view, strided for any axis but the first of a batch (a flatten after it copies)."""
        return Storage.STRIDED

    def length(self, n: int) -> int:
        """Cells kept of an axis of ``n``: Python's slice rule."""
        return len(range(n)[self.start : self.stop : self.step])

    def _text(self) -> str:
        stop = "" if self.stop is None else self.stop
        return f"[{self.start}:{stop}:{self.step}]"

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        channel = 0 if ctx.data_format is DataFormat.CHANNELS_FIRST else len(shape) - 1
        return rf if keras_axis_index(self.axis, shape) == channel else UNTRACKED

    def explain_steps(self, w: Worked) -> list[Step]:
        index = keras_axis_index(self.axis, w.input_shape)
        n = w.input_shape[index]
        return [
            Step(
                f"axis {self.axis}",
                "len(range(n)[start:stop:step])",
                f"len(range({n}){self._text()})",
                str(w.output_shape[index]),
            ),
            no_params(),
        ]


def _index(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > A.MAX_INT:
        raise SpecError(f"expected an integer index, got {value!r}")
    return value


def _depth_order(value: Any, rank: int) -> DepthOrder:
    return DepthOrder.parse(value, "mode")


class _Shuffle(Layer):
    """Kinds that trade space for channels in r x r blocks of a 2-D input (no weights)."""

    category: ClassVar[Category] = Category.RESHAPE
    rank: ClassVar[int] = 2  # PyTorch's pixel shuffles and ONNX's DepthToSpace are 2-D
    factor_name: ClassVar[str]

    @property
    def factor(self) -> int:
        """The block size r."""
        return int(getattr(self, self.factor_name))

    def axis_text(self) -> tuple[str, str]:
        """(formula after the axis's input size, symbol) of each spatial axis: ``*r`` or ``/r``."""
        raise NotImplementedError

    def saved_for_backward(self, inputs: tuple[Shape, ...], output: Shape, ctx: Context) -> tuple[Keep, ...]:
        """Nothing: the gradient is the opposite shuffle of the output's gradient (measured with
        torch 2.13's saved-tensor hooks: no tensor kept)."""
        return ()

    def explain_steps(self, w: Worked) -> list[Step]:
        r = self.factor
        spatial_in, c_in = split_channels(w.input_shape, self.layout(w.ctx))
        spatial_out, c_out = split_channels(w.output_shape, self.layout(w.ctx))
        formula, op = self.axis_text()
        steps = [
            Step(AXIS_NAMES[2][i], f"{SYMBOL[AXIS_NAMES[2][i]]}_in{formula}", f"{n}{op}{r}", str(out))
            for i, (n, out) in enumerate(zip(spatial_in, spatial_out, strict=True))
        ]
        c_formula, c_op = ("C_in/(r*r)", "/") if op == "*" else ("C_in*r*r", "*")
        steps.append(Step("channels", c_formula, f"{c_in}{c_op}({r}*{r})", str(c_out)))
        return [*steps, no_params()]


@kind
class PixelShuffle(_Shuffle):
    """PixelShuffle(upscale_factor): (C*r*r, H, W) -> (C, H*r, W*r) (PyTorch ``nn.PixelShuffle``,
    ``F.pixel_shuffle``; ONNX ``DepthToSpace`` with ``blocksize`` r). ``mode`` orders the channels:
    ``crd`` is PyTorch's (ONNX ``mode="CRD"``), ``dcr`` TensorFlow's and ONNX's default. Keras has
    no such layer. Source: torch.nn.PixelShuffle docs; ONNX operator DepthToSpace.
    """

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "Keras has no pixel shuffle layer (keras.ops.depth_to_space is an operation, not a layer)"
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("PixelShuffle",), ("pixel_shuffle",), PIXEL_SHUFFLE_SIGNATURE, TorchCode.PIXEL_SHUFFLE
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("DepthToSpace",))

    upscale_factor: int = A.required(A.positive_int, aliases=("blocksize",))
    mode: DepthOrder = A.arg(_depth_order, DepthOrder.CRD)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    factor_name: ClassVar[str] = "upscale_factor"

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, 2)
        rr = self.upscale_factor**2
        p.divisible(channels, rr, f"pixel shuffle needs a multiple of {rr} channels")
        out = [p.times(g, self.upscale_factor) for g in sizes]
        return joined(out, p.through(channels, rr, 1, partial(F.floor_div, by=rr)), first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        r = self.upscale_factor
        if channels % (r * r):
            raise ShapeError(
                f"PixelShuffle({r}) needs channels divisible by {r}*{r} = {r * r}, got {channels}"
            )
        return LayerOutput(shape=join_channels(tuple(n * r for n in spatial), channels // (r * r), fmt))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        # Output cell o of an axis is input cell floor(o/r) (another channel): nearest upsampling.
        return rf.mapped((AxisMap.nearest(self.upscale_factor),) * 2)

    def axis_text(self) -> tuple[str, str]:
        return "*r", "*"


@kind
class PixelUnshuffle(_Shuffle):
    """PixelUnshuffle(downscale_factor): (C, H*r, W*r) -> (C*r*r, H, W) (PyTorch
    ``nn.PixelUnshuffle``, ``F.pixel_unshuffle``; ONNX ``SpaceToDepth`` with ``blocksize`` r, whose
    order is ``dcr``). Each spatial size must be a multiple of r. Keras has no such layer.
    Source: torch.nn.PixelUnshuffle docs; ONNX operator SpaceToDepth.
    """

    counted: ClassVar[Counted] = Counted.OTHER
    keras_face: ClassVar[KerasFace | NoFace] = NoFace(
        "Keras has no pixel unshuffle layer (keras.ops has no space_to_depth layer either)"
    )
    torch_face: ClassVar[TorchFace | NoFace] = TorchFace(
        ("PixelUnshuffle",), ("pixel_unshuffle",), PIXEL_UNSHUFFLE_SIGNATURE, TorchCode.PIXEL_SHUFFLE
    )
    onnx_face: ClassVar[OnnxFace | NoFace] = OnnxFace(("SpaceToDepth",))

    downscale_factor: int = A.required(A.positive_int, aliases=("blocksize",))
    mode: DepthOrder = A.arg(_depth_order, DepthOrder.CRD)
    data_format: DataFormat | None = A.arg(A.optional_data_format)
    factor_name: ClassVar[str] = "downscale_factor"

    def sizes(self, p: Sizes[D], dims: tuple[D, ...]) -> tuple[D, ...]:
        sizes, channels, first = spatial(p, self, dims, 2)
        r = self.downscale_factor
        for g in sizes:
            p.divisible(g, r, f"pixel unshuffle needs a multiple of {r}")
        out = [p.through(g, r, 1, partial(F.floor_div, by=r)) for g in sizes]
        return joined(out, p.times(channels, r * r), first)

    def compute(self, shape: Shape, ctx: Context) -> LayerOutput:
        spatial, channels, fmt = spatial_input(self, shape, ctx)
        r = self.downscale_factor
        for n, axis in zip(spatial, AXIS_NAMES[2], strict=True):
            if n % r:
                raise ShapeError(
                    f"PixelUnshuffle({r}) needs each spatial size divisible by {r}, {axis} is {n}"
                )
        return LayerOutput(shape=join_channels(tuple(n // r for n in spatial), channels * r * r, fmt))

    def receptive_field(
        self, rf: ReceptiveField, out: LayerOutput, shape: Shape, ctx: Context
    ) -> ReceptiveField:
        # Each output cell gathers one r x r block: a window of r, stride r, no padding.
        r = self.downscale_factor
        spatial, _ = split_channels(shape, self.layout(ctx))
        return rf.through(tuple(Window(n, r, r, r, 1, 0, 0, n // r) for n in spatial))

    def axis_text(self) -> tuple[str, str]:
        return "/r", "/"
