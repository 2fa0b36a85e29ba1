"""Sighting counts per key, in flat arrays: the dedup truth and the evidence for each item.

For every accepted key the orchestrator keeps how many *requests* returned
it (sightings; a repeat inside one answer is not a second sighting, because
the completeness estimate treats each request as one sampling unit), which
producers and providers returned it, and the batch in which it was first and
last seen (batch serials map to times through ``batch_time``).

Why arrays and not a ``dict``: a Python dict entry plus its key and value
objects costs more than 100 bytes, the whole budget per unique. Here keys sit
in an open-addressing table (``array('Q')``, linear probing, grown at half
full) holding an ordinal into per-item arrays, so a unique costs 12 bytes per
table slot (2-4 slots per key) plus 21 bytes of counts and no Python objects.
Keys are xxHash3-64 values, uniform, so the low bits are a good slot index.

Distinct producers and providers are bit sets (64 and 8 bits): exact up to 64
producers and 8 providers; beyond that ids share bits and the count is a
lower bound.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterator, Sequence
from typing import NamedTuple

__all__ = ["Resumed", "Sighting", "SightingTable"]

#: key 0 marks an empty slot; a real key 0 (chance 2**-64) is stored as this instead
_ZERO_KEY = (1 << 64) - 1
_MIN_SLOTS = 1024
_COUNT_MAX = (1 << 32) - 1


class Sighting(tuple[int, int, int, int, float, float]):
    """(key, sightings, producers, providers, first_seen, last_seen)."""

    __slots__ = ()

    @property
    def sightings(self) -> int:
        return self[1]


class Resumed(NamedTuple):
    """Items resumed from the files, index for index: their keys and recorded counts."""

    keys: Sequence[int]
    sightings: Sequence[int]
    producers: Sequence[int]
    providers: Sequence[int]


class SightingTable:
    def __init__(self, expected: int = 0) -> None:
        slots = _MIN_SLOTS
        while slots < 2 * expected:
            slots *= 2
        self._mask = slots - 1
        self._slot_keys = array("Q", bytes(8 * slots))
        self._slot_ord = array("I", bytes(4 * slots))
        self.keys = array("Q")  # per ordinal: the key (as stored)
        self.counts = array("I")  # requests that returned the item
        self.producers = array("Q")  # bit (producer_id - 1) % 64
        self.providers = array("B")  # bit provider_index % 8
        self.first = array("I")  # batch serial of the first sighting
        self.last = array("I")  # batch serial of the last sighting
        #: wall time of each batch serial (serial 0: items resumed from the file)
        self.batch_time = array("d", [time.time()])
        self._provider_index: dict[str, int] = {}
        self.requests = 0
        #: frequency of frequencies, kept as counts change: freq[k] = items seen exactly
        #: k times (k = 0..4), freq[5] = items seen 5 times or more; total = all sightings.
        #: The completeness estimate reads these in O(1) (an array scan costs ~0.5 s per
        #: million items: array.count boxes every element)
        self.freq = [0] * 6
        self.total = 0

    # ------------------------------------------------------------------ batches
    def begin_batch(self, now: float | None = None) -> int:
        """A new request's serial; every sighting until the next call belongs to it."""
        self.batch_time.append(time.time() if now is None else now)
        self.requests += 1
        return len(self.batch_time) - 1

    def provider_bit(self, name: str) -> int:
        index = self._provider_index.get(name)
        if index is None:
            index = self._provider_index[name] = len(self._provider_index)
        return 1 << (index % 8)

    @staticmethod
    def producer_bit(producer_id: int) -> int:
        return 1 << ((producer_id - 1) % 64) if producer_id > 0 else 0

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self.keys)

    def find(self, key: int) -> int:
        """The ordinal of ``key``, or -1."""
        key = key or _ZERO_KEY
        mask, skeys = self._mask, self._slot_keys
        i = key & mask
        while True:
            k = skeys[i]
            if k == key:
                return self._slot_ord[i]
            if k == 0:
                return -1
            i = (i + 1) & mask

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self.find(key) >= 0

    def __iter__(self) -> Iterator[int]:
        for k in self.keys:
            yield 0 if k == _ZERO_KEY else k

    # ------------------------------------------------------------------ updates
    def sight(self, key: int, serial: int, pbit: int, vbit: int) -> bool:
        """Count a sighting of ``key`` in batch ``serial``; True when the key is new."""
        key = key or _ZERO_KEY
        mask, skeys = self._mask, self._slot_keys
        i = key & mask
        while True:
            k = skeys[i]
            if k == key:
                o = self._slot_ord[i]
                if self.last[o] != serial:  # once per request
                    self._again(o, serial, pbit, vbit)
                return False
            if k == 0:
                self._insert(i, key, serial, pbit, vbit)
                return True
            i = (i + 1) & mask

    def repeat(self, key: int, serial: int, pbit: int, vbit: int) -> bool:
        """A sighting of a key the producer already knew (its pre-filter dropped it).

        Unknown keys are ignored (the text never reached the orchestrator)."""
        o = self.find(key)
        if o < 0:
            return False
        if self.last[o] != serial:
            self._again(o, serial, pbit, vbit)
        return True

    def add_known(self, key: int, sightings: int = 0) -> bool:
        """An item resumed from the file (serial 0), with the counts it had, if known."""
        key = key or _ZERO_KEY
        mask, skeys = self._mask, self._slot_keys
        i = key & mask
        while True:
            k = skeys[i]
            if k == key:
                return False
            if k == 0:
                self._insert(i, key, 0, 0, 0)
                self.set_count(len(self.keys) - 1, sightings)
                return True
            i = (i + 1) & mask

    def set_count(self, o: int, sightings: int) -> None:
        """Resume: item ``o`` was seen ``sightings`` times (keeps ``freq`` and ``total``)."""
        old, new = self.counts[o], min(max(0, sightings), _COUNT_MAX)
        self.freq[min(old, 5)] -= 1
        self.freq[min(new, 5)] += 1
        self.total += new - old
        self.counts[o] = new

    def restore(self, key: int, producers: int, providers: int) -> None:
        """Resume: the number of distinct producers/providers becomes that many low bits."""
        o = self.find(key)
        if o >= 0:
            self.producers[o] = (1 << min(max(producers, 0), 64)) - 1
            self.providers[o] = (1 << min(max(providers, 0), 8)) - 1

    def _again(self, o: int, serial: int, pbit: int, vbit: int) -> None:
        c = self.counts[o]
        if c < _COUNT_MAX:
            self.counts[o] = c + 1
            freq = self.freq
            freq[c if c < 5 else 5] -= 1
            freq[c + 1 if c < 4 else 5] += 1
            self.total += 1
        self.last[o] = serial
        if pbit and not self.producers[o] & pbit:
            self.producers[o] |= pbit
        if vbit and not self.providers[o] & vbit:
            self.providers[o] |= vbit

    def _insert(self, slot: int, key: int, serial: int, pbit: int, vbit: int) -> None:
        o = len(self.keys)
        self._slot_keys[slot] = key
        self._slot_ord[slot] = o
        self.keys.append(key)
        self.counts.append(1 if serial else 0)
        self.freq[1 if serial else 0] += 1
        self.total += 1 if serial else 0
        self.producers.append(pbit)
        self.providers.append(vbit)
        self.first.append(serial)
        self.last.append(serial)
        if 2 * len(self.keys) > self._mask + 1:
            self._grow()

    def load(self, resumed: Resumed) -> int:
        """Resume in bulk: items resumed from the file (serial 0) with the counts
        attributes.jsonl recorded (``add_known`` + ``restore`` for each, in one
        pass and with the table grown once). A key already held is skipped.
        Returns how many keys were added."""
        keys, sightings, producers, providers = resumed
        slots = self._mask + 1
        while 2 * (len(self.keys) + len(keys)) > slots:
            slots *= 2
        if slots != self._mask + 1:
            self._grow(slots)
        mask, skeys, sord, freq = self._mask, self._slot_keys, self._slot_ord, self.freq
        new_keys, new_counts = array("Q"), array("I")
        new_producers, new_providers = array("Q"), array("B")
        o = start = len(self.keys)
        total = 0
        for key, count, p, v in zip(keys, sightings, producers, providers, strict=True):
            key = key or _ZERO_KEY
            i = key & mask
            while True:
                k = skeys[i]
                if k == key:
                    break
                if k == 0:
                    skeys[i], sord[i] = key, o
                    o += 1
                    count = min(max(0, count), _COUNT_MAX)
                    new_keys.append(key)
                    new_counts.append(count)
                    new_producers.append((1 << min(max(p, 0), 64)) - 1)
                    new_providers.append((1 << min(max(v, 0), 8)) - 1)
                    freq[count if count < 5 else 5] += 1
                    total += count
                    break
                i = (i + 1) & mask
        added = o - start
        self.keys.extend(new_keys)
        self.counts.extend(new_counts)
        self.producers.extend(new_producers)
        self.providers.extend(new_providers)
        self.first.extend(array("I", bytes(4 * added)))
        self.last.extend(array("I", bytes(4 * added)))
        self.total += total
        return added

    def _grow(self, slots: int = 0) -> None:
        slots = slots or 2 * (self._mask + 1)
        mask = slots - 1
        skeys = array("Q", bytes(8 * slots))
        sord = array("I", bytes(4 * slots))
        for o, key in enumerate(self.keys):
            i = key & mask
            while skeys[i]:
                i = (i + 1) & mask
            skeys[i] = key
            sord[i] = o
        self._mask, self._slot_keys, self._slot_ord = mask, skeys, sord

    # ------------------------------------------------------------------ reading
    def get(self, key: int) -> Sighting | None:
        o = self.find(key)
        return None if o < 0 else self.at(o)

    def at(self, o: int) -> Sighting:
        k = self.keys[o]
        return Sighting(
            (
                0 if k == _ZERO_KEY else k,
                self.counts[o],
                self.producers[o].bit_count(),
                self.providers[o].bit_count(),
                self.batch_time[self.first[o]],
                self.batch_time[self.last[o]],
            )
        )

    def nbytes(self) -> int:
        """Bytes held by the arrays (allocated length, not capacity)."""
        arrays = (
            self._slot_keys, self._slot_ord, self.keys, self.counts,
            self.producers, self.providers, self.first, self.last, self.batch_time,
        )  # fmt: skip
        return sum(a.itemsize * len(a) for a in arrays)
