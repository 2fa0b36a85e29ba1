"""The shared-state lever: producers learn what the run found and name it in their prompts.

The orchestrator's side (``SharedStateLever``) sends a (re)started producer
a sample of the found items (``StartTopic`` ``known_sample``, at most
``KNOWN_SAMPLE``) and keeps the new uniques of every batch in a delta buffer
that ``TopicRun`` pushes to every producer as one
``UpdateConfiguration.new_uniques`` per interval (``take_delta``), never one
message per item. The deltas feed the pre-filter too
(``system.levers.prefilter``), so they are kept when either lever is on.

The producer's side is the budgeted avoid list (``AvoidList``): already-found
items worth naming in the prompt. The producer learns found items from
``StartTopic`` (a sample) and from the orchestrator's deltas
(``UpdateConfiguration.new_uniques``). Naming every one of them would
multiply the prompt's tokens, so each prompt gets a selection that fits
``budget_tokens`` (about 4 characters per token):

1. items that fit the producer's partition come first;
2. among them, those the model produced again most often (the pre-filter's
   hits: the items a model keeps repeating are the ones worth forbidding),
3. then the earliest found (popular items turn up first).

Items outside the partition fill what budget is left, but only those the
model has repeated at least once (``hit``): a model kept to its part of the
topic names an item from elsewhere only when it strays, and then it strays
to the items it has already shown it repeats. Naming other out-of-partition
items costs input tokens on every request for items the model was not going
to produce (without a partition every item fits, so nothing changes there).

The producer's own answers count at once (``produced``): everything the
model just answered is found (or a duplicate of something found), so the
next prompt can name it without waiting for the orchestrator's delta, which
arrives after the next request when requests are fast.

At most ``capacity`` items are kept (the earliest found); later ones still
count in the pre-filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from system.dedup.index import DedupIndex
from system.dedup.normalize import clean_display
from system.levers.base import BatchEffects, Lever, LeverRun
from system.levers.partitions.match import partition_matcher
from system.protocol import AttributeBatch
from system.protocol.messages import LeverSettings

__all__ = ["CHARS_PER_TOKEN", "AvoidList", "SharedStateLever", "estimate_tokens"]

#: already-found items a (re)started producer receives for its avoid list
KNOWN_SAMPLE = 2000

CHARS_PER_TOKEN = 4
#: characters a prompt line costs besides the item: "- " and the line break
LINE_OVERHEAD = 3


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


class AvoidList:
    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._order: dict[str, int] = {}  # display -> arrival number
        self._hits: dict[str, int] = {}
        self._display_of: dict[str, str] = {}  # casefolded -> display

    def __len__(self) -> int:
        return len(self._order)

    def add(self, items: Iterable[str]) -> None:
        for item in items:
            display = clean_display(item)
            if not display or len(self._order) >= self.capacity:
                continue
            folded = display.casefold()
            if folded not in self._display_of:
                self._display_of[folded] = display
                self._order[display] = len(self._order)

    def produced(self, items: Iterable[str]) -> None:
        """The model answered these: known ones count a hit, new ones are known now."""
        items = list(items)
        self.hit(items)
        self.add(items)

    def hit(self, items: Iterable[str]) -> None:
        """The model produced these known items again."""
        for item in items:
            display = self._display_of.get(clean_display(item).casefold())
            if display is not None:
                self._hits[display] = self._hits.get(display, 0) + 1

    def select(self, partition: str | None, budget_tokens: int) -> list[str]:
        """The items to name in the next prompt, within ``budget_tokens``."""
        if budget_tokens <= 0 or not self._order:
            return []
        fits = partition_matcher(partition)
        hits, order = self._hits, self._order
        ranked = sorted(
            (d for d in order if partition is None or hits.get(d, 0) > 0 or fits(d)),
            key=lambda d: (not fits(d), -hits.get(d, 0), order[d]),
        )
        budget_chars = budget_tokens * CHARS_PER_TOKEN
        chosen: list[str] = []
        used = 0
        for display in ranked:
            cost = len(display) + LINE_OVERHEAD
            if used + cost > budget_chars:
                break
            chosen.append(display)
            used += cost
        return chosen


class SharedStateLever(Lever):
    """Always built: ``shared_state`` is sent either way and run.json counts the pushes."""

    name = "shared_state"

    def __init__(self, shared_state: bool, avoid_budget: int, deltas: bool) -> None:
        self.shared_state = shared_state
        self.avoid_budget = avoid_budget if shared_state else 0
        self._deltas = deltas  # shared state or the pre-filter wants the new uniques
        self._delta: list[str] = []
        self._sample: list[str] = []
        self.delta_pushes = 0

    @classmethod
    def build(cls, run: LeverRun) -> SharedStateLever:
        c = run.config
        return cls(c.shared_state, c.avoid_budget, c.shared_state or c.prefilter)

    def seed(self, lines: list[str]) -> None:
        self._sample.extend(lines[: KNOWN_SAMPLE - len(self._sample)])

    def settings(self, producer_id: int, index: DedupIndex) -> LeverSettings:
        settings: LeverSettings = {
            "shared_state": self.shared_state,
            "avoid_budget": self.avoid_budget,
        }
        if self.shared_state and self._sample:
            settings["known_sample"] = list(self._sample)
        return settings

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        if new:
            if self._deltas:
                self._delta.extend(new)
            if len(self._sample) < KNOWN_SAMPLE:
                self._sample.extend(new[: KNOWN_SAMPLE - len(self._sample)])
        return BatchEffects()

    @property
    def has_delta(self) -> bool:
        return bool(self._delta)

    def take_delta(self) -> list[str]:
        """The new uniques since the last push (counted as a push when not empty)."""
        delta, self._delta = self._delta, []
        if delta:
            self.delta_pushes += 1
        return delta

    def summary(self) -> dict[str, Any]:
        return {"delta_pushes": self.delta_pushes}
