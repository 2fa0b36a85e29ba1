"""In-memory, thread-safe span store with indexes by trace, service and name."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from tester.collector.spans import Span

log = logging.getLogger(__name__)


class SpanStore:
    def __init__(self, max_spans: int = 1_000_000) -> None:
        self.max_spans = max_spans
        self.dropped = 0
        self._spans: list[Span] = []
        self._by_trace: dict[str, list[Span]] = {}
        self._by_service: dict[str, list[Span]] = {}
        self._by_name: dict[str, list[Span]] = {}
        self._trace_arrival: dict[str, float] = {}
        self._last_arrival: float | None = None
        self._cond = threading.Condition()
        self._subscribers: list[Callable[[Span], None]] = []

    def add(self, spans: Iterable[Span]) -> None:
        added: list[Span] = []
        with self._cond:
            now = time.monotonic()
            for span in spans:
                if len(self._spans) >= self.max_spans:
                    self.dropped += 1
                    continue
                self._spans.append(span)
                self._by_trace.setdefault(span.trace_id, []).append(span)
                self._by_service.setdefault(span.service_name, []).append(span)
                self._by_name.setdefault(span.name, []).append(span)
                self._trace_arrival[span.trace_id] = now
                added.append(span)
            if added:
                self._last_arrival = now
                self._cond.notify_all()
            subscribers = list(self._subscribers)
        for span in added:
            for callback in subscribers:
                try:
                    callback(span)
                except Exception:
                    log.exception("span subscriber failed")

    def all(self) -> list[Span]:
        with self._cond:
            return list(self._spans)

    def by_trace(self, trace_id: str) -> list[Span]:
        with self._cond:
            return list(self._by_trace.get(trace_id, ()))

    def by_service(self, service_name: str) -> list[Span]:
        with self._cond:
            return list(self._by_service.get(service_name, ()))

    def by_name(self, name: str) -> list[Span]:
        with self._cond:
            return list(self._by_name.get(name, ()))

    def find(self, predicate: Callable[[Span], bool]) -> list[Span]:
        return [s for s in self.all() if predicate(s)]

    def __len__(self) -> int:
        with self._cond:
            return len(self._spans)

    @property
    def last_arrival(self) -> float | None:
        return self._last_arrival

    def wait_for(
        self, predicate: Callable[[Span], bool], timeout: float, count: int = 1
    ) -> list[Span]:
        """Block until ``count`` spans match (or the timeout); return all matches."""
        deadline = time.monotonic() + timeout
        checked = 0
        matches: list[Span] = []
        with self._cond:
            while True:
                matches.extend(s for s in self._spans[checked:] if predicate(s))
                checked = len(self._spans)
                remaining = deadline - time.monotonic()
                if len(matches) >= count or remaining <= 0:
                    return matches
                self._cond.wait(remaining)

    def wait_quiet(self, quiet_for: float, timeout: float, trace_id: str | None = None) -> bool:
        """True once no span (of ``trace_id``, if given) has arrived for ``quiet_for`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                last = self._trace_arrival.get(trace_id) if trace_id else self._last_arrival
                now = time.monotonic()
                if last is not None and now >= last + quiet_for:
                    return True
                if last is None and trace_id is None:
                    return True
                if now >= deadline:
                    return False
                wake = deadline if last is None else min(deadline, last + quiet_for)
                self._cond.wait(max(0.01, wake - now))

    def subscribe(self, callback: Callable[[Span], None]) -> Callable[[], None]:
        with self._cond:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._cond:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def clear(self) -> None:
        with self._cond:
            self._spans.clear()
            self._by_trace.clear()
            self._by_service.clear()
            self._by_name.clear()
            self._trace_arrival.clear()
            self._last_arrival = None
