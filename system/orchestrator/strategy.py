"""Adaptive strategy (seed 001): measure what each prompt strategy yields, shift producers.

A strategy here is how much of the avoid list a prompt carries: the full
budget, a quarter of it, or none. An avoid list costs input tokens and a
model may ignore it, so which one pays depends on the model and the topic.
Each batch is charged to the strategy it was made with (``AttributeBatch.
strategy``); every ``every`` batches the orchestrator compares the arms over
their latest ``window`` batches by new uniques per 1,000 tokens (input and
output), gives the best one to all producers but one, and lets that one
(rotating) explore another arm. Each decision is returned for the trace.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["Arm", "StrategyDecision", "StrategySelector"]


@dataclass
class Arm:
    name: str
    avoid_budget: int
    batches: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=30))
    requests: int = 0
    new: int = 0
    tokens: int = 0

    def add(self, new: int, tokens: int) -> None:
        self.batches.append((new, tokens))
        self.requests += 1
        self.new += new
        self.tokens += tokens

    @property
    def per_1k_tokens(self) -> float:
        tokens = sum(t for _, t in self.batches)
        return 1000 * sum(n for n, _ in self.batches) / tokens if tokens else 0.0

    @property
    def per_request(self) -> float:
        return sum(n for n, _ in self.batches) / len(self.batches) if self.batches else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "avoid_budget": self.avoid_budget,
            "requests": self.requests,
            "new": self.new,
            "tokens": self.tokens,
            "recent_new_per_request": round(self.per_request, 3),
            "recent_new_per_1k_tokens": round(self.per_1k_tokens, 3),
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
        self._since = 0
        self._decisions = 0
        self.decisions: deque[StrategyDecision] = deque(maxlen=20)
        self.evaluations = 0

    def strategy_of(self, producer_id: int) -> str:
        return self.assignment.get(producer_id, "avoid_full")

    def budget_of(self, name: str) -> int:
        return self.arms[name].avoid_budget

    def record(self, strategy: str | None, new: int, tokens: int) -> StrategyDecision | None:
        arm = self.arms.get(strategy or "")
        if arm is None:
            return None
        arm.add(new, tokens)
        self._since += 1
        if self._since < self.every:
            return None
        self._since = 0
        return self._decide()

    def _decide(self) -> StrategyDecision | None:
        measured = [a for a in self.arms.values() if len(a.batches) >= 2]
        if not measured:
            return None
        best = max(measured, key=lambda a: a.per_1k_tokens)
        # unmeasured arms are explored first, then the others in turn
        others = [a for a in self.arms.values() if a is not best]
        others.sort(key=lambda a: len(a.batches))
        self._decisions += 1
        self.evaluations += 1
        assignment = {pid: best.name for pid in self.producer_ids}
        if others:
            explorer = self.producer_ids[self._decisions % len(self.producer_ids)]
            if len(self.producer_ids) > 1 or self._decisions % 4 == 0:
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
