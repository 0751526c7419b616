"""tools/fuzz_readers.py kept working (its mutation functions run in-process on a few seeds, no
subprocess), and the readers' failures it found, each fixed and held here."""

from __future__ import annotations

import io
import json
import os
import random
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from tools import fuzz_readers as F

from .helpers import error_lines, run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seeds() -> dict[str, list[F.Seed]]:
    return F.load_seeds()


def test_every_form_has_seeds(seeds) -> None:
    # The committed fixtures and the docs give each form its seeds (counted when the tool was
    # written: 129 JSON documents, 25 of them snapshots made from the valid ones; 73 docs command
    # lines, 22 zoo names, 13 .keras, 14 .h5, 8 .onnx, 29 Python files); fewer than 5 would mean
    # a fixture directory moved.
    assert {form: len(found) >= 5 for form, found in seeds.items()} == {form: True for form in F.FORMS}
    assert any(s.name == "examples/model.onnx" for s in seeds["onnx"])
    assert any(s.name.startswith("tests/fixtures/keras2/") for s in seeds["h5"])
    assert all(s.argv[s.argv.index("--") + 1 :] for s in seeds["compact"])


def test_cases_are_reproducible_and_every_form_mutates(seeds) -> None:
    for form in F.FORMS:
        for index in range(3):
            one = F.make_case(form, index, 5, seeds)
            two = F.make_case(form, index, 5, seeds)
            assert (one.data, one.argv, one.ops, one.seed) == (two.data, two.argv, two.ops, two.seed)
            assert one.ops, (form, index)
            assert one.argv[0] in (
                "summary",
                "explain",
                "export",
                "memory",
                "solve",
                "counters",
                "diagram",
                "check",
            )


def test_byte_mutations() -> None:
    rng = random.Random(1)
    data = b'{"input_shape": [32, 32, 3], "layers": ["conv:8,3"]}'
    assert len(F.truncate(rng, data)) <= len(data)
    assert len(F.delete_chunk(rng, data)) < len(data)
    assert len(F.duplicate_chunk(rng, data)) > len(data)
    assert F.flip(rng, data) != data or True  # a flip may restore a byte; it never fails
    edged = F.edge_number(random.Random(3), data)
    assert edged != data and any(e.encode() in edged for e in F.EDGE_TEXT)
    assert F.splice(rng, b"abc", b"xyz") in {
        a + b for a in (b"", b"a", b"ab", b"abc") for b in (b"xyz", b"yz", b"z", b"")
    }


def test_json_mutations_keep_json_and_nest_deep() -> None:
    data = b'{"input_shape": [32, 32, 3], "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3}]}'
    kinds = set()
    for i in range(60):
        rng = random.Random(i)
        out, ops = F.mutate_json_bytes(rng, data, [data], 2)
        kinds.update(op.split("-")[0] for op in ops)
    assert {"json:edge", "json:tweak", "json:nest", "json:repeat"} <= kinds
    doc = json.loads(data)
    nested, op = F.json_mutation(random.Random(0), doc, [])
    json.dumps(nested)  # still a JSON value


def test_python_and_compact_mutations(seeds) -> None:
    text = "import torch.nn as nn\nnet = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())\n"
    ops = {F.py_mutation(random.Random(i), text, [text])[1].split("-")[0] for i in range(60)}
    assert {"edge", "tweak", "repeat", "nest", "indent"} <= ops
    argv = ("--input", "32x32x3", "--", "conv:8,3", "maxpool:2")
    out, ops = F.mutate_compact(random.Random(2), argv, [argv], 3)
    assert "--" in out and len(ops) == 3
    out, ops = F.mutate_zoo(random.Random(2), "vgg16", ["vgg16", "resnet50"], 2)
    assert out[0] == "--model" and len(ops) == 2


