"""The efficiency levers in a real run: it ends by itself at saturation, and says so."""

from __future__ import annotations

import json

import pytest

from tester.constellation import OrchestratorConfig
from tester.topic import Topic

pytestmark = pytest.mark.integration


def test_open_ended_run_with_levers_stops_at_saturation(collector, constellation):
    config = OrchestratorConfig(
        topic="Saturating lighthouses",
        producers=3,
        iterations=None,
        request_size=40,
        # --no-adaptive: every lever on every request. The adaptive strategy starts
        # cheap and may saturate before it tries a partition (seen once in CI-like runs)
        extra_args=["--saturation", "0.02", "--saturation-patience", "0", "--no-adaptive"],
    )
    orchestrator = constellation.start_orchestrator(config)
    assert orchestrator.wait(timeout=240) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    output = constellation.output_dir_for(config)
    topic.assert_file_matches(output / "attributes.txt")
    reason = str(topic.root.attr("run.stop_reason"))
    assert reason.startswith("saturated: novelty"), reason
    levers = str(topic.root.attr("run.levers"))
    assert {"shared_state", "partitions", "prefilter", "saturation"} <= set(levers.split(","))
    assert float(topic.root.attr("run.novelty")) < 0.02
    assert int(topic.root.attr("run.prefiltered_count")) > 0
    assert int(topic.root.attr("run.delta_pushes")) > 0
    event_names = {e.name for e in topic.root.events}
    assert "run.saturated" in event_names and "partition.change" in event_names

    summary = json.loads((output / "run.json").read_text())
    assert summary["status"] == "completed" and summary["reason"] == reason
    assert summary["levers"]["saturation"]["novelty"] < 0.02
    assert summary["levers"]["prefiltered"] == topic.root.attr("run.prefiltered_count")
    assert any(p["state"] == "retired" for p in summary["levers"]["partitions"])
    # producers worked on partitions and used avoid lists
    cycles = topic.spans("generation.cycle")
    assert any(c.attr("generation.partition") for c in cycles)
    assert any(int(c.attr("generation.avoid_items", 0)) > 0 for c in cycles)


def test_saturation_patience_is_counted_in_requests(collector, constellation):
    """With a patience of 4 requests (and none in seconds), the run stops at the 4th
    request after the one on which the novelty fell below the threshold: run.saturated
    says so, and run.json carries the setting."""
    config = OrchestratorConfig(
        topic="Patient lighthouses",
        producers=2,
        iterations=None,
        request_size=40,
        extra_args=[
            "--saturation", "0.02", "--saturation-patience-requests", "4",
            "--no-adaptive", "--no-partitions",
        ],
    )  # fmt: skip
    orchestrator = constellation.start_orchestrator(config)
    assert orchestrator.wait(timeout=240) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed().assert_no_errors()
    (saturated,) = [e for e in topic.root.events if e.name == "run.saturated"]
    assert saturated.attributes["saturation.requests_below"] == 4, saturated.attributes
    assert saturated.attributes["saturation.seconds_below"] >= 0
    summary = json.loads((constellation.output_dir_for(config) / "run.json").read_text())
    assert summary["levers"]["saturation"]["patience_requests"] == 4
    assert summary["levers"]["saturation"]["patience_s"] == 0


def test_naive_baseline_switches_every_lever_off(collector, constellation):
    config = OrchestratorConfig(
        topic="Naive rivers",
        producers=2,
        iterations=3,
        extra_args=["--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive"],
    )
    orchestrator = constellation.start_orchestrator(config)
    assert orchestrator.wait(timeout=120) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    assert topic.root.attr("run.stop_reason") == "iterations reached"
    assert topic.root.attr("run.levers") == "saturation"  # configured, inactive with iterations
    assert int(topic.root.attr("run.prefiltered_count")) == 0
    cycles = topic.spans("generation.cycle")
    assert not any(c.attr("generation.partition") for c in cycles)
    assert not any(c.attr("generation.avoid_items") for c in cycles)
    assert {b.attr("batch.prefiltered") for b in topic.spans("batch.receive")} == {None}
