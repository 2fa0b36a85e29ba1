"""The adaptive strategy: starts cheap, measures arms per provider, drops badly obeyed arms."""

from system.levers.strategy.arms import ARMS, arms_for
from system.levers.strategy.selector import ECHO_DROP_RATE, StrategySelector

ARMS3 = ["plain", "avoid", "rare"]


def escalated(sel: StrategySelector, provider: str) -> StrategySelector:
    """As if the provider's cheap arms had worn out: costly arms may be explored."""
    sel._provider(provider).escalated = True
    return sel


def test_every_producer_starts_on_the_cheapest_arm():
    sel = StrategySelector([1, 2, 3], list(ARMS))
    assert sel.start_arm == "plain" and ARMS["plain"].cheap
    assert {sel.strategy_of(pid, "any") for pid in (1, 2, 3)} == {"plain"}
    assert sel.arms_of(1) == {}  # no provider seen yet: the start arm everywhere


def test_arms_follow_the_levers_that_are_on():
    assert arms_for(shared_state=False, partitions=False) == ["plain", "hot"]
    assert "avoid" in arms_for(shared_state=True, partitions=False)
    assert "focus" not in arms_for(shared_state=True, partitions=False)
    assert set(arms_for(shared_state=True, partitions=True)) == set(ARMS) - {"rare"}
    # rare is opt-in (--arms rare): it measured worse on the real model
    assert set(arms_for(shared_state=True, partitions=True, opt_in=True)) == set(ARMS)


def test_a_costlier_arm_wins_only_when_it_yields_more_per_cost():
    sel = escalated(StrategySelector([1, 2, 3], ARMS3, every=6), "p")
    decision = None
    for _ in range(4):
        for name, new, tokens in (("plain", 10, 1000), ("avoid", 30, 1000), ("rare", 5, 1000)):
            decision = sel.record(name, new, tokens, provider="p") or decision
    assert decision is not None and decision.best == "avoid" and decision.provider == "p"
    assert list(sel.providers["p"].assignment.values()).count("avoid") == 3  # decisive lead

    cheap = escalated(StrategySelector([1, 2, 3], ARMS3, every=6), "p")
    for _ in range(4):
        # the avoid list doubles the input: 12 new for 2x the cost loses to 10 at 1x
        for name, new, tokens, inp in (("plain", 10, 600, 100), ("avoid", 12, 1200, 700),
                                       ("rare", 4, 600, 100)):  # fmt: skip
            decision = cheap.record(name, new, tokens, inp, provider="p") or decision
    assert cheap.providers["p"].history[-1].best == "plain"


def test_costly_arms_are_explored_only_once_the_cheap_ones_wear_out():
    sel = StrategySelector([1, 2], ARMS3, every=4)
    explored: set[str] = set()
    for _ in range(10):  # a rich topic: plain and rare keep yielding
        for name in ("plain", "rare"):
            decision = sel.record(name, 20, 1000, provider="p")
            explored |= set(decision.assignment.values()) if decision else set()
    p = sel.providers["p"]
    assert not p.escalated and "avoid" not in explored
    assert all("avoid" not in d.assignment.values() for d in p.history)
    for _ in range(12):  # the cheap arms wear out: a quarter of their best yield
        for name in ("plain", "rare"):
            decision = sel.record(name, 5, 1000, provider="p")
            explored |= set(decision.assignment.values()) if decision else set()
    assert p.escalated and "avoid" in explored


def test_cheap_arms_that_never_yield_escalate():
    """A resumed run whose cheap prompts only repeat what the file holds: a peak of 0
    never fell below half of itself, so the run stalled on plain forever (chaos test)."""
    sel = StrategySelector([1, 2], ARMS3, every=4)
    explored: set[str] = set()
    for _ in range(6):
        for name in ("plain", "rare"):
            decision = sel.record(name, 0, 1000, provider="p")
            explored |= set(decision.assignment.values()) if decision else set()
    assert sel.providers["p"].escalated and "avoid" in explored


def test_a_resumed_run_starts_on_the_avoid_list():
    sel = StrategySelector([1, 2], ARMS3, every=4)
    sel.resume()
    assert sel.start_arm == "avoid" and sel.strategy_of(1, "p") == "avoid"
    sel.record("avoid", 5, 1000, provider="p")
    assert sel.providers["p"].escalated
    no_avoid = StrategySelector([1], ["plain", "hot"])
    no_avoid.resume()
    assert no_avoid.start_arm == "plain"  # --no-shared-state: no avoid arm to start on


