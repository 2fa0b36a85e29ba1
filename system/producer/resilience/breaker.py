"""A per-provider circuit breaker: closed -> open -> half-open -> closed.

Closed: calls flow; ``failure_threshold`` consecutive failures open it.
Open: no calls for ``cooldown_s``; then the next ``allow()`` moves it to
half-open and lets exactly one probe through. Half-open: the probe's success
closes it; its failure opens it again for another cooldown. Time comes from
an injectable clock so the state machine is testable without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


Listener = Callable[[str, State, State], None]  # (breaker name, old, new)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        cooldown_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        listener: Listener | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.listener = listener
        self.state = State.CLOSED
        self.consecutive_failures = 0
        self.opened_at: float | None = None
        self._probe_in_flight = False

    def _move(self, new: State) -> None:
        old, self.state = self.state, new
        if old != new and self.listener is not None:
            self.listener(self.name, old, new)

    def retry_at(self) -> float:
        """When an open breaker will let a probe through (now when not open)."""
        if self.state == State.OPEN and self.opened_at is not None:
            return self.opened_at + self.cooldown_s
        return self._clock()

    def available(self) -> bool:
        """Would ``allow()`` let a call through now? (no state change)"""
        if self.state == State.CLOSED:
            return True
        if self.state == State.HALF_OPEN:
            return not self._probe_in_flight
        return self._clock() >= self.retry_at()

    def allow(self) -> bool:
        """Take permission for one call; an expired open breaker becomes half-open."""
        if self.state == State.OPEN and self._clock() >= self.retry_at():
            self._move(State.HALF_OPEN)
            self._probe_in_flight = False
        if self.state == State.CLOSED:
            return True
        if self.state == State.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._probe_in_flight = False
        if self.state != State.CLOSED:
            self.opened_at = None
            self._move(State.CLOSED)

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        self._probe_in_flight = False
        if self.state == State.HALF_OPEN or (
            self.state == State.CLOSED and self.consecutive_failures >= self.failure_threshold
        ):
            self.opened_at = self._clock()
            self._move(State.OPEN)
