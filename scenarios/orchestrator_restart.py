"""The orchestrator is SIGKILLed mid-run, its producers exit, and a restart resumes the file."""

from __future__ import annotations

import signal

import psutil

from scenarios._helpers import wait_until
from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext
from tester.topic import normalize

TOPIC = "Bridges of Paris"


def run(ctx: ScenarioContext) -> None:
    constellation = ctx.constellation()
    output = constellation.workdir / "output" / "shared"
    first = OrchestratorConfig(
        topic=TOPIC,
        producers=3,
        iterations=None,
        output_dir=output,
        extra_args=["--sim-latency-ms", "20"],
    )
    orchestrator = constellation.start_orchestrator(first)
    ctx.store.wait_for(lambda s: s.name == "file.append", ctx.timeout, count=10)

    def three_producers() -> list[psutil.Process]:
        found = constellation.producer_processes()
        return found if len(found) == 3 else []

    producers = wait_until(three_producers, 30, "3 producers")
    orchestrator.signal(signal.SIGKILL)
    _, alive = psutil.wait_procs(producers, timeout=15)
    assert not alive, f"producers outlived the killed orchestrator: {alive}"
    before = (output / "attributes.txt").read_text(encoding="utf-8").splitlines()
    ctx.fact("lines_before_crash", before)
    ctx.note(f"{len(before)} lines on disk when the orchestrator was killed")

    second = OrchestratorConfig(topic=TOPIC, producers=3, iterations=5, output_dir=output)
    restarted = constellation.start_orchestrator(second)
    ctx.fact_path("attributes", output / "attributes.txt")
    ctx.fact("exit_code", restarted.wait(timeout=ctx.timeout))


def check(ctx: ScenarioContext) -> None:
    before: list[str] = ctx.facts["lines_before_crash"]
    assert before, "nothing was written before the crash"
    assert ctx.facts["exit_code"] == 0, f"restarted orchestrator exited {ctx.facts['exit_code']}"
    # the killed run has a topic.run that never ended: the finished one is the restart's
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))
    after = ctx.path("attributes").read_text(encoding="utf-8").splitlines()
    assert after[: len(before)] == before, "lines written before the crash changed"
    assert topic.resumed_count == len({normalize(x) for x in before})
    ctx.record(topic)
