"""The adaptive strategy lever: every batch measured against its arm, decisions sent.

Each batch is recorded on the arm it was made with (``AttributeBatch.strategy``,
per provider). A decision becomes ``UpdateConfiguration.arms`` for every
producer it assigns and a ``strategy.decision`` event; an arm dropped for a
provider a ``strategy.arm_dropped`` event. The arms are those the run's
levers allow (``--arms`` narrows them), starting on the cheapest; a resumed
run starts where the avoid list is worth its tokens (``selector.RESUME_ARM``).

Arms are judged by what is likely real (``StrategySelector.judge_by_sightings``):
the lever tells the selector the keys of each batch's new items and every key
its request returned (the candidates' keys as the producer sent them, or
derived here, and the pre-filtered repeats), so that a find counts once
another request returns it.
"""

from __future__ import annotations

import json
from typing import Any

from system.dedup.index import DedupIndex
from system.dedup.keys import key_of
from system.levers.base import BatchEffects, Lever, LeverRun, generated
from system.levers.prefilter import unpack_keys
from system.levers.strategy.arms import arms_for
from system.levers.strategy.selector import StrategySelector
from system.protocol import AttributeBatch, UpdateConfiguration
from system.protocol.messages import LeverSettings
from system.telemetry import schema as s

__all__ = ["StrategyLever"]


class StrategyLever(Lever):
    name = "adaptive"

    def __init__(self, run: LeverRun) -> None:
        c = run.config
        arms = list(c.arms) or arms_for(shared_state=run.avoid_on, partitions=c.partitions)
        self.selector = StrategySelector(run.producer_ids, arms)
        self.selector.judge_by_sightings = True

    @classmethod
    def build(cls, run: LeverRun) -> StrategyLever | None:
        return cls(run) if run.config.adaptive else None

    def seed(self, lines: list[str]) -> None:
        if lines:
            self.selector.resume()

    def settings(self, producer_id: int, index: DedupIndex) -> LeverSettings:
        return {
            "adaptive": True,
            "strategy": self.selector.start_arm,
            "arms": self.selector.arms_of(producer_id),
        }

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        effects = BatchEffects()
        decision = self.selector.record(
            batch.strategy,
            len(new),
            batch.input_tokens + batch.output_tokens,
            input_tokens=batch.input_tokens,
            provider=batch.provider,
            lines=batch.lines,
            echoes=batch.echoes,
            candidates=generated(batch),
            off_partition=batch.off_partition,
            new_keys=[key_of(item) for item in new],
            seen_keys=_seen_keys(batch),
        )
        for drop in self.selector.take_drops():
            effects.events.append(
                (
                    s.EVENT_STRATEGY_DROP,
                    {
                        s.STRATEGY_PROVIDER: drop.provider,
                        s.STRATEGY_ARM: drop.arm,
                        s.STRATEGY_REASON: drop.reason,
                    },
                )
            )
        if decision is None:
            return effects
        effects.events.append(
            (
                s.EVENT_STRATEGY,
                {
                    s.STRATEGY_NAME: decision.best,
                    s.STRATEGY_PROVIDER: decision.provider,
                    s.STRATEGY_PRODUCERS: json.dumps(decision.assignment),
                    s.STRATEGY_YIELDS: json.dumps(decision.yields),
                },
            )
        )
        for pid, name in decision.assignment.items():
            effects.updates.append((pid, UpdateConfiguration(arms={decision.provider: name})))
        return effects

    def summary(self) -> dict[str, Any]:
        return {"strategy": self.selector.summary()}


def _seen_keys(batch: AttributeBatch) -> list[int]:
    """Every key the batch's request returned: its candidates' and the pre-filtered ones."""
    keys = batch.keys
    if keys is None or len(keys) != len(batch.candidates):
        keys = [key_of(c) for c in batch.candidates if isinstance(c, str)]
    if isinstance(batch.repeat_keys, bytes):
        return [*keys, *unpack_keys(batch.repeat_keys)]
    return list(keys)
