"""Whole-process start-up: `cnncalc summary --model vgg16` against the floor of this design and
against Keras's and torchinfo's summaries of the same network, measured side by side.

Run: python benchmarks/startup.py [--runs 15] [--python-with-frameworks PATH]
The floor is `python -c "import click, rich.console, rich.table"`: any Click + Rich CLI pays it.
Keras (KERAS_BACKEND=torch) and torchinfo run only if the interpreter given by
--python-with-frameworks can import them (dev-only; never a dependency of cnncalc).
Prints median wall-clock seconds and the ratios. The cnncalc package found first (PYTHONPATH's,
else the installed one) is byte-compiled before timing, as an install leaves it.
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


def median_seconds(command: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def can_import(python: str, module: str) -> bool:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, env=env).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
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
    results = [
        (
            label,
            median_seconds(cmd, args.runs if "keras" not in label and "torchinfo" not in label else 5, env),
        )
        for label, cmd, env in rows
    ]
    floor = results[0][1]
    ours = results[1][1]
    print(f"{'command':48} {'median s':>9} {'x floor':>8} {'vs cnncalc':>11}")
    for label, seconds in results:
        print(f"{label:48} {seconds:9.3f} {seconds / floor:8.2f} {seconds / ours:10.1f}x")


if __name__ == "__main__":
    main()
