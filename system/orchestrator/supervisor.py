"""Spawning, watching and reaping producer processes.

Each producer gets the run token on its stdin (never in argv or the
environment) and keeps that pipe open: when the orchestrator dies, however it
dies, the pipe closes and the producer exits. The trace context of the spawn
span travels in TRACEPARENT so the producer's spans join the run's trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from system.producer.lifeline import PARENT_PID_ENV

log = logging.getLogger(__name__)

# Variables a producer must not inherit: the orchestrator's own service name
# would mislabel the producer's spans.
_DROPPED_ENV = ("OTEL_SERVICE_NAME", "TRACEPARENT", "TRACESTATE")


class ProducerProcess:
    def __init__(
        self, producer_id: int, spawn_no: int, process: asyncio.subprocess.Process
    ) -> None:
        self.producer_id = producer_id
        self.spawn_no = spawn_no
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def wait(self) -> int:
        return await self.process.wait()

    def close_stdin(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()

    def signal(self, sig: int) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)


class Supervisor:
    def __init__(
        self,
        *,
        address: tuple[str, int],
        token: str,
        log_dir: Path | None,
        log_level: str,
        env: Mapping[str, str],
    ) -> None:
        self.address = address
        self._token = token
        self.log_dir = log_dir
        self.log_level = log_level
        self._env = {k: v for k, v in env.items() if k not in _DROPPED_ENV}

    def command(self, producer_id: int) -> list[str]:
        host, port = self.address
        return [
            sys.executable,
            "-m",
            "system.producer",
            "--id",
            str(producer_id),
            "--connect",
            f"{host}:{port}",
            "--log-level",
            self.log_level,
        ]

    async def spawn(
        self, producer_id: int, spawn_no: int, trace_env: Mapping[str, str]
    ) -> ProducerProcess:
        # the producer checks its parent against this pid (system/producer/lifeline.py)
        env = {**self._env, **trace_env, PARENT_PID_ENV: str(os.getpid())}
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"producer-{producer_id}.log"
            output = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        else:
            output = None  # inherit the orchestrator's stderr
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command(producer_id),
                stdin=asyncio.subprocess.PIPE,
                stdout=output if output is not None else sys.stderr,
                stderr=output if output is not None else sys.stderr,
                env=env,
                close_fds=True,
            )
        finally:
            if output is not None:
                output.close()
        assert process.stdin is not None
        process.stdin.write(self._token.encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            await process.stdin.drain()
        log.debug("spawned producer %s (spawn %s) as pid %s", producer_id, spawn_no, process.pid)
        return ProducerProcess(producer_id, spawn_no, process)


async def reap(processes: list[ProducerProcess], grace_s: float) -> None:
    """Wait for the processes to exit; SIGTERM after grace_s, SIGKILL after another grace_s."""
    alive = [p for p in processes if p.returncode is None]
    if not alive:
        return
    waits = [asyncio.ensure_future(p.wait()) for p in alive]
    _, pending = await asyncio.wait(waits, timeout=grace_s)
    if pending:
        for p in alive:
            if p.returncode is None:
                log.warning(
                    "producer %s did not stop in %.0fs; sending SIGTERM", p.producer_id, grace_s
                )
                p.signal(15)
        _, pending = await asyncio.wait(pending, timeout=grace_s)
    if pending:
        for p in alive:
            if p.returncode is None:
                log.warning("producer %s ignored SIGTERM; killing it", p.producer_id)
                p.signal(9)
        await asyncio.wait(pending, timeout=grace_s)
    for p in alive:
        p.close_stdin()
