"""Giving up on a run whose producers have had no provider for too long.

Producers report ``degraded`` when every provider is unreachable and
``running`` (or simply a batch) when one answers again. The run has no
healthy producer while every connected producer is degraded; once that has
lasted ``limit_s`` (``--max-degraded-s``) the run fails with a clear reason
instead of waiting for probes forever. 0 turns the limit off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from system.orchestrator.outbox import Recipients
from system.orchestrator.run_state import RunState


class DegradedWatch:
    def __init__(self, limit_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_s = limit_s
        self._clock = clock
        self._since: dict[int, float] = {}  # producer id -> degraded since
        self.last_detail = ""

    def mark(self, producer_id: int, degraded: bool, detail: str = "") -> None:
        if degraded:
            self._since.setdefault(producer_id, self._clock())
            self.last_detail = detail or self.last_detail
        else:
            self._since.pop(producer_id, None)

    def forget(self, producer_id: int) -> None:
        self._since.pop(producer_id, None)

    def all_degraded_since(self, connected: Iterable[int]) -> float | None:
        """Since when every connected producer is degraded (None: some are healthy)."""
        ids = list(connected)
        if not ids or any(i not in self._since for i in ids):
            return None
        return max(self._since[i] for i in ids)

    def remaining(self, connected: Iterable[int]) -> float | None:
        """Seconds until the limit is reached (<= 0: reached); None: not degraded or no limit."""
        if self.limit_s <= 0:
            return None
        since = self.all_degraded_since(connected)
        return None if since is None else since + self.limit_s - self._clock()

    def check(self, server: Recipients, state: RunState) -> None:
        """Fail the run once the limit is reached; until then, look again when it would be."""
        remaining = self.remaining(server.connections)
        if remaining is None or not state.running:
            return
        if remaining <= 0:
            state.fail(self.reason())
        else:
            asyncio.get_running_loop().call_later(remaining + 0.05, self.check, server, state)

    def reason(self) -> str:
        detail = f" (last: {self.last_detail})" if self.last_detail else ""
        return f"no LLM provider reachable for {self.limit_s:g}s (--max-degraded-s){detail}"
