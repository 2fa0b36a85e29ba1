"""The opt-in levers and the give-up rule, side by side: sub-topic partitions and near-duplicates
on the simulated LLM, --adaptive-weights on two fake models, --max-degraded-s with no reachable
provider.

What each must show comes from README ("Efficiency levers", "LLM providers", the options
table) and docs/tracing.md ("Efficiency levers", "Sub-topic partitions", "Resilience"):

* ``--partition-by subtopics``: ``run.levers`` names ``subtopics``; the orchestrator asks
  (``subtopics.request``), a producer's LLM answers under ``subtopics.propose`` (its
  ``chat`` span below it), the labels become partitions (``subtopics.proposed``) and
  producers generate under them (``generation.partition``); run.json ``levers`` says
  ``partition_by`` ``subtopics``.
* ``--near-duplicates``: ``run.levers`` names it; variants dropped are counted apart
  (``batch.near_duplicates``, summed in ``run.near_duplicate_count``), are not in the
  file, and are listed in ``near_duplicates.txt``.
* ``--adaptive-weights``: ``providers.reweight`` events whose weights stay within 0.25x..4x
  of the configured ones; the model that knows few names ends with the lower weight; the
  run is judged against both models' ledgers like every discovery run.
* ``--max-degraded-s S`` with every provider unreachable: cycles are ``generation.degraded``
  with a ``providers.unavailable`` event, status ERROR and no batch; the run fails (status
  ``failed``, exit 1) instead of waiting forever.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from scenarios import _oracle as o
from tester import schema as n
from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext

SUBTOPICS = "Subtopic harbours"
ADAPTIVE = "Adaptive lighthouses"
DEGRADED = "Unreachable archipelagos"
MAX_DEGRADED_S = 3


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(ctx: ScenarioContext) -> None:
    started: dict[str, Any] = {}
    # sub-topics and near-duplicates on the simulated LLM (no ledger: judged from the trace)
    sub_config = OrchestratorConfig(
        topic=SUBTOPICS, producers=3, iterations=12, request_size=30,
        extra_args=["--partition-by", "subtopics", "--near-duplicates", "--sim-profile",
                    "strong", "--sim-latency-ms", "100", "--arms", "focus"],
    )  # fmt: skip
    sub = ctx.constellation("subtopics")
    started[SUBTOPICS] = sub.start_orchestrator(sub_config)
    sub_output = sub.output_dir_for(sub_config)
    ctx.fact_path(SUBTOPICS, sub_output / "attributes.txt")

    # every provider unreachable: the run must give up after --max-degraded-s
    down = f"name=down,base_url=http://127.0.0.1:{_closed_port()}/v1,model=m,breaker_failures=1"
    deg_config = o.config_on(
        ctx, DEGRADED, ["--llm", down], producers=1, iterations=5,
        extra=["--max-degraded-s", str(MAX_DEGRADED_S)],
    )  # fmt: skip
    deg = ctx.constellation("degraded")
    started[DEGRADED] = deg.start_orchestrator(deg_config)
    ctx.fact_path(DEGRADED, deg.output_dir_for(deg_config) / "attributes.txt")

    strong = o.fake_model("strong", model="strong", latency_ms=5)
    weak = o.fake_model("weak", model="weak", latency_ms=5, known=25)
    try:
        llm = [*o.llm_spec(strong, 1.0), *o.llm_spec(weak, 1.0)]
        ada_config = o.config_on(
            ctx, ADAPTIVE, llm, producers=2, iterations=40, request_size=20,
            extra=["--adaptive-weights"],
        )  # fmt: skip
        ada = ctx.constellation("adaptive")
        started[ADAPTIVE] = ada.start_orchestrator(ada_config)
        ctx.fact_path(ADAPTIVE, ada.output_dir_for(ada_config) / "attributes.txt")
        exit_codes = ctx.fact("exit_codes", {})
        for topic, orchestrator in started.items():
            exit_codes[topic] = orchestrator.wait(timeout=ctx.timeout)
    finally:
        strong.stop()
        weak.stop()
        o.save_ledgers(ctx, [strong, weak])


def _check_subtopics(ctx: ScenarioContext) -> None:
    topic = ctx.topic(SUBTOPICS)
    topic.assert_completed().assert_no_errors().assert_counts_consistent().assert_llm_calls()
    attributes = ctx.path(SUBTOPICS)
    topic.assert_file_matches(attributes)
    levers = str(topic.root.attr("run.levers", "")).split(",")
    assert {"subtopics", "near_duplicates"} <= set(levers), f"run.levers {levers}"
    events = topic.root.events
    asked = [e for e in events if e.name == "subtopics.request"]
    proposed = [e for e in events if e.name == "subtopics.proposed"]
    assert asked, "no subtopics.request event on topic.run with --partition-by subtopics"
    assert proposed, f"no subtopics.proposed event (events: {sorted({e.name for e in events})})"
    labels = set(json.loads(proposed[0].attributes["subtopics.labels"]))
    assert labels, "subtopics.proposed with no labels"
    proposals = topic.spans("subtopics.propose")
    assert proposals and all(p.service_name == n.SERVICE_PRODUCER for p in proposals), proposals
    chats = {s.parent_span_id for s in topic.spans(prefix=n.CHAT_PREFIX)}
    assert any(p.span_id in chats for p in proposals), "no chat span under subtopics.propose"
    worked = {c.attr("generation.partition") for c in topic.spans(n.GENERATION_CYCLE)}
    assert worked & labels, f"no cycle generated under a proposed label {labels}: {worked}"
    summary = json.loads((attributes.parent / "run.json").read_text(encoding="utf-8"))
    assert summary["levers"].get("partition_by") == "subtopics", summary["levers"]

    batches = topic.spans(n.BATCH_RECEIVE)
    near = sum(int(b.attr("batch.near_duplicates", 0) or 0) for b in batches)
    assert topic.root.attr("run.near_duplicate_count") == near, (
        f"run.near_duplicate_count {topic.root.attr('run.near_duplicate_count')}, "
        f"batch.near_duplicates sum to {near}"
    )
    listed_file = attributes.parent / "near_duplicates.txt"
    listed = listed_file.read_text(encoding="utf-8").splitlines() if listed_file.exists() else []
    assert len(listed) == near, f"near_duplicates.txt has {len(listed)} lines, the trace {near}"
    in_file = set(attributes.read_text(encoding="utf-8").splitlines())
    both = [x for x in listed if x in in_file]
    assert not both, f"near-duplicates also in attributes.txt: {both[:5]}"
    ctx.note(f"{SUBTOPICS}: labels {sorted(labels)[:6]}, {near} near-duplicates dropped")
    ctx.record(topic)


def _check_adaptive(ctx: ScenarioContext) -> None:
    topic = ctx.topic(ADAPTIVE)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    topic.assert_file_matches(ctx.path(ADAPTIVE))
    o.judge(ctx, topic, ctx.path(ADAPTIVE))
    reweights = [e for e in topic.root.events if e.name == "providers.reweight"]
    assert reweights, "no providers.reweight event with --adaptive-weights"
    for event in reweights:
        weights = json.loads(event.attributes["providers.weights"])
        outside = {k: w for k, w in weights.items() if not 0.25 - 1e-9 <= w <= 4 + 1e-9}
        assert not outside, f"weights outside 0.25x..4x of the configured 1.0: {weights}"
    last = json.loads(reweights[-1].attributes["providers.weights"])
    assert last["weak"] < last["strong"], f"the model that knows 25 names kept {last}"
    ctx.note(f"{ADAPTIVE}: {len(reweights)} reweights, last {last}")
    ctx.record(topic)


def _check_degraded(ctx: ScenarioContext) -> None:
    topic = ctx.topic(DEGRADED)
    code = ctx.facts["exit_codes"][DEGRADED]
    assert code == 1, f"a run whose providers are all unreachable exited {code}, not 1"
    assert topic.status == "failed", f"run.status {topic.status}, expected failed"
    assert topic.root.status == "ERROR", "a failed run's topic.run has status ERROR"
    cycles = topic.spans(n.GENERATION_CYCLE)
    degraded = [c for c in cycles if c.attr("generation.degraded") is True]
    assert degraded, f"no generation.degraded cycle among {len(cycles)}"
    unavailable = [c for c in degraded if any(e.name == "providers.unavailable" for e in c.events)]
    assert unavailable, "degraded cycles carry no providers.unavailable event"
    # docs/tracing.md: a degraded cycle has status ERROR and no batch (its first request may
    # have been tried and failed, which is how the breaker opened: that chat span is ERROR)
    batches = {s.parent_span_id for s in topic.spans(n.BATCH_RECEIVE)}
    assert all(c.status == "ERROR" and c.span_id not in batches for c in degraded), degraded
    assert all(s.status == "ERROR" for s in topic.spans(prefix=n.CHAT_PREFIX)), "a chat succeeded"
    summary = json.loads((ctx.path(DEGRADED).parent / "run.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed", f"run.json status {summary['status']}"
    ctx.note(f"{DEGRADED}: failed after {topic.root.duration_ms / 1000:.1f}s: {summary['reason']}")


def check(ctx: ScenarioContext) -> None:
    _check_subtopics(ctx)
    _check_adaptive(ctx)
    _check_degraded(ctx)
