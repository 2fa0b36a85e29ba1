"""One topic run: spawn producers, deduplicate their batches, write the file, finish.

The run ends when every producer slot has finished its iterations (status
``completed``), when a lever decides the topic is exhausted (saturation, the
coverage target: also ``completed``), when a stop is requested (``stopped``),
or when a slot exhausts its restarts or the output cannot be written
(``failed``).

``TopicRun`` builds the run's parts, runs them and answers the producers
(it is the server's ``ConnectionHandler``); the work is in the parts:
``RunState`` (run_state.py: the status and its reason), ``ProducerFleet``
(fleet.py: the processes), ``BatchIngest`` (ingest.py: a batch into the
files and the counts), ``Discovery`` and ``CoverageMonitor`` (what the
levers and the completeness estimate decide), ``Steering`` (steering.py:
carrying it out), ``Outbox`` (outbox.py: what goes back to the producers)
and summary.py (run.json, the ``topic.run`` span's attributes).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

from system.dedup.index import DedupIndex
from system.logsetup import announce
from system.orchestrator.config import RunConfig
from system.orchestrator.coverage import CoverageMonitor
from system.orchestrator.degraded import DegradedWatch
from system.orchestrator.discovery import Discovery
from system.orchestrator.fleet import ProducerFleet
from system.orchestrator.ingest import BatchIngest
from system.orchestrator.outbox import Outbox
from system.orchestrator.run_state import RunState, RunStatus
from system.orchestrator.server import ProducerServer
from system.orchestrator.stats import ProducerStats, RunStats
from system.orchestrator.steering import Steering, adaptive_weights
from system.orchestrator.summary import final_attributes, run_summary, start_attributes
from system.orchestrator.supervisor import ProducerProcess
from system.output import OutputError
from system.output.attributes_jsonl import SupportFile
from system.output.summary_refresher import SummaryRefresher
from system.protocol import (
    AttributeBatch,
    Message,
    ProducerStatus,
    StartTopic,
    Stop,
    SubtopicProposal,
)
from system.telemetry import Telemetry, context_from, current_context_carrier
from system.telemetry import schema as s
from system.telemetry.propagation import env_carrier

__all__ = ["RunOutcome", "RunStatus", "TopicRun"]

log = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    status: RunStatus  # completed | stopped | failed
    reason: str
    stats: RunStats
    trace_id: str | None

    @property
    def exit_code(self) -> int:
        return 1 if self.status == "failed" else 0


class TopicRun:
    def __init__(
        self,
        config: RunConfig,
        telemetry: Telemetry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_dir: Path | None = None,
        log_level: str = "info",
        env: Mapping[str, str] | None = None,
        parent_context: Context | None = None,
    ) -> None:
        self.config = config
        self.run_id = uuid.uuid4().hex
        self.stats = RunStats()
        self.stats.producers = {
            i: ProducerStats(producer_id=i) for i in range(1, config.producers + 1)
        }
        self._tracer = telemetry.tracer("system.orchestrator")
        self._token = secrets.token_urlsafe(32)
        self._env = dict(os.environ if env is None else env)
        self.state = RunState()
        self.address: tuple[str, int] | None = None
        self._root_span: trace.Span | None = None
        self._root_ctx: Context | None = None
        self._parent_context = parent_context
        self.discovery = Discovery(
            config.levers,
            list(self.stats.producers),
            request_size=config.request_size,
            open_ended=config.iterations is None,
        )
        self.index = DedupIndex()
        self.ingest = BatchIngest(
            attributes_path=config.attributes_path,
            output_dir=config.output_dir,
            index=self.index,
            stats=self.stats,
            tracer=self._tracer,
            run_id=self.run_id,
            near_filter=self.discovery.filter_near,
            fail=self.state.fail,
        )
        self.coverage = CoverageMonitor(self.index.sightings, target=config.levers.target_coverage)
        self.server = ProducerServer(self._token, self, host=host, port=port)
        self.outbox = Outbox(self.server, self.discovery.take_delta)
        self.fleet = ProducerFleet(
            self.stats.producers,
            iterations=config.iterations,
            max_restarts=config.max_restarts,
            token=self._token,
            log_dir=log_dir,
            log_level=log_level,
            env=self._env,
            tracer=self._tracer,
            state=self.state,
        )
        self.steering = Steering(
            self.discovery,
            self.coverage,
            self.outbox,
            self.stats,
            weights=adaptive_weights(config),
            complete=self.state.complete,
            active=lambda: self.state.running and not self.fleet.stopping,
        )
        self._summary_writer = SummaryRefresher(
            config.summary_path, self.summary, on_error=self.state.summary_failed
        )
        self._degraded = DegradedWatch(config.max_degraded_s)

    # ------------------------------------------------- what others read and set
    @property
    def processes(self) -> dict[int, ProducerProcess]:
        return self.fleet.processes

    @property
    def support(self) -> SupportFile:
        return self.ingest.support

    @property
    def on_append(self) -> Callable[[int, list[str]], None] | None:
        """Called with (index of the first new line, new lines) after each append."""
        return self.ingest.on_append

    @on_append.setter
    def on_append(self, callback: Callable[[int, list[str]], None] | None) -> None:
        self.ingest.on_append = callback

    @property
    def traced(self) -> bool:
        """The root span has started (``trace_id`` is final), or the run ended before it."""
        return self._root_span is not None

    @property
    def trace_id(self) -> str | None:
        if self._root_span is None:
            return None
        ctx = self._root_span.get_span_context()
        return format(ctx.trace_id, "032x") if ctx.is_valid else None

    # ----------------------------------------------------------------- control
    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the run to stop (signal handler, API). Idempotent."""
        self.state.stop(reason)

    @property
    def status(self) -> RunStatus:
        return self.state.status

    @status.setter
    def status(self, status: RunStatus) -> None:
        self.state.status = status

    @property
    def reason(self) -> str:
        return self.state.reason

    @reason.setter
    def reason(self, reason: str) -> None:
        self.state.reason = reason

    # --------------------------------------------------------------------- run
    async def execute(self, on_listening: Any = None) -> RunOutcome:
        try:
            existing = self.ingest.open()
        except OutputError as exc:
            self.state.fail(str(exc))
            self._summary_writer.write()
            return RunOutcome(self.status, self.reason, self.stats, None)
        self.discovery.seed(existing)
        self._summary_writer.write()  # status "running": a crash leaves a truthful run.json
        if self.stats.resumed:
            log.info(
                "resuming: %d attributes already in %s", self.stats.resumed, self.ingest.file.path
            )
        parent = self._parent_context or context_from(env_carrier(self._env))
        attributes = start_attributes(self.config, self.run_id, self.stats.resumed)
        with self._tracer.start_as_current_span(
            s.SPAN_TOPIC_RUN, context=parent, kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            self._root_span = self.steering.root_span = span
            try:
                await self._run_producers(on_listening, trace.set_span_in_context(span))
            except Exception as exc:
                span.record_exception(exc)
                self.state.fail(f"internal error: {exc}")
                raise
            finally:
                await self.fleet.stop(self.server, self.status)
                await self.server.close()
                self.stats.ended_wall = time.time()
                self.ingest.close()
                span.set_attributes(final_attributes(self))
                if self.status == "failed":
                    span.set_status(Status(StatusCode.ERROR, self.reason))
        self._summary_writer.write()  # a failure (disk full) is one log line, never a traceback
        return RunOutcome(self.status, self.reason, self.stats, self.trace_id)

    async def _run_producers(self, on_listening: Any, root_ctx: Context) -> None:
        self._root_ctx = root_ctx
        try:
            self.address = await self.server.start()
        except OSError as exc:  # the port was taken after the command line was checked
            self.state.fail(f"cannot listen for producers: {exc.strerror or exc}")
            return
        announce(log, "listening on %s:%d", *self.address)
        if on_listening is not None:
            on_listening(self)
        pusher = asyncio.create_task(self.outbox.run())
        refresher = asyncio.create_task(self._summary_writer.run())
        try:
            await self.fleet.start(self.address, root_ctx)
            await self.state.done.wait()
        finally:
            pusher.cancel()
            refresher.cancel()

    # ------------------------------------------------- ConnectionHandler hooks
    def expected_pid(self, producer_id: int) -> int | None:
        return self.fleet.expected_pid(producer_id)

    def on_connected(self, producer_id: int) -> Message:
        slot = self.stats.producers[producer_id]
        self.fleet.silence.heard(producer_id)
        if self.fleet.stopping or self.status != "running":
            return Stop(reason=self.status, trace_context=current_context_carrier())
        slot.state = "running"
        iterations = self.config.iterations
        remaining = None if iterations is None else max(0, iterations - slot.batches)
        log.info("producer %d connected (pid %s)", producer_id, slot.pid)
        partition, levers = self.discovery.start(producer_id, self.index)
        # queued: the push task sends it after this StartTopic
        self.steering.apply(self.discovery.on_connected(producer_id))
        return StartTopic(
            run_id=self.run_id,
            topic=self.config.topic,
            request_size=self.config.request_size,
            iterations=remaining,
            provider=self.config.provider,
            provider_weights=dict(weights.current) if (weights := self.steering.weights) else {},
            partition=partition,
            settings={
                "start_seq": slot.batches,
                "sim_latency_ms": self.config.sim_latency_ms,
                "sim_profile": self.config.sim_profile,
                "levers": levers,
                "heartbeat_s": self.fleet.silence.heartbeat_s,
            },
            trace_context=current_context_carrier(),
        )

    def on_batch(self, producer_id: int, batch: AttributeBatch) -> None:
        self.fleet.silence.heard(producer_id)
        self.ingest.receive(
            producer_id,
            batch,
            lambda new: self.steering.apply(self.discovery.on_batch(producer_id, batch, new)),
        )
        self._degraded.mark(producer_id, False)  # a batch: this producer has a provider
        self.steering.after_batch()
        self.fleet.counted(producer_id)

    def on_status(self, producer_id: int, status: ProducerStatus) -> None:
        self.fleet.silence.heard(producer_id)
        if status.state == "heartbeat":  # alive, nothing else to say
            return
        self.fleet.reported(producer_id, status)
        if status.state in ("degraded", "error"):
            log.warning("producer %d reports %s: %s", producer_id, status.state, status.detail)
        if status.state == "error":  # the producer cannot go on (every provider refused)
            self.state.fail(f"producer {producer_id}: {status.detail}")
        if status.state in ("degraded", "running"):
            self._degraded.mark(producer_id, status.state == "degraded", status.detail)
            self._degraded.check(self.server, self.state)

    def on_subtopics(self, producer_id: int, proposal: SubtopicProposal) -> None:
        self.fleet.silence.heard(producer_id)
        if proposal.error:
            log.warning("producer %d could not propose sub-topics: %s", producer_id, proposal.error)
        else:
            log.info("producer %d proposed sub-topics: %s", producer_id, proposal.labels)
        if self.status == "running":
            self.steering.apply(self.discovery.on_subtopics(producer_id, proposal))

    def on_disconnected(self, producer_id: int, reason: str) -> None:
        self._degraded.forget(producer_id)
        if not self.fleet.stopping:
            log.info("producer %d disconnected: %s", producer_id, reason)
            self.steering.apply(self.discovery.producer_gone(producer_id))

    def on_rejected(self, peer: str, reason: str) -> None:
        self.stats.rejected_connections += 1
        with self._tracer.start_as_current_span(
            s.SPAN_CONNECTION_REJECTED,
            context=self._root_ctx,
            attributes={s.NET_PEER_ADDRESS: peer, s.REJECT_REASON: reason},
        ):
            pass

    # ----------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """run.json (summary.py)."""
        return run_summary(self)