def test_zip_writer_and_bomb() -> None:
    bomb = F.deflate_bomb(b"{", 5 * 2**20, b"}")
    assert len(bomb) < 2**16 and bomb.inflated == 5 * 2**20 + 2
    assert len(zlib.decompress(bytes(bomb), -15)) == bomb.inflated
    data = F._write_zip([("config.json", b'{"a": 1}', zipfile.ZIP_DEFLATED), ("config.json", b"[]", 0)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert [i.filename for i in archive.infolist()] == ["config.json", "config.json"]
        assert archive.read(archive.infolist()[0]) == b'{"a": 1}'
    patched = F.patch_zip(data, "config.json", "method", 14)
    with zipfile.ZipFile(io.BytesIO(patched)) as archive:
        assert {i.compress_type for i in archive.infolist()} == {14}


def test_keras_and_h5_structural_mutations(seeds) -> None:
    pytest.importorskip("h5py")
    json_pool = [s.data for s in seeds["json"][:5]]
    keras = next(s for s in seeds["keras"] if s.name == "examples/model.keras")
    ops = set()
    for i in range(12):
        out, done = F.mutate_keras(random.Random(i), keras.data, [keras.data], json_pool, 1)
        ops.update(op.split(":")[1].split("-")[0] for op in done if op.startswith("zip:"))
    assert len(ops) >= 4, ops
    h5 = next(s for s in seeds["h5"] if s.name == "examples/model.h5")
    out, done = F.mutate_h5(random.Random(4), h5.data, [h5.data], json_pool, 2)
    assert out and done


def test_protobuf_round_trip_and_mutations(seeds) -> None:
    model = (ROOT / "examples" / "model.onnx").read_bytes()
    fields = F.pb_parse(model)
    assert fields and F.pb_dump(fields) == model
    assert F.pb_parse(b"\x00\x01") is None  # field number 0
    ops = set()
    for i in range(20):
        out, op = F.pb_mutation(random.Random(i), model)
        ops.add(op.rsplit(":", 1)[-1].split("-")[0])
    assert {"varint", "delete", "dup"} & ops, ops
    pytest.importorskip("onnx")
    done = [F.onnx_mutation(random.Random(i), model) for i in range(10)]
    assert any(d is not None for d in done)


def test_classify() -> None:
    assert F.classify("summary", 0, False, 10, "") == ("exit0", "")
    assert F.classify("summary", 0, False, 0, "")[0] == "finding"
    assert F.classify("summary", 2, False, 0, "Error: x\nHint: y\n") == ("exit2", "")
    assert F.classify("summary", 2, False, 0, "Note: n\nError: x\n") == ("exit2", "")
    assert F.classify("summary", 2, False, 0, "Error: x\nError: y\n")[0] == "finding"
    assert F.classify("check", 1, False, 10, "") == ("exit1", "")
    assert F.classify("summary", 1, False, 10, "")[0] == "finding"
    assert F.classify("summary", 3, False, 0, "Error: internal error")[1] == "exit 3"
    assert F.classify("summary", -9, False, 0, "")[1] == "signal SIGKILL"
    assert F.classify("summary", None, True, 0, "")[1] == "timeout"
    assert F.classify("summary", -24, False, 0, "")[1] == "cpu time limit"
    assert (
        F.classify("summary", 2, False, 0, "Traceback (most recent call last):\nError: x")[1] == "traceback"
    )


# ----------------------------------------------------------------------------- what it found


def test_keras_zip_member_with_an_lzma_header_is_one_line(tmp_path) -> None:
    # Found by the fuzzer: a config.json whose zip headers say LZMA (method 14) raised lzma's
    # LZMAError through the reader: exit 3.
    # (an LZMA member opens with its properties' size and properties: 5 bytes of 0xff are none)
    data = F._write_zip([("config.json", b"\x09\x14\x05\x00" + b"\xff" * 40, zipfile.ZIP_STORED)])
    path = tmp_path / "m.keras"
    path.write_bytes(F.patch_zip(data, "config.json", "method", 14))
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2, result.stderr
    assert error_lines(result.stderr) == [
        f"Error: cannot read {path}: not a complete zip file (Invalid or unsupported options)"
    ]


def test_a_compressed_weights_member_inflates_within_a_limit(monkeypatch) -> None:
    # A model.weights.h5 stored compressed was inflated whole (member.read()): a zip bomb's
    # gigabytes in memory. Now a counting limit: past it the params are unknown, with the reason.
    from cnncalc.io import keras_weights

    monkeypatch.setattr(keras_weights, "MAX_INFLATED", 2**20)
    bomb = F.deflate_bomb(b"\x89HDF\r\n\x1a\n", 3 * 2**20)
    data = F._write_zip([("config.json", b"{}", 0), ("model.weights.h5", bomb, zipfile.ZIP_DEFLATED)])
    assert keras_weights.zip_member_totals(io.BytesIO(data)) == (
        "its compressed model.weights.h5 inflates to more than 1 MiB"
    )


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))


def test_onnx_from_stdin_under_an_address_space_limit() -> None:
    # Found by the fuzzer: `-f - --from onnx` read standard input with read(2 GiB + 1), which
    # reserves 2 GiB first: under `ulimit -v` of 2 GiB any ONNX model failed with MemoryError
    # (exit 3). Now read in steps.
    model = (ROOT / "examples" / "model.onnx").read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "cnncalc", "summary", "-f", "-", "--from", "onnx", "--format", "json"],
        input=model,
        capture_output=True,
        timeout=60,
        preexec_fn=_limited,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    # The PyTorch CIFAR tutorial's Net (examples/net.py): 62,006 params, its initializers' elements.
    assert json.loads(proc.stdout)["total_params"] == 62006


def test_stdin_read_in_steps_keeps_the_limit(monkeypatch) -> None:
    from cnncalc.io import files

    monkeypatch.setattr(files, "_STDIN_STEP", 4)
    assert files._read_upto(io.BytesIO(b"0123456789"), 11) == b"0123456789"
    assert files._read_upto(io.BytesIO(b"0123456789"), 7) == b"0123456"
    assert files._read_upto(io.BytesIO(b""), 7) == b""


