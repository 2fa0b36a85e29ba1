"""Several configurations side by side: 1 producer, 8 producers, tiny requests, open-ended."""

from __future__ import annotations

import signal

from scenarios._helpers import wait_until
from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext

COMPLETING = [
    OrchestratorConfig(topic="Solo explorer", producers=1, iterations=5),
    OrchestratorConfig(topic="Crowded harbour", producers=8, iterations=3),
    OrchestratorConfig(topic="Tiny requests", producers=2, iterations=10, request_size=3),
]
OPEN_ENDED = OrchestratorConfig(
    topic="Open-ended", producers=2, iterations=None, extra_args=["--sim-latency-ms", "20"]
)


def run(ctx: ScenarioContext) -> None:
    started = []
    for config in COMPLETING:
        constellation = ctx.constellation(config.topic.lower().replace(" ", "-"))
        started.append((config, constellation.start_orchestrator(config)))
        # after the start: the constellation numbers its runs' output folders
        ctx.fact_path(config.topic, constellation.output_dir_for(config) / "attributes.txt")
    open_constellation = ctx.constellation("open-ended")
    open_orchestrator = open_constellation.start_orchestrator(OPEN_ENDED)
    attributes = ctx.fact_path(
        OPEN_ENDED.topic, open_constellation.output_dir_for(OPEN_ENDED) / "attributes.txt"
    )

    exit_codes = ctx.fact("exit_codes", {})
    for config, orchestrator in started:
        exit_codes[config.topic] = orchestrator.wait(timeout=ctx.timeout)

    # open-ended: stop it once it has written a few batches' worth of attributes
    wait_until(
        lambda: attributes.exists() and len(attributes.read_text().splitlines()) >= 100,
        ctx.timeout,
        "the open-ended run to write 100 attributes",
    )
    open_orchestrator.signal(signal.SIGTERM)
    exit_codes[OPEN_ENDED.topic] = open_orchestrator.wait(timeout=60)


def check(ctx: ScenarioContext) -> None:
    exit_codes = ctx.facts["exit_codes"]
    for config in COMPLETING:
        topic = ctx.topic(config.topic)
        topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
        topic.assert_file_matches(ctx.path(config.topic))
        expected_batches = config.producers * (config.iterations or 0)
        assert topic.root.attr("run.batch_count") == expected_batches, (
            f"{config.topic}: expected {expected_batches} batches, trace says "
            f"{topic.root.attr('run.batch_count')}"
        )
        assert exit_codes[config.topic] == 0, f"{config.topic}: exit {exit_codes[config.topic]}"
        ctx.record(topic)

    topic = ctx.topic(OPEN_ENDED.topic)
    topic.assert_stopped().assert_no_errors().assert_complete_trace().assert_counts_consistent()
    topic.assert_file_matches(ctx.path(OPEN_ENDED.topic))
    assert topic.root.attr("run.iterations") == -1
    assert exit_codes[OPEN_ENDED.topic] == 0, f"open-ended: exit {exit_codes[OPEN_ENDED.topic]}"
    ctx.record(topic)
