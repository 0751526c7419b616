"""``python -m cnncalc``: the same program as the ``cnncalc`` console script."""

from ._launch import main

main()
