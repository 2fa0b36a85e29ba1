"""CLI mode with the test provider: 3 producers x 10 iterations complete, proven by the trace."""

from __future__ import annotations

from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext
from tester.topic import Topic

TOPIC = "Paris attractions"


def run(ctx: ScenarioContext) -> None:
    config = OrchestratorConfig(topic=TOPIC, producers=3, iterations=10, request_size=60)
    constellation = ctx.constellation()
    orchestrator = constellation.start_orchestrator(config)
    ctx.note(f"orchestrator listening on {constellation.orchestrator_address}")

    topic = Topic.wait_for_topic(TOPIC, ctx.collector, timeout=ctx.timeout)
    topic.assert_completed()
    topic.assert_no_errors()
    topic.assert_llm_calls()
    topic.assert_counts_consistent()
    topic.assert_min_attributes(20)
    topic.assert_file_matches(constellation.output_dir_for(config) / "attributes.txt")

    code = orchestrator.wait(timeout=60)
    assert code == 0, f"orchestrator exited with {code}; log {orchestrator.log_path}"
    ctx.record(topic)
