"""The orchestrator is SIGKILLed mid-run, its producers exit, and a restart resumes the file;
the union is exactly what the fake model served (resume truth)."""

from __future__ import annotations

import json
import signal
import time

import psutil

from scenarios import _oracle as o
from scenarios._helpers import wait_until
from tester.scenario import ScenarioContext
from tester.topic import normalize

TOPIC = "Bridges of Paris"


def run(ctx: ScenarioContext) -> None:
    model = o.fake_model("fake", latency_ms=20)
    try:
        constellation = ctx.constellation()
        output = constellation.workdir / "output" / "shared"
        first = o.config_on(ctx, TOPIC, o.llm_spec(model), iterations=None, output_dir=output)
        orchestrator = constellation.start_orchestrator(first)
        ctx.store.wait_for(lambda s: s.name == "file.append", ctx.timeout, count=10)
        def three_producers() -> list[psutil.Process]:
            found = constellation.producer_processes()
            return found if len(found) == 3 else []

        producers = wait_until(three_producers, 30, "3 producers")
        ctx.fact("killed_at", time.time())
        orchestrator.signal(signal.SIGKILL)
        _, alive = psutil.wait_procs(producers, timeout=15)
        assert not alive, f"producers outlived the killed orchestrator: {alive}"
        ctx.fact("producers_gone_at", time.time())
        before = (output / "attributes.txt").read_text(encoding="utf-8").splitlines()
        ctx.fact("lines_before_crash", before)
        ctx.note(f"{len(before)} lines on disk when the orchestrator was killed")
        second = o.config_on(ctx, TOPIC, o.llm_spec(model), iterations=5, output_dir=output)
        restarted = constellation.start_orchestrator(second)
        ctx.fact_path("attributes", output / "attributes.txt")
        ctx.fact_path("run_json", output / "run.json")
        ctx.fact("exit_code", restarted.wait(timeout=ctx.timeout))
    finally:
        model.stop()
        o.save_ledgers(ctx, [model])


def check(ctx: ScenarioContext) -> None:
    before: list[str] = ctx.facts["lines_before_crash"]
    assert before, "nothing was written before the crash"
    assert ctx.facts["exit_code"] == 0, f"restarted orchestrator exited {ctx.facts['exit_code']}"
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))
    after = ctx.path("attributes").read_text(encoding="utf-8").splitlines()
    assert after[: len(before)] == before, "lines written before the crash changed"
    assert topic.resumed_count == len({normalize(x) for x in before})
    # resume truth: both runs' requests against one ledger, the union file against the model
    killed, gone = float(ctx.facts["killed_at"]), float(ctx.facts["producers_gone_at"])
    o.judge(ctx, topic, ctx.path("attributes"), spans=ctx.store.all(),
            excuse=[(killed - 2.0, gone + 1.0)])  # fmt: skip
    summary = json.loads(ctx.path("run_json").read_text(encoding="utf-8"))
    lines = [x for x in after if x.strip()]
    counts = summary.get("counts", summary)
    unique, resumed = counts.get("unique"), counts.get("resumed")
    if unique is not None and resumed is not None:
        assert int(unique) + int(resumed) == len(lines), (
            f"run.json says {unique} new + {resumed} resumed, the file has {len(lines)} lines"
        )
    ctx.record(topic)
