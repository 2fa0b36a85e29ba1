"""The saturation lever: the run is done when almost nothing new turns up any more.

The novelty rate is new uniques per *generated* candidate (before any
producer-side pre-filter dropped known ones) over a sliding window of the
most recent batches holding at least ``window`` candidates. A ``Novelty``
tracks one stream (the whole run, or one partition); ``SaturationDetector``
says the run is saturated when the overall rate has stayed below
``threshold`` with a full window for ``patience_requests`` requests (batches
after the one that first fell below) and ``patience_s`` seconds: patience in
requests costs the same number of LLM calls whatever the model's speed.

``SaturationLever`` (open-ended runs with ``--saturation`` above 0) feeds
every batch to the detector. Saturated, it first offers the other levers a
way on (``Lever.on_saturated``: partitions answer with a last round on the
whole topic, and the window starts over); when none takes it, the batch's
effects carry the stop reason and a ``run.saturated`` event. Partitions
keep a ``Novelty`` of their own (``system.levers.partitions``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from system.levers.base import BatchEffects, Lever, LeverRun, generated
from system.protocol import AttributeBatch
from system.telemetry import schema as s

__all__ = ["Novelty", "SaturationDetector", "SaturationLever"]


class Novelty:
    """New uniques per candidate over the latest batches worth ``window`` candidates."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self._batches: deque[tuple[int, int]] = deque()
        self._candidates = 0
        self._new = 0
        self.total_candidates = 0
        self.total_new = 0

    def add(self, candidates: int, new: int) -> None:
        if candidates <= 0 and new <= 0:
            return
        self._batches.append((candidates, new))
        self._candidates += candidates
        self._new += new
        self.total_candidates += candidates
        self.total_new += new
        # drop old batches while the rest still fills the window
        while self._batches and self._candidates - self._batches[0][0] >= self.window:
            old_c, old_n = self._batches.popleft()
            self._candidates -= old_c
            self._new -= old_n

    @property
    def full(self) -> bool:
        return self._candidates >= self.window

    @property
    def candidates(self) -> int:
        return self._candidates

    @property
    def rate(self) -> float:
        """New per candidate in the window (1.0 before anything was seen)."""
        return self._new / self._candidates if self._candidates else 1.0


@dataclass
class SaturationState:
    saturated: bool
    rate: float
    window_candidates: int
    #: requests (batches) and seconds since the rate fell below the threshold
    requests_below: int = 0
    seconds_below: float = 0.0


class SaturationDetector:
    """Overall novelty below ``threshold`` on a full window for ``patience_requests``
    more requests and ``patience_s`` seconds."""

    def __init__(
        self,
        threshold: float,
        window: int,
        patience_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        patience_requests: int = 0,
    ) -> None:
        self.threshold = threshold
        self.patience_s = patience_s
        self.patience_requests = patience_requests
        self.novelty = Novelty(window)
        self._clock = clock
        self._below_since: float | None = None
        self._requests_below = 0
        self.verdict: SaturationState | None = None  # the state when it first fired

    @property
    def rate(self) -> float:
        """Novelty at the decision once saturated (late batches don't move it), else now."""
        return self.verdict.rate if self.verdict is not None else self.novelty.rate

    def add(self, candidates: int, new: int) -> SaturationState:
        self.novelty.add(candidates, new)
        return self.check(request=True)

    def check(self, *, request: bool = False) -> SaturationState:
        """``request``: a request's batch just arrived (it counts toward the patience)."""
        n = self.novelty
        below = n.full and n.rate < self.threshold
        now = self._clock()
        if not below:
            self._below_since = None
            self._requests_below = 0
        elif self._below_since is None:
            self._below_since = now  # the first batch below: the patience starts after it
        elif request:
            self._requests_below += 1
        seconds = 0.0 if self._below_since is None else now - self._below_since
        saturated = (
            below and seconds >= self.patience_s and self._requests_below >= self.patience_requests
        )
        state = SaturationState(saturated, n.rate, n.candidates, self._requests_below, seconds)
        if saturated and self.verdict is None:
            self.verdict = state
        return state

    def restart(self) -> None:
        """Forget the window (the producers' assignments changed)."""
        self.novelty = Novelty(self.novelty.window)
        self._below_since = None
        self._requests_below = 0
        self.verdict = None

    def reason(self) -> str:
        v = self.verdict or SaturationState(False, self.novelty.rate, self.novelty.candidates)
        return (
            f"saturated: novelty {v.rate:.4f} < {self.threshold:g} new per candidate "
            f"over the last {v.window_candidates} candidates"
        )


class SaturationLever(Lever):
    name = "saturation"

    def __init__(self, run: LeverRun) -> None:
        c = run.config
        self.detector = SaturationDetector(
            c.saturation,
            run.window,
            c.saturation_patience_s,
            patience_requests=c.saturation_patience_requests,
        )
        self._run = run

    @classmethod
    def build(cls, run: LeverRun) -> SaturationLever | None:
        return cls(run) if run.open_ended and run.config.saturation > 0 else None

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        d = self.detector
        decided = d.verdict is not None  # batches in flight at the stop: no second event
        state = d.add(generated(batch), len(new))
        if not state.saturated:
            return BatchEffects()
        if decided:
            return BatchEffects(saturated=d.reason())
        detail = f"run novelty {state.rate:.4f} < {d.threshold:g}"
        for lever in self._run.levers:
            instead = lever.on_saturated(detail)
            if instead is not None:
                d.restart()
                return instead
        attributes = {
            s.SATURATION_RATE: round(state.rate, 5),
            s.SATURATION_WINDOW: state.window_candidates,
            s.SATURATION_REQUESTS_BELOW: state.requests_below,
            s.SATURATION_SECONDS_BELOW: round(state.seconds_below, 3),
        }
        return BatchEffects(events=[(s.EVENT_SATURATED, attributes)], saturated=d.reason())

    @property
    def rate(self) -> float:
        return self.detector.rate

    def summary(self) -> dict[str, Any]:
        d = self.detector
        return {
            "saturation": {
                "threshold": d.threshold,
                "window": d.novelty.window,
                "patience_s": d.patience_s,
                "patience_requests": d.patience_requests,
                "novelty": round(d.rate, 5),
            }
        }
