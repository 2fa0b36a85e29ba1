"""Carrying out what the levers and the completeness estimate decide, batch by batch.

``Discovery`` (the levers) and ``CoverageMonitor`` (coverage.py) decide;
``Steering`` acts: addressed updates and the delta of new uniques go to the
outbox, decisions become events on the ``topic.run`` span, a sub-topic
request gets its timeout, saturation and ``--target-coverage`` complete the
run, and every ``REWEIGHT_EVERY`` batches the providers' weights move toward
the better yield (``--adaptive-weights``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import trace

from system.levers.base import BatchEffects
from system.levers.provider_weights import AdaptiveWeights
from system.orchestrator.config import RunConfig
from system.orchestrator.coverage import CoverageMonitor
from system.orchestrator.discovery import Discovery
from system.orchestrator.outbox import Outbox
from system.orchestrator.stats import RunStats
from system.protocol import UpdateConfiguration
from system.telemetry import schema as s

log = logging.getLogger(__name__)

REWEIGHT_EVERY = 10  # batches between looks at the providers' yields


def adaptive_weights(config: RunConfig) -> AdaptiveWeights | None:
    """The reweighting of ``--adaptive-weights``, when there are providers to weigh."""
    if config.adaptive_weights and len(config.providers) > 1:
        return AdaptiveWeights({spec.name: spec.weight for spec in config.providers})
    return None


class Steering:
    def __init__(
        self,
        discovery: Discovery,
        coverage: CoverageMonitor,
        outbox: Outbox,
        stats: RunStats,
        *,
        weights: AdaptiveWeights | None,
        complete: Callable[[str], None],
        active: Callable[[], bool],
    ) -> None:
        self.discovery = discovery
        self.coverage = coverage
        self.weights = weights
        self._outbox = outbox
        self._stats = stats
        self._complete = complete
        self._active = active  # running, and not stopping
        #: the ``topic.run`` span, once the run has one: the decisions' events go on it
        self.root_span: trace.Span | None = None

    def apply(self, effects: BatchEffects) -> None:
        """Queue the levers' updates, record their decisions, stop when saturated."""
        if effects.updates:
            self._outbox.queue(effects.updates)
        if self.discovery.has_delta:
            self._outbox.wake()
        self._events(effects.events)
        for request_id in effects.subtopic_requests:
            assert self.discovery.subtopics is not None
            asyncio.get_running_loop().call_later(
                self.discovery.subtopics.timeout_s, self._subtopics_timeout, request_id
            )
        if effects.saturated:
            self._complete(effects.saturated)

    def after_batch(self) -> None:
        """A batch has been counted: the providers' weights, the live estimate."""
        if self.weights is not None and self._stats.batches % REWEIGHT_EVERY == 0:
            self._reweight(self.weights)
        events, covered = self.coverage.on_batch(self._stats.resumed + self._stats.unique)
        if self.coverage.current is not None:
            self._stats.coverage = self.coverage.current.interval_text()
        self._events(events)
        if covered:
            self._complete(covered)

    def _subtopics_timeout(self, request_id: int) -> None:
        if self._active():
            self.apply(self.discovery.subtopics_timeout(request_id))

    def _reweight(self, weights: AdaptiveWeights) -> None:
        proposed = weights.propose(self._stats.providers)
        if proposed is None:
            return
        log.info("provider weights now %s (by unique attributes per token)", proposed)
        self._events([(s.EVENT_PROVIDERS_REWEIGHT, {s.PROVIDER_WEIGHTS: json.dumps(proposed)})])
        self._outbox.queue_to_all(UpdateConfiguration(provider_weights=proposed))

    def _events(self, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
        if self.root_span is not None:
            for name, attributes in events:
                self.root_span.add_event(name, attributes)
