"""Write docs/cli.md from the commands' own ``--help`` (the docs test checks it is current).

Run after changing a command or option: ``python tools/make_cli_docs.py``.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cnncalc.cli import all_commands, cli

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "cli.md"


def help_text(*args: str) -> str:
    """A command's --help as a user sees it (no colour, 100 columns)."""
    result = CliRunner().invoke(cli, [*args, "--help"], env={"NO_COLOR": "1", "COLUMNS": "100"})
    return result.stdout.rstrip()


def cli_reference() -> str:
    """The whole page."""
    parts = [
        "# CLI reference",
        "",
        "Generated from `--help`; see the other pages in `docs/` for details.",
        "",
    ]
    parts += ["## cnncalc", "", "```", help_text(), "```", ""]
    commands = all_commands()
    for name in sorted(commands):
        parts += [f"## cnncalc {name}", "", "```", help_text(name), "```", ""]
        group = commands[name]
        for sub in sorted(getattr(group, "commands", {})):
            parts += [f"## cnncalc {name} {sub}", "", "```", help_text(name, sub), "```", ""]
    parts += [
        "## Exit codes",
        "",
        "| code | meaning |",
        "|---|---|",
        "| 0 | success |",
        "| 1 | `check` / `verify` found a difference; `solve` found no size or no layer |",
        "| 2 | bad input: malformed spec, unknown layer or key, impossible shape, bad JSON, unreadable file |",
        "| 3 | internal error (a bug: please report it; `CNNCALC_DEBUG=1` shows the traceback) |",
        "",
        "Errors are one line on standard error, naming the layer (1-based index and its spec) and the reason.",
        "Mistakes in the command line itself keep Click's `Usage:` and `Try 'cnncalc ... -h' for help.` lines",
        "above the `Error:` line. Bare `cnncalc` prints the help above and exits 0.",
        "",
        "## Output width",
        "",
        "Tables never split a number, a shape or a layer name. On a terminal they fit its width: first",
        "compact units (`1.85 G` for 1,849,688,064) and shorter headers, then the secondary columns",
        "(MACs, memory, receptive field, connections) in further tables that repeat the layer column,",
        "and only then layer names wrapped at their space. Written to a file or a pipe, output is as",
        "wide as its content, so `-o FILE` and `> FILE` give the same bytes. `--width N` fits N columns.",
        "",
        "## Shell completion",
        "",
        "Commands, options, choices and `--model` names complete in bash, zsh and fish (Click's completion):",
        "",
        "```bash",
        "# bash: in ~/.bashrc",
        'eval "$(_CNNCALC_COMPLETE=bash_source cnncalc)"',
        "# zsh: in ~/.zshrc",
        'eval "$(_CNNCALC_COMPLETE=zsh_source cnncalc)"',
        "# fish: in ~/.config/fish/completions/cnncalc.fish",
        "_CNNCALC_COMPLETE=fish_source cnncalc | source",
        "```",
        "",
        "`cnncalc summary --model res<TAB>` offers `resnet18` and `resnet50`.",
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    PAGE.write_text(cli_reference())
    print(f"wrote {PAGE.relative_to(ROOT)}")
