"""run.json: what a topic run did, as one JSON object (docs/tracing.md documents it).

Written while the run goes (status "running": a crash leaves a truthful
file) and once at its end; tests and the tester read ``counts``,
``producers`` and ``providers``, so their shape is fixed (stats.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from system.orchestrator.config import RunConfig
from system.orchestrator.stats import RunStats


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def run_summary(
    *,
    run_id: str,
    trace_id: str | None,
    config: RunConfig,
    status: str,
    reason: str,
    stats: RunStats,
    levers: dict[str, Any],
    coverage: dict[str, Any],
    support_path: Path,
) -> dict[str, Any]:
    st = stats
    duration = (st.ended_wall or time.time()) - st.started_wall
    return {
        "run_id": run_id,
        "trace_id": trace_id,
        "topic": config.topic,
        "slug": config.slug,
        "status": status,
        "reason": reason,
        "config": config.to_dict(),
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
        "levers": levers,
        "coverage": coverage,
        "files": {
            "attributes": str(config.attributes_path),
            "support": str(support_path),
        },
    }
