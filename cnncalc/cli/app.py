"""The ``cnncalc`` command group: its commands, and the one place a run becomes an exit code.

Each command lives in a module of its own (``cnncalc/cli/<command>.py``, loaded when it runs) and
only parses options,
calls the library and renders; what a failure prints and which code it exits with is decided
once, by the exception's class (:mod:`cnncalc.cli.failures`).
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import click

from .. import __version__
from .failures import ClosedOutput, Interrupted, PipeClosed, carried, exit_code_for, flush_stdout


class CnncalcGroup(click.Group):
    """A group whose every failure is one line on stderr with a meaningful exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, its module imported on first use: a run loads only the command it runs
        (start-up time), while ``--help`` and completion still list them all."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"{__package__}.{COMMANDS[cmd_name]}")
            self.add_command(getattr(module, cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with carried():  # `cnncalc --help | head` writes while the context is made
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with carried():
            return super().invoke(ctx)

    def main(
        self,
        args: Any = None,
        prog_name: Any = None,
        complete_var: Any = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; the exit code is returned (``standalone_mode=False``, the
        launcher's way) or raised as ``SystemExit`` (Click's standalone mode, as CliRunner calls it)."""
        # The cyclic garbage collector only slows a one-shot process whose data is acyclic (its
        # full collections grow with the live objects: 100,000 layers took 1.7x longer with it).
        collecting = gc.isenabled()
        gc.disable()
        if sys.stdout is None:  # started with stdout closed (>&-): writing it is an error, not a no-op
            sys.stdout = ClosedOutput()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            flush_stdout()
        except click.exceptions.NoArgsIsHelpError as err:
            # Bare `cnncalc` (or a group without its command): the help, on stdout, as success.
            click.echo(err.ctx.get_help() if err.ctx else self.get_help(click.Context(self)))
            code = 0
        except (Exception, KeyboardInterrupt, Interrupted, PipeClosed) as err:
            code = exit_code_for(err)
        finally:
            if collecting:  # in-process callers (tests, notebooks) get their collector back
                gc.enable()
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            raise SystemExit(code)
        return code


@click.group(name="cnncalc", cls=CnncalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnncalc")
def cli() -> None:
    """Shapes, parameters and costs of CNN layers, from a one-line spec or a JSON file.

    \b
    Example:
      cnncalc summary --input 200x200x1 conv:16,2,2,valid conv:32,3,padding=same

    \b
    `cnncalc help COMMAND` (or COMMAND --help): its options and examples.
    Shell completion (bash; zsh and fish in docs/cli.md):
      eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)"
    """


#: Command name -> the module under cnncalc/cli/ that defines it (as an attribute of that name).
COMMANDS = {
    "check": "check",
    "counters": "counters",
    "diagram": "diagram",
    "explain": "explain",
    "export": "export",
    "help": "help",
    "kinds": "kinds",
    "memory": "memory",
    "models": "models",
    "solve": "solve",
    "summary": "summary",
    "verify": "verify",
}


def all_commands() -> dict[str, click.Command]:
    """Every command by name, each module loaded (help pages, docs, tests)."""
    ctx = click.Context(cli)
    found = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    return {name: command for name, command in found.items() if command is not None}


def main() -> int:
    """Run the command line on ``sys.argv`` and return the exit code (the launcher exits with it)."""
    code: int = cli.main(standalone_mode=False)
    return code
