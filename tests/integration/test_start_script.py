"""scripts/start.sh passes every orchestrator option through (issue 20 item 7).

The scripts run from a copy of scripts/ in a temporary project folder whose
``.venv/bin/python`` is this interpreter with this checkout on PYTHONPATH, so
logs/ and .run/ land there and ports are ephemeral (``--port 0 --control-port 0``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "scripts").mkdir()
    for name in ("start.sh", "stop.sh", "pidfile.sh"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    yield tmp_path
    subprocess.run(["bash", str(tmp_path / "scripts" / "stop.sh")], timeout=120, check=False)


def _script(project: Path, name: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OTEL_TRACES_EXPORTER": "none"}
    return subprocess.run(
        ["bash", str(project / "scripts" / name), *args],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _pid(project: Path, name: str) -> int:
    return int((project / ".run" / f"{name}.pid").read_text().split()[0])  # "PID START-TIME"


def test_orchestrator_options_reach_the_orchestrator(project: Path) -> None:
    llm = "name=local,base_url=http://127.0.0.1:9/v1,model=m"
    options = ["--provider", "env", "--llm", llm, "--env-file", str(project / "none.env"),
               "--no-partitions", "--avoid-budget", "100", "--saturation", "0"]  # fmt: skip
    started = _script(project, "start.sh", "--port", "0", "--control-port", "0", *options)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "Open http://127.0.0.1:" in started.stdout
    orchestrator = psutil.Process(_pid(project, "orchestrator"))
    argv = orchestrator.cmdline()
    assert argv[argv.index("--provider"):] == options, argv  # fmt: skip
    assert psutil.Process(_pid(project, "webserver")).is_running()
    stopped = _script(project, "stop.sh")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not orchestrator.is_running()


def test_a_bad_orchestrator_option_is_the_orchestrators_clear_error(project: Path) -> None:
    result = _script(project, "start.sh", "--port", "0", "--control-port", "0", "--no-such-lever")
    assert result.returncode != 0
    assert "orchestrator exited" in result.stderr, result.stderr
    assert "unrecognized arguments: --no-such-lever" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / ".run" / "orchestrator.pid").exists()
    assert not (project / ".run" / "webserver.pid").exists()


@pytest.mark.parametrize("option", ["--topic", "--log-dir", "--control-token-file=x"])
def test_options_start_sh_owns_are_refused(project: Path, option: str) -> None:
    result = _script(project, "start.sh", option, "x")
    assert result.returncode == 2
    assert result.stderr.startswith(f"start.sh: {option.split('=')[0]} is not for web mode")
    assert not (project / "logs").exists()  # refused before starting anything
