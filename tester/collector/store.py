"""In-memory, thread-safe span store with indexes by trace, service and name."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from tester.collector.spans import Span, span_size

log = logging.getLogger(__name__)

DEFAULT_MAX_SPANS = 1_000_000
#: what the stored spans may hold in all (``spans.span_size``: names, attributes, events)
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class SpanStore:
    """Spans in arrival order, indexed, with blocking waits and subscriptions.

    A span that would take the store beyond ``max_spans`` spans or ``max_bytes`` bytes
    (``spans.span_size``) is dropped, and counted in ``dropped`` and ``dropped_bytes``,
    so a runaway producer (many spans, or a few with huge attributes) cannot exhaust
    the tester's memory. A run judged on a store that dropped spans was judged on
    partial data: the tester says so in the scenario's verdict.
    """

    def __init__(
        self, max_spans: int = DEFAULT_MAX_SPANS, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_spans < 0:
            raise ValueError(f"max_spans must be >= 0, not {max_spans}")
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, not {max_bytes}")
        self.max_spans = max_spans
        self.max_bytes = max_bytes
        self.bytes = 0  # what the stored spans hold (span_size)
        self.dropped = 0
        self.dropped_bytes = 0
        # Reentrant, so a wait_for predicate or a subscriber may call back into the store.
        self._cond = threading.Condition(threading.RLock())
        self._spans: list[Span] = []
        self._by_trace: dict[str, list[Span]] = {}
        self._by_service: dict[str, list[Span]] = {}
        self._by_name: dict[str, list[Span]] = {}
        self._trace_arrival: dict[str, float] = {}
        self._last_arrival: float | None = None
        self._generation = 0  # bumped by clear(), so waiters rescan
        self._subscribers: dict[int, Callable[[Span], None]] = {}
        self._next_token = 0

    # ------------------------------------------------------------- writing
    def add(self, spans: Iterable[Span]) -> None:
        """Store the spans, wake waiters, then call subscribers (outside the lock)."""
        added: list[Span] = []
        with self._cond:
            now = time.monotonic()
            for span in spans:
                size = span_size(span)
                if len(self._spans) >= self.max_spans or self.bytes + size > self.max_bytes:
                    if not self.dropped:
                        log.warning(
                            "span store full (%d spans, %d bytes; caps %d spans, %d bytes): "
                            "dropping spans",
                            len(self._spans), self.bytes, self.max_spans, self.max_bytes,
                        )  # fmt: skip
                    self.dropped += 1
                    self.dropped_bytes += size
                    continue
                self.bytes += size
                self._spans.append(span)
                self._by_trace.setdefault(span.trace_id, []).append(span)
                self._by_service.setdefault(span.service_name, []).append(span)
                self._by_name.setdefault(span.name, []).append(span)
                self._trace_arrival[span.trace_id] = now
                added.append(span)
            if not added:
                return
            self._last_arrival = now
            self._cond.notify_all()
            subscribers = list(self._subscribers.values())
        for span in added:
            for callback in subscribers:
                try:
                    callback(span)
                except Exception:
                    log.exception("span subscriber %r failed on span %r", callback, span.name)

    def clear(self) -> None:
        """Forget every span (and the dropped counts); subscribers stay subscribed."""
        with self._cond:
            self._spans = []
            self._by_trace.clear()
            self._by_service.clear()
            self._by_name.clear()
            self._trace_arrival.clear()
            self._last_arrival = None
            self.bytes = self.dropped = self.dropped_bytes = 0
            self._generation += 1
            self._cond.notify_all()

    def subscribe(self, callback: Callable[[Span], None]) -> Callable[[], None]:
        """Call ``callback(span)`` for each span added from now on; returns unsubscribe.

        Callbacks run on the receiving thread, possibly concurrently; their exceptions
        are logged, never raised into the receiver.
        """
        with self._cond:
            token = self._next_token
            self._next_token += 1
            self._subscribers[token] = callback

        def unsubscribe() -> None:
            with self._cond:
                self._subscribers.pop(token, None)

        return unsubscribe

    # ------------------------------------------------------------- reading
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

    def __repr__(self) -> str:
        return f"<SpanStore spans={len(self)} bytes={self.bytes} dropped={self.dropped}>"

    def dropped_note(self) -> str | None:
        """One line saying what was dropped (None if nothing was): judgements on partial data."""
        if not self.dropped:
            return None
        return (
            f"span store dropped {self.dropped} span(s), {self.dropped_bytes / 2**20:.1f} MiB, "
            f"over its caps ({self.max_spans} spans, {self.max_bytes / 2**20:.0f} MiB): "
            "the checks judged partial data"
        )

    @property
    def last_arrival(self) -> float | None:
        """``time.monotonic()`` of the last add that stored a span; None when empty."""
        with self._cond:
            return self._last_arrival

    # ------------------------------------------------------------- waiting
    def wait_for(
        self, predicate: Callable[[Span], bool], timeout: float, count: int = 1
    ) -> list[Span]:
        """Block until ``count`` spans match (or ``timeout`` seconds pass); return all matches.

        On timeout the result holds fewer than ``count`` spans. Each span is tested once,
        outside the store's lock, so a slow predicate does not hold up the receivers.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        generation = -1
        checked = 0
        matches: list[Span] = []
        while True:
            with self._cond:
                while generation == self._generation and len(self._spans) == checked:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return matches
                    self._cond.wait(remaining)
                if generation != self._generation:  # first pass, or cleared meanwhile
                    generation, checked, matches = self._generation, 0, []
                new = self._spans[checked:]
                checked += len(new)
            matches.extend(s for s in new if predicate(s))
            if len(matches) >= count or time.monotonic() >= deadline:
                return matches

    def wait_quiet(self, quiet_for: float, timeout: float, trace_id: str | None = None) -> bool:
        """True once no new span has arrived for ``quiet_for`` seconds; False on timeout.

        With ``trace_id``, only that trace's spans count, and at least one must have
        arrived. Without it, an empty store is quiet ``quiet_for`` seconds after the call.
        """
        start = time.monotonic()
        deadline = start + max(0.0, timeout)
        with self._cond:
            while True:
                last: float | None
                if trace_id is None:
                    last = self._last_arrival if self._last_arrival is not None else start
                else:
                    last = self._trace_arrival.get(trace_id)
                now = time.monotonic()
                if last is not None and now - last >= quiet_for:
                    return True
                if now >= deadline:
                    return False
                wake = deadline if last is None else min(deadline, last + quiet_for)
                self._cond.wait(wake - now)
