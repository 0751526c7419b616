"""Nothing lost, every exit code honest: atomic writes, interrupts, closed pipes and streams,
full disks, unencodable output, and inputs that must be refused (FIFOs, duplicate keys, ...)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cnncalc.errors import SpecError
from cnncalc.io import files

from .helpers import run

PY = sys.executable
SPEC = {"input_shape": [8, 8, 3], "layers": ["conv:4,3", "flatten", "dense:2"]}


def cli_process(*args: str, stdin=subprocess.DEVNULL, env=None, shell_redirect: str = "", timeout=60):
    """``python -m cnncalc`` with an optional shell redirection (``<&-``, ``> /dev/full``)."""
    command = " ".join([PY, "-m", "cnncalc", *(repr(a) for a in args)]) + " " + shell_redirect
    return subprocess.run(
        ["bash", "-c", command],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    # One error line; a computed hint may follow it on a line of its own.
    assert len(lines) in (1, 2) and lines[0].startswith("Error: "), stderr
    assert all(line.startswith("Hint: ") for line in lines[1:]), stderr
    assert "Traceback" not in stderr
    return lines[0]


# ----------------------------------------------------------------------------- atomic writes


def test_write_atomic_replaces_whole_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o640)
    files.write_atomic(str(target), "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["out.json"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch, failure) -> None:
    target = tmp_path / "keep.svg"
    target.write_text("old")

    def fail(fd: int) -> None:
        raise failure

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(SpecError if isinstance(failure, OSError) else KeyboardInterrupt):
        files.write_atomic(str(target), "x" * 100_000)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.svg"]


def test_unencodable_text_is_refused_before_any_file_exists(tmp_path: Path) -> None:
    target = tmp_path / "keep.svg"
    target.write_text("old")
    # A name decoded from the JSON escape "\udcff" (a lone surrogate) cannot be UTF-8.
    spec = json.dumps({"input_shape": [4], "layers": [{"type": "dense", "units": 2, "name": "\udcff"}]})
    result = run("diagram", "-f", "-", "-o", str(target), input=spec)
    assert result.exit_code == 2
    assert "cannot write" in one_error_line(result.stderr)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["keep.svg"]


def test_output_to_a_device_is_written_not_replaced() -> None:
    result = run("summary", "--input", "4", "dense:2", "-o", "/dev/null", "--format", "json")
    assert result.exit_code == 0 and Path("/dev/null").is_char_device()


@pytest.mark.parametrize(
    ("output", "redirect", "log"),
    [
        ("/dev/stdout", ">> {log}", "stdout"),
        ("/dev/stderr", "2>> {log}", "stderr"),
        ("/dev/fd/1", ">> {log}", "stdout"),
        ("-", ">> {log}", "stdout"),
    ],
)
def test_output_to_a_stream_appends_in_place(tmp_path: Path, output, redirect, log) -> None:
    # -o /dev/stdout >> app.log: the SVG is appended to the log, which is never replaced.
    path = tmp_path / "app.log"
    path.write_text("kept line\n")
    inode = path.stat().st_ino
    proc = cli_process(
        "diagram", "--input", "8x8x3", "conv:4,3", "-o", output, shell_redirect=redirect.format(log=path)
    )
    assert proc.returncode == 0, proc.stderr
    text = path.read_text()
    assert text.startswith("kept line\n<svg") and path.stat().st_ino == inode
    assert os.listdir(tmp_path) == ["app.log"]


def test_output_to_stdout_into_a_pipe() -> None:
    proc = cli_process("diagram", "--input", "8x8x3", "conv:4,3", "-o", "/dev/stdout", shell_redirect="| cat")
    assert proc.returncode == 0 and proc.stdout.startswith("<svg"), proc.stderr


def test_output_to_a_closed_stdout_is_one_line() -> None:
    proc = cli_process("diagram", "--input", "8x8x3", "conv:4,3", "-o", "/dev/stdout", shell_redirect=">&-")
    assert proc.returncode == 2
    assert "cannot write /dev/stdout" in one_error_line(proc.stderr)


def test_file_size_limit_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    target.write_text("old")
    # ulimit -f 1: at most 1 KiB per file; the ResNet-50 JSON is ~100 KiB.
    proc = cli_process(
        "summary", "--model", "resnet50", "--format", "json", "-o", str(target), shell_redirect=""
    )
    assert proc.returncode == 0  # sanity: it writes without the limit
    target.write_text("old")
    command = f"ulimit -f 1; {PY} -m cnncalc summary --model resnet50 --format json -o {target}"
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "File too large" in one_error_line(proc.stderr)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["model.json"]


def _big_spec(path: Path, layers: int) -> dict:
    doc = {
        "input_shape": [16],
        "layers": [{"type": "dense", "units": 16, "params": 0, "output_shape": [16]} for _ in range(layers)],
    }
    path.write_text(json.dumps(doc, indent=2))
    return doc


@pytest.mark.parametrize(("step", "outcome"), [("created", "old"), ("written", "old"), ("replaced", "new")])
def test_killed_update_leaves_old_or_new_file_whole(tmp_path: Path, step: str, outcome: str) -> None:
    # Killed at a named step of the writer (the CNNCALC_STOP_AT test hook), not after a guessed
    # time: before the rename the old file stays, after it the new one is whole.
    target = tmp_path / "big.json"
    old = _big_spec(target, 200)
    proc = subprocess.run(
        [PY, "-m", "cnncalc", "check", "--update", str(target)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "CNNCALC_STOP_AT": f"{step}:KILL"},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    doc = json.loads(target.read_text())  # never truncated: always parses
    assert doc != old if outcome == "new" else doc == old
    if outcome == "new":
        assert doc["layers"][0]["params"] == 272
    assert all(n == "big.json" or n.startswith(".big.json.") for n in os.listdir(tmp_path))
    # SIGKILL leaves a temp file at worst, never a damaged target; the next write removes it.
    subprocess.run([PY, "-m", "cnncalc", "check", "--update", str(target)], capture_output=True, timeout=120)
    assert json.loads(target.read_text())["layers"][0]["params"] == 272
    assert os.listdir(tmp_path) == ["big.json"]


@pytest.mark.parametrize("step", ["created", "written"])
def test_sigterm_during_update_leaves_no_temp_file(tmp_path: Path, step: str) -> None:
    target = tmp_path / "big.json"
    old = _big_spec(target, 200)
    proc = subprocess.run(
        [PY, "-m", "cnncalc", "check", "--update", str(target)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "CNNCALC_STOP_AT": f"{step}:TERM"},
    )
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert json.loads(target.read_text()) == old
    assert os.listdir(tmp_path) == ["big.json"]


def test_only_our_stale_temp_files_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    dead = _dead_pid()
    ours = tmp_path / f".out.json.{dead}.abcd1234.tmp"
    alive = tmp_path / f".out.json.{os.getppid()}.abcd1234.tmp"  # a writer still running
    other = tmp_path / ".out.json.abcd1234.tmp"  # not our naming (no process id)
    neighbour = tmp_path / f".other.json.{dead}.abcd1234.tmp"  # another target's
    for path in (ours, alive, other, neighbour):
        path.write_text("partial")
    files.write_atomic(str(target), "new")
    assert sorted(os.listdir(tmp_path)) == sorted(["out.json", alive.name, other.name, neighbour.name])


def _dead_pid() -> int:
    proc = subprocess.Popen([PY, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_concurrent_writers_never_leave_corrupt_json(tmp_path: Path) -> None:
    target = tmp_path / "same.json"
    procs = [
        subprocess.Popen(
            [PY, "-m", "cnncalc", "summary", "--model", "resnet50", "--format", "json", "-o", str(target)],
            stderr=subprocess.DEVNULL,
        )
        for _ in range(8)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert json.loads(target.read_text())["total_params"] == 25_636_712
    assert os.listdir(tmp_path) == ["same.json"]


def test_update_validates_every_file_before_writing_any(tmp_path: Path) -> None:
    good = tmp_path / "a.json"
    good.write_text(json.dumps({**SPEC, "total_params": 1}))
    bad = tmp_path / "b.json"
    bad.write_text('{"input_shape": [8, 8, 3], "layers": ["conv:4,99"]}')
    before = good.read_text()
    result = run("check", "--update", str(good), str(bad))
    assert result.exit_code == 2
    assert good.read_text() == before  # nothing written
    assert "no spec updated: 1 of 2 could not be checked" in result.stderr


def test_update_of_a_keras_document_does_not_crash(tmp_path: Path) -> None:
    source = Path(__file__).parent / "fixtures" / "keras" / "residual_functional.json"
    target = tmp_path / "keras.json"
    target.write_text(source.read_text())
    # A Keras document holds no expectations: checked (it computes), never rewritten.
    result = run("check", "--update", "--allow-empty", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text() == source.read_text()


# ----------------------------------------------------------------------------- exit codes


def test_ctrl_c_in_a_command_exits_130(monkeypatch) -> None:
    import cnncalc.engine

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cnncalc.engine, "summarize", interrupt)
    result = run("summary", "--input", "4", "dense:2")
    assert result.exit_code == 130
    assert one_error_line(result.stderr) == "Error: interrupted"


def test_ctrl_c_while_loading_exits_130_without_traceback() -> None:
    # An interrupt raised while the CLI's modules load (as Ctrl-C during start-up would).
    code = textwrap.dedent(
        """
        import sys
        class Interrupt:
            def find_spec(self, name, path=None, target=None):
                if name == "cnncalc.engine":
                    raise KeyboardInterrupt
        sys.meta_path.insert(0, Interrupt())
        from cnncalc._launch import main
        sys.argv = ["cnncalc", "summary", "--input", "4", "dense:2"]
        main()
        """
    )
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert one_error_line(proc.stderr) == "Error: interrupted"


def _interruptible() -> None:
    """The child starts with Ctrl-C's default action, as a command typed at a shell does: a suite
    run as a background job of a non-interactive shell has SIGINT ignored (POSIX), children
    inherit that, and Python then installs no KeyboardInterrupt handler (the signal is lost)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_real_sigint_during_a_run_exits_130() -> None:
    proc = subprocess.Popen(
        [PY, "-m", "cnncalc", "verify", "--input", "2000x2000x8", "conv:64,3", "--max-memory", "8GiB"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_interruptible,
    )
    # Interrupted once the executor runs (numpy's core is mapped in), not after a guessed time.
    maps = Path(f"/proc/{proc.pid}/maps")
    for _ in range(1200):
        try:
            if proc.poll() is not None or "_multiarray_umath" in maps.read_text(errors="replace"):
                break
        except OSError:  # gone between the poll and the read
            break
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode == 130 and one_error_line(stderr) == "Error: interrupted", (
        proc.returncode,
        f"{waited:.2f} s after the signal",
        stderr[-3000:],
    )


def test_closed_pipe_is_a_quiet_141() -> None:
    code = textwrap.dedent(
        """
        import io, sys
        class Closed(io.TextIOBase):
            encoding = "utf-8"
            def write(self, s): raise BrokenPipeError(32, "Broken pipe")
            def fileno(self): return sys.__stdout__.fileno()
            def isatty(self): return False
        sys.stdout = Closed()
        sys.argv = ["cnncalc", "summary", "--input", "4", "dense:2", "--format", "json"]
        from cnncalc._launch import main
        main()
        """
    )
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr


def test_disk_full_stdout_is_exit_2() -> None:
    proc = cli_process("summary", "--model", "resnet50", shell_redirect="> /dev/full")
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == "Error: cannot write standard output: No space left on device"


@pytest.mark.parametrize(
    "args",
    [
        ("summary", "--input", "4", "dense:2"),
        ("summary", "--input", "4", "dense:2", "--format", "json"),
        ("kinds",),
        ("models",),
        ("export", "--to", "keras", "--input", "4", "dense:2"),
        ("solve", "layer", "--input", "10", "--output", "8"),
        ("verify", "--input", "4", "dense:2"),
    ],
)
def test_closed_stdout_is_exit_2_in_every_command(args) -> None:
    proc = cli_process(*args, shell_redirect=">&-")
    assert proc.returncode == 2, proc.stderr
    assert one_error_line(proc.stderr) == "Error: cannot write standard output: it is closed"


def test_closed_stdout_with_an_output_file_still_writes_it(tmp_path: Path) -> None:
    target = tmp_path / "d.svg"
    proc = cli_process("diagram", "--input", "8x8x3", "conv:4,3", "-o", str(target), shell_redirect=">&-")
    assert proc.returncode == 0 and target.read_text().startswith("<svg")


def test_an_error_with_stderr_full_is_still_exit_2() -> None:
    proc = cli_process("summary", "--input", "0", "dense:2", shell_redirect="2> /dev/full")
    assert proc.returncode == 2 and proc.stderr == ""


def test_closed_stdin_is_exit_2() -> None:
    proc = cli_process("summary", "-f", "-", shell_redirect="<&-")
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == "Error: cannot read <stdin>: standard input is closed"


def test_unencodable_output_is_exit_2() -> None:
    proc = cli_process("explain", "--input", "8x8x3", "conv:4,3", env={"PYTHONIOENCODING": "cp1252"})
    assert proc.returncode == 2
    assert "cannot encode" in one_error_line(proc.stderr) and "PYTHONIOENCODING=utf-8" in proc.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ("summary", "-f", "-"),
            '{"input_shape": [4], "layers": [{"type": "dense", "units": 1' + "1" * 5000 + "}]}",
            "4300 digits",
        ),
        (
            ("summary", "-f", "-"),
            '{"input_shape": [4], "layers": [{"type": "dense", "units": 2, "units": 3}]}',
            'the key "units" appears twice',
        ),
        (
            ("summary", "-f", "-"),
            '{"input_shape": [4], "layers": ["dense:2"], "layers": []}',
            'the key "layers" appears twice',
        ),
        (("verify", "--seed", "-1", "--input", "4", "dense:2"), None, "--seed"),
        (("verify", "--max-memory", "1e999", "--input", "4", "dense:2"), None, "--max-memory"),
        (("summary", "-f", "-"), b"\xff\xfe{}", "cannot read <stdin>"),
    ],
)
def test_bad_values_are_exit_2(args, stdin, expected) -> None:
    if isinstance(stdin, bytes):
        proc = subprocess.run([PY, "-m", "cnncalc", *args], input=stdin, capture_output=True, timeout=60)
        code, stderr = proc.returncode, proc.stderr.decode()
    else:
        result = run(*args, input=stdin)
        code, stderr = result.exit_code, result.stderr
    assert code == 2, stderr
    assert expected in stderr and "Traceback" not in stderr and len(stderr) < 400


