"""The ``cnncalc`` console script's entry point: Ctrl-C at any moment exits 130 quietly.

The console script imports this module (and so the package's ``__init__``, which imports
nothing), then everything of cnncalc's loads and runs inside the ``try`` below: an interrupt
while Click, Rich and the core load is one line on stderr and exit 130, never a traceback. Once
the command has finished (its output flushed), Ctrl-C is ignored for the interpreter's shutdown,
which would otherwise report it as "Exception ignored in threading._shutdown" and exit 0.
Only the interpreter's own start-up, before any of cnncalc runs, is out of reach.
"""

import sys  # already loaded by the interpreter: nothing of cnncalc's runs before the guard


def main() -> None:
    """Load the CLI and run it; Ctrl-C while loading, running or finishing exits 130 without a traceback."""
    try:
        from .cli import main as run

        code = run()
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: nothing left for Ctrl-C to stop
    except KeyboardInterrupt:
        try:
            sys.stderr.write("Error: interrupted\n")
            sys.stderr.flush()
        except (Exception, KeyboardInterrupt):  # noqa: BLE001 - nothing more to say; the code holds
            pass
        raise SystemExit(130) from None
    sys.exit(code)
