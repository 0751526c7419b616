"""Options shared by several commands (defined once, as decorators), and how output is written."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..enums import (
    DATA_FORMAT_SYNONYMS,
    DTYPE_BYTES,
    KERAS_COLUMNS,
    Column,
    Count,
    Counter,
    DataFormat,
    OutputFormat,
    SourceFormat,
)
from ..errors import CnncalcError, Option
from ..records import record
from .types import ColumnsType, ConventionChoice, ShapeType, choice, complete_model

if TYPE_CHECKING:
    from ..io.spec import Spec
    from ..render.table import View
    from ..summary import Summary


@record(frozen=True, eq=False)  # records, never compared: cheaper to define
class ModelArgs:
    """The shared model inputs of summary/explain/verify, as given on the command line."""

    layers: tuple[str, ...]
    spec_file: str | None
    model: str | None
    input_shape: tuple[int, ...] | None
    convention: str | None
    data_format: str | None
    source_format: str | None = None
    expand: bool = False
    model_name: str | None = None
    fix: bool = False
    #: issue 23: build and run the model with the installed framework (--trace, --torch, --depth)
    trace: bool = False
    torch_target: str | None = None
    depth: int | None = None
    custom_objects: str | None = None
    #: the batch of the traced forward pass (PyTorch; shapes shown without it)
    trace_batch: int | None = None

    def spec(self) -> Spec:
        """The Spec from exactly one source: LAYER arguments, -f SPEC or --model NAME, or one that
        --trace/--torch builds with the user's framework."""
        from ..errors import SpecError
        from ..io.model_source import ModelSource

        if self.trace or self.torch_target:
            spec = self._traced()
        else:
            given = (
                ("--depth", self.depth),
                ("--custom-objects", self.custom_objects),
                ("--trace-batch", self.trace_batch),
            )
            for flag, value in given:
                if value is not None:
                    raise SpecError(f"{flag} goes with --trace or --torch")
            named = self.named_inputs
            try:
                return ModelSource(
                    layers=self.layers,
                    file=self.spec_file,
                    model=self.model,
                    input_shape=None if named else self.input_shape,
                    convention=self.convention,
                    source_format=self.source_format,
                    model_name=self.model_name,
                    inputs=named,
                ).spec()
            except CnncalcError as err:
                raise _trace_hint(err, self._file()) from None
        if self.depth is not None:
            from ..trace.fold import fold

            spec = fold(spec, self.depth)
        return spec

    @property
    def named_inputs(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``--input a=3x224x224,b=10``: the shapes of named model inputs (else empty)."""
        shape: Any = self.input_shape
        if shape and isinstance(shape[0], tuple):
            return tuple(shape)
        return ()

    def _file(self) -> str | None:
        """-f FILE, or a lone LAYER argument naming an existing file (read as -f would)."""
        import os

        if self.spec_file:
            return self.spec_file
        if len(self.layers) == 1 and os.path.isfile(self.layers[0]):
            return self.layers[0]
        return None

    def _traced(self) -> Spec:
        """--trace -f FILE or --torch MODULE:FACTORY: says first that it runs code (stderr)."""
        from .. import trace
        from ..errors import SpecError

        if self.trace and self.torch_target:
            raise SpecError("give --trace -f FILE or --torch MODULE:FACTORY, not both")
        file = self._file()
        others = [n for n, v in (("LAYER arguments", self.layers and not file), ("--model", self.model)) if v]
        if self.torch_target and file:
            others.append("-f")
        if others or (self.trace and not file):
            raise SpecError(
                "--trace reads -f FILE (and --torch builds by import path): "
                + (" and ".join(others) or "no -f")
            )
        if self.source_format:
            raise SpecError("--from is for static reading; --trace chooses by the file's kind")
        if self.torch_target:
            trace.parse_target(self.torch_target)  # a malformed target: nothing runs
            trace.require("torch")
            click.echo(f"Note: {trace.RUNS_CODE.format(framework='torch')}", err=True)
            return trace.torch_spec(self.torch_target, self.input_shape, self.trace_batch or 1)
        assert file is not None
        framework = "keras" if trace.uses_keras(file) else "torch"
        trace.require(framework)
        click.echo(f"Note: {trace.RUNS_CODE.format(framework=framework)}", err=True)
        spec, _ = trace.file_spec(
            file, self.model_name, self.input_shape, self.custom_objects, self.trace_batch or 1
        )
        return spec

    def summarize(self, dtype: str | None = None, need: str | None = None) -> Summary:
        """Parse and compute the Summary (command-line settings override the spec's). ``need``
        names a command that needs every size: a model with unknown (None) sizes is refused."""
        from ..engine import summarize

        spec = self.spec()
        result = summarize(
            spec,
            input_shape=None if self.named_inputs else self.input_shape,
            convention=self.convention,
            data_format=self.data_format,
            dtype=dtype,
            expand=self.expand,
            fix=self.fix,
        )
        if need is not None:
            result.require_known(need)
        for note in result.notes:  # how the model was read or fixed: stderr, never in the output
            click.echo(f"Note: {note}", err=True)
        return result


def trace_options() -> list[Callable[..., Any]]:
    """--trace, --torch, --depth, --custom-objects (issue 23): opt-in, they import and run code."""
    return [
        click.option(
            "--trace",
            is_flag=True,
            help="IMPORTS AND RUNS CODE: build -f FILE (.py PyTorch or Keras code, .keras, .h5, .json) with "
            "your installed torch/Keras and record one forward pass on a meta input (no weights "
            "allocated or loaded). Reads what static reading cannot; never the default.",
        ),
        click.option(
            "--torch",
            "torch_target",
            metavar="MODULE:FACTORY[(ARGS)]",
            default=None,
            help="IMPORTS AND RUNS CODE: build a PyTorch model by import path and trace it, e.g. "
            "torchvision.models:resnet50, timm:resnet50d (pretrained=False), mypkg.nets:Net(width=2) "
            "(ARGS: Python literals only).",
        ),
        click.option(
            "--depth",
            type=click.IntRange(0, 64),
            default=None,
            metavar="N",
            help="With --trace/--torch: fold modules deeper than N into one row each (as torchinfo's depth).",
        ),
        click.option(
            "--custom-objects",
            "custom_objects",
            metavar="MODULE",
            default=None,
            help="With --trace of a Keras model: import MODULE (a .py file or a dotted module) for its "
            "registered custom classes.",
        ),
        click.option(
            "--trace-batch",
            "trace_batch",
            type=click.IntRange(1, 4096),
            default=None,
            metavar="N",
            help="With --trace/--torch of a PyTorch model: the batch of the traced forward pass "
            "[default: 1]; the table shows shapes without the batch axis.",
        ),
    ]


def with_trace_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--trace, --depth, --custom-objects on a command of its own (``check MODEL --expect FILE
    --trace``, whose MODEL may be an import path instead of --torch)."""
    for decorator in reversed([d for i, d in enumerate(trace_options()) if i not in (1, 4)]):
        func = decorator(func)
    return func


def _trace_hint(err: CnncalcError, path: str | None) -> CnncalcError:
    """A static refusal of model code or a saved model that --trace would read: the hint says so
    (issue 23; the error itself is unchanged, an existing hint is kept)."""
    if path is None:
        return err
    if "is not a Keras layer cnncalc knows" in err.reason and path != "-":  # a custom class: Keras builds it
        hint = "--trace builds it with your installed Keras (runs its custom layers' code; --custom-objects MODULE)"
        return type(err)(
            *err.parts, layer=err.layer, hint=f"{hint}; `cnncalc kinds` lists the layers cnncalc reads"
        )
    if err.hint is not None or path == "-" or not path.lower().endswith((".py", ".keras", ".h5", ".hdf5")):
        return err
    if any(isinstance(part, Option) for part in err.parts):
        return err  # it asks for a setting (--model-name, --input): not a refusal of the code
    from ..trace import uses_keras

    framework = "Keras" if uses_keras(path) else "torch"
    code = "the file's code" if path.lower().endswith(".py") else "its custom layers' code"
    return type(err)(
        *err.parts, layer=err.layer, hint=f"--trace builds it with your installed {framework} (runs {code})"
    )


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """LAYER..., -i/--input, -f/--file, -m/--model, --convention, --data-format: passed to the
    command as one ``model_args`` (:class:`ModelArgs`)."""

    @functools.wraps(func)
    def wrapper(
        layers: tuple[str, ...],
        spec_file: str | None,
        model: str | None,
        input_shape: tuple[int, ...] | None,
        convention: str | None,
        data_format: str | None,
        source_format: str | None,
        expand: bool,
        model_name: str | None,
        fix: bool,
        trace: bool,
        torch_target: str | None,
        depth: int | None,
        custom_objects: str | None,
        trace_batch: int | None,
        **kwargs: Any,
    ) -> Any:
        args = ModelArgs(
            layers,
            spec_file,
            model,
            input_shape,
            convention,
            data_format,
            source_format,
            expand,
            model_name,
            fix,
            trace,
            torch_target,
            depth,
            custom_objects,
            trace_batch,
        )
        return func(args, **kwargs)

    decorators = [
        click.argument("layers", nargs=-1, metavar="[LAYER]..."),
        click.option(
            "-i",
            "--input",
            "input_shape",
            type=ShapeType(),
            metavar="SHAPE",
            help="Input shape without the batch axis, e.g. 200x200x1 (H x W x C) or 1x28x28 (C x H x W); "
            "an ONNX graph's inputs by name: 'image=3x224x224,mask=1x224x224'; "
            "sizes separated by x, by commas or by spaces ('200 200 1'), ASCII digits only.",
        ),
        click.option(
            "-f",
            "--file",
            "spec_file",
            metavar="SPEC",
            help="Read a model from a file: JSON spec, Keras .keras or .h5, ONNX .onnx, or Python model "
            "code (read without running it); '-' reads standard input.",
        ),
        click.option(
            "--from",
            "source_format",
            type=choice(SourceFormat),
            default=None,
            help="Read -f as this format [default: chosen by the file's content].",
        ),
        click.option(
            "--expand",
            is_flag=True,
            help="Show the layers of nested models (a model used as a layer) as rows named "
            "outer/inner, instead of one row each (Keras's expand_nested).",
        ),
        click.option(
            "--model-name",
            "model_name",
            metavar="NAME",
            default=None,
            help="Which model of a Python file with several (the variable, name= or function that builds it).",
        ),
        click.option(
            "--fix",
            is_flag=True,
            help="Continue past an in_features/in_channels/n_in/image_shape that disagrees with the real "
            "input, using the real value.",
        ),
        *trace_options(),
        click.option(
            "-m",
            "--model",
            "model",
            metavar="NAME",
            shell_complete=complete_model,
            help="A network from the built-in zoo (`cnncalc models` lists them), e.g. vgg16, resnet50.",
        ),
        click.option(
            "--convention",
            type=ConventionChoice(),
            default=None,
            help="Whose shape rules apply where Keras and PyTorch differ [default: the spec's, else keras].",
        ),
        click.option(
            "--data-format",
            type=click.Choice([*DataFormat.values(), *DATA_FORMAT_SYNONYMS], case_sensitive=False),
            default=None,
            help="channels_last (H x W x C; also NHWC) or channels_first (C x H x W; also NCHW) "
            "[default: the spec's, else keras: channels_last, pytorch: channels_first].",
        ),
    ]
    for decorator in reversed(decorators):
        wrapper = decorator(wrapper)
    return wrapper


def format_option(*formats: OutputFormat) -> Callable[..., Any]:
    """``--format`` limited to the given output formats."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice([f.value for f in formats], case_sensitive=False),
        default=formats[0].value,
        show_default=True,
        help="Output format.",
    )


def output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-o/--output FILE``: write there instead of standard output."""
    option = click.option(
        "-o",
        "--output",
        metavar="FILE",
        default=None,
        help="Write to FILE instead of standard output; its ending chooses the format (an ending "
        "the command cannot write is refused).",
    )
    return option(func)


def write_output(text: str | Iterable[str], output: str | None) -> None:
    """Text to standard output, or to a file replaced whole or not at all (an unwritable file is
    bad input, exit 2). ``text`` may be pieces, a list or a generator (a big rendering is never
    joined into one string: that would hold it twice): a file's are written as they come (to the
    temporary file that replaces it at the end); standard output's are all made and checked to be
    encodable before the first is written, held in memory up to a few megabytes and beyond in a
    temporary file (:func:`~cnncalc.io.files.held`), so a failure still writes nothing."""
    if output is None or output == "-":
        if isinstance(text, str):
            click.echo(text, nl=False)
            return
        from ..io.files import held

        for piece in held(text, _encoder()):
            # color=True: click leaves the piece as it is; it looks for ANSI codes to strip from
            # output that is not a terminal only when there is an escape character to find
            click.echo(piece, nl=False, color=None if "\x1b" in piece else True)
        return
    from ..io.files import write_atomic

    write_atomic(output, text)
    click.echo(f"wrote {output}", err=True)


def _encoder() -> Callable[[str], object]:
    """A check that raises UnicodeEncodeError (reported as one line) for a piece standard output
    cannot encode, so nothing is written, as writing the text as one string would fail before
    writing any."""
    try:  # the stream click.echo writes to (it may re-wrap a misconfigured one to replace errors)
        from click.utils import _default_text_stdout

        stream = _default_text_stdout()
    except Exception:  # noqa: BLE001 - no stream to ask (closed): writing reports it
        return lambda piece: None
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return lambda piece: None
    errors = getattr(stream, "errors", None) or "strict"
    import codecs

    try:
        ascii_safe = codecs.lookup(encoding).name in ("utf-8", "ascii")
    except LookupError:
        ascii_safe = False
    if ascii_safe:  # an ASCII text (known without a pass over it) encodes as it is
        return lambda piece: piece.isascii() or piece.encode(encoding, errors)
    return lambda piece: piece.encode(encoding, errors)


def write_bytes_output(data: bytes, output: str) -> None:
    """Binary output (a PNG) to a file, replaced whole or not at all (an unwritable file is bad
    input, exit 2)."""
    from ..io.files import write_atomic

    write_atomic(output, data)
    click.echo(f"wrote {output}", err=True)


def emit(renderable: Any, width: int | None, output: str | None = None, *, soft_wrap: bool = False) -> None:
    """A Rich renderable as text: on a terminal fitted to it (in colour), elsewhere (a file, a
    pipe, ``-o``) as wide as its content, so ``-o FILE`` and ``> FILE`` give the same bytes.
    ``width`` (``--width``) overrides either."""
    from ..render.console import to_pieces

    terminal = output in (None, "-") and sys.stdout.isatty()
    if width is None and terminal:
        from ..render.lines import terminal_columns

        width = terminal_columns()
    write_output(to_pieces(renderable, width=width, color=terminal, soft_wrap=soft_wrap), output)


def refuse_width(width: int | None, fmt: str) -> None:
    """``--width`` only shapes tables: with another format it would do nothing, so it is refused."""
    if width is not None and fmt != OutputFormat.TABLE:
        raise click.UsageError(
            f"--width has no effect on --format {fmt} (it fits tables)",
            click.get_current_context(silent=True),
        )


def width_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--width N``: the text width tables fit [default: the terminal's, or the content's]."""
    option = click.option(
        "--width",
        type=click.IntRange(min=20),
        default=None,
        metavar="N",
        help="Fit tables to N columns [default: the terminal's width; the content's own width "
        "when writing to a file or a pipe].",
    )
    return option(func)


def dtype_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--dtype`` for the memory figures."""
    option = click.option(
        "--dtype",
        type=click.Choice(list(DTYPE_BYTES)),
        default=None,
        help="Element type of the memory figures [default: the spec's, else float32].",
    )
    return option(func)


def view_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--columns``, ``--all``, ``--count``, ``--bias-macs``: what a table shows."""
    decorators = [
        click.option(
            "--columns",
            type=ColumnsType(),
            metavar="LIST",
            help=f"Comma-separated columns: {','.join(Column.values())} [default: shape,params, as Keras].",
        ),
        click.option(
            "--all", "all_columns", is_flag=True, help="Show every column and the cost and memory totals."
        ),
        click.option(
            "--count",
            type=choice(Count),
            default=None,
            help="Cost column: multiply-accumulates or FLOPs (2*MACs + bias adds + elementwise ops) "
            "[default: macs]; adds the cost column to the default table.",
        ),
        click.option(
            "--bias-macs",
            is_flag=True,
            help="Count bias additions in MACs (ptflops style); adds the cost column to the default table.",
        ),
        click.option(
            "--counter",
            type=choice(Counter),
            default=None,
            help="Cost column as that tool counts it: torchinfo, fvcore, ptflops, thop, torch "
            "(torch.utils.flop_counter, FLOPs) or cnncalc; adds the cost column to the default "
            "table. `cnncalc counters` shows them side by side.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def make_view(
    columns: tuple[Column, ...] | None,
    all_columns: bool,
    count: str | None,
    bias_macs: bool,
    fmt: str,
    counter: str | None = None,
) -> View:
    """The render View from the view options; an option another one overrides is a usage error."""
    from ..render.table import ALL_COLUMNS, View

    def refuse(message: str) -> click.UsageError:
        return click.UsageError(message, click.get_current_context(silent=True))

    given = [
        flag
        for flag, value in (
            ("--columns", columns is not None),
            ("--all", all_columns),
            ("--count", count is not None),
            ("--bias-macs", bias_macs),
            ("--counter", counter is not None),
        )
        if value
    ]
    if given and fmt in (OutputFormat.JSON, OutputFormat.CSV):
        raise refuse(f"{given[0]} has no effect on --format {fmt}, which always carries every figure")
    if all_columns and columns is not None:
        raise refuse("give --all or --columns, not both (--all shows every column)")
    if count == Count.FLOPS and bias_macs:
        raise refuse("--bias-macs has no effect with --count flops (FLOPs always include bias adds)")
    if counter is not None and (count is not None or bias_macs):
        flag = "--count" if count is not None else "--bias-macs"
        raise refuse(f"give --counter or {flag}, not both (the tool's rules decide what is counted)")
    if all_columns:
        chosen = ALL_COLUMNS
    elif columns is not None:
        chosen = columns
        if (count is not None or bias_macs or counter is not None) and Column.MACS not in chosen:
            flag = "--count" if count is not None else "--bias-macs" if bias_macs else "--counter"
            raise refuse(f"{flag} changes the macs column, which --columns leaves out")
    elif count is not None or bias_macs or counter is not None:  # asking how costs are counted shows them
        chosen = (*KERAS_COLUMNS, Column.MACS)
    else:
        chosen = KERAS_COLUMNS
    return View(
        columns=chosen,
        count=Count.parse(count or Count.MACS, "--count"),
        bias_macs=bias_macs,
        counter=None if counter is None else Counter.parse(counter, "--counter"),
    )


#: Output file endings that name a text format (``-o report.html`` means ``--format html``).
ENDINGS = {
    ".txt": OutputFormat.TABLE,
    ".json": OutputFormat.JSON,
    ".md": OutputFormat.MARKDOWN,
    ".markdown": OutputFormat.MARKDOWN,
    ".csv": OutputFormat.CSV,
    ".html": OutputFormat.HTML,
    ".htm": OutputFormat.HTML,
}

_T = TypeVar("_T")


def output_ending(output: str | None, accepted: Mapping[str, _T], what: str) -> _T | None:
    """What the ``-o`` file's ending asks for among ``accepted`` (ending -> value), or None when no
    ending decides (standard output, ``-``, a ``/dev/`` stream, a name without an ending). Any other
    ending is a usage error naming the accepted ones, raised before anything is computed or
    written: a ``.pdf`` never silently holds text. ``what`` is what the command writes."""
    import os

    if output is None or output == "-" or output.startswith("/dev/"):
        return None
    ending = os.path.splitext(output)[1].lower()
    if not ending:
        return None
    if ending not in accepted:
        valid = list(accepted)
        listed = ", ".join(valid[:-1]) + (" or " if len(valid) > 1 else "") + valid[-1]
        raise click.UsageError(
            f"-o {output}: {what} is written as {listed} (chosen by the file's ending), not {ending}",
            click.get_current_context(silent=True),
        )
    return accepted[ending]


def format_for_output(fmt: str, output: str | None, allowed: tuple[OutputFormat, ...]) -> str:
    """The format to write: the ``-o`` file's ending chooses it when ``--format`` was not given
    (``-o r.html`` writes the HTML report, ``-o r.txt`` the table); a ``--format`` that contradicts
    the ending, or an ending the command cannot write (``-o r.pdf``), is a usage error rather than
    HTML text in a ``.json`` file or a table in a ``.pdf``."""
    ctx = click.get_current_context(silent=True)
    command = ctx.info_name if ctx is not None and ctx.info_name else "this command"
    accepted = {ending: f for ending, f in ENDINGS.items() if f in allowed}
    wanted = output_ending(output, accepted, f"the {command} output")
    if wanted is None:
        return fmt
    given = ctx is not None and ctx.get_parameter_source("fmt") is click.core.ParameterSource.COMMANDLINE
    if not given:
        return wanted.value
    if wanted.value != fmt:
        import os

        ending = os.path.splitext(str(output))[1].lower()
        raise click.UsageError(
            f"--format {fmt} contradicts -o {output} (its ending {ending} means --format {wanted.value})", ctx
        )
    return fmt
