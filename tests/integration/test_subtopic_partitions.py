"""--partition-by subtopics in a real run: a producer's LLM proposes, producers work on them."""

from __future__ import annotations

import json

import pytest

from tester import schema as n
from tester.constellation import OrchestratorConfig
from tester.query import spans
from tester.topic import Topic

pytestmark = pytest.mark.integration


def test_subtopic_partitions_end_to_end(collector, constellation):
    config = OrchestratorConfig(
        topic="Subtopic harbours",
        producers=3,
        iterations=15,
        request_size=30,
        # latency: the cycles must not all be over before the proposal arrives on a busy machine
        extra_args=[
            "--partition-by",
            "subtopics",
            "--sim-profile",
            "strong",
            "--sim-latency-ms",
            "100",
            # every request names its partition (the adaptive strategy would start on
            # plain prompts and name one only where its focus arm measures better)
            "--arms",
            "focus",
        ],
    )
    orchestrator = constellation.start_orchestrator(config)
    assert orchestrator.wait(timeout=120) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed().assert_no_errors().assert_counts_consistent().assert_llm_calls()
    output = constellation.output_dir_for(config)
    topic.assert_file_matches(output / "attributes.txt")
    assert "subtopics" in str(topic.root.attr("run.levers")).split(",")

    # the orchestrator asked, one producer's LLM answered under subtopics.propose
    events = {e.name: e for e in topic.root.events}
    assert n.EVENT_SUBTOPICS_REQUEST in events and n.EVENT_SUBTOPICS_FAILED not in events
    proposed = [e for e in topic.root.events if e.name == n.EVENT_SUBTOPICS_PROPOSED]
    assert proposed and proposed[0].attributes[n.SUBTOPICS_ROUND] == 1
    labels = json.loads(proposed[0].attributes[n.SUBTOPICS_LABELS])
    assert len(labels) >= 3
    q = spans(topic.all_spans())
    propose = q.service(n.SERVICE_PRODUCER).name(n.SUBTOPICS_PROPOSE)
    propose.at_least(1)
    first = propose.where(**{n.SUBTOPICS_ROUND: 1}).one()
    assert json.loads(first.attr(n.SUBTOPICS_LABELS)) == labels
    q.name(f"{n.CHAT_PREFIX}*").children_of(first).at_least(1)  # the LLM call, traced
    propose.parents().name(n.PRODUCER_RUN).at_least(1)

    # producers moved onto the labels and generated under them
    assigned = {
        e.attributes[n.PARTITION_LABEL]
        for e in topic.root.events
        if e.name == n.EVENT_PARTITION and e.attributes[n.PARTITION_ACTION] == "assign"
    }
    assert assigned & set(labels)
    worked = {c.attr(n.GENERATION_PARTITION) for c in topic.spans(n.GENERATION_CYCLE)}
    assert worked & set(labels), worked

    summary = json.loads((output / "run.json").read_text())
    levers = summary["levers"]
    assert levers["partition_by"] == "subtopics"
    assert levers["subtopics"]["rounds"][0]["labels"] == labels
    assert levers["subtopics"]["fallback"] is None
    assert {p["label"] for p in levers["partitions"] if p["kind"] == "subtopic"} >= set(labels)
