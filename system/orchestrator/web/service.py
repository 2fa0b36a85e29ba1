"""Web mode: the orchestrator waits for work and runs topics on request.

``RunService`` owns the runs started over the control channel: it validates a
request with the same rules as the command line, refuses a run whose output
folder is in use, caps the work in flight, and turns each run's progress into
events (snapshots and newly found attributes) for whoever listens.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from opentelemetry.context import Context

from system.orchestrator.config import ConfigError, provider_environment
from system.orchestrator.run import RunStatus, TopicRun
from system.orchestrator.web.settings import WebSettings
from system.output import AttributesPager, OutputError, OutputLock
from system.output.attributes_jsonl import support_of
from system.output.claim import DISK_FULL
from system.telemetry import Telemetry

log = logging.getLogger(__name__)

MAX_ACTIVE_RUNS = 4
#: producers across all active runs of a web-mode orchestrator (and so per run)
WEB_MAX_PRODUCERS = 64
MAX_FINISHED_RUNS = 100
SNAPSHOT_INTERVAL_S = 0.5
ATTRIBUTE_EVENT_ITEMS = 50
MAX_PAGE = 5000
#: how long a start's answer waits for the run's trace id
TRACE_ID_WAIT_S = 2.0
START_FIELDS = {"topic", "producers", "iterations", "provider", "request_size"}
#: a start request's client-supplied key (HTTP ``Idempotency-Key``): one run per key
IDEMPOTENCY_KEY = "idempotency_key"
MAX_IDEMPOTENCY_KEY = 200


class ServiceError(Exception):
    """A request the service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


EventSink = Callable[[str, str, dict[str, Any]], None]


@dataclass
class ManagedRun:
    run: TopicRun
    task: asyncio.Task[Any] | None = None
    pager: AttributesPager | None = None
    pending_items: list[str] = field(default_factory=list)
    pending_start: int | None = None
    pending_count: int = 0
    stop_requested: bool = False
    lock: OutputLock | None = None

    @property
    def active(self) -> bool:
        return self.task is not None and not self.task.done()


