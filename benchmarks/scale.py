"""Every command is linear in layers: wall-clock time of each command on 1k, 10k and 100k-layer
specs, and the exponent k of time ~ layers^k fitted by least squares (k <= 1.1 means linear);
then, at the largest size, the process's CPU time (user + system) and its memory per layer.

Run: python benchmarks/scale.py [--sizes 1000,10000,100000] [--commands summary,explain,...] [--repeat 3]

Each command runs as a real process (`python -m cnncalc ...`, output to /dev/null). The time of
the same command on a 1-layer spec (start-up) is subtracted before fitting, so a fixed start-up
cost cannot flatten the curve; the fit uses the runs of 0.2 s or more. The spec is a plain stack of conv/bn/relu blocks on an 8x8x8 input
(shapes stay put, every layer has a receptive field); `check` reads that stack's
`summary --format json` output (every layer carries expectations); `cycle` is a 100k-layer ring,
refused with a bounded message.

CPU s is the largest run's user + system time, start-up included (the issue 28 goal: at most 5 s
per 100,000 layers). With ``--repeat N`` every figure is the least of N runs (a shared machine
only ever slows a run down). KB/layer is the memory per layer: (peak resident set of the largest run -
peak resident set of the same command on the 1-layer spec) / layers (goal: at most 1 KB). Both
come from the kernel's accounting of that one child process (``os.wait4``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

BLOCK = ["conv:8,3,padding=same", "bn", "relu"]
COMMANDS = {
    "summary table": ["summary", "-f", "{spec}"],
    "summary json": ["summary", "-f", "{spec}", "--format", "json"],
    "summary markdown": ["summary", "-f", "{spec}", "--format", "markdown"],
    "summary csv": ["summary", "-f", "{spec}", "--format", "csv"],
    "summary html": ["summary", "-f", "{spec}", "--format", "html"],
    "summary --all": ["summary", "-f", "{spec}", "--all"],
    "explain": ["explain", "-f", "{spec}"],
    "explain markdown": ["explain", "-f", "{spec}", "--format", "markdown"],
    "diagram": ["diagram", "-f", "{spec}"],
    "check": ["check", "{snapshot}"],
    "verify": ["verify", "-f", "{spec}", "--input", "4x4x8"],
    "counters": ["counters", "-f", "{spec}"],
    "solve sizes": ["solve", "sizes", "-f", "{spec}"],
    "memory": ["memory", "-f", "{spec}"],
    "export keras": ["export", "--to", "keras", "-f", "{spec}"],
    "export pytorch": ["export", "--to", "pytorch", "-f", "{spec}"],
    "cycle": ["summary", "-f", "{cycle}"],
}


def write_specs(directory: str, n: int) -> dict[str, str]:
    """The stack, its JSON snapshot and a ring of n layers, as files.

    Written a layer at a time, never built as one list: a child started by ``vfork`` (as
    subprocess does) is charged the parent's peak resident set until it execs, so a parent that
    once held 100,000 layers would raise every command's measured peak, the 1-layer run's too."""
    paths = {k: os.path.join(directory, f"{k}{n}.json") for k in ("spec", "snapshot", "cycle")}
    with open(paths["spec"], "w") as handle:
        handle.write('{"input_shape": [8, 8, 8], "layers": [')
        handle.writelines((", " if i else "") + json.dumps(BLOCK[i % len(BLOCK)]) for i in range(n))
        handle.write("]}")
    with open(paths["snapshot"], "w") as handle:
        subprocess.run(
            [sys.executable, "-m", "cnncalc", "summary", "-f", paths["spec"], "--format", "json"],
            stdout=handle,
            check=True,
        )
    with open(paths["cycle"], "w") as handle:
        handle.write('{"input_shape": [4], "layers": [')
        handle.writelines(
            (", " if i else "") + json.dumps({"type": "relu", "name": f"l{i}", "inputs": f"l{(i - 1) % n}"})
            for i in range(n)
        )
        handle.write("]}")
    return paths


def timed(args: list[str], paths: dict[str, str]) -> tuple[float, float, int]:
    """(wall-clock seconds, user + system CPU seconds, peak resident set in KB) of one run."""
    command = [sys.executable, "-m", "cnncalc", *(a.format(**paths) for a in args)]
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"}
    )
    _, _, usage = os.wait4(child.pid, 0)  # this child's own accounting (not all children's)
    child.returncode = 0  # reaped here: Popen must not wait for it again
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss  # ru_maxrss: KB on Linux


def best(args: list[str], paths: dict[str, str], repeat: int) -> tuple[float, float, int]:
    """:func:`timed`, the least of ``repeat`` runs of each figure: on a shared machine a run is
    only ever slowed down by others (the least is the command's own cost, as timeit reports)."""
    runs = [timed(args, paths) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), min(r[2] for r in runs)


def exponent(sizes: list[int], times: list[float]) -> float:
    """Least-squares slope of log(time) against log(layers), over the runs of 0.2 s or more (a
    few hundredths of a second are timer and scheduling noise, not the curve); nan when fewer
    than two are that long."""
    points = [(n, t) for n, t in zip(sizes, times, strict=True) if t >= 0.2]
    if len(points) < 2:
        return math.nan
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the least is reported")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    names = [c.strip() for c in options.commands.split(",")]
    with tempfile.TemporaryDirectory() as directory:
        files = {n: write_specs(directory, n) for n in [1, *sizes]}
        largest = sizes[-1]
        print(
            f"{'command':18}"
            + "".join(f"{n:>10,}" for n in sizes)
            + f"  exponent  CPU s at {largest:,}  KB/layer  (seconds, start-up subtracted)"
        )
        for name in names:
            args = COMMANDS[name]
            repeat = options.repeat
            start_up, _, base_kb = best(args, files[1] if name != "cycle" else files[sizes[0]], repeat)
            runs = [best(args, files[n], repeat) for n in sizes]
            times = [max(wall - start_up, 1e-3) for wall, _, _ in runs]
            k = exponent(sizes, times)
            _, cpu, peak_kb = runs[-1]
            per_layer = (peak_kb - base_kb) / largest if name != "cycle" else math.nan
            print(
                f"{name:18}"
                + "".join(f"{t:10.2f}" for t in times)
                + f"  {k:8.2f}  {cpu:{len(f'CPU s at {largest:,}')}.2f}  {per_layer:8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
