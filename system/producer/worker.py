"""A producer: connect, authenticate, receive StartTopic, generate until told to stop.

It exits on Stop, when its orchestrator closes the connection, when its stdin
(the pipe from the orchestrator) reaches end of file, or on SIGTERM; in every
case its spans are flushed first. SIGINT is ignored: a Ctrl-C in a terminal
reaches the whole process group, and the orchestrator coordinates the stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import xxhash
from opentelemetry.trace import Link, Status, StatusCode, get_current_span

from system.producer.generation import generate
from system.producer.levers import ProducerLevers
from system.producer.resilience.build import build_router
from system.producer.resilience.router import ProvidersUnavailable, Router
from system.producer.subtopics import propose
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
from system.providers.base import ProviderError
from system.providers.registry import UnknownProviderError
from system.telemetry import Telemetry, context_from, current_context_carrier
from system.telemetry import schema as s
from system.telemetry.propagation import env_carrier

log = logging.getLogger("system.producer")

CONNECT_TIMEOUT_S = 10.0
START_TIMEOUT_S = 15.0
#: how long a producer keeps retrying refused handshakes before giving up
START_DEADLINE_S = 30.0
ERROR_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)

EXIT_OK, EXIT_ERROR, EXIT_NO_ORCHESTRATOR = 0, 1, 3


class ProducerExit(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Assignment:
    start: StartTopic
    request_size: int
    partition: str | None


def cycle_seed(run_id: str, producer_id: int, seq: int) -> int:
    return xxhash.xxh64_intdigest(f"{run_id}:{producer_id}:{seq}".encode())


async def open_connection(
    host: str, port: int, timeout: float, stop: asyncio.Event | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect, retrying refused connections until the timeout or until ``stop`` is set.

    ``stop`` is checked between attempts: on Python 3.11 a cancellation that meets
    a failing ``wait_for`` at the same moment can be lost, so cancelling alone
    could leave the retry loop running after the producer was told to stop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.05
    while True:
        if stop is not None and stop.is_set():
            raise ProducerExit("stopped while connecting", EXIT_NO_ORCHESTRATOR)
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                return await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            if loop.time() + delay >= deadline:
                raise ProducerExit(
                    f"cannot reach the orchestrator at {host}:{port} within {timeout:.0f}s: {exc}",
                    EXIT_NO_ORCHESTRATOR,
                ) from exc
            log.debug("orchestrator at %s:%d not reachable yet (%s); retrying", host, port, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


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
        self.iterations_done = 0
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._assignment: Assignment | None = None
        self._router: Router | None = None
        self._degraded = False
        self._levers = ProducerLevers()
        self._side_tasks: set[asyncio.Task[None]] = set()

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
        stdin_task = (
            asyncio.create_task(self._watch_stdin(self._stdin)) if self._stdin else None
        )
        try:
            started = await self._until_stopped(self._start())
            if started is None:
                log.info("stopped during start-up: %s", self.stop_reason)
                self._record_stopped_before_start(self.stop_reason)
                return EXIT_NO_ORCHESTRATOR
            first, frames = started
            if isinstance(first, Stop):
                log.info("told to stop before starting: %s", first.reason)
                self._record_stopped_before_start(first.reason, first.trace_context)
                return EXIT_OK
            return await self._work(first, frames)
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
        """Connect and hand over the Hello until the orchestrator answers.

        A connection closed before the answer (the orchestrator refused the
        handshake, e.g. because a local process crowded its pending handshakes)
        is retried until START_DEADLINE_S: a refusal must not cost a restart.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_DEADLINE_S
        delay = 0.05
        while True:
            remaining = deadline - loop.time()
            reader, self._writer = await open_connection(
                self.host, self.port, min(CONNECT_TIMEOUT_S, max(0.1, remaining)), self._stop
            )
            frames = FrameReader(reader)
            problem: str
            try:
                await self._send(
                    Hello(producer_id=self.producer_id, token=self._token, pid=os.getpid())
                )
                async with asyncio.timeout(START_TIMEOUT_S):
                    first = await read_message(frames)
            except TimeoutError as exc:
                raise ProducerExit(
                    f"the orchestrator at {self.host}:{self.port} did not answer the handshake "
                    f"within {START_TIMEOUT_S:.0f}s",
                    EXIT_NO_ORCHESTRATOR,
                ) from exc
            except (ConnectionError, FrameError, ProtocolError) as exc:
                problem = f"handshake failed: {exc}"
            else:
                if isinstance(first, StartTopic | Stop):
                    return first, frames
                if first is not None:
                    raise ProducerExit(f"expected start_topic, got {first.TYPE}", EXIT_ERROR)
                problem = (
                    "the orchestrator closed the connection during the handshake "
                    "(wrong token or unknown producer?)"
                )
            self._writer.close()
            self._writer = None
            if loop.time() + delay >= deadline or self._stop.is_set():
                raise ProducerExit(problem, EXIT_NO_ORCHESTRATOR)
            log.warning("%s; retrying", problem)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _record_stopped_before_start(
        self, reason: str, trace_context: dict[str, str] | None = None
    ) -> None:
        """Still deliver producer.run: every spawned producer reports how it ended.

        Told to stop in the handshake (a ``Stop`` instead of ``StartTopic``), or stopped
        before it (SIGTERM, stdin closed: the run ended while this producer was still
        connecting). Without the span in the second case the tester waited for a
        ``producer.run`` that never came (the web run stopped at once, in ``webserver``).
        """
        parent = context_from(env_carrier(os.environ) or trace_context or {})
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCER_RUN,
            context=parent,
            attributes={
                s.PRODUCER_ID: self.producer_id,
                s.PROCESS_PID: os.getpid(),
                s.PRODUCER_STOP_REASON: f"stopped before start: {reason}",
                s.PRODUCER_ITERATIONS: 0,
            },
        ):
            pass

    async def _work(self, start: StartTopic, frames: FrameReader) -> int:
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
        parent = context_from(env_carrier(os.environ) or start.trace_context)
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
            tasks = [
                asyncio.create_task(self._receive(frames), name="receive"),
                asyncio.create_task(self._generate_all(router), name="generation"),
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
                if isinstance(message, UpdateConfiguration) and self._assignment is not None:
                    if message.partition is not None:
                        self._assignment.partition = message.partition
                    if message.provider_weights and self._router is not None:
                        self._router.set_weights(message.provider_weights)
                    if message.new_uniques:
                        self._levers.learn(message.new_uniques)
                    self._levers.set_strategy(message.strategy, message.avoid_budget, message.arms)
                elif isinstance(message, ProposeSubtopics) and self._assignment is not None:
                    # answered beside the generation loop, which goes on meanwhile
                    task = asyncio.create_task(self._propose_subtopics(message))
                    self._side_tasks.add(task)
                    task.add_done_callback(self._side_tasks.discard)
        except (ConnectionError, FrameError, ProtocolError) as exc:
            self.request_stop(f"connection to orchestrator lost: {exc}")

    async def _propose_subtopics(self, request: ProposeSubtopics) -> None:
        """Have the LLM propose sub-topics and answer the orchestrator (never raises)."""
        assert self._assignment is not None and self._router is not None
        start = self._assignment.start
        answer = SubtopicProposal(producer_id=self.producer_id, request_id=request.request_id)
        with self._tracer.start_as_current_span(
            s.SPAN_SUBTOPICS_PROPOSE,
            links=_links(request.trace_context),
            attributes={
                s.PRODUCER_ID: self.producer_id,
                s.SUBTOPICS_ROUND: request.request_id,
                s.SUBTOPICS_COUNT: request.count,
                s.SUBTOPICS_EXCLUDED: len(request.exclude),
            },
        ) as span:
            try:
                result = await propose(
                    self._router,
                    topic=start.topic,
                    count=request.count,
                    exclude=request.exclude,
                    seed=xxhash.xxh64_intdigest(
                        f"{start.run_id}:{self.producer_id}:subtopics:{request.request_id}".encode()
                    ),
                )
            except Exception as exc:  # ProviderError, ProvidersUnavailable, a provider bug
                answer.error = f"{type(exc).__name__}: {exc}"[:500]
                span.set_attribute(s.ERROR_TYPE, getattr(exc, "error_type", type(exc).__name__))
                span.set_status(Status(StatusCode.ERROR, answer.error))
                log.warning("sub-topic proposal failed: %s", answer.error)
            else:
                answer.labels = result.labels
                answer.provider = result.provider.key
                answer.model = result.completion.model
                answer.input_tokens = result.completion.input_tokens
                answer.output_tokens = result.completion.output_tokens
                span.set_attributes(
                    {
                        s.SUBTOPICS_LABELS: json.dumps(result.labels),
                        s.SUBTOPICS_PROPOSED: len(result.labels),
                        s.CYCLE_PROVIDER: answer.provider,
                        s.CYCLE_ATTEMPTS: result.attempts,
                    }
                )
                log.info("proposed %d sub-topics: %s", len(result.labels), result.labels)
            answer.trace_context = current_context_carrier()
            with contextlib.suppress(ConnectionError):
                await self._send(answer)

    async def _watch_stdin(self, stdin: asyncio.StreamReader) -> None:
        while await stdin.read(4096):
            pass
        self.request_stop("orchestrator went away (stdin closed)")

    async def _set_degraded(self, degraded: bool, detail: str) -> None:
        """Tell the orchestrator when the producer loses or regains every provider."""
        if degraded == self._degraded:
            return
        self._degraded = degraded
        if degraded:
            log.warning("degraded: %s", detail)
        else:
            log.info("a provider is available again; generating")
        with contextlib.suppress(ConnectionError):
            await self._send(
                ProducerStatus(
                    producer_id=self.producer_id,
                    state="degraded" if degraded else "running",
                    iterations_done=self.iterations_done,
                    detail=detail,
                    trace_context=current_context_carrier(),
                )
            )

    async def _generate_all(self, router: Router) -> None:
        assert self._assignment is not None
        start = self._assignment.start
        seq = int(start.settings.get("start_seq", 0))
        failures = 0
        while start.iterations is None or self.iterations_done < start.iterations:
            if self._stop.is_set():
                return
            with self._tracer.start_as_current_span(
                s.SPAN_GENERATION_CYCLE,
                attributes={s.PRODUCER_ID: self.producer_id, s.CYCLE_ITERATION: seq},
            ) as span:
                partition = self._assignment.partition
                avoid = self._levers.avoid_for(partition)
                try:
                    result = await generate(
                        router,
                        topic=start.topic,
                        request_size=self._assignment.request_size,
                        seed=cycle_seed(start.run_id, self.producer_id, seq),
                        partition=partition,
                        avoid=avoid,
                        arm_for=self._levers.arm_for if self._levers.adaptive else None,
                    )
                except ProvidersUnavailable as exc:
                    # every provider is down: say so, wait for the next probe, never spin
                    wait = min(max(exc.retry_in, 0.2), 60.0)
                    span.set_attribute(s.CYCLE_DEGRADED, True)
                    span.add_event(s.EVENT_UNAVAILABLE, {s.LLM_DELAY_S: round(wait, 3)})
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    await self._set_degraded(True, f"{exc}; next probe in {wait:.1f}s")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), wait)
                    continue
                except ProviderError as exc:
                    failures += 1
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    delay = ERROR_BACKOFF_S[min(failures, len(ERROR_BACKOFF_S)) - 1]
                    log.warning("LLM call failed (%s); retrying in %.1fs", exc, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), delay)
                    continue
                failures = 0
                await self._set_degraded(False, "")
                prepared = self._levers.prepare(result.candidates)
                plan, obeyed = result.plan, result.obedience
                assert plan is not None and obeyed is not None
                partition = plan.partition
                strategy = plan.arm if self._levers.adaptive else self._levers.strategy
                span.set_attributes(
                    {
                        s.CYCLE_CANDIDATES: len(result.candidates),
                        s.CYCLE_PREFILTERED: prepared.prefiltered,
                        s.CYCLE_PROVIDER: result.provider.key,
                        s.CYCLE_ATTEMPTS: result.attempts,
                        s.CYCLE_ECHOES: obeyed.echoes,
                    }
                )
                if strategy:
                    span.set_attribute(s.CYCLE_ARM, strategy)
                if plan.avoided:
                    span.set_attribute(s.CYCLE_AVOIDED, plan.avoided)
                if partition:
                    span.set_attribute(s.CYCLE_PARTITION, partition)
                    span.set_attribute(s.CYCLE_OFF_PARTITION, obeyed.off_partition)
                batch = AttributeBatch(
                    producer_id=self.producer_id,
                    seq=seq,
                    candidates=prepared.candidates,
                    keys=prepared.keys,
                    prefiltered=prepared.prefiltered if prepared.keys is not None else None,
                    partition=partition,
                    strategy=strategy,
                    repeat_keys=prepared.repeat_keys,
                    provider=str(getattr(result.provider, "key", result.provider.name)),
                    model=result.completion.model,
                    input_tokens=result.completion.input_tokens,
                    output_tokens=result.completion.output_tokens,
                    latency_ms=result.completion.latency_ms,
                    lines=obeyed.lines,
                    echoes=obeyed.echoes,
                    off_partition=obeyed.off_partition if partition else None,
                    trace_context=current_context_carrier(),
                )
                try:
                    await self._send(batch)
                except ConnectionError as exc:
                    self.request_stop(f"connection to orchestrator lost: {exc}")
                    return
            seq += 1
            self.iterations_done += 1
            await asyncio.sleep(0)  # let Stop and stdin EOF through between cycles
        await self._send(
            ProducerStatus(
                producer_id=self.producer_id,
                state="finished",
                iterations_done=self.iterations_done,
                trace_context=current_context_carrier(),
            )
        )
        log.info("finished %d iterations; waiting for stop", self.iterations_done)


def _links(carrier: dict[str, str]) -> list[Link]:
    """A link to the span that sent a request (its trace context), when valid."""
    ctx = get_current_span(context_from(carrier)).get_span_context()
    return [Link(ctx)] if ctx.is_valid else []


def install_signal_handlers(producer: Producer) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, producer.request_stop, "SIGTERM received")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
