"""Rounds of LLM-proposed sub-topics (``--partition-by subtopics``).

The orchestrator never calls an LLM itself: it asks one connected producer
(``ProposeSubtopics``), whose router makes the call, and waits for its
``SubtopicProposal``. Round 1 goes to the first producer that connects; a
later round is asked for when the partition manager finds no idle sub-topic
for a producer (``PartitionManager.wants_more``), naming every label used so
far as taken, up to ``max_rounds`` rounds. One request is pending at a time.
A request fails when the producer answers with an error or no usable label,
disconnects first, or does not answer within ``timeout_s``; the caller then
falls back (letters when no sub-topic was ever proposed) and records why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from system.protocol import ProposeSubtopics, SubtopicProposal

__all__ = ["SubtopicPlanner", "SubtopicRound", "subtopic_count"]

MAX_ROUNDS = 3
TIMEOUT_S = 90.0
#: the prompt names at most this many taken labels
MAX_EXCLUDE = 64


def subtopic_count(producers: int) -> int:
    """Sub-topics asked for per round: two per producer, 6..24."""
    return max(6, min(24, 2 * producers))


@dataclass
class SubtopicRound:
    round: int
    producer_id: int
    count: int
    excluded: int
    requested_at: float
    status: Literal["pending", "proposed", "failed"] = "pending"
    labels: list[str] = field(default_factory=list)
    reason: str = ""
    answered_after_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "producer": self.producer_id,
            "count": self.count,
            "excluded": self.excluded,
            "status": self.status,
            "labels": list(self.labels),
            "reason": self.reason,
            "answered_after_s": self.answered_after_s,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


class SubtopicPlanner:
    def __init__(
        self,
        producers: int,
        *,
        max_rounds: int = MAX_ROUNDS,
        timeout_s: float = TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count = subtopic_count(producers)
        self.max_rounds = max_rounds
        self.timeout_s = timeout_s
        self._clock = clock
        self.rounds: list[SubtopicRound] = []
        self.used: list[str] = []  # every label proposed so far, in order
        self.fallback: str | None = None  # why the run went back to letters

    @property
    def pending(self) -> SubtopicRound | None:
        last = self.rounds[-1] if self.rounds else None
        return last if last is not None and last.status == "pending" else None

    @property
    def can_request(self) -> bool:
        return self.pending is None and len(self.rounds) < self.max_rounds

    def request(self, producer_id: int) -> ProposeSubtopics | None:
        """The next round's request to ``producer_id``, or None (pending, or no rounds left)."""
        if not self.can_request:
            return None
        exclude = self.used[-MAX_EXCLUDE:]
        number = len(self.rounds) + 1
        self.rounds.append(
            SubtopicRound(number, producer_id, self.count, len(exclude), self._clock())
        )
        return ProposeSubtopics(request_id=number, count=self.count, exclude=list(exclude))

    def _elapsed(self, r: SubtopicRound) -> float:
        return round(self._clock() - r.requested_at, 3)

    def answer(self, producer_id: int, proposal: SubtopicProposal) -> SubtopicRound | None:
        """Close the pending round with this answer (None: not the pending request)."""
        r = self.pending
        if r is None or r.round != proposal.request_id or r.producer_id != producer_id:
            return None
        r.answered_after_s = self._elapsed(r)
        r.input_tokens, r.output_tokens = proposal.input_tokens, proposal.output_tokens
        known = {label.casefold() for label in self.used}
        labels = [
            label
            for label in dict.fromkeys(x for x in proposal.labels if isinstance(x, str))
            if label.strip() and label.casefold() not in known
        ][: self.count]
        if proposal.error:
            r.status, r.reason = "failed", f"producer {producer_id}: {proposal.error}"
        elif not labels:
            r.status, r.reason = "failed", f"producer {producer_id} proposed no usable sub-topic"
        else:
            r.status, r.labels = "proposed", labels
            self.used.extend(labels)
        return r

    def fail(self, request_id: int, reason: str) -> SubtopicRound | None:
        """The pending round ``request_id`` failed (timeout); None if it is not pending."""
        r = self.pending
        if r is None or r.round != request_id:
            return None
        r.status, r.reason = "failed", reason
        r.answered_after_s = self._elapsed(r)
        return r

    def producer_gone(self, producer_id: int) -> SubtopicRound | None:
        r = self.pending
        if r is None or r.producer_id != producer_id:
            return None
        return self.fail(r.round, f"producer {producer_id} disconnected before answering")

    def summary(self) -> dict[str, Any]:
        return {
            "count_per_round": self.count,
            "max_rounds": self.max_rounds,
            "rounds": [r.to_dict() for r in self.rounds],
            "fallback": self.fallback,
        }
