"""Record one PyTorch forward pass: every module call (forward hooks) and every tensor op (a
``TorchFunctionMode``), in call order, as cnncalc rows.

Imported only when ``--trace``/``--torch``/``summarize(module)`` asks for it (it imports torch).

How a forward becomes rows:

- Tensors are followed by identity. The model's input and every row's output are *data*; a
  parameter, a buffer, and anything computed from them alone (``cls_token.expand(...)``, a
  relative-position table gathered and reshaped) is a *constant* that remembers which
  parameters/buffers it came from. Ops on constants only are not rows.
- A module that is a cnncalc kind (:mod:`cnncalc.layers.torch_live`: ``nn.Conv2d``, ``nn.Linear``,
  ...) is one row named by its path (``layer1.0.conv1``); what runs inside it is not recorded
  again. Any other module is looked into: its submodules and ops are rows.
- Every op that reads data and returns tensors is a row (``layer1.0.add``): a kind when the table
  has one, else an opaque row. A row's parameters are its module's (all of them, once), or for an
  op the not-yet-counted parameters and buffers its constant arguments came from; parameters no
  row used (a module forward never calls) are rows of their own at the end, so the totals are
  ``sum(p.numel() for p in model.parameters())`` exactly (a shared module counted once).
- Every mapped row is checked: the kind's computed shape and counts must equal the recorded ones;
  if not, the row is opaque (a wrong table entry can never give a wrong table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..enums import Convention, DataFormat
from ..errors import CnncalcError, SpecError
from ..io.spec import LayerSpec, Spec, build_layer
from ..layers.base import Context, LayerOutput
from ..layers.opaque import Opaque
from ..layers.torch_live import (
    IDENTITY_MODULES,
    NOT_DATA,
    SAME,
    TensorArg,
    attribute_names,
    module_face,
    op_face,
    split_faces,
)

_CTX = Context(Convention.PYTORCH, DataFormat.CHANNELS_FIRST)
SOURCE = "torch trace"


@dataclass
class _Const:
    """A constant tensor: the parameter/buffer ids it was computed from."""

    params: frozenset[int]


@dataclass
class _Scope:
    path: str
    cls: str
    mapped: Any  # the face (kind, positional, keywords) or None
    inputs: list[str] = field(default_factory=list)
    in_shapes: list[tuple[int, ...]] = field(default_factory=list)


class Recorder:
    """Hooks and a torch-function mode that turn one forward pass into :class:`LayerSpec` rows."""

    def __init__(self, torch: Any, model: Any, batch: int) -> None:
        self.torch = torch
        self.model = model
        self.batch = batch
        self.layers: list[LayerSpec] = []
        self.data: dict[int, str] = {}  # tensor id -> row (or input) name
        self.shapes: dict[str, tuple[int, ...]] = {}  # row name -> per-sample shape
        self.consts: dict[int, _Const] = {}
        self.keep: list[Any] = []  # every tensor seen stays alive: ids are never reused
        self.sizes: dict[int, tuple[int, bool, bool]] = {}  # param/buffer id -> (numel, is_buffer, trainable)
        self.counted: set[int] = set()
        self.names: set[str] = set()
        self.scopes: list[_Scope] = []
        self.inside_mapped = 0
        self.busy = False
        self.called: set[str] = set()
        self.paths: dict[int, str] = {}
        self.opaque_mapped = 0  # mapped rows whose kind disagreed with the recording
        #: param/buffer id -> the ids of its module's own buffers (BatchNorm's num_batches_tracked
        #: travels with the running statistics F.batch_norm reads)
        self.buffers_of: dict[int, frozenset[int]] = {}
        for name, module in model.named_modules(remove_duplicate=True):
            self.paths[id(module)] = name
            own = frozenset(id(b) for b in module.buffers(recurse=False))
            for t in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
                self.buffers_of[id(t)] = own
        for p in model.parameters():
            self.sizes[id(p)] = (p.numel(), False, bool(p.requires_grad))
            self.consts[id(p)] = _Const(frozenset({id(p)}))
        for b in model.buffers():
            self.sizes[id(b)] = (b.numel(), True, False)
            self.consts[id(b)] = _Const(frozenset({id(b)}))

    # -- names and shapes

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        return name

    def sample(self, shape: Any) -> tuple[int, ...]:
        """A tensor's shape without its batch axis (kept when the leading size is not the batch)."""
        dims = tuple(int(n) for n in shape)
        if dims and dims[0] == self.batch:
            dims = dims[1:]
        return dims or (1,)

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, self.torch.Tensor)

    def tensors(self, value: Any, depth: int = 0) -> list[Any]:
        """Tensors in an argument structure (lists, tuples, dicts), in order."""
        if self.is_tensor(value):
            return [value]
        if depth > 4:
            return []
        if isinstance(value, (list, tuple)):
            return [t for v in value for t in self.tensors(v, depth + 1)]
        if isinstance(value, dict):
            return [t for v in value.values() for t in self.tensors(v, depth + 1)]
        return []

    def plain(self, value: Any, depth: int = 0) -> Any:
        """An argument as plain data: tensors as :class:`TensorArg`, the rest as is (bounded)."""
        if self.is_tensor(value):
            return TensorArg(tuple(int(n) for n in value.shape), id(value) in self.data)
        if depth > 3:
            return None
        if isinstance(value, (list, tuple)):
            out = [self.plain(v, depth + 1) for v in value]
            return tuple(out) if isinstance(value, tuple) else out
        if isinstance(value, dict):
            return {k: self.plain(v, depth + 1) for k, v in value.items()}
        if isinstance(value, slice):
            return value
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, self.torch.Size):
            return tuple(int(n) for n in value)
        return repr(type(value).__name__)

    # -- counts

    def take(self, ids: set[int]) -> tuple[int, int, int]:
        """(trainable, non-trainable, buffers) of the ids not counted yet; they are counted now."""
        trainable = frozen = buffers = 0
        for i in sorted(ids - self.counted):
            size, is_buffer, grad = self.sizes[i]
            if is_buffer:
                buffers += size
            elif grad:
                trainable += size
            else:
                frozen += size
        self.counted |= ids
        return trainable, frozen, buffers

    # -- rows

    def emit(
        self,
        base: str,
        op: str,
        face: Any,
        inputs: list[str],
        out: tuple[int, ...],
        counts: tuple[int, int, int],
    ) -> str:
        """Add one row (a kind when ``face`` holds and checks out, else opaque); its name."""
        name = self.unique(base)
        in_shapes = [self.shapes[s] for s in inputs]
        layer = None
        if face is not None:
            for candidate in face if isinstance(face, list) else [face]:  # alternatives, in order
                layer = self._checked(candidate, in_shapes, out, counts)
                if layer is not None:
                    break
            else:
                self.opaque_mapped += 1
        if layer is None:
            layer = Opaque(
                op=op[:300],
                shape=out,
                trainable_count=counts[0],
                non_trainable_count=counts[1],
                buffer_count=counts[2],
                in_shapes=tuple(in_shapes),
                source=SOURCE,
            )
        self.layers.append(
            LayerSpec(
                layer, f"{op} {name!r}", name, trainable=counts[1] == 0, compact=False, inputs=tuple(inputs)
            )
        )
        self.shapes[name] = out
        return name

    def _checked(
        self, face: Any, in_shapes: list[tuple[int, ...]], out: tuple[int, ...], counts: tuple[int, int, int]
    ) -> Any:
        kind, positional, keywords = face
        try:
            layer = build_layer(kind, list(positional), dict(keywords), Convention.PYTORCH)
            result: LayerOutput
            if layer.takes_many:
                result = layer.compute_many(list(in_shapes), [str(i) for i in range(len(in_shapes))], _CTX)  # type: ignore[attr-defined]
            elif len(in_shapes) == 1:
                result = layer.compute(in_shapes[0], _CTX)
            else:
                return None
        except CnncalcError:
            return None
        params = result.trainable + result.non_trainable
        if tuple(result.shape) != out or params != counts[0] + counts[1] or result.buffers != counts[2]:
            return None
        if counts[1] and counts[0]:
            return None  # partly frozen: one trainable flag per row cannot say it
        return layer

    # -- module hooks

    def pre_hook(self, module: Any, args: Any, kwargs: Any) -> None:
        self.busy = True
        try:
            path = self.paths.get(id(module), type(module).__name__)
            self.called.add(path)
            if self.inside_mapped:
                self.inside_mapped += 1
                self.scopes.append(_Scope(path, "", None))
                return
            cls = type(module)
            face: Any = None
            if cls.__module__.startswith("torch.nn.modules"):
                name = cls.__name__
                if name in IDENTITY_MODULES:
                    face = ("identity", [], {})
                else:
                    attrs = {
                        a: self.plain(getattr(module, a)) for a in attribute_names(name) if hasattr(module, a)
                    }
                    attrs["has_bias"] = getattr(module, "bias", None) is not None
                    attrs["has_weight"] = getattr(module, "weight", None) is not None
                    face = module_face(name, attrs)
            data = [t for t in self.tensors((args, kwargs)) if id(t) in self.data]
            scope = _Scope(path, f"{cls.__module__}.{cls.__qualname__}", face)
            if face is not None:
                scope.inputs = [self.data[id(t)] for t in data]
                if len(data) != 1:
                    scope.mapped = face = None  # a kind reads one tensor of data
                else:
                    self.inside_mapped = 1
            self.scopes.append(scope)
        finally:
            self.busy = False

    def post_hook(self, module: Any, args: Any, kwargs: Any, output: Any) -> None:
        self.busy = True
        try:
            scope = self.scopes.pop()
            if self.inside_mapped > 1:
                self.inside_mapped -= 1
                return
            if scope.mapped is None:
                return
            self.inside_mapped = 0
            outs = self.tensors(output)
            if scope.mapped[0] == "identity":
                for t in outs:
                    self.data[id(t)] = scope.inputs[0]
                    self.keep.append(t)
                return
            ids = {id(p) for p in module.parameters()} | {id(b) for b in module.buffers()}
            counts = self.take(ids)
            if len(outs) != 1:
                return self._opaque_outputs(scope.path, scope.cls, scope.inputs, outs, counts)
            name = self.emit(
                scope.path or type(module).__name__,
                scope.cls,
                scope.mapped,
                scope.inputs,
                self.sample(outs[0].shape),
                counts,
            )
            self.data[id(outs[0])] = name
            self.keep.append(outs[0])
        finally:
            self.busy = False

    def _opaque_outputs(
        self, base: str, op: str, inputs: list[str], outs: list[Any], counts: tuple[int, int, int]
    ) -> None:
        for i, t in enumerate(outs):
            name = self.emit(
                base if i == 0 else f"{base}[{i}]",
                op if i == 0 else f"{op}[{i}]",
                None,
                inputs,
                self.sample(t.shape),
                counts if i == 0 else (0, 0, 0),
            )
            self.data[id(t)] = name
            self.keep.append(t)

    # -- ops

    def op(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        """Record one tensor op that ran (``out`` is its result)."""
        if self.busy or self.inside_mapped:
            return
        name = getattr(func, "__name__", "op")
        if name in NOT_DATA:
            return
        inputs = self.tensors((args, kwargs))
        data = [t for t in inputs if id(t) in self.data]
        if name == "__setitem__":  # x[...] = v writes into x: x is the result
            out = args[0] if args else None
        outs = self.tensors(out)
        if not outs:
            return
        for t in outs:
            self.keep.append(t)
        if not data:  # constants only: remember what they came from
            params: set[int] = set()
            for t in inputs:
                const = self.consts.get(id(t))
                if const is not None:
                    params |= const.params
            for t in outs:
                if id(t) not in self.sizes:
                    self.consts[id(t)] = _Const(frozenset(params))
            return
        sources = []
        for t in data:
            source = self.data[id(t)]
            if source not in sources:
                sources.append(source)
        if (
            name in SAME
            and len(sources) == 1
            and len(outs) == 1
            and tuple(outs[0].shape) == tuple(data[0].shape)
        ):
            self.data[id(outs[0])] = sources[0]
            return
        param_ids: set[int] = set()
        for t in inputs:
            const = self.consts.get(id(t))
            if const is not None and id(t) not in self.data:
                param_ids |= const.params
        for i in list(param_ids):  # the module's own buffers go with the tensors it passes
            param_ids |= self.buffers_of.get(i, frozenset())
        counts = self.take(param_ids)
        op_name = _qualified(func)
        scope = self.scopes[-1].path if self.scopes else ""
        base = f"{scope}.{name.strip('_') or name}" if scope else (name.strip("_") or name)
        plain_args = [self.plain(a) for a in args]
        plain_kwargs = {k: self.plain(v) for k, v in kwargs.items()}
        if len(outs) == 1:
            face = op_face(name, plain_args, plain_kwargs, tuple(int(n) for n in outs[0].shape))
            row = self.emit(base, op_name, face, sources, self.sample(outs[0].shape), counts)
            self.data[id(outs[0])] = row
            return
        faces = split_faces(name, plain_args, plain_kwargs, [tuple(int(n) for n in t.shape) for t in outs])
        if faces is None or len(sources) != 1:
            return self._opaque_outputs(base, op_name, sources, outs, counts)
        for i, (t, face) in enumerate(zip(outs, faces, strict=True)):
            row = self.emit(
                f"{base}[{i}]", op_name, face, sources, self.sample(t.shape), counts if i == 0 else (0, 0, 0)
            )
            self.data[id(t)] = row

    # -- what no row used

    def leftovers(self, last: str) -> None:
        """Parameters and buffers no row used (modules forward never called): one opaque row per
        module that holds them, reading the last row and passing its shape on."""
        groups: dict[str, set[int]] = {}
        owners: dict[str, str] = {}
        for pname, p in [*self.model.named_parameters(), *self.model.named_buffers()]:
            if id(p) in self.counted:
                continue
            path = pname.rpartition(".")[0]
            while (
                path
                and path not in self.called
                and path.rpartition(".")[0] not in ("",)
                and path.rpartition(".")[0] not in self.called
            ):
                path = path.rpartition(".")[0]
            groups.setdefault(path, set()).add(id(p))
        modules = dict(self.model.named_modules())
        for path, ids in groups.items():
            module = modules.get(path, self.model)
            owners[path] = f"{type(module).__module__}.{type(module).__qualname__}"
            counts = self.take(ids)
            if not any(counts):
                continue
            shape = self.shapes[last]
            last = self.emit(
                f"{path or 'model'} (not called)",
                f"{owners[path]}: parameters the forward pass did not use",
                None,
                [last],
                shape,
                counts,
            )


def _qualified(func: Any) -> str:
    """``torch.roll``, ``F.gelu``, ``Tensor.view``: how a traced function is named in a row."""
    name = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None)
    if module is None:
        return f"Tensor.{name}"
    if module in ("torch.nn.functional", "torch._C._nn"):
        return f"F.{name}"
    if module.startswith("torch"):
        return f"torch.{name}"
    return f"{module}.{name}"


