"""CLI mode with the test provider: 3 producers x 10 iterations complete, proven by the trace."""

from __future__ import annotations

from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext

TOPIC = "Paris attractions"


def run(ctx: ScenarioContext) -> None:
    config = OrchestratorConfig(topic=TOPIC, producers=3, iterations=10, request_size=60)
    constellation = ctx.constellation()
    orchestrator = constellation.start_orchestrator(config)
    ctx.note(f"orchestrator listening on {constellation.orchestrator_address}")
    ctx.fact_path("attributes", constellation.output_dir_for(config) / "attributes.txt")
    ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
    ctx.fact("orchestrator_log", str(orchestrator.log_path))


def check(ctx: ScenarioContext) -> None:
    topic = ctx.topic(TOPIC)
    topic.assert_completed()
    topic.assert_no_errors()
    topic.assert_llm_calls()
    topic.assert_counts_consistent()
    topic.assert_min_attributes(20)
    topic.assert_file_matches(ctx.path("attributes"))
    code = ctx.facts["exit_code"]
    assert code == 0, f"orchestrator exited with {code}; log {ctx.facts['orchestrator_log']}"
    ctx.record(topic)
