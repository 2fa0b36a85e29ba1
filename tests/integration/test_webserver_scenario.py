"""``python -m tester --scenario webserver`` as users and CI run it, then its replay."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.integration


def test_webserver_scenario_passes_and_replays(tmp_path):
    workdir = tmp_path / "run"
    result = run_cli(
        "tester", "--scenario", "webserver", "--workdir", str(workdir),
        "--json", str(tmp_path / "summary.json"), timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "UI and API: http://127.0.0.1:" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [(s["name"], s["status"]) for s in summary["scenarios"]] == [("webserver", "passed")]
    logs = {p.name for p in (workdir / "logs").iterdir()}
    assert {"orchestrator.log", "webserver.log"} <= logs
    assert (workdir / "downloads" / "attributes.txt").read_text().strip()

    replay = run_cli("tester", "--replay", str(workdir), timeout=120)
    assert replay.returncode == 0, replay.stdout + replay.stderr
