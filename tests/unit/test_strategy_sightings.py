"""Arms judged by what is likely real (issue 22): a find counts once another request
returns it, and an arm that loses to plain on that score is dropped."""

from __future__ import annotations

import itertools

from system.dedup.keys import key_of
from system.levers.base import LeverRun
from system.levers.prefilter import pack_keys
from system.levers.strategy.lever import StrategyLever
from system.levers.strategy.selector import StrategySelector
from system.orchestrator.config import LeverConfig
from system.protocol import AttributeBatch
from system.telemetry import schema as s

_fresh = itertools.count(1_000_000)


def _junk(n: int) -> list[int]:
    return [next(_fresh) for _ in range(n)]


def _run(arms: list[str], rounds: int, *, sightings: bool) -> StrategySelector:
    """``hot`` finds 3x as many new strings as ``plain``, all of them junk nobody
    returns again; plain's finds come back in the next plain request."""
    sel = StrategySelector([1, 2, 3], arms, every=6)
    sel.judge_by_sightings = sightings
    p = sel._provider("p")
    p.escalated = True
    last_plain: list[int] = []
    for _ in range(rounds):
        for name in arms:
            if name == "plain":
                found = _junk(10)
                sel.record(name, 10, 1000, provider="p", new_keys=found, seen_keys=last_plain)
                last_plain = found
            else:
                sel.record(name, 30, 1000, provider="p", new_keys=_junk(30), seen_keys=_junk(5))
    return sel


def test_junk_that_nobody_returns_earns_nothing_and_its_arm_is_dropped():
    sel = _run(["plain", "hot", "focus"], 8, sightings=True)
    p = sel.providers["p"]
    assert p.history[-1].best == "plain"
    assert set(p.dropped) == {"hot", "focus"}  # the partition arm earns its place or goes
    assert all(r.startswith("loses to plain") for r in p.dropped.values())
    assert set(p.assignment.values()) == {"plain"}
    drops = sel.take_drops()
    assert {d.arm for d in drops} == {"hot", "focus"}
    assert p.arms["plain"].confirmed_total > 0 and p.arms["hot"].confirmed_total == 0


def test_without_sightings_new_strings_are_the_yield():
    sel = _run(["plain", "hot"], 8, sightings=False)
    assert sel.providers["p"].history[-1].best == "hot"
    assert not sel.providers["p"].dropped


def test_an_arm_whose_finds_come_back_keeps_its_place():
    sel = StrategySelector([1, 2], ["plain", "hot"], every=4)
    sel.judge_by_sightings = True
    previous: dict[str, list[int]] = {"plain": [], "hot": []}
    for _ in range(10):
        for name, n in (("plain", 10), ("hot", 20)):
            found = _junk(n)
            # the other arm returns what this one found: real items come back
            other = previous["hot" if name == "plain" else "plain"]
            sel.record(name, n, 1000, provider="p", new_keys=found, seen_keys=other)
            previous[name] = found
    p = sel.providers["p"]
    assert not p.dropped
    assert p.history[-1].best == "hot"


def test_a_batch_is_scored_only_once_it_had_time_to_be_seen_again():
    sel = StrategySelector([1], ["plain"], every=4)
    sel.judge_by_sightings = True
    for _ in range(4):
        sel.record("plain", 10, 1000, provider="p", new_keys=_junk(10))
    arm = sel.providers["p"].arms["plain"]
    sel.providers["p"]._measure_window()
    assert arm.scored == []  # the latest interval is not scored yet


def test_the_lever_reports_the_keys_a_request_returned():
    config = LeverConfig(adaptive=True)
    lever = StrategyLever(LeverRun(config, [1, 2], 10, open_ended=True))
    selector = lever.selector
    assert selector.judge_by_sightings
    first = AttributeBatch(1, 1, ["Eiffel Tower", "Louvre"], "p", "m", output_tokens=100,
                           strategy="plain")  # fmt: skip
    lever.on_batch(1, first, ["Eiffel Tower", "Louvre"])
    # another producer returns the Louvre: its key as sent, the tower as a pre-filtered repeat
    again = AttributeBatch(2, 1, ["Louvre"], "p", "m", output_tokens=100, strategy="plain",
                           keys=[key_of("Louvre")],
                           repeat_keys=pack_keys([key_of("Eiffel Tower")]))  # fmt: skip
    effects = lever.on_batch(2, again, [])
    assert selector.providers["p"].arms["plain"].confirmed_total == 2
    assert all(name != s.EVENT_STRATEGY_DROP for name, _ in effects.events)
