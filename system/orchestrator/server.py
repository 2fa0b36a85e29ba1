"""The orchestrator's TCP endpoint for producers.

A connection must open with a Hello frame carrying the run's secret token and
the id and pid of a producer this orchestrator spawned; anything else (wrong
token, unknown producer, garbage bytes, an oversized length prefix, a frame
that does not decode, silence) closes the connection and is recorded, and the
run goes on. Memory stays bounded: until a peer has authenticated only a
Hello-sized frame is read, and unauthenticated connections are capped in
number and time. A local process cannot lock real producers out by holding
connections open: when the cap is reached the oldest pending handshake is
closed to make room (a producer sends its Hello at once, so it is never the
oldest for long), and a producer whose handshake was refused retries instead
of exiting, so a refusal never costs a restart.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from system.protocol import (
    DEFAULT_MAX_FRAME,
    AttributeBatch,
    FrameError,
    FrameReader,
    Hello,
    Message,
    ProducerStatus,
    ProtocolError,
    SubtopicProposal,
    read_message,
    write_message,
)

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10.0
MAX_PENDING_HANDSHAKES = 64
#: the largest frame read before authentication: a Hello is well under 1 KiB
HELLO_MAX_FRAME = 4096


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
    producer_id: int
    writer: asyncio.StreamWriter

    async def send(self, message: Message) -> bool:
        try:
            await write_message(self.writer, message)
            return True
        except (ConnectionError, RuntimeError) as exc:
            log.debug("send to producer %s failed: %s", self.producer_id, exc)
            return False

    def close(self) -> None:
        self.writer.close()


class ProducerServer:
    def __init__(
        self,
        token: str,
        handler: ConnectionHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self._token = token.encode()
        self._handler = handler
        self.host, self.port = host, port
        self.max_frame = max_frame
        self.connections: dict[int, ProducerConnection] = {}
        self._server: asyncio.Server | None = None
        #: handshakes in progress, oldest first (dicts keep insertion order)
        self._pending: dict[asyncio.Task[None], str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]
        return self.host, self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections.values()):
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def send(self, producer_id: int, message: Message) -> bool:
        conn = self.connections.get(producer_id)
        return await conn.send(message) if conn else False

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "unknown"
        try:
            await self._serve(peer, reader, writer)
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug must not take the server down
            log.exception("unexpected error on connection from %s", peer)
        finally:
            writer.close()

    def _reject(self, peer: str, reason: str) -> None:
        log.warning("rejected connection from %s: %s", peer, reason)
        self._handler.on_rejected(peer, reason)

    def _make_room(self) -> None:
        """At the cap, close the oldest pending handshake (the likeliest idle squatter)."""
        while len(self._pending) >= MAX_PENDING_HANDSHAKES:
            oldest, oldest_peer = next(iter(self._pending.items()))
            del self._pending[oldest]
            oldest.cancel()
            self._reject(oldest_peer, "evicted: too many pending handshakes")

    async def _handshake(self, peer: str, frames: FrameReader) -> Hello | None:
        task = asyncio.current_task()
        assert task is not None
        self._make_room()
        self._pending[task] = peer
        try:
            message = await asyncio.wait_for(read_message(frames), HANDSHAKE_TIMEOUT_S)
        except TimeoutError:
            self._reject(peer, "no hello within the handshake timeout")
            return None
        except (FrameError, ProtocolError) as exc:
            self._reject(peer, f"bad handshake frame: {exc}")
            return None
        finally:
            self._pending.pop(task, None)
        if message is None:
            self._reject(peer, "closed before hello")
            return None
        if not isinstance(message, Hello):
            self._reject(peer, f"expected hello, got {message.TYPE}")
            return None
        if not hmac.compare_digest(message.token.encode(), self._token):
            self._reject(peer, "wrong token")
            return None
        expected = self._handler.expected_pid(message.producer_id)
        if expected is None or expected != message.pid:
            self._reject(
                peer,
                f"producer {message.producer_id} (pid {message.pid}) was not spawned by this run",
            )
            return None
        if message.producer_id in self.connections:
            self._reject(peer, f"producer {message.producer_id} is already connected")
            return None
        return message

    async def _serve(
        self, peer: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        frames = FrameReader(reader, min(HELLO_MAX_FRAME, self.max_frame))
        hello = await self._handshake(peer, frames)
        if hello is None:
            return
        frames.max_frame = self.max_frame  # authenticated: batches may be large
        pid = hello.producer_id
        conn = ProducerConnection(pid, writer)
        self.connections[pid] = conn
        reason = "closed by producer"
        try:
            if not await conn.send(self._handler.on_connected(pid)):
                reason = "could not send start_topic"
                return
            # keyed by the message's type: each handler takes exactly that type
            dispatch: dict[type, Callable[[int, Any], None]] = {
                AttributeBatch: self._handler.on_batch,
                ProducerStatus: self._handler.on_status,
                SubtopicProposal: self._handler.on_subtopics,
            }
            while True:
                message = await read_message(frames)
                if message is None:
                    break
                handle = dispatch.get(type(message))
                if handle is None:
                    log.warning("producer %s sent unexpected %s; ignored", pid, message.TYPE)
                    continue
                handle(pid, message)
                # Frames already buffered would otherwise be handled in one go: yield
                # so control requests and other producers get their turn.
                await asyncio.sleep(0)
        except (FrameError, ProtocolError) as exc:
            reason = f"protocol error: {exc}"
            log.warning("producer %s: %s; closing its connection", pid, exc)
        except ConnectionError as exc:
            reason = f"connection error: {exc}"
        finally:
            if self.connections.get(pid) is conn:
                del self.connections[pid]
            self._handler.on_disconnected(pid, reason)
