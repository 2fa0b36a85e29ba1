"""What the webserver remembers between requests: live run state for the UI.

Fed by the orchestrator's pushed events; read by the event stream (SSE).
Per run it keeps the latest snapshot, a bounded time series for the charts
and the newest attributes; slow browsers lose old events, never the server's
memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_POINTS = 1200
RECENT_ATTRIBUTES = 100
SUBSCRIBER_QUEUE = 256
MAX_RUNS = 100  # like the orchestrator, remember the newest runs only


@dataclass
class RunView:
    snapshot: dict[str, Any]
    # [t, unique, candidates, dups, prefiltered]: this run's counts (resumed lines excluded)
    series: list[list[float]] = field(default_factory=list)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_ATTRIBUTES))

    def add_point(self, snapshot: dict[str, Any]) -> None:
        counts = snapshot.get("counts", {})
        point = [
            float(snapshot.get("elapsed_s", 0.0)),
            float(counts.get("unique", 0)),
            float(counts.get("candidates", 0)),
            float(counts.get("duplicates", 0)),
            float(counts.get("prefiltered", 0)),
        ]
        if self.series and self.series[-1][1:] == point[1:] and snapshot.get("state") == "running":
            return
        self.series.append(point)
        if len(self.series) > MAX_POINTS:
            self.series = self.series[::2]  # keep the whole run, at half the resolution


class LiveState:
    def __init__(self) -> None:
        self.runs: dict[str, RunView] = {}
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def on_run(self, run_id: str, snapshot: dict[str, Any]) -> None:
        view = self.runs.get(run_id)
        if view is None:
            view = self.runs[run_id] = RunView(snapshot)
            for old in list(self.runs)[: max(0, len(self.runs) - MAX_RUNS)]:
                del self.runs[old]
        view.snapshot = snapshot
        view.add_point(snapshot)
        self._publish({"event": "run", "run_id": run_id, "data": snapshot})

    def on_attributes(self, run_id: str, body: dict[str, Any]) -> None:
        view = self.runs.get(run_id)
        items = [i for i in body.get("items", []) if isinstance(i, str)]
        if view is not None:
            view.recent.extend(items)
        self._publish({"event": "attributes", "run_id": run_id, "data": {**body, "items": items}})

    def view(self, run_id: str) -> dict[str, Any] | None:
        view = self.runs.get(run_id)
        if view is None:
            return None
        return {
            "run": view.snapshot,
            "series": view.series,
            "recent": list(view.recent),
        }

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_QUEUE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def _publish(self, event: dict[str, Any]) -> None:
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()  # a slow browser loses its oldest event
            queue.put_nowait(event)
