"""What the trace readers share: the framework import, one-line failures, importing user code."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SpecError


def need(package: str, install: str | None = None) -> Any:
    """Import a framework, or a one-line SpecError naming the package to install (exit 2)."""
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise SpecError(
            f"--trace needs {package}, which is not installed here ({err.msg}): pip install {install or package}"
        ) from None


def require(package: str) -> None:
    """A one-line SpecError naming the package when it is not installed (nothing imported)."""
    import importlib.util

    try:
        found = sys.modules.get(package, True) is not None and importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise SpecError(f"--trace needs {package}, which is not installed here: pip install {package}")


class TraceError(SpecError):
    """The model's own code failed while cnncalc built or ran it (its message, one line)."""


def failure(what: str, err: BaseException) -> TraceError:
    """A framework or model-code exception as one line: what was being done, its type and message."""
    message = " ".join(str(err).split())[:300] or type(err).__name__
    where = ""
    tb = err.__traceback__
    while tb is not None:  # the innermost frame of a user file, if any: where it failed
        name = tb.tb_frame.f_code.co_filename
        if not name.startswith(("<", sys.prefix, sys.base_prefix)) and "/cnncalc/" not in name:
            where = f" ({os.path.basename(name)}, line {tb.tb_lineno})"
        tb = tb.tb_next
    return TraceError(f"{what}: {type(err).__name__}: {message}{where}")


@contextlib.contextmanager
def importable_cwd() -> Iterator[None]:
    """The working directory importable (``mypkg.nets`` next to the user), as ``python -m`` does."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(cwd)


def load_file(path: str, torch: Any) -> Any:
    """Import a model file as a fresh module (``__name__`` is not ``__main__``: its main block
    does not run; ``sys.argv`` is just the file, so an argparse at import sees no cnncalc flags),
    with tensors and modules made at import on the meta device."""
    import importlib.util

    file = Path(path)
    name = "cnncalc_traced_" + re.sub(r"\W", "_", file.stem)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise SpecError(f"{path}: not a Python file cnncalc can import")
    module = importlib.util.module_from_spec(spec)
    argv = sys.argv
    sys.argv = [str(file)]
    sys.modules[name] = module
    try:
        # What the file prints at import goes to stderr: stdout carries cnncalc's own output
        # (a JSON document must stay parseable).
        with (
            importable_cwd(),
            contextlib.redirect_stdout(sys.stderr),
            torch.device("meta") if torch is not None else contextlib.nullcontext(),
        ):
            sys.path.insert(0, str(file.parent.resolve()))
            try:
                spec.loader.exec_module(module)
            finally:
                with contextlib.suppress(ValueError):
                    sys.path.remove(str(file.parent.resolve()))
    except SystemExit as err:
        raise SpecError(f"{path}: importing it called sys.exit({err.code!r})") from None
    except Exception as err:
        raise failure(f"{path}: importing it", err) from None
    finally:
        sys.argv = argv
        sys.modules.pop(name, None)
    return module
