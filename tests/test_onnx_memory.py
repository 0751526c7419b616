"""Reading a large ONNX file needs memory for the graph, not the weights: the whole
`cnncalc summary -f` process on a 400 MB single-Gemm file peaks far below the file's size
(`benchmarks/onnx_memory.py` measures VGG-16 beside `onnx.load`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_onnx_wire import _bytes_field, _input, _key, _node, _tensor, _varint

ROOT = Path(__file__).resolve().parent.parent


def _write_gemm(path: Path, rows: int, cols: int) -> None:
    """A Gemm (transB) with a rows x cols float weight of zeros, written without holding it."""
    # the attribute transB=1: AttributeProto name 1, i 3, type 20 (INT = 2)
    attr = _bytes_field(1, b"transB") + _key(3, 0) + _varint(1) + _key(20, 0) + _varint(2)
    head = _bytes_field(1, _node("Gemm", ("x", "w"), ("y",), "fc") + _bytes_field(5, attr))
    head += _bytes_field(11, _input("x", (1, cols)))
    payload = rows * cols * 4
    tensor_head = _tensor("w", (rows, cols)) + _key(9, 2) + _varint(payload)
    tensor_len = len(tensor_head) + payload
    init_head = _key(5, 2) + _varint(tensor_len) + tensor_head
    graph_len = len(head) + len(init_head) + payload
    with path.open("wb") as out:
        out.write(_key(1, 0) + _varint(8) + _key(7, 2) + _varint(graph_len) + head + init_head)
        chunk = bytes(1 << 24)
        left = payload
        while left:
            n = min(left, len(chunk))
            out.write(chunk[:n])
            left -= n


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB is Linux's")
def test_a_400_mb_file_reads_in_a_small_fraction_of_its_size(tmp_path) -> None:
    path = tmp_path / "big.onnx"
    _write_gemm(path, 25_000, 4096)  # 409.6 MB of weights
    assert path.stat().st_size > 400_000_000
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "import resource, subprocess, sys; "
        "r = subprocess.run([sys.executable, '-m', 'cnncalc', 'summary', '-f', sys.argv[1], '--format', 'json'], "
        "capture_output=True, text=True); "
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stdout)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env)
    first, _, output = result.stdout.partition("\n")
    code_text, peak_kib = first.split()
    assert code_text == "0", result.stderr
    assert '"output_shape": [\n    25000\n  ]' in output or '"output_shape": [25000]' in output
    assert int(peak_kib) < 150 * 1024, f"peak {int(peak_kib) // 1024} MB"
