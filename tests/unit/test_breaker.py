from system.producer.resilience.breaker import CircuitBreaker, State


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(threshold: int = 3, cooldown: float = 10.0):
    clock, changes = Clock(), []
    breaker = CircuitBreaker(
        "p",
        failure_threshold=threshold,
        cooldown_s=cooldown,
        clock=clock,
        listener=lambda name, old, new: changes.append((name, old, new)),
    )
    return breaker, clock, changes


def test_opens_after_threshold_consecutive_failures():
    breaker, _, changes = make(threshold=3)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # resets the count
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == State.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state == State.OPEN
    assert not breaker.allow() and not breaker.available()
    assert changes == [("p", State.CLOSED, State.OPEN)]


def test_half_open_after_cooldown_lets_one_probe_through():
    breaker, clock, _ = make(threshold=1, cooldown=5)
    breaker.record_failure()
    assert breaker.retry_at() == 105.0
    clock.now = 104.9
    assert not breaker.allow()
    clock.now = 105.0
    assert breaker.available()
    assert breaker.allow()  # the probe
    assert breaker.state == State.HALF_OPEN
    assert not breaker.allow() and not breaker.available()  # only one probe at a time


def test_probe_success_closes_and_failure_reopens():
    breaker, clock, changes = make(threshold=1, cooldown=5)
    breaker.record_failure()
    clock.now += 5
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == State.OPEN and breaker.retry_at() == clock.now + 5
    clock.now += 5
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == State.CLOSED and breaker.consecutive_failures == 0
    assert [new for _, _, new in changes] == [
        State.OPEN, State.HALF_OPEN, State.OPEN, State.HALF_OPEN, State.CLOSED
    ]  # fmt: skip
