"""Stop truth: an open-ended run on a finite fake universe ends by itself within a bounded number
of requests, having found most of the universe (counted from the ledger): once by saturation,
once by the coverage rule (``--target-coverage``, saturation off)."""

from __future__ import annotations

from scenarios import _oracle as o
from tester import schema as n
from tester.fake_llm.model import universe
from tester.oracle.keys import key
from tester.scenario import ScenarioContext

TOPIC = "Harbour lighthouses"
COVERAGE_TOPIC = "Harbour beacons"
UNIVERSE = 120
PRODUCERS, REQUEST_SIZE = 3, 30
#: the coverage rule stops once the 95% interval's low end of an estimate of the *reachable*
#: universe has held over the last 10% of the requests. False-alarm rates of the checks on a
#: correct system, measured by in-process replay (benchmarks/completeness/scenario_checks.py,
#: 1000 seeded runs of the fake model's draws with the avoid list on every prompt through the
#: system's estimator and stop rule; partitions and the answers' noise not modelled: the real
#: runs stop later, ~57 requests against the replay's ~9): the coverage variant found less
#: than MIN_TRUE_COVERAGE (TARGET - 0.05): 0.0% (0 of 1000; below 0.9: 0.0%); the saturation
#: variant less than its 85%: 0.0% (patience not modelled: it only adds requests); more than
#: 200 requests to the stop: 0.0% (at most 31). The fake model's draws come from --seed
TARGET_COVERAGE = 0.9
MIN_TRUE_COVERAGE = TARGET_COVERAGE - 0.05
#: (group, topic, options, how the run must end, request bound, least share found)
VARIANTS: list[tuple[str, str, list[str], str, int, float]] = [
    # ~50 answers hold every item 10 times over; the stop rule must fire by then
    ("", TOPIC, ["--saturation-patience", "1"], "saturated", 200, 0.85),
    # the estimate's lower bound reaches the target before saturation would
    ("coverage", COVERAGE_TOPIC,
     ["--saturation", "0", "--target-coverage", str(TARGET_COVERAGE)],
     "coverage:", 200, MIN_TRUE_COVERAGE),
]  # fmt: skip


def run(ctx: ScenarioContext) -> None:
    for group, topic, extra, _, _, _ in VARIANTS:
        prefix = f"{group}:" if group else ""
        model = o.fake_model(group or "fake", universe=UNIVERSE, latency_ms=10)
        try:
            config = o.config_on(
                ctx, topic, o.llm_spec(model), producers=PRODUCERS, iterations=None,
                request_size=REQUEST_SIZE, extra=extra,
            )  # fmt: skip
            constellation = ctx.constellation(group or None)
            orchestrator = constellation.start_orchestrator(config)
            ctx.fact_path(
                f"{prefix}attributes", constellation.output_dir_for(config) / "attributes.txt"
            )
            ctx.fact(f"{prefix}exit_code", orchestrator.wait(timeout=ctx.timeout))
        finally:
            model.stop()
            o.save_ledgers(ctx, [model], group)


def check(ctx: ScenarioContext) -> None:
    for group, topic_name, _, ending, max_requests, min_share in VARIANTS:
        prefix = f"{group}:" if group else ""
        code = ctx.facts[f"{prefix}exit_code"]
        assert code == 0, f"{topic_name}: orchestrator exited {code}"
        topic = ctx.topic(topic_name)
        topic.assert_completed().assert_no_errors().assert_counts_consistent()
        attributes = ctx.path(f"{prefix}attributes")
        topic.assert_file_matches(attributes)
        reason = str(topic.root.attr("run.stop_reason", ""))
        assert reason.startswith(ending), (
            f"{topic_name}: the run did not end by {ending.rstrip(':')}: {reason!r}"
        )
        if ending == "coverage:":  # the rule fired on its documented bound, once
            covered = [e for e in topic.root.events if e.name == n.EVENT_COVERED]
            assert len(covered) == 1, f"{topic_name}: {len(covered)} run.covered events"
            low = covered[0].attributes.get(n.COVERAGE_STOP_LOW)
            assert isinstance(low, float) and low >= TARGET_COVERAGE, (
                f"{topic_name}: run.covered with a lower bound of {low}, target {TARGET_COVERAGE}"
            )
        oracle = o.judge(ctx, topic, attributes, group)
        requests = len(oracle.item_requests())
        assert requests <= max_requests, (
            f"{topic_name}: the run took {requests} requests to the model (ledger) to stop by "
            f"{ending.rstrip(':')}, bound {max_requests}"
        )
        names = universe(topic_name, UNIVERSE)
        # truth from the ledger: what the model served of its universe (no-loss and no-junk
        # above tie the file to it), and the file's share of the universe
        served = oracle.served_keys()
        served_share = sum(1 for x in names if key(x) in served) / UNIVERSE
        share = oracle.universe_found(attributes, names)
        assert share >= min_share, (
            f"{topic_name}: the run stopped ({reason}) having found {share:.0%} of the model's "
            f"{UNIVERSE} items (the model served {served_share:.0%}; at least {min_share:.0%} "
            "expected)"
        )
        ctx.note(
            f"{topic_name}: stopped by {ending.rstrip(':')} after {requests} requests with "
            f"{share:.0%} of {UNIVERSE} items found ({served_share:.0%} served)"
        )
        ctx.record(topic)
