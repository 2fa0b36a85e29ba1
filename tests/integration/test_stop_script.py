"""scripts/stop.sh signals only what scripts/start.sh started (issue 21, item 11).

A pid file can outlive its process (a reboot, a crash) and its pid can be
reused by any program: stop.sh used to SIGTERM, then SIGKILL, whatever had
that pid. Now a process is ours only if its command line runs
``python -m system.NAME`` and it started when the pid file says; anything else
survives and the stale pid file is removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.orchestrator_proc import ROOT, wait_for

pytestmark = pytest.mark.integration


def _copy_scripts(tmp_path: Path) -> Path:
    """The scripts in a folder of their own: stop.sh works on the .run/ beside them."""
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    (tmp_path / ".run").mkdir()
    return tmp_path


def _record(home: Path, name: str, pid: int) -> None:
    subprocess.run(
        ["bash", "-c", f". scripts/pidfile.sh && record_pid {name} {pid}"],
        cwd=home, check=True, timeout=30,
    )  # fmt: skip


def _stop(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(home / "scripts" / "stop.sh")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("pid_file", ["recorded", "bare pid", "pid and a wrong start time"])
def test_a_pid_file_naming_another_process_leaves_it_alive(tmp_path: Path, pid_file: str) -> None:
    home = _copy_scripts(tmp_path)
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        if pid_file == "recorded":
            _record(home, "orchestrator", sleeper.pid)
        elif pid_file == "bare pid":
            (home / ".run" / "orchestrator.pid").write_text(f"{sleeper.pid}\n")
        else:
            (home / ".run" / "orchestrator.pid").write_text(
                f"{sleeper.pid} Thu Jan 1 00:00:00 1970\n"
            )
        (home / ".run" / "webserver.pid").write_text(f"{sleeper.pid}\n")
        result = _stop(home)
        assert result.returncode == 0, result.stderr
        assert sleeper.poll() is None, "stop.sh signalled a process that is not ours"
        assert "stale" in result.stderr
        assert "stopped" not in result.stdout
        assert not list((home / ".run").glob("*.pid")), "the stale pid files stay"
    finally:
        sleeper.kill()
        sleeper.wait(10)


def test_stop_sh_still_stops_our_orchestrator(tmp_path: Path) -> None:
    home = _copy_scripts(tmp_path)
    log = (tmp_path / "orchestrator.log").open("wb")
    orch = subprocess.Popen(
        [
            sys.executable, "-m", "system.orchestrator", "--control-port", "0",
            "--control-token-file", str(home / ".run" / "control.token"),
        ],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "none"},
    )  # fmt: skip
    try:
        wait_for(
            lambda: b"control listening on" in (tmp_path / "orchestrator.log").read_bytes(),
            60,
            "the orchestrator listening",
        )
        _record(home, "orchestrator", orch.pid)
        result = _stop(home)
        assert result.returncode == 0, result.stderr
        assert f"stopped orchestrator (pid {orch.pid})" in result.stdout
        assert orch.wait(30) == 0
    finally:
        if orch.poll() is None:
            orch.kill()
            orch.wait(10)
        log.close()
