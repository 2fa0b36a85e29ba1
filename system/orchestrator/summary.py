"""What a topic run says about itself: run.json and its ``topic.run`` span's attributes.

run.json is written while the run goes (status "running": a crash leaves a
truthful file) and once at its end; tests and the tester read ``counts``,
``producers`` and ``providers``, so their shape is fixed (stats.py).
docs/tracing.md documents both.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opentelemetry.util.types import AttributeValue

from system.orchestrator.config import RunConfig
from system.orchestrator.coverage import estimate_attributes
from system.telemetry import schema as s

if TYPE_CHECKING:
    from system.orchestrator.run import TopicRun


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


#: the support the end-of-run summary's trusted count asks for (export-attributes --min-support)
TRUSTED_SUPPORT = 2


def trusted(freq: list[int]) -> dict[str, int]:
    """Items seen by ``TRUSTED_SUPPORT`` requests or more (``freq[k]``: items seen exactly
    k times, ``freq[5]`` 5 times or more; see ``SightingTable.freq``)."""
    return {"min_support": TRUSTED_SUPPORT, "items": sum(freq[TRUSTED_SUPPORT:])}


def run_summary(run: TopicRun) -> dict[str, Any]:
    """run.json."""
    st = run.stats
    duration = (st.ended_wall or time.time()) - st.started_wall
    return {
        "run_id": run.run_id,
        "trace_id": run.trace_id,
        "topic": run.config.topic,
        "slug": run.config.slug,
        "status": run.status,
        "reason": run.reason,
        "config": run.config.to_dict(),
        "counts": st.counts(),
        "timings": {
            "started_at": _iso(st.started_wall),
            "ended_at": _iso(st.ended_wall),
            "duration_s": round(duration, 3),
            "unique_per_s": round(st.unique / duration, 2) if duration > 0 else 0.0,
            **st.ingest(),
        },
        "producers": [p.to_dict() for p in st.producers.values()],
        "providers": {name: p.to_dict() for name, p in st.providers.items()},
        "levers": run.discovery.summary(),
        "coverage": run.coverage.summary(st.resumed + st.unique),
        "trusted": trusted(run.index.sightings.freq),
        "files": {
            "attributes": str(run.config.attributes_path),
            "support": str(run.support.path),
        },
    }


def start_attributes(config: RunConfig, run_id: str, resumed: int) -> dict[str, AttributeValue]:
    """The ``topic.run`` span's attributes at its start."""
    return {
        s.TOPIC_NAME: config.topic,
        s.TOPIC_SLUG: config.slug,
        s.RUN_ID: run_id,
        s.RUN_PRODUCERS: config.producers,
        s.RUN_ITERATIONS: config.iterations if config.iterations else -1,
        s.RUN_REQUEST_SIZE: config.request_size,
        s.RUN_PROVIDER: config.provider,
        s.RUN_OUTPUT_FILE: str(config.attributes_path),
        s.RUN_RESUMED: resumed,
        s.RUN_LEVERS: ",".join(config.levers.enabled()),
    }


def final_attributes(run: TopicRun) -> dict[str, AttributeValue]:
    """The ``topic.run`` span's attributes at its end: the outcome and the counts."""
    stats, discovery = run.stats, run.discovery
    attributes: dict[str, AttributeValue] = {
        s.RUN_STATUS: run.status,
        s.RUN_STOP_REASON: run.reason,
        s.RUN_UNIQUE: stats.unique,
        s.RUN_CANDIDATES: stats.candidates,
        s.RUN_DUPLICATES: stats.duplicates,
        s.RUN_REJECTED: stats.rejected,
        s.RUN_BATCHES: stats.batches,
        s.RUN_RESTARTS: stats.restarts,
        s.RUN_PREFILTERED: discovery.prefiltered,
        s.RUN_NEAR_DUPLICATES: discovery.near_duplicate_count,
        s.RUN_DELTA_PUSHES: discovery.delta_pushes,
    }
    if discovery.novelty is not None:
        attributes[s.RUN_NOVELTY] = round(discovery.novelty, 5)
    final = run.coverage.compute(stats.resumed + stats.unique)
    if final is not None:
        attributes.update(estimate_attributes(final))
    return attributes