KERAS_SEQ = {
    "class_name": "Sequential",
    "config": {
        "name": "s",
        "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
            {"class_name": "Dense", "config": {"units": 2}},
        ],
    },
}


def _functional(history: list) -> dict:
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "keras_history": history}}
    return {
        "class_name": "Functional",
        "config": {
            "name": "f",
            "layers": [
                {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [None, 4], "name": "x"}},
                {
                    "class_name": "Dense",
                    "name": "d",
                    "config": {"units": 2},
                    "inbound_nodes": [{"args": [tensor]}],
                },
            ],
        },
    }


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {
                **KERAS_SEQ,
                "config": {**KERAS_SEQ["config"], "layers": [{"class_name": "InputLayer", "config": [1]}]},
            },
            "InputLayer config must be an object",
        ),
        (
            {**KERAS_SEQ, "config": {**KERAS_SEQ["config"], "layers": KERAS_SEQ["config"]["layers"] * 2}},
            "one InputLayer",
        ),
        (_functional(["x", 7, 3]), "reads tensor 3 of call 7 of 'x'"),
        (_functional(["x", 0, 1]), "only call 0, tensor 0 exists"),
    ],
)
def test_keras_documents_refused(doc, expected) -> None:
    result = run("summary", "-f", "-", input=json.dumps(doc))
    assert result.exit_code == 2 and expected in one_error_line(result.stderr), result.stderr


