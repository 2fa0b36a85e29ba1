"""RunState (the first end wins) and ProducerFleet's slot bookkeeping (no processes)."""

from __future__ import annotations

from opentelemetry import trace

from system.orchestrator.fleet import ProducerFleet
from system.orchestrator.run_state import RunState
from system.orchestrator.stats import BatchCounts, ProducerStats
from system.protocol import ProducerStatus


def test_the_first_end_wins() -> None:
    state = RunState()
    assert state.running and not state.done.is_set()
    state.complete("iterations reached")
    state.fail("disk full")
    state.stop("SIGINT")
    assert (state.status, state.reason) == ("completed", "iterations reached")
    assert state.done.is_set()


def test_a_summary_that_cannot_be_written_fails_even_a_finished_run() -> None:
    state = RunState()
    state.stop("SIGTERM")
    state.summary_failed("cannot write run.json")
    assert (state.status, state.reason) == ("failed", "cannot write run.json")
    failed = RunState()
    failed.fail("first")
    failed.summary_failed("second")
    assert failed.reason == "first"


def fleet(state: RunState, slots: int, iterations: int | None = 2) -> ProducerFleet:
    return ProducerFleet(
        {i: ProducerStats(producer_id=i, state="running") for i in range(1, slots + 1)},
        iterations=iterations,
        max_restarts=3,
        token="t",
        log_dir=None,
        log_level="info",
        env={},
        tracer=trace.get_tracer("test"),
        state=state,
    )


def test_the_run_completes_when_every_slot_has_done_its_iterations() -> None:
    state = RunState()
    f = fleet(state, 2)
    for producer_id in (1, 1, 2):
        f.slots[producer_id].add(BatchCounts(candidates=1))
        f.counted(producer_id)
    assert f.slots[1].state == "finished" and f.slots[2].state == "running"
    assert state.running
    f.slots[2].add(BatchCounts())
    f.counted(2)
    assert (state.status, state.reason) == ("completed", "iterations reached")


def test_a_failed_slot_fails_the_run_once_the_others_are_done() -> None:
    state = RunState()
    f = fleet(state, 2, iterations=None)
    f.slots[1].state = "failed"
    f.check_done()
    assert state.running  # slot 2 still works
    f.reported(2, ProducerStatus(producer_id=2, state="finished", detail="done"))
    assert f.slots[2].detail == "done"
    assert (state.status, state.reason) == ("failed", "producer(s) 1 failed after 3 restarts")
