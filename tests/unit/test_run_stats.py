from system.orchestrator.stats import RunStats


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
