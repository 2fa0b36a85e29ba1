"""``python -m tester --replay``: a scenario's checks re-run offline on recorded artifacts."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    run = tmp_path_factory.mktemp("replay") / "run"
    result = run_cli("tester", "--workdir", str(run), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return run


def test_replay_passes_on_a_recorded_run_without_starting_anything(recorded, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(recorded, copy)  # paths in scenario.json are relative: the copy works
    result = run_cli("tester", "--replay", str(copy), "--json", str(tmp_path / "s.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replay basic PASSED" in result.stdout
    assert "orchestrator listening" not in result.stdout
    assert "Topic 'Paris attractions': completed" in result.stdout
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["scenarios"][0]["status"] == "passed"


def test_replay_fails_on_a_changed_fact(recorded, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(recorded, copy)
    facts = json.loads((copy / "scenario.json").read_text())
    facts["facts"]["exit_code"] = 3
    (copy / "scenario.json").write_text(json.dumps(facts))
    result = run_cli("tester", "--replay", str(copy))
    assert result.returncode == 1
    assert "orchestrator exited with 3" in result.stderr
    assert "replay basic FAILED" in result.stdout


def test_replay_of_a_trace_with_a_missing_parent_is_an_incomplete_trace(recorded, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(recorded, copy)
    traces = json.loads((copy / "traces.otlp.json").read_text())
    for resource in traces["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            scope["spans"] = [s for s in scope["spans"] if s["name"] != "generation.cycle"]
    (copy / "traces.otlp.json").write_text(json.dumps(traces))
    result = run_cli(
        "tester",
        "--replay",
        str(copy),
        "--junit",
        str(tmp_path / "j.xml"),
        "--json",
        str(tmp_path / "s.json"),
    )
    assert result.returncode == 1
    assert "INCOMPLETE TRACE" in result.stderr and "parent never arrived" in result.stderr
    assert "replay basic INCOMPLETE TRACE" in result.stdout
    assert "1 incomplete trace" in result.stdout
    assert json.loads((tmp_path / "s.json").read_text())["scenarios"][0]["status"] == (
        "incomplete trace"
    )
    assert 'type="incomplete trace"' in (tmp_path / "j.xml").read_text()


def test_replay_of_a_folder_without_facts_is_a_usage_error(tmp_path):
    result = run_cli("tester", "--replay", str(tmp_path))
    assert result.returncode == 2
    assert "scenario.json" in result.stderr


def test_replay_rechecks_against_the_recorded_ledger(recorded, tmp_path):
    """The fake model's ledger is an artifact: a replay judges the spans against it again."""
    copy = tmp_path / "copy"
    shutil.copytree(recorded, copy)
    facts = json.loads((copy / "scenario.json").read_text())["facts"]
    ledger_path = copy / facts["ledgers"][0]
    ledger = json.loads(ledger_path.read_text())
    ledger["entries"][0]["response_model"] = "a-model-nobody-answered"
    ledger["entries"][0]["response_id"] = None
    ledger_path.write_text(json.dumps(ledger))
    result = run_cli("tester", "--replay", str(copy))
    assert result.returncode == 1
    assert "no chat span reporting that answer" in result.stderr
    assert "a-model-nobody-answered" in result.stderr
