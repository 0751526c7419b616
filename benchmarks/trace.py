"""--trace / --torch as whole processes: `cnncalc summary --torch timm:resnet50` against torchinfo
on the same model, and the peak memory (RSS) of tracing a big model on meta against building it
with its weights.

Run (dev-only: needs torch, timm, torchinfo): python benchmarks/trace.py [--runs 5]
Prints median wall-clock seconds, the ratio, and peak RSS (MiB) of each process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TORCHINFO = """
import timm, torchinfo
model = timm.create_model("{model}", pretrained=False)
torchinfo.summary(model, (1, 3, 224, 224), device="cpu")
"""
WEIGHTS = """
import timm
model = timm.create_model("{model}", pretrained=False)
print(sum(p.numel() for p in model.parameters()))
"""


def run(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS of the child in MiB) of one whole process."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvpe(command[0], command, {**os.environ, "PYTHONPATH": HERE})
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024


def median(command: list[str], runs: int) -> tuple[float, float]:
    results = [run(command) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--big", default="vit_huge_patch14_224", help="a big timm model for the memory check")
    args = parser.parse_args()
    py = sys.executable
    rows = [
        (
            f"cnncalc summary --torch timm:{args.model}",
            [py, "-m", "cnncalc", "summary", "--torch", f"timm:{args.model}"],
        ),
        (f"torchinfo summary(timm {args.model})", [py, "-c", TORCHINFO.format(model=args.model)]),
        (
            f"cnncalc summary --torch timm:{args.big} (meta)",
            [py, "-m", "cnncalc", "summary", "--torch", f"timm:{args.big}"],
        ),
        (f"timm.create_model({args.big}) with weights", [py, "-c", WEIGHTS.format(model=args.big)]),
    ]
    measured = {}
    for i, (label, command) in enumerate(rows):
        seconds, rss = median(command, args.runs if i < 2 else 1)  # the big model once
        measured[label] = seconds
        print(f"{label:55s} {seconds:7.2f} s   peak RSS {rss:8.0f} MiB", flush=True)
    ours, theirs = measured[rows[0][0]], measured[rows[1][0]]
    print(f"torchinfo / cnncalc --torch: {theirs / ours:.2f}x")
    print(
        f"(peak RSS of this benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
