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
    assert values.count("avoid_full") == 2  # one producer keeps exploring
    assert decision.yields["avoid_full"]["recent_new_per_1k_tokens"] == 30.0
    assert sel.budget_of("avoid_quarter") == 100 and sel.budget_of("no_avoid") == 0


def test_unknown_strategies_are_ignored():
    sel = StrategySelector([1], avoid_budget=100)
    assert sel.record(None, 5, 100) is None and sel.record("other", 5, 100) is None