def record(torch: Any, model: Any, shape: tuple[int, ...], batch: int, name: str) -> tuple[Spec, int]:
    """Run ``model`` once on a meta (or fake) input of ``(batch, *shape)`` and record it: the
    :class:`Spec` and how many rows a kind's check sent to opaque."""
    from torch.overrides import TorchFunctionMode

    recorder = Recorder(torch, model, batch)

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            recorder.op(func, args, kwargs, out)
            return out

    device = _device(torch, model)
    x = torch.zeros((batch, *shape), device=device)
    recorder.data[id(x)] = "input"
    recorder.keep.append(x)
    recorder.shapes["input"] = recorder.sample(x.shape)
    recorder.names.add("input")
    handles = []
    try:
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(recorder.pre_hook, with_kwargs=True))
            handles.append(module.register_forward_hook(recorder.post_hook, with_kwargs=True))
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad(), Mode():
                output = model(x)
        finally:
            model.train(was_training)
    finally:
        for handle in handles:
            handle.remove()
    outs = recorder.tensors(output)
    if not recorder.layers:
        raise SpecError(f"{name}: the forward pass ran no layer or op on its input")
    last = recorder.layers[-1].name or "input"
    if outs and id(outs[0]) in recorder.data:
        last = recorder.data[id(outs[0])]
    recorder.leftovers(last)
    spec = Spec(
        layers=tuple(recorder.layers),
        data_format=DataFormat.CHANNELS_FIRST,
        convention=Convention.PYTORCH,
        name=name,
        inputs=(("input", recorder.shapes["input"]),),
        notes=_notes(recorder),
    )
    return spec, recorder.opaque_mapped


def _notes(recorder: Recorder) -> tuple[str, ...]:
    notes = []
    if recorder.opaque_mapped:
        notes.append(
            f"{recorder.opaque_mapped} traced module/op row(s) whose cnncalc kind disagreed with the "
            "recorded shape or counts are opaque rows"
        )
    unused = [layer.name for layer in recorder.layers if layer.name and layer.name.endswith("(not called)")]
    if unused:
        notes.append(
            f"parameters the forward pass did not use are rows of their own: {', '.join(unused[:5])}"
        )
    return tuple(notes)


def _device(torch: Any, model: Any) -> Any:
    """Where the model's weights are (meta for a model built on meta; else their device)."""
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("meta")
