"""The ``cnncalc`` command line: parse options, call the library, render, map errors to exit codes.

No arithmetic lives here. Exit codes: 0 success, 1 a check/verify difference, 2 bad input
(any :class:`~cnncalc.errors.CnncalcError` or Click usage error), 3 an internal error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from . import __version__
from .errors import CnncalcError, SpecError
from .options import DTYPE_BYTES, KERAS_COLUMNS, Column, Convention, Count, DataFormat, OutputFormat

#: Refuse larger spec files instead of reading gigabytes (documented in docs/spec.md).
MAX_SPEC_BYTES = 64 * 1024 * 1024


class CnncalcGroup(click.Group):
    """A group whose every failure is one line on stderr with a meaningful exit code."""

    def main(
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as err:
            _error(err.format_message())
            code = err.exit_code
        except CnncalcError as err:
            _error(str(err))
            code = 2
        except click.Abort:
            _error("aborted")
            code = 1
        except KeyboardInterrupt:
            _error("interrupted")
            code = 130
        except BrokenPipeError:
            # The reader (e.g. `head`) went away; nothing left to say to it.
            sys.stderr.close()
            code = 1
        except Exception as err:  # noqa: BLE001 - a bug must still not print a traceback to users
            if os.environ.get("CNNCALC_DEBUG"):
                raise
            _error(
                f"internal error: {type(err).__name__}: {err} (please report it; "
                "set CNNCALC_DEBUG=1 for the traceback)"
            )
            code = 3
        sys.exit(code if isinstance(code, int) else 0)


def _error(message: str) -> None:
    click.echo("Error: " + " ".join(str(message).split()), err=True)


def _choice(enum: Any) -> click.Choice:
    return click.Choice(enum.values(), case_sensitive=False)


@dataclass(frozen=True, eq=False)  # records, never compared: cheaper to define
class ModelArgs:
    """The shared model inputs of summary/explain/verify, as given on the command line."""

    layers: tuple[str, ...]
    spec_file: str | None
    model: str | None
    input_shape: str | None
    convention: str | None
    data_format: str | None

    def spec(self) -> Any:
        """The Spec from exactly one source: LAYER arguments, -f SPEC or --model NAME."""
        from . import spec as S

        given = [name for name, value in (("LAYER arguments", self.layers), ("-f", self.spec_file),
                                          ("--model", self.model)) if value]  # fmt: skip
        if len(given) > 1:
            raise SpecError(
                f"give one of LAYER arguments, -f SPEC or --model NAME, not {' and '.join(given)}"
            )
        if self.spec_file:
            return S.loads(read_text(self.spec_file), "<stdin>" if self.spec_file == "-" else self.spec_file)
        if self.model:
            from . import zoo

            return S.loads(zoo.load(self.model), f"model {self.model}")
        if self.layers:
            return S.from_layers(self.layers)
        raise SpecError("no layers: give LAYER arguments (e.g. conv:16,3), -f SPEC.json or --model NAME")

    def summarize(self, dtype: str | None = None) -> Any:
        """Parse and compute the Summary (command-line settings override the spec's)."""
        from .summary import summarize
        from .values import shape

        given = shape(self.input_shape, "--input") if self.input_shape is not None else None
        return summarize(self.spec(), input_shape=given, convention=self.convention, data_format=self.data_format,
                         dtype=dtype)  # fmt: skip


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """LAYER..., -i/--input, -f/--file, -m/--model, --convention, --data-format: passed to the
    command as one ``model_args`` (:class:`ModelArgs`)."""

    @functools.wraps(func)
    def wrapper(layers: tuple[str, ...], spec_file: str | None, model: str | None, input_shape: str | None,
                convention: str | None, data_format: str | None, **kwargs: Any) -> Any:  # fmt: skip
        return func(ModelArgs(layers, spec_file, model, input_shape, convention, data_format), **kwargs)

    decorators = [
        click.argument("layers", nargs=-1, metavar="[LAYER]..."),
        click.option("-i", "--input", "input_shape", metavar="SHAPE",
                     help="Input shape without the batch axis, e.g. 200x200x1 (H x W x C) or 1x28x28 (C x H x W)."),
        click.option("-f", "--file", "spec_file", metavar="SPEC",
                     help="Read a JSON spec from a file, or from standard input with '-'."),
        click.option("-m", "--model", "model", metavar="NAME",
                     help="A network from the built-in zoo (`cnncalc models` lists them), e.g. vgg16, resnet50."),
        click.option("--convention", type=_choice(Convention), default=None,
                     help="Whose shape rules apply where Keras and PyTorch differ [default: the spec's, else keras]."),
        click.option("--data-format", type=_choice(DataFormat), default=None,
                     help="channels_last (H x W x C) or channels_first (C x H x W) "
                     "[default: the spec's, else keras: channels_last, pytorch: channels_first]."),
    ]  # fmt: skip
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
    return click.option("-o", "--output", metavar="FILE", default=None,
                        help="Write to FILE instead of standard output.")(func)  # fmt: skip


def write_output(text: str, output: str | None) -> None:
    """Text to standard output, or to a file (an unwritable file is bad input, exit 2)."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise SpecError(f"cannot write {output}: {err.strerror or err}") from None
    click.echo(f"wrote {output}", err=True)


def read_text(path: str) -> str:
    """A spec file's text ('-' is standard input); unreadable files are a SpecError."""
    if path == "-":
        text = sys.stdin.read(MAX_SPEC_BYTES + 1)
        name = "<stdin>"
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(MAX_SPEC_BYTES + 1)
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or str(err)
            raise SpecError(f"cannot read {path}: {reason}") from None
        name = path
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"{name} is larger than {MAX_SPEC_BYTES // 2**20} MiB")
    return text


