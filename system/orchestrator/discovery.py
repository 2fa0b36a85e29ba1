"""The orchestrator's side of the efficiency levers, for one topic run.

``TopicRun`` hands every deduplicated batch to ``Discovery.on_batch``; what
comes back is what to do: configuration updates for producers (partition,
strategy), events for the ``topic.run`` span, and whether the run is
saturated. New uniques wait in a delta buffer that the run's outbox task
pushes to every producer as one ``UpdateConfiguration.new_uniques`` per
interval (``take_delta``), never one message per item.

With ``--partition-by subtopics`` the updates include ``ProposeSubtopics``
requests (``subtopics``: round 1 when the first producer connects, later
rounds when the partitions want more); the run hands back the answers
(``on_subtopics``), timeouts (``subtopics_timeout``) and producers that went
away (``producer_gone``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from system.dedup.index import DedupIndex
from system.orchestrator.config import LeverConfig
from system.orchestrator.partitions import PartitionDecision, PartitionManager
from system.orchestrator.saturation import SaturationDetector
from system.orchestrator.strategy import StrategySelector
from system.orchestrator.subtopics import SubtopicPlanner, SubtopicRound
from system.producer.arms import arms_for
from system.producer.avoid import CHARS_PER_TOKEN
from system.protocol import AttributeBatch, Message, SubtopicProposal, UpdateConfiguration
from system.protocol.messages import LeverSettings
from system.telemetry import schema as s

__all__ = ["BatchEffects", "Discovery"]

#: already-found items a (re)started producer receives for its avoid list
KNOWN_SAMPLE = 2000
#: a StartTopic carries the known keys for the pre-filter only up to this size
MAX_KNOWN_KEYS_BYTES = 4 * 1024 * 1024


@dataclass
class BatchEffects:
    updates: list[tuple[int, Message]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: ids of ProposeSubtopics requests just queued: the run times each out
    subtopic_requests: list[int] = field(default_factory=list)
    saturated: str | None = None  # the stop reason when the run is saturated
    near_duplicates: list[tuple[str, str]] = field(default_factory=list)


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
        window = levers.window_for(request_size)
        self.saturation = (
            SaturationDetector(levers.saturation, window, levers.saturation_patience_s)
            if open_ended and levers.saturation > 0
            else None
        )
        # partitions retire at the saturation threshold (or 2% when saturation is off)
        use_avoid = levers.shared_state and levers.avoid_budget > 0
        # partitions are split to fit what the avoid list can name (partitions.py)
        self.partitions = (
            PartitionManager(
                producer_ids,
                threshold=levers.saturation or 0.02,
                window=window,
                avoid_chars=levers.avoid_budget * CHARS_PER_TOKEN if use_avoid else 0,
                move_on_window=2 * request_size,
                letters=levers.partition_by != "subtopics",
            )
            if levers.partitions
            else None
        )
        self.subtopics = (
            SubtopicPlanner(len(producer_ids))
            if levers.partitions and levers.partition_by == "subtopics"
            else None
        )
        # adaptive: arms over the levers that are on, starting on the cheapest (plain)
        self.strategy = (
            StrategySelector(
                producer_ids,
                list(levers.arms) or arms_for(shared_state=use_avoid, partitions=levers.partitions),
            )
            if levers.adaptive
            else None
        )
        self.near: Any = None
        if levers.near_duplicates:  # rapidfuzz is imported only when asked for
            from system.dedup.near import NearDuplicateIndex

            self.near = NearDuplicateIndex()
        self._delta: list[str] = []
        self._sample: list[str] = []
        self.delta_pushes = 0
        self.prefiltered = 0
        self.near_duplicate_count = 0
        self.generated = 0

    # ---------------------------------------------------------------- start
    def seed(self, lines: list[str]) -> None:
        """Attributes resumed from the file."""
        self._sample.extend(lines[: KNOWN_SAMPLE - len(self._sample)])
        if lines and self.strategy is not None:
            self.strategy.resume()
        if self.near is not None:
            for line in lines:
                self.near.add_known(line)

    def start(self, producer_id: int, index: DedupIndex) -> tuple[str | None, LeverSettings]:
        """(partition, settings["levers"]) for a producer's StartTopic."""
        lv = self.levers
        budget = lv.avoid_budget if lv.shared_state else 0
        settings: LeverSettings = {
            "shared_state": lv.shared_state,
            "avoid_budget": budget,
            "prefilter": lv.prefilter,
        }
        if self.strategy is not None:
            settings["adaptive"] = True
            settings["strategy"] = self.strategy.start_arm
            settings["arms"] = self.strategy.arms_of(producer_id)
        if lv.shared_state and self._sample:
            settings["known_sample"] = list(self._sample)
        if lv.prefilter and len(index) and len(index) * 8 <= MAX_KNOWN_KEYS_BYTES:
            settings["known_keys"] = index.keys_bytes()
        partition = self.partitions.partition_of(producer_id) if self.partitions else None
        return partition or None, settings

    # ---------------------------------------------------------------- batches
    def filter_near(self, new: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Split exact-new attributes into (kept, near duplicates as (item, matched))."""
        if self.near is None:
            return new, []
        kept: list[str] = []
        near: list[tuple[str, str]] = []
        for item in new:
            match = self.near.match(item)
            if match is None:
                kept.append(item)
            else:
                near.append((item, match))
        self.near_duplicate_count += len(near)
        return kept, near

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        effects = BatchEffects()
        prefiltered = batch.prefiltered or 0
        generated = len(batch.candidates) + prefiltered
        self.prefiltered += prefiltered
        self.generated += generated
        if new:
            if self.levers.shared_state or self.levers.prefilter:
                self._delta.extend(new)
            if len(self._sample) < KNOWN_SAMPLE:
                self._sample.extend(new[: KNOWN_SAMPLE - len(self._sample)])
        if self.partitions is not None:
            label = batch.partition or ""
            for decision in self.partitions.record(producer_id, label, generated, new):
                self._apply_partition(decision, effects)
            if self.partitions.wants_more:
                self._request_subtopics(producer_id, effects)
        if self.strategy is not None:
            self._record_strategy(batch, new, effects)
        if self.saturation is not None:
            state = self.saturation.add(generated, len(new))
            if state.saturated and self.partitions is not None and self.partitions.assignment_any:
                # saturated within the partitions: a last round on the whole topic decides
                detail = f"run novelty {state.rate:.4f} < {self.saturation.threshold:g}"
                for decision in self.partitions.retire_all(detail):
                    self._apply_partition(decision, effects)
                self.saturation.restart()
            elif state.saturated:
                effects.saturated = self.saturation.reason()
                effects.events.append(
                    (
                        s.EVENT_SATURATED,
                        {
                            s.SATURATION_RATE: round(state.rate, 5),
                            s.SATURATION_WINDOW: state.window_candidates,
                        },
                    )
                )
        return effects

    def _record_strategy(
        self, batch: AttributeBatch, new: list[str], effects: BatchEffects
    ) -> None:
        assert self.strategy is not None
        tokens = batch.input_tokens + batch.output_tokens
        decision = self.strategy.record(
            batch.strategy,
            len(new),
            tokens,
            input_tokens=batch.input_tokens,
            provider=batch.provider,
            lines=batch.lines,
            echoes=batch.echoes,
            candidates=len(batch.candidates) + (batch.prefiltered or 0),
            off_partition=batch.off_partition,
        )
        for drop in self.strategy.take_drops():
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
            return
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

    # ------------------------------------------------------------- sub-topics
    def on_connected(self, producer_id: int) -> BatchEffects:
        """A producer got its StartTopic: the first one is asked for sub-topics."""
        effects = BatchEffects()
        if self.subtopics is not None and not self.subtopics.rounds:
            self._request_subtopics(producer_id, effects)
        return effects

    def _request_subtopics(self, producer_id: int, effects: BatchEffects) -> None:
        assert self.partitions is not None
        self.partitions.wants_more = False
        if self.subtopics is None or self.partitions.closed:
            return
        request = self.subtopics.request(producer_id)
        if request is None:
            return
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

    def on_subtopics(self, producer_id: int, proposal: SubtopicProposal) -> BatchEffects:
        """A producer's answer: the labels become partitions, or the run falls back."""
        effects = BatchEffects()
        if self.subtopics is None or self.partitions is None:
            return effects
        r = self.subtopics.answer(producer_id, proposal)
        if r is None:  # late (timed out) or unasked: nothing waits for it any more
            return effects
        if r.status == "failed":
            self._subtopics_failed(r, effects)
            return effects
        effects.events.append(
            (
                s.EVENT_SUBTOPICS_PROPOSED,
                {
                    s.SUBTOPICS_ROUND: r.round,
                    s.PRODUCER_ID: producer_id,
                    s.SUBTOPICS_LABELS: json.dumps(r.labels),
                    s.SUBTOPICS_PROPOSED: len(r.labels),
                },
            )
        )
        for decision in self.partitions.add_subtopics(r.labels, f"sub-topics round {r.round}"):
            self._apply_partition(decision, effects)
        return effects

    def subtopics_timeout(self, request_id: int) -> BatchEffects:
        effects = BatchEffects()
        if self.subtopics is not None:
            r = self.subtopics.fail(request_id, f"no answer within {self.subtopics.timeout_s:g} s")
            if r is not None:
                self._subtopics_failed(r, effects)
        return effects

    def producer_gone(self, producer_id: int) -> BatchEffects:
        effects = BatchEffects()
        if self.subtopics is not None:
            r = self.subtopics.producer_gone(producer_id)
            if r is not None:
                self._subtopics_failed(r, effects)
        return effects

    def _subtopics_failed(self, r: SubtopicRound, effects: BatchEffects) -> None:
        """Round 1 failed: letters, as without sub-topics; a later one: carry on."""
        assert self.partitions is not None and self.subtopics is not None
        fallback = "none"
        if not self.partitions.subtopic_mode and not self.partitions.closed:
            fallback = "letters"
            self.subtopics.fallback = r.reason
            for decision in self.partitions.add_letters(f"sub-topics failed: {r.reason}"):
                self._apply_partition(decision, effects)
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

    def _apply_partition(self, decision: PartitionDecision, effects: BatchEffects) -> None:
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

    @property
    def has_delta(self) -> bool:
        return bool(self._delta)

    def take_delta(self) -> list[str]:
        delta, self._delta = self._delta, []
        if delta:
            self.delta_pushes += 1
        return delta

    @property
    def novelty(self) -> float | None:
        return self.saturation.rate if self.saturation is not None else None

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "enabled": self.levers.enabled(),
            "generated": self.generated,
            "prefiltered": self.prefiltered,
            "near_duplicates": self.near_duplicate_count,
            "delta_pushes": self.delta_pushes,
        }
        if self.saturation is not None:
            n = self.saturation.novelty
            data["saturation"] = {
                "threshold": self.saturation.threshold,
                "window": n.window,
                "patience_s": self.saturation.patience_s,
                "novelty": round(self.saturation.rate, 5),
            }
        if self.partitions is not None:
            data["partition_by"] = self.levers.partition_by
            data["partitions"] = self.partitions.to_list()
        if self.subtopics is not None:
            data["subtopics"] = self.subtopics.summary()
        if self.strategy is not None:
            data["strategy"] = self.strategy.summary()
        return data
