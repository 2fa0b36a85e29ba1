"""The run's live completeness estimate: when to compute it, what to report, when to stop.

``TopicRun`` calls ``on_batch`` after every batch. The estimate
(``completeness``) is recomputed from the sighting table's running frequency
counts (``SightingTable.freq``: O(1) per estimate) after every batch, at most
every ``INTERVAL_S`` once the table holds more than ``CHEAP_ITEMS`` items. A
``coverage.estimate`` event goes on ``topic.run`` when the estimate has moved
by ``EVENT_STEP`` or more (point or either end of the interval), or
``EVENT_EVERY_S`` after the last one, so the span carries a bounded history
of how the estimate moved.

Levers and the sample: the estimate uses every request of the run
(``basis`` ``all``), with the candidates the producers' pre-filter dropped
counted as sightings. Avoid lists and partitions make repeats rarer on
purpose; docs/ARCHITECTURE.md "Completeness" says why an unsteered share of
probe requests was measured and not kept, and benchmarks/completeness/ gives
the bias per lever.

``--target-coverage X`` ends the run (status ``completed``, reason
``coverage: ...``, event ``run.covered``) when the estimate's ``stop_low``
(the 95% interval's low end, ``completeness.Z_STOP``) has been at least X at
every look over the last ``STOP_WINDOW`` share of the run's requests
(``StopRule``): at request m, every estimate made since request m / 1.1.
One look's bound is noisy and the run looks after every batch, so the first
crossing of a single bound is mostly an upward jitter; the window asks the
bound to hold while the sample grew by 10%. The completeness module and
benchmarks/completeness/ say what that was measured to keep, and cost.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from system.dedup.sightings import SightingTable
from system.orchestrator.completeness import Estimate, estimate_from_table
from system.telemetry import schema as s

__all__ = ["STOP_WINDOW", "CoverageMonitor", "StopRule", "estimate_attributes"]

INTERVAL_S = 0.25
CHEAP_ITEMS = 50_000
EVENT_STEP = 0.01
EVENT_EVERY_S = 5.0
#: the stop's bound must hold at every look since request m / STOP_WINDOW
STOP_WINDOW = 1.1


class StopRule:
    """The ``--target-coverage`` judgement over the run's looks (module docstring)."""

    def __init__(self, window: float = STOP_WINDOW) -> None:
        self.window = window
        #: (requests, stop_low) of the looks that can still be the least one: in order,
        #: their stop_low rising (a look with a lower, later one after it never is)
        self._looks: deque[tuple[int, float]] = deque()

    def look(self, requests: int, stop_low: float) -> float:
        """The bound the stop judges after this look: the least ``stop_low`` of the
        looks since ``requests / window``."""
        looks = self._looks
        while looks and looks[-1][1] >= stop_low:
            looks.pop()
        looks.append((requests, stop_low))
        while looks[0][0] < requests / self.window:
            looks.popleft()
        return looks[0][1]


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
    def __init__(self, table: SightingTable, *, target: float = 0.0) -> None:
        self.table = table
        self.target = target
        self.current: Estimate | None = None
        self.stopped_by: str | None = None
        self._computed_at = 0.0
        self._last_event: Estimate | None = None
        self._last_event_at = 0.0
        self.events = 0
        self.rule = StopRule()

    def compute(self, found: int) -> Estimate | None:
        t = self.table
        self.current = estimate_from_table(t.freq, t.total, t.requests, found)
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
            events.append(
                (
                    s.EVENT_COVERAGE,
                    {**estimate_attributes(e), s.COVERAGE_RUN_REQUESTS: self.table.requests},
                )
            )
            self._last_event, self._last_event_at = e, now
            self.events += 1
        reason = None
        if self.target <= 0 or self.stopped_by is not None:
            return events, None  # no stop to judge: the looks need not be kept
        low = self.rule.look(e.requests, e.stop_low)
        if low >= self.target:
            reason = (
                f"coverage: estimated coverage {low:.3f} (95% interval's low end, held since "
                f"request {e.requests / self.rule.window:.0f}; estimate "
                f"{e.coverage:.3f}) >= target {self.target:g}, "
                f"~{e.universe:.0f} items reachable"
            )
            self.stopped_by = reason
            events.append((s.EVENT_COVERED, {**estimate_attributes(e), s.COVERAGE_STOP_LOW: low}))
        return events, reason

    def summary(self, found: int) -> dict[str, Any]:
        """run.json ``coverage``: the estimate at the end, the sample and the rule."""
        e = self.compute(found)
        return {
            "basis": "all",
            "requests": self.table.requests,
            "target": self.target or None,
            "estimate": e.to_dict() if e is not None else None,
            "events": self.events,
        }
