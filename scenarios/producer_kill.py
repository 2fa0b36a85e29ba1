"""A producer is SIGKILLed mid-run: it is restarted, the run completes, no line lost or doubled."""

from __future__ import annotations

import os
import signal

from scenarios._helpers import wait_until
from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext

ITERATIONS = 40
CONFIG = OrchestratorConfig(
    topic="Museums of Rome",
    producers=3,
    iterations=ITERATIONS,
    extra_args=["--sim-latency-ms", "20"],
)


def run(ctx: ScenarioContext) -> None:
    constellation = ctx.constellation()
    orchestrator = constellation.start_orchestrator(CONFIG)
    ctx.fact_path("attributes", constellation.output_dir_for(CONFIG) / "attributes.txt")
    ctx.store.wait_for(lambda s: s.name == "batch.receive", ctx.timeout, count=5)
    victim = wait_until(lambda: constellation.producer_processes(), 30, "producers")[0].pid
    os.kill(victim, signal.SIGKILL)
    ctx.fact("victim_pid", victim)
    ctx.note(f"killed producer pid {victim}")
    ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))


def check(ctx: ScenarioContext) -> None:
    victim = ctx.facts["victim_pid"]
    topic = ctx.topic(CONFIG.topic)
    topic.assert_completed().assert_restarts(1).assert_counts_consistent().assert_llm_calls()
    topic.assert_file_matches(ctx.path("attributes"))
    lost = topic.spans("producer.lost")
    assert [s.attr("process.pid") for s in lost] == [victim], f"producer.lost spans: {lost}"
    assert topic.root.attr("run.batch_count") == CONFIG.producers * ITERATIONS
    assert ctx.facts["exit_code"] == 0, f"orchestrator exited with {ctx.facts['exit_code']}"
    ctx.record(topic)
