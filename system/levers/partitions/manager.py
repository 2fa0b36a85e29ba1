"""Prompt partitioning: the orchestrator splits the topic space among producers.

It starts with one alphabetical range per producer, balanced by how often
words start with each letter (a fixed table at first, then the first letters
of what the run has found). Each partition has its own novelty window (new
uniques per generated candidate from the producers working on it):

* a partition whose novelty stays below the saturation threshold on a full
  window is **retired**; its producers move to the active partition that
  yields most, and when that partition has a producer already it is **split**
  in two by letter counts so each producer gets a half;
* when every partition is retired, producers go back to the whole topic (the
  empty label), which also catches attributes that start with no letter A-Z.

Two rules keep each request's part of the topic small enough for the avoid
list (``avoid_chars``, the characters a prompt's avoid list may hold, and
``move_on_window``, about two requests' worth of candidates):

* **split to fit the avoid list**: when the items found in a partition's
  letters no longer fit the avoid list, the partition is split in two by the
  found items' first letters; its producers are shared between the halves
  and a half left without one waits, **idle**, for the next producer that
  moves. A model told to avoid everything found in its part of the topic
  answers with new items; once that list no longer fits, it repeats the
  found items the prompt could not name, whatever the model.
* **move on**: a producer leaves its partition when the partition's yield
  over its last ``move_on_window`` candidates is below half of what an idle
  partition is expected to yield (a never-worked one: the yield measured on
  the first requests of every partition so far; one left earlier: its yield
  when it was left). The partition it leaves stays active and idle, to be
  taken up again when it is the best place left; it is retired only by the
  saturation threshold, as above. Exhausting a part of the topic costs
  requests whose answers are mostly padding; fresh parts are cheaper first,
  and the order does not change what a part costs in the end.

With ``--partition-by subtopics`` the manager starts with no partition (every
producer on the whole topic) and the caller adds the sub-topic labels an LLM
proposed (``add_subtopics``), or the letter ranges when that failed
(``add_letters``). A sub-topic is retired and assigned by the rules above,
but it has no letters to split by:

* a sub-topic's novelty counts only the new items that fit its label (a
  model that has exhausted it pads its answers with items from elsewhere);
* a sub-topic whose found items no longer fit the avoid list is **retired**
  (its items stay known; its producers move on as from a saturated one);
* a producer that needs a partition when no sub-topic is idle shares the
  best one, or takes the whole topic when none is active, and the manager
  raises ``wants_more``: the caller may ask for another round of sub-topics,
  which then take the producers on the whole topic and the extra ones of
  shared sub-topics.

Every change is returned as a ``PartitionDecision`` for the caller to send
(``UpdateConfiguration.partition``) and to record in the trace.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from system.levers.partitions.match import first_letter, partition_matcher
from system.levers.saturation import Novelty
from system.levers.shared_state import LINE_OVERHEAD as AVOID_LINE_OVERHEAD

__all__ = ["Partition", "PartitionDecision", "PartitionManager", "split_letters"]

#: rough share of dictionary words and proper names starting with each letter (%)
LETTER_WEIGHTS: dict[str, float] = dict(
    zip(
        string.ascii_uppercase,
        (5.7, 5.9, 9.4, 6.0, 4.0, 4.1, 3.3, 4.2, 3.9, 1.1, 1.0, 3.1, 5.6, 2.2, 2.5, 7.7, 0.5,
         5.9, 11.0, 5.5, 2.9, 1.5, 2.7, 0.1, 0.4, 0.3),
        strict=True,
    )
)  # fmt: skip

WHOLE_TOPIC = ""


def split_letters(letters: str, parts: int, weights: dict[str, float]) -> list[str]:
    """Cut a run of letters into ``parts`` contiguous ranges of similar total weight."""
    parts = max(1, min(parts, len(letters)))
    total = sum(weights.get(ch, 0.0) + 1e-6 for ch in letters)
    ranges: list[str] = []
    current = ""
    acc = 0.0
    for i, ch in enumerate(letters):
        current += ch
        acc += weights.get(ch, 0.0) + 1e-6
        remaining_letters = len(letters) - i - 1
        remaining_parts = parts - len(ranges) - 1
        if remaining_parts == 0:
            continue
        target = total * (len(ranges) + 1) / parts
        if acc >= target or remaining_letters == remaining_parts:
            ranges.append(current)
            current = ""
    if current:
        ranges.append(current)
    return ranges


def _label(letters: str) -> str:
    return letters if len(letters) == 1 else f"{letters[0]}-{letters[-1]}"


@dataclass
class Partition:
    label: str
    letters: str
    novelty: Novelty
    producers: set[int] = field(default_factory=set)
    state: Literal["active", "retired"] = "active"
    found: int = 0
    recent: Novelty | None = None  # the last ``move_on_window`` candidates since it was taken up
    left_rate: float | None = None  # its recent yield when its producers moved on
    kind: Literal["letters", "subtopic"] = "letters"
    #: a sub-topic: characters an avoid list needs for the found items that fit it
    found_chars: int = 0
    fits: Callable[[str], bool] | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "kind": self.kind,
            "state": self.state,
            "producers": sorted(self.producers),
            "found": self.found,
            "candidates": self.novelty.total_candidates,
            "novelty": round(self.novelty.rate, 4),
        }


@dataclass
class PartitionDecision:
    action: str  # assign | retire | split | whole_topic
    partition: str
    producers: dict[int, str] = field(default_factory=dict)  # producer id -> new label
    detail: str = ""


class PartitionManager:
    # Longer than 250 lines on purpose: assigning, splitting, moving on and retiring
    # all read and change the same partitions, letter tables and assignment; each
    # rule of the module docstring is one method here.
    def __init__(
        self,
        producer_ids: list[int],
        *,
        threshold: float,
        window: int,
        max_partitions: int = 64,
        avoid_chars: int = 0,
        move_on_window: int = 0,
        letters: bool = True,
    ) -> None:
        """``letters`` False: no partition at first (sub-topics come later)."""
        self.threshold = threshold
        self.window = window
        self.max_partitions = max_partitions
        self.avoid_chars = avoid_chars  # 0: never split to fit the avoid list
        self.move_on_window = move_on_window  # 0: never move on before retiring
        #: characters an avoid list needs for the found items, per first letter
        self.letter_chars: Counter[str] = Counter()
        #: (candidates, new) of every partition's first ``move_on_window`` candidates
        self._fresh = [0, 0]
        self.partitions: dict[str, Partition] = {}
        self.assignment: dict[int, str] = {}
        self.letter_counts: Counter[str] = Counter()
        #: sub-topic mode: a producer found no idle partition (the caller may ask for more)
        self.wants_more = False
        #: the whole run looked saturated (``retire_all``): no new partitions from then on
        self.closed = False
        self.whole_topic = Novelty(window)
        for pid in producer_ids:
            self.assignment[pid] = WHOLE_TOPIC
        if letters:
            self.add_letters()

    def _add(self, letters: str) -> Partition:
        part = Partition(_label(letters), letters, Novelty(self.window))
        if self.move_on_window:
            part.recent = Novelty(self.move_on_window)
        self.partitions[part.label] = part
        return part

    @property
    def subtopic_mode(self) -> bool:
        return any(p.kind == "subtopic" for p in self.partitions.values())

    def add_letters(self, detail: str = "") -> list[PartitionDecision]:
        """One letter range per producer on the whole topic (at start, or as a fallback)."""
        if self.closed or self.partitions:
            return []
        on_whole = sorted(pid for pid, label in self.assignment.items() if not label)
        ranges = split_letters(string.ascii_uppercase, len(self.assignment), LETTER_WEIGHTS)
        if len(ranges) <= 1:
            return []
        parts = [self._add(letters) for letters in ranges]
        decisions = []
        for i, pid in enumerate(on_whole):
            decision = self._assign(pid, parts[i % len(parts)])
            decision.detail = detail
            decisions.append(decision)
        return decisions

    def add_subtopics(self, labels: Sequence[str], detail: str = "") -> list[PartitionDecision]:
        """New sub-topic partitions; producers on the whole topic, then the extra producers
        of shared partitions, take the idle ones."""
        if self.closed:
            return []
        added: list[Partition] = []
        for label in labels:
            if not label or label in self.partitions or len(self.partitions) >= self.max_partitions:
                continue
            part = Partition(label, "", Novelty(self.window), kind="subtopic")
            part.fits = partition_matcher(label)
            if self.move_on_window:
                part.recent = Novelty(self.move_on_window)
            self.partitions[label] = part
            added.append(part)
        movers = sorted(pid for pid, label in self.assignment.items() if not label)
        for part in self.active:
            movers.extend(sorted(part.producers)[1:])
        decisions = []
        for pid, target in zip(movers, added, strict=False):
            old = self.partitions.get(self.assignment.get(pid, WHOLE_TOPIC))
            if old is not None:
                old.producers.discard(pid)
            decision = self._assign(pid, target)
            decision.detail = detail
            decisions.append(decision)
        if added:
            self.wants_more = False
        return decisions

    @property
    def fresh_yield(self) -> float:
        """New per candidate on the first requests of partitions (1.0 before any)."""
        candidates, new = self._fresh
        return new / candidates if candidates else 1.0

    def _expected(self, part: Partition) -> float:
        """What an idle partition is expected to yield per candidate."""
        return self.fresh_yield if part.left_rate is None else part.left_rate

    def found_chars(self, part: Partition) -> int:
        return sum(self.letter_chars[ch] for ch in part.letters)

    def partition_of(self, producer_id: int) -> str:
        return self.assignment.get(producer_id, WHOLE_TOPIC)

    @property
    def assignment_any(self) -> bool:
        """Whether any producer still works on a partition."""
        return any(self.assignment.values())

    @property
    def active(self) -> list[Partition]:
        return [p for p in self.partitions.values() if p.state == "active"]

    def record(
        self, producer_id: int, label: str | None, generated: int, new_items: list[str]
    ) -> list[PartitionDecision]:
        """Count a batch made under ``label``; return the changes it triggers."""
        subtopics = [p for p in self.active if p.fits is not None]
        for item in new_items:
            letter = first_letter(item)
            if letter:
                self.letter_counts[letter] += 1
                self.letter_chars[letter] += len(item) + AVOID_LINE_OVERHEAD
            for sub in subtopics:
                if sub.fits is not None and sub.fits(item):
                    sub.found_chars += len(item) + AVOID_LINE_OVERHEAD
        part = self.partitions.get(label or "")
        if part is None:
            self.whole_topic.add(generated, len(new_items))
            return []
        # a sub-topic's yield counts the new items that fit it: a model that has run out
        # of them pads its answers from elsewhere, which must not keep the sub-topic alive
        new = len(new_items) if part.fits is None else sum(map(part.fits, new_items))
        if part.novelty.total_candidates < self.move_on_window:
            self._fresh[0] += generated
            self._fresh[1] += new
        part.novelty.add(generated, new)
        if part.recent is not None:
            part.recent.add(generated, new)
        part.found += len(new_items)
        if part.state != "active":
            return []
        if part.novelty.full and part.novelty.rate < self.threshold:
            return self._retire(part)
        if (
            self.avoid_chars
            and part.producers
            and len(part.letters) >= 2
            and len(self.partitions) + 2 <= self.max_partitions
            and self.found_chars(part) > self.avoid_chars
        ):
            return [self._split_to_fit(part)]
        if self.avoid_chars and part.kind == "subtopic" and part.found_chars > self.avoid_chars:
            return self._retire(
                part,
                f"found items need {part.found_chars} characters, the avoid list holds "
                f"{self.avoid_chars}; a sub-topic has no letters to split by",
            )
        if part.recent is not None and part.recent.full and part.producers:
            idle = [p for p in self.active if not p.producers and p is not part]
            best = max(idle, key=self._expected, default=None)
            if best is not None and part.recent.rate < 0.5 * self._expected(best):
                return self._move_on(part, best)
        return []

    def _split_to_fit(self, target: Partition) -> PartitionDecision:
        """Split a partition whose found items outgrew the avoid list; an unmanned half idles."""
        first, second = split_letters(target.letters, 2, self._weights())
        target.state = "retired"
        halves = (self._add(first), self._add(second))
        changes: dict[int, str] = {}
        for n, pid in enumerate(sorted(target.producers)):
            half = halves[n % 2]
            half.producers.add(pid)
            self.assignment[pid] = half.label
            changes[pid] = half.label
        target.producers.clear()
        return PartitionDecision(
            "split",
            target.label,
            changes,
            f"{target.label}: found items need {self.found_chars(target)} characters, the avoid "
            f"list holds {self.avoid_chars} -> {halves[0].label} + {halves[1].label}",
        )

    def _move_on(self, part: Partition, target: Partition) -> list[PartitionDecision]:
        """The producers of a partition yielding less than half of an idle one move there."""
        assert part.recent is not None
        rate = part.recent.rate
        part.left_rate = rate
        freed = sorted(part.producers)
        part.producers.clear()
        decisions = []
        for pid in freed:
            decision = self._assign(pid, target)
            decision.detail = (
                "move on: "
                f"{part.label} yields {rate:.3f} < half of {target.label}'s expected "
                f"{self._expected(target):.3f}"
            )
            decisions.append(decision)
        return decisions

    def _weights(self) -> dict[str, float]:
        if sum(self.letter_counts.values()) >= 50:
            return {ch: float(self.letter_counts.get(ch, 0)) + 0.5 for ch in string.ascii_uppercase}
        return LETTER_WEIGHTS

    def _retire(self, part: Partition, detail: str = "") -> list[PartitionDecision]:
        part.state = "retired"
        freed = sorted(part.producers)
        part.producers.clear()
        decisions = [
            PartitionDecision(
                "retire",
                part.label,
                detail=detail or f"novelty {part.novelty.rate:.4f} < {self.threshold:g}",
            )
        ]
        for pid in freed:
            decisions.append(self._place(pid))
        return decisions

    def _place(self, pid: int) -> PartitionDecision:
        active = self.active
        if self.subtopic_mode and not any(not p.producers for p in active):
            self.wants_more = True  # no idle sub-topic left for this producer
        if not active:
            self.assignment[pid] = WHOLE_TOPIC
            return PartitionDecision(
                "whole_topic", WHOLE_TOPIC, {pid: WHOLE_TOPIC}, "every partition is retired"
            )
        idle = [p for p in active if not p.producers]
        if idle:
            if self.move_on_window:
                target = max(idle, key=self._expected)
            else:
                target = max(idle, key=lambda p: p.novelty.rate)
            return self._assign(pid, target)
        target = max(active, key=lambda p: (p.novelty.rate, -len(p.producers)))
        if len(target.letters) >= 2 and len(self.partitions) + 2 <= self.max_partitions:
            return self._split(target, pid)
        return self._assign(pid, target)

    def _assign(self, pid: int, target: Partition) -> PartitionDecision:
        if not target.producers and target.recent is not None:
            target.recent = Novelty(self.move_on_window)  # judged on its new requests only
        target.producers.add(pid)
        self.assignment[pid] = target.label
        return PartitionDecision("assign", target.label, {pid: target.label})

    def _split(self, target: Partition, pid: int) -> PartitionDecision:
        """Split a yielding partition: its producers keep one half, ``pid`` gets the other."""
        first, second = split_letters(target.letters, 2, self._weights())
        target.state = "retired"
        keep, give = self._add(first), self._add(second)
        changes: dict[int, str] = {}
        for other in sorted(target.producers):
            keep.producers.add(other)
            self.assignment[other] = keep.label
            changes[other] = keep.label
        target.producers.clear()
        give.producers.add(pid)
        self.assignment[pid] = give.label
        changes[pid] = give.label
        return PartitionDecision(
            "split",
            target.label,
            changes,
            f"{target.label} (novelty {target.novelty.rate:.3f}) -> {keep.label} + {give.label}",
        )

    def retire_all(self, detail: str) -> list[PartitionDecision]:
        """The whole run looks saturated: every producer goes to the whole topic."""
        self.closed = True
        self.wants_more = False
        decisions: list[PartitionDecision] = []
        for part in self.active:
            part.state = "retired"
            part.producers.clear()
            decisions.append(PartitionDecision("retire", part.label, detail=detail))
        moved = {pid: WHOLE_TOPIC for pid, label in self.assignment.items() if label}
        for pid in moved:
            self.assignment[pid] = WHOLE_TOPIC
        if moved:
            decisions.append(PartitionDecision("whole_topic", WHOLE_TOPIC, moved, detail))
        return decisions

    def to_list(self) -> list[dict[str, object]]:
        return [p.to_dict() for p in self.partitions.values()]
