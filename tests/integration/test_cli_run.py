"""Real orchestrator + producers + collector: a run proven by its trace and its files."""

from __future__ import annotations

import json

import pytest

from tester.constellation import OrchestratorConfig
from tester.topic import Topic

pytestmark = pytest.mark.integration


def test_three_producer_run_counts_match_trace_and_file(collector, constellation):
    config = OrchestratorConfig(topic="Paris attractions", producers=3, iterations=10)
    orchestrator = constellation.start_orchestrator(config)
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
    topic.assert_min_attributes(100)
    output = constellation.output_dir_for(config)
    topic.assert_file_matches(output / "attributes.txt")
    assert orchestrator.wait(timeout=60) == 0

    summary = json.loads((output / "run.json").read_text())
    assert summary["status"] == "completed"
    assert summary["trace_id"] == topic.trace_id
    assert summary["counts"]["unique"] == topic.unique_count
    assert summary["counts"]["batches"] == 30
    # the trusted view's count: what export-attributes --min-support 2 keeps
    records = [json.loads(x) for x in (output / "attributes.jsonl").read_text().splitlines()]
    supported = sum(1 for r in records if r["sightings"] >= 2)
    assert summary["trusted"] == {"min_support": 2, "items": supported} and supported > 0
    assert f"trusted:      {supported:,} of {len(records):,} seen by 2+ requests" in (
        orchestrator.log_text()
    )
    assert len(topic.spans("producer.run")) == 3
    assert {s.service_name for s in topic.all_spans()} == {"orchestrator", "producer"}
    # one trace: every producer span descends from this run's root
    assert all(s.trace_id == topic.trace_id for s in topic.spans(prefix="chat "))
    assert "Paris attractions" in orchestrator.log_text()


def test_rerun_on_the_same_output_resumes_without_duplicates(collector, constellation, tmp_path):
    output = tmp_path / "shared-output"
    first = OrchestratorConfig(topic="Rivers", producers=2, iterations=3, output_dir=output)
    constellation.start_orchestrator(first).wait(timeout=120)
    before = (output / "attributes.txt").read_text().splitlines()
    second = OrchestratorConfig(topic="Rivers", producers=2, iterations=6, output_dir=output)
    constellation.start_orchestrator(second).wait(timeout=120)
    topics = collector.store.wait_for(lambda s: s.name == "topic.run", timeout=60, count=2)
    resumed = Topic.wait_for_topic(
        "Rivers", collector, timeout=60, run_id=str(topics[-1].attr("run.id"))
    )
    assert resumed.resumed_count == len(before)
    resumed.assert_completed().assert_file_matches(output / "attributes.txt")
    assert (output / "attributes.txt").read_text().splitlines()[: len(before)] == before


def test_no_endpoint_means_no_telemetry_but_the_run_works(tmp_path):
    from tests.conftest import run_cli

    result = run_cli(
        "system.orchestrator",
        "--topic",
        "Quiet",
        "--producers",
        "2",
        "--iterations",
        "2",
        "--output",
        str(tmp_path / "out"),
    )
    assert result.returncode == 0, result.stderr
    assert "status:       completed" in result.stdout
    assert (tmp_path / "out" / "attributes.txt").read_text().strip()
    assert json.loads((tmp_path / "out" / "run.json").read_text())["trace_id"] is None