class RunService:
    def __init__(
        self,
        telemetry: Telemetry,
        settings: WebSettings,
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._telemetry = telemetry
        self._settings = settings
        self.output_root = settings.output_root
        #: the producers' environment (None: this process's own)
        self._env = env
        self.runs: dict[str, ManagedRun] = {}
        self._sinks: list[EventSink] = []
        self._ticker: asyncio.Task[None] | None = None
        self._by_key: dict[str, str] = {}  # idempotency key -> the run it started

    # ------------------------------------------------------------- listeners
    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink) if sink in self._sinks else None

    def _emit(self, kind: str, run_id: str, body: dict[str, Any]) -> None:
        for sink in list(self._sinks):
            try:
                sink(kind, run_id, body)
            except Exception:  # a broken listener must not break a run
                log.exception("event listener failed")

    # ------------------------------------------------------------- requests
    def start(self, args: Mapping[str, Any], parent: Context | None) -> dict[str, Any]:
        """Start a run; a start with the key of a run already started answers that run."""
        key = args.get(IDEMPOTENCY_KEY)
        if key is not None:
            if not isinstance(key, str) or not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
                raise ServiceError(
                    400, f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
                )
            started = self._by_key.get(key)
            if started is not None and started in self.runs:
                return self.snapshot(started)
            args = {k: v for k, v in args.items() if k != IDEMPOTENCY_KEY}
        unknown = set(args) - START_FIELDS
        if unknown:
            raise ServiceError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
        try:
            fields = {name: args[name] for name in START_FIELDS - {"topic"} if name in args}
            options = self._settings.run_options
            config = options.run_config(
                topic=args.get("topic"),
                output_root=self.output_root,
                max_producers=WEB_MAX_PRODUCERS,
                **fields,
            )
            provider_env = provider_environment(config, env_file=options.env_file)
        except ConfigError as exc:  # the output folder cannot be made on a full disk: 507
            cause = exc.__cause__
            disk_full = isinstance(cause, OSError) and cause.errno in DISK_FULL
            raise ServiceError(507 if disk_full else 400, str(exc)) from exc
        active = [m for m in self.runs.values() if m.active]
        if any(m.run.config.output_dir == config.output_dir for m in active):
            raise ServiceError(409, f"a run on topic {config.topic!r} is already active")
        if len(active) >= MAX_ACTIVE_RUNS:
            raise ServiceError(429, f"{MAX_ACTIVE_RUNS} runs are active; stop one first")
        busy = sum(m.run.config.producers for m in active)
        if busy + config.producers > WEB_MAX_PRODUCERS:
            raise ServiceError(
                429,
                f"{busy} producers are busy; at most {WEB_MAX_PRODUCERS} run at once "
                f"({WEB_MAX_PRODUCERS - busy} available)",
            )
        try:  # another process (a CLI run) may be writing to the same folder
            lock = OutputLock(config.output_dir).acquire()
        except OutputError as exc:  # a full disk: 507, and no lock is kept
            raise ServiceError(507 if exc.disk_full else 409, str(exc)) from exc
        try:
            run = TopicRun(
                config,
                self._telemetry,
                host=self._settings.host,
                log_dir=self._settings.log_dir,
                log_level=self._settings.log_level,
                # provider specs and .env keys reach producers only through their environment
                env={**(os.environ if self._env is None else self._env), **provider_env},
                parent_context=parent,
            )
        except BaseException:
            lock.release()  # whatever failed, the folder is free for the next request
            raise
        managed = ManagedRun(run, pager=AttributesPager(config.attributes_path), lock=lock)
        run.on_append = lambda start, lines: self._on_append(managed, start, lines)
        self.runs[run.run_id] = managed
        if key is not None:
            self._by_key[key] = run.run_id
        managed.task = asyncio.create_task(self._execute(managed))
        self._forget_old_runs()
        self._ensure_ticker()
        log.info("run %s started: topic %r", run.run_id, config.topic)
        return self.snapshot(run.run_id)

    async def trace_id_of(self, run_id: str) -> str | None:
        """A just-started run's trace id, once its root span exists (the span starts at
        the run task's first step; without tracing, or if the run ends first: None)."""
        managed = self._get(run_id)
        deadline = time.monotonic() + TRACE_ID_WAIT_S
        await asyncio.sleep(0)  # the run's task takes its first step
        while not managed.run.traced and managed.active and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return managed.run.trace_id

    def stop(self, run_id: str, reason: str = "stop requested over the API") -> dict[str, Any]:
        managed = self._get(run_id)
        if managed.stop_requested or not managed.active or managed.run.status != "running":
            raise ServiceError(409, f"run {run_id} is already {self._state(managed)}")
        managed.stop_requested = True
        managed.run.request_stop(reason)
        return self.snapshot(run_id)

    def list(self) -> dict[str, Any]:
        return {"runs": [self.snapshot(run_id, producers=False) for run_id in self.runs]}

    def snapshot(self, run_id: str, *, producers: bool = True) -> dict[str, Any]:
        managed = self._get(run_id)
        run = managed.run
        st = run.stats
        elapsed = (st.ended_wall or time.time()) - st.started_wall
        body: dict[str, Any] = {
            "run_id": run.run_id,
            "trace_id": run.trace_id,
            "topic": run.config.topic,
            "state": self._state(managed),
            "reason": run.reason,
            "config": {
                "producers": run.config.producers,
                "iterations": run.config.iterations,
                "provider": run.config.provider,
                "request_size": run.config.request_size,
                "output_dir": str(run.config.output_dir),
            },
            "counts": st.counts(),
            "requests": st.batches,
            "tokens": st.input_tokens + st.output_tokens,
            "started_at": st.started_wall,
            "ended_at": st.ended_wall,
            "elapsed_s": round(elapsed, 3),
            "unique_per_s": round(st.unique / elapsed, 2) if elapsed > 0 else 0.0,
            "coverage": run.coverage.current.to_dict() if run.coverage.current else None,
        }
        if producers:
            body["support"] = run.support.recent_support(run.index)
            body["producers"] = [
                {**p.to_dict(), "provider": p.provider or run.config.provider}
                for p in st.producers.values()
            ]
            body["providers"] = {name: p.to_dict() for name, p in st.providers.items()}
        return body

    def attributes(
        self, run_id: str, offset: int, limit: int, *, min_support: int = 0
    ) -> dict[str, Any]:
        """A page of attributes.txt from ``offset``, each with its support (sightings).

        With ``min_support`` only items seen at least that often are in ``items``;
        ``next_offset`` is where the next page starts (lines scanned, not returned)."""
        managed = self._get(run_id)
        if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 0:
            raise ServiceError(400, "min_support must be a non-negative integer")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ServiceError(400, "offset must be a non-negative integer")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise ServiceError(400, f"limit must be between 1 and {MAX_PAGE}")
        assert managed.pager is not None
        items = managed.pager.page(offset, limit)
        total = managed.run.stats.resumed + managed.run.stats.unique
        support = support_of(managed.run.index, items)
        next_offset = offset + len(items)
        if min_support > 0:
            kept = [(i, n) for i, n in zip(items, support, strict=True) if n >= min_support]
            items, support = [i for i, _ in kept], [n for _, n in kept]
        return {
            "run_id": run_id,
            "offset": offset,
            "total": total,
            "items": items,
            "support": support,
            "next_offset": next_offset,
        }

    # ------------------------------------------------------------- internals
    def _get(self, run_id: str) -> ManagedRun:
        managed = self.runs.get(run_id) if isinstance(run_id, str) else None
        if managed is None:
            raise ServiceError(404, f"no run with id {run_id!r}")
        return managed

    @staticmethod
    def _state(managed: ManagedRun) -> RunStatus | Literal["stopping", "finishing"]:
        """The web API's ``state``: the run's status, or on its way to it."""
        status = managed.run.status
        if status == "running" and managed.stop_requested:
            return "stopping"
        if status != "running" and managed.active:
            return "stopping" if status == "stopped" else "finishing"
        return status

    async def _execute(self, managed: ManagedRun) -> None:
        run = managed.run
        try:
            outcome = await run.execute()
            log.info("run %s %s: %s", run.run_id, outcome.status, outcome.reason)
        except Exception as exc:
            log.exception("run %s crashed", run.run_id)
            run.status, run.reason = "failed", f"internal error: {exc}"
        finally:
            if managed.lock is not None:
                managed.lock.release()
            self._flush_attributes(managed)
            # the task is still "running" inside its own finally: report the end explicitly
            snapshot = self.snapshot(run.run_id)
            snapshot["state"] = run.status
            self._emit("run", run.run_id, snapshot)

    # ``builtins.list``: inside this class ``list`` is the method above
    def _on_append(self, managed: ManagedRun, start: int, lines: builtins.list[str]) -> None:
        if managed.pending_start is None:
            managed.pending_start = start
        managed.pending_count += len(lines)
        managed.pending_items.extend(lines)
        del managed.pending_items[:-ATTRIBUTE_EVENT_ITEMS]

    def _flush_attributes(self, managed: ManagedRun) -> None:
        if managed.pending_start is None:
            return
        body = {
            "start": managed.pending_start,
            "count": managed.pending_count,
            "items": managed.pending_items,
        }
        managed.pending_items, managed.pending_start, managed.pending_count = [], None, 0
        self._emit("attributes", managed.run.run_id, body)

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        """Push a snapshot of every active run twice a second until none is left."""
        while True:
            active = [m for m in self.runs.values() if m.active]
            if not active:
                return
            for managed in active:
                self._flush_attributes(managed)
                self._emit("run", managed.run.run_id, self.snapshot(managed.run.run_id))
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)

    def _forget_old_runs(self) -> None:
        finished = [run_id for run_id, m in self.runs.items() if not m.active]
        for run_id in finished[: max(0, len(finished) - MAX_FINISHED_RUNS)]:
            del self.runs[run_id]
        self._by_key = {k: r for k, r in self._by_key.items() if r in self.runs}

    async def shutdown(self, reason: str) -> None:
        """Stop every active run and wait for them to finish."""
        for managed in self.runs.values():
            if managed.active:
                managed.run.request_stop(reason)
        tasks = [m.task for m in self.runs.values() if m.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
