"""The run's live completeness estimate: when to compute it, what to report, when to stop.

``TopicRun`` calls ``on_batch`` after every batch. The estimate
(``completeness``) is recomputed from the sighting table at most every
``INTERVAL_S`` once the table is large (each computation is a few passes over
the count arrays in C: ~5 ms per million items; below ``CHEAP_ITEMS`` items it
is recomputed after every batch). A ``coverage.estimate`` event goes on
``topic.run`` when the estimate has moved by ``EVENT_STEP`` or more (point or
either end of the interval), or ``EVENT_EVERY_S`` after the last one, so the
span carries a bounded history of how the estimate moved.

Levers and the sample: avoid lists and partitions steer the model away from
what was found, so found items come back less often than the model would
return them on its own and the estimator would see an endless supply of
singletons. A steered run therefore makes every ``PROBE_EVERY``-th request of
each producer unsteered (the whole topic, no avoid list: a *probe*) and the
estimate uses only the probes' sightings (``basis`` ``probes``); an unsteered
run uses every request (``basis`` ``all``). Coverage is always of what the
whole run found (docs/ARCHITECTURE.md "Completeness").

``--target-coverage X`` ends the run when the interval's lower bound reaches
X (status ``completed``, reason ``coverage: ...``, event ``run.covered``).
"""

from __future__ import annotations

import time
from typing import Any

from system.dedup.sightings import SightingTable
from system.orchestrator.completeness import Estimate, estimate_from_counts
from system.telemetry import schema as s

__all__ = ["PROBE_EVERY", "CoverageMonitor"]

#: in a steered run, every PROBE_EVERY-th request of a producer is unsteered
PROBE_EVERY = 4
INTERVAL_S = 0.25
CHEAP_ITEMS = 50_000
EVENT_STEP = 0.01
EVENT_EVERY_S = 5.0


def estimate_attributes(e: Estimate) -> dict[str, Any]:
    """Span attributes of an estimate (event and end of ``topic.run`` share the names)."""
    return {
        s.COVERAGE_ESTIMATE: round(e.coverage, 4),
        s.COVERAGE_LOW: round(e.coverage_low, 4),
        s.COVERAGE_HIGH: round(e.coverage_high, 4),
        s.COVERAGE_UNIVERSE: round(e.universe, 1),
        s.COVERAGE_UNIVERSE_LOW: round(e.universe_low, 1),
        s.COVERAGE_UNIVERSE_HIGH: round(e.universe_high, 1),
        s.COVERAGE_FOUND: e.found,
        s.COVERAGE_REQUESTS: e.requests,
        s.COVERAGE_BASIS: e.basis,
        s.COVERAGE_SAMPLE: round(e.sample_coverage, 4),
        s.COVERAGE_SINGLETONS: e.q1,
        s.COVERAGE_DOUBLETONS: e.q2,
    }


class CoverageMonitor:
    def __init__(self, table: SightingTable, *, steered: bool, target: float = 0.0) -> None:
        self.table = table
        self.steered = steered
        self.basis = "probes" if steered else "all"
        self.probe_every = PROBE_EVERY if steered else 0
        self.target = target
        self.current: Estimate | None = None
        self.stopped_by: str | None = None
        self._computed_at = 0.0
        self._last_event: Estimate | None = None
        self._last_event_at = 0.0
        self.events = 0

    def compute(self, found: int) -> Estimate | None:
        t = self.table
        if self.steered:
            self.current = estimate_from_counts(t.probe, t.probe_requests, found, "probes")
        else:
            self.current = estimate_from_counts(t.counts, t.requests, found, "all")
        return self.current

    def on_batch(
        self, found: int, now: float | None = None
    ) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
        """(events for topic.run, the stop reason when the target is reached)."""
        now = time.monotonic() if now is None else now
        if len(self.table) > CHEAP_ITEMS and now - self._computed_at < INTERVAL_S:
            return [], None
        self._computed_at = now
        e = self.compute(found)
        if e is None:
            return [], None
        events: list[tuple[str, dict[str, Any]]] = []
        last = self._last_event
        if (
            last is None
            or now - self._last_event_at >= EVENT_EVERY_S
            or abs(e.coverage - last.coverage) >= EVENT_STEP
            or abs(e.coverage_low - last.coverage_low) >= EVENT_STEP
            or abs(e.coverage_high - last.coverage_high) >= EVENT_STEP
        ):
            events.append((s.EVENT_COVERAGE, estimate_attributes(e)))
            self._last_event, self._last_event_at = e, now
            self.events += 1
        reason = None
        if self.target > 0 and self.stopped_by is None and e.coverage_low >= self.target:
            reason = (
                f"coverage: estimated coverage {e.coverage_low:.3f} (lower bound; estimate "
                f"{e.coverage:.3f}) >= target {self.target:g}, "
                f"~{e.universe:.0f} items reachable"
            )
            self.stopped_by = reason
            events.append((s.EVENT_COVERED, estimate_attributes(e)))
        return events, reason

    def summary(self, found: int) -> dict[str, Any]:
        """run.json ``coverage``: the estimate at the end, the sample and the rule."""
        e = self.compute(found)
        return {
            "basis": self.basis,
            "probe_every": self.probe_every,
            "requests": self.table.requests,
            "probe_requests": self.table.probe_requests,
            "target": self.target or None,
            "estimate": e.to_dict() if e is not None else None,
            "events": self.events,
        }
