"""One topic run: spawn producers, deduplicate their batches, write the file, finish.

The run ends when every producer slot has finished its iterations (status
``completed``), when a lever decides the topic is exhausted (saturation, the
coverage target: also ``completed``), when a stop is requested (``stopped``),
or when a slot exhausts its restarts or the output cannot be written
(``failed``).

``TopicRun`` is the state machine and the producers' ``ConnectionHandler``;
the work is in its parts: ``ProducerFleet`` (fleet.py: the processes),
``BatchIngest`` (ingest.py: a batch into the files and the counts),
``Outbox`` (outbox.py: what goes back to the producers), ``Discovery`` (the
levers), ``CoverageMonitor`` (the completeness estimate) and
``run_summary`` (summary.py: run.json).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from system.dedup.index import DedupIndex
from system.logsetup import announce
from system.orchestrator.config import RunConfig
from system.orchestrator.coverage import CoverageMonitor, estimate_attributes
from system.orchestrator.degraded import DegradedWatch
from system.orchestrator.discovery import BatchEffects, Discovery
from system.orchestrator.fleet import ProducerFleet
from system.orchestrator.ingest import BatchIngest
from system.orchestrator.outbox import Outbox
from system.orchestrator.provider_weights import AdaptiveWeights
from system.orchestrator.server import ProducerServer
from system.orchestrator.stats import ProducerStats, RunStats
from system.orchestrator.summary import run_summary
from system.orchestrator.supervisor import ProducerProcess, Supervisor
from system.output.attributes_jsonl import SupportFile
from system.output.summary_refresher import SummaryRefresher
from system.protocol import (
    AttributeBatch,
    Message,
    ProducerStatus,
    StartTopic,
    Stop,
    SubtopicProposal,
    UpdateConfiguration,
)
from system.telemetry import Telemetry, context_from, current_context_carrier
from system.telemetry import schema as s
from system.telemetry.propagation import env_carrier

log = logging.getLogger(__name__)

REWEIGHT_EVERY = 10  # batches between looks at the providers' yields


#: "running" until the run ends, then one of the other three (``run.status``)
RunStatus = Literal["running", "completed", "stopped", "failed"]


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
        self._log_dir, self._log_level = log_dir, log_level
        self._done = asyncio.Event()
        self.status: RunStatus = "running"
        self.reason = ""
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
            fail=self._fail,
        )
        self.coverage = CoverageMonitor(self.index.sightings, target=config.levers.target_coverage)
        self.server = ProducerServer(self._token, self, host=host, port=port)
        self.outbox = Outbox(self.server, self.discovery.take_delta)
        self.fleet = ProducerFleet(
            self.stats.producers,
            max_restarts=config.max_restarts,
            tracer=self._tracer,
            running=lambda: self.status == "running",
            fail=self._fail,
            complete=lambda reason: self._complete(reason, quiet=True),
        )
        self._weights = (
            AdaptiveWeights({spec.name: spec.weight for spec in config.providers})
            if config.adaptive_weights and len(config.providers) > 1
            else None
        )
        self._summary_writer = SummaryRefresher(
            config.summary_path, self.summary, on_error=self._summary_failed
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
    def trace_id(self) -> str | None:
        if self._root_span is None:
            return None
        ctx = self._root_span.get_span_context()
        return format(ctx.trace_id, "032x") if ctx.is_valid else None

    # ----------------------------------------------------------------- control
    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the run to stop (signal handler, API). Idempotent."""
        if self.status == "running":
            self.status, self.reason = "stopped", reason
            log.info("stopping: %s", reason)
        self._done.set()

    def _fail(self, reason: str) -> None:
        if self.status == "running":
            self.status, self.reason = "failed", reason
            log.error("run failed: %s", reason)
        self._done.set()

    def _complete(self, reason: str, *, quiet: bool = False) -> None:
        """The run's goal is reached (iterations, saturation, coverage target)."""
        if self.status == "running":
            self.status, self.reason = "completed", reason
            if not quiet:
                log.info("%s", reason)
            self._done.set()

    def _summary_failed(self, message: str) -> None:
        """A run.json write error ends the run like any other write error (exit 1)."""
        if self.status == "running":
            self._fail(message)
        elif self.status != "failed":  # the final summary: the run had ended well
            self.status, self.reason = "failed", message
            log.error("run failed: %s", message)

    # --------------------------------------------------------------------- run
    async def execute(self, on_listening: Any = None) -> RunOutcome:
        try:
            existing = self.ingest.open()
        except OSError as exc:
            self._fail(f"cannot open {self.ingest.file.path}: {exc.strerror or exc}")
            self._summary_writer.write()
            return RunOutcome(self.status, self.reason, self.stats, None)
        self.discovery.seed(existing)
        self._summary_writer.write()  # status "running": a crash leaves a truthful run.json
        self.ingest.open_support(existing)
        if self.stats.resumed:
            log.info(
                "resuming: %d attributes already in %s", self.stats.resumed, self.ingest.file.path
            )
        parent = self._parent_context or context_from(env_carrier(self._env))
        with self._tracer.start_as_current_span(
            s.SPAN_TOPIC_RUN, context=parent, kind=SpanKind.INTERNAL, attributes=self._attributes()
        ) as span:
            self._root_span = span
            try:
                await self._run_producers(on_listening, trace.set_span_in_context(span))
            except Exception as exc:
                span.record_exception(exc)
                self._fail(f"internal error: {exc}")
                raise
            finally:
                await self.fleet.stop(self.server, self.status)
                await self.server.close()
                self.stats.ended_wall = time.time()
                self.ingest.close()
                self._finish_span(span)
        self._summary_writer.write()  # a failure (disk full) is one log line, never a traceback
        return RunOutcome(self.status, self.reason, self.stats, self.trace_id)

    def _attributes(self) -> dict[str, AttributeValue]:
        """The ``topic.run`` span's attributes at its start."""
        return {
            s.TOPIC_NAME: self.config.topic,
            s.TOPIC_SLUG: self.config.slug,
            s.RUN_ID: self.run_id,
            s.RUN_PRODUCERS: self.config.producers,
            s.RUN_ITERATIONS: self.config.iterations if self.config.iterations else -1,
            s.RUN_REQUEST_SIZE: self.config.request_size,
            s.RUN_PROVIDER: self.config.provider,
            s.RUN_OUTPUT_FILE: str(self.config.attributes_path),
            s.RUN_RESUMED: self.stats.resumed,
            s.RUN_LEVERS: ",".join(self.config.levers.enabled()),
        }

    async def _run_producers(self, on_listening: Any, root_ctx: Context) -> None:
        self._root_ctx = root_ctx
        self.address = await self.server.start()
        announce(log, "listening on %s:%d", *self.address)
        if on_listening is not None:
            on_listening(self)
        supervisor = Supervisor(
            address=self.address,
            token=self._token,
            log_dir=self._log_dir,
            log_level=self._log_level,
            env=self._env,
        )
        pusher = asyncio.create_task(self.outbox.run())
        refresher = asyncio.create_task(self._summary_writer.run())
        try:
            await self.fleet.start(supervisor, root_ctx)
            await self._done.wait()
        finally:
            pusher.cancel()
            refresher.cancel()

    def _finish_span(self, span: trace.Span) -> None:
        st = self.stats
        span.set_attributes(
            {
                s.RUN_STATUS: self.status,
                s.RUN_STOP_REASON: self.reason,
                s.RUN_UNIQUE: st.unique,
                s.RUN_CANDIDATES: st.candidates,
                s.RUN_DUPLICATES: st.duplicates,
                s.RUN_REJECTED: st.rejected,
                s.RUN_BATCHES: st.batches,
                s.RUN_RESTARTS: st.restarts,
                s.RUN_PREFILTERED: self.discovery.prefiltered,
                s.RUN_NEAR_DUPLICATES: self.discovery.near_duplicate_count,
                s.RUN_DELTA_PUSHES: self.discovery.delta_pushes,
            }
        )
        if self.discovery.novelty is not None:
            span.set_attribute(s.RUN_NOVELTY, round(self.discovery.novelty, 5))
        final = self.coverage.compute(self.stats.resumed + self.stats.unique)
        if final is not None:
            span.set_attributes(estimate_attributes(final))
        if self.status == "failed":
            span.set_status(Status(StatusCode.ERROR, self.reason))

    # ------------------------------------------------- ConnectionHandler hooks
    def expected_pid(self, producer_id: int) -> int | None:
        return self.fleet.expected_pid(producer_id)

    def on_connected(self, producer_id: int) -> Message:
        slot = self.stats.producers[producer_id]
        if self.fleet.stopping or self.status != "running":
            return Stop(reason=self.status, trace_context=current_context_carrier())
        slot.state = "running"
        iterations = self.config.iterations
        remaining = None if iterations is None else max(0, iterations - slot.batches)
        log.info("producer %d connected (pid %s)", producer_id, slot.pid)
        partition, levers = self.discovery.start(producer_id, self.index)
        # queued: the push task sends it after this StartTopic
        self._apply(self.discovery.on_connected(producer_id))
        return StartTopic(
            run_id=self.run_id,
            topic=self.config.topic,
            request_size=self.config.request_size,
            iterations=remaining,
            provider=self.config.provider,
            provider_weights=dict(self._weights.current) if self._weights else {},
            partition=partition,
            settings={
                "start_seq": slot.batches,
                "sim_latency_ms": self.config.sim_latency_ms,
                "sim_profile": self.config.sim_profile,
                "levers": levers,
            },
            trace_context=current_context_carrier(),
        )

    def on_batch(self, producer_id: int, batch: AttributeBatch) -> None:
        self.ingest.receive(
            producer_id,
            batch,
            lambda new: self._apply(self.discovery.on_batch(producer_id, batch, new)),
        )
        self._degraded.mark(producer_id, False)  # a batch: this producer has a provider
        if self._weights is not None and self.stats.batches % REWEIGHT_EVERY == 0:
            self._reweight()
        self._coverage_step()
        slot = self.stats.producers[producer_id]
        if self.config.iterations is not None and slot.batches >= self.config.iterations:
            slot.state = "finished"
            self.fleet.check_done()

    def _coverage_step(self) -> None:
        """The live estimate: events on topic.run, the stop rule (--target-coverage)."""
        events, covered = self.coverage.on_batch(self.stats.resumed + self.stats.unique)
        if self.coverage.current is not None:
            self.stats.coverage = self.coverage.current.interval_text()
        if self._root_span is not None:
            for name, attributes in events:
                self._root_span.add_event(name, attributes)
        if covered:
            self._complete(covered)

    def _apply(self, effects: BatchEffects) -> None:
        """Queue the levers' updates, record their decisions, stop when saturated."""
        if effects.updates:
            self.outbox.queue(effects.updates)
        if self.discovery.has_delta:
            self.outbox.wake()
        if self._root_span is not None:
            for name, attributes in effects.events:
                self._root_span.add_event(name, attributes)
        for request_id in effects.subtopic_requests:
            assert self.discovery.subtopics is not None
            asyncio.get_running_loop().call_later(
                self.discovery.subtopics.timeout_s, self._subtopics_timeout, request_id
            )
        if effects.saturated:
            self._complete(effects.saturated)

    def _reweight(self) -> None:
        """Shift the producers' provider weights toward the better yield (--adaptive-weights)."""
        assert self._weights is not None
        weights = self._weights.propose(self.stats.providers)
        if weights is None:
            return
        log.info("provider weights now %s (by unique attributes per token)", weights)
        if self._root_span is not None:
            self._root_span.add_event(
                s.EVENT_PROVIDERS_REWEIGHT, {s.PROVIDER_WEIGHTS: json.dumps(weights)}
            )
        self.outbox.queue_to_all(UpdateConfiguration(provider_weights=weights))

    def on_status(self, producer_id: int, status: ProducerStatus) -> None:
        slot = self.stats.producers[producer_id]
        slot.detail = status.detail
        if status.state == "finished" and slot.state == "running":
            slot.state = "finished"
            self.fleet.check_done()
        elif status.state in ("degraded", "error"):
            log.warning("producer %d reports %s: %s", producer_id, status.state, status.detail)
        if status.state in ("degraded", "running"):
            self._degraded.mark(producer_id, status.state == "degraded", status.detail)
            self._check_degraded()

    def _check_degraded(self) -> None:
        """Fail the run once no producer has had a provider for --max-degraded-s."""
        remaining = self._degraded.remaining(self.server.connections)
        if remaining is None or self.status != "running":
            return
        if remaining <= 0:
            self._fail(self._degraded.reason())
        else:
            asyncio.get_running_loop().call_later(remaining + 0.05, self._check_degraded)

    def on_subtopics(self, producer_id: int, proposal: SubtopicProposal) -> None:
        if proposal.error:
            log.warning("producer %d could not propose sub-topics: %s", producer_id, proposal.error)
        else:
            log.info("producer %d proposed sub-topics: %s", producer_id, proposal.labels)
        if self.status == "running":
            self._apply(self.discovery.on_subtopics(producer_id, proposal))

    def _subtopics_timeout(self, request_id: int) -> None:
        if self.status == "running" and not self.fleet.stopping:
            self._apply(self.discovery.subtopics_timeout(request_id))

    def on_disconnected(self, producer_id: int, reason: str) -> None:
        self._degraded.forget(producer_id)
        if not self.fleet.stopping:
            log.info("producer %d disconnected: %s", producer_id, reason)
            self._apply(self.discovery.producer_gone(producer_id))

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
        return run_summary(
            run_id=self.run_id,
            trace_id=self.trace_id,
            config=self.config,
            status=self.status,
            reason=self.reason,
            stats=self.stats,
            levers=self.discovery.summary(),
            coverage=self.coverage.summary(self.stats.resumed + self.stats.unique),
            support_path=self.support.path,
        )
