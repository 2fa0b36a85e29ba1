"""The orchestrator's control endpoint in web mode: the webserver drives runs here.

A connection must open with a ``hello`` carrying the control token (read
from a file only this user can read); then each ``request`` gets a ``reply``,
and every authenticated connection receives the service's ``event`` stream.
Requests continue the caller's trace: each is a ``control.<op>`` server span
whose parent is the webserver's HTTP span.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from system.orchestrator.service import RunService, ServiceError
from system.protocol.codec import ProtocolError
from system.protocol.control import (
    OPS,
    ControlEvent,
    ControlHello,
    ControlMessage,
    ControlReply,
    ControlRequest,
    decode_control,
    encode_control,
)
from system.protocol.framing import FrameError, FrameReader, encode_frame
from system.telemetry import Telemetry, context_from
from system.telemetry import schema as s

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 16
MAX_CONTROL_FRAME = 1024 * 1024
MAX_QUEUED_EVENTS = 1000


class ControlConnection:
    """One authenticated peer: replies and events share one ordered writer."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._queue: asyncio.Queue[ControlMessage] = asyncio.Queue(MAX_QUEUED_EVENTS)
        self.dropped = 0

    def push(self, message: ControlMessage) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1  # a peer that does not read loses events, not the service

    async def pump(self) -> None:
        while True:
            message = await self._queue.get()
            self._writer.write(encode_frame(encode_control(message)))
            await self._writer.drain()


class ControlServer:
    def __init__(
        self,
        service: RunService,
        token: str,
        telemetry: Telemetry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._service = service
        self._token = token.encode()
        self._tracer = telemetry.tracer("system.orchestrator.control")
        self.host, self.port = host, port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connections = 0

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]
        return self.host, self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _reject(self, peer: str, reason: str) -> None:
        log.warning("rejected control connection from %s: %s", peer, reason)
        with self._tracer.start_as_current_span(
            s.SPAN_CONTROL_REJECTED,
            attributes={s.NET_PEER_ADDRESS: peer, s.REJECT_REASON: reason},
        ):
            pass

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._track(task)
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "unknown"
        self._connections += 1
        try:
            if self._connections > MAX_CONNECTIONS:
                self._reject(peer, "too many control connections")
                return
            frames = FrameReader(reader, MAX_CONTROL_FRAME)
            if await self._handshake(peer, frames):
                await self._serve(peer, frames, writer)
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug must not take the server down
            log.exception("unexpected error on control connection from %s", peer)
        finally:
            self._connections -= 1
            writer.close()

    async def _handshake(self, peer: str, frames: FrameReader) -> bool:
        try:
            payload = await asyncio.wait_for(frames.read_frame(), HANDSHAKE_TIMEOUT_S)
            message = None if payload is None else decode_control(payload)
        except TimeoutError:
            self._reject(peer, "no hello within the handshake timeout")
            return False
        except (FrameError, ProtocolError) as exc:
            self._reject(peer, f"bad handshake frame: {exc}")
            return False
        if not isinstance(message, ControlHello):
            self._reject(peer, "expected hello")
            return False
        if not hmac.compare_digest(message.token.encode(), self._token):
            self._reject(peer, "wrong control token")
            return False
        return True

    async def _serve(self, peer: str, frames: FrameReader, writer: asyncio.StreamWriter) -> None:
        conn = ControlConnection(writer)
        unsubscribe = self._service.subscribe(
            lambda kind, run_id, body: conn.push(ControlEvent(kind, run_id, body))
        )
        pump = asyncio.create_task(conn.pump())
        log.info("control connection from %s", peer)
        try:
            while True:
                try:
                    payload = await frames.read_frame()
                except FrameError as exc:
                    log.warning("control peer %s: %s; closing", peer, exc)
                    return
                if payload is None:
                    return
                try:
                    message = decode_control(payload)
                except ProtocolError as exc:
                    log.warning("control peer %s sent a bad frame: %s", peer, exc)
                    continue
                if isinstance(message, ControlRequest):
                    conn.push(self._handle(message))
                if pump.done():
                    return
        finally:
            unsubscribe()
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pump
            log.info("control connection from %s closed", peer)

    def _handle(self, request: ControlRequest) -> ControlReply:
        if request.op not in OPS:
            return ControlReply(request.id, 400, {"error": f"unknown operation {request.op!r}"})
        parent = context_from(request.trace_context)
        if request.op == "start":
            # topic.run itself continues the caller's trace, as the HTTP span's child
            return self._call(request, lambda: self._service.start(request.args, parent))
        with self._tracer.start_as_current_span(
            f"{s.SPAN_CONTROL_PREFIX}{request.op}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={s.CONTROL_OP: request.op, **_run_attribute(request.args)},
        ) as span:
            reply = self._call(request, lambda: self._dispatch(request))
            span.set_attribute(s.CONTROL_STATUS, reply.status)
            if reply.status >= 500:
                span.set_status(Status(StatusCode.ERROR, str(reply.body.get("error"))))
            return reply

    def _dispatch(self, request: ControlRequest) -> dict[str, Any]:
        args = request.args
        if request.op == "list":
            return self._service.list()
        if request.op == "status":
            return self._service.snapshot(_run_id(args))
        if request.op == "stop":
            return self._service.stop(_run_id(args))
        return self._service.attributes(
            _run_id(args),
            args.get("offset", 0),
            args.get("limit", 100),
            min_support=args.get("min_support", 0),
        )

    @staticmethod
    def _call(request: ControlRequest, action: Any) -> ControlReply:
        try:
            return ControlReply(request.id, 200, action())
        except ServiceError as exc:
            return ControlReply(request.id, exc.status, {"error": str(exc)})
        except Exception as exc:
            log.exception("control request %s failed", request.op)
            return ControlReply(request.id, 500, {"error": f"internal error: {exc}"})


def _run_id(args: dict[str, Any]) -> str:
    run_id = args.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise ServiceError(400, "run_id is required")
    return run_id


def _run_attribute(args: dict[str, Any]) -> dict[str, str]:
    run_id = args.get("run_id")
    return {s.RUN_ID: run_id} if isinstance(run_id, str) else {}
