"""Options shared by several commands (defined once, as decorators), and how output is written."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from .types import ColumnsType, ConventionChoice, ShapeType, choice, complete_model

if TYPE_CHECKING:
    from ..io.spec import Spec
    from ..render.table import View
    from ..summary import Summary


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
        from ..io.model_source import ModelSource

        return ModelSource(
            layers=self.layers,
            file=self.spec_file,
            model=self.model,
            input_shape=self.input_shape,
            convention=self.convention,
            source_format=self.source_format,
            model_name=self.model_name,
        ).spec()

    def summarize(self, dtype: str | None = None) -> Summary:
        """Parse and compute the Summary (command-line settings override the spec's)."""
        from ..engine import summarize

        spec = self.spec()
        result = summarize(
            spec,
            input_shape=self.input_shape,
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
        "-o", "--output", metavar="FILE", default=None, help="Write to FILE instead of standard output."
    )
    return option(func)


def write_output(text: str, output: str | None) -> None:
    """Text to standard output, or to a file replaced whole or not at all (an unwritable file is
    bad input, exit 2)."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    from ..io.files import write_atomic

    write_atomic(output, text)
    click.echo(f"wrote {output}", err=True)


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
    from ..render.console import to_text

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
    ".json": OutputFormat.JSON,
    ".md": OutputFormat.MARKDOWN,
    ".markdown": OutputFormat.MARKDOWN,
    ".csv": OutputFormat.CSV,
    ".html": OutputFormat.HTML,
    ".htm": OutputFormat.HTML,
}


def format_for_output(fmt: str, output: str | None, allowed: tuple[OutputFormat, ...]) -> str:
    """The format to write: the ``-o`` file's ending chooses it when ``--format`` was not given
    (``-o r.html`` writes the HTML report); a ``--format`` that contradicts a known ending is a
    usage error rather than HTML text in a ``.json`` file."""
    if output is None or output == "-":
        return fmt
    import os

    wanted = ENDINGS.get(os.path.splitext(output)[1].lower())
    if wanted is None:
        return fmt
    ctx = click.get_current_context(silent=True)
    given = ctx is not None and ctx.get_parameter_source("fmt") is click.core.ParameterSource.COMMANDLINE
    if not given:
        if wanted not in allowed:
            raise click.UsageError(
                f"-o {output}: this command does not write {wanted.value}; give --format "
                f"({', '.join(f.value for f in allowed)})",
                ctx,
            )
        return wanted.value
    if wanted.value != fmt:
        raise click.UsageError(
            f"--format {fmt} contradicts -o {output} (a {wanted.value} file's ending)", ctx
        )
    return fmt
