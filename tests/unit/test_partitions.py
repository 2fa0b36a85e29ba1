import string

from system.levers.partitions.manager import LETTER_WEIGHTS, PartitionManager, split_letters
from system.levers.partitions.match import first_letter, letter_range, partition_matcher


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


def test_a_partition_whose_found_items_outgrow_the_avoid_list_is_split():
    m = PartitionManager([1], threshold=0.02, window=1000, avoid_chars=0)
    assert m.partition_of(1) == ""  # one producer: the whole topic, nothing to split
    m = PartitionManager([1, 2], threshold=0.02, window=1000, avoid_chars=200, move_on_window=60)
    first = m.partition_of(1)
    letters = m.partitions[first].letters
    items = [f"{letters[i % len(letters)]}item number {i:03d}" for i in range(12)]  # 22 chars each
    assert m.record(1, first, 30, items[:8]) == []  # 8 * 22 = 176 characters fit
    decisions = m.record(1, first, 30, items[8:])
    assert [d.action for d in decisions] == ["split"]
    assert "avoid list holds 200" in decisions[0].detail
    halves = [p for p in m.active if p.letters in letters and p.label != first]
    assert len(halves) == 2 and "".join(h.letters for h in halves) == letters
    assert m.partitions[first].state == "retired"
    # the producer works on one half, the other half waits idle
    assert m.partition_of(1) in {h.label for h in halves}
    assert sorted(len(h.producers) for h in halves) == [0, 1]


def test_a_producer_moves_on_from_a_lean_partition_to_an_idle_one():
    m = PartitionManager([1, 2], threshold=0.02, window=1000, avoid_chars=10_000, move_on_window=60)
    a, b = m.partition_of(1), m.partition_of(2)
    # first requests of both partitions yield 0.8 per candidate: the fresh yield
    m.record(1, a, 30, [f"{a[0]}-a{i}" for i in range(24)])
    m.record(2, b, 30, [f"{b[0]}-b{i}" for i in range(24)])
    assert abs(m.fresh_yield - 0.8) < 1e-9
    # a split to fit makes an idle half; then 1's partition dries up
    m.avoid_chars = 100
    split = m.record(2, b, 30, [f"{b[0]}-c{i}" for i in range(10)])
    assert [d.action for d in split] == ["split"]
    idle = [p for p in m.active if not p.producers]
    assert len(idle) == 1
    m.avoid_chars = 10_000
    assert m.record(1, a, 30, [f"{a[0]}-d{i}" for i in range(3)]) == []  # 27/60 recent: fine
    moved = m.record(1, a, 30, [])  # recent window: 3 new in 60 candidates < 0.4
    assert [d.action for d in moved] == ["assign"] and moved[0].detail.startswith("move on")
    assert m.partition_of(1) == idle[0].label
    left = m.partitions[a]
    assert left.state == "active" and not left.producers and left.left_rate == 0.05
    # the left partition is taken up again when it is the best idle one
    assert m._expected(left) == 0.05


def test_without_the_new_rules_partitions_behave_as_before():
    m = PartitionManager([1, 2], threshold=0.02, window=100)
    a = m.partition_of(1)
    assert m.record(1, a, 100, [f"{a[0]}x{i}" for i in range(90)]) == []
    assert m.found_chars(m.partitions[a]) > 0 and m.partitions[a].recent is None
