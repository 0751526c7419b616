"""Whole-process peak memory and time of reading a large ONNX file: `cnncalc summary -f FILE`
(the wire-format reader over a memory map, weights skipped) beside `onnx.load` of the same file
(and `onnx.load(load_external_data=False)` + `onnx.shape_inference.infer_shapes`, what
onnx-tool-like readers do).

Run: python benchmarks/onnx_memory.py FILE.onnx [--runs 3] [--python PATH]
Make a 528 MB VGG-16 with torch + torchvision (random weights):

    python -c "import torch, torchvision; torch.onnx.export(torchvision.models.vgg16().eval(),
        (torch.randn(1, 3, 224, 224),), 'vgg16.onnx', dynamo=False)"

Each run is a fresh process; peak resident memory is the child's ru_maxrss (Linux: KiB).
Prints the median seconds and the peak MB of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ONNX_LOAD = "import onnx, sys; m = onnx.load(sys.argv[1]); print(len(m.graph.node))"
ONNX_INFER = "import onnx, sys; m = onnx.shape_inference.infer_shapes(onnx.load(sys.argv[1])); print(len(m.graph.node))"


def measure(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and the largest peak RSS (MB) of ``runs`` fresh processes."""
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: replace itself with the command, output discarded
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.execv(argv[0], argv)
        _, status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(argv)}")
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(times), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="an interpreter with onnx installed")
    args = parser.parse_args()
    size = os.path.getsize(args.file) / 1e6
    print(f"{args.file}: {size:.0f} MB")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env_path = f"PYTHONPATH={here}"
    os.environ["PYTHONPATH"] = here
    rows = [
        ("cnncalc summary -f", [args.python, "-m", "cnncalc", "summary", "-f", args.file]),
        ("python -c 'pass' (floor)", [args.python, "-c", "pass"]),
        ("onnx.load", [args.python, "-c", ONNX_LOAD, args.file]),
        ("onnx.load + infer_shapes", [args.python, "-c", ONNX_INFER, args.file]),
    ]
    print(f"{'':28} {'seconds':>8} {'peak MB':>8}   ({env_path}, {args.runs} runs, median / max)")
    for label, argv in rows:
        seconds, peak = measure(argv, args.runs)
        print(f"{label:28} {seconds:8.2f} {peak:8.0f}   {peak / size:.2f}x the file")


if __name__ == "__main__":
    main()