def test_keras_functional_with_node_0_tensor_0_reads() -> None:
    result = run("summary", "-f", "-", "--format", "json", input=json.dumps(_functional(["x", 0, 0])))
    assert result.exit_code == 0 and json.loads(result.stdout)["total_params"] == 10


def test_verify_merge_reading_one_tensor_twice() -> None:
    doc = {
        "input_shape": [4, 4, 2],
        "layers": [
            {"type": "conv", "filters": 2, "kernel_size": 1, "name": "a"},
            {"type": "add", "inputs": ["a", "a"]},
            {"type": "multiply", "inputs": ["add", "a"]},
        ],
    }
    result = run("verify", "-f", "-", input=json.dumps(doc))
    assert result.exit_code == 0, result.stderr


def test_loop_reference_on_a_dilated_max_pool_window_in_padding() -> None:
    # 2x2 input, pool 2 dilated 3, padding 1: the window's taps are -1 and 2, both padding;
    # PyTorch gives -inf there, which verify names as a non-finite output (exit 1, not 3).
    result = run("verify", "--convention", "pytorch", "--input", "1x2x2", "maxpool:2,1,1,dilation=3")
    assert result.exit_code == 1
    assert "non-finite output: 1 inf of 1 values" in result.stderr


@pytest.mark.parametrize(
    ("layers", "expected"),
    [(["bn:epsilon=-1"], "NaN"), (["dense:100,activation=exponential"] * 4, "inf")],
)
def test_nan_and_inf_fail_verify_by_name(layers, expected) -> None:
    shape = "8x8x3" if layers[0].startswith("bn") else "100"
    result = run("verify", "--input", shape, *layers)
    assert result.exit_code == 1
    assert "non-finite output" in result.stderr and expected in result.stderr
    assert "Warning" not in result.stderr and "RuntimeWarning" not in result.stderr


