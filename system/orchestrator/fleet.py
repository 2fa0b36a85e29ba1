"""The run's producer processes: one per slot, restarted when it dies, all stopped at the end.

A slot whose process exits unexpectedly is restarted after a backoff
(0.2 s doubling, at most 5 s) until it has used ``max_restarts``; then it is
``failed``, and the run fails once every other slot has finished or failed
too. Each spawn is a ``producer.spawn`` span, each unexpected exit a
``producer.lost`` span, the stop a ``producers.stop`` span. A producer that
goes silent (stopped, stuck) is reported, then killed and restarted
(``silence.SilenceWatch``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from system.orchestrator.outbox import Recipients
from system.orchestrator.run_state import RunState
from system.orchestrator.silence import SilenceWatch, silence_from
from system.orchestrator.stats import ProducerStats
from system.orchestrator.supervisor import ProducerProcess, Supervisor, reap
from system.protocol import ProducerStatus, Stop
from system.telemetry import current_context_carrier
from system.telemetry import schema as s
from system.telemetry.propagation import carrier_to_env

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0


class ProducerFleet:
    def __init__(
        self,
        slots: dict[int, ProducerStats],
        *,
        iterations: int | None,
        max_restarts: int,
        token: str,
        log_dir: Path | None,
        log_level: str,
        env: Mapping[str, str],
        tracer: trace.Tracer,
        state: RunState,
    ) -> None:
        self.slots = slots
        self.iterations = iterations  # batches per slot (None: until the run stops)
        self.max_restarts = max_restarts
        self.processes: dict[int, ProducerProcess] = {}
        #: set by ``stop``: exits from then on are expected
        self.stopping = False
        self._tracer = tracer
        self._state = state
        self._token, self._env = token, env
        self._log_dir, self._log_level = log_dir, log_level
        self._supervisor: Supervisor | None = None
        self._root_ctx: Any = None
        self._watchers: set[asyncio.Task[None]] = set()
        self.silence = SilenceWatch(
            slots, self.processes, lambda: self._root_ctx, silence_from(os.environ)
        )
        self._silence_task: asyncio.Task[None] | None = None

    async def start(self, address: tuple[str, int], root_ctx: Any) -> None:
        """Spawn every slot's producer, to connect to ``address``; their spans are children
        of ``root_ctx``."""
        self._root_ctx = root_ctx
        self._supervisor = Supervisor(
            address=address,
            token=self._token,
            log_dir=self._log_dir,
            log_level=self._log_level,
            env=self._env,
        )
        self._silence_task = asyncio.create_task(self.silence.run())
        for producer_id in self.slots:
            await self._spawn(producer_id)

    def expected_pid(self, producer_id: int) -> int | None:
        """The pid of the slot's live process (the handshake checks it)."""
        process = self.processes.get(producer_id)
        return process.pid if process is not None and process.returncode is None else None

    def counted(self, producer_id: int) -> None:
        """A batch of the slot was counted: with its ``iterations`` done, it is finished."""
        slot = self.slots[producer_id]
        if self.iterations is not None and slot.batches >= self.iterations:
            slot.state = "finished"
            self.check_done()

    def reported(self, producer_id: int, status: ProducerStatus) -> None:
        """The producer's own report: its detail, and whether it has finished."""
        slot = self.slots[producer_id]
        slot.detail = status.detail
        if status.state == "finished" and slot.state == "running":
            slot.state = "finished"
            self.check_done()

    async def _spawn(self, producer_id: int) -> None:
        assert self._supervisor is not None
        slot = self.slots[producer_id]
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
                self._state.fail(f"cannot start producer {producer_id}: {exc}")
                return
            span.set_attribute(s.PROCESS_PID, process.pid)
        slot.pid = process.pid
        self.processes[producer_id] = process
        self.silence.heard(producer_id)  # its silence counts from the spawn
        task = asyncio.create_task(self._watch(process))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, process: ProducerProcess) -> None:
        code = await process.wait()
        process.close_stdin()
        slot = self.slots[process.producer_id]
        slot.exits += 1
        slot.last_exit_code = code
        if self.stopping or slot.state in ("finished", "stopped"):
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
        if slot.restarts >= self.max_restarts:
            slot.state = "failed"
            slot.detail = f"exited with code {code}; no restarts left"
            self.check_done()
            return
        slot.state = "restarting"
        await asyncio.sleep(min(0.2 * 2**slot.restarts, 5.0))
        if not self.stopping and self._state.running:
            await self._spawn(process.producer_id)

    def check_done(self) -> None:
        """Fail when every slot is finished or failed and some failed; complete when all
        finished."""
        states = [p.state for p in self.slots.values()]
        if any(state == "failed" for state in states) and all(
            state in ("finished", "failed") for state in states
        ):
            failed = [str(p.producer_id) for p in self.slots.values() if p.state == "failed"]
            self._state.fail(
                f"producer(s) {', '.join(failed)} failed after {self.max_restarts} restarts"
            )
        elif all(state == "finished" for state in states) and self._state.running:
            self._state.complete("iterations reached", quiet=True)

    async def stop(self, server: Recipients, reason: str) -> None:
        """Stop every producer: a Stop to the connected, stdin closed for the others, then
        reap (SIGTERM, SIGKILL after ``STOP_GRACE_S`` each)."""
        self.stopping = True
        if self._silence_task is not None:
            self._silence_task.cancel()
        with self._tracer.start_as_current_span(
            s.SPAN_PRODUCERS_STOP, context=self._root_ctx
        ) as span:
            stop = Stop(reason=reason, trace_context=current_context_carrier())
            connected = list(server.connections)
            span.set_attribute(s.PRODUCERS_CONNECTED, len(connected))
            for producer_id in connected:
                await server.send(producer_id, stop)
            for producer_id, process in self.processes.items():
                if producer_id not in connected:
                    process.close_stdin()
            await reap(list(self.processes.values()), STOP_GRACE_S)
        for slot in self.slots.values():
            if slot.state in ("starting", "running", "restarting"):
                slot.state = "stopped"
        for task in list(self._watchers):
            task.cancel()
