from dataclasses import fields

from system.orchestrator.stats import BatchCounts, ProducerStats, ProviderStats, RunStats


def test_ingest_window_runs_from_the_first_batch_to_the_last(monkeypatch):
    clock = iter([10.0, 10.5, 12.0])
    monkeypatch.setattr("system.orchestrator.stats.time.monotonic", lambda: next(clock))
    st = RunStats()
    assert st.ingest() == {"ingest_s": 0.0, "candidates_per_s": 0.0}
    for n in (100, 300, 500):
        st.mark_batch(n)
        st.candidates += n
    # the first batch's candidates were made before the window opened
    assert st.ingest() == {"ingest_s": 2.0, "candidates_per_s": 400.0}


def test_one_batch_has_no_rate():
    st = RunStats()
    st.mark_batch(50)
    st.candidates += 50
    assert st.ingest()["candidates_per_s"] == 0.0


def test_duplicate_rate_of_generated_items_counts_the_prefilter_drops():
    """98 of 100 generated items were known: 97 dropped by the pre-filter before sending,
    1 refused by the orchestrator. The orchestrator-side rate alone says 33%."""
    st = RunStats()
    st.candidates, st.duplicates, st.prefiltered = 3, 1, 97
    counts = st.counts()
    assert counts["generated"] == 100
    assert counts["generated_duplicate_rate"] == 0.98
    assert counts["duplicate_rate"] == 0.3333
    assert RunStats().counts()["generated_duplicate_rate"] == 0.0


def test_a_batch_is_added_to_the_run_its_slot_and_its_provider_once() -> None:
    st = RunStats()
    st.producers = {1: ProducerStats(producer_id=1), 2: ProducerStats(producer_id=2)}
    one = BatchCounts(
        candidates=10,
        new=4,
        duplicates=5,
        rejected=1,
        prefiltered=2,
        input_tokens=7,
        output_tokens=30,
    )
    st.add_batch(1, "a", one)
    st.add_batch(1, "b", one)
    st.add_batch(2, "a", BatchCounts(candidates=3, new=3, input_tokens=1, output_tokens=2))
    assert (st.batches, st.candidates, st.unique, st.duplicates) == (3, 23, 11, 10)
    assert (st.rejected, st.prefiltered, st.input_tokens, st.output_tokens) == (2, 4, 15, 62)
    slot = st.producers[1]
    assert (slot.batches, slot.candidates, slot.new, slot.provider) == (2, 20, 8, "b")
    assert st.producers[2].to_dict()["new"] == 3
    assert st.providers["a"].to_dict() == {
        "requests": 2,
        "candidates": 13,
        "new": 7,
        "input_tokens": 8,
        "output_tokens": 32,
        "new_per_1k_tokens": 175.0,
    }
    counts = st.counts()
    assert (counts["batches"], counts["unique"], counts["total_in_file"]) == (3, 11, 11)


def test_every_count_of_a_batch_reaches_each_tally() -> None:
    """A field added to BatchCounts is summed everywhere without another line of code."""
    values = {f.name: i + 1 for i, f in enumerate(fields(BatchCounts))}
    for tally in (RunStats(), ProviderStats(), ProducerStats(producer_id=1)):
        tally.add(BatchCounts(**values))
        tally.add(BatchCounts(**values))
        assert {name: getattr(tally, name) for name in values} == {
            name: 2 * v for name, v in values.items()
        }
        assert tally.batches == 2


def test_run_json_shapes_of_the_tallies_are_unchanged() -> None:
    assert list(ProducerStats(producer_id=1).to_dict()) == [
        "producer_id", "state", "pid", "spawns", "batches", "candidates", "new",
        "input_tokens", "output_tokens", "exits", "last_exit_code", "errors", "provider",
        "detail", "restarts",
    ]  # fmt: skip
    assert list(ProviderStats().to_dict()) == [
        "requests", "candidates", "new", "input_tokens", "output_tokens", "new_per_1k_tokens",
    ]  # fmt: skip
    assert list(RunStats().counts()) == [
        "unique", "resumed", "total_in_file", "candidates", "duplicates", "rejected",
        "duplicate_rate", "generated", "prefiltered", "generated_duplicate_rate", "batches",
        "input_tokens", "output_tokens", "restarts", "rejected_connections",
        "torn_lines_dropped",
    ]  # fmt: skip