# ----------------------------------------------------------------------------- only regular files


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        path = tmp_path / "pipe.json"
        os.mkfifo(path)
        expected = "a FIFO (named pipe), not a regular file"
    elif kind == "directory":
        path = tmp_path / "dir.json"
        path.mkdir()
        expected = "a directory, not a regular file"
    else:
        path = Path("/dev/zero")
        expected = "a device, not a regular file"
    start = time.monotonic()
    result = run("summary", "-f", str(path))
    assert result.exit_code == 2 and expected in one_error_line(result.stderr)
    if kind != "device":
        checked = run("check", str(tmp_path / "*.json"))
        assert checked.exit_code == 2 and expected in checked.stderr
    assert time.monotonic() - start < 5  # refused at once, never blocked


@pytest.mark.slow
def test_long_cycle_message_is_bounded_and_fast() -> None:
    n = 100_000
    layers = [{"type": "dense", "units": 2, "name": f"l{i}", "inputs": f"l{(i - 1) % n}"} for i in range(n)]
    start = time.monotonic()
    result = run("summary", "-f", "-", input=json.dumps({"input_shape": [2], "layers": layers}))
    elapsed = time.monotonic() - start
    line = one_error_line(result.stderr)
    assert result.exit_code == 2 and len(line) < 200, line
    assert (
        line == "Error: the layers form a cycle of 100000 layers: l1 -> l2 -> l3 -> … -> l99999 -> l0 -> l1"
    )
    assert elapsed < 10


