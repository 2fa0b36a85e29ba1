"""Stop truth: an open-ended run on a finite fake universe ends by itself (saturation) within a
bounded number of requests, having found most of the universe (counted from the ledger)."""

from __future__ import annotations

from scenarios import _oracle as o
from tester.fake_llm.model import universe
from tester.scenario import ScenarioContext

TOPIC = "Harbour lighthouses"
UNIVERSE = 120
PRODUCERS, REQUEST_SIZE = 3, 30
MAX_REQUESTS = 200  # ~50 answers hold every item 10 times over; the stop rule must fire by then
MIN_SHARE = 0.85


def run(ctx: ScenarioContext) -> None:
    model = o.fake_model("fake", universe=UNIVERSE, latency_ms=10)
    try:
        config = o.config_on(
            ctx, TOPIC, o.llm_spec(model), producers=PRODUCERS, iterations=None,
            request_size=REQUEST_SIZE, extra=["--saturation-patience", "1"],
        )  # fmt: skip
        constellation = ctx.constellation()
        orchestrator = constellation.start_orchestrator(config)
        ctx.fact_path("attributes", constellation.output_dir_for(config) / "attributes.txt")
        ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
    finally:
        model.stop()
        o.save_ledgers(ctx, [model])


def check(ctx: ScenarioContext) -> None:
    assert ctx.facts["exit_code"] == 0, f"orchestrator exited {ctx.facts['exit_code']}"
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))
    reason = str(topic.root.attr("run.stop_reason", ""))
    assert reason.startswith("saturated"), f"the run did not end by saturation: {reason!r}"
    oracle = o.judge(ctx, topic, ctx.path("attributes"))
    requests = len(oracle.item_requests())
    assert requests <= MAX_REQUESTS, (
        f"saturation took {requests} requests to the model (ledger), bound {MAX_REQUESTS}"
    )
    share = oracle.universe_found(ctx.path("attributes"), universe(TOPIC, UNIVERSE))
    assert share >= MIN_SHARE, (
        f"the run stopped having found {share:.0%} of the model's {UNIVERSE} items "
        f"(at least {MIN_SHARE:.0%} expected)"
    )
    ctx.note(f"saturated after {requests} requests with {share:.0%} of {UNIVERSE} items found")
    ctx.record(topic)
