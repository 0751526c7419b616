"""`-f` sources: the format is chosen by content, `--from` forces it, and a file no reader knows
gets one line naming the formats cnncalc reads (never a codec error)."""

from __future__ import annotations

import json

from .helpers import run


def test_binary_file_is_one_clear_line(tmp_path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\xb2\x00\x01\xff" * 64)
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: cannot read {path}: not a format cnncalc reads (JSON specs (cnncalc's own, its JSON "
        "output, Keras model.to_json()); Keras .keras files; Keras .h5 files; ONNX models (.onnx); Python model code (.py: Keras, PyTorch, network3), read without running it)"
    ]
    assert "codec" not in result.stderr


def test_from_json_forces_the_reader(tmp_path) -> None:
    path = tmp_path / "spec.txt"
    path.write_text(json.dumps({"input_shape": [200, 200, 1], "layers": ["conv:16,2,2,valid"]}))
    result = run("summary", "-f", str(path), "--from", "json", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total_params"] == 80  # 16*2*2*1 + 16, the seed's figure


def test_from_needs_a_file() -> None:
    result = run("summary", "--input", "8x8x1", "conv:1,3", "--from", "json")
    assert result.exit_code == 2 and "--from goes with -f FILE" in result.stderr


def test_non_utf8_text_names_the_byte(tmp_path) -> None:
    path = tmp_path / "spec.json"
    path.write_bytes(b'{"layers": ["conv:8,3"], "name": "\xff"}')
    result = run("summary", "-f", str(path), "--from", "json")
    assert result.exit_code == 2 and "not UTF-8 text (byte 34)" in result.stderr