def test_keras_zip_on_stdin_whose_offsets_point_before_its_start() -> None:
    # Found by the fuzzer: a .keras zip on standard input whose end record puts the central
    # directory later than it is makes zipfile seek before the start of the in-memory file:
    # ValueError, exit 3 (from a file path it was already an OSError, exit 2).
    from click.testing import CliRunner

    from cnncalc.cli import cli

    data = bytearray(F._write_zip([("config.json", b"{}", zipfile.ZIP_STORED)]))
    end = data.rfind(b"PK\x05\x06")
    (offset,) = struct.unpack_from("<I", data, end + 16)
    struct.pack_into("<I", data, end + 16, offset + 1000)
    result = CliRunner().invoke(cli, ["summary", "-f", "-"], input=bytes(data))
    assert result.exit_code == 2, result.output
    assert error_lines(result.stderr) == [
        "Error: cannot read <stdin>: not a complete zip file (negative seek value -1000)"
    ]


@pytest.mark.parametrize(
    "code",
    [
        "for i in range(2**64):\n    pass\n",  # the fuzzed case: range(2) became range(2**64)
        "n = len(range(18446744073709551616))\n",
        "n = range(2**64)[-1]\n",
    ],
)
def test_model_code_range_longer_than_sys_maxsize(tmp_path, code) -> None:
    # Found by the fuzzer: every size check asked len() of the range, which raises OverflowError
    # past sys.maxsize items: exit 3. Refused where the range is made.
    path = tmp_path / "m.py"
    path.write_text("import torch.nn as nn\n" + code + "net = nn.Sequential(nn.Linear(3, 2))\n")
    result = run("summary", "-f", str(path), "--input", "3")
    assert result.exit_code == 2, result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith(f"Error: {path}: line 2: range(") and line.endswith(
        ") has more than 2**63 - 1 items"
    )


def test_a_layer_given_many_inputs_names_a_few() -> None:
    # Found by the fuzzer (a layer's inbound nodes repeated 250,000 times): the error listed every
    # input, one 3.5 MB line. Now the first ten and how many more.
    doc = {
        "input_shape": [4],
        "layers": [{"type": "relu", "name": "a"}, {"type": "dense", "units": 2, "inputs": ["a"] * 50_001}],
    }
    result = run("summary", "-f", "-", input=json.dumps(doc))
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [
        "Error: layer 2 (dense): takes one input, got 50001 (" + ", ".join(["'a'"] * 10) + " and 49991 more)"
    ]


def _unet_reading(reads: int, distinct: bool) -> dict:
    """A small U-Net whose skip concatenates ``enc`` ``reads`` times: one input read again and
    again, or (``distinct``) as many separate identity layers of it."""
    copies = [f"copy{i}" for i in range(reads)] if distinct else ["enc"] * reads
    identities = [
        {"type": "activation", "activation": "linear", "name": c, "inputs": ["enc"]} for c in copies
    ]
    return {
        "input_shape": [25, 25, 1],
        "layers": [
            {"name": "enc", "type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same"},
            {"name": "pool", "type": "maxpooling2d", "pool_size": 2},
            {"name": "up", "type": "upsampling2d", "size": 2},
            *(identities if distinct else []),
            {"name": "cat", "type": "concatenate", "inputs": ["up", *copies]},
        ],
    }


@pytest.mark.parametrize("reads", [2, 3, 7])
def test_a_concatenate_reading_one_input_again_and_again_hints_as_distinct_inputs(reads: int) -> None:
    # Found by the fuzzer (a U-Net's skip concatenate reading one input 250,000 times, at a size
    # that does not fit): the size hint compared and added the repeated input symbolically once
    # per read, 27 s of CPU. Now once per distinct input, its size added by doubling; the hint is
    # the one the same model gives with a separate identity layer per read (compared one by one).
    once = run("summary", "-f", "-", input=json.dumps(_unet_reading(reads, distinct=False)))
    apart = run("summary", "-f", "-", input=json.dumps(_unet_reading(reads, distinct=True)))
    assert once.exit_code == apart.exit_code == 2
    hint = [line for line in apart.stderr.splitlines() if line.startswith("Hint:")]
    assert hint and hint == [line for line in once.stderr.splitlines() if line.startswith("Hint:")]
    assert "--input 24x24x1" in hint[0] or "--input 26x26x1" in hint[0]
    fits = _unet_reading(reads, distinct=False) | {"input_shape": [24, 24, 1]}
    table = run("summary", "-f", "-", "--format", "json", input=json.dumps(fits))
    assert json.loads(table.stdout)["layers"][-1]["output_shape"] == [24, 24, 2 + 2 * reads]


def test_a_concatenate_reading_one_input_many_times_is_quick_to_refuse() -> None:
    doc = _unet_reading(50_000, distinct=False)
    result = run("summary", "-f", "-", input=json.dumps(doc))  # (about 5 s of CPU at this count before)
    assert result.exit_code == 2 and error_lines(result.stderr)[0].startswith(
        "Error: layer 4 (concatenate 'cat')"
    )
