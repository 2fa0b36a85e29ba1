"""The orchestrator's control endpoint in web mode: the webserver drives runs here.

A connection must open with a ``hello`` carrying the control token (read
from a file only this user can read); then each ``request`` gets a ``reply``,
and every authenticated connection receives the service's ``event`` stream.
The handshake rules (4 KiB before the hello, pending handshakes capped with
the oldest evicted, the token compared in constant time) are the shared
endpoint's, :mod:`system.protocol.endpoint`; a refusal is a root span
``control.rejected``.
Requests continue the caller's trace: each is a ``control.<op>`` server span
whose parent is the webserver's HTTP span. A request read after its
``deadline`` (the webserver stopped waiting and answered 503) is not carried
out: its ``control.<op>`` span says 504.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from system.orchestrator.web.service import RunService, ServiceError
from system.protocol.control import (
    CODEC,
    OPS,
    ControlEvent,
    ControlHello,
    ControlMessage,
    ControlReply,
    ControlRequest,
)
from system.protocol.endpoint import Closed, Endpoint, Rejected
from system.telemetry import Telemetry, context_from
from system.telemetry import schema as s

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 5.0
#: authenticated connections (the webserver holds one), and handshakes pending at once
MAX_CONNECTIONS = 16
MAX_CONTROL_FRAME = 1024 * 1024
MAX_QUEUED_EVENTS = 1000
#: the answer to a request read after its deadline (Gateway Timeout: the caller gave up)
EXPIRED_STATUS = 504


class ControlConnection:
    """One authenticated peer: replies and events share one ordered writer."""

    def __init__(self, peer: str, writer: asyncio.StreamWriter, server: ControlServer) -> None:
        self._peer = peer
        self._writer = writer
        self._server = server
        self._queue: asyncio.Queue[ControlMessage] = asyncio.Queue(MAX_QUEUED_EVENTS)
        self._pump: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.dropped = 0

    def push(self, message: ControlMessage) -> None:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1  # a peer that does not read loses events, not the service

    async def _pump_messages(self) -> None:
        while True:
            message = await self._queue.get()
            self._writer.write(CODEC.frame(message))
            await self._writer.drain()

    async def opened(self) -> None:
        self._unsubscribe = self._server.service.subscribe(
            lambda kind, run_id, body: self.push(ControlEvent(kind, run_id, body))
        )
        self._pump = asyncio.create_task(self._pump_messages())
        log.info("control connection from %s", self._peer)

    async def handle(self, message: ControlMessage) -> None:
        if isinstance(message, ControlRequest):
            reply = self._server.answer(message)
            if message.op == "start" and reply.ok:
                # the answer names the run's trace, which exists once its root span does
                trace_id = await self._server.service.trace_id_of(reply.body["run_id"])
                reply = ControlReply(reply.id, reply.status, {**reply.body, "trace_id": trace_id})
            self.push(reply)
        if self._pump is not None and self._pump.done():
            raise Closed("writing to the peer failed")

    async def closed(self, reason: str) -> None:
        self._server.sessions.discard(self)
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._pump
        log.info("control connection from %s closed: %s", self._peer, reason)


class ControlServer(Endpoint[ControlMessage, ControlHello]):
    kind = "control"

    def __init__(
        self,
        service: RunService,
        token: str,
        telemetry: Telemetry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            token,
            CODEC,
            ControlHello,
            on_rejected=self._record_rejection,
            log=log,
            host=host,
            port=port,
            max_frame=MAX_CONTROL_FRAME,
            max_pending=MAX_CONNECTIONS,
            handshake_timeout_s=HANDSHAKE_TIMEOUT_S,
            close_on_bad_message=False,  # the webserver's bug must not cut every browser off
        )
        self.service = service
        self._tracer = telemetry.tracer(__name__)
        self.sessions: set[ControlConnection] = set()

    def open(
        self, peer: str, hello: ControlHello, writer: asyncio.StreamWriter
    ) -> ControlConnection:
        if len(self.sessions) >= MAX_CONNECTIONS:
            raise Rejected("too many control connections")
        session = ControlConnection(peer, writer, self)
        self.sessions.add(session)
        return session

    def _record_rejection(self, peer: str, reason: str) -> None:
        with self._tracer.start_as_current_span(
            s.SPAN_CONTROL_REJECTED,
            attributes={s.NET_PEER_ADDRESS: peer, s.REJECT_REASON: reason},
        ):
            pass

    def answer(self, request: ControlRequest) -> ControlReply:
        if request.op not in OPS:
            return ControlReply(request.id, 400, {"error": f"unknown operation {request.op!r}"})
        parent = context_from(request.trace_context)
        late = _seconds_late(request)
        if late is not None:
            return self._expired(request, late, parent)
        if request.op == "start":
            # topic.run itself continues the caller's trace, as the HTTP span's child
            return self._call(request, lambda: self.service.start(request.args, parent))
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

    def _expired(self, request: ControlRequest, late: float, parent: Any) -> ControlReply:
        """A request read after its deadline: the caller has answered its client 503,
        so carrying it out now would be a ghost (a run nobody was told started)."""
        message = f"request expired {late:.1f}s before it was read; not carried out"
        log.warning("control %s dropped: %s", request.op, message)
        with self._tracer.start_as_current_span(
            f"{s.SPAN_CONTROL_PREFIX}{request.op}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                s.CONTROL_OP: request.op,
                s.CONTROL_STATUS: EXPIRED_STATUS,
                **_run_attribute(request.args),
            },
        ) as span:
            span.set_status(Status(StatusCode.ERROR, message))
        return ControlReply(request.id, EXPIRED_STATUS, {"error": message})

    def _dispatch(self, request: ControlRequest) -> dict[str, Any]:
        args = request.args
        if request.op == "list":
            return self.service.list()
        if request.op == "status":
            return self.service.snapshot(_run_id(args))
        if request.op == "stop":
            return self.service.stop(_run_id(args))
        return self.service.attributes(
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


def _seconds_late(request: ControlRequest) -> float | None:
    """How long past its deadline the request is; None if it has none or is in time."""
    if request.deadline is None:
        return None
    late = time.time() - request.deadline
    return late if late > 0 else None


def _run_id(args: dict[str, Any]) -> str:
    run_id = args.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise ServiceError(400, "run_id is required")
    return run_id


def _run_attribute(args: dict[str, Any]) -> dict[str, str]:
    run_id = args.get("run_id")
    return {s.RUN_ID: run_id} if isinstance(run_id, str) else {}
