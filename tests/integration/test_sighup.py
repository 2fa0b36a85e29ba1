"""A closed terminal (SIGHUP) stops a run like SIGTERM (issue 21, item 17).

The orchestrator runs with a pseudo-terminal as its controlling terminal and
its streams, as in an interactive shell; closing the terminal's master side
hangs it up: the kernel sends SIGHUP to the orchestrator and to its
producers. It used to kill the orchestrator at once, leaving ``run.json``
saying ``running``; now the producers are stopped, the files flushed and
``run.json`` ends ``stopped``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.integration.orchestrator_proc import read_run_json, session_alive, wait_for

pytestmark = pytest.mark.integration


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # stdin is the pty: make it the controlling tty


def _drain(master: int, sink: bytearray) -> None:
    with contextlib.suppress(OSError):
        while chunk := os.read(master, 65536):
            sink += chunk


def test_sighup_from_a_closed_terminal_stops_the_run_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    master, slave = pty.openpty()
    screen = bytearray()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "system.orchestrator", "--topic", "Hung up lighthouses",
            "--producers", "2", "--sim-latency-ms", "20", "--output", str(out),
        ],
        stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "none"},
        start_new_session=True, preexec_fn=_take_terminal,
    )  # fmt: skip
    os.close(slave)
    reader = threading.Thread(target=_drain, args=(master, screen), daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: (out / "run.json").exists() and read_run_json(out)["counts"]["batches"] >= 5,
            60,
            "five batches in run.json",
        )
        producers = [psutil.Process(c.pid) for c in psutil.Process(proc.pid).children()]
        assert len(producers) == 2
        os.close(master)  # the terminal window closes
        master = -1
        code = proc.wait(60)
        summary = read_run_json(out)
        assert summary["status"] == "stopped", (
            summary["status"],
            summary["reason"],
            bytes(screen)[-3000:],
        )
        assert summary["reason"] == "SIGHUP received"
        assert code == 0, bytes(screen)[-3000:]
        _gone, alive = psutil.wait_procs(producers, timeout=30)
        assert not alive
        assert all(p["state"] == "stopped" for p in summary["producers"]), summary["producers"]
        lines = (out / "attributes.txt").read_text(encoding="utf-8").splitlines()
        assert len(lines) == summary["counts"]["unique"] > 0
    finally:
        if master >= 0:
            os.close(master)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        reader.join(10)
        time.sleep(0)
        assert not session_alive(proc.pid)
