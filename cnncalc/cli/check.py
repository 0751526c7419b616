"""``cnncalc check``: spec files against their expectations (the CI gate)."""

from __future__ import annotations

from typing import Any

import click

from .failures import error
from .options import (
    emit,
    refuse_width,
    width_option,
)


@click.command()
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
    from ..check import run_checks
    from ..io.files import write_atomic
    from ..render.documents import check_json, check_junit, check_report, update_lines

    run = run_checks(specs, update=update, allow_empty=allow_empty, write=write_atomic)
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
    for result in results:
        if result.error:  # diagnostics also on stderr, one line per unreadable spec
            error(result.error)
    if any(result.empty and result.error for result in results):
        click.echo("Hint: --allow-empty lets a spec with nothing to check pass", err=True)
    click.get_current_context().exit(run.exit_code)
