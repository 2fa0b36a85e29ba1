import pytest

from system.levers.saturation import Novelty, SaturationDetector


def test_novelty_window_slides_over_the_latest_batches():
    n = Novelty(window=100)
    n.add(60, 60)
    assert not n.full and n.rate == 1.0
    n.add(60, 0)
    assert n.full and n.rate == 60 / 120
    n.add(60, 0)  # the first batch leaves the window
    assert n.candidates == 120 and n.rate == 0.0
    assert (n.total_candidates, n.total_new) == (180, 60)


def test_not_saturated_before_the_window_is_full():
    d = SaturationDetector(threshold=0.05, window=200)
    assert not d.add(100, 0).saturated
    assert d.add(100, 0).saturated


def test_saturation_needs_the_rate_to_stay_low_for_the_patience():
    now = [0.0]
    d = SaturationDetector(threshold=0.05, window=100, patience_s=10, clock=lambda: now[0])
    assert not d.add(100, 1).saturated  # below, clock starts
    now[0] = 5.0
    assert not d.add(100, 0).saturated
    now[0] = 6.0
    assert not d.add(100, 50).saturated  # novelty came back: the clock resets
    now[0] = 7.0
    assert not d.add(100, 0).saturated
    now[0] = 17.0
    state = d.add(100, 0)
    assert state.saturated and state.rate == 0.0 and state.window_candidates == 100
    assert "saturated: novelty 0.0000 < 0.05" in d.reason()


def test_a_busy_run_is_not_saturated():
    d = SaturationDetector(threshold=0.02, window=100)
    for _ in range(10):
        assert not d.add(60, 10).saturated


def test_batches_after_the_decision_do_not_move_the_reported_novelty():
    d = SaturationDetector(threshold=0.05, window=100)
    assert d.add(100, 1).saturated
    d.add(100, 30)  # a batch still in flight when the run decided to stop
    assert d.rate == 0.01
    assert "saturated: novelty 0.0100 < 0.05" in d.reason()
    d.restart()
    assert d.verdict is None


def requests_to_saturate(seconds_per_request: float, patience: int) -> tuple[int, float]:
    """Requests spent after the novelty fell below, and the seconds they took."""
    now = [0.0]
    d = SaturationDetector(
        threshold=0.05, window=100, clock=lambda: now[0], patience_requests=patience
    )
    spent = 0
    state = d.add(100, 0)  # below: the patience starts after this request
    while not state.saturated and spent < 10 * patience:
        now[0] += seconds_per_request
        spent += 1
        state = d.add(100, 0)
    assert state.requests_below == spent
    return spent, state.seconds_below


def test_patience_in_requests_costs_the_same_on_a_fast_and_a_slow_model():
    """The rate must stay low for N more requests: as many calls whatever the clock does."""
    fast, slow = requests_to_saturate(0.001, 3), requests_to_saturate(5.0, 3)
    assert fast[0] == slow[0] == 3
    assert fast[1] == pytest.approx(0.003) and slow[1] == pytest.approx(15.0)


def test_a_request_with_novelty_starts_the_request_count_over():
    d = SaturationDetector(threshold=0.05, window=100, patience_requests=2)
    assert not d.add(100, 0).saturated
    assert not d.add(100, 0).saturated  # 1 request below
    assert not d.add(100, 50).saturated  # novelty came back
    assert not d.add(100, 0).saturated  # below again: the count starts over
    assert not d.add(100, 0).saturated
    assert d.add(100, 0).saturated


def test_both_patiences_must_pass():
    now = [0.0]
    d = SaturationDetector(
        threshold=0.05, window=100, patience_s=10, clock=lambda: now[0], patience_requests=2
    )
    for _ in range(5):  # many requests, no time
        assert not d.add(100, 0).saturated
    now[0] = 10.0
    assert d.add(100, 0).saturated
