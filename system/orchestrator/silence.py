"""Producers that go silent: a stopped (SIGSTOP) or stuck producer must not stall a run.

A connected producer sends a heartbeat (its ``ProducerStatus``) every
``heartbeat_s`` (a sixth of the silence limit, 5 s by default) from its event
loop, whatever its LLM request is doing; batches and statuses count as being
heard too. A producer not heard from for ``silence_s`` (30 s by default;
``TOPIC_ENUMERATOR_PRODUCER_SILENCE_S`` sets it) is **reported**: a warning in
the log and a ``producer.silent`` event on ``topic.run`` (``producer.action``
``reported``). Silent for ``LOST_FACTOR`` times that (120 s by default), it is
**lost**: SIGKILLed (event ``producer.action`` ``killed``), and its slot is
restarted like any producer that died, within ``--max-restarts``. A producer
still starting (not connected yet) gets ``STARTUP_GRACE_S`` more for both.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace

from system.orchestrator.stats import ProducerStats
from system.orchestrator.supervisor import ProducerProcess
from system.telemetry import schema as s

log = logging.getLogger(__name__)

SILENCE_ENV = "TOPIC_ENUMERATOR_PRODUCER_SILENCE_S"
DEFAULT_SILENCE_S = 30.0
#: silent this many times ``silence_s``: the producer is killed and its slot restarted
LOST_FACTOR = 4.0
#: added to both limits while a producer starts (imports, connecting, handshake)
STARTUP_GRACE_S = 60.0
#: producers heartbeat this many times per ``silence_s``
HEARTBEATS_PER_SILENCE = 6
_WATCHED = ("starting", "running")


def silence_from(environ: Mapping[str, str]) -> float:
    """``silence_s`` from the environment (1 to 3600 s), else the default."""
    raw = environ.get(SILENCE_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_SILENCE_S
    if not (math.isfinite(value) and 1.0 <= value <= 3600.0):
        log.warning("%s=%r is not 1 to 3600 s; using %g s", SILENCE_ENV, raw, DEFAULT_SILENCE_S)
        return DEFAULT_SILENCE_S
    return value


class SilenceWatch:
    def __init__(
        self,
        slots: dict[int, ProducerStats],
        processes: dict[int, ProducerProcess],
        root_ctx: Callable[[], Any],
        silence_s: float = DEFAULT_SILENCE_S,
    ) -> None:
        self.silence_s = silence_s
        self._slots = slots
        self._processes = processes
        self._root_ctx = root_ctx
        self._heard: dict[int, float] = {}
        self._reported: set[int] = set()

    @property
    def heartbeat_s(self) -> float:
        return self.silence_s / HEARTBEATS_PER_SILENCE

    def heard(self, producer_id: int) -> None:
        """A message (or a spawn) from the slot: its silence starts again."""
        self._heard[producer_id] = time.monotonic()
        if producer_id in self._reported:
            self._reported.discard(producer_id)
            log.info("producer %d is heard from again", producer_id)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.silence_s / 4))
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        for producer_id, slot in self._slots.items():
            process = self._processes.get(producer_id)
            if slot.state not in _WATCHED or process is None or process.returncode is not None:
                continue
            quiet = now - self._heard.setdefault(producer_id, now)
            grace = STARTUP_GRACE_S if slot.state == "starting" else 0.0
            if quiet >= self.silence_s * LOST_FACTOR + grace:
                log.error(
                    "producer %d (pid %d) silent for %.0fs: treating it as lost (killed; "
                    "the slot restarts)", producer_id, process.pid, quiet,
                )  # fmt: skip
                self._event(producer_id, process.pid, quiet, "killed")
                self._heard[producer_id] = now  # one kill; the restart is the fleet's
                self._reported.discard(producer_id)
                slot.detail = f"killed after {quiet:.0f}s of silence"
                process.signal(signal.SIGKILL)
            elif quiet >= self.silence_s + grace and producer_id not in self._reported:
                self._reported.add(producer_id)
                lost_in = self.silence_s * LOST_FACTOR + grace - quiet
                log.warning(
                    "producer %d (pid %d) silent for %.0fs (stopped or stuck?); treated as "
                    "lost in %.0fs", producer_id, process.pid, quiet, lost_in,
                )  # fmt: skip
                self._event(producer_id, process.pid, quiet, "reported")
                slot.detail = f"silent for {quiet:.0f}s"

    def _event(self, producer_id: int, pid: int, quiet: float, action: str) -> None:
        span = trace.get_current_span(self._root_ctx())
        span.add_event(
            s.EVENT_PRODUCER_SILENT,
            {
                s.PRODUCER_ID: producer_id,
                s.PROCESS_PID: pid,
                s.PRODUCER_SILENT_S: round(quiet, 1),
                s.PRODUCER_ACTION: action,
            },
        )
