"""A reproducible mutation fuzzer over every reader of cnncalc, through the real CLI.

Seeds are the committed fixtures (``tests/fixtures``, ``examples``, ``docs/examples``), the JSON
documents and command lines in ``docs/*.md`` and the zoo's names. Each case takes one seed of a
form, applies one to three mutations (byte flips, truncation, chunk duplication/deletion,
splicing with another seed, numeric edges 0 / -1 / 2**31 / 2**63 / 1e308 / NaN, deep nesting,
huge repeat counts; for ``.keras`` zips member rewrites and header patches, for ``.h5`` files
attribute and dataset rewrites with h5py, for ONNX protobuf field flips on the wire and edits with
the onnx package) and runs one cnncalc command on it as a subprocess, under a time limit and an
address-space limit (``RLIMIT_AS``). The outcome is one of

- ``exit0``: exit 0 with output;
- ``exit1``: ``check``/``solve`` found a difference or no solution (exit 1, their documented code);
- ``exit2``: exit 2 with exactly one ``Error:`` line on stderr (and at most one ``Hint:`` line);
- ``finding``: anything else (a traceback, exit 1 elsewhere, exit 3 or another code, a signal,
  the time limit, the memory limit, exit 0 without output, more stderr lines than allowed).

A finding is saved with its input, its command line and a ``repro.sh`` under ``OUT/findings/``;
every case is a line of ``OUT/results.jsonl``; the counts per form and outcome are printed at the
end and written to ``OUT/summary.json``. Case ``i`` of ``--seed S`` is the same input and command
whatever ``--cases``, ``--forms`` order or ``--jobs`` (its random generator is seeded with
``S:form:i``), so ``--only FORM:I`` re-runs one case.

Dev-only (the structural mutations of ``.h5`` and ``.onnx`` files need h5py and onnx; without
them those forms fall back to byte-level mutations). Run it with the dev venv; each case runs
cnncalc with one of the ``--python`` interpreters in turn (PYTHONPATH = this checkout):

    nice -n 10 /work/devvenv/bin/python tools/fuzz_readers.py --cases 3000 --seed 1 --out /tmp/fuzz

``tests/test_fuzz_readers.py`` runs the mutation functions in-process on a few seeds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import re
import resource
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

FORMS = ("json", "compact", "zoo", "keras", "h5", "onnx", "py")

#: Interpreters cnncalc runs with, by name: without frameworks (what CI sees), with them.
DEFAULT_PYTHONS = {
    "plain": "/work/venvs/plain/bin/python",
    "dev": "/work/devvenv/bin/python",
}

#: Numbers at the edges, as JSON/compact text and as Python source.
EDGE_TEXT = (
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1e308",
    "-1e308",
    "1e999",
    "NaN",
    "Infinity",
    "-0",
    "0.5",
    "1e-320",
    "99999999999999999999999999999999999999",
)
EDGE_PY = EDGE_TEXT[:9] + ("1e308", "float('nan')", "float('inf')", "10**9", "2**63", "10**100", "-(2**31)")
EDGE_VALUES: tuple[Any, ...] = (
    0,
    -1,
    1,
    2**31 - 1,
    2**31,
    2**32,
    2**63 - 1,
    2**63,
    2**64,
    10**40,
    1e308,
    -1e308,
    float("nan"),
    float("inf"),
    0.5,
    -0.0,
    None,
    True,
    "",
    "x" * 10_000,
    [],
    {},
    "same",
    "valid",
)
#: Varints at the edges (protobuf), as unsigned 64-bit values.
EDGE_VARINTS = (0, 1, 2, 127, 128, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64 - 2)
#: Repeat counts, from a few to past the 200,000-layer limit.
REPEATS = (2, 3, 10, 1000, 50_000, 250_000)
#: ... for things that are slow to build as text (argv, Python lines).
SMALL_REPEATS = (2, 3, 10, 500, 5000, 30_000)

LAYER_KEYS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "groups",
    "use_bias",
    "units",
    "pool_size",
    "rate",
    "size",
    "axis",
    "target_shape",
    "cropping",
    "output_padding",
    "depth_multiplier",
    "input_shape",
    "batch_input_shape",
    "layers",
    "inbound_nodes",
    "class_name",
    "config",
    "type",
    "name",
    "data_format",
    "convention",
    "expect",
    "output_shape",
    "params",
)
KINDS = (
    "conv",
    "conv1d",
    "conv3d",
    "maxpool",
    "avgpool",
    "dense",
    "bn",
    "relu",
    "flatten",
    "dropout",
    "depthwise",
    "separable",
    "deconv",
    "gap",
    "zeropad",
    "upsampling2d",
    "reshape",
    "concatenate",
    "add",
    "Conv2D",
    "nn.Conv2d",
    "layernorm",
    "softmax",
)


# ----------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seed:
    """One seed: its form, a name (a path, or ``docs:...``), its bytes (file forms) or argv."""

    form: str
    name: str
    data: bytes = b""
    argv: tuple[str, ...] = ()
    #: Read without error as it is (JSON: cnncalc parses it as a spec); picked 4 times as often.
    valid: bool = True


def _committed() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        out = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    return sorted(out)


#: Where file seeds come from.
SEED_DIRS = ("tests/fixtures/", "examples/", "docs/examples/")
#: Options that take a value, for reading the command lines in docs.
VALUE_OPTIONS = {
    "-i",
    "--input",
    "--convention",
    "--data-format",
    "-f",
    "--file",
    "--format",
    "-o",
    "--output",
    "--columns",
    "--count",
    "--counter",
    "--width",
    "--dtype",
    "-m",
    "--model",
    "--batch",
    "--depth",
    "--from",
    "--model-name",
    "--to",
    "--kernel",
    "--kind",
    "--memory",
    "--optimizer",
    "--max-memory",
    "--mixed",
    "--seed",
    "--trace-batch",
    "--torch",
}


def _doc_texts() -> list[tuple[str, str]]:
    paths = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md", ROOT / "examples" / "README.md"]
    return [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in paths if p.exists()]


def _doc_json_seeds() -> list[Seed]:
    seeds = []
    for name, text in _doc_texts():
        for i, block in enumerate(re.findall(r"```json\n(.*?)```", text, re.S)):
            try:
                value = json.loads(block)
            except ValueError:
                continue
            if isinstance(value, dict) and ("layers" in value or "config" in value or "class_name" in value):
                seeds.append(Seed("json", f"{name}#json{i}", block.encode()))
    return seeds


def _doc_compact_seeds() -> list[Seed]:
    """``cnncalc summary|explain|verify ... --input SHAPE LAYER...`` lines of the docs, as argv."""
    seeds, seen = [], set()
    for name, text in _doc_texts():
        for line in text.splitlines():
            at = line.find("cnncalc ")
            if at < 0:
                continue
            try:
                words = shlex.split(line[at:].split(" #")[0].split(">")[0].split("|")[0])
            except ValueError:
                continue
            if len(words) < 3 or words[1] not in ("summary", "explain", "verify", "solve", "memory"):
                continue
            keep: list[str] = []
            layers: list[str] = []
            rest = words[2:]
            if words[1] == "solve":
                if not rest or rest[0] != "sizes":
                    continue
                rest = rest[1:]
            skip = False
            i = 0
            while i < len(rest):
                word = rest[i]
                if word in ("-f", "--file", "-m", "--model", "--torch", "--trace", "-o", "--output"):
                    skip = True
                    break
                if word in ("-i", "--input", "--convention", "--data-format"):
                    keep += rest[i : i + 2]
                    i += 2
                    continue
                if word in VALUE_OPTIONS:
                    i += 2
                    continue
                if word.startswith("-"):
                    i += 1
                    continue
                layers.append(word)
                i += 1
            if skip or not layers or ("-i" not in keep and "--input" not in keep):
                continue
            argv = tuple(keep + ["--"] + layers)
            if argv not in seen:
                seen.add(argv)
                seeds.append(Seed("compact", f"{name}:{len(seeds)}", argv=argv))
    return seeds


def _zoo_seeds() -> list[Seed]:
    sys.path.insert(0, str(ROOT))
    try:
        from cnncalc import zoo
    finally:
        sys.path.remove(str(ROOT))
    return [Seed("zoo", f"zoo:{name}", argv=(name,)) for name in zoo.names()]


def _checked(seed: Seed) -> Seed:
    """The JSON seed, marked invalid when cnncalc does not parse it as a spec (test expectation
    files, the counters' tables): mutations of valid seeds reach further than the top-level check."""
    import dataclasses

    sys.path.insert(0, str(ROOT))
    try:
        from cnncalc.errors import CnncalcError
        from cnncalc.io.document import loads

        try:
            loads(seed.data.decode("utf-8"), seed.name)
        except (CnncalcError, ValueError):
            return dataclasses.replace(seed, valid=False)
    finally:
        sys.path.remove(str(ROOT))
    return seed


def _snapshots(seeds: list[Seed]) -> list[Seed]:
    """``summary --format json`` documents of valid specs (and a few zoo models): snapshots, the
    input ``check`` reads, made in-process."""
    sys.path.insert(0, str(ROOT))
    out = []
    try:
        import cnncalc
        from cnncalc import zoo
        from cnncalc.errors import CnncalcError

        for seed in seeds:
            text = zoo.load(seed.name[4:]) if seed.name.startswith("zoo:") else seed.data.decode("utf-8")
            try:
                snapshot = json.dumps(cnncalc.summarize(text).to_dict(), indent=1)
            except (CnncalcError, ValueError, TypeError):
                continue
            out.append(Seed("json", f"snapshot of {seed.name}", snapshot.encode()))
    finally:
        sys.path.remove(str(ROOT))
    return out


def load_seeds() -> dict[str, list[Seed]]:
    """Every seed by form: the committed fixtures and examples, the docs' JSON documents and
    command lines, the zoo's names."""
    seeds: dict[str, list[Seed]] = {form: [] for form in FORMS}
    ending = {".json": "json", ".keras": "keras", ".h5": "h5", ".onnx": "onnx", ".py": "py"}
    for path in _committed():
        if not path.startswith(SEED_DIRS) and path != "lv.onnx":
            continue
        suffix = Path(path).suffix
        form = ending.get(suffix)
        if form is None or (form == "py" and Path(path).name.startswith("make_")):
            continue
        full = ROOT / path
        if not full.is_file() or full.stat().st_size > 2**20:
            continue
        seeds[form].append(Seed(form, path, full.read_bytes()))
    seeds["json"] += _doc_json_seeds()
    seeds["json"] = [_checked(seed) for seed in seeds["json"]]
    seeds["json"] += _snapshots(
        [s for s in seeds["json"] if s.valid]
        + [Seed("json", f"zoo:{n}") for n in ("vgg16", "resnet18", "mobilenet_v2")]
    )
    seeds["compact"] += _doc_compact_seeds()
    seeds["zoo"] += _zoo_seeds()
    return seeds


# ----------------------------------------------------------------------------- byte mutations


def flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return b"\x00"
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8, 32))):
        at = rng.randrange(len(out))
        out[at] = rng.choice((out[at] ^ (1 << rng.randrange(8)), 0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)] if data else data


