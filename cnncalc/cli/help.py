"""``cnncalc help [COMMAND]``: the same page as ``cnncalc COMMAND --help``."""

from __future__ import annotations

import click


@click.command(short_help="Help on a command (= COMMAND --help).")
@click.argument("words", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def help(ctx: click.Context, words: tuple[str, ...]) -> None:  # noqa: A001 - the command's name
    """Show the help of a command (`cnncalc help solve layer` = `cnncalc solve layer --help`).

    \b
    Examples:
      cnncalc help
      cnncalc help summary
      cnncalc help solve layer
    """
    top = ctx.find_root()
    command: click.Command = top.command
    path = [top.info_name or "cnncalc"]
    parent = top
    for word in words:
        sub = command.get_command(parent, word) if isinstance(command, click.Group) else None
        if sub is None:
            raise click.UsageError(f"no such command: {' '.join([*path[1:], word])}", ctx)
        parent = click.Context(sub, info_name=word, parent=parent)
        command, path = sub, [*path, word]
    click.echo((parent if words else top).get_help())
