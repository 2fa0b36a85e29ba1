"""A producer is SIGKILLed mid-run on the fake model: it is restarted, the run completes, no
line lost or doubled, every answer the orchestrator received is in the file."""

from __future__ import annotations

import os
import signal
import time

from scenarios import _oracle as o
from scenarios._helpers import wait_until
from tester.scenario import ScenarioContext

TOPIC = "Museums of Rome"
PRODUCERS, ITERATIONS = 3, 40


def run(ctx: ScenarioContext) -> None:
    model = o.fake_model("fake", latency_ms=20)
    try:
        config = o.config_on(ctx, TOPIC, o.llm_spec(model), producers=PRODUCERS,
                             iterations=ITERATIONS)  # fmt: skip
        constellation = ctx.constellation()
        orchestrator = constellation.start_orchestrator(config)
        ctx.fact_path("attributes", constellation.output_dir_for(config) / "attributes.txt")
        ctx.store.wait_for(lambda s: s.name == "batch.receive", ctx.timeout, count=5)
        victim = wait_until(lambda: constellation.producer_processes(), 30, "producers")[0].pid
        ctx.fact("killed_at", time.time())
        os.kill(victim, signal.SIGKILL)
        ctx.fact("victim_pid", victim)
        ctx.note(f"killed producer pid {victim}")
        ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
    finally:
        model.stop()
        o.save_ledgers(ctx, [model])


def check(ctx: ScenarioContext) -> None:
    victim = ctx.facts["victim_pid"]
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_restarts(1).assert_counts_consistent().assert_llm_calls()
    topic.assert_file_matches(ctx.path("attributes"))
    lost = topic.spans("producer.lost")
    assert [s.attr("process.pid") for s in lost] == [victim], f"producer.lost spans: {lost}"
    assert topic.root.attr("run.batch_count") == PRODUCERS * ITERATIONS
    assert ctx.facts["exit_code"] == 0, f"orchestrator exited with {ctx.facts['exit_code']}"
    # the victim's spans not exported yet died with it: its last requests may lack a chat span
    killed = float(ctx.facts["killed_at"])
    o.judge(ctx, topic, ctx.path("attributes"), excuse=[(killed - 2.0, killed + 0.5)],
            support=False)  # fmt: skip
    ctx.record(topic)
