from system.orchestrator.strategy import StrategySelector


def test_producers_shift_to_the_strategy_with_the_best_yield_per_token():
    sel = StrategySelector([1, 2, 3], avoid_budget=400, every=6)
    assert set(sel.assignment.values()) == {"avoid_full", "avoid_quarter", "no_avoid"}
    decision = None
    for _ in range(4):
        for name, new in (("avoid_full", 30), ("avoid_quarter", 10), ("no_avoid", 5)):
            decision = sel.record(name, new, 1000) or decision
    assert decision is not None and decision.best == "avoid_full"
    values = list(sel.assignment.values())
    assert values.count("avoid_full") == 3  # a decisive lead: nobody explores this time
    assert decision.yields["avoid_full"]["recent_new_per_1k_tokens"] == 30.0
    assert sel.budget_of("avoid_quarter") == 100 and sel.budget_of("no_avoid") == 0


def test_unknown_strategies_are_ignored():
    sel = StrategySelector([1], avoid_budget=100)
    assert sel.record(None, 5, 100) is None and sel.record("other", 5, 100) is None


def test_arms_are_compared_on_recent_batches_only():
    sel = StrategySelector([1, 2], avoid_budget=400, every=6)
    # early: no_avoid explored while the topic was rich
    for _ in range(3):
        sel.record("no_avoid", 20, 1000)
        sel.record("avoid_full", 20, 1000)
    # later the topic is leaner: avoid_full yields 10, no_avoid is no longer measured
    decision = None
    for _ in range(60):
        decision = sel.record("avoid_full", 10, 1000) or decision
    assert sel.arms["no_avoid"].recent == []  # its rich early batches have aged out
    assert sel.summary()["last_decisions"][-1] == "avoid_full"
    assert sel.assignment[1] == "avoid_full" or sel.assignment[2] == "avoid_full"


def test_input_tokens_cost_a_quarter_of_output_tokens():
    sel = StrategySelector([1, 2, 3], avoid_budget=400, every=6)
    decision = None
    for _ in range(4):
        # the avoid list doubles the yield for 3x the tokens, all of them input
        decision = sel.record("avoid_full", 20, 600, input_tokens=500) or decision
        decision = sel.record("avoid_quarter", 12, 300, input_tokens=200) or decision
        decision = sel.record("no_avoid", 10, 200, input_tokens=100) or decision
    assert decision is not None and decision.best == "avoid_full"
    yields = decision.yields
    assert yields["no_avoid"]["recent_new_per_1k_tokens"] > yields["avoid_full"][
        "recent_new_per_1k_tokens"
    ]  # at par, no avoid list would look better
    assert yields["avoid_full"]["recent_new_per_1k_cost"] == round(1000 * 20 / 225, 3)


def test_a_close_race_keeps_one_producer_exploring_a_decisive_lead_explores_rarely():
    close = StrategySelector([1, 2, 3, 4], avoid_budget=400, every=8)
    lead = StrategySelector([1, 2, 3, 4], avoid_budget=400, every=8)
    explored = {"close": 0, "lead": 0}
    for _ in range(40):  # 40 decisions
        for _ in range(8):
            for sel, yields in (
                (close, {"avoid_full": 12, "avoid_quarter": 10, "no_avoid": 9}),
                (lead, {"avoid_full": 30, "avoid_quarter": 10, "no_avoid": 5}),
            ):
                names = list(sel.assignment.values())
                name = names[sel._seq % len(names)]
                sel.record(name, yields[name], 1000)
        for sel, key in ((close, "close"), (lead, "lead")):
            explored[key] += sum(v != "avoid_full" for v in sel.assignment.values())
    assert explored["close"] >= 35  # one explorer at nearly every decision
    assert 5 <= explored["lead"] <= 15  # about one decision in four
    assert close.summary()["last_decisions"][-1] == "avoid_full"
    assert lead.summary()["last_decisions"][-1] == "avoid_full"
