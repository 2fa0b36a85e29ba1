"""The sub-topics lever: when to ask a producer for sub-topics, what to do with the answer.

Round 1 is asked of the first producer that gets its StartTopic; a later
round when the partitions find no idle sub-topic for a producer
(``PartitionManager.wants_more``). The labels of an answer become
partitions; a round that fails (an error, no usable label, a timeout, the
producer gone) falls back to letter ranges when no sub-topic was ever
proposed, else the run carries on with the sub-topics it has. Every request,
answer and failure is an event on ``topic.run``.
"""

from __future__ import annotations

import json
from typing import Any

from system.levers.base import BatchEffects, Lever, LeverRun
from system.levers.partitions.lever import PartitionsLever, decision_effects
from system.levers.subtopics.planner import SubtopicPlanner, SubtopicRound
from system.protocol import AttributeBatch, SubtopicProposal
from system.telemetry import schema as s

__all__ = ["SubtopicsLever"]


class SubtopicsLever(Lever):
    name = "subtopics"

    def __init__(self, run: LeverRun, partitions: PartitionsLever) -> None:
        self.planner = SubtopicPlanner(len(run.producer_ids))
        self.partitions = partitions.manager

    @classmethod
    def build(cls, run: LeverRun) -> SubtopicsLever | None:
        partitions = run.peer(PartitionsLever)
        if partitions is None or run.config.partition_by != "subtopics":
            return None
        return cls(run, partitions)

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        if self.partitions.wants_more:
            return self._request(producer_id)
        return BatchEffects()

    def on_connected(self, producer_id: int) -> BatchEffects:
        """The first producer to get its StartTopic is asked for sub-topics."""
        return BatchEffects() if self.planner.rounds else self._request(producer_id)

    def on_disconnected(self, producer_id: int) -> BatchEffects:
        r = self.planner.producer_gone(producer_id)
        return self._failed(r) if r is not None else BatchEffects()

    def on_subtopics(self, producer_id: int, proposal: SubtopicProposal) -> BatchEffects:
        """A producer's answer: the labels become partitions, or the run falls back."""
        r = self.planner.answer(producer_id, proposal)
        if r is None:  # late (timed out) or unasked: nothing waits for it any more
            return BatchEffects()
        if r.status == "failed":
            return self._failed(r)
        proposed = (
            s.EVENT_SUBTOPICS_PROPOSED,
            {
                s.SUBTOPICS_ROUND: r.round,
                s.PRODUCER_ID: producer_id,
                s.SUBTOPICS_LABELS: json.dumps(r.labels),
                s.SUBTOPICS_PROPOSED: len(r.labels),
            },
        )
        effects = BatchEffects(events=[proposed])
        decisions = self.partitions.add_subtopics(r.labels, f"sub-topics round {r.round}")
        return effects.merge(decision_effects(decisions))

    def timeout(self, request_id: int) -> BatchEffects:
        """Request ``request_id`` had no answer within ``planner.timeout_s``."""
        r = self.planner.fail(request_id, f"no answer within {self.planner.timeout_s:g} s")
        return self._failed(r) if r is not None else BatchEffects()

    def _request(self, producer_id: int) -> BatchEffects:
        effects = BatchEffects()
        self.partitions.wants_more = False
        if self.partitions.closed:
            return effects
        request = self.planner.request(producer_id)
        if request is None:
            return effects
        effects.updates.append((producer_id, request))
        effects.subtopic_requests.append(request.request_id)
        effects.events.append(
            (
                s.EVENT_SUBTOPICS_REQUEST,
                {
                    s.SUBTOPICS_ROUND: request.request_id,
                    s.PRODUCER_ID: producer_id,
                    s.SUBTOPICS_COUNT: request.count,
                    s.SUBTOPICS_EXCLUDED: len(request.exclude),
                },
            )
        )
        return effects

    def _failed(self, r: SubtopicRound) -> BatchEffects:
        """Round 1 failed: letters, as without sub-topics; a later one: carry on."""
        effects = BatchEffects()
        fallback = "none"
        if not self.partitions.subtopic_mode and not self.partitions.closed:
            fallback = "letters"
            self.planner.fallback = r.reason
            effects = decision_effects(
                self.partitions.add_letters(f"sub-topics failed: {r.reason}")
            )
        effects.events.append(
            (
                s.EVENT_SUBTOPICS_FAILED,
                {
                    s.SUBTOPICS_ROUND: r.round,
                    s.PRODUCER_ID: r.producer_id,
                    s.SUBTOPICS_REASON: r.reason,
                    s.SUBTOPICS_FALLBACK: fallback,
                },
            )
        )
        return effects

    def summary(self) -> dict[str, Any]:
        return {"subtopics": self.planner.summary()}
