"""The orchestrator's TCP endpoint for producers.

A connection must open with a Hello frame carrying the run's secret token and
the id and pid of a producer this orchestrator spawned. Accepting, the
pre-hello frame cap, the cap on pending handshakes with eviction of the
oldest, the token check and the read loop are the shared endpoint's
(:mod:`system.protocol.endpoint`); this module adds the pid check, one
connection per producer, and the dispatch of batches, statuses and sub-topic
proposals to the run. A producer whose handshake was refused retries instead
of exiting, so a refusal never costs a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from system.protocol import (
    DEFAULT_MAX_FRAME,
    AttributeBatch,
    Hello,
    Message,
    ProducerStatus,
    SubtopicProposal,
    write_message,
)
from system.protocol.endpoint import Closed, Endpoint, Rejected
from system.protocol.messages import CODEC

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0
MAX_PENDING_HANDSHAKES = 64


class ConnectionHandler(Protocol):
    def expected_pid(self, producer_id: int) -> int | None: ...
    def on_connected(self, producer_id: int) -> Message: ...
    def on_batch(self, producer_id: int, batch: AttributeBatch) -> None: ...
    def on_status(self, producer_id: int, status: ProducerStatus) -> None: ...
    def on_subtopics(self, producer_id: int, proposal: SubtopicProposal) -> None: ...
    def on_disconnected(self, producer_id: int, reason: str) -> None: ...
    def on_rejected(self, peer: str, reason: str) -> None: ...


@dataclass
class ProducerConnection:
    """One authenticated producer: the endpoint's session for it."""

    producer_id: int
    writer: asyncio.StreamWriter
    server: ProducerServer

    async def send(self, message: Message) -> bool:
        try:
            await write_message(self.writer, message)
            return True
        except (ConnectionError, RuntimeError) as exc:
            log.debug("send to producer %s failed: %s", self.producer_id, exc)
            return False

    def close(self) -> None:
        self.writer.close()

    async def opened(self) -> None:
        if not await self.send(self.server.handler.on_connected(self.producer_id)):
            raise Closed("could not send start_topic")

    async def handle(self, message: Message) -> None:
        handle = self.server.dispatch.get(type(message))
        if handle is None:
            log.warning("producer %s sent unexpected %s; ignored", self.producer_id, message.TYPE)
        else:
            handle(self.producer_id, message)

    async def closed(self, reason: str) -> None:
        if self.server.connections.get(self.producer_id) is self:
            del self.server.connections[self.producer_id]
        self.server.handler.on_disconnected(self.producer_id, reason)


class ProducerServer(Endpoint[Message, Hello]):
    kind = "producer"

    def __init__(
        self,
        token: str,
        handler: ConnectionHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        super().__init__(
            token,
            CODEC,
            Hello,
            on_rejected=handler.on_rejected,
            log=log,
            host=host,
            port=port,
            max_frame=max_frame,
            max_pending=MAX_PENDING_HANDSHAKES,
            handshake_timeout_s=HANDSHAKE_TIMEOUT_S,
        )
        self.handler = handler
        self.connections: dict[int, ProducerConnection] = {}
        # keyed by the message's type: each handler takes exactly that type
        self.dispatch: dict[type, Callable[[int, Any], None]] = {
            AttributeBatch: handler.on_batch,
            ProducerStatus: handler.on_status,
            SubtopicProposal: handler.on_subtopics,
        }

    def open(self, peer: str, hello: Hello, writer: asyncio.StreamWriter) -> ProducerConnection:
        expected = self.handler.expected_pid(hello.producer_id)
        if expected is None or expected != hello.pid:
            raise Rejected(
                f"producer {hello.producer_id} (pid {hello.pid}) was not spawned by this run"
            )
        if hello.producer_id in self.connections:
            raise Rejected(f"producer {hello.producer_id} is already connected")
        conn = ProducerConnection(hello.producer_id, writer, self)
        self.connections[hello.producer_id] = conn
        return conn

    async def close(self) -> None:
        for conn in list(self.connections.values()):
            conn.close()
        await super().close()

    async def send(self, producer_id: int, message: Message) -> bool:
        conn = self.connections.get(producer_id)
        return await conn.send(message) if conn else False
