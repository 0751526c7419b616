"""Cost of deep specs: `cnncalc summary -f SPEC --format json` on 1k, 10k and 100k layers.

Run: python benchmarks/depth.py
Each spec repeats conv 3x3 'same' -> batch norm -> relu on a 16x16x8 input (shapes stay put, so
every layer is real work). Prints whole-process seconds and seconds per 1,000 layers, which stay
flat when the cost is linear in depth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def spec(n: int) -> dict:
    cycle = ["conv:8,3,padding=same", "bn", "relu"]
    return {"input_shape": [16, 16, 8], "layers": [cycle[i % 3] for i in range(n)]}


def main() -> None:
    print(f"{'layers':>8} {'seconds':>8} {'s per 1k':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000, 10_000, 100_000):
            path = Path(tmp, f"deep_{n}.json")
            path.write_text(json.dumps(spec(n)))
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "cnncalc", "summary", "-f", str(path), "--format", "json"],
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - start
            assert proc.returncode == 0, proc.stderr
            assert len(json.loads(proc.stdout)["layers"]) == n
            print(f"{n:8,} {elapsed:8.2f} {elapsed / n * 1000:9.3f}")


if __name__ == "__main__":
    main()
