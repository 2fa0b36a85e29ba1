from system.dedup.index import DedupIndex


def test_new_duplicate_and_rejected_counts_with_in_batch_repeats():
    index = DedupIndex()
    result = index.add_batch(["Louvre", "louvre.", "Orsay", "", "   ", "x" * 400, "Orsay!"])
    assert result.new == ["Louvre", "Orsay"]
    assert (result.duplicates, result.rejected) == (2, 3)
    again = index.add_batch(["LOUVRE", "Pantheon"])
    assert again.new == ["Pantheon"] and again.duplicates == 1
    assert len(index) == 3 and "the louvre" not in index and "louvre" in index


def test_first_seen_display_form_is_kept():
    index = DedupIndex()
    assert index.add_batch(["1. Sainte-Chapelle.", "SAINTE-CHAPELLE"]).new == ["Sainte-Chapelle"]


def test_load_existing_seeds_the_index():
    index = DedupIndex()
    assert index.load_existing(["Louvre", "louvre", "Orsay", ""]) == 2
    assert index.add_batch(["Louvre", "Rodin"]).new == ["Rodin"]


def test_growth_past_bloom_capacity_stays_exact():
    index = DedupIndex(expected_items=1000)
    items = [f"item number {i}" for i in range(10_000)]
    assert len(index.add_batch(items).new) == 10_000
    result = index.add_batch([*items[::7], "brand new"])
    assert result.new == ["brand new"] and result.duplicates == len(items[::7])
    assert len(index.bloom_bytes()) > 0
