import string

from system.dedup.partition_match import first_letter, letter_range, partition_matcher
from system.orchestrator.partitions import LETTER_WEIGHTS, PartitionManager, split_letters


def test_split_letters_covers_the_alphabet_in_contiguous_ranges():
    for parts in (1, 2, 3, 5, 8, 26, 40):
        ranges = split_letters(string.ascii_uppercase, parts, LETTER_WEIGHTS)
        assert "".join(ranges) == string.ascii_uppercase
        assert len(ranges) == min(parts, 26)
        assert all(ranges)


def test_split_is_balanced_by_weight():
    weights = {ch: 1.0 for ch in string.ascii_uppercase}
    weights["A"] = 100.0
    first, second = split_letters(string.ascii_uppercase, 2, weights)
    assert first == "A" and second == string.ascii_uppercase[1:]


def test_one_partition_per_producer_and_one_producer_alone_gets_the_whole_topic():
    m = PartitionManager([1, 2, 3], threshold=0.02, window=100)
    assert len(m.partitions) == 3 and len(set(m.assignment.values())) == 3
    assert PartitionManager([1], threshold=0.02, window=100).partition_of(1) == ""


def _saturate(m, pid, label):
    return m.record(pid, label, 100, []) + m.record(pid, label, 100, [])


def test_a_saturated_partition_is_retired_and_a_yielding_one_split():
    m = PartitionManager([1, 2], threshold=0.02, window=100)
    first, second = m.partition_of(1), m.partition_of(2)
    m.record(2, second, 100, [f"{second[0]}x{i}" for i in range(80)])  # yielding
    decisions = _saturate(m, 1, first)
    actions = [d.action for d in decisions]
    assert actions == ["retire", "split"]
    assert m.partitions[first].state == "retired"
    assert m.partitions[second].state == "retired"  # replaced by its two halves
    halves = {m.partition_of(1), m.partition_of(2)}
    assert len(halves) == 2 and first not in halves and second not in halves
    assert decisions[1].producers.keys() == {1, 2}


def test_when_every_partition_is_retired_producers_get_the_whole_topic():
    m = PartitionManager([1, 2], threshold=0.02, window=100, max_partitions=2)
    a, b = m.partition_of(1), m.partition_of(2)
    _saturate(m, 1, a)  # moves 1 onto b's partition (no room to split)
    assert m.partition_of(1) == b
    decisions = _saturate(m, 2, b)
    assert decisions[0].action == "retire"
    assert {d.action for d in decisions[1:]} == {"whole_topic"}
    assert m.partition_of(1) == m.partition_of(2) == ""


def test_partition_matcher_reads_letter_ranges_letters_and_sub_topics():
    assert letter_range("a-f") == ("A", "F") and letter_range("Q") == ("Q", "Q")
    assert letter_range("museums") is None
    in_af = partition_matcher("A-F")
    assert in_af("Eiffel Tower") and not in_af("Louvre")
    assert partition_matcher("Museums")("Rodin Museum")
    assert partition_matcher(None)("anything") and partition_matcher("")("x")
    assert first_letter(" louvre") == "L" and first_letter("1 Rue") == ""
