"""Adaptive strategy (seed 001): measure what each prompt strategy yields, shift producers.

A strategy here is how much of the avoid list a prompt carries: the full
budget, a quarter of it, or none. An avoid list costs input tokens and a
model may ignore it, so which one pays depends on the model and the topic.
Each batch is charged to the strategy it was made with (``AttributeBatch.
strategy``); every ``every`` batches the orchestrator compares the arms over
their latest batches by new uniques per 1,000 tokens of cost (below),
gives the best one to all producers but one, and lets that one
(rotating) explore another arm. Each decision is returned for the trace.

Arms are compared on the same stretch of the run: a batch counts only while
it is among the run's latest ``horizon`` batches (4 decision intervals). A
topic's yield falls as it is enumerated, whatever the prompt, so an arm that
was explored long ago would otherwise be judged on the rich early batches
and win against the arm in use, which is judged on the lean recent ones.
An arm with fewer than 2 batches in the horizon is unmeasured and is
explored first.

Exploring costs requests: with 4 producers, one exploring is a quarter of
the run on arms already known to be worse. Once the evidence is decisive --
the best arm's yield is at least ``DECISIVE_LEAD`` times every other arm's
latest measured yield (an arm that has left the horizon keeps the yield it
had then, measured on richer batches, so the comparison only errs towards
exploring) -- an explorer is sent only every ``DECISIVE_EXPLORE_EVERY``-th
decision, which still keeps one explored stretch inside the horizon.

Yield is new uniques per 1,000 tokens of *cost*: input tokens count a
quarter of output tokens (``INPUT_PRICE_RATIO``), as real providers price
them (gpt-4o-mini 1/4, claude-haiku-4-5 1/5, gemini-2.5-flash about 1/8).
Counted at par, a prompt without an avoid list looks cheaper per unique on
every comparison, because it skims the popular items still left and leaves
the tail, which the avoid list is for, to later requests; it takes more
requests to reach the same coverage.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["INPUT_PRICE_RATIO", "Arm", "StrategyDecision", "StrategySelector"]

#: an output token costs this many input tokens
INPUT_PRICE_RATIO = 4.0
#: the best arm leads decisively at this many times every other arm's yield
DECISIVE_LEAD = 1.5
#: with a decisive lead, explore at one decision in this many (horizon = 4 decisions)
DECISIVE_EXPLORE_EVERY = 4


@dataclass
class Arm:
    name: str
    avoid_budget: int
    #: (run batch number, new, tokens, cost in output-token equivalents) of its latest batches
    batches: deque[tuple[int, int, int, float]] = field(default_factory=lambda: deque(maxlen=30))
    requests: int = 0
    new: int = 0
    tokens: int = 0
    since: int = 0  # only batches after this run batch number count (the horizon)
    last_yield: float | None = None  # per_1k_cost when it was last measured

    def add(self, new: int, tokens: int, seq: int = 0, cost: float | None = None) -> None:
        self.batches.append((seq, new, tokens, tokens if cost is None else cost))
        self.requests += 1
        self.new += new
        self.tokens += tokens

    @property
    def recent(self) -> list[tuple[int, int, int, float]]:
        return [b for b in self.batches if b[0] > self.since]

    @property
    def per_1k_tokens(self) -> float:
        """New per 1,000 tokens (input and output at par) in the horizon."""
        recent = self.recent
        tokens = sum(b[2] for b in recent)
        return 1000 * sum(b[1] for b in recent) / tokens if tokens else 0.0

    @property
    def per_1k_cost(self) -> float:
        """New per 1,000 tokens of cost (output-token equivalents) in the horizon: the yield."""
        recent = self.recent
        cost = sum(b[3] for b in recent)
        return 1000 * sum(b[1] for b in recent) / cost if cost else 0.0

    @property
    def per_request(self) -> float:
        recent = self.recent
        return sum(b[1] for b in recent) / len(recent) if recent else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "avoid_budget": self.avoid_budget,
            "requests": self.requests,
            "new": self.new,
            "tokens": self.tokens,
            "recent_new_per_request": round(self.per_request, 3),
            "recent_new_per_1k_tokens": round(self.per_1k_tokens, 3),
            "recent_new_per_1k_cost": round(self.per_1k_cost, 3),
        }


@dataclass
class StrategyDecision:
    best: str
    assignment: dict[int, str]
    yields: dict[str, dict[str, float | int]]


class StrategySelector:
    def __init__(self, producer_ids: list[int], avoid_budget: int, every: int = 0) -> None:
        self.arms = {
            "avoid_full": Arm("avoid_full", avoid_budget),
            "avoid_quarter": Arm("avoid_quarter", avoid_budget // 4),
            "no_avoid": Arm("no_avoid", 0),
        }
        self.producer_ids = sorted(producer_ids)
        names = list(self.arms)
        # start: the full list for most, the others explored round-robin
        self.assignment = {
            pid: names[i % len(names)] if len(self.producer_ids) > 1 else names[0]
            for i, pid in enumerate(self.producer_ids)
        }
        self.every = every or max(6, 3 * len(self.producer_ids))
        self.horizon = 4 * self.every
        self._seq = 0
        self._since = 0
        self._decisions = 0
        self.decisions: deque[StrategyDecision] = deque(maxlen=20)
        self.evaluations = 0

    def strategy_of(self, producer_id: int) -> str:
        return self.assignment.get(producer_id, "avoid_full")

    def budget_of(self, name: str) -> int:
        return self.arms[name].avoid_budget

    def record(
        self, strategy: str | None, new: int, tokens: int, input_tokens: int | None = None
    ) -> StrategyDecision | None:
        """Count a batch; ``input_tokens`` (part of ``tokens``) are priced at 1/4."""
        arm = self.arms.get(strategy or "")
        if arm is None:
            return None
        self._seq += 1
        cost = None
        if input_tokens is not None:
            cost = tokens - input_tokens + input_tokens / INPUT_PRICE_RATIO
        arm.add(new, tokens, self._seq, cost)
        self._since += 1
        if self._since < self.every:
            return None
        self._since = 0
        return self._decide()

    def _decide(self) -> StrategyDecision | None:
        for arm in self.arms.values():
            arm.since = self._seq - self.horizon
        measured = [a for a in self.arms.values() if len(a.recent) >= 2]
        if not measured:
            return None
        for arm in measured:
            arm.last_yield = arm.per_1k_cost
        best = max(measured, key=lambda a: a.per_1k_cost)
        # unmeasured arms are explored first, then the others in turn
        others = [a for a in self.arms.values() if a is not best]
        others.sort(key=lambda a: len(a.recent))
        self._decisions += 1
        self.evaluations += 1
        decisive = all(
            o.last_yield is not None and best.per_1k_cost >= DECISIVE_LEAD * o.last_yield
            for o in others
        )
        explore_now = (
            not decisive or self._decisions % DECISIVE_EXPLORE_EVERY == 0
            if len(self.producer_ids) > 1
            else self._decisions % 4 == 0
        )
        assignment = {pid: best.name for pid in self.producer_ids}
        if others and explore_now:
            explorer = self.producer_ids[self._decisions % len(self.producer_ids)]
            assignment[explorer] = others[0].name
        changed = assignment != self.assignment
        self.assignment = assignment
        decision = StrategyDecision(
            best.name, assignment, {a.name: a.to_dict() for a in self.arms.values()}
        )
        self.decisions.append(decision)
        return decision if changed else None

    def summary(self) -> dict[str, object]:
        return {
            "arms": {a.name: a.to_dict() for a in self.arms.values()},
            "evaluations": self.evaluations,
            "last_decisions": [d.best for d in self.decisions],
            "assignment": {str(k): v for k, v in self.assignment.items()},
        }