def test_without_cheap_arms_the_costly_ones_are_used_at_once():
    sel = StrategySelector([1, 2], ["avoid", "focus"], every=2)
    assert sel.start_arm == "avoid"
    for _ in range(4):
        sel.record("avoid", 5, 1000, provider="p")
        sel.record("focus", 10, 1000, provider="p")
    assert sel.providers["p"].history[-1].best == "focus"


def test_unknown_arms_are_ignored():
    sel = StrategySelector([1], ARMS3)
    assert sel.record(None, 5, 100, provider="p") is None
    assert sel.record("other", 5, 100, provider="p") is None


def test_each_provider_has_its_own_arms():
    sel = escalated(escalated(StrategySelector([1, 2], ARMS3, every=4), "big"), "small")
    for _ in range(6):
        for name, big, small in (("plain", 5, 20), ("avoid", 20, 5), ("rare", 1, 1)):
            sel.record(name, big, 1000, provider="big")
            sel.record(name, small, 1000, provider="small")
    assert sel.providers["big"].history[-1].best == "avoid"
    assert sel.providers["small"].history[-1].best == "plain"
    arms = sel.arms_of(1)
    assert set(arms) == {"big", "small"}


def test_echoes_discount_new_items_and_an_echoing_arm_is_dropped():
    sel = StrategySelector([1, 2], ARMS3, every=100)
    for _ in range(3):
        sel.record("plain", 10, 1000, provider="p", lines=30, echoes=1)
    decision = None
    for _ in range(3):
        # half its lines repeat the prompt: its "new items" are mostly echoes
        decision = sel.record("avoid", 20, 1000, provider="p", lines=30, echoes=15) or decision
    drops = sel.take_drops()
    assert [(d.provider, d.arm) for d in drops] == [("p", "avoid")]
    assert "echo rate 0.50" in drops[0].reason
    assert "avoid" in sel.providers["p"].dropped
    assert decision is not None and "avoid" not in decision.assignment.values()
    arm = sel.providers["p"].arms["avoid"]
    assert arm.per_1k_tokens == 10.0  # 20 new discounted by the 50% echo share
    # a dropped arm is never assigned again
    for _ in range(20):
        sel.record("plain", 10, 1000, provider="p", lines=30)
        sel.record("rare", 1, 1000, provider="p", lines=30)
    assert all(d.assignment.get(1) != "avoid" for d in sel.providers["p"].history)


def test_an_arm_echoing_no_more_than_plain_is_kept():
    sel = StrategySelector([1], ARMS3, every=100)
    rate_lines = int(30 * ECHO_DROP_RATE) + 2
    for _ in range(3):
        sel.record("plain", 10, 1000, provider="p", lines=30, echoes=rate_lines)
        sel.record("rare", 10, 1000, provider="p", lines=30, echoes=rate_lines)
    assert sel.take_drops() == []  # the model echoes "Topic:" whatever the arm


def test_a_focus_arm_the_model_does_not_keep_to_is_dropped():
    sel = StrategySelector([1], ["plain", "focus"], every=100)
    for _ in range(3):
        sel.record("focus", 10, 1000, provider="p", lines=30, candidates=30, off_partition=20)
    drops = sel.take_drops()
    assert drops and drops[0].arm == "focus" and "in-partition rate 0.33" in drops[0].reason


def test_plain_is_never_dropped():
    sel = StrategySelector([1], ARMS3, every=100)
    for _ in range(5):
        sel.record("plain", 1, 1000, provider="p", lines=30, echoes=30)
    assert sel.take_drops() == []


def test_arms_are_compared_on_recent_batches_only():
    sel = StrategySelector([1, 2], ["plain", "avoid"], every=6)
    # early: avoid explored while the topic was rich
    for _ in range(6):
        sel.record("avoid", 20, 1000, provider="p")
        sel.record("plain", 20, 1000, provider="p")
    # later the topic is leaner: plain yields 10, avoid is no longer measured
    decision = None
    for _ in range(30):
        decision = sel.record("plain", 10, 1000, provider="p") or decision
    p = sel.providers["p"]
    assert p.arms["avoid"].recent == []  # its rich early batches have aged out
    assert p.history[-1].best == "plain"


def test_summary_lists_each_provider():
    sel = StrategySelector([1], ARMS3, every=2)
    for _ in range(4):
        sel.record("plain", 3, 100, provider="local")
    summary = sel.summary()
    assert summary["arms"] == ARMS3
    assert "local" in summary["providers"]  # type: ignore[operator]
