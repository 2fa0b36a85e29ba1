"""The live table under a pseudo-terminal: every log line, the producers' included,
is printed above the table, never glued onto a row; ``rate`` has its unit.

The check reads the terminal's byte stream as a user's screen would get it: with
control sequences removed, a log line (it starts with a timestamp) must begin a
line. Before the relay, producers wrote straight to the inherited terminal,
after the table's last row, and the next frame left those rows on screen.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from scenarios._helpers import run_on_pty

pytestmark = pytest.mark.integration

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")


def _run_on_pty(argv: list[str], timeout_s: float = 120.0) -> tuple[int, str]:
    return run_on_pty(argv, os.environ, timeout_s)


def screen_lines(raw: str) -> list[str]:
    return re.split(r"\r?\n|\r", CONTROL.sub("", raw))


def test_log_lines_and_producer_output_go_above_the_live_table(tmp_path: Path) -> None:
    code, raw = _run_on_pty(
        [
            sys.executable,
            "-m",
            "system.orchestrator",
            "--topic",
            "Paris attractions",
            "--producers",
            "3",
            "--iterations",
            "20",
            "--sim-latency-ms",
            "80",
            "--log-level",
            "debug",
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, raw[-2000:]
    lines = screen_lines(raw)
    glued = [line for line in lines if TIMESTAMP.search(line) and not TIMESTAMP.match(line)]
    assert not glued, "log lines glued onto table rows:\n" + "\n".join(glued[:5])
    logs = [line for line in lines if TIMESTAMP.match(line)]
    assert any(" producer-" in line for line in logs), "no producer output reached the screen"
    assert any(" orchestrator " in line for line in logs)
    # the live table was drawn, its headline fits the 120 columns, its rate says what it
    # counts, and with --iterations a progress bar counts the requests with an ETA
    heads = [line for line in lines if line.startswith(("unique ", "rate "))]
    assert any(line.startswith("rate ") and " unique/s " in line for line in heads), raw[-1500:]
    assert all(len(line.rstrip()) <= 120 for line in heads), heads
    assert any(re.match(r"requests .* \d+/60 ETA ", line) for line in lines), raw[-1500:]
    assert any(line.startswith("unique:") for line in lines), "no summary at the end"