def stdout_console() -> Any:
    """A Rich console on stdout (plain text when not a terminal or NO_COLOR is set)."""
    from rich.console import Console

    return Console(soft_wrap=False, emoji=False, highlight=False)


@click.group(cls=CnncalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def cli() -> None:
    """Shapes, parameters and costs of CNN layers, from a one-line spec or a JSON file.

    \b
    Example:
      cnncalc summary --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
    """


def dtype_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--dtype`` for the memory figures."""
    return click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
                        help="Element type of the memory figures [default: the spec's, else float32].")(func)  # fmt: skip


def view_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--columns``, ``--all``, ``--count``, ``--bias-macs``: what a table shows."""
    decorators = [
        click.option("--columns", metavar="LIST",
                     help=f"Comma-separated columns: {','.join(Column.values())} [default: shape,params, as Keras]."),
        click.option("--all", "all_columns", is_flag=True, help="Show every column and the cost and memory totals."),
        click.option("--count", type=_choice(Count), default="macs", show_default=True,
                     help="Cost column: multiply-accumulates or FLOPs (2*MACs + bias adds + elementwise ops)."),
        click.option("--bias-macs", is_flag=True, help="Count bias additions in MACs (torchinfo/ptflops style)."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def make_view(columns: str | None, all_columns: bool, count: str, bias_macs: bool) -> Any:
    """The render View from the view options; unknown column names are bad input."""
    from .render import ALL_COLUMNS, View

    if all_columns:
        chosen = ALL_COLUMNS
    elif columns:
        chosen = tuple(Column.parse(name, "--columns entry") for name in columns.split(",") if name.strip())
    else:
        chosen = KERAS_COLUMNS
    return View(columns=chosen, count=Count.parse(count, "--count"), bias_macs=bias_macs)


@cli.command()
@model_options
@dtype_option
@view_options
@format_option(
    OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN, OutputFormat.CSV, OutputFormat.HTML
)
@output_option
def summary(model_args: ModelArgs, dtype: str | None, columns: str | None, all_columns: bool, count: str,
            bias_macs: bool, fmt: str, output: str | None) -> None:  # fmt: skip
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
    """
    from . import render

    view = make_view(columns, all_columns, count, bias_macs)
    result = model_args.summarize(dtype)
    if fmt == "table" and output is None:
        stdout_console().print(render.summary_table(result, view))
        return
    if fmt == "table":
        text = render.plain_table(result, view)
    elif fmt == "markdown":
        text = render.to_markdown(result, view)
    elif fmt == "html":
        text = render.html_report(result, view)
    else:
        text = {"json": render.to_json, "csv": render.to_csv}[fmt](result)
    write_output(text, output)


@cli.command()
@model_options
@output_option
def diagram(model_args: ModelArgs, output: str | None) -> None:
    """Draw the network as an SVG: one box per activation volume, scaled by its shape.

    Height, width and channels set each box's height, depth and thickness (log-scaled);
    vectors are bars; kernels are hinted on the volume they slide over; branches stand side
    by side. Pure Python, deterministic output.

    \b
    Examples:
      cnncalc diagram --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same -o model.svg
      cnncalc diagram --model vgg16 -o vgg16.svg
    """
    from .diagram import to_svg

    write_output(to_svg(model_args.summarize()), output)


@cli.command()
@model_options
@format_option(OutputFormat.TABLE, OutputFormat.MARKDOWN)
def explain(model_args: ModelArgs, fmt: str) -> None:
    """Show each layer's formulas with the numbers substituted, step by step.

    Output lengths under the rule in force (Keras same/valid, PyTorch padding and ceil_mode,
    dilation), parameters, MACs and the receptive field. Colour on a terminal, plain text when
    piped, --format markdown for notes.

    \b
    Examples:
      cnncalc explain --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same
      cnncalc explain --convention pytorch --input 3x112x112 maxpool:3,2,ceil_mode=true --format markdown
    """
    from . import render
    from .explain import explain as build

    result = model_args.summarize()
    explanations = build(result)
    if fmt == "markdown":
        click.echo(render.explain_markdown(result, explanations), nl=False)
    else:
        stdout_console().print(render.explain_text(result, explanations))


@cli.command()
@model_options
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for weights and input.")
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
    default="2GiB",
    show_default=True,
    metavar="SIZE",
    help="Refuse runs whose estimated peak memory is larger (e.g. 512MiB, 4GiB).",
)
@format_option(OutputFormat.TABLE, OutputFormat.JSON)
def verify(
    model_args: ModelArgs,
    seed: int,
    batch: int,
    dtype: str,
    max_memory: str,
    fmt: str,
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
    from . import render
    from .verify import parse_bytes, run_macs
    from .verify import verify as run_verify

    result = model_args.summarize()
    limit = parse_bytes(max_memory)
    with progress_bar(len(result.layers), run_macs(result, batch)) as advance:
        report = run_verify(result, batch=batch, dtype=dtype, seed=seed, max_memory=limit, progress=advance)
    if fmt == "json":
        click.echo(render.verify_json(report), nl=False)
    else:
        stdout_console().print(render.verify_table(report))
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
    help="Rewrite each spec's snapshot expectations with the current figures (budgets are kept); "
    "every change is listed on stderr.",
)
def check(specs: tuple[str, ...], fmt: str, update: bool) -> None:
    """Check spec files against their expectations (a CI gate).

    SPEC is a JSON spec file, a glob such as 'models/*.json', or '-' for standard input.
    Expectations are the result fields that `summary --format json` writes and an optional
    "expect" object (output_shape, total_params, per-layer shapes/params, max_params, max_macs,
    max_activation_bytes). Exit 0 when all pass, 1 when any differs, 2 when a spec cannot be
    read or computed (the others are still checked).

    \b
    Examples:
      cnncalc summary --input 32x32x3 conv:8,3 maxpool:2 --format json > model.json
      cnncalc check model.json
      cnncalc check 'models/*.json' --format junit > cnncalc.xml
    """
    import glob

    from . import render
    from .check import CheckResult, check_text, updated_document

    results = []
    for source in expand_specs(specs):
        if source != "-" and glob.has_magic(source) and not os.path.exists(source):
            results.append(CheckResult(source, error=f"no file matches {source}"))
            continue
        try:
            text = read_text(source)
        except CnncalcError as err:
            results.append(CheckResult(source, error=str(err)))
            continue
        if update and source != "-":
            try:
                new_text, changes = updated_document(text, source)
            except CnncalcError:
                pass  # reported by the check below
            else:
                if changes:
                    with open(source, "w", encoding="utf-8") as handle:
                        handle.write(new_text)
                for change in changes:
                    click.echo(render.update_text(source, change), err=True)
                text = new_text
        results.append(check_text(text, "<stdin>" if source == "-" else source))
    if fmt == "json":
        click.echo(render.check_json(results), nl=False)
    elif fmt == "junit":
        click.echo(render.check_junit(results), nl=False)
    else:
        # soft_wrap: one line per spec, never wrapped, so CI logs keep paths and messages whole.
        stdout_console().print(render.check_report(results), soft_wrap=True)
    for result in results:
        if result.error:  # diagnostics also on stderr, one line per unreadable spec
            _error(result.error)
    statuses = {r.status for r in results}
    sys.exit(2 if "error" in statuses else 1 if "fail" in statuses else 0)


def expand_specs(specs: tuple[str, ...]) -> list[str]:
    """Spec arguments with globs expanded (sorted); a glob matching nothing stays, to be reported."""
    import glob

    out: list[str] = []
    for spec in specs:
        if spec != "-" and glob.has_magic(spec):
            out.extend(sorted(glob.glob(spec, recursive=True)) or [spec])
        else:
            out.append(spec)
    return out


#: MACs (times batch) above which verify shows a progress bar: about a second of numpy work.
PROGRESS_MACS = 2 * 10**9


@contextmanager
def progress_bar(total: int, work: int) -> Iterator[Callable[[int], None]]:
    """A transient Rich progress bar on stderr for long runs on a terminal; a no-op otherwise."""
    if work < PROGRESS_MACS or not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verifying", total=total)
        yield lambda done: bar.update(task, completed=done)


@cli.command()
@format_option(OutputFormat.TABLE, OutputFormat.JSON)
def models(fmt: str) -> None:
    """List the built-in zoo: each network's input, parameters and MACs (and the published count).

    \b
    Examples:
      cnncalc models
      cnncalc summary --model vgg16
      cnncalc verify --model resnet18 --input 3x64x64
    """
    import json

    from . import render, zoo
    from .spec import loads
    from .summary import summarize

    entries = []
    for name in zoo.names():
        text = zoo.load(name)
        entries.append((name, json.loads(text), summarize(loads(text, f"model {name}"))))
    if fmt == "json":
        click.echo(render.models_json(entries), nl=False)
    else:
        stdout_console().print(render.models_table(entries))


@cli.command()
def kinds() -> None:
    """List the layer kinds and aliases a spec may use.

    \b
    Example:
      cnncalc kinds
    """
    from .registry import ACTIVATION_KINDS, ALIASES, KINDS

    for kind in KINDS:
        aliases = sorted(a for a, t in ALIASES.items() if t == kind.type and a != kind.type)
        extra = f"  (aliases: {', '.join(aliases)})" if aliases else ""
        click.echo(f"{kind.type:20} {kind.class_name}{extra}")
    click.echo(f"{'activation names':20} {', '.join(sorted(ACTIVATION_KINDS))}  (= activation:NAME)")


def main() -> None:
    """Console-script entry point."""
    cli()
