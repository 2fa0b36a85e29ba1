"""The webserver's and web mode's command lines refuse bad input before binding anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "control.token"
    path.write_text("t" * 40)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "exposes the API"),
        (["--port", "70000"], "--port"),
        (["--orchestrator", "nohost"], "HOST:PORT"),
        (["--orchestrator", "127.0.0.1:0"], "HOST:PORT"),
        (["--log-level", "loud"], "invalid choice"),
        (["--trace-ep", "localhost:4318"], "http"),
    ],
)
def test_webserver_bad_arguments(token_file: Path, args: list[str], message: str) -> None:
    result = run(
        "system.webserver", "--port", "0", "--control-token-file", str(token_file), *args,
        env={"WEBSERVER_ACCESS_TOKEN": ""},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_webserver_needs_a_readable_private_token_file(tmp_path: Path, token_file: Path) -> None:
    missing = run("system.webserver", "--port", "0", "--control-token-file", str(tmp_path / "x"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    token_file.chmod(0o644)
    shared = run("system.webserver", "--port", "0", "--control-token-file", str(token_file))
    assert shared.returncode == 2 and "chmod 600" in shared.stderr


def test_a_short_access_token_is_refused(token_file: Path) -> None:
    result = run(
        "system.webserver", "--port", "0", "--control-token-file", str(token_file),
        env={"WEBSERVER_ACCESS_TOKEN": "short"},
    )  # fmt: skip
    assert result.returncode == 2 and "at least 16" in result.stderr


def test_web_mode_refuses_run_options_and_a_shared_token_file(token_file: Path) -> None:
    result = run("system.orchestrator", "--iterations", "3", "--control-port", "0")
    assert result.returncode == 2 and "only apply with --topic" in result.stderr
    result = run("system.orchestrator", "--saturation", "5", "--control-port", "0")
    # levers apply to web runs: validated, not refused
    assert result.returncode == 2 and "saturation" in result.stderr
    assert "only apply with --topic" not in result.stderr
    token_file.chmod(0o640)
    result = run(
        "system.orchestrator", "--control-port", "0", "--control-token-file", str(token_file)
    )
    assert result.returncode == 2 and "chmod 600" in result.stderr
