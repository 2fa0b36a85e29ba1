"""``python -m tester`` as users and CI run it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.integration


def test_basic_scenario_passes_and_leaves_artifacts(tmp_path):
    result = run_cli("tester", "--workdir", str(tmp_path / "run"), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "scenario basic PASSED" in result.stdout
    assert "Topic 'Paris attractions': completed" in result.stdout
    traces = json.loads((tmp_path / "run" / "traces.otlp.json").read_text())
    assert traces["resourceSpans"]
    assert (tmp_path / "run" / "logs" / "orchestrator.log").exists()
    assert (tmp_path / "run" / "logs" / "producer-1.log").exists()


def test_verbose_prints_spans(tmp_path):
    result = run_cli("tester", "--verbose", "--workdir", str(tmp_path / "run"), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "span  topic.run [orchestrator]" in result.stdout
    assert "span  chat sim-zipf-1 [producer]" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--timeout", "0"], "positive"),
        (["--bogus"], "unrecognized"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    result = run_cli("tester", *args, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_broken_system_fails_the_scenario_with_evidence(tmp_path):
    # A "system" that exits at once: the tester must fail clearly, not hang or pass.
    result = run_cli(
        "tester",
        "--workdir",
        str(tmp_path / "run"),
        "--timeout",
        "30",
        timeout=120,
        env={"TESTER_ORCHESTRATOR_CMD": "python -c 'import sys; sys.exit(7)'"},
    )
    assert result.returncode == 1
    assert "STARTUP FAILED" in result.stderr and "exited with code 7" in result.stderr
    assert "scenario basic FAILED" in result.stdout


def test_list_scenarios():
    result = run_cli("tester", "--list", timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("basic")
