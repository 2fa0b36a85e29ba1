"""A producer: connect, authenticate, receive StartTopic, generate until told to stop.

It exits on Stop, when its orchestrator closes the connection, when its stdin
(the pipe from the orchestrator) reaches end of file, or on SIGTERM; in every
case its spans are flushed first. SIGINT is ignored: a Ctrl-C in a terminal
reaches the whole process group, and the orchestrator coordinates the stop.

``Producer`` is the process's life: start-up (``connect.handshake``), the
``producer.run`` span, and two tasks, the receive loop (Stop and the
orchestrator's updates) and the generation loop (``cycles.GenerationLoop``);
sub-topic requests are answered beside them (``system.levers.subtopics``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Coroutine
from typing import Any

from opentelemetry.trace import Status, StatusCode

from system.levers.producer import ProducerLevers
from system.levers.subtopics.propose import answer_request
from system.producer.connect import (
    EXIT_ERROR,
    EXIT_NO_ORCHESTRATOR,
    EXIT_OK,
    ProducerExit,
    handshake,
)
from system.producer.cycles import Assignment, GenerationLoop
from system.producer.preload import Preload
from system.producer.resilience.build import build_router
from system.producer.resilience.router import Router
from system.protocol import (
    AttributeBatch,
    FrameError,
    FrameReader,
    Hello,
    ProducerStatus,
    ProposeSubtopics,
    ProtocolError,
    StartTopic,
    Stop,
    SubtopicProposal,
    UpdateConfiguration,
    read_message,
    write_message,
)
from system.providers.catalog import PROVIDERS_ENV
from system.providers.registry import UnknownProviderError
from system.telemetry import Telemetry, context_from
from system.telemetry import schema as s
from system.telemetry.propagation import env_carrier

log = logging.getLogger("system.producer")

__all__ = ["EXIT_ERROR", "Producer", "ProducerExit", "install_signal_handlers"]

#: how often a producer says it is alive when StartTopic does not say
DEFAULT_HEARTBEAT_S = 5.0


class Producer:
    def __init__(
        self,
        producer_id: int,
        host: str,
        port: int,
        token: str,
        telemetry: Telemetry,
        stdin: asyncio.StreamReader | None,
    ) -> None:
        self.producer_id = producer_id
        self.host, self.port = host, port
        self._token = token
        self._telemetry = telemetry
        self._tracer = telemetry.tracer("system.producer")
        self._stdin = stdin
        self._stop = asyncio.Event()
        self.stop_reason = ""
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._assignment: Assignment | None = None
        self._router: Router | None = None
        self._loop: GenerationLoop | None = None
        self._levers = ProducerLevers()
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._reported = False  # producer.run delivered (or being recorded)
        self._preload: Preload | None = None

    def request_stop(self, reason: str) -> None:
        if not self._stop.is_set():
            self.stop_reason = reason
            log.info("stopping: %s", reason)
            self._stop.set()

    async def _send(
        self, message: AttributeBatch | ProducerStatus | Hello | SubtopicProposal
    ) -> None:
        assert self._writer is not None
        async with self._write_lock:
            await write_message(self._writer, message)

    async def run(self) -> int:
        # stdin EOF and SIGTERM stop the producer at every stage, start-up included:
        # the watcher runs from the first moment, and start-up races the stop event.
        stdin_task = asyncio.create_task(self._watch_stdin(self._stdin)) if self._stdin else None
        if PROVIDERS_ENV in os.environ:  # --provider env: import its client during start-up
            self._preload = Preload()
        try:
            started = await self._until_stopped(self._start())
            if started is None:
                log.info("stopped during start-up: %s", self.stop_reason)
                self._record_unstarted(f"stopped during start-up: {self.stop_reason}")
                return EXIT_NO_ORCHESTRATOR
            first, frames = started
            if isinstance(first, Stop):
                log.info("told to stop before starting: %s", first.reason)
                self._record_unstarted(f"stopped before start: {first.reason}", first)
                return EXIT_OK
            return await self._work(first, frames)
        except ProducerExit as exc:
            if not self._reported:
                self._record_unstarted(f"could not start: {exc}", error=exc)
            raise
        finally:
            if self._writer is not None:
                self._writer.close()
                with contextlib.suppress(Exception):
                    await self._writer.wait_closed()
            if stdin_task is not None:
                stdin_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stdin_task

    async def _until_stopped(
        self, work: Coroutine[Any, Any, tuple[StartTopic | Stop, FrameReader]]
    ) -> tuple[StartTopic | Stop, FrameReader] | None:
        """Run start-up unless a stop (stdin EOF, SIGTERM) comes first: then None."""
        task = asyncio.create_task(work)
        stopped = asyncio.create_task(self._stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if task.done() and not (self._stop.is_set() and task.exception() is not None):
            return task.result()
        task.cancel()
        # bounded: the loops inside also check the stop event (see open_connection)
        await asyncio.wait({task}, timeout=1.0)
        return None

    async def _start(self) -> tuple[StartTopic | Stop, FrameReader]:
        hello = Hello(producer_id=self.producer_id, token=self._token, pid=os.getpid())
        first, frames, self._writer = await handshake(self.host, self.port, hello, self._stop)
        return first, frames

    @property
    def iterations_done(self) -> int:
        return self._loop.iterations_done if self._loop is not None else 0

    def _record_unstarted(
        self, reason: str, stop: Stop | None = None, error: ProducerExit | None = None
    ) -> None:
        """Still deliver producer.run: every spawned producer reports how it ended.

        Without this span a producer stopped (or failed) before its work began
        left the tester waiting for a producer.run that never came.
        """
        self._reported = True
        carrier = env_carrier(os.environ) or (stop.trace_context if stop else {})
        if not carrier:
            return  # not started by an orchestrator that traces: no trace to join
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCER_RUN,
            context=context_from(carrier),
            attributes={
                s.PRODUCER_ID: self.producer_id,
                s.PROCESS_PID: os.getpid(),
                s.PRODUCER_STOP_REASON: reason[:500],
                s.PRODUCER_ITERATIONS: 0,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, reason[:500]))

    async def _work(self, start: StartTopic, frames: FrameReader) -> int:
        if start.provider == "env":
            # never import the OpenAI client on the loop: it would block SIGTERM and stdin EOF
            self._preload = self._preload or Preload()
            await self._preload.wait(self._stop)
        if self._stop.is_set():  # told to stop meanwhile: start no LLM request
            log.info("stopped during start-up: %s", self.stop_reason)
            self._record_unstarted(f"stopped during start-up: {self.stop_reason}")
            return EXIT_NO_ORCHESTRATOR
        try:
            router, _record_content = build_router(
                start.provider, start.settings, os.environ, self._tracer
            )
        except UnknownProviderError as exc:
            raise ProducerExit(str(exc), EXIT_ERROR) from exc
        if start.provider_weights:
            router.set_weights(start.provider_weights)
        self._router = router
        self._assignment = Assignment(start, start.request_size, start.partition)
        self._levers = ProducerLevers.from_settings(start.settings)
        self._loop = GenerationLoop(
            self.producer_id,
            self._tracer,
            self._assignment,
            self._levers,
            stop=self._stop,
            send=self._send,
            request_stop=self.request_stop,
        )
        parent = context_from(env_carrier(os.environ) or start.trace_context)
        self._reported = True
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCER_RUN,
            context=parent,
            attributes={
                s.PRODUCER_ID: self.producer_id,
                s.RUN_ID: start.run_id,
                s.TOPIC_NAME: start.topic,
                s.PROCESS_PID: os.getpid(),
            },
        ) as span:
            heartbeat_s = float(start.settings.get("heartbeat_s") or DEFAULT_HEARTBEAT_S)
            tasks = [
                asyncio.create_task(self._receive(frames), name="receive"),
                asyncio.create_task(self._loop.run(router), name="generation"),
                asyncio.create_task(self._heartbeat(heartbeat_s), name="heartbeat"),
            ]
            for task in tasks:
                task.add_done_callback(self._on_task_done)
            await self._stop.wait()
            side = list(self._side_tasks)  # a sub-topic proposal in flight
            for task in tasks + side:
                task.cancel()
            results = await asyncio.gather(*tasks, *side, return_exceptions=True)
            for route in router.routes.values():
                with contextlib.suppress(Exception):
                    await route.provider.close()
            if len(router.routes) > 1 or start.provider != "test":
                log.info("provider stats: %s", router.stats())
                span.set_attribute(s.PRODUCER_LLM_STATS, json.dumps(router.stats()))
            span.set_attributes(
                {
                    s.PRODUCER_STOP_REASON: self.stop_reason,
                    s.PRODUCER_ITERATIONS: self.iterations_done,
                }
            )
            errors = [
                r
                for r in results
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
            ]
            if errors:
                span.record_exception(errors[0])
                span.set_status(
                    Status(StatusCode.ERROR, f"{type(errors[0]).__name__}: {errors[0]}"[:500])
                )
                log.error("producer failed: %r", errors[0])
                return EXIT_ERROR
        return EXIT_OK

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        """A task that dies of an unexpected exception stops the producer at once.

        Without this a dead generation task left the producer connected and
        idle for good (an answer with a lone surrogate once did): the run
        never ended. Now the producer stops, ``_work`` records the exception
        on ``producer.run`` (status ERROR) and exits non-zero, and the
        orchestrator restarts it like any producer that died.
        """
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error(
            "producer task %r failed: %s: %s", task.get_name(), type(exc).__name__, exc,
            exc_info=exc,
        )  # fmt: skip
        self.request_stop(f"internal error in {task.get_name()}: {type(exc).__name__}")

    async def _receive(self, frames: FrameReader) -> None:
        try:
            while True:
                message = await read_message(frames)
                if message is None:
                    self.request_stop("orchestrator closed the connection")
                    return
                if isinstance(message, Stop):
                    self.request_stop(f"stop: {message.reason}")
                    return
                if isinstance(message, UpdateConfiguration) and self._loop is not None:
                    assert self._router is not None
                    self._loop.apply(message, self._router)
                elif isinstance(message, ProposeSubtopics) and self._assignment is not None:
                    # answered beside the generation loop, which goes on meanwhile
                    task = asyncio.create_task(self._answer_subtopics(message))
                    self._side_tasks.add(task)
                    task.add_done_callback(self._side_tasks.discard)
        except (ConnectionError, FrameError, ProtocolError) as exc:
            self.request_stop(f"connection to orchestrator lost: {exc}")

    async def _heartbeat(self, every_s: float) -> None:
        """Tell the orchestrator this producer is alive, whatever its LLM request is doing:
        a producer it does not hear from is reported, then killed and restarted
        (system/orchestrator/silence.py)."""
        while True:
            await asyncio.sleep(max(0.1, every_s))
            status = ProducerStatus(self.producer_id, "heartbeat", self.iterations_done)
            with contextlib.suppress(ConnectionError):
                await self._send(status)

    async def _answer_subtopics(self, request: ProposeSubtopics) -> None:
        """Have the LLM propose sub-topics and answer the orchestrator (never raises)."""
        assert self._assignment is not None and self._router is not None
        start = self._assignment.start
        answer = await answer_request(
            self._router,
            self._tracer,
            request,
            producer_id=self.producer_id,
            topic=start.topic,
            run_id=start.run_id,
        )
        with contextlib.suppress(ConnectionError):
            await self._send(answer)

    async def _watch_stdin(self, stdin: asyncio.StreamReader) -> None:
        while await stdin.read(4096):
            pass
        self.request_stop("orchestrator went away (stdin closed)")


def install_signal_handlers(producer: Producer) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, producer.request_stop, "SIGTERM received")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
