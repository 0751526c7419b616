"""The ``cnncalc`` command line: parse options, call the library, render, map errors to exit codes.

No arithmetic lives here. Exit codes: 0 success, 1 a check/verify difference, 2 bad input
(any :class:`~cnncalc.errors.CnncalcError` or Click usage error), 3 an internal error.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .enums import (
    DATA_FORMAT_SYNONYMS,
    DTYPE_BYTES,
    KERAS_COLUMNS,
    Column,
    Convention,
    Count,
    Counter,
    DataFormat,
    ExportTarget,
    OutputFormat,
    SourceFormat,
)
from .errors import CnncalcError, Option, SpecError, spell_with

if TYPE_CHECKING:
    from .io.spec import Spec
    from .render.table import View
    from .summary import Summary

#: How library settings named in messages are spelled on the command line.
FLAGS = {
    "convention": "--convention",
    "data_format": "--data-format",
    "input_shape": "--input",
    "max_memory": "--max-memory",
    "batch": "--batch",
    "model_name": "--model-name",
    "fix": "--fix",
}


class _Interrupted(BaseException):
    """Ctrl-C inside a command, carried past Click (which would turn it into ``Abort``, exit 1)."""


class _PipeClosed(BaseException):
    """The reader of standard output went away, carried past Click (which would exit 1)."""


@contextlib.contextmanager
def _carried() -> Iterator[None]:
    """Re-raise Ctrl-C and a closed pipe as exceptions Click lets through to ``main``."""
    try:
        yield
    except KeyboardInterrupt:
        raise _Interrupted from None
    except BrokenPipeError:
        raise _PipeClosed from None


class CnncalcGroup(click.Group):
    """A group whose every failure is one line on stderr with a meaningful exit code."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _carried():  # `cnncalc --help | head` writes while the context is made
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _carried():
            return super().invoke(ctx)

    def main(
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        # The cyclic garbage collector only slows a one-shot process whose data is acyclic (its
        # full collections grow with the live objects: 100,000 layers took 1.7x longer with it).
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except SystemExit as exit_:  # a command's own sys.exit(code): its output still flushes
                code = exit_.code
            _flush_stdout()
        except click.exceptions.NoArgsIsHelpError as err:
            # Bare `cnncalc` (or a group without its command): the help, on stdout, as success.
            click.echo(err.ctx.get_help() if err.ctx else self.get_help(click.Context(self)))
            code = 0
        except click.UsageError as err:
            # Click's own form: the usage line and where help is, then our one error line.
            if err.ctx is not None:
                click.echo(err.ctx.get_usage(), err=True)
                click.echo(f"Try '{err.ctx.command_path} -h' for help.", err=True)
            _error(err.format_message())
            code = err.exit_code
        except click.ClickException as err:
            _error(err.format_message())
            code = err.exit_code
        except CnncalcError as err:
            _error(err.render(_spell))
            hint = err.render_hint(_spell)
            if hint:
                _echo_err(f"Hint: {hint}")
            code = 2
        except (KeyboardInterrupt, _Interrupted):
            code = _interrupted()
        except click.Abort as err:
            if isinstance(err.__context__, EOFError):
                _error("standard input is closed")
                code = 2
            else:  # Click's Abort stands for Ctrl-C while it parsed the command line
                code = _interrupted()
        except (BrokenPipeError, _PipeClosed):
            code = _pipe_closed()
        except UnicodeEncodeError as err:
            encoding = getattr(sys.stdout, "encoding", None) or err.encoding
            _error(
                f"standard output ({encoding}) cannot encode {err.object[err.start : err.start + 1]!r}; "
                "set PYTHONIOENCODING=utf-8"
            )
            _drop_stdout()
            code = 2
        except OSError as err:  # the environment: disk full (> /dev/full), I/O error, file size limit
            where = f"cannot use {err.filename}" if err.filename else "cannot write standard output"
            _error(f"{where}: {err.strerror or err}")
            _drop_stdout()
            code = 2
        except Exception as err:  # noqa: BLE001 - a bug must still not print a traceback to users
            if os.environ.get("CNNCALC_DEBUG"):
                raise
            _error(
                f"internal error: {type(err).__name__}: {err} (please report it; "
                "set CNNCALC_DEBUG=1 for the traceback)"
            )
            code = 3
        if collecting:  # in-process callers (tests, notebooks) get their collector back
            gc.enable()
        sys.exit(code if isinstance(code, int) else 0)


def _flush_stdout() -> None:
    """Flush standard output now, so a full disk or a closed pipe is reported here, not as an
    "Exception ignored" at interpreter exit."""
    stream = sys.stdout
    if stream is not None:
        stream.flush()


def _interrupted() -> int:
    """Ctrl-C: one line, exit 130 (128 + SIGINT), as shells report it."""
    with contextlib.suppress(Exception, KeyboardInterrupt):
        _error("interrupted")
    return 130


def _pipe_closed() -> int:
    """The reader went away (``| head``): say nothing, exit 141 (128 + SIGPIPE) as a killed
    process would."""
    _drop_stdout()
    return 141


def _drop_stdout() -> None:
    """Point stdout at /dev/null: what it still buffers cannot fail again at interpreter exit."""
    with contextlib.suppress(Exception, KeyboardInterrupt):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _echo_err(line: str) -> None:
    """One line on stderr, whatever stderr can encode (an unencodable character is escaped)."""
    stream = sys.stderr
    if stream is None:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        line = line.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        pass
    click.echo(line, err=True)


def _error(message: str) -> None:
    _echo_err("Error: " + " ".join(str(message).split()))


def _spell(option: Option) -> str:
    """A library option as its flag: ``convention='keras'`` -> ``--convention keras``."""
    return spell_with(FLAGS)(option)


class ShapeType(click.ParamType):
    """``SHAPE``: sizes without the batch axis, ``200x200x1`` or ``200,200,1``."""

    name = "shape"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        from .layers.args import shape

        if isinstance(value, str) and "=" in value:  # name=SHAPE,...: the inputs of an ONNX graph
            from .io.sources import named_shapes

            return named_shapes(value, "--input")  # type: ignore[return-value]
        return value if isinstance(value, tuple) else shape(value, "--input")


class SizeType(click.ParamType):
    """``SIZE``: a number of bytes, ``2GiB``, ``512MiB``, ``100MB`` or ``1e9``."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([kmgt]?i?b?)\s*", str(value).lower())
        scale = {
            "": 1,
            "k": 10**3,
            "m": 10**6,
            "g": 10**9,
            "t": 10**12,
            "ki": 2**10,
            "mi": 2**20,
            "gi": 2**30,
        }
        scale["ti"] = 2**40
        try:
            if not match:
                raise ValueError(value)
            return int(float(match.group(1)) * scale[match.group(2).rstrip("b")])
        except (ValueError, OverflowError):  # OverflowError: 1e999 is infinite
            raise SpecError(f"--max-memory {value!r} is not a size like 2GiB or 512MB") from None


class ColumnsType(click.ParamType):
    """``LIST``: comma-separated table columns."""

    name = "columns"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[Column, ...]:
        if isinstance(value, tuple):
            return value
        names = [name.strip() for name in str(value).split(",")]
        if not any(names):
            self.fail("needs at least one column, e.g. shape,params", param, ctx)
        if not all(names):
            self.fail(f"{value!r} has an empty entry", param, ctx)
        try:
            return tuple(Column.parse(name, "entry") for name in names)
        except SpecError as err:
            self.fail(str(err), param, ctx)


def _complete_model(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of ``--model``: the zoo's names."""
    from click.shell_completion import CompletionItem

    from . import zoo

    known = [*zoo.names(), *zoo.ALIASES]
    return [CompletionItem(name) for name in known if name.startswith(incomplete.lower())]


def _choice(enum: Any) -> click.Choice:
    return click.Choice(enum.values(), case_sensitive=False)


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
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

    def spec(self) -> Spec:
        """The Spec from exactly one source: LAYER arguments, -f SPEC or --model NAME."""
        from .io import from_layers, loads
        from .io.sources import read_spec

        sources = (("LAYER arguments", self.layers), ("-f", self.spec_file), ("--model", self.model))
        given = [name for name, value in sources if value]
        if len(given) > 1:
            raise SpecError(
                f"give one of LAYER arguments, -f SPEC or --model NAME, not {' and '.join(given)}"
            )
        if self.source_format and not self.spec_file:
            raise SpecError("--from goes with -f FILE")
        if self.model_name and not self.spec_file:
            raise SpecError("--model-name goes with -f FILE.py")
        if self.spec_file:
            fmt = SourceFormat.parse(self.source_format, "--from") if self.source_format else None
            named = self.named_inputs
            shape = None if named else self.input_shape
            return read_spec(self.spec_file, fmt, shape, self.model_name, named)
        if self.model:
            from . import zoo

            return loads(zoo.load(self.model), f"model {self.model}")
        if self.layers:
            # under the pytorch convention, Conv2d/Linear/BatchNorm2d take PyTorch's order and names
            convention = Convention.parse(self.convention, "--convention") if self.convention else None
            return from_layers(self.layers, convention)
        raise SpecError("no layers: give LAYER arguments (e.g. conv:16,3), -f SPEC.json or --model NAME")

    @property
    def named_inputs(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``--input a=3x224x224,b=10``: the shapes of named model inputs (else empty)."""
        shape: Any = self.input_shape
        if shape and isinstance(shape[0], tuple):
            return tuple(shape)
        return ()

    def summarize(self, dtype: str | None = None) -> Summary:
        """Parse and compute the Summary (command-line settings override the spec's)."""
        from .engine import summarize

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
        for note in result.notes:  # how the model was read or fixed: stderr, never in the output
            click.echo(f"Note: {note}", err=True)
        return result


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
            "sizes separated by x, by commas or by spaces ('200 200 1'), ASCII digits only. "
            "An ONNX graph's inputs by name: 'image=3x224x224,mask=1x224x224'.",
        ),
        click.option(
            "-f",
            "--file",
            "spec_file",
            metavar="SPEC",
            help="Read a model from a file (JSON spec, Keras .keras or .h5, or Python model code, read "
            "without running it), or from standard input with '-'.",
        ),
        click.option(
            "--from",
            "source_format",
            type=_choice(SourceFormat),
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
        click.option(
            "-m",
            "--model",
            "model",
            metavar="NAME",
            shell_complete=_complete_model,
            help="A network from the built-in zoo (`cnncalc models` lists them), e.g. vgg16, resnet50.",
        ),
        click.option(
            "--convention",
            type=_choice(Convention),
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
        "-o", "--output", metavar="FILE", default=None, help="Write to FILE instead of standard output."
    )
    return option(func)


def write_output(text: str, output: str | None) -> None:
    """Text to standard output, or to a file replaced whole or not at all (an unwritable file is
    bad input, exit 2)."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    from .io.files import write_atomic

    write_atomic(output, text)
    click.echo(f"wrote {output}", err=True)


def write_bytes_output(data: bytes, output: str) -> None:
    """Binary output (a PNG) to a file, replaced whole or not at all (an unwritable file is bad
    input, exit 2)."""
    from .io.files import write_atomic

    write_atomic(output, data)
    click.echo(f"wrote {output}", err=True)


def emit(renderable: Any, width: int | None, output: str | None = None, *, soft_wrap: bool = False) -> None:
    """A Rich renderable as text: on a terminal fitted to it (in colour), elsewhere (a file, a
    pipe, ``-o``) as wide as its content, so ``-o FILE`` and ``> FILE`` give the same bytes.
    ``width`` (``--width``) overrides either."""
    from .render.console import to_text

    terminal = output in (None, "-") and sys.stdout.isatty()
    if width is None and terminal:
        import shutil

        width = shutil.get_terminal_size().columns
    write_output(to_text(renderable, width=width, color=terminal, soft_wrap=soft_wrap), output)


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


@click.group(name="cnncalc", cls=CnncalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def cli() -> None:
    """Shapes, parameters and costs of CNN layers, from a one-line spec or a JSON file.

    \b
    Example:
      cnncalc summary --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
    """


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
            type=_choice(Count),
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
            type=_choice(Counter),
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
    from .render.table import ALL_COLUMNS, View

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


@cli.command()
@model_options
@dtype_option
@view_options
@format_option(
    OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN, OutputFormat.CSV, OutputFormat.HTML
)
@output_option
@width_option
def summary(
    model_args: ModelArgs,
    dtype: str | None,
    columns: tuple[Column, ...] | None,
    all_columns: bool,
    count: str | None,
    bias_macs: bool,
    counter: str | None,
    fmt: str,
    output: str | None,
    width: int | None,
) -> None:
    """Keras-style table of each layer's output shape and parameters (and, on request, costs).

    JSON output always carries every figure: MACs, bias adds, ops, FLOPs, memory, receptive field.

    \b
    Examples:
      cnncalc summary --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc summary --data-format channels_first --input 1x28x28 conv:20,5 maxpool:2
      cnncalc summary --input 224x224x3 conv:64,3,padding=same maxpool:2 --all
      cnncalc summary -f model.json --format json
      cnncalc summary --model resnet50 --input 160x160x3
      cnncalc summary --model vgg16 --format html -o report.html
      cnncalc summary --model torchvision/resnet18 --counter fvcore
    """
    from .render import table

    refuse_width(width, fmt)
    view = make_view(columns, all_columns, count, bias_macs, fmt, counter)
    result = model_args.summarize(dtype)
    if fmt == "table":
        emit(table.summary_table(result, view), width, output)
        return
    if fmt == "markdown":
        text = table.to_markdown(result, view)
    elif fmt == "html":
        from .render.html import html_report

        text = html_report(result, view)
    else:
        text = {"json": table.to_json, "csv": table.to_csv}[fmt](result)
    write_output(text, output)


@cli.command()
@model_options
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@output_option
@width_option
def counters(model_args: ModelArgs, fmt: str, output: str | None, width: int | None) -> None:
    """MACs/FLOPs as torchinfo, fvcore, ptflops, thop, torch's flop counter and cnncalc count
    them, per layer and in total, with one line per difference saying why.

    Each tool's rules (docs/costs.md) are applied to the model's layers; the kinds stand for the
    PyTorch modules of the same job (relu = nn.ReLU, activation:relu = F.relu).

    \b
    Examples:
      cnncalc counters --model torchvision/resnet18
      cnncalc counters --convention pytorch --input 3x32x32 conv2d:3,8,3 BatchNorm2d:8 relu
      cnncalc counters -f model.onnx --format json
    """
    refuse_width(width, fmt)
    from .counters import compare
    from .render.counters import counters_json, counters_markdown, counters_table

    comparison = compare(model_args.summarize())
    if fmt == "table":
        emit(counters_table(comparison), width, output)
    elif fmt == "markdown":
        write_output(counters_markdown(comparison), output)
    else:
        write_output(counters_json(comparison), output)


@cli.command()
@model_options
@output_option
def diagram(model_args: ModelArgs, output: str | None) -> None:
    """Draw the network as an SVG (or PNG): one box per activation volume, scaled by its shape.

    Height, width and channels set each box's height, depth and thickness (log-scaled);
    vectors are bars; kernels are drawn on the volume they slide over; boxes carry the layer
    names; branches stand one above the other; every edge is drawn around the boxes, shortcuts
    over the row; long networks wrap onto several rows (at most about 2,000 px wide).
    -o FILE.png converts through rsvg-convert, cairosvg or ImageMagick when one is installed.
    Without -o the SVG goes to standard output, which must then be a file or a pipe.

    \b
    Examples:
      cnncalc diagram --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same -o model.svg
      cnncalc diagram --model vgg16 -o vgg16.svg
      cnncalc diagram --model resnet18 -o resnet18.png
      cnncalc diagram -f model.json > model.svg
    """
    png = output is not None and output.lower().endswith(".png")
    if output in (None, "-") and sys.stdout.isatty():
        raise click.UsageError(
            "the diagram is an SVG document, not terminal text: give -o FILE.svg (or -o FILE.png), "
            "or redirect it (> model.svg)",
            click.get_current_context(silent=True),
        )
    from .render.diagram import to_svg

    svg = to_svg(model_args.summarize())
    if png:
        from .render.raster import svg_to_png

        write_bytes_output(svg_to_png(svg), str(output))
    else:
        write_output(svg, output)


@cli.command()
@model_options
@click.option(
    "--to",
    "target",
    type=_choice(ExportTarget),
    required=True,
    help="The framework whose code is written.",
)
@output_option
def export(model_args: ModelArgs, target: str, output: str | None) -> None:
    """Write runnable model code for any model cnncalc reads (reading it back gives the same table).

    Keras: a plain stack becomes keras.Sequential, a graph a functional keras.Model; every layer
    keeps its name and non-default arguments. PyTorch (for a model under --convention pytorch): one
    nn.Module with in_channels/in_features filled in and a forward. Layers the framework has no
    class for are refused with the reason.

    \b
    Examples:
      cnncalc export --to keras --input 28x28x1 conv:32,3,activation=relu maxpool:2 flatten dense:10
      cnncalc export --to keras --model vgg16 -o vgg16.py
      cnncalc export --to keras -f model.json -o model.py
      cnncalc export --to pytorch --model resnet18 -o resnet18.py
    """
    from .export import export as write_code

    write_output(write_code(model_args.summarize(), ExportTarget.parse(target, "--to")), output)


@cli.command()
@model_options
@format_option(OutputFormat.TABLE, OutputFormat.MARKDOWN)
@width_option
def explain(model_args: ModelArgs, fmt: str, width: int | None) -> None:
    """Show each layer's formulas with the numbers substituted, step by step.

    Output lengths under the rule in force (Keras same/valid, PyTorch padding and ceil_mode,
    dilation), parameters, MACs and the receptive field. Colour on a terminal, plain text when
    piped, --format markdown for notes.

    \b
    Examples:
      cnncalc explain --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc explain --convention pytorch --input 3x112x112 maxpool:3,2,ceil_mode=true --format markdown
    """
    refuse_width(width, fmt)
    from .explain import explain as build
    from .render.documents import explain_markdown, explain_plain, explain_text

    result = model_args.summarize()
    explanations = build(result)
    if fmt == "markdown":
        click.echo(explain_markdown(result, explanations), nl=False)
        return
    if not sys.stdout.isatty():  # no colour to add: skip Rich's per-line rendering if nothing wraps
        plain = explain_plain(result, explanations, width)
        if plain is not None:
            click.echo(plain, nl=False)
            return
    emit(explain_text(result, explanations), width)


@cli.command()
@model_options
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random seed for weights and input.",
)
@click.option("--batch", type=click.IntRange(1, 4096), default=1, show_default=True, help="Batch size.")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float32",
    show_default=True,
    help="Floating-point type of the run.",
)
@click.option(
    "--max-memory",
    type=SizeType(),
    default="2GiB",
    show_default=True,
    metavar="SIZE",
    help="Refuse runs whose estimated peak memory is larger (e.g. 512MiB, 4GiB).",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON)
@width_option
def verify(
    model_args: ModelArgs,
    seed: int,
    batch: int,
    dtype: str,
    max_memory: int,
    fmt: str,
    width: int | None,
) -> None:
    """Run the NumPy executor on random tensors and compare with the formulas.

    For each layer: predicted vs real output shape, predicted vs real parameter count, and the
    largest difference from a naive loop reference (on small layers). Exit 0 when all match,
    1 on any mismatch, 2 on bad input or when the run would exceed --max-memory.

    \b
    Examples:
      cnncalc verify --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc verify --convention pytorch --input 3x32x32 conv:8,3,2,1,dilation=2 maxpool:3,2,ceil_mode=true
    """
    refuse_width(width, fmt)
    from .numeric.verify import run_seconds
    from .numeric.verify import verify as run_verify
    from .render.documents import verify_json, verify_table

    result = model_args.summarize()
    from .render.console import progress_bar

    # About a second of numpy work or more: worth a progress bar.
    with progress_bar(len(result.layers), run_seconds(result, batch) >= PROGRESS_SECONDS) as advance:
        report = run_verify(
            result, batch=batch, dtype=dtype, seed=seed, max_memory=max_memory, progress=advance
        )
    if fmt == "json":
        click.echo(verify_json(report), nl=False)
    else:
        emit(verify_table(report), width)
    if not report.ok:
        bad = next(row for row in report.rows if not row.ok)
        _error(f"verify: layer {bad.name} ({bad.class_name}): {bad.message}")
        sys.exit(1)


@cli.command()
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "junit"]),
    default="table",
    show_default=True,
    help="Report format (junit: JUnit XML for CI systems).",
)
@click.option(
    "--update",
    is_flag=True,
    help="Rewrite each spec file's snapshot expectations with the current figures (budgets are "
    "kept; the layout is --format json's, one layer per line); every change is listed on stderr. "
    "Not for '-'.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Let a spec with no expectations pass [default: it is an error, exit 2].",
)
@width_option
def check(specs: tuple[str, ...], fmt: str, update: bool, allow_empty: bool, width: int | None) -> None:
    """Check spec files against their expectations (a CI gate).

    SPEC is a JSON spec file, a glob such as 'models/*.json', or '-' for standard input.
    Expectations are the result fields that `summary --format json` writes and an optional
    "expect" object (output_shape, total_params, per-layer shapes/params, max_params, max_macs,
    max_activation_bytes). Exit 0 when all pass, 1 when any differs, 2 when a spec cannot be
    read or computed, or has nothing to check (the others are still checked).

    \b
    Examples:
      cnncalc summary --input 32x32x3 conv:8,3 maxpool:2 --format json > model.json
      cnncalc check model.json
      cnncalc check 'models/*.json' --format junit > cnncalc.xml
    """
    refuse_width(width, fmt)
    from .check import run_checks
    from .render.documents import check_json, check_junit, check_report, update_lines

    run = run_checks(specs, update=update, allow_empty=allow_empty)
    if run.not_updated:
        _error(run.not_updated)
    by_source: dict[str, list[Any]] = {}
    for source, change in run.updates:
        by_source.setdefault(source, []).append(change)
    for source, changes in by_source.items():
        for line in update_lines(source, changes):
            click.echo(line, err=True)
    results = list(run.results)
    if fmt == "json":
        click.echo(check_json(results), nl=False)
    elif fmt == "junit":
        click.echo(check_junit(results), nl=False)
    else:
        # soft_wrap: one line per spec, never wrapped, so CI logs keep paths and messages whole.
        emit(check_report(results), width, soft_wrap=True)
    for result in results:
        if result.error:  # diagnostics also on stderr, one line per unreadable spec
            _error(result.error)
    if any(result.empty and result.error for result in results):
        click.echo("Hint: --allow-empty lets a spec with nothing to check pass", err=True)
    sys.exit(run.exit_code)


#: Estimated seconds above which verify shows a progress bar (MACs, elements, Python steps).
PROGRESS_SECONDS = 1.0


@cli.command()
@format_option(OutputFormat.TABLE, OutputFormat.JSON)
@width_option
def models(fmt: str, width: int | None) -> None:
    """List the built-in zoo: each network's input, parameters and MACs (and the published count).

    \b
    Examples:
      cnncalc models
      cnncalc summary --model vgg16
      cnncalc verify --model resnet18 --input 3x64x64
    """
    refuse_width(width, fmt)
    import json

    from . import zoo
    from .engine import summarize
    from .io import loads
    from .render.table import models_json, models_table

    entries = []
    for name in zoo.names():
        text = zoo.load(name)
        entries.append((name, json.loads(text), summarize(loads(text, f"model {name}"))))
    if fmt == "json":
        click.echo(models_json(entries), nl=False)
    else:
        emit(models_table(entries), width)


@cli.group()
def solve() -> None:
    """Inverse questions: the input sizes a network accepts, the layer that maps N to M.

    \b
    Examples:
      cnncalc solve sizes --model resnet50
      cnncalc solve layer --input 224 --output 112 --kernel 3
    """


@solve.command("sizes")
@model_options
@click.option(
    "--free-dense",
    is_flag=True,
    help="Let a Dense layer after Flatten follow the input size (as summary does) instead of "
    "keeping the input features it has at the spec's input.",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@width_option
def solve_sizes(model_args: ModelArgs, free_dense: bool, fmt: str, width: int | None) -> None:
    """The exact input sizes, per spatial axis, for which the whole network is valid.

    Derived from the layer formulas, not sampled: windows need enough input, merges need equal
    sizes, Flatten+Dense fix the size. The spec's input gives the channels (and the sizes of the
    axes that Flatten or Reshape tie together); with --input, the nearest valid sizes to it are
    shown. Exit 0 when some size works, 1 when none does (the reason is printed).

    \b
    Examples:
      cnncalc solve sizes --model resnet50
      cnncalc solve sizes --input 100x100x1 -f unet.json
      cnncalc solve sizes --input 32x32x1 conv:8,3 maxpool:2 conv:8,3 --format json
    """
    refuse_width(width, fmt)
    from .render.solve import sizes_json, sizes_markdown, sizes_table
    from .solve import solve_sizes as run_solve

    solution = run_solve(
        model_args.spec(),
        input_shape=model_args.input_shape,
        convention=model_args.convention,
        data_format=model_args.data_format,
        fixed_dense=not free_dense,
    )
    near = model_args.input_shape is not None
    if fmt == "json":
        click.echo(sizes_json(solution), nl=False)
    elif fmt == "markdown":
        click.echo(sizes_markdown(solution, near), nl=False)
    else:
        emit(sizes_table(solution, near), width)
    if not solution.valid:
        sys.exit(1)


class SizesType(click.ParamType):
    """``SIZES``: spatial sizes, ``224`` or ``224x160``."""

    name = "sizes"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        from .layers.args import shape

        flag = f"--{param.name}" if param is not None and param.name else "sizes"
        return value if isinstance(value, tuple) else shape(value, flag)


@solve.command("layer")
@click.option(
    "-i",
    "--input",
    "input_size",
    type=SizesType(),
    required=True,
    metavar="SIZES",
    help="Input spatial size(s), e.g. 224 or 224x160.",
)
@click.option(
    "-o",
    "--output",
    "output_size",
    type=SizesType(),
    required=True,
    metavar="SIZES",
    help="Wanted output spatial size(s), e.g. 112 or 112x80.",
)
@click.option(
    "--kind",
    type=click.Choice(["conv", "pool", "transposed"]),
    default="conv",
    show_default=True,
    help="Convolution, pooling or transposed convolution.",
)
@click.option("--kernel", type=SizesType(), default=None, metavar="SIZES", help="Fix the kernel size.")
@click.option("--stride", type=SizesType(), default=None, metavar="SIZES", help="Fix the stride.")
@click.option("--dilation", type=SizesType(), default=None, metavar="SIZES", help="Fix the dilation.")
@click.option(
    "--convention",
    type=_choice(Convention),
    default="keras",
    show_default=True,
    help="Keras: padding valid/same; PyTorch: integer padding, output_padding, ceil_mode.",
)
@click.option(
    "--filters",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="Output channels written into the specs and constructor calls.",
)
@click.option(
    "--channels",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Input channels written into the PyTorch constructor calls.",
)
@click.option(
    "--pool",
    type=click.Choice(["max", "avg"]),
    default="max",
    show_default=True,
    help="Pooling operation for --kind pool.",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=20,
    show_default=True,
    help="Show at most this many (0: all; JSON always has all).",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN)
@width_option
def solve_layer(
    input_size: tuple[int, ...],
    output_size: tuple[int, ...],
    kind: str,
    kernel: tuple[int, ...] | None,
    stride: tuple[int, ...] | None,
    dilation: tuple[int, ...] | None,
    convention: str,
    filters: int,
    channels: int,
    pool: str,
    limit: int,
    fmt: str,
    width: int | None,
) -> None:
    """Every layer configuration that maps the input size to the output size, simplest first.

    Free parameters are searched within small bounds (kernel 1..7, stride 1..4, dilation 1..3,
    padding 0..F_eff-1, pools 0..kernel//2, output_padding below the stride); each answer is a
    ready-to-paste layer spec and the Keras and PyTorch constructor calls (across conventions,
    the shape-equivalent construction). Exit 1 when nothing maps the input to the output; the
    nearest reachable outputs are shown.

    \b
    Examples:
      cnncalc solve layer --input 224 --output 112 --kernel 3
      cnncalc solve layer --input 224x160 --output 112x80 --convention pytorch
      cnncalc solve layer --input 7 --output 14 --kind transposed --kernel 3 --stride 2 --convention pytorch
    """
    refuse_width(width, fmt)
    from .render.solve import layer_json, layer_markdown, layer_table
    from .solve import solve_layer as run_solve

    solution = run_solve(
        input_size,
        output_size,
        kind=kind,
        convention=convention,
        kernel=kernel,
        stride=stride,
        dilation=dilation,
        filters=filters,
        channels=channels,
        pool=pool,
    )
    shown = None if limit == 0 else limit
    if fmt == "json":
        click.echo(layer_json(solution), nl=False)
    elif fmt == "markdown":
        click.echo(layer_markdown(solution, shown), nl=False)
    else:
        emit(layer_table(solution, shown), width)
    if not solution.choices:
        sys.exit(1)


@cli.command()
@click.argument("names", nargs=-1, metavar="[KIND]...")
def kinds(names: tuple[str, ...]) -> None:
    """List the layer kinds and aliases a spec may use; with KIND, its arguments.

    Arguments are listed in positional order (the compact grammar's, the Keras constructor's),
    each with its default; those without one are required.

    \b
    Examples:
      cnncalc kinds
      cnncalc kinds conv maxpool
    """
    from .io.spec import resolve_kind
    from .layers import ACTIVATION_KINDS, ALIASES, KINDS

    def aliases_of(kind: Any) -> list[str]:
        return sorted(a for a, t in ALIASES.items() if t == kind.type and a != kind.type)

    if not names:
        for kind in KINDS:
            aliases = aliases_of(kind)
            extra = f"  (aliases: {', '.join(aliases)})" if aliases else ""
            click.echo(f"{kind.type:20} {kind.class_name}{extra}")
        click.echo(f"{'activation names':20} {', '.join(sorted(ACTIVATION_KINDS))}  (= activation:NAME)")
        click.echo("`cnncalc kinds KIND` lists a kind's arguments.")
        return
    for i, name in enumerate(names):
        kind, preset = resolve_kind(name)
        aliases = aliases_of(kind)
        if i:
            click.echo("")
        click.echo(
            f"{kind.type} ({kind.class_name})" + (f"  aliases: {', '.join(aliases)}" if aliases else "")
        )
        if preset:
            click.echo(f"  = {kind.type} with {', '.join(f'{k}={v}' for k, v in preset.items())}")
        signature = [s for s in kind.signature() if s[0] not in preset]
        if not signature:
            click.echo("  no arguments")
        for position, (arg, alias, default) in enumerate(signature, 1):
            also = f" (also {', '.join(alias)})" if alias else ""
            given = "required" if default is None else f"default {default}"
            click.echo(f"  {position}. {arg}{also}: {given}")


def main() -> None:
    """Entry point (``python -m cnncalc``; the console script starts in :mod:`cnncalc._launch`)."""
    cli()
