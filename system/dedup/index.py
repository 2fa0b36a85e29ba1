"""The orchestrator's dedup truth: an exact set of keys behind a Bloom filter.

The Bloom filter answers "certainly new" for most genuinely new candidates
without touching the set, and its bytes are what will be shipped to
producers as their pre-filter. The set is the truth, so a Bloom false
positive costs a set lookup, never a lost attribute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rbloom import Bloom

from system.dedup.keys import attribute_key
from system.dedup.normalize import clean_display, normalize

_MASK_63 = (1 << 63) - 1


def bloom_hash(key: int) -> int:
    """rbloom needs a deterministic int in the signed 128-bit range; keys are 64-bit."""
    return key - (1 << 63) if key > _MASK_63 else key


@dataclass
class BatchResult:
    new: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejected: int = 0
    bloom_negatives: int = 0


class DedupIndex:
    def __init__(
        self,
        expected_items: int = 100_000,
        false_positive_rate: float = 0.001,
        max_length: int = 300,
    ) -> None:
        self._keys: set[int] = set()
        self._capacity = max(1024, expected_items)
        self._fp_rate = false_positive_rate
        self._bloom = Bloom(self._capacity, self._fp_rate, bloom_hash)
        self.max_length = max_length
        self.bloom_false_positives = 0

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and attribute_key(normalize(text)) in self._keys

    def _grow_if_needed(self) -> None:
        if len(self._keys) <= self._capacity:
            return
        self._capacity *= 2
        bloom = Bloom(self._capacity, self._fp_rate, bloom_hash)
        bloom.update(self._keys)
        self._bloom = bloom

    def _insert(self, key: int) -> None:
        self._keys.add(key)
        self._bloom.add(key)

    def add_batch(self, candidates: Iterable[str]) -> BatchResult:
        result = BatchResult()
        keys = self._keys
        for candidate in candidates:
            display = clean_display(candidate)
            if not display or len(display) > self.max_length:
                result.rejected += 1
                continue
            key = attribute_key(normalize(display))
            if key not in self._bloom:
                result.bloom_negatives += 1
            elif key in keys:
                result.duplicates += 1
                continue
            else:
                self.bloom_false_positives += 1
            self._insert(key)
            result.new.append(display)
            if len(keys) > self._capacity:
                self._grow_if_needed()
        return result

    def load_existing(self, lines: Iterable[str]) -> int:
        before = len(self._keys)
        for line in lines:
            display = clean_display(line)
            if display:
                self._insert(attribute_key(normalize(display)))
        self._grow_if_needed()
        return len(self._keys) - before

    def bloom_bytes(self) -> bytes:
        return self._bloom.save_bytes()
