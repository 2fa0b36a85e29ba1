"""The orchestrator's side of the efficiency levers for one topic run: the registered levers.

``Discovery`` builds every lever of ``system.levers.registry.LEVERS`` that the run's
``LeverConfig`` turns on and hands each hook of ``TopicRun`` to all of them
in registry order, merging what they return (``BatchEffects``: updates for
producers, events for the ``topic.run`` span, sub-topic requests to time
out, the stop reason). The rest is the few lever-specific calls ``TopicRun``
makes: the near-duplicate filter (``filter_near``), the delta buffer the
outbox pushes (``has_delta``/``take_delta``), the answers and timeouts of
sub-topic requests, the run's novelty and the run.json counters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from system.dedup.index import DedupIndex
from system.levers.base import BatchEffects, Lever, LeverRun, generated
from system.levers.near import NearDuplicatesLever
from system.levers.partitions.lever import PartitionsLever
from system.levers.partitions.manager import PartitionManager
from system.levers.prefilter import PrefilterLever
from system.levers.registry import LEVERS
from system.levers.saturation import SaturationLever
from system.levers.shared_state import SharedStateLever
from system.levers.strategy.lever import StrategyLever
from system.levers.strategy.selector import StrategySelector
from system.levers.subtopics.lever import SubtopicsLever
from system.levers.subtopics.planner import SubtopicPlanner
from system.orchestrator.config import LeverConfig
from system.protocol import AttributeBatch, SubtopicProposal
from system.protocol.messages import LeverSettings

__all__ = ["Discovery"]

L = TypeVar("L", bound=Lever)


class Discovery:
    def __init__(
        self,
        levers: LeverConfig,
        producer_ids: list[int],
        *,
        request_size: int,
        open_ended: bool,
    ) -> None:
        self.levers = levers
        run = LeverRun(levers, list(producer_ids), request_size, open_ended)
        for cls in LEVERS:
            lever = cls.build(run)
            if lever is not None:
                run.levers.append(lever)
        self.active: list[Lever] = run.levers
        # always built (their counters are in run.json either way)
        self._prefilter = _required(run, PrefilterLever)
        self._near = _required(run, NearDuplicatesLever)
        self._shared = _required(run, SharedStateLever)
        self._partitions = run.peer(PartitionsLever)
        self._subtopics = run.peer(SubtopicsLever)
        self._saturation = run.peer(SaturationLever)
        strategy = run.peer(StrategyLever)
        # the levers' deciders, for TopicRun (sub-topic timeouts) and the unit tests
        self.partitions: PartitionManager | None = (
            self._partitions.manager if self._partitions is not None else None
        )
        self.subtopics: SubtopicPlanner | None = (
            self._subtopics.planner if self._subtopics is not None else None
        )
        self.strategy: StrategySelector | None = strategy.selector if strategy else None
        self.generated = 0

    # ---------------------------------------------------------------- start
    def seed(self, lines: list[str]) -> None:
        """Attributes resumed from the file."""
        for lever in self.active:
            lever.seed(lines)

    def start(self, producer_id: int, index: DedupIndex) -> tuple[str | None, LeverSettings]:
        """(partition, settings["levers"]) for a producer's StartTopic."""
        settings: LeverSettings = {}
        for lever in self.active:
            settings.update(lever.settings(producer_id, index))
        partition = self._partitions.partition_of(producer_id) if self._partitions else None
        return partition, settings

    def on_connected(self, producer_id: int) -> BatchEffects:
        """A producer got its StartTopic."""
        return self._each(lambda lever: lever.on_connected(producer_id))

    # ---------------------------------------------------------------- batches
    def filter_near(self, new: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Split exact-new attributes into (kept, near duplicates as (item, matched))."""
        return self._near.filter(new)

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        self.generated += generated(batch)
        effects = BatchEffects()
        for lever in self.active:
            effects.merge(lever.on_batch(producer_id, batch, new))
        return effects

    @property
    def has_delta(self) -> bool:
        return self._shared.has_delta

    def take_delta(self) -> list[str]:
        return self._shared.take_delta()

    # ------------------------------------------------------------- sub-topics
    def on_subtopics(self, producer_id: int, proposal: SubtopicProposal) -> BatchEffects:
        if self._subtopics is None:
            return BatchEffects()
        return self._subtopics.on_subtopics(producer_id, proposal)

    def subtopics_timeout(self, request_id: int) -> BatchEffects:
        if self._subtopics is None:
            return BatchEffects()
        return self._subtopics.timeout(request_id)

    def producer_gone(self, producer_id: int) -> BatchEffects:
        return self._each(lambda lever: lever.on_disconnected(producer_id))

    # --------------------------------------------------------------- results
    @property
    def novelty(self) -> float | None:
        return self._saturation.rate if self._saturation is not None else None

    @property
    def prefiltered(self) -> int:
        return self._prefilter.prefiltered

    @property
    def near_duplicate_count(self) -> int:
        return self._near.count

    @property
    def delta_pushes(self) -> int:
        return self._shared.delta_pushes

    def summary(self) -> dict[str, Any]:
        """run.json ``levers``: what is on, the candidates, then each lever's keys."""
        data: dict[str, Any] = {"enabled": self.levers.enabled(), "generated": self.generated}
        for lever in self.active:
            data.update(lever.summary())
        return data

    def _each(self, hook: Callable[[Lever], BatchEffects]) -> BatchEffects:
        effects = BatchEffects()
        for lever in self.active:
            effects.merge(hook(lever))
        return effects


def _required(run: LeverRun, cls: type[L]) -> L:
    lever = run.peer(cls)
    if lever is None:  # pragma: no cover - these levers' build never says off
        raise RuntimeError(f"{cls.__name__} is not registered in system.levers.registry.LEVERS")
    return lever
