"""Conv2d throughput of the NumPy executor next to this machine's numpy float32 GEMM.

Run: python benchmarks/executor.py [--repeat 3]
Prints GFLOP/s (2 * MACs / second) for VGG16-sized layers, the GEMM of the same size
(M = output positions, K = C_in*F*F, N = filters), the ratio, and torch's conv2d if installed.
Also times a whole VGG16 conv stack verify (shapes) at 224x224, batch 1.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import cnncalc
from cnncalc.numeric import executor as X

LAYERS = [  # (H, W, C_in, filters): 3x3 'same' convs of VGG16
    (224, 224, 64, 64),
    (112, 112, 128, 128),
    (56, 56, 256, 256),
    (28, 28, 512, 512),
]


def best(repeat: int, fn, *args) -> float:
    """Fastest of ``repeat`` calls of fn(*args), in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    print(f"{'layer':>22} {'GEMM GFLOP/s':>13} {'conv GFLOP/s':>13} {'conv/GEMM':>10} {'torch GFLOP/s':>14}")
    for h, w, c, k in LAYERS:
        summary = cnncalc.summarize([f"conv:{k},3,padding=same"], input_shape=(h, w, c))
        row = summary.layers[0]
        flops = 2 * row.macs
        x = rng.standard_normal((1, h, w, c), dtype=np.float32)
        weights = X.init_weights(row.layer, (h, w, c), summary.context, rng, np.float32)
        conv = best(args.repeat, X.forward, row.layer, x, weights, summary.context)
        a = rng.standard_normal((h * w, c * 9), dtype=np.float32)
        b = rng.standard_normal((c * 9, k), dtype=np.float32)
        gemm = best(args.repeat, np.matmul, a, b)
        torch_rate = "-"
        if torch is not None:
            tx = torch.from_numpy(np.moveaxis(x, -1, 1).copy())
            tw = torch.randn(k, c, 3, 3)
            with torch.no_grad():
                t = best(args.repeat, torch.nn.functional.conv2d, tx, tw, None, 1, 1)
            torch_rate = f"{flops / t / 1e9:.1f}"
        label = f"1x{h}x{w}x{c} -> {k}"
        print(
            f"{label:>22} {flops / gemm / 1e9:13.1f} {flops / conv / 1e9:13.1f} {gemm / conv:10.0%} {torch_rate:>14}"
        )

    from cnncalc.numeric.verify import verify

    vgg = ["conv:64,3,padding=same,activation=relu"] * 2 + ["maxpool:2"]
    vgg += ["conv:128,3,padding=same,activation=relu"] * 2 + ["maxpool:2"]
    for filters in (256, 512, 512):
        vgg += [f"conv:{filters},3,padding=same,activation=relu"] * 3 + ["maxpool:2"]
    summary = cnncalc.summarize(vgg, input_shape=(224, 224, 3))
    start = time.perf_counter()
    report = verify(summary)
    print(
        f"\nVGG16 conv stack verify at 224x224x3, batch 1: {time.perf_counter() - start:.1f} s, "
        f"ok={report.ok}, estimated peak {report.estimated_bytes / 2**20:.0f} MiB"
    )
    peak_rss("cnncalc verify --model vgg16 (224x224x3, batch 1)", ["verify", "--model", "vgg16"])


def peak_rss(label: str, args: list[str]) -> None:
    """Whole-process peak resident memory of a cnncalc command (Linux ru_maxrss is in KiB)."""
    import resource
    import subprocess
    import sys

    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{label}: exit {proc.returncode}, {elapsed:.1f} s, peak RSS {peak:.0f} MiB (whole process)")


if __name__ == "__main__":
    main()
