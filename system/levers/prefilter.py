"""The pre-filter lever: producers drop candidates the run already has before sending them.

The producer keeps its own copy of the run's known keys in Bloom filters
(rbloom, the orchestrator's key hash), loaded from the keys the orchestrator
sends in ``StartTopic`` and refreshed from every delta of new uniques. A
candidate whose key may be known, or that repeats an earlier candidate of the
same batch, is dropped; the rest are sent with their xxHash keys so the
orchestrator does not hash them again.

The false-positive rate is kept tiny (1e-6 per filter) because a false
positive here drops a genuinely new attribute for good; when a filter fills
up a new one twice as large is added (a scalable Bloom filter), so the rate
holds however long the run goes.

The orchestrator's side (``PrefilterLever``) sends the known keys in
``StartTopic`` while they stay under ``MAX_KNOWN_KEYS_BYTES`` (later ones come
in the deltas, ``system.levers.shared_state``) and counts what the producers
dropped (run.json ``levers.prefiltered``); ``TopicRun`` counts the dropped
repeats it reports (``unpack_keys``) as sightings.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rbloom import Bloom

from system.dedup.index import DedupIndex, bloom_hash
from system.dedup.keys import attribute_key, key_of
from system.dedup.normalize import normalize
from system.levers.base import BatchEffects, Lever, LeverRun
from system.protocol import AttributeBatch
from system.protocol.messages import LeverSettings

__all__ = ["FilterResult", "PreFilter", "PrefilterLever", "pack_keys", "unpack_keys"]

FALSE_POSITIVE_RATE = 1e-6
#: a StartTopic carries the known keys for the pre-filter only up to this size
MAX_KNOWN_KEYS_BYTES = 4 * 1024 * 1024


def pack_keys(keys: Iterable[int]) -> bytes:
    """Keys as little-endian unsigned 64-bit integers (for StartTopic settings)."""
    packed = array("Q", keys)
    if packed.itemsize != 8:  # pragma: no cover - every supported platform has 8
        raise RuntimeError("array 'Q' is not 64-bit here")
    return packed.tobytes()


def unpack_keys(data: bytes) -> list[int]:
    packed = array("Q")
    packed.frombytes(data[: len(data) - len(data) % 8])
    return packed.tolist()


@dataclass
class FilterResult:
    kept: list[str] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    #: keys of the dropped candidates that were known before this batch, each once:
    #: the orchestrator counts them as sightings (support, completeness estimate)
    repeat_keys: list[int] = field(default_factory=list)


class PreFilter:
    def __init__(self, capacity: int = 50_000) -> None:
        self._filters: list[Bloom] = [Bloom(capacity, FALSE_POSITIVE_RATE, bloom_hash)]
        self._capacities = [capacity]
        self._count = 0  # keys added to the newest filter
        self.known = 0

    def _add_key(self, key: int) -> None:
        if self._count >= self._capacities[-1]:
            capacity = self._capacities[-1] * 2
            self._filters.append(Bloom(capacity, FALSE_POSITIVE_RATE, bloom_hash))
            self._capacities.append(capacity)
            self._count = 0
        self._filters[-1].add(key)
        self._count += 1
        self.known += 1

    def __contains__(self, key: int) -> bool:
        return any(key in f for f in self._filters)

    def add_keys(self, keys: Iterable[int]) -> None:
        for key in keys:
            if key not in self:
                self._add_key(key)

    def add_texts(self, texts: Iterable[str]) -> None:
        self.add_keys(key_of(text) for text in texts)

    def filter(self, candidates: Iterable[str]) -> FilterResult:
        result = FilterResult()
        seen: set[int] = set()
        for candidate in candidates:
            normalized = normalize(candidate)
            key = attribute_key(normalized)
            if normalized and (key in seen or key in self):
                result.dropped.append(candidate)
                if key not in seen:
                    seen.add(key)
                    result.repeat_keys.append(key)
                continue
            seen.add(key)
            result.kept.append(candidate)
            result.keys.append(key)
        return result


class PrefilterLever(Lever):
    """Always built: ``prefilter`` is sent either way and run.json counts the drops."""

    name = "prefilter"

    def __init__(self, on: bool) -> None:
        self.on = on
        self.prefiltered = 0

    @classmethod
    def build(cls, run: LeverRun) -> PrefilterLever:
        return cls(run.config.prefilter)

    def settings(self, producer_id: int, index: DedupIndex) -> LeverSettings:
        settings: LeverSettings = {"prefilter": self.on}
        if self.on and len(index) and len(index) * 8 <= MAX_KNOWN_KEYS_BYTES:
            settings["known_keys"] = index.keys_bytes()
        return settings

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        self.prefiltered += batch.prefiltered or 0
        return BatchEffects()

    def summary(self) -> dict[str, Any]:
        return {"prefiltered": self.prefiltered}