# ----------------------------------------------------------------------------- PyTorch pooling edges


@pytest.mark.parametrize(
    ("layer", "shape", "expected"),
    [
        # torch.nn.MaxPool2d(3, 3, ceil_mode=True)(torch.randn(1, 1, 2, 2)).shape == (1, 1, 1, 1):
        # out = ceil((2 - 3) / 3) + 1 = 1, and the window starts inside the input (0 < 2).
        ("maxpool:3,3,ceil_mode=true", "1x2x2", [1, 1, 1]),
        ("avgpool:3,3,ceil_mode=true", "1x2x2", [1, 1, 1]),
        # MaxPool1d(4, 2, 1, ceil_mode=True) on length 1: ceil((1 + 2 - 4) / 2) + 1 = 1.
        ("maxpooling1d:4,2,1,ceil_mode=true", "3x1", [3, 1]),
    ],
)
def test_ceil_mode_window_larger_than_the_input_gives_one_output(layer, shape, expected) -> None:
    result = run("verify", "--convention", "pytorch", "--input", shape, layer, "--format", "json")
    assert result.exit_code == 0, result.stderr
    row = json.loads(result.stdout)["layers"][0]
    assert row["real_shape"] == expected and row["status"] == "ok", row


def test_avgpool3d_smaller_input_than_kernel_is_refused_as_torch_does() -> None:
    # torch.nn.AvgPool3d(2)(torch.randn(1, 1, 1, 4, 4)): "input image (T: 1 H: 4 W: 4) smaller than
    # kernel size (kT: 2 kH: 2 kW: 2)", even with padding that would make the window fit.
    result = run("summary", "--convention", "pytorch", "--input", "1x1x4x4", "avgpool3d:2,1,1")
    assert result.exit_code == 2
    assert "AvgPool3d refuses an input smaller than the kernel" in one_error_line(result.stderr)
    assert run("summary", "--convention", "pytorch", "--input", "1x1x4x4", "maxpool3d:2,1,1").exit_code == 0