def duplicate_chunk(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.choice((1, 4, 16, 256, 4096)))
    times = rng.choice((1, 1, 2, 10, 100))
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[a:b] * times + data[at:]


def delete_chunk(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    b = min(len(data), a + rng.choice((1, 4, 16, 256, 4096)))
    return data[:a] + data[b:]


def splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """A prefix of one seed and a suffix of another."""
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


_NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def edge_number(rng: random.Random, data: bytes, edges: tuple[str, ...] = EDGE_TEXT) -> bytes:
    """One number in the text replaced with a number at the edges."""
    found = list(_NUMBER.finditer(data))
    if not found:
        return data + rng.choice(edges).encode()
    match = rng.choice(found)
    return data[: match.start()] + rng.choice(edges).encode() + data[match.end() :]


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": flip,
    "truncate": truncate,
    "dup-chunk": duplicate_chunk,
    "del-chunk": delete_chunk,
    "edge-number": edge_number,
}


def byte_mutation(rng: random.Random, data: bytes, pool: list[bytes]) -> tuple[bytes, str]:
    name = rng.choice([*BYTE_MUTATIONS, "splice"])
    if name == "splice":
        return splice(rng, data, rng.choice(pool) if pool else data), name
    return BYTE_MUTATIONS[name](rng, data), name


