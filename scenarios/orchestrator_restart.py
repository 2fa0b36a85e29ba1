"""The orchestrator is SIGKILLed mid-run, its producers exit, and a restart resumes the file;
the union is exactly what the fake model served (resume truth), with every lever on and again
with every lever off."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter

import psutil

from scenarios import _oracle as o
from scenarios._helpers import wait_until
from tester import schema as n
from tester.scenario import ScenarioContext
from tester.topic import normalize

TOPIC = "Bridges of Paris"
LEVERS_OFF_TOPIC = "Bridges of Rome"
LEVERS_OFF = ["--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive"]
#: (group, topic, options of both runs)
VARIANTS: list[tuple[str, str, list[str]]] = [
    ("", TOPIC, []),
    ("levers-off", LEVERS_OFF_TOPIC, LEVERS_OFF),
]
LINES_BEFORE_KILL = 100


def _crash_and_resume(ctx: ScenarioContext, group: str, topic: str, extra: list[str]) -> None:
    key = f"{group}:" if group else ""
    model = o.fake_model(group or "fake", latency_ms=20)
    try:
        constellation = ctx.constellation(group or None)
        output = constellation.workdir / "output" / "shared"
        first = o.config_on(
            ctx, topic, o.llm_spec(model), iterations=None, output_dir=output, extra=extra
        )
        orchestrator = constellation.start_orchestrator(first)
        attributes = output / "attributes.txt"
        wait_until(
            lambda: (
                attributes.exists()
                and len(attributes.read_text(encoding="utf-8").splitlines()) >= LINES_BEFORE_KILL
            ),
            ctx.timeout,
            f"{topic}: {LINES_BEFORE_KILL} lines before the crash",
        )

        def three_producers() -> list[psutil.Process]:
            found = constellation.producer_processes()
            return found if len(found) == 3 else []

        producers = wait_until(three_producers, 30, "3 producers")
        ctx.fact(f"{key}killed_at", time.time())
        orchestrator.signal(signal.SIGKILL)
        _, alive = psutil.wait_procs(producers, timeout=15)
        assert not alive, f"{topic}: producers outlived the killed orchestrator: {alive}"
        ctx.fact(f"{key}producers_gone_at", time.time())
        before = attributes.read_text(encoding="utf-8").splitlines()
        ctx.fact(f"{key}lines_before_crash", before)
        ctx.note(f"{topic}: {len(before)} lines on disk when the orchestrator was killed")
        second = o.config_on(
            ctx, topic, o.llm_spec(model), iterations=5, output_dir=output, extra=extra
        )
        restarted = constellation.start_orchestrator(second)
        ctx.fact_path(f"{key}attributes", attributes)
        ctx.fact_path(f"{key}run_json", output / "run.json")
        ctx.fact(f"{key}exit_code", restarted.wait(timeout=ctx.timeout))
    finally:
        model.stop()
        o.save_ledgers(ctx, [model], group)


def run(ctx: ScenarioContext) -> None:
    for group, topic, extra in VARIANTS:
        _crash_and_resume(ctx, group, topic, extra)


def _check_variant(ctx: ScenarioContext, group: str, topic_name: str) -> None:
    key = f"{group}:" if group else ""
    before: list[str] = ctx.facts[f"{key}lines_before_crash"]
    assert before, f"{topic_name}: nothing was written before the crash"
    code = ctx.facts[f"{key}exit_code"]
    assert code == 0, f"{topic_name}: restarted orchestrator exited {code}"
    topic = ctx.topic(topic_name)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    topic.assert_file_matches(ctx.path(f"{key}attributes"))
    after = ctx.path(f"{key}attributes").read_text(encoding="utf-8").splitlines()
    assert after[: len(before)] == before, f"{topic_name}: lines written before the crash changed"
    assert topic.resumed_count == len({normalize(x) for x in before})
    twice = [line for line, n in Counter(normalize(x) for x in after if x.strip()).items() if n > 1]
    assert not twice, f"{topic_name}: {len(twice)} line(s) twice in the resumed file: {twice[:5]}"
    # resume truth: both runs' requests against one ledger, the union file against the model
    killed, gone = float(ctx.facts[f"{key}killed_at"]), float(ctx.facts[f"{key}producers_gone_at"])
    spans = [s for s in ctx.store.all() if s.trace_id in _traces_of(ctx, topic_name)]
    o.judge(ctx, topic, ctx.path(f"{key}attributes"), group, spans=spans,
            excuse=[(killed - 2.0, gone + 1.0)], support=False, run_json=False)  # fmt: skip
    summary = json.loads(ctx.path(f"{key}run_json").read_text(encoding="utf-8"))
    lines = [x for x in after if x.strip()]
    counts = summary.get("counts", summary)
    unique, resumed = counts.get("unique"), counts.get("resumed")
    assert unique is not None and resumed is not None, f"{topic_name}: run.json has no counts"
    assert int(unique) + int(resumed) == len(lines), (
        f"{topic_name}: run.json says {unique} new + {resumed} resumed, the file has "
        f"{len(lines)} lines"
    )
    assert int(resumed) == topic.resumed_count, (
        f"{topic_name}: run.json says {resumed} resumed, the trace {topic.resumed_count}"
    )
    ctx.record(topic)


def _traces_of(ctx: ScenarioContext, topic_name: str) -> set[str]:
    """The traces of both runs of one topic: the resumed run's ``topic.run``, and the crashed
    run's, whose ``topic.run`` died with the orchestrator, by its producers' ``producer.run``."""
    return {
        s.trace_id
        for s in ctx.store.all()
        if s.name in (n.TOPIC_RUN, n.PRODUCER_RUN) and s.attr(n.TOPIC_NAME) == topic_name
    }


def check(ctx: ScenarioContext) -> None:
    for group, topic, _ in VARIANTS:
        _check_variant(ctx, group, topic)
