"""Time `cnncalc check` on 1,000 generated specs in one invocation.

Run: python benchmarks/check.py [--specs 1000]
Each spec is a small random CNN written as `summary --format json` writes it (snapshot
expectations on every layer), then checked in a single `cnncalc check DIR/*.json` process.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cnncalc


def random_model(rng: random.Random) -> list[str]:
    layers = []
    for _ in range(rng.randint(2, 6)):
        layers.append(f"conv:{rng.choice([8, 16, 32, 64])},3,padding=same,activation=relu")
        if rng.random() < 0.5:
            layers.append("bn")
        layers.append("maxpool:2")
    return [*layers, "flatten", f"dense:{rng.choice([10, 100])}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.specs):
            summary = cnncalc.summarize(random_model(rng), input_shape=(128, 128, 3))
            Path(tmp, f"model_{i:04}.json").write_text(json.dumps(summary.to_dict()))
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "cnncalc", "check", f"{tmp}/*.json", "--format", "json"],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
    doc = json.loads(proc.stdout)
    checked = sum(spec["checked"] for spec in doc["specs"])
    print(
        f"{args.specs} specs, {checked:,} expectations, exit {proc.returncode}, "
        f"passed {doc['passed']}: {elapsed:.2f} s in one process"
    )


if __name__ == "__main__":
    main()
