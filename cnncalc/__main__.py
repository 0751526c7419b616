"""``python -m cnncalc``: the same program as the ``cnncalc`` console script."""

from .cli import main

main()