@pytest.mark.parametrize(
    ("layers", "shape", "long"),
    [
        (["adaptiveavgpool2d:1000"], (1000, 1000, 1), True),  # 0 MACs, a million Python windows: ~50 s
        (["conv:8,3,padding=same"] * 5_000, (8, 8, 8), True),  # small layers, many of them
        (["conv:64,3,padding=same"] * 3, (224, 224, 64), True),  # MAC-bound
        (["conv:8,3", "maxpool:2"], (32, 32, 3), False),
    ],
)
def test_verify_shows_progress_for_long_runs_whatever_their_macs(layers, shape, long) -> None:
    import cnncalc
    from cnncalc.cli.verify import PROGRESS_SECONDS
    from cnncalc.numeric.verify import run_seconds

    assert (run_seconds(cnncalc.summarize(layers, input_shape=shape), batch=1) >= PROGRESS_SECONDS) is long


def test_check_memory_is_flat_in_the_number_of_files(tmp_path: Path) -> None:
    import tracemalloc

    from cnncalc.check import run_checks

    snapshot = run("summary", "--model", "resnet50", "--format", "json").stdout

    def peak(n: int) -> int:
        directory = tmp_path / str(n)
        directory.mkdir()
        for i in range(n):
            (directory / f"m{i:03}.json").write_text(snapshot)
        tracemalloc.start()
        try:
            checked = run_checks([str(directory / "*.json")])
            _, top = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert checked.exit_code == 0 and len(checked.results) == n
        return top

    few, many = peak(2), peak(16)
    assert many < few * 1.25, (few, many)  # 8x the files, about the same peak (one spec at a time)


DAMAGEABLE = [
    "tests/fixtures/keras/se_block.keras",
    "tests/fixtures/keras/seed_cnn.json",
    "tests/fixtures/keras/residual_functional.json",
    "tests/fixtures/onnx/small_resnet.onnx",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", DAMAGEABLE)
def test_damaged_files_of_every_format_fail_cleanly(tmp_path: Path, name: str) -> None:
    """Truncated, bit-flipped and spliced copies of real .keras, Keras JSON and ONNX files, each
    through `summary -f` and `check`: exit 0 or 2 (check: 0, 1 or 2), one-line errors, never a
    traceback or exit 3 (the fuzz profile of docs/testing.md, over the readers other issues added)."""
    import random

    original = (Path(__file__).resolve().parent.parent / name).read_bytes()
    rng = random.Random(name)
    runs = int(os.environ.get("CNNCALC_DAMAGE_RUNS", "60"))
    for i in range(runs):
        data = bytearray(original)
        kind = i % 3
        if kind == 0:
            data = data[: rng.randrange(len(data))]
        elif kind == 1:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            start = rng.randrange(len(data))
            data[start : start + rng.randint(1, 64)] = bytes(
                rng.randrange(256) for _ in range(rng.randint(0, 64))
            )
        path = tmp_path / f"damaged{Path(name).suffix}"
        path.write_bytes(bytes(data))
        for args, allowed in (
            (("summary", "-f", str(path)), (0, 2)),
            (("check", "--allow-empty", str(path)), (0, 1, 2)),
        ):
            result = run(*args)
            assert result.exit_code in allowed, (name, i, result.exit_code, result.stderr[-300:])
            assert "Traceback" not in result.stdout + result.stderr
            if result.exit_code == 2:
                assert all(line.startswith(("Error: ", "Hint: ")) for line in result.stderr.splitlines()), (
                    result.stderr
                )
