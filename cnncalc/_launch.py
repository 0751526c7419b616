"""The ``cnncalc`` console script's entry point: Ctrl-C while the program loads exits 130 quietly.

The console script imports this module, which imports nothing heavy, and then loads the CLI
inside a ``try``: an interrupt during those imports (Click, Rich, the core: most of start-up)
is one line on stderr and exit 130, never a traceback. Only the interpreter's own start-up,
before any of cnncalc runs, is out of reach.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Load the CLI and run it; Ctrl-C while loading exits 130 without a traceback."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        try:
            sys.stderr.write("Error: interrupted\n")
            sys.stderr.flush()
        except (Exception, KeyboardInterrupt):  # noqa: BLE001 - nothing more to say; the code holds
            pass
        raise SystemExit(130) from None
    sys.exit(run())
