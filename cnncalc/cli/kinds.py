"""``cnncalc kinds``: the layer kinds and their arguments."""

from __future__ import annotations

from typing import Any

import click


@click.command(short_help="The layer kinds and their arguments.")
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
    from ..io.spec import resolve_kind
    from ..layers import ACTIVATION_KINDS, ALIASES, KINDS

    def aliases_of(kind: Any) -> list[str]:
        return sorted(a for a, t in ALIASES.items() if t == kind.type and a != kind.type)

    if not names:
        pad = max(len("activation names"), *(len(kind.type) for kind in KINDS)) + 1
        for kind in KINDS:
            aliases = aliases_of(kind)
            extra = f"  (aliases: {', '.join(aliases)})" if aliases else ""
            click.echo(f"{kind.type:{pad}} {kind.class_name}{extra}")
        click.echo(f"{'activation names':{pad}} {', '.join(sorted(ACTIVATION_KINDS))}  (= activation:NAME)")
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
