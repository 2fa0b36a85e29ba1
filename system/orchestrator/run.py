"""One topic run: spawn producers, deduplicate their batches, write the file, finish.

The run ends when every producer slot has finished its iterations (status
``completed``), when a stop is requested (``stopped``), or when a slot
exhausts its restarts or the output cannot be written (``failed``).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from system.dedup.index import DedupIndex
from system.levers.base import BatchEffects
from system.levers.prefilter import unpack_keys
from system.levers.provider_weights import AdaptiveWeights
from system.logsetup import announce
from system.orchestrator.config import RunConfig
from system.orchestrator.coverage import CoverageMonitor, estimate_attributes
from system.orchestrator.degraded import DegradedWatch
from system.orchestrator.discovery import Discovery
from system.orchestrator.server import ProducerServer
from system.orchestrator.stats import ProducerStats, RunStats
from system.orchestrator.supervisor import ProducerProcess, Supervisor, reap
from system.output import AttributesFile
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
from system.telemetry.propagation import carrier_to_env, env_carrier

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
REWEIGHT_EVERY = 10  # batches between looks at the providers' yields
#: new uniques gathered this long go to producers as one delta message
DELTA_INTERVAL_S = 0.05
#: at most this many new uniques per delta message (frames are capped at 8 MiB)
DELTA_CHUNK = 5000


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


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


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
        self.stats.producers = {i: ProducerStats(i) for i in range(1, config.producers + 1)}
        self._telemetry = telemetry
        self._tracer = telemetry.tracer("system.orchestrator")
        self._token = secrets.token_urlsafe(32)
        self._env = dict(os.environ if env is None else env)
        self._host, self._port = host, port
        self._log_dir, self._log_level = log_dir, log_level
        self.index = DedupIndex()
        self.file = AttributesFile(config.attributes_path)
        self.server = ProducerServer(self._token, self, host=host, port=port)
        self.processes: dict[int, ProducerProcess] = {}
        self._supervisor: Supervisor | None = None
        self._done = asyncio.Event()
        self._stopping = False
        self._watchers: set[asyncio.Task[None]] = set()
        self.status: RunStatus = "running"
        self.reason = ""
        self.address: tuple[str, int] | None = None
        self._root_ctx: Any = None
        self._root_span: trace.Span | None = None
        self._parent_context = parent_context
        #: called with (index of the first new line, new lines) after each append
        self.on_append: Callable[[int, list[str]], None] | None = None
        self.discovery = Discovery(
            config.levers,
            list(self.stats.producers),
            request_size=config.request_size,
            open_ended=config.iterations is None,
        )
        self._updates: list[tuple[int, Message]] = []
        self._weights = (
            AdaptiveWeights({spec.name: spec.weight for spec in config.providers})
            if config.adaptive_weights and len(config.providers) > 1
            else None
        )
        self._wake_push = asyncio.Event()
        self._near_file: Any = None
        self._write_failed = False
        self._summary_writer = SummaryRefresher(
            config.summary_path, self.summary, on_error=self._summary_failed
        )
        self._degraded = DegradedWatch(config.max_degraded_s)
        # sighting counts: attributes.jsonl and the completeness estimate (coverage.py)
        self.support = SupportFile(config.output_dir / "attributes.jsonl")
        self.coverage = CoverageMonitor(self.index.sightings, target=config.levers.target_coverage)

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

    # --------------------------------------------------------------------- run
    async def execute(self, on_listening: Any = None) -> RunOutcome:
        try:
            existing = self.file.open()
        except OSError as exc:
            self._fail(f"cannot open {self.file.path}: {exc.strerror or exc}")
            self._write_summary()
            return RunOutcome(self.status, self.reason, self.stats, None)
        self.stats.torn_dropped = self.file.torn_dropped
        self.stats.resumed = self.index.load_existing(existing)
        self.discovery.seed(existing)
        self._summary_writer.write()  # status "running": a crash leaves a truthful run.json
        self.support.open(existing, self.index)
        if self.stats.resumed:
            log.info("resuming: %d attributes already in %s", self.stats.resumed, self.file.path)
        parent = self._parent_context or context_from(env_carrier(self._env))
        attributes: dict[str, AttributeValue] = {
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
        with self._tracer.start_as_current_span(
            s.SPAN_TOPIC_RUN, context=parent, kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            self._root_span = span
            self._root_ctx = trace.set_span_in_context(span)
            try:
                await self._run_producers(on_listening)
            except Exception as exc:
                span.record_exception(exc)
                self._fail(f"internal error: {exc}")
                raise
            finally:
                await self._shutdown()
                self.stats.ended_wall = time.time()
                self.file.close()
                self._close_support()
                if self._near_file is not None:
                    self._near_file.close()
                self._finish_span(span)
        self._write_summary()
        return RunOutcome(self.status, self.reason, self.stats, self.trace_id)

    def _write_summary(self) -> None:
        """run.json now; a failure (disk full) is one log line, never a traceback."""
        self._summary_writer.write()

    def _summary_failed(self, message: str) -> None:
        """A run.json write error ends the run like any other write error (exit 1)."""
        if self.status == "running":
            self._fail(message)
        elif self.status != "failed":  # the final summary: the run had ended well
            self.status, self.reason = "failed", message
            log.error("run failed: %s", message)

    @property
    def trace_id(self) -> str | None:
        if self._root_span is None:
            return None
        ctx = self._root_span.get_span_context()
        return format(ctx.trace_id, "032x") if ctx.is_valid else None

    async def _run_producers(self, on_listening: Any) -> None:
        self.address = await self.server.start()
        announce(log, "listening on %s:%d", *self.address)
        if on_listening is not None:
            on_listening(self)
        self._supervisor = Supervisor(
            address=self.address,
            token=self._token,
            log_dir=self._log_dir,
            log_level=self._log_level,
            env=self._env,
        )
        pusher = asyncio.create_task(self._push_loop())
        refresher = asyncio.create_task(self._summary_writer.run())
        try:
            for producer_id in self.stats.producers:
                await self._spawn(producer_id)
            await self._done.wait()
        finally:
            pusher.cancel()
            refresher.cancel()

    async def _push_loop(self) -> None:
        """Send gathered deltas of new uniques and queued configuration updates."""
        while True:
            await self._wake_push.wait()
            await asyncio.sleep(DELTA_INTERVAL_S)  # gather: one message per interval
            self._wake_push.clear()
            delta = self.discovery.take_delta()
            updates, self._updates = self._updates, []
            carrier = current_context_carrier()
            for start in range(0, len(delta), DELTA_CHUNK):
                message = UpdateConfiguration(
                    new_uniques=delta[start : start + DELTA_CHUNK], trace_context=carrier
                )
                for producer_id in list(self.server.connections):
                    await self.server.send(producer_id, message)
            for producer_id, update in updates:
                update.trace_context = carrier
                await self.server.send(producer_id, update)

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

    # --------------------------------------------------------------- producers
    async def _spawn(self, producer_id: int) -> None:
        assert self._supervisor is not None
        slot = self.stats.producers[producer_id]
        slot.spawns += 1
        slot.state = "starting"
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCER_SPAWN,
            context=self._root_ctx,
            attributes={s.PRODUCER_ID: producer_id, s.PRODUCER_RESTART: slot.spawns - 1},
        ) as span:
            trace_env = carrier_to_env(current_context_carrier())
            try:
                process = await self._supervisor.spawn(producer_id, slot.spawns - 1, trace_env)
            except OSError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                slot.state = "failed"
                self._fail(f"cannot start producer {producer_id}: {exc}")
                return
            span.set_attribute(s.PROCESS_PID, process.pid)
        slot.pid = process.pid
        self.processes[producer_id] = process
        task = asyncio.create_task(self._watch(process))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, process: ProducerProcess) -> None:
        code = await process.wait()
        process.close_stdin()
        slot = self.stats.producers[process.producer_id]
        slot.exits += 1
        slot.last_exit_code = code
        if self._stopping or slot.state in ("finished", "stopped"):
            return
        slot.errors += 1
        log.warning(
            "producer %d (pid %d) exited unexpectedly with code %s",
            process.producer_id,
            process.pid,
            code,
        )
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCER_LOST,
            context=self._root_ctx,
            attributes={
                s.PRODUCER_ID: process.producer_id,
                s.PROCESS_PID: process.pid,
                s.PROCESS_EXIT_CODE: code,
                s.PRODUCER_RESTART: process.spawn_no,
            },
        ) as span:
            span.set_status(
                Status(StatusCode.ERROR, f"producer {process.producer_id} exited with code {code}")
            )
        if slot.restarts >= self.config.max_restarts:
            slot.state = "failed"
            slot.detail = f"exited with code {code}; no restarts left"
            self._check_done()
            return
        slot.state = "restarting"
        await asyncio.sleep(min(0.2 * 2**slot.restarts, 5.0))
        if not self._stopping and self.status == "running":
            await self._spawn(process.producer_id)

    def _check_done(self) -> None:
        states = [p.state for p in self.stats.producers.values()]
        if any(state == "failed" for state in states) and all(
            state in ("finished", "failed") for state in states
        ):
            failed = [
                str(p.producer_id) for p in self.stats.producers.values() if p.state == "failed"
            ]
            self._fail(
                f"producer(s) {', '.join(failed)} failed after {self.config.max_restarts} restarts"
            )
        elif all(state == "finished" for state in states) and self.status == "running":
            self.status, self.reason = "completed", "iterations reached"
            self._done.set()

    async def _shutdown(self) -> None:
        self._stopping = True
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCERS_STOP, context=self._root_ctx
        ) as span:
            stop = Stop(reason=self.status, trace_context=current_context_carrier())
            connected = list(self.server.connections)
            span.set_attribute(s.PRODUCERS_CONNECTED, len(connected))
            for producer_id in connected:
                await self.server.send(producer_id, stop)
            for producer_id, process in self.processes.items():
                if producer_id not in connected:
                    process.close_stdin()
            await reap(list(self.processes.values()), STOP_GRACE_S)
        for slot in self.stats.producers.values():
            if slot.state in ("starting", "running", "restarting"):
                slot.state = "stopped"
        for task in list(self._watchers):
            task.cancel()
        await self.server.close()

    # ------------------------------------------------- ConnectionHandler hooks
    def expected_pid(self, producer_id: int) -> int | None:
        process = self.processes.get(producer_id)
        return process.pid if process is not None and process.returncode is None else None

    def on_connected(self, producer_id: int) -> Message:
        slot = self.stats.producers[producer_id]
        if self._stopping or self.status != "running":
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
        slot = self.stats.producers[producer_id]
        candidates = [c for c in batch.candidates if isinstance(c, str)]
        not_text = len(batch.candidates) - len(candidates)
        with self._tracer.start_as_current_span(
            s.SPAN_BATCH_RECEIVE,
            context=context_from(batch.trace_context),
            kind=SpanKind.CONSUMER,
            attributes={
                s.PRODUCER_ID: producer_id,
                s.BATCH_SEQ: batch.seq,
                s.BATCH_CANDIDATES: len(batch.candidates),
                s.RUN_ID: self.run_id,
            },
        ) as span:
            keys = batch.keys if not_text == 0 else None
            repeats = unpack_keys(batch.repeat_keys) if isinstance(batch.repeat_keys, bytes) else []
            result = self.index.add_batch(
                candidates,
                keys,
                producer_id=producer_id,
                provider=batch.provider,
                repeat_keys=repeats,
            )
            result.new, near = self.discovery.filter_near(result.new)
            if result.new and not self._append(result.new):
                result.new = []  # not in the file, so not found: the run is failing
            if near:
                self._write_near(near)
            span.set_attributes(
                {
                    s.BATCH_NEW: len(result.new),
                    s.BATCH_DUPLICATES: result.duplicates,
                    s.BATCH_REJECTED: result.rejected + not_text,
                    s.BATCH_INPUT_TOKENS: batch.input_tokens,
                    s.BATCH_OUTPUT_TOKENS: batch.output_tokens,
                }
            )
            if batch.prefiltered is not None:
                span.set_attribute(s.BATCH_PREFILTERED, batch.prefiltered)
            if repeats:
                span.set_attribute(s.BATCH_REPEATS, result.repeats)
            if near:
                span.set_attribute(s.BATCH_NEAR_DUPLICATES, len(near))
            if batch.partition:
                span.set_attribute(s.BATCH_PARTITION, batch.partition)
            if batch.strategy:
                span.set_attribute(s.BATCH_STRATEGY, batch.strategy)
            self._apply(self.discovery.on_batch(producer_id, batch, result.new))
        st = self.stats
        st.mark_batch(len(batch.candidates))
        st.batches += 1
        st.candidates += len(batch.candidates)
        st.unique += len(result.new)
        st.duplicates += result.duplicates
        st.prefiltered += batch.prefiltered or 0
        st.rejected += result.rejected + not_text
        st.input_tokens += batch.input_tokens
        st.output_tokens += batch.output_tokens
        st.count_batch(
            batch.provider,
            len(batch.candidates),
            len(result.new),
            (batch.input_tokens, batch.output_tokens),
        )
        slot.provider = batch.provider
        self._degraded.mark(producer_id, False)  # a batch: this producer has a provider
        if self._weights is not None and st.batches % REWEIGHT_EVERY == 0:
            self._reweight()
        slot.batches += 1
        slot.candidates += len(batch.candidates)
        slot.new += len(result.new)
        slot.input_tokens += batch.input_tokens
        slot.output_tokens += batch.output_tokens
        self._coverage_step()
        if self.config.iterations is not None and slot.batches >= self.config.iterations:
            slot.state = "finished"
            self._check_done()

    def _coverage_step(self) -> None:
        """The live estimate: events on topic.run, attributes.jsonl refresh, the stop rule."""
        events, covered = self.coverage.on_batch(self.stats.resumed + self.stats.unique)
        if self.coverage.current is not None:
            self.stats.coverage = self.coverage.current.interval_text()
        if self._root_span is not None:
            for name, attributes in events:
                self._root_span.add_event(name, attributes)
        if covered and self.status == "running":
            self.status, self.reason = "completed", covered
            log.info("%s", covered)
            self._done.set()
        if self.support.due():
            try:
                self.support.compact(self.index)
            except OSError as exc:
                log.warning("cannot rewrite %s: %s", self.support.path, exc)

    def _close_support(self) -> None:
        try:
            self.support.close(self.index)
        except OSError as exc:
            log.warning("cannot write %s: %s", self.support.path, exc)

    def _apply(self, effects: BatchEffects) -> None:
        """Queue the levers' updates, record their decisions, stop when saturated."""
        if effects.updates:
            self._updates.extend(effects.updates)
        if effects.updates or self.discovery.has_delta:
            self._wake_push.set()
        if self._root_span is not None:
            for name, attributes in effects.events:
                self._root_span.add_event(name, attributes)
        for request_id in effects.subtopic_requests:
            assert self.discovery.subtopics is not None
            asyncio.get_running_loop().call_later(
                self.discovery.subtopics.timeout_s, self._subtopics_timeout, request_id
            )
        if effects.saturated and self.status == "running":
            self.status, self.reason = "completed", effects.saturated
            log.info("%s", effects.saturated)
            self._done.set()

    def _write_near(self, near: list[tuple[str, str]]) -> None:
        """Near-duplicates go to near_duplicates.txt (variant TAB the attribute it resembles)."""
        try:
            if self._near_file is None:
                path = self.config.output_dir / "near_duplicates.txt"
                self._near_file = path.open("a", encoding="utf-8")
            self._near_file.write("".join(f"{a}\t{b}\n" for a, b in near))
            self._near_file.flush()
        except OSError as exc:
            self._fail(f"cannot write near_duplicates.txt: {exc.strerror or exc}")

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
        for producer_id in list(self.server.connections):
            self._updates.append((producer_id, UpdateConfiguration(provider_weights=weights)))
        self._wake_push.set()

    def _append(self, lines: list[str]) -> bool:
        if self._write_failed:
            return False
        with self._tracer.start_as_current_span(
            s.SPAN_FILE_APPEND,
            attributes={s.FILE_PATH: str(self.file.path), s.FILE_LINES: len(lines)},
        ) as span:
            try:
                written = self.file.append(lines)
            except OSError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"cannot write {self.file.path}"))
                self._write_failed = True
                self._fail(f"cannot write {self.file.path}: {exc.strerror or exc}")
                return False
            span.set_attribute(s.FILE_BYTES, written)
            try:
                self.support.append(lines, self.index)
            except OSError as exc:  # like attributes.txt: a write error ends the run
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"cannot write {self.support.path}"))
                self._write_failed = True
                self._fail(f"cannot write {self.support.path}: {exc.strerror or exc}")
                # the lines are in attributes.txt: they count (the resume rebuilds the jsonl)
        if self.on_append is not None:
            self.on_append(self.stats.resumed + self.stats.unique, lines)
        return True

    def on_status(self, producer_id: int, status: ProducerStatus) -> None:
        slot = self.stats.producers[producer_id]
        slot.detail = status.detail
        if status.state == "finished" and slot.state == "running":
            slot.state = "finished"
            self._check_done()
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
        if self.status == "running" and not self._stopping:
            self._apply(self.discovery.subtopics_timeout(request_id))

    def on_disconnected(self, producer_id: int, reason: str) -> None:
        self._degraded.forget(producer_id)
        if not self._stopping:
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
        st = self.stats
        duration = (st.ended_wall or time.time()) - st.started_wall
        return {
            "run_id": self.run_id,
            "trace_id": self.trace_id,
            "topic": self.config.topic,
            "slug": self.config.slug,
            "status": self.status,
            "reason": self.reason,
            "config": self.config.to_dict(),
            "counts": st.counts(),
            "timings": {
                "started_at": _iso(st.started_wall),
                "ended_at": _iso(st.ended_wall),
                "duration_s": round(duration, 3),
                "unique_per_s": round(st.unique / duration, 2) if duration > 0 else 0.0,
                **st.ingest(),
            },
            "producers": [p.to_dict() for p in st.producers.values()],
            "providers": {name: p.to_dict() for name, p in st.providers.items()},
            "levers": self.discovery.summary(),
            "coverage": self.coverage.summary(st.resumed + st.unique),
            "files": {
                "attributes": str(self.config.attributes_path),
                "support": str(self.support.path),
            },
        }
