"""A real orchestrator process for the reliability tests: start, find its port, stop.

Kept apart from the tester's constellation on purpose: these tests need the
raw process (its exit code, stderr, resource limits, SIGKILL at any moment)
without a collector in the way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")


class Orchestrator:
    def __init__(
        self,
        args: list[str],
        workdir: Path,
        *,
        preexec: Callable[[], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"orchestrator-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "system.orchestrator", "--no-progress", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env={**os.environ, "OTEL_TRACES_EXPORTER": "none", **(env or {})},
            start_new_session=True,
            preexec_fn=preexec,
        )
        self.address: tuple[str, int] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_listening(self, timeout: float = 60) -> tuple[str, int]:
        match = wait_for(lambda: _LISTENING.search(self.log_text()), timeout, "listening line")
        self.address = (match.group(1), int(match.group(2)))
        return self.address

    def wait(self, timeout: float = 120) -> int:
        return self.proc.wait(timeout)

    def producer_pids(self) -> list[int]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return [c.pid for c in psutil.Process(self.pid).children()]
        return []

    def kill_group(self) -> None:
        """SIGKILL the orchestrator's whole session (its producers too)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self._log.close()

    def __enter__(self) -> Orchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_group()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_run_json(output: Path) -> dict[str, Any]:
    return json.loads((output / "run.json").read_text(encoding="utf-8"))


def session_alive(pid: int) -> list[psutil.Process]:
    """Processes still alive in the session the orchestrator led."""
    alive = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getsid(proc.pid) == pid and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
    return alive


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def still_running(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` for every process to exit; those still running. A zombie
    has exited: an orphan is reaped by PID 1, which may lag on a loaded machine
    (psutil.wait_procs counts it as alive until then)."""
    deadline = time.monotonic() + timeout
    while True:
        running = [p for p in procs if _running(p)]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)
