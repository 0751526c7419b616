"""Whole-process time of `cnncalc solve sizes --model NAME` for every zoo model (budget: 0.5 s each).

Run: python benchmarks/solve.py [--runs 5]
Each run is a fresh `python -m cnncalc solve sizes --model NAME --format json` process: start-up,
reading the spec, the symbolic solve of every spatial axis and the one confirming summary.
Prints the median wall-clock seconds per model and exits 1 when any exceeds the budget.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from cnncalc import zoo

BUDGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    worst = 0.0
    for name in zoo.names():
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "cnncalc", "solve", "sizes", "--model", name, "--format", "json"],
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{name}: exit {proc.returncode}: {proc.stderr}")
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"{name:16} {median:.3f} s")
    print(f"slowest {worst:.3f} s (budget {BUDGET} s)")
    sys.exit(0 if worst < BUDGET else 1)


if __name__ == "__main__":
    main()