# ----------------------------------------------------------------------------- JSON mutations


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in a JSON value (bounded: at most 5,000)."""
    out = [path]
    stack = [(value, path)]
    while stack and len(out) < 5000:
        node, at = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in items:
            out.append((*at, key))
            stack.append((child, (*at, key)))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def tweak_number(rng: random.Random, value: float) -> float:
    """A number near ``value`` (or a small one): n+-1, 2n, n/2, 0..8."""
    if isinstance(value, float) and not math.isfinite(value):
        return 1
    new = rng.choice((value + 1, value - 1, value * 2, value // 2, rng.randrange(9)))
    return type(value)(new) if isinstance(value, int) else float(new)


def json_mutation(rng: random.Random, doc: Any, others: list[Any]) -> tuple[Any, str]:
    """One structural change to a parsed JSON document (in place where it can); its name."""
    paths = _nodes(doc)
    path = rng.choice(paths)
    node = _get(doc, path)
    op = rng.choice(
        (
            "tweak",
            "tweak",
            "edge",
            "edge",
            "delete",
            "repeat",
            "nest",
            "retype",
            "rename",
            "graft",
            "swap",
            "shape",
        )
    )
    if op == "tweak":  # a near value: keeps most documents valid, so later stages run
        numbers = [p for p in paths if type(_get(doc, p)) in (int, float)]
        if numbers:
            at = rng.choice(numbers)
            return _set(doc, at, tweak_number(rng, _get(doc, at))), op
        op = "edge"
    if op == "edge":
        return _set(doc, path, rng.choice(EDGE_VALUES)), op
    if op == "delete" and path:
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc, op
    if op == "repeat":
        lists = [p for p in paths if isinstance(_get(doc, p), list) and _get(doc, p)]
        if lists:
            target = _get(doc, rng.choice(lists))
            item = rng.choice(target)
            # At most ~40 MB of JSON: past the 64 MiB file limit is a byte mutation's business.
            count = min(rng.choice(REPEATS), max(1, 40_000_000 // max(1, len(dump_json(rng, item)))))
            target[:] = target + [item] * count
            return doc, f"repeat-{count}"
    if op == "nest":
        depth = rng.choice((10, 63, 64, 65, 100, 500))  # deeper: as text, in mutate_json_bytes
        wrapped: Any = node
        for _ in range(depth):
            wrapped = [wrapped] if rng.random() < 0.5 else {"layers": wrapped}
        return _set(doc, path, wrapped), f"nest-{depth}"
    if op == "retype":
        if isinstance(node, bool | int | float):
            new: Any = str(node)
        elif isinstance(node, str):
            new = [node] if rng.random() < 0.5 else {"type": node}
        elif isinstance(node, list):
            new = {str(i): v for i, v in enumerate(node)}
        elif isinstance(node, dict):
            new = list(node.values())
        else:
            new = rng.choice(EDGE_VALUES)
        return _set(doc, path, new), op
    if op == "rename":
        dicts = [p for p in paths if isinstance(_get(doc, p), dict) and _get(doc, p)]
        if dicts:
            target = _get(doc, rng.choice(dicts))
            key = rng.choice(list(target))
            target[rng.choice(LAYER_KEYS + (key.upper(), key + "_", ""))] = target.pop(key)
            return doc, op
    if op == "graft" and others:
        other = rng.choice(others)
        return _set(doc, path, json.loads(json.dumps(_get(other, rng.choice(_nodes(other)))))), op
    if op == "swap" and path and isinstance(_get(doc, path[:-1]), list):
        parent = _get(doc, path[:-1])
        rng.shuffle(parent)
        return doc, op
    if op == "shape":
        return _set(doc, path, [rng.choice(EDGE_VALUES[:10]) for _ in range(rng.choice((0, 1, 3, 4, 9)))]), op
    return _set(doc, path, rng.choice(EDGE_VALUES)), "edge"


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def dump_json(rng: random.Random, doc: Any) -> bytes:
    try:
        text = json.dumps(doc, allow_nan=True, indent=rng.choice((None, None, 1)))
    except (ValueError, RecursionError):
        return b"[]"
    return text.encode("utf-8", "surrogatepass")


def mutate_json_bytes(
    rng: random.Random, data: bytes, pool: list[bytes], steps: int
) -> tuple[bytes, list[str]]:
    """Structural JSON mutations (when the seed parses), then perhaps byte mutations."""
    ops = []
    doc = _parse_json(data)
    if doc is not None and rng.random() < 0.75:
        others = [d for d in (_parse_json(p) for p in rng.sample(pool, min(3, len(pool)))) if d is not None]
        for _ in range(steps):
            doc, op = json_mutation(rng, doc, others)
            ops.append("json:" + op)
        data = dump_json(rng, doc)
        if rng.random() < 0.1:
            depth = rng.choice((1000, 100_000, 2_000_000))
            opener, closer = rng.choice(((b"[", b"]"), (b'{"layers":', b"}"), (b'{"a":[', b"]}")))
            at = data.find(b"[") + 1 if b"[" in data and rng.random() < 0.5 else 0
            end = data.find(b"]", at) if at else -1
            end = end if end >= 0 else len(data)
            data = data[:at] + opener * depth + data[at:end] + closer * depth + data[end:]
            ops.append(f"deep-text-{depth}")
        steps = 1 if rng.random() < 0.2 else 0
    for _ in range(steps):
        data, op = byte_mutation(rng, data, pool)
        ops.append(op)
    return data, ops


# ----------------------------------------------------------------------------- Python code


_PY_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def py_mutation(rng: random.Random, text: str, pool: list[str]) -> tuple[str, str]:
    lines = text.splitlines(keepends=True) or ["\n"]
    op = rng.choice(
        ("tweak", "tweak", "edge", "edge", "repeat", "nest", "lines", "splice", "ident", "indent")
    )
    if op == "tweak":
        found = list(_PY_NUMBER.finditer(text))
        if found:
            m = rng.choice(found)
            value = tweak_number(rng, float(m.group()) if "." in m.group() else int(m.group()))
            return text[: m.start()] + str(value) + text[m.end() :], op
        op = "edge"
    if op == "edge":
        found = list(_PY_NUMBER.finditer(text))
        if found:
            m = rng.choice(found)
            return text[: m.start()] + rng.choice(EDGE_PY) + text[m.end() :], op
    if op == "repeat":
        layered = [i for i, line in enumerate(lines) if re.search(r"nn\.|layers\.|Conv|Dense|Linear", line)]
        if layered:
            i = rng.choice(layered)
            count = rng.choice(SMALL_REPEATS)
            return "".join(lines[: i + 1] + [lines[i]] * count + lines[i + 1 :]), f"repeat-{count}"
    if op == "nest":
        found = list(_PY_NUMBER.finditer(text))
        depth = rng.choice((50, 200, 1000, 5000))
        if found:
            m = rng.choice(found)
            inner = rng.choice(("(", "[", "nn.Sequential(", "-", "not "))
            close = {"(": ")", "[": "]", "nn.Sequential(": ")", "-": "", "not ": ""}[inner]
            return text[: m.start()] + inner * depth + m.group() + close * depth + text[
                m.end() :
            ], f"nest-{depth}"
    if op == "lines" and len(lines) > 1:
        i, j = sorted(rng.sample(range(len(lines)), 2))
        choice = rng.choice(("delete", "dup", "swap"))
        if choice == "delete":
            del lines[i : j + 1 if rng.random() < 0.3 else i + 1]
        elif choice == "dup":
            lines[j:j] = lines[i : i + rng.choice((1, 3, 10))]
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines), "lines-" + choice
    if op == "splice" and pool:
        other = rng.choice(pool).splitlines(keepends=True) or ["\n"]
        a = rng.randrange(len(other))
        block = other[a : a + rng.choice((1, 5, 20, 200))]
        at = rng.randrange(len(lines) + 1)
        return "".join(lines[:at] + block + lines[at:]), op
    if op == "ident":
        names = sorted(set(re.findall(r"\b[A-Za-z_]\w*\b", text)))
        if len(names) > 1:
            a, b = rng.sample(names, 2)
            return re.sub(rf"\b{re.escape(a)}\b", b, text, count=rng.choice((1, 1000))), op
    if op == "indent":
        depth = rng.choice((20, 99, 101, 500))
        block = "".join(" " * i + "if True:\n" for i in range(depth)) + " " * depth + "pass\n"
        at = rng.randrange(len(lines) + 1)
        return "".join(lines[:at] + [block] + lines[at:]), f"indent-{depth}"
    found = list(_PY_NUMBER.finditer(text))
    if found:
        m = rng.choice(found)
        return text[: m.start()] + rng.choice(EDGE_PY) + text[m.end() :], "edge"
    return text + "\n" + rng.choice(pool or [text]), "append"


def mutate_py(rng: random.Random, data: bytes, pool: list[bytes], steps: int) -> tuple[bytes, list[str]]:
    ops = []
    texts = [p.decode("utf-8", "replace") for p in pool]
    if rng.random() < 0.8:
        text = data.decode("utf-8", "replace")
        for _ in range(steps):
            text, op = py_mutation(rng, text, texts)
            ops.append("py:" + op)
        data = text.encode("utf-8", "surrogatepass")
        steps = 1 if rng.random() < 0.15 else 0
    for _ in range(steps):
        data, op = byte_mutation(rng, data, pool)
        ops.append(op)
    return data, ops


# ----------------------------------------------------------------------------- compact specs, zoo

SHAPES = ("200x200x1", "32x32x3", "3x32x32", "28,28,1", "224 224 3", "100x3", "16x16x16x1", "8x8x3")


def text_mutation(rng: random.Random, text: str, pool: list[str]) -> tuple[str, str]:
    data = text.encode("utf-8")
    data, op = byte_mutation(rng, data, [p.encode() for p in pool])
    return data.decode("utf-8", "replace").replace("\x00", ""), op


def mutate_compact(
    rng: random.Random, argv: tuple[str, ...], pool: list[tuple[str, ...]], steps: int
) -> tuple[list[str], list[str]]:
    """A docs command line (``--input SHAPE [--convention C] -- LAYER...``) mutated."""
    cut = argv.index("--")
    options, layers = list(argv[:cut]), list(argv[cut + 1 :])
    every = [layer for seed in pool for layer in seed[seed.index("--") + 1 :]]
    ops = []
    for _ in range(steps):
        op = rng.choice(
            ("tweak", "tweak", "layer", "layer", "input", "repeat", "drop", "add", "key", "option")
        )
        if op == "tweak" and layers:
            i = rng.randrange(len(layers))
            found = list(_PY_NUMBER.finditer(layers[i]))
            if found:
                m = rng.choice(found)
                value = tweak_number(rng, float(m.group()) if "." in m.group() else int(m.group()))
                layers[i] = layers[i][: m.start()] + str(value) + layers[i][m.end() :]
        elif op == "layer" and layers:
            i = rng.randrange(len(layers))
            layers[i], how = text_mutation(rng, layers[i], every)
            op += "-" + how
        elif op == "input":
            i = options.index("--input") + 1 if "--input" in options else options.index("-i") + 1
            choice = rng.random()
            if choice < 0.4:
                options[i] = "x".join(rng.choice(EDGE_TEXT[:9]) for _ in range(rng.choice((1, 2, 3, 4, 9))))
            elif choice < 0.6:
                options[i] = rng.choice(SHAPES)
            else:
                options[i], how = text_mutation(rng, options[i], list(SHAPES))
                op += "-" + how
        elif op == "repeat" and layers:
            count = rng.choice(SMALL_REPEATS)
            i = rng.randrange(len(layers))
            layers[i : i + 1] = [layers[i]] * count
            op += f"-{count}"
        elif op == "drop" and layers:
            del layers[rng.randrange(len(layers))]
        elif op == "add":
            layers.insert(rng.randrange(len(layers) + 1), rng.choice(every) if every else "relu")
        elif op == "key":
            kind = rng.choice(KINDS)
            args = [rng.choice(EDGE_TEXT) for _ in range(rng.choice((0, 1, 2, 4)))]
            args += [f"{rng.choice(LAYER_KEYS)}={rng.choice(EDGE_TEXT + ('same', 'valid', 'true', '3x5'))}"]
            layers.insert(rng.randrange(len(layers) + 1), f"{kind}:{','.join(args)}")
        else:
            options += rng.choice(
                (
                    ["--convention", "pytorch"],
                    ["--convention", "keras"],
                    ["--data-format", "channels_first"],
                    ["--data-format", "channels_last"],
                )
            )
            op = "option"
        ops.append("compact:" + op)
    return options + ["--", *layers], ops


def mutate_zoo(rng: random.Random, name: str, names: list[str], steps: int) -> tuple[list[str], list[str]]:
    shape = rng.choice(
        SHAPES + ("224x224x3", "3x224x224", "1x1x3", "0x0x3", "65536x65536x3", None, None, None)
    )
    options: list[str] = ["--model", name]
    ops = []
    for _ in range(steps):
        op = rng.choice(("name", "shape", "size", "size", "prefix", "case", "convention"))
        if op == "size":  # a near size (the default one when none is given): keeps most valid
            known = shape or ("3x224x224" if "torchvision" in options[1] else "224x224x3")
            sizes = [int(n) for n in re.findall(r"\d+", known)] or [224]
            at = rng.randrange(len(sizes))
            sizes[at] = max(0, int(tweak_number(rng, sizes[at])))
            shape = "x".join(map(str, sizes))
        elif op == "name":
            options[1], how = text_mutation(rng, options[1], names)
            op += "-" + how
        elif op == "shape":
            shape = "x".join(
                rng.choice(EDGE_TEXT[:9] + ("1", "3", "7", "224")) for _ in range(rng.choice((1, 2, 3, 4)))
            )
        elif op == "prefix":
            options[1] = (
                rng.choice(("torchvision/", "keras/", "timm/", "/", "../")) + options[1].split("/")[-1]
            )
        elif op == "case":
            options[1] = options[1].upper() if rng.random() < 0.5 else options[1].swapcase()
        else:
            options += ["--convention", rng.choice(("pytorch", "keras"))]
        ops.append("zoo:" + op)
    if shape is not None:
        options += ["--input", shape]
    return options, ops


# ----------------------------------------------------------------------------- .keras zips


def _zip_members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(info, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError):
        return None


class Bomb(bytes):
    """A member's raw deflate stream that inflates to far more than it holds (``inflated``)."""

    inflated = 0


