"""Whole-process start-up: `cnncalc summary --model vgg16` against the floor of this design and
against Keras's and torchinfo's summaries of the same network, measured side by side.

Run: python benchmarks/startup.py [--runs 21] [--python-with-frameworks PATH]
The floor is `python -c "import click, rich.console, rich.table"`: any Click + Rich CLI pays it.
Keras (KERAS_BACKEND=torch) and torchinfo run only if the interpreter given by
--python-with-frameworks can import them (dev-only; never a dependency of cnncalc).
Each command runs twice per round, its output piped and on a terminal (a pseudo-terminal 120
columns wide, TERM=xterm-256color: the coloured table users see), rounds interleaved so that a
change of load touches every row alike. Prints the median CPU seconds (user + system, from the
kernel's accounting of the child) and wall-clock seconds of each, and their ratios to the floor.
The cnncalc package found first (PYTHONPATH's, else the installed one) is byte-compiled before
timing, as an install leaves it (measure a regular `pip install .`: an editable install's import
hook costs about 10 ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

KERAS_VGG16 = """
import keras
keras.applications.VGG16(weights=None).summary()
"""
TORCHINFO_VGG16 = """
import torch, torchinfo
from torch import nn
cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
layers, c = [], 3
for v in cfg:
    if v == "M":
        layers.append(nn.MaxPool2d(2))
    else:
        layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
        c = v
model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(25088, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
                      nn.Linear(4096, 1000))
torchinfo.summary(model, (1, 3, 224, 224), device="cpu")
"""


def run_once(command: list[str], env: dict[str, str] | None, terminal: bool) -> tuple[float, float]:
    """CPU seconds (user + system) and wall-clock seconds of one run, its output piped or on a
    pseudo-terminal (read to the end, as a terminal would)."""
    environ = os.environ if env is None else env
    start = time.perf_counter()
    if terminal:
        import fcntl
        import pty
        import struct
        import termios

        pid, fd = pty.fork()
        if pid == 0:  # the child: a 120-column colour terminal
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            os.execve(command[0], command, {**environ, "TERM": "xterm-256color"})
        while True:
            try:
                if not os.read(fd, 1 << 16):
                    break
            except OSError:  # the child closed the terminal
                break
        _, status, usage = os.wait4(pid, 0)
        os.close(fd)
    else:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert proc.stdout is not None
        while proc.stdout.read(1 << 16):
            pass
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped here
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed ({status})")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start


def can_import(python: str, module: str) -> bool:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, env=env).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--python-with-frameworks", default=None, help="an interpreter with keras/torchinfo")
    args = parser.parse_args()
    cnncalc = shutil.which("cnncalc") or sys.exit("cnncalc is not on PATH: pip install . first")
    # Bytecode as an install leaves it: `pip install` compiles every module, while a source tree
    # run with PYTHONDONTWRITEBYTECODE (or edited since) would compile the changed ones on every
    # run, a few milliseconds each, and measure the compiler instead of the start-up.
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("cnncalc")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            compileall.compile_dir(location, quiet=1)
    rows = [
        (
            "floor: import click, rich.console, rich.table",
            [sys.executable, "-c", "import click, rich.console, rich.table"],
            None,
        ),
        ("cnncalc summary --model vgg16", [cnncalc, "summary", "--model", "vgg16"], None),
        (
            "cnncalc summary --model vgg16 --format json",
            [cnncalc, "summary", "--model", "vgg16", "--format", "json"],
            None,
        ),
        ("cnncalc summary --model resnet50", [cnncalc, "summary", "--model", "resnet50"], None),
    ]
    other = args.python_with_frameworks
    if other and can_import(other, "keras"):
        rows.append(
            (
                "keras VGG16().summary() (torch backend)",
                [other, "-c", KERAS_VGG16],
                {**os.environ, "KERAS_BACKEND": "torch"},
            )
        )
    if other and can_import(other, "torchinfo"):
        rows.append(("torchinfo.summary(vgg16)", [other, "-c", TORCHINFO_VGG16], None))
    terminals = (False, True) if os.name == "posix" else (False,)
    times: dict[tuple[str, bool], list[tuple[float, float]]] = {
        (r[0], t): [] for r in rows for t in terminals
    }
    for round_number in range(args.runs):
        for label, cmd, env in rows:
            if ("keras" in label or "torchinfo" in label) and round_number >= 5:
                continue  # seconds each: 5 runs
            for terminal in terminals:
                times[label, terminal].append(run_once(cmd, env, terminal))
    print(
        f"{'command':48} {'output':>8} {'CPU s':>7} {'x floor':>8} {'wall s':>7} {'x floor':>8} {'vs cnncalc':>11}"
    )
    for terminal in terminals:
        medians = {
            label: (
                statistics.median(cpu for cpu, _ in times[label, terminal]),
                statistics.median(wall for _, wall in times[label, terminal]),
            )
            for label, _, _ in rows
        }
        floor_cpu, floor_wall = medians[rows[0][0]]
        ours_wall = medians[rows[1][0]][1]
        for label, (cpu, wall) in medians.items():
            print(
                f"{label:48} {'terminal' if terminal else 'piped':>8} {cpu:7.3f} {cpu / floor_cpu:8.2f} "
                f"{wall:7.3f} {wall / floor_wall:8.2f} {wall / ours_wall:10.1f}x"
            )


if __name__ == "__main__":
    main()
