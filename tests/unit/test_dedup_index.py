from pathlib import Path

import pytest
from rbloom import Bloom

from system.dedup.index import MIN_BLOOM_CAPACITY, BatchResult, DedupIndex, bloom_hash
from system.dedup.keys import key_of


def test_new_duplicate_and_rejected_counts_with_in_batch_repeats() -> None:
    index = DedupIndex()
    result = index.add_batch(["Louvre", "louvre.", "Orsay", "", "   ", "x" * 400, "Orsay!"])
    assert result.new == ["Louvre", "Orsay"]
    assert (result.duplicates, result.rejected) == (2, 3)
    again = index.add_batch(["LOUVRE", "Pantheon"])
    assert again.new == ["Pantheon"] and again.duplicates == 1 and again.rejected == 0
    assert len(index) == 3 and "notre-dame" not in index and "louvre" in index
    assert "the louvre" in index  # the key drops a leading article (docs/tracing.md)


def test_every_candidate_is_counted_exactly_once() -> None:
    index = DedupIndex()
    index.add_batch(["a", "b"])
    batch = ["a", "c", "c", "- ", "C.", "d", "y" * 301, "b", "e"]
    result = index.add_batch(batch)
    assert len(result.new) + result.duplicates + result.rejected == len(batch)
    assert result.bloom_negatives <= len(result.new)


def test_empty_batch() -> None:
    assert DedupIndex().add_batch([]) == BatchResult()


def test_max_length_applies_to_the_display_form() -> None:
    index = DedupIndex(max_length=10)
    result = index.add_batch(["1. " + "a" * 10 + "!!!", "b" * 11])
    assert result.new == ["a" * 10] and result.rejected == 1


def test_first_seen_display_form_is_kept() -> None:
    index = DedupIndex()
    assert index.add_batch(["1. Sainte-Chapelle.", "SAINTE-CHAPELLE"]).new == ["Sainte-Chapelle"]
    assert index.add_batch(['"sainte-chapelle"']).new == []


def test_new_items_are_proved_new_by_the_bloom_filter() -> None:
    index = DedupIndex()
    result = index.add_batch([f"attraction {i}" for i in range(500)])
    # With an empty-ish filter at 0.1% false positives, (almost) all go without a set probe.
    assert result.bloom_negatives >= 495
    assert result.bloom_negatives + index.bloom_false_positives == 500


def test_contains_uses_the_key() -> None:
    index = DedupIndex()
    index.add_batch(["Musée d'Orsay"])
    assert "- MUSÉE D'ORSAY." in index
    assert "Musee d'Orsay" not in index
    assert 42 not in index


def test_load_existing_seeds_the_index() -> None:
    index = DedupIndex()
    assert index.load_existing(["Louvre", "louvre", "Orsay", "", "\n"]) == 2
    assert index.add_batch(["Louvre", "Rodin"]).new == ["Rodin"]
    assert index.load_existing(["Rodin", "Orsay", "Cluny"]) == 1
    assert len(index) == 4


def test_load_existing_accepts_lines_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "attributes.txt"
    path.write_text("Louvre\nOrsay\nLouvre\n", encoding="utf-8")
    index = DedupIndex()
    with path.open(encoding="utf-8") as lines:
        assert index.load_existing(lines) == 2
    assert "orsay" in index


def test_growth_past_bloom_capacity_stays_exact() -> None:
    index = DedupIndex(expected_items=1000)
    assert index.capacity == MIN_BLOOM_CAPACITY
    items = [f"item number {i}" for i in range(10_000)]
    assert len(index.add_batch(items).new) == 10_000
    assert index.capacity >= 10_000
    result = index.add_batch([*items[::7], "brand new"])
    assert result.new == ["brand new"] and result.duplicates == len(items[::7])
    assert all(item in index for item in items)
    assert len(index) == 10_001


def test_load_existing_past_capacity_grows_enough() -> None:
    index = DedupIndex(expected_items=10)
    assert index.load_existing(f"line {i}" for i in range(5000)) == 5000
    assert index.capacity >= 5000
    result = index.add_batch([f"line {i}" for i in range(0, 5000, 3)])
    assert result.new == [] and result.bloom_negatives == 0


def test_false_positive_rate_stays_near_the_configured_one_after_growth() -> None:
    index = DedupIndex(expected_items=1000, false_positive_rate=0.01)
    index.add_batch([f"known {i}" for i in range(8000)])
    result = index.add_batch([f"unknown {i}" for i in range(20_000)])
    assert len(result.new) == 20_000
    assert index.bloom_false_positives < 20_000 * 0.03


def test_bloom_bytes_round_trip_with_bloom_hash() -> None:
    index = DedupIndex(expected_items=2000)
    index.add_batch(["Louvre", "Orsay"])
    data = index.bloom_bytes()
    assert len(data) > 0
    copy = Bloom.load_bytes(data, bloom_hash)
    assert key_of("louvre") in copy and key_of("- ORSAY") in copy
    assert sum(key_of(f"other {i}") in copy for i in range(1000)) < 20
    assert index.bloom_bytes() == data  # deterministic


def test_bloom_bytes_are_the_same_in_every_process() -> None:
    one, two = DedupIndex(expected_items=5000), DedupIndex(expected_items=5000)
    one.add_batch(["a", "b", "c"])
    two.add_batch(["c", "b", "a", "a"])
    assert one.bloom_bytes() == two.bloom_bytes()


def test_bloom_hash_keeps_keys_in_rbloom_range() -> None:
    assert bloom_hash(2**64 - 1) == 2**64 - 1 < 2**127
    assert bloom_hash(12345) == 12345
    assert 0 <= bloom_hash(-1) < 2**64


def test_invalid_false_positive_rate() -> None:
    with pytest.raises(ValueError):
        DedupIndex(false_positive_rate=1.0)


def test_the_memo_of_raw_candidates_is_bounded_and_changes_nothing(monkeypatch) -> None:
    from system.dedup import index as index_module

    monkeypatch.setattr(index_module, "MEMO_SIZE", 8)
    memo_index, plain = DedupIndex(), DedupIndex()
    batches = [[f"{i % 3}. Item {i % 13}" for i in range(start, start + 10)] for start in range(6)]
    batches.append(["", "  ", "x" * 400, "Item 1", "1. item 1."])
    for batch in batches:
        got = memo_index.add_batch(batch)
        monkeypatch.setattr(index_module, "MEMO_SIZE", 0)  # plain: memo cleared every time
        want = plain.add_batch(batch)
        monkeypatch.setattr(index_module, "MEMO_SIZE", 8)
        assert (got.new, got.duplicates, got.rejected) == (want.new, want.duplicates, want.rejected)
        assert len(memo_index._memo) <= 8
