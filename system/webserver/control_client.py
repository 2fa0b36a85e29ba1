"""The webserver's side of the control channel: requests with replies, pushed events.

One connection to the orchestrator, re-established with backoff when it
drops. Each request carries the caller's trace context (the HTTP server
span), so the orchestrator's work continues the HTTP request's trace, and a
deadline: when this client stops waiting (``REQUEST_TIMEOUT_S``). The
orchestrator drops a request it reads after that, so a request answered 503
("busy, try again") never takes effect later; its reply is awaited
``REPLY_GRACE_S`` longer, for a request read just in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from system.protocol.codec import ProtocolError
from system.protocol.control import (
    CODEC,
    ControlEvent,
    ControlHello,
    ControlReply,
    ControlRequest,
)
from system.protocol.framing import FrameError, FrameReader
from system.telemetry import current_context_carrier

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 15.0
#: how much longer than a request's deadline its reply is awaited: a request the
#: orchestrator read just before the deadline still gets its answer through
REPLY_GRACE_S = 5.0
RECONNECT_MAX_S = 2.0


class OrchestratorUnavailable(RuntimeError):
    """No connection to the orchestrator, or it did not answer in time."""


class OrchestratorClient:
    def __init__(
        self, host: str, port: int, token: str, on_event: Callable[[ControlEvent], None]
    ) -> None:
        self.host, self.port = host, port
        self._token = token
        self._on_event = on_event
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[ControlReply]] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.last_error = "not connected yet"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def request(
        self, op: str, args: dict[str, Any] | None = None, timeout: float = REQUEST_TIMEOUT_S
    ) -> ControlReply:
        writer = self._writer
        if writer is None or not self.connected:
            raise OrchestratorUnavailable(f"orchestrator not connected ({self.last_error})")
        request_id = next(self._ids)
        future: asyncio.Future[ControlReply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        # the orchestrator drops the request unread after its deadline (it may be
        # stopped, or busy): a request this client answers 503 never takes effect later
        message = ControlRequest(
            request_id,
            op,
            args or {},
            deadline=time.time() + timeout,
            trace_context=current_context_carrier(),
        )
        try:
            async with asyncio.timeout(timeout + REPLY_GRACE_S):
                writer.write(CODEC.frame(message))
                await writer.drain()
                return await future
        except TimeoutError as exc:
            raise OrchestratorUnavailable(f"orchestrator did not answer {op} in time") from exc
        except ConnectionError as exc:
            raise OrchestratorUnavailable(f"orchestrator connection lost: {exc}") from exc
        finally:
            self._pending.pop(request_id, None)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                self.last_error = f"cannot reach {self.host}:{self.port}: {exc.strerror or exc}"
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)
                continue
            delay = 0.1
            try:
                writer.write(CODEC.frame(ControlHello(self._token)))
                await writer.drain()
                self._writer = writer
                self._connected.set()
                log.info("connected to the orchestrator at %s:%d", self.host, self.port)
                await self._read(FrameReader(reader))
                self.last_error = "the orchestrator closed the connection"
            except (ConnectionError, FrameError, ProtocolError) as exc:
                self.last_error = f"control connection lost: {exc}"
            finally:
                self._connected.clear()
                self._writer = None
                writer.close()
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(ConnectionError(self.last_error))
            log.warning("%s; reconnecting", self.last_error)
            await asyncio.sleep(delay)

    async def _read(self, frames: FrameReader) -> None:
        while True:
            message = await CODEC.read(frames)
            if message is None:
                return
            if isinstance(message, ControlReply):
                future = self._pending.get(message.id)
                if future is not None and not future.done():
                    future.set_result(message)
            elif isinstance(message, ControlEvent):
                self._on_event(message)
