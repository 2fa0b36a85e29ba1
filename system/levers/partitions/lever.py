"""The partitions lever: the manager's decisions as producer updates and span events.

Each ``PartitionDecision`` becomes an ``UpdateConfiguration.partition`` for
every producer it moves and one ``partition.change`` event on ``topic.run``.
A producer's first partition goes in its ``StartTopic`` (``partition_of``).
Partitions retire at the saturation threshold (2% when saturation is off)
and are split to fit what the avoid list can name (``manager``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from system.levers.base import BatchEffects, Lever, LeverRun, generated
from system.levers.partitions.manager import PartitionDecision, PartitionManager
from system.levers.shared_state import CHARS_PER_TOKEN
from system.protocol import AttributeBatch, UpdateConfiguration
from system.telemetry import schema as s

__all__ = ["PartitionsLever", "decision_effects"]


def decision_effects(decisions: Iterable[PartitionDecision]) -> BatchEffects:
    """The updates and ``partition.change`` events of partition decisions."""
    effects = BatchEffects()
    for decision in decisions:
        effects.events.append(
            (
                s.EVENT_PARTITION,
                {
                    s.PARTITION_ACTION: decision.action,
                    s.PARTITION_LABEL: decision.partition,
                    s.PARTITION_PRODUCERS: json.dumps(decision.producers),
                    s.PARTITION_DETAIL: decision.detail,
                },
            )
        )
        for pid, label in decision.producers.items():
            effects.updates.append((pid, UpdateConfiguration(partition=label)))
    return effects


class PartitionsLever(Lever):
    name = "partitions"

    def __init__(self, run: LeverRun) -> None:
        c = run.config
        self.partition_by = c.partition_by
        self.manager = PartitionManager(
            run.producer_ids,
            threshold=c.saturation or 0.02,
            window=run.window,
            avoid_chars=c.avoid_budget * CHARS_PER_TOKEN if run.avoid_on else 0,
            move_on_window=2 * run.request_size,
            letters=c.partition_by != "subtopics",
        )

    @classmethod
    def build(cls, run: LeverRun) -> PartitionsLever | None:
        return cls(run) if run.config.partitions else None

    def partition_of(self, producer_id: int) -> str | None:
        """The producer's partition for its StartTopic (None: the whole topic)."""
        return self.manager.partition_of(producer_id) or None

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        label = batch.partition or ""
        return decision_effects(self.manager.record(producer_id, label, generated(batch), new))

    def on_saturated(self, detail: str) -> BatchEffects | None:
        """Saturated within the partitions: a last round on the whole topic decides."""
        if not self.manager.assignment_any:
            return None
        return decision_effects(self.manager.retire_all(detail))

    def summary(self) -> dict[str, Any]:
        return {"partition_by": self.partition_by, "partitions": self.manager.to_list()}
