from system.dedup.index import DedupIndex
from system.dedup.keys import key_of
from system.levers.prefilter import PreFilter, pack_keys, unpack_keys
from system.levers.producer import ProducerLevers


def test_known_and_repeated_candidates_are_dropped_with_keys_for_the_rest():
    f = PreFilter()
    f.add_texts(["Louvre"])
    result = f.filter(["1. louvre", "Orsay", '"orsay"', "Pantheon", "", "- "])
    assert result.kept == ["Orsay", "Pantheon", "", "- "]  # empties: the orchestrator rejects
    assert result.dropped == ["1. louvre", '"orsay"']
    assert result.keys[:2] == [key_of("Orsay"), key_of("Pantheon")]


def test_filter_grows_beyond_its_capacity_without_losing_keys():
    f = PreFilter(capacity=10)
    f.add_texts(f"item {i}" for i in range(200))
    assert f.known == 200 and all(key_of(f"item {i}") in f for i in range(200))
    assert f.filter([f"item {i}" for i in range(200, 260)]).dropped == []


def test_keys_round_trip_through_bytes_and_seed_a_producer():
    index = DedupIndex()
    index.add_batch(["Louvre", "Orsay"])
    assert sorted(unpack_keys(index.keys_bytes())) == sorted([key_of("Louvre"), key_of("Orsay")])
    assert unpack_keys(pack_keys([1, 2**64 - 1])) == [1, 2**64 - 1]
    levers = ProducerLevers.from_settings(
        {"levers": {"prefilter": True, "known_keys": index.keys_bytes()}}
    )
    prepared = levers.prepare(["LOUVRE", "Pantheon"])
    assert prepared.candidates == ["Pantheon"] and prepared.prefiltered == 1
    levers.learn(["Pantheon"])
    assert levers.prepare(["pantheon."]).candidates == []


def test_without_levers_in_the_settings_nothing_is_filtered():
    levers = ProducerLevers.from_settings({})
    prepared = levers.prepare(["a", "a"])
    assert prepared.candidates == ["a", "a"] and prepared.keys is None
    assert levers.avoid_for("A-F") == []


def test_wrong_keys_from_a_producer_cannot_write_an_item_twice():
    """Issue 13 item 13: keys were spot-checked (the first and every 16th), so a
    producer holding the run token could send the same item in unchecked positions
    with made-up keys and have it written several times. Every key is derived now."""
    candidates = ["Orsay", "Louvre", "LOUVRE", "louvre", "Louvre!"] + ["Pad"] * 12
    given = [key_of("Orsay"), 1, 2, 3, 4] + [key_of("Pad")] * 12
    index = DedupIndex()
    result = index.add_batch(candidates, given)
    assert result.new == ["Orsay", "Louvre", "Pad"]
    assert result.duplicates == len(candidates) - 3
    assert index.add_batch(["LOUVRE"], [12345]).duplicates == 1
    assert index.add_batch(["Orsay", "Musée"], [key_of("Musée"), key_of("Orsay")]).new == [
        "Musée"
    ]


def test_repeat_keys_are_the_known_dropped_candidates_once_each() -> None:
    from system.dedup.keys import key_of
    from system.levers.prefilter import PreFilter

    f = PreFilter()
    f.add_texts(["Louvre", "Orsay"])
    result = f.filter(["Louvre", "louvre", "Eiffel Tower", "Eiffel Tower", "Orsay"])
    assert result.kept == ["Eiffel Tower"]
    # the in-batch repeat of a new candidate is one request's item, not a known repeat
    assert result.repeat_keys == [key_of("Louvre"), key_of("Orsay")]


def test_levers_pack_repeat_keys_for_the_batch() -> None:
    from system.dedup.keys import key_of
    from system.levers.prefilter import unpack_keys
    from system.levers.producer import ProducerLevers

    levers = ProducerLevers(prefilter=True)
    levers.learn(["Louvre"])
    prepared = levers.prepare(["Louvre", "Orsay"])
    assert prepared.candidates == ["Orsay"] and prepared.prefiltered == 1
    assert prepared.repeat_keys is not None
    assert unpack_keys(prepared.repeat_keys) == [key_of("Louvre")]
    assert levers.prepare(["Pantheon"]).repeat_keys is None
