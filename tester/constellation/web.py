"""Web mode: an orchestrator waiting for work plus the webserver in front of it.

The tester knows both only by their command lines (override with
``TESTER_ORCHESTRATOR_CMD`` / ``TESTER_WEBSERVER_CMD``), the log line each
prints when ready, and the webserver's ``/api/health``.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tester.constellation.process import ManagedProcess, StartupError

CONTROL_READY = re.compile(r"control listening on (\S+):(\d+)")
WEB_READY = re.compile(r"webserver listening on (http://\S+)")
WEBSERVER_CMD_ENV = "TESTER_WEBSERVER_CMD"


@dataclass
class WebMode:
    """What a started web-mode constellation offers: the UI/API URL and the parts."""

    url: str
    control_address: tuple[str, int]
    output_root: Path
    orchestrator: ManagedProcess
    webserver: ManagedProcess

    def client(self, timeout: float = 30.0) -> httpx.Client:
        """An HTTP client for the API at this URL."""
        return httpx.Client(base_url=self.url, timeout=timeout)


def webserver_command() -> list[str]:
    custom = os.environ.get(WEBSERVER_CMD_ENV)
    return shlex.split(custom) if custom else [sys.executable, "-m", "system.webserver"]


def wait_for_log(
    process: ManagedProcess, pattern: re.Pattern[str], timeout: float
) -> re.Match[str]:
    """Wait until the process's log matches; StartupError with the log if it exits first."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        match = pattern.search(process.log_text())
        if match:
            return match
        if not process.is_running():
            raise StartupError(
                f"{process.name} exited with code {process.returncode} before it was ready; "
                f"log {process.log_path}:\n{process.log_text()[-3000:]}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    raise StartupError(
        f"{process.name} not ready within {timeout:.0f}s; log {process.log_path}:\n"
        f"{process.log_text()[-3000:]}"
    )


def wait_healthy(url: str, process: ManagedProcess, timeout: float) -> None:
    """Wait until /api/health answers 200 (the webserver reached the orchestrator)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/api/health", timeout=5)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = str(exc)
        if not process.is_running():
            break
        time.sleep(0.1)
    raise StartupError(f"webserver at {url} not healthy within {timeout:.0f}s: {last}")
