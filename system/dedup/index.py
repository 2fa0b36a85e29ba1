"""The orchestrator's dedup truth: an exact set of keys behind a Bloom filter.

Every candidate is cleaned (``clean_display``) and keyed
(``attribute_key(normalize(...))``). The Bloom filter is asked first: "no"
proves the key new without a set lookup (counted in ``bloom_negatives``);
"maybe" is settled by the exact set, and a "maybe" the set refutes is a
Bloom false positive (``bloom_false_positives``). The set is the truth, so
a false positive costs one set lookup, never a lost attribute.

The filter has a fixed capacity. When the number of keys exceeds it, the
filter is rebuilt from the exact set with double the capacity, so its false
positive rate stays near the configured one however large the run grows.
Its bytes (``bloom_bytes``) are what producers will receive as a
pre-filter; load them with ``Bloom.load_bytes(data, bloom_hash)``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rbloom import Bloom

from system.dedup.keys import attribute_key
from system.dedup.normalize import clean_display, normalize
from system.dedup.sightings import Resumed, SightingTable

__all__ = ["MIN_BLOOM_CAPACITY", "BatchResult", "DedupIndex", "bloom_hash"]

_MASK_64 = (1 << 64) - 1
#: the smallest capacity a filter is built with, whatever ``expected_items`` says
MIN_BLOOM_CAPACITY = 1024


def bloom_hash(key: int) -> int:
    """rbloom's ``hash_func`` for attribute keys.

    rbloom needs a deterministic int in ``[-2**127, 2**127 - 1]`` (its own
    default, Python's ``hash``, is salted per process and makes the filter
    unserializable). Attribute keys are already uniformly distributed
    unsigned 64-bit ints, inside that range, so the key itself is the hash;
    the mask only keeps a stray out-of-range int from raising inside rbloom.
    Being a module-level function, it is the same object in every filter,
    which rbloom requires for ``|``, ``&`` and comparisons between filters.
    """
    return key & _MASK_64


#: raw candidates remembered with their (display, key): LLMs repeat themselves, and
#: cleaning + normalizing is most of the cost of a candidate. Bounded: cleared when full.
MEMO_SIZE = 20_000


@dataclass
class BatchResult:
    #: display forms (``clean_display``) of newly accepted attributes, first-seen order
    new: list[str] = field(default_factory=list)
    #: candidates whose key was already known, including repeats inside the batch
    duplicates: int = 0
    #: candidates empty after cleaning or longer than ``max_length``
    rejected: int = 0
    #: candidates the Bloom filter proved new without a set lookup
    bloom_negatives: int = 0
    #: pre-filtered repeats (``repeat_keys``) counted as sightings of known items
    repeats: int = 0


class DedupIndex:
    """The exact set of accepted attribute keys, with a Bloom filter in front.

    The exact set is a ``SightingTable``: beside membership it counts, per key,
    the requests that returned it (``sightings``), by which producers and
    providers, and when first and last.
    """

    def __init__(
        self,
        expected_items: int = 100_000,
        false_positive_rate: float = 0.001,
        max_length: int = 300,
    ) -> None:
        if not 0.0 < false_positive_rate < 1.0:
            raise ValueError("false_positive_rate must be between 0 and 1")
        self.max_length = max_length
        self._keys = SightingTable()
        self._fp_rate = false_positive_rate
        self._capacity = max(MIN_BLOOM_CAPACITY, expected_items)
        self._bloom = Bloom(self._capacity, self._fp_rate, bloom_hash)
        self._bloom_false_positives = 0
        self._memo: dict[str, tuple[str, int]] = {}

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, text: object) -> bool:
        """Whether a candidate with this text's key was already accepted."""
        if not isinstance(text, str):
            return False
        key = attribute_key(normalize(text))
        return key in self._bloom and key in self._keys

    @property
    def bloom_false_positives(self) -> int:
        """Times the Bloom filter said "maybe" for a key the exact set did not hold."""
        return self._bloom_false_positives

    @property
    def capacity(self) -> int:
        """The number of keys the current Bloom filter was sized for."""
        return self._capacity

    @property
    def sightings(self) -> SightingTable:
        """Per-key sighting counts (the exact key set)."""
        return self._keys

    def bloom_bytes(self) -> bytes:
        """The serialized filter (rbloom ``save_bytes``); load with ``bloom_hash``."""
        return self._bloom.save_bytes()

    # ------------------------------------------------------------------ updates
    def add_batch(
        self,
        candidates: Sequence[str],
        given_keys: Sequence[int] | None = None,
        *,
        producer_id: int = 0,
        provider: str = "",
        repeat_keys: Sequence[int] = (),
    ) -> BatchResult:
        """Accept the candidates whose keys are new; count the rest.

        ``given_keys`` (the producer's pre-filter keys) are not used: every key
        is derived here from the candidate's text. A producer holds the run
        token but not the orchestrator's trust; with keys taken on a spot check
        it could send a wrong key for the same text in an unchecked position and
        have it written twice. Deriving costs a clean + normalize + hash per
        distinct raw candidate (the memo absorbs the model's repeats), which
        benchmarks/README.md measures against the spot check it replaced.

        The batch is one request: every key in it, and every key of
        ``repeat_keys`` (candidates the producer's pre-filter dropped as
        known), is one sighting by ``producer_id`` via ``provider``.
        """
        del given_keys  # kept in the signature: the protocol still carries them
        result = BatchResult()
        keys, bloom, max_length = self._keys, self._bloom, self.max_length
        serial = keys.begin_batch()
        pbit, vbit = keys.producer_bit(producer_id), keys.provider_bit(provider)
        sight = keys.sight
        memo = self._memo
        for candidate in candidates:
            known = memo.get(candidate)
            if known is not None:
                display, key = known
            else:
                display = clean_display(candidate)
                key = attribute_key(normalize(display)) if display else 0
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                memo[candidate] = (display, key)
            if not display or len(display) > max_length:
                result.rejected += 1
                continue
            if key not in bloom:  # certainly new: sight() inserts it
                result.bloom_negatives += 1
                sight(key, serial, pbit, vbit)
            elif not sight(key, serial, pbit, vbit):
                result.duplicates += 1
                continue
            else:
                self._bloom_false_positives += 1
            bloom.add(key)
            result.new.append(display)
            if len(keys) > self._capacity:
                self._grow()
                bloom = self._bloom
        repeat = keys.repeat
        for key in repeat_keys:
            if repeat(key, serial, pbit, vbit):
                result.repeats += 1
        return result

    def keys_bytes(self) -> bytes:
        """Every accepted key as little-endian uint64s (the producers' pre-filter seed)."""
        return array("Q", self._keys).tobytes()

    def load_counts(self, key: int, sightings: int, producers: int, providers: int) -> None:
        """Resume: the counts attributes.jsonl recorded for an item of attributes.txt."""
        table = self._keys
        o = table.find(key)
        if o >= 0:
            table.set_count(o, sightings)
            table.restore(key, producers, providers)

    def load_existing(self, lines: Iterable[str]) -> int:
        """Seed from the lines of an existing attributes.txt.

        Every non-empty line is taken as accepted (no length limit: the file
        is already the run's truth). Returns how many distinct new keys were
        added.
        """
        return self.load_keys(
            attribute_key(normalize(display))
            for display in (clean_display(line) for line in lines)
            if display
        )

    def load_keys(self, keys: Iterable[int]) -> int:
        """Seed with the keys of resumed items, no counts known."""
        keys = list(keys)
        zeros = array("B", bytes(len(keys)))
        return self.load_resumed(Resumed(keys, zeros, zeros, zeros))

    def load_resumed(self, resumed: Resumed) -> int:
        """Resume: the keys of attributes.txt's lines (read back from attributes.jsonl
        or computed) with the counts attributes.jsonl recorded for them. Returns how
        many distinct new keys were added."""
        added = self._keys.load(resumed)
        if len(self._keys) > self._capacity:
            self._grow()  # the filter is rebuilt from the whole set: no need to add
        else:
            self._bloom.update(resumed.keys)
        return added

    def _grow(self) -> None:
        """Rebuild the filter from the exact set, doubling capacity until it fits."""
        while len(self._keys) > self._capacity:
            self._capacity *= 2
        bloom = Bloom(self._capacity, self._fp_rate, bloom_hash)
        bloom.update(self._keys)
        self._bloom = bloom
