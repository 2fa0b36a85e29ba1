"""The fault scenarios no-telemetry, silent-orchestrator and bad-peers, run as CI runs them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.integration


def test_no_telemetry_silent_orchestrator_and_bad_peers_pass(tmp_path):
    result = run_cli(
        "tester",
        "--scenario",
        "no-telemetry,silent-orchestrator,bad-peers",
        "--workdir",
        str(tmp_path / "run"),
        "--json",
        str(tmp_path / "summary.json"),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed, 0 failed" in result.stdout
    assert "no telemetry (as expected)" in result.stdout
    assert "did not answer the handshake" in result.stdout
    assert "connections rejected" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {s["name"]: s["status"] for s in summary["scenarios"]} == {
        "no-telemetry": "passed",
        "silent-orchestrator": "passed",
        "bad-peers": "passed",
    }
    for name in ("silent-orchestrator", "bad-peers"):  # both replay offline
        replay = run_cli("tester", "--replay", str(tmp_path / "run" / name), timeout=120)
        assert replay.returncode == 0, replay.stdout + replay.stderr


def test_a_system_without_telemetry_is_reported_as_no_telemetry(tmp_path):
    # the timeout bounds the run (3 producers x 10 requests over HTTP: a few seconds,
    # more on a loaded machine) and then the wait for spans that never come
    result = run_cli(
        "tester",
        "--workdir",
        str(tmp_path / "run"),
        "--timeout",
        "30",
        "--junit",
        str(tmp_path / "j.xml"),
        timeout=300,
        env={"OTEL_SDK_DISABLED": "true"},
    )
    assert result.returncode == 1
    assert "NO TELEMETRY" in result.stderr and "no telemetry arrived at all" in result.stderr
    assert "scenario basic NO TELEMETRY" in result.stdout
    assert "0 passed, 0 failed, 1 no telemetry" in result.stdout
    assert 'type="no telemetry"' in (tmp_path / "j.xml").read_text()
