"""The sighting table: counts per request, producers, providers, growth, memory."""

from __future__ import annotations

import random

from system.dedup.index import DedupIndex
from system.dedup.keys import key_of
from system.dedup.sightings import SightingTable


def test_counts_once_per_request_with_producers_and_providers() -> None:
    t = SightingTable()
    a, b = t.producer_bit(1), t.producer_bit(2)
    va, vb = t.provider_bit("alpha"), t.provider_bit("beta")
    s1 = t.begin_batch(now=10.0)
    assert t.sight(42, s1, a, va) is True
    assert t.sight(42, s1, a, va) is False  # a repeat inside one answer: same request
    s2 = t.begin_batch(now=20.0)
    assert t.sight(42, s2, b, vb) is False
    s3 = t.begin_batch(now=30.0)
    assert t.repeat(42, s3, a, va) is True  # pre-filtered repeat
    key, sightings, producers, providers, first, last = t.get(42)
    assert (key, sightings, producers, providers, first, last) == (42, 3, 2, 2, 10.0, 30.0)
    assert t.requests == 3


def test_repeat_of_unknown_key_is_ignored_and_missing_is_none() -> None:
    t = SightingTable()
    s = t.begin_batch()
    assert t.repeat(7, s, 1, 1) is False
    assert t.get(7) is None and 7 not in t and len(t) == 0


def test_growth_keeps_every_key_and_count() -> None:
    rng = random.Random(1)
    keys = [rng.getrandbits(64) for _ in range(20_000)] + [0]  # key 0 is a real key too
    t = SightingTable()
    s = t.begin_batch()
    for k in keys:
        t.sight(k, s, 1, 1)
    s = t.begin_batch()
    for k in keys[::2]:
        t.sight(k, s, 1, 1)
    assert len(t) == len(set(keys))
    assert all(t.get(k)[1] == (2 if i % 2 == 0 else 1) for i, k in enumerate(keys))
    assert set(t) == set(keys)


def test_memory_per_unique_is_far_below_the_budget() -> None:
    t = SightingTable()
    s = t.begin_batch()
    rng = random.Random(2)
    n = 100_000
    for _ in range(n):
        t.sight(rng.getrandbits(64), s, 1, 1)
    # 29 bytes of counts + 12 per slot at 2-4 slots per key: at most 77 (the budget is 100)
    assert t.nbytes() / n <= 77


def test_index_counts_sightings_and_prefiltered_repeats() -> None:
    index = DedupIndex()
    index.add_batch(["Louvre", "Eiffel Tower", "louvre."], producer_id=1, provider="sim")
    r = index.add_batch(
        ["Notre-Dame"], producer_id=2, provider="sim", repeat_keys=[key_of("Louvre"), 123]
    )
    assert r.repeats == 1
    assert index.sightings.get(key_of("Louvre"))[1:4] == (2, 2, 1)
    assert index.sightings.get(key_of("Eiffel Tower"))[1] == 1


def test_resumed_items_have_no_sightings_until_seen_or_restored() -> None:
    index = DedupIndex()
    index.load_existing(["Louvre", "Orsay"])
    assert index.sightings.get(key_of("Louvre"))[1] == 0
    index.load_counts(key_of("Orsay"), 5, 3, 1)
    assert index.sightings.get(key_of("Orsay"))[1:4] == (5, 3, 1)
    index.add_batch(["Louvre"], producer_id=1)
    assert index.sightings.get(key_of("Louvre"))[1] == 1


def test_running_frequency_counts_match_a_scan() -> None:
    rng = random.Random(3)
    index = DedupIndex()
    index.load_existing(["Resumed one", "Resumed two"])
    index.load_counts(key_of("Resumed two"), 7, 1, 1)
    names = [f"Item {i}" for i in range(300)]
    for _ in range(40):
        index.add_batch(rng.sample(names, 30), producer_id=1, repeat_keys=[key_of("Item 1")])
    t = index.sightings
    counts = list(t.counts)
    assert t.freq == [counts.count(k) for k in range(5)] + [sum(c >= 5 for c in counts)]
    assert t.total == sum(counts)
