"""A producer's share of the efficiency levers, set by StartTopic.settings["levers"].

The producer's pieces live with their levers; ``ProducerLevers`` is where the
worker meets them:

* shared state: the avoid list (``system.levers.shared_state.AvoidList``),
  fed by the orchestrator's deltas and by the producer's own answers
  (``AvoidList.produced``); ``avoid_budget`` tokens of it go into each prompt
  (0 = none);
* pre-filter (``system.levers.prefilter.PreFilter``): known candidates are
  dropped before sending and the rest carry their keys;
* adaptive strategy (``adaptive``): the arm (``system.levers.strategy.arms``)
  per provider the orchestrator assigned; the prompt is built from the arm of
  the provider each attempt goes to, and the arm is echoed on the batch
  (``AttributeBatch.strategy``) so the orchestrator can measure its yield.
  Without it, every lever that is on is used on every request.

Without ``levers`` in the settings (an older orchestrator) everything is off
and the producer behaves as before. Sub-topic proposals are made by
``system.levers.subtopics.propose``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from system.levers.prefilter import FilterResult, PreFilter, pack_keys, unpack_keys
from system.levers.shared_state import AvoidList
from system.levers.strategy.arms import ARMS, DEFAULT_ARM, Arm


@dataclass
class Prepared:
    candidates: list[str]
    keys: list[int] | None
    prefiltered: int
    #: packed keys of known candidates the pre-filter dropped (one per key)
    repeat_keys: bytes | None = None


class ProducerLevers:
    def __init__(
        self,
        *,
        shared_state: bool = False,
        avoid_budget: int = 0,
        prefilter: bool = False,
        strategy: str | None = None,
        adaptive: bool = False,
    ) -> None:
        self.shared_state = shared_state
        self.avoid_budget = avoid_budget if shared_state else 0
        self.strategy = strategy
        self.adaptive = adaptive
        #: adaptive: provider key -> arm; providers not named use ``strategy``
        self.arms: dict[str, str] = {}
        self.avoid = AvoidList() if shared_state else None
        self.prefilter = PreFilter() if prefilter else None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ProducerLevers:
        """From ``StartTopic.settings``, read as untrusted wire data (every key checked)."""
        raw = settings.get("levers")
        if not isinstance(raw, dict):
            return cls()
        levers = cls(
            shared_state=bool(raw.get("shared_state", False)),
            avoid_budget=int(raw.get("avoid_budget", 0) or 0),
            prefilter=bool(raw.get("prefilter", False)),
            strategy=str(raw["strategy"]) if raw.get("strategy") else None,
            adaptive=bool(raw.get("adaptive", False)),
        )
        arms = raw.get("arms")
        if isinstance(arms, dict):
            levers.arms = {str(k): str(v) for k, v in arms.items() if str(v) in ARMS}
        known = raw.get("known_keys")
        if levers.prefilter is not None and isinstance(known, bytes):
            levers.prefilter.add_keys(unpack_keys(known))
        sample = raw.get("known_sample")
        if levers.avoid is not None and isinstance(sample, list):
            levers.avoid.add(item for item in sample if isinstance(item, str))
        return levers

    def learn(self, new_uniques: Sequence[str]) -> None:
        """A delta of new uniques from the orchestrator."""
        if self.avoid is not None:
            self.avoid.add(new_uniques)
        if self.prefilter is not None:
            self.prefilter.add_texts(new_uniques)

    def set_strategy(
        self,
        strategy: str | None,
        avoid_budget: int | None,
        arms: dict[str, str] | None = None,
    ) -> None:
        if strategy is not None:
            self.strategy = strategy or None
        if avoid_budget is not None and self.shared_state:
            self.avoid_budget = max(0, avoid_budget)
        if arms:
            self.arms.update({k: v for k, v in arms.items() if v in ARMS})

    def arm_for(self, provider_key: str) -> Arm:
        """The arm to use on this provider (adaptive strategy)."""
        name = self.arms.get(provider_key) or self.strategy or DEFAULT_ARM
        return ARMS.get(name, ARMS[DEFAULT_ARM])

    def avoid_for(self, partition: str | None) -> list[str]:
        if self.avoid is None or self.avoid_budget <= 0:
            return []
        return self.avoid.select(partition, self.avoid_budget)

    def prepare(self, candidates: list[str]) -> Prepared:
        """Drop what is known (pre-filter on) and note what the model repeated."""
        if self.prefilter is None:
            if self.avoid is not None:
                self.avoid.produced(candidates)
            return Prepared(candidates, None, 0)
        result: FilterResult = self.prefilter.filter(candidates)
        if self.avoid is not None:
            if result.dropped:
                self.avoid.hit(result.dropped)
            self.avoid.produced(result.kept)  # found now: name them in the next prompt
        repeats = pack_keys(result.repeat_keys) if result.repeat_keys else None
        return Prepared(result.kept, result.keys, len(result.dropped), repeats)