def deflate_bomb(prefix: bytes, size: int, suffix: bytes = b"") -> Bomb:
    """Raw deflate of ``prefix + b" " * size + suffix`` built in O(size / 1 MiB) time: one
    full-flushed megabyte of spaces compressed once and its stream segment repeated (a full
    flush makes each segment independent of the ones before)."""
    step = 2**20
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = z.compress(prefix) + z.flush(zlib.Z_FULL_FLUSH)
    segment = z.compress(b" " * step) + z.flush(zlib.Z_FULL_FLUSH)
    tail = z.compress(suffix) + z.flush()
    bomb = Bomb(head + segment * (size // step) + tail)
    bomb.inflated = len(prefix) + step * (size // step) + len(suffix)
    return bomb


def _write_zip(members: list[tuple[str, bytes, int]]) -> bytes:
    """A zip of the members, written by hand so duplicate names, odd names and bombs (a
    :class:`Bomb` is written as its raw stream, method deflate, its CRC left wrong) go in."""
    out = bytearray()
    central = bytearray()
    for name, payload, method in members:
        raw_name = name.encode("utf-8", "surrogatepass")
        if isinstance(payload, Bomb):
            method, packed, crc, size = zipfile.ZIP_DEFLATED, bytes(payload), 0, payload.inflated
        else:
            method = zipfile.ZIP_DEFLATED if method == zipfile.ZIP_DEFLATED else zipfile.ZIP_STORED
            if method == zipfile.ZIP_DEFLATED:
                z = zlib.compressobj(6, zlib.DEFLATED, -15)
                packed = z.compress(payload) + z.flush()
            else:
                packed = payload
            crc, size = zlib.crc32(payload), len(payload)
        flags = 0x800 if any(c > 127 for c in raw_name) else 0
        sizes = (min(len(packed), 2**32 - 1), min(size, 2**32 - 1))
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0x5021, crc, *sizes, len(raw_name), 0
        )
        out += raw_name + packed
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            flags,
            method,
            0,
            0x5021,
            crc,
            *sizes,
            len(raw_name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += raw_name
    count = min(len(members), 0xFFFF)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def patch_zip(data: bytes, member: str, what: str, value: int) -> bytes:
    """Patch a field of ``member``'s local and central headers: ``flags``, ``method`` or
    ``size`` (the declared uncompressed size)."""
    out = bytearray(data)
    name = member.encode()
    # (signature, offset of flags, of method, of uncompressed size, of name length, of name)
    for sig, flags, method, size, name_len, name_at in (
        (b"PK\x03\x04", 6, 8, 22, 26, 30),
        (b"PK\x01\x02", 8, 10, 24, 28, 46),
    ):
        at = out.find(sig)
        while at >= 0:
            if at + name_at <= len(out):
                (length,) = struct.unpack_from("<H", out, at + name_len)
                if bytes(out[at + name_at : at + name_at + length]) == name:
                    offset = {"flags": flags, "method": method, "size": size}[what]
                    fmt = "<I" if what == "size" else "<H"
                    struct.pack_into(
                        fmt, out, at + offset, value & (0xFFFFFFFF if what == "size" else 0xFFFF)
                    )
            at = out.find(sig, at + 4)
    return bytes(out)


def mutate_keras(
    rng: random.Random, data: bytes, pool: list[bytes], json_pool: list[bytes], steps: int
) -> tuple[bytes, list[str]]:
    members = _zip_members(data)
    ops = []
    if members is None or rng.random() < 0.15:
        for _ in range(steps):
            data, op = byte_mutation(rng, data, pool)
            ops.append(op)
        return data, ops
    items = [(info.filename, payload, info.compress_type) for info, payload in members]
    patches: list[tuple[str, str, int]] = []
    for _ in range(steps):
        names = [n for n, _, _ in items]
        op = rng.choice(
            (
                "config",
                "config",
                "config",
                "drop",
                "rename",
                "dup",
                "bomb",
                "flags",
                "method",
                "size",
                "member",
                "empty",
                "graft",
            )
        )
        target = (
            "config.json"
            if "config.json" in names and rng.random() < 0.8
            else rng.choice(names or ["config.json"])
        )
        if op == "config":
            for i, (n, payload, method) in enumerate(items):
                if n == target:
                    new, sub = mutate_json_bytes(rng, payload, json_pool, 1)
                    items[i] = (n, new, method)
                    op += ":" + ",".join(sub)
        elif op == "drop":
            items = [it for it in items if it[0] != target]
        elif op == "rename":
            new_name = rng.choice(
                (
                    "Config.json",
                    "config.json/",
                    "/config.json",
                    "../config.json",
                    "config.json\x00",
                    "dir/config.json",
                )
            )
            items = [(new_name if n == target else n, p, m) for n, p, m in items]
        elif op == "dup":
            extra = [it for it in items if it[0] == target]
            if extra:
                new, _ = mutate_json_bytes(rng, extra[0][1], json_pool, 1)
                items.insert(rng.randrange(len(items) + 1), (target, new, extra[0][2]))
        elif op == "bomb":
            size = rng.choice((65 * 2**20, 80 * 2**20, 3 * 2**30))
            if target == "config.json":
                payload = deflate_bomb(b"{", size, b'"layers": []}')
            else:
                payload = deflate_bomb(b"\x89HDF\r\n\x1a\n", size)
            items = [it for it in items if it[0] != target] + [(target, payload, zipfile.ZIP_DEFLATED)]
            if rng.random() < 0.7:
                patches.append((target, "size", rng.choice((227, 0, 2**32 - 1))))
            op += f"-{target}-{size >> 20}MiB"
        elif op == "flags":
            patches.append((target, "flags", rng.choice((1, 8, 0x41, 0xFFFF))))
        elif op == "method":
            patches.append((target, "method", rng.choice((1, 6, 9, 12, 14, 99, 0xFFFF))))
        elif op == "size":
            patches.append((target, "size", rng.choice(EDGE_VARINTS)))
        elif op == "member":
            for i, (n, payload, method) in enumerate(items):
                if n == target:
                    if n.endswith(".h5") and rng.random() < 0.5:
                        new, sub = mutate_h5(rng, payload, [payload], json_pool, 1)
                        op += ":" + ",".join(sub)
                    else:
                        new, sub = byte_mutation(rng, payload, pool)
                        op += ":" + sub
                    items[i] = (n, new, method)
        elif op == "empty":
            items = []
        elif op == "graft":
            cfg = [p for n, p, _ in items if n == "config.json"]
            if cfg:
                grafted = splice(rng, cfg[0], rng.choice(json_pool))
                items = [(n, grafted if n == "config.json" else p, m) for n, p, m in items]
        ops.append("zip:" + op)
    data = _write_zip(items)
    for member, what, value in patches:
        data = patch_zip(data, member, what, value)
    return data, ops


# ----------------------------------------------------------------------------- .h5 files


def mutate_h5(
    rng: random.Random, data: bytes, pool: list[bytes], json_pool: list[bytes], steps: int
) -> tuple[bytes, list[str]]:
    """h5py rewrites (model_config, weights datasets) or byte mutations of the file."""
    ops: list[str] = []
    try:
        import h5py
        import numpy as np
    except ImportError:
        h5py = None
    if h5py is None or rng.random() < 0.25:
        for _ in range(steps):
            data, op = byte_mutation(rng, data, pool)
            ops.append(op)
        return data, ops
    with tempfile.TemporaryDirectory(prefix="fuzz-h5-") as tmp:
        path = os.path.join(tmp, "m.h5")
        Path(path).write_bytes(data)
        try:
            with h5py.File(path, "r+") as handle:
                for _ in range(steps):
                    try:
                        op = _h5_edit(rng, handle, json_pool, h5py, np)
                    except (ValueError, TypeError, KeyError, RuntimeError, OverflowError) as err:
                        op = f"failed({type(err).__name__})"
                    ops.append("h5:" + op)
            data = Path(path).read_bytes()
        except (OSError, ValueError, TypeError, KeyError, RuntimeError) as err:
            ops.append(f"h5:unopened({type(err).__name__})")
            data, op = byte_mutation(rng, data, pool)
            ops.append(op)
    return data, ops


def _h5_edit(rng: random.Random, handle: Any, json_pool: list[bytes], h5py: Any, np: Any) -> str:
    """One edit of an open .h5 file; its name."""
    op = rng.choice(
        (
            "config",
            "config",
            "config",
            "config-type",
            "drop-config",
            "dataset",
            "group",
            "attr",
        )
    )
    if op == "config" and "model_config" in handle.attrs:
        raw = handle.attrs["model_config"]
        raw = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogatepass")
        new, sub = mutate_json_bytes(rng, raw, json_pool, 1)
        text = new.decode("utf-8", "replace")
        handle.attrs["model_config"] = text if rng.random() < 0.7 else np.bytes_(new)
        op += ":" + ",".join(sub)
    elif op == "config-type":
        handle.attrs["model_config"] = rng.choice(
            (
                np.arange(rng.choice((0, 3, 1000))),
                np.float64("nan"),
                np.int64(-1),
                np.array([b"{}", b"[]"]),
                "",
                "\x00",
            )
        )
    elif op == "drop-config" and "model_config" in handle.attrs:
        del handle.attrs["model_config"]
    elif op == "dataset":
        group = handle.require_group("model_weights/" + rng.choice(("dense", "conv2d", "custom", "a/b/c")))
        shape = tuple(rng.choice((0, 1, 3, 2**31, 2**40)) for _ in range(rng.choice((0, 1, 2, 4))))
        name = f"w{len(group)}"
        with contextlib.suppress(ValueError, TypeError, OverflowError, RuntimeError):
            group.create_dataset(name, shape=shape, dtype="f4", chunks=True if shape else None)
    elif op == "group":
        parent = handle.require_group("model_weights")
        count = rng.choice((10, 1000, 5000))
        for i in range(count):
            parent.require_group(f"g{i}")
        op += f"-{count}"
    else:
        handle.attrs[rng.choice(("keras_version", "backend", "layer_names", "weight_names"))] = rng.choice(
            ("3.0", "", "x" * 100_000, np.arange(3))
        )
    return op


# ----------------------------------------------------------------------------- ONNX (protobuf)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _put_varint(value: int) -> bytes:
    value &= 2**64 - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def pb_parse(data: bytes) -> list[list[Any]] | None:
    """Protobuf fields ``[number, wire type, value]`` of a message, or None when it is not one."""
    fields: list[list[Any]] = []
    pos = 0
    try:
        while pos < len(data):
            key, pos = _varint(data, pos)
            number, wire = key >> 3, key & 7
            if number == 0:
                return None
            if wire == 0:
                value, pos = _varint(data, pos)
            elif wire == 1:
                value, pos = data[pos : pos + 8], pos + 8
            elif wire == 2:
                length, pos = _varint(data, pos)
                value, pos = data[pos : pos + length], pos + length
            elif wire == 5:
                value, pos = data[pos : pos + 4], pos + 4
            else:
                return None
            if pos > len(data):
                return None
            fields.append([number, wire, value])
    except ValueError:
        return None
    return fields


def pb_dump(fields: list[list[Any]]) -> bytes:
    out = bytearray()
    for number, wire, value in fields:
        out += _put_varint(number << 3 | wire)
        if wire == 0:
            out += _put_varint(value)
        elif wire == 2:
            out += _put_varint(len(value)) + value
        else:
            out += value
    return bytes(out)


def pb_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """One field of the message tree changed: a varint set to an edge, a length-delimited field
    deleted, duplicated, truncated or replaced, a fixed-width field flipped; the enclosing
    messages re-encoded (their lengths stay right, as a writer's would)."""
    root = pb_parse(data)
    if not root:
        return flip(rng, data), "flip"
    stack: list[tuple[list[list[Any]], int]] = []
    fields = root
    path = []
    while True:
        i = rng.randrange(len(fields))
        number, wire, value = fields[i]
        path.append(str(number))
        if wire == 2 and len(value) <= 2**16 and rng.random() < 0.7:
            sub = pb_parse(value)
            if sub:
                stack.append((fields, i))
                fields = sub
                continue
        break
    op = "set"
    if wire == 0:
        fields[i][2] = rng.choice(EDGE_VARINTS)
        op = "varint"
    elif wire == 2:
        op = rng.choice(("delete", "dup", "truncate", "bytes", "move"))
        if op == "delete":
            del fields[i]
        elif op == "dup":
            count = rng.choice((1, 2, 100, 10_000))
            count = min(count, max(1, 20_000_000 // max(1, len(value))))
            fields[i + 1 : i + 1] = [list(fields[i]) for _ in range(count)]
            op += f"-{count}"
        elif op == "truncate":
            fields[i][2] = value[: rng.randrange(len(value) + 1)]
        elif op == "bytes":
            fields[i][2] = rng.choice((b"", b"\xff" * 8, "é".encode(), b"x" * 1000, flip(rng, value)))
        else:
            fields[i][0] = rng.choice((1, 2, 3, 4, 5, 7, 8, 10, 11, 13, 14, 20))
    else:
        fields[i][2] = flip(rng, value)
        op = "fixed"
    child = pb_dump(fields)
    while stack:
        fields, i = stack.pop()
        fields[i][2] = child
        child = pb_dump(fields)
    return child, f"pb:{'.'.join(path)}:{op}"


def onnx_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """An edit with the onnx package (None when it is absent or the bytes do not parse)."""
    try:
        import onnx
        from onnx import helper
    except ImportError:
        return None
    try:
        model = onnx.load_from_string(data)
    except Exception:  # noqa: BLE001 - any parse failure: fall back to wire mutations
        return None
    try:
        return _onnx_edit(rng, model, onnx, helper)
    except Exception:  # noqa: BLE001 - an edit protobuf refuses: wire mutations instead
        return None


def _onnx_edit(rng: random.Random, model: Any, onnx: Any, helper: Any) -> tuple[bytes, str] | None:
    graph = model.graph
    nodes = list(graph.node)
    op = rng.choice(
        (
            "attr",
            "attr",
            "dims",
            "input-dims",
            "op",
            "rename",
            "drop-node",
            "repeat",
            "cycle",
            "opset",
            "external",
            "dup-output",
        )
    )
    if op == "attr":
        with_attrs = [n for n in nodes if n.attribute]
        if with_attrs:
            attr = rng.choice(list(rng.choice(with_attrs).attribute))
            edge = rng.choice((0, -1, 2**31, 2**63 - 1, -(2**63), 5, 2**40))
            if attr.ints:
                attr.ints[rng.randrange(len(attr.ints))] = edge
            elif attr.type == onnx.AttributeProto.INT:
                attr.i = edge
            elif attr.type == onnx.AttributeProto.FLOAT:
                attr.f = rng.choice((float("nan"), float("inf"), 1e38, -1.0))
            else:
                attr.type = rng.choice((0, 1, 2, 3, 5, 7, 13))  # the enum refuses others
    elif op == "dims" and graph.initializer:
        tensor = rng.choice(list(graph.initializer))
        if tensor.dims:
            tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice((0, -1, 2**31, 2**62, 2**63 - 1))
        else:
            tensor.dims.extend([rng.choice((0, 2**40))])
    elif op == "input-dims" and graph.input:
        value = rng.choice(list(graph.input))
        dims = value.type.tensor_type.shape.dim
        if dims:
            dim = dims[rng.randrange(len(dims))]
            if rng.random() < 0.7:
                dim.dim_value = rng.choice((0, -1, 1, 2**31, 2**62, 2**63 - 1))
            else:
                dim.dim_param = rng.choice(("N", "", "x" * 1000))
    elif op == "op" and nodes:
        node = rng.choice(nodes)
        node.op_type = rng.choice(
            [n.op_type for n in nodes]
            + ["Loop", "If", "Scan", "NoSuchOp", "", "Unsqueeze", "Reshape", "Resize", "Einsum"]
        )
    elif op == "rename" and nodes:
        node = rng.choice(nodes)
        if node.input:
            node.input[rng.randrange(len(node.input))] = rng.choice(
                ("missing", "", node.output[0] if node.output else "x")
            )
    elif op == "drop-node" and nodes:
        graph.node.remove(rng.choice(nodes))
    elif op == "repeat" and nodes:
        node = rng.choice(nodes)
        count = rng.choice(SMALL_REPEATS)
        if len(node.input) >= 1 and len(node.output) == 1:
            previous = node.output[0]
            for k in range(count):
                name = f"rep{k}"
                graph.node.append(helper.make_node("Relu", [previous], [name]))
                previous = name
        op += f"-{count}"
    elif op == "cycle" and nodes:
        node = rng.choice(nodes)
        if node.input and node.output:
            node.input[0] = node.output[0]
    elif op == "opset":
        if model.opset_import:
            model.opset_import[0].version = rng.choice((0, 1, 6, 99, 2**62))
        model.ir_version = rng.choice((0, 1, 3, 11, 2**40))
    elif op == "external" and graph.initializer:
        tensor = rng.choice(list(graph.initializer))
        tensor.data_location = onnx.TensorProto.EXTERNAL
        del tensor.external_data[:]
        for key, value in (
            ("location", rng.choice(("../../etc/passwd", "/dev/zero", "missing.bin"))),
            ("length", "99999999999"),
        ):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
    elif op == "dup-output" and len(nodes) > 1:
        a, b = rng.sample(nodes, 2)
        if a.output and b.output:
            b.output[0] = a.output[0]
    try:
        return model.SerializeToString(), "onnx:" + op
    except Exception:  # noqa: BLE001 - e.g. a message too large
        return None


def mutate_onnx(rng: random.Random, data: bytes, pool: list[bytes], steps: int) -> tuple[bytes, list[str]]:
    ops = []
    for _ in range(steps):
        choice = rng.random()
        done = onnx_mutation(rng, data) if choice < 0.45 else None
        if done is None and choice < 0.85:
            done = pb_mutation(rng, data)
        if done is None:
            done = byte_mutation(rng, data, pool)
        data, op = done
        ops.append(op)
    return data, ops


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One run of cnncalc: the command line (``{file}`` where the input file goes), the input's
    bytes (None for command-line forms), whether it goes through standard input."""

    form: str
    index: int
    seed: str
    ops: list[str]
    argv: list[str]
    data: bytes | None = None
    filename: str = ""
    stdin: bool = False
    timeout: float = 20.0
    command: str = "summary"


#: Commands a model file goes through, with weights, and the exit codes each documents.
FILE_COMMANDS = (
    (["summary", "-f", "{file}", "--format", "json"], 5),
    (["summary", "-f", "{file}"], 3),
    (["explain", "-f", "{file}"], 1),
    (["export", "--to", "pytorch", "-f", "{file}"], 1),
    (["export", "--to", "keras", "-f", "{file}"], 1),
    (["memory", "-f", "{file}"], 1),
    (["solve", "sizes", "-f", "{file}"], 1),
    (["counters", "-f", "{file}"], 1),
    (["diagram", "-f", "{file}"], 1),
)
ALLOWED = {"check": (0, 1, 2), "solve": (0, 1, 2)}
ENDINGS = {"json": ".json", "keras": ".keras", "h5": ".h5", "onnx": ".onnx", "py": ".py"}


def _pick_command(rng: random.Random, form: str) -> list[str]:
    commands = list(FILE_COMMANDS)
    if form == "json":
        commands.append((["check", "{file}"], 5))
    elif form in ("keras", "h5", "onnx", "py"):
        commands.append((["check", "{file}", "--allow-empty", "--expect", "expect.json"], 1))
    return list(rng.choices([c for c, _ in commands], [w for _, w in commands])[0])


def make_case(form: str, index: int, master: int, seeds: dict[str, list[Seed]]) -> Case:
    """Case ``index`` of ``form``: the same for the same master seed, whatever else runs."""
    rng = random.Random(f"{master}:{form}:{index}")
    pool = seeds[form]
    seed = rng.choices(pool, [4 if s.valid else 1 for s in pool])[0]
    steps = rng.choice((1, 1, 1, 1, 2, 3))
    if form == "compact":
        argv, ops = mutate_compact(rng, seed.argv, [s.argv for s in pool], steps)
        command = rng.choice(
            (
                ["summary", "--format", "json"],
                ["summary"],
                ["explain"],
                ["solve", "sizes"],
                ["memory"],
                ["export", "--to", "pytorch"],
            )
        )
        return Case(form, index, seed.name, ops, command + argv, command=command[0])
    if form == "zoo":
        argv, ops = mutate_zoo(rng, seed.argv[0], [s.argv[0] for s in pool], steps)
        command = rng.choice((["summary"], ["summary", "--format", "json"], ["explain"], ["memory"]))
        return Case(form, index, seed.name, ops, command + argv, command=command[0])
    others = [s.data for s in pool if s is not seed] or [seed.data]
    json_pool = [s.data for s in seeds["json"]]
    if form == "json":
        data, ops = mutate_json_bytes(rng, seed.data, others, steps)
    elif form == "py":
        data, ops = mutate_py(rng, seed.data, others, steps)
    elif form == "keras":
        data, ops = mutate_keras(rng, seed.data, others, json_pool, steps)
    elif form == "h5":
        data, ops = mutate_h5(rng, seed.data, others, json_pool, steps)
    else:
        data, ops = mutate_onnx(rng, seed.data, others, steps)
    argv = _pick_command(rng, form)
    stdin = rng.random() < 0.15
    ending = rng.choices((ENDINGS[form], "", ".json", ".txt"), (20, 1, 1, 1))[0]
    filename = "model" + ending
    if stdin:
        argv = [("-" if a == "{file}" else a) for a in argv]
    if form in ("onnx", "py") and rng.random() < 0.4:
        argv += ["--input", rng.choice(SHAPES + ("3x224x224", "1x28x28", "0x0x0", "2147483648x1x1"))]
    elif form == "onnx" and rng.random() < 0.2:  # named inputs, as for graphs with several
        names = re.findall(rb"[A-Za-z_][\w.:/]{0,30}", data[:4096]) or [b"input"]
        pairs = [
            f"{rng.choice(names).decode()}={rng.choice(SHAPES[:3])}" for _ in range(rng.choice((1, 2, 3)))
        ]
        argv += ["--input", rng.choice((",", " ", ",,")).join(pairs)]
    if form == "py" and rng.random() < 0.15 and argv[0] != "check":
        names = re.findall(rb"^(?:class|def)?\s*(\w+)", data, re.M) or [b"net"]
        argv += ["--model-name", rng.choice(names).decode("utf-8", "replace")]
    if form in ("json", "keras", "h5") and rng.random() < 0.1 and argv[0] in ("summary", "explain"):
        argv += ["--expand"]
    if (rng.random() < 0.05 or (stdin and rng.random() < 0.3)) and (argv[0] != "check" or "--expect" in argv):
        own = form if form != "py" else "python"
        argv += ["--from", rng.choice((own, own, own, "json", "keras", "h5", "onnx", "python"))]
    if rng.random() < 0.15 and (argv[0] != "check" or "--expect" in argv):
        argv += ["--convention", rng.choice(("pytorch", "keras"))]
    # The h5 reader stops the HDF5 library after 30 s, the weights walk after 30 more.
    timeout = 75.0 if form in ("h5", "keras") else 20.0
    return Case(form, index, seed.name, ops, argv, data, filename, stdin, timeout, argv[0])


@dataclass
class Outcome:
    kind: str  # exit0, exit1, exit2, finding
    reason: str
    code: int | None
    seconds: float
    stderr: str = ""
    stdout_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def classify(
    command: str, code: int | None, timed_out: bool, stdout_bytes: int, stderr: str
) -> tuple[str, str]:
    """The outcome's kind and, for a finding, why."""
    if timed_out:
        return "finding", "timeout"
    assert code is not None
    if code == -signal.SIGXCPU:
        return "finding", "cpu time limit"
    if code < 0:
        return "finding", f"signal {signal.Signals(-code).name if -code in signal.valid_signals() else -code}"
    if "Traceback (most recent call last)" in stderr:
        return "finding", "traceback"
    if "MemoryError" in stderr:
        return "finding", "memory limit"
    # Notes (documented stderr remarks) and Click's usage preamble may come before the error.
    lines = [
        line
        for line in stderr.splitlines()
        if line.strip() and not line.startswith(("Note: ", "Usage: ", "Try '"))
    ]
    if code == 0:
        return ("exit0", "") if stdout_bytes > 0 else ("finding", "exit 0 without output")
    if code == 1 and 1 in ALLOWED.get(command, (0, 2)):
        return ("exit1", "") if stdout_bytes > 0 or lines else ("finding", "exit 1 without output")
    if code == 2:
        ok = (len(lines) == 1 and lines[0].startswith("Error: ")) or (
            len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Hint: ")
        )
        return ("exit2", "") if ok else ("finding", f"exit 2 with {len(lines)} stderr lines")
    return "finding", f"exit {code}"


def _limits(memory: int, cpu: float) -> Callable[[], None]:
    """Limits of a case's process: address space, CPU seconds (SIGXCPU at ``cpu``; CPU rather
    than wall-clock time, so a loaded machine does not make findings), no core files."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(cpu), math.ceil(cpu) + 2))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_case(case: Case, python: str, memory: int, workdir: str) -> Outcome:
    """Run the case in ``workdir`` (emptied first) under the limits; the outcome."""
    for entry in os.listdir(workdir):
        path = os.path.join(workdir, entry)
        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
    argv = [case.filename if a == "{file}" else a for a in case.argv]
    if case.data is not None and not case.stdin:
        Path(workdir, case.filename).write_bytes(case.data)
    if "--expect" in argv:
        Path(workdir, "expect.json").write_text('{"layers": [], "total_params": 0}', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNNCALC_", "PYTHON"))}
    env.update(PYTHONPATH=str(ROOT), KERAS_BACKEND="torch", COLUMNS="100", PYTHONDONTWRITEBYTECODE="1")
    stdout_path = os.path.join(workdir, ".stdout")
    start = time.monotonic()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed_out = False
    with open(stdout_path, "wb") as out:
        proc = subprocess.Popen(
            [python, "-m", "cnncalc", *argv],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE if case.stdin else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.PIPE,
            preexec_fn=_limits(memory, case.timeout),
            start_new_session=True,
        )
        try:
            # The wall-clock limit only catches a process that blocks (its CPU limit stops a spin).
            _, err = proc.communicate(case.data if case.stdin else None, timeout=3 * case.timeout + 10)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
        except BrokenPipeError:  # it stopped reading standard input: its own outcome says why
            _, err = proc.communicate()
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime  # exact with --jobs 1
    stdout_bytes = os.path.getsize(stdout_path)
    stderr = err.decode("utf-8", "replace")
    kind, reason = classify(case.command, proc.returncode, timed_out, stdout_bytes, stderr)
    return Outcome(
        kind,
        reason,
        None if timed_out else proc.returncode,
        seconds,
        stderr,
        stdout_bytes,
        {"cpu": round(cpu, 3)},
    )


def save_finding(out: Path, case: Case, python_name: str, python: str, outcome: Outcome, master: int) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", outcome.reason.lower()).strip("-")
    where = out / "findings" / f"{case.form}-{case.index:05d}-{python_name}-{slug}"
    where.mkdir(parents=True, exist_ok=True)
    argv = [case.filename if a == "{file}" else a for a in case.argv]
    if case.data is not None:
        (where / (case.filename or "stdin.bin")).write_bytes(case.data)
    (where / "stderr.txt").write_text(outcome.stderr[-20_000:], encoding="utf-8")
    record = {
        "form": case.form,
        "index": case.index,
        "master_seed": master,
        "seed": case.seed,
        "ops": case.ops,
        "argv": argv,
        "stdin": case.stdin,
        "python": python,
        "reason": outcome.reason,
        "exit": outcome.code,
        "seconds": round(outcome.seconds, 2),
    }
    (where / "case.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    feed = f" < {shlex.quote(case.filename)}" if case.stdin else ""
    if "--expect" in argv:
        (where / "expect.json").write_text('{"layers": [], "total_params": 0}', encoding="utf-8")
    (where / "repro.sh").write_text(
        "#!/bin/sh\n# " + outcome.reason + '\ncd "$(dirname "$0")" && '
        f"PYTHONPATH={shlex.quote(str(ROOT))} KERAS_BACKEND=torch {shlex.quote(python)} -m cnncalc "
        + " ".join(shlex.quote(a) for a in argv)
        + feed
        + "\n",
        encoding="utf-8",
    )
    return where


# ----------------------------------------------------------------------------- main


def _parse_pythons(values: list[str] | None) -> dict[str, str]:
    if not values:
        found = {name: path for name, path in DEFAULT_PYTHONS.items() if os.path.exists(path)}
        return found or {"self": sys.executable}
    out = {}
    for value in values:
        name, _, path = value.partition("=")
        out[name] = path or name
    return out


def plan(forms: list[str], cases: int) -> list[tuple[str, int]]:
    """(form, index) for ``cases`` cases spread evenly over the forms, in round-robin order."""
    return [(forms[i % len(forms)], i // len(forms)) for i in range(cases)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="cases in total, spread over the forms")
    parser.add_argument(
        "--seed", type=int, default=0, help="master seed (case i of a form is a function of it)"
    )
    parser.add_argument(
        "--out", default="fuzz-out", help="directory for results.jsonl, summary.json and findings/"
    )
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=1)
    parser.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated, of {','.join(FORMS)}")
    parser.add_argument(
        "--python",
        action="append",
        metavar="NAME=PATH",
        help="interpreters cnncalc runs with, in turn (repeatable)",
    )
    parser.add_argument("--memory", type=int, default=2 * 2**30, help="RLIMIT_AS of each case, bytes [2 GiB]")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="CPU seconds per case (RLIMIT_CPU; the wall-clock limit is 3x + 10 s) [20; 75 for h5/keras]",
    )
    parser.add_argument("--only", metavar="FORM:INDEX", help="run one case (with each --python)")
    parser.add_argument(
        "--list", action="store_true", help="print the cases (form, index, seed, ops, argv) and stop"
    )
    args = parser.parse_args(argv)

    forms = [f for f in args.forms.split(",") if f]
    unknown = set(forms) - set(FORMS)
    if unknown:
        parser.error(f"unknown forms {sorted(unknown)}; known: {','.join(FORMS)}")
    pythons = _parse_pythons(args.python)
    seeds = load_seeds()
    empty = [f for f in forms if not seeds[f]]
    if empty:
        parser.error(f"no seeds for {empty}")
    if args.only:
        form, _, index = args.only.partition(":")
        work = [(form, int(index))]
    else:
        work = plan(forms, args.cases)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(pythons)
    print(
        f"seeds: {', '.join(f'{f} {len(seeds[f])}' for f in forms)}; pythons: {', '.join(f'{n}={p}' for n, p in pythons.items())}",
        flush=True,
    )

    def one(job: tuple[int, tuple[str, int]], workdir: str) -> dict[str, Any]:
        number, (form, index) = job
        try:
            case = make_case(form, index, args.seed, seeds)
        except Exception as err:  # noqa: BLE001 - a bug of this tool: say so, go on with the others
            print(f"TOOL ERROR making {form}:{index}: {type(err).__name__}: {err}", flush=True)
            return {
                "form": form,
                "index": index,
                "python": "-",
                "outcome": "tool-error",
                "reason": repr(err)[:300],
                "seconds": 0.0,
            }
        if args.timeout is not None:
            case.timeout = args.timeout
        name = names[index % len(names)] if not args.only else names[number % len(names)]
        outcome = run_case(case, pythons[name], args.memory, workdir)
        record = {
            "form": form,
            "index": index,
            "python": name,
            "command": case.command,
            "seed": case.seed,
            "ops": case.ops,
            "outcome": outcome.kind,
            "reason": outcome.reason,
            "exit": outcome.code,
            "seconds": round(outcome.seconds, 3),
            "cpu": outcome.extra.get("cpu"),
            "bytes": len(case.data) if case.data is not None else sum(len(a) for a in case.argv),
        }
        if outcome.kind == "exit0" and outcome.stderr.strip():
            record["stderr_on_success"] = outcome.stderr.strip().splitlines()[0][:300]
        if outcome.kind == "exit2":
            record["error"] = next(
                (line[:200] for line in outcome.stderr.splitlines() if line.startswith("Error: ")), ""
            )
        if outcome.kind == "exit2" and len(outcome.stderr) > 2000:
            record["long_error"] = len(outcome.stderr)
        if outcome.kind == "finding":
            record["saved"] = str(save_finding(out, case, name, pythons[name], outcome, args.seed))
            last = [line for line in outcome.stderr.splitlines() if line.strip()][-1:] or [""]
            record["last_stderr"] = last[0][:300]
        return record

    if args.list:
        for form, index in work:
            case = make_case(form, index, args.seed, seeds)
            print(
                json.dumps(
                    {
                        "form": form,
                        "index": index,
                        "seed": case.seed,
                        "ops": case.ops,
                        "argv": case.argv,
                        "stdin": case.stdin,
                    }
                )
            )
        return 0
    jobs = list(enumerate(work))
    if args.only:
        jobs = [(k, work[0]) for k in range(len(names))]
    counts: Counter[tuple[str, str]] = Counter()
    seconds: Counter[str] = Counter()
    findings = []
    started = time.monotonic()
    results = (out / "results.jsonl").open("w", encoding="utf-8")
    dirs = [tempfile.mkdtemp(prefix=f"fuzz-{k}-") for k in range(args.jobs)]
    try:
        if args.jobs == 1:
            iterator = (one(job, dirs[0]) for job in jobs)
        else:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(args.jobs)
            free = list(dirs)

            def threaded(job: tuple[int, tuple[str, int]]) -> dict[str, Any]:
                workdir = free.pop()
                try:
                    return one(job, workdir)
                finally:
                    free.append(workdir)

            iterator = pool.map(threaded, jobs)
        for done, record in enumerate(iterator, 1):
            results.write(json.dumps(record) + "\n")
            results.flush()
            counts[(record["form"], record["outcome"])] += 1
            seconds[record["form"]] += record["seconds"]
            if record["outcome"] == "finding":
                findings.append(record)
                print(
                    f"FINDING {record['form']}:{record['index']} [{record['python']}] {record['reason']}: {record.get('last_stderr', '')[:160]}",
                    flush=True,
                )
            if done % 100 == 0:
                print(
                    f"{done}/{len(jobs)} cases, {time.monotonic() - started:.0f} s, {len(findings)} findings",
                    flush=True,
                )
    finally:
        results.close()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    elapsed = time.monotonic() - started
    table = {
        form: {kind: counts[(form, kind)] for kind in ("exit0", "exit1", "exit2", "finding", "tool-error")}
        | {"seconds": round(seconds[form], 1)}
        for form in forms
    }
    summary = {
        "seed": args.seed,
        "cases": len(jobs),
        "seconds": round(elapsed, 1),
        "pythons": pythons,
        "forms": table,
        "findings": findings,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"\n{'form':<9}{'exit0':>7}{'exit1':>7}{'exit2':>7}{'finding':>9}{'seconds':>9}")
    for form, row in table.items():
        print(
            f"{form:<9}{row['exit0']:>7}{row['exit1']:>7}{row['exit2']:>7}{row['finding']:>9}{row['seconds']:>9}"
        )
    print(f"{len(jobs)} cases in {elapsed:.0f} s; {len(findings)} findings (under {out / 'findings'})")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
