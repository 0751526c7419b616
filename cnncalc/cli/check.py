"""``cnncalc check``: spec files against their expectations (the CI gate)."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..enums import DATA_FORMAT_SYNONYMS, DataFormat, SourceFormat
from .failures import error
from .options import (
    ModelArgs,
    emit,
    refuse_width,
    width_option,
    with_trace_options,
)
from .types import ConventionChoice, ShapeType, choice


@click.command(short_help="Check spec files against their expectations (CI gate).")
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
@click.option(
    "--expect",
    "expect_path",
    metavar="FILE",
    default=None,
    help="Check one model (SPEC: model code, a saved .keras/.h5/.onnx model or a spec, read as -f "
    "reads it) against the snapshot/expectations in FILE: the gate that fails when the model's "
    "code changes. --update rewrites FILE.",
)
@click.option(
    "-i", "--input", "input_shape", type=ShapeType(), metavar="SHAPE", help="With --expect: the input shape."
)
@click.option(
    "--convention", type=ConventionChoice(), default=None, help="With --expect: whose shape rules apply."
)
@click.option(
    "--data-format",
    type=click.Choice([*DataFormat.values(), *DATA_FORMAT_SYNONYMS], case_sensitive=False),
    default=None,
    help="With --expect: channels_last or channels_first.",
)
@click.option(
    "--model-name", metavar="NAME", default=None, help="With --expect: which model of a Python file."
)
@click.option(
    "--from",
    "source_format",
    type=choice(SourceFormat),
    default=None,
    help="With --expect: the model file's format.",
)
@with_trace_options
@width_option
def check(
    specs: tuple[str, ...],
    fmt: str,
    update: bool,
    allow_empty: bool,
    expect_path: str | None,
    input_shape: tuple[int, ...] | None,
    convention: str | None,
    data_format: str | None,
    model_name: str | None,
    source_format: str | None,
    width: int | None,
    trace: bool = False,
    depth: int | None = None,
    custom_objects: str | None = None,
) -> None:
    """Check spec files against their expectations (a CI gate).

    SPEC is a JSON spec file, a glob such as 'models/*.json', or '-' for standard input.
    Expectations are the result fields that `summary --format json` writes and an optional
    "expect" object (output_shape, total_params, per-layer shapes/params, max_params, max_macs,
    max_activation_bytes). Exit 0 when all pass, 1 when any differs, 2 when a spec cannot be
    read or computed, or has nothing to check (the others are still checked).

    With --expect FILE, SPEC is one model (code such as net.py, a saved model, a spec) that is
    read afresh and checked against FILE, so the build fails when the code changes.

    \b
    Examples:
      cnncalc summary --input 32x32x3 conv:8,3 maxpool:2 --format json > model.json
      cnncalc check model.json
      cnncalc check 'models/*.json' --format junit > cnncalc.xml
      cnncalc summary -f net.py --input 3x32x32 --format json > net.cnncalc.json
      cnncalc check net.py --input 3x32x32 --expect net.cnncalc.json
    """
    refuse_width(width, fmt)
    settings = {
        "--input": input_shape,
        "--convention": convention,
        "--data-format": data_format,
        "--model-name": model_name,
        "--from": source_format,
    }
    given = [flag for flag, value in settings.items() if value is not None]
    if trace and expect_path is None:
        raise click.UsageError("check --trace needs --expect FILE (the snapshot the traced model must match)")
    if expect_path is None and given:
        code = next((s for s in specs if s.endswith(".py")), None)
        why = (
            f"model code is checked against a snapshot: cnncalc check {code} {given[0]} "
            f"{_spelled(settings[given[0]])} "
            f"--expect {code[:-3]}.cnncalc.json, see docs/ci.md"
            if code
            else "a spec file carries its own"
        )
        raise click.UsageError(f"{given[0]} goes with --expect FILE ({why})")
    if expect_path is not None and len(specs) != 1:
        raise click.UsageError(f"--expect checks one model, got {len(specs)} SPEC arguments")
    from ..check import run_checks
    from ..io.files import write_atomic
    from ..render.documents import check_json, check_junit, check_report, update_lines

    if expect_path is None:
        run = run_checks(specs, update=update, allow_empty=allow_empty, write=write_atomic)
    else:
        from ..check import check_model
        from ..io.model_source import ModelSource

        model: Any = ModelSource(
            file=specs[0],
            input_shape=input_shape,
            convention=convention,
            source_format=source_format,
            model_name=model_name,
        )
        if trace:  # issue 23: the model code traced now (MODULE:FACTORY: built by import path)
            import os

            by_path = ":" in specs[0] and not os.path.exists(specs[0])
            model = ModelArgs(
                layers=(),
                spec_file=None if by_path else specs[0],
                model=None,
                input_shape=input_shape,
                convention=convention,
                data_format=data_format,
                model_name=model_name,
                trace=not by_path,
                torch_target=specs[0] if by_path else None,
                depth=depth,
                custom_objects=custom_objects,
            )
        run = check_model(
            model.spec,
            specs[0],
            expect_path,
            settings={"input_shape": input_shape, "convention": convention, "data_format": data_format},
            update=update,
            write=write_atomic,
        )
    if run.not_updated:
        error(run.not_updated)
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
    # An unreadable spec is said once wherever it is read: the table's ERROR line says it, and
    # stderr says it too only when stderr goes somewhere else (the table in a file, the error on
    # the screen); a terminal, `2>&1` or `&> log` (one destination) gets it once. Beside a JSON or
    # JUnit document, which is for machines, it is always said on stderr for the person.
    said = fmt == "table" and _same_destination(sys.stdout, sys.stderr)
    for result in results:
        if result.error and not said:
            error(result.error)
    if any(result.empty and result.error and not result.model for result in results):  # model: --expect
        click.echo("Hint: --allow-empty lets a spec with nothing to check pass", err=True)
    click.get_current_context().exit(run.exit_code)


def _same_destination(out: Any, err: Any) -> bool:
    """True when both streams reach the same file, pipe or terminal (``2>&1``, ``&> log``, a
    terminal): what one says the reader of the other sees."""
    import os

    try:
        a, b = os.fstat(out.fileno()), os.fstat(err.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return bool(out.isatty() and err.isatty())


def _spelled(value: Any) -> str:
    """An option's value as it is typed: a shape as 3x32x32."""
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return "x".join(map(str, value))
    return str(value)
