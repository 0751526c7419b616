"""The ``cnncalc`` command line: parse options, call the library, render; failures map to exit codes.

No arithmetic lives here. :mod:`.app` holds the group and runs it; :mod:`.failures` turns every
exception into its one line and exit code; :mod:`.types` and :mod:`.options` are the parameter
types and the options several commands share; each command is a module of its own.
"""

from __future__ import annotations

from .app import all_commands, cli, main

__all__ = ["all_commands", "cli", "main"]
