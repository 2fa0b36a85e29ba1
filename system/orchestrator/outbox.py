"""What the orchestrator pushes to running producers, sent by one task.

Two kinds of ``UpdateConfiguration`` go out: the delta of new uniques (the
shared-state and pre-filter levers; every connected producer gets it) and
addressed updates (a partition, provider weights) the levers queue. Both are
gathered for ``DELTA_INTERVAL_S`` after the first wake-up, so a burst of
batches costs one delta message (chunked at ``DELTA_CHUNK`` uniques), and
they leave in one order: the delta first, then the updates in queue order.
Every message carries the trace context of the moment it is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Protocol

from system.protocol import Message, UpdateConfiguration
from system.telemetry import current_context_carrier

#: new uniques gathered this long go to producers as one delta message
DELTA_INTERVAL_S = 0.05
#: at most this many new uniques per delta message (frames are capped at 8 MiB)
DELTA_CHUNK = 5000


class Recipients(Protocol):
    """The producer endpoint as the outbox uses it (server.py's ProducerServer)."""

    @property
    def connections(self) -> Iterable[int]: ...

    async def send(self, producer_id: int, message: Message) -> bool: ...


class Outbox:
    def __init__(self, server: Recipients, take_delta: Callable[[], list[str]]) -> None:
        self._server = server
        self._take_delta = take_delta
        self._updates: list[tuple[int, Message]] = []
        self._wake = asyncio.Event()

    def queue(self, updates: Iterable[tuple[int, Message]]) -> None:
        """Addressed updates (producer id, message), sent with the next push."""
        self._updates.extend(updates)
        self.wake()

    def queue_to_all(self, message: Message) -> None:
        """One update for every producer connected now."""
        self.queue((producer_id, message) for producer_id in list(self._server.connections))

    def wake(self) -> None:
        """Push soon: there is a delta or an update to send."""
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled: on each wake-up, gather, then send the delta and the updates."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(DELTA_INTERVAL_S)  # gather: one message per interval
            self._wake.clear()
            await self.push()

    async def push(self) -> None:
        delta = self._take_delta()
        updates, self._updates = self._updates, []
        carrier = current_context_carrier()
        for start in range(0, len(delta), DELTA_CHUNK):
            message = UpdateConfiguration(
                new_uniques=delta[start : start + DELTA_CHUNK], trace_context=carrier
            )
            for producer_id in list(self._server.connections):
                await self._server.send(producer_id, message)
        for producer_id, update in updates:
            update.trace_context = carrier
            await self._server.send(producer_id, update)
