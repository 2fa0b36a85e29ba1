"""Several configurations side by side on the fake model: 1 producer, 8 producers, tiny requests
with the levers off, an open-ended run stopped by SIGTERM; each judged by its model's ledger."""

from __future__ import annotations

import signal
import time
from typing import Any

from scenarios import _oracle as o
from scenarios._helpers import wait_until
from tester.scenario import ScenarioContext

# (topic, producers, iterations, request size, extra options, what the prompts must show)
COMPLETING: list[tuple[str, int, int, int, list[str], dict[str, Any]]] = [
    ("Solo explorer", 1, 5, 60, ["--no-adaptive"], {"shared_state": True}),
    ("Crowded harbour", 8, 3, 60, ["--no-adaptive"],
     {"partitions": True, "avoid_budget_tokens": 400}),
    ("Tiny requests", 2, 10, 3, ["--no-shared-state", "--no-partitions"],
     {"partitions": False, "shared_state": False}),
]  # fmt: skip
OPEN_ENDED = "Open-ended"


def _slug(topic: str) -> str:
    return topic.lower().replace(" ", "-")


def run(ctx: ScenarioContext) -> None:
    models = []
    try:
        started = []
        for topic, producers, iterations, size, extra, _ in COMPLETING:
            model = o.fake_model(_slug(topic))
            models.append(model)
            config = o.config_on(
                ctx, topic, o.llm_spec(model), producers=producers, iterations=iterations,
                request_size=size, extra=extra,
            )  # fmt: skip
            constellation = ctx.constellation(_slug(topic))
            started.append((config, constellation.start_orchestrator(config)))
            ctx.fact_path(topic, constellation.output_dir_for(config) / "attributes.txt")
        open_model = o.fake_model("open-ended", latency_ms=100, universe=1500)
        models.append(open_model)
        open_config = o.config_on(
            ctx, OPEN_ENDED, o.llm_spec(open_model), producers=2, iterations=None,
            extra=["--saturation", "0"],  # open-ended: until the SIGTERM
        )  # fmt: skip
        open_constellation = ctx.constellation("open-ended")
        open_orchestrator = open_constellation.start_orchestrator(open_config)
        attributes = ctx.fact_path(
            OPEN_ENDED, open_constellation.output_dir_for(open_config) / "attributes.txt"
        )
        exit_codes = ctx.fact("exit_codes", {})
        for config, orchestrator in started:
            exit_codes[config.topic] = orchestrator.wait(timeout=ctx.timeout)
        wait_until(
            lambda: attributes.exists() and len(attributes.read_text().splitlines()) >= 100,
            ctx.timeout,
            "the open-ended run to write 100 attributes",
        )
        ctx.fact("sigterm_at", time.time())
        open_orchestrator.signal(signal.SIGTERM)
        exit_codes[OPEN_ENDED] = open_orchestrator.wait(timeout=60)
    finally:
        for model in models:
            model.stop()
        for model in models:
            o.save_ledgers(ctx, [model], model.name)


def check(ctx: ScenarioContext) -> None:
    exit_codes = ctx.facts["exit_codes"]
    for topic_name, producers, iterations, _, _, levers in COMPLETING:
        topic = ctx.topic(topic_name)
        topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
        topic.assert_file_matches(ctx.path(topic_name))
        expected_batches = producers * iterations
        assert topic.root.attr("run.batch_count") == expected_batches, (
            f"{topic_name}: expected {expected_batches} batches, trace says "
            f"{topic.root.attr('run.batch_count')}"
        )
        assert exit_codes[topic_name] == 0, f"{topic_name}: exit {exit_codes[topic_name]}"
        o.judge(ctx, topic, ctx.path(topic_name), _slug(topic_name), levers=levers)
        ctx.record(topic)

    topic = ctx.topic(OPEN_ENDED)
    topic.assert_stopped().assert_no_errors().assert_complete_trace().assert_counts_consistent()
    topic.assert_file_matches(ctx.path(OPEN_ENDED))
    assert topic.root.attr("run.iterations") == -1
    assert exit_codes[OPEN_ENDED] == 0, f"open-ended: exit {exit_codes[OPEN_ENDED]}"
    o.judge(ctx, topic, ctx.path(OPEN_ENDED), "open-ended")
    ctx.record(topic)
