"""``python -m tester`` as users and CI run it."""

from __future__ import annotations

import json
import re

import pytest

from tester.discovery import describe, discover
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
    # basic runs on the tester's fake model (tester/fake_llm): its chat spans name its model
    assert re.search(r"span  chat \S+ \[producer\]", result.stdout), result.stdout[-2000:]


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
    assert "producer-kill" in result.stdout and "orchestrator-restart" in result.stdout
    # each description whole (the docstring's first paragraph), wrapped, not cut mid-sentence
    listed = " ".join(result.stdout.split())
    for name, module in discover().items():
        assert f"{name} {describe(module)}" in listed
        assert describe(module).endswith((".", ")")), name


# two tester runs, so that two workers share the ~2.5 minutes (the longest test
# of the suite when it was one run of all three)
@pytest.mark.parametrize("scenarios", ["producer-kill,orchestrator-restart", "examples"])
def test_fault_scenarios_with_junit_json_and_jaeger_artifacts(tmp_path, scenarios):
    import xml.etree.ElementTree as ET

    names = scenarios.split(",")
    result = run_cli(
        "tester",
        "--scenario",
        scenarios,
        "--workdir",
        str(tmp_path / "run"),
        "--junit",
        str(tmp_path / "junit.xml"),
        "--json",
        str(tmp_path / "summary.json"),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(names)} passed, 0 failed" in result.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("tests") == str(len(names)) and suite.get("failures") == "0"
    assert {c.get("name") for c in suite.iter("testcase")} == set(names)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] == len(names) and summary["failed"] == 0
    if "producer-kill" not in names:
        return
    kill = next(s for s in summary["scenarios"] if s["name"] == "producer-kill")
    assert kill["topics"][0]["restarts"] >= 1
    jaeger = json.loads((tmp_path / "run" / "producer-kill" / "traces.jaeger.json").read_text())
    spans = jaeger["data"][0]["spans"]
    assert any(s["operationName"] == "topic.run" for s in spans)
    services = {p["serviceName"] for p in jaeger["data"][0]["processes"].values()}
    assert services == {"orchestrator", "producer"}


def test_failure_writes_junit_failure(tmp_path):
    import xml.etree.ElementTree as ET

    result = run_cli(
        "tester",
        "--workdir",
        str(tmp_path / "run"),
        "--junit",
        str(tmp_path / "j.xml"),
        "--timeout",
        "30",
        timeout=120,
        env={"TESTER_ORCHESTRATOR_CMD": "python -c 'import sys; sys.exit(7)'"},
    )
    assert result.returncode == 1
    failure = ET.parse(tmp_path / "j.xml").getroot().find("testcase/failure")
    assert failure is not None and "exited with code 7" in (failure.text or "")
    assert "artifacts:" in result.stderr and "traces:" in result.stderr
