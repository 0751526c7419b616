"""The test models that ship inside the ``onnx`` package (``onnx/backend/test/data``), read by
cnncalc: how many read, whose final shape equals the model's expected output tensor, and why the
others are refused.

Run: PYTHONPATH=. python tools/onnx_backend_models.py [--verbose]
``tests/test_onnx_backend.py`` runs the same comparison as a test suite.
"""

from __future__ import annotations

import argparse
import collections
import os
from collections.abc import Iterator
from pathlib import Path


def data_dir() -> Path | None:
    """``onnx/backend/test/data`` of the installed onnx package, or None without it."""
    try:
        import onnx
    except ImportError:
        return None
    return Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data"


#: The folders whose models are networks or network pieces (``node/`` are single-op cases).
SOURCES = ("light", "pytorch-converted", "pytorch-operator", "simple")


def models() -> Iterator[tuple[str, Path, Path | None]]:
    """(id, model file, expected output_0.pb or None) for every stored model."""
    root = data_dir()
    if root is None:
        return
    for source in SOURCES:
        folder = root / source
        if not folder.is_dir():
            continue
        if source == "light":
            for path in sorted(folder.glob("*.onnx")):
                out = folder / f"{path.stem}_output_0.pb"
                yield f"light/{path.stem}", path, out if out.exists() else None
            continue
        for case in sorted(p for p in folder.iterdir() if (p / "model.onnx").exists()):
            out = case / "test_data_set_0" / "output_0.pb"
            yield f"{source}/{case.name}", case / "model.onnx", out if out.exists() else None


def expected_shape(path: Path | None) -> tuple[int, ...] | None:
    """The dims of a stored expected output tensor (a TensorProto), read with cnncalc's wire reader."""
    if path is None:
        return None
    from cnncalc.io.onnx_wire import _tensor

    data = path.read_bytes()
    return _tensor(data, 0, len(data))[1].dims


def outcome(path: Path, want: tuple[int, ...] | None) -> tuple[str, str]:
    """("read"|"wrong"|"refused", detail)."""
    import cnncalc
    from cnncalc.errors import CnncalcError
    from cnncalc.io.sources import read_spec

    try:
        spec = read_spec(str(path))
        summary = cnncalc.summarize(spec)
    except CnncalcError as err:
        return "refused", str(err).split(": ", 1)[-1]
    rows = {row.name: row.output_shape for row in summary.layers}
    got = tuple(rows[spec.outputs[0]]) if spec.outputs else tuple(summary.output_shape)
    if want is not None and got not in (want, want[1:]):
        return "wrong", f"{got} != {want}"
    return "read", str(got)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    reasons: collections.Counter[str] = collections.Counter()
    for ident, path, out in models():
        status, detail = outcome(path, expected_shape(out))
        counts[ident.split("/")[0]][status] += 1
        if status != "read":
            reasons[detail[:100]] += 1
        if args.verbose or status == "wrong":
            print(f"{status:8} {ident}: {detail[:160]}")
    for source, c in counts.items():
        total = sum(c.values())
        print(f"{source:20} read {c['read']}/{total}  refused {c['refused']}  wrong {c['wrong']}")
    for reason, n in reasons.most_common(40):
        print(f"{n:4}  {reason}")


if __name__ == "__main__":
    main()
