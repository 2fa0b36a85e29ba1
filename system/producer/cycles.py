"""The producer's generation cycles: ask the LLM, parse, prepare, send a batch.

One ``generation.cycle`` span per cycle. Failures never spin: a provider
error backs off (``ERROR_BACKOFF_S``), and when every provider is down the
producer tells its orchestrator it is degraded and waits for the router's
next probe. The stop event is awaited in every wait, so a stop is prompt.
When every provider is disabled (each refused its key) the producer reports
``error`` with the reason, which fails the run, and generates no more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import xxhash
from opentelemetry.trace import Status, StatusCode, Tracer

from system.levers.producer import ProducerLevers
from system.producer.generation import generate
from system.producer.resilience.router import ProvidersFailed, ProvidersUnavailable, Router
from system.protocol import AttributeBatch, ProducerStatus, StartTopic, UpdateConfiguration
from system.protocol.messages import ReportedState
from system.providers.base import ProviderError
from system.telemetry import current_context_carrier
from system.telemetry import schema as s

log = logging.getLogger("system.producer")

ERROR_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)

__all__ = ["ERROR_BACKOFF_S", "Assignment", "GenerationLoop", "cycle_seed"]


@dataclass
class Assignment:
    """What this producer works on; ``partition`` follows the orchestrator's updates."""

    start: StartTopic
    request_size: int
    partition: str | None


def cycle_seed(run_id: str, producer_id: int, seq: int) -> int:
    return xxhash.xxh64_intdigest(f"{run_id}:{producer_id}:{seq}".encode())


class GenerationLoop:
    def __init__(
        self,
        producer_id: int,
        tracer: Tracer,
        assignment: Assignment,
        levers: ProducerLevers,
        *,
        stop: asyncio.Event,
        send: Callable[[AttributeBatch | ProducerStatus], Awaitable[None]],
        request_stop: Callable[[str], None],
    ) -> None:
        self.producer_id = producer_id
        self._tracer = tracer
        self._assignment = assignment
        self._levers = levers
        self._stop = stop
        self._send = send
        self.request_stop = request_stop
        self._degraded = False
        self.iterations_done = 0

    def apply(self, message: UpdateConfiguration, router: Router) -> None:
        """The orchestrator's steering: partition, provider weights, new uniques, strategy."""
        if message.partition is not None:
            self._assignment.partition = message.partition
        if message.provider_weights:
            router.set_weights(message.provider_weights)
        if message.new_uniques:
            self._levers.learn(message.new_uniques)
        self._levers.set_strategy(message.strategy, message.avoid_budget, message.arms)

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
            await self._send(self._status("degraded" if degraded else "running", detail))

    def _status(self, state: ReportedState, detail: str = "") -> ProducerStatus:
        """This producer's state as a ProducerStatus, in the current trace context."""
        return ProducerStatus(
            producer_id=self.producer_id,
            state=state,
            iterations_done=self.iterations_done,
            detail=detail,
            trace_context=current_context_carrier(),
        )

    async def run(self, router: Router) -> None:
        """Cycle until the iterations are done or the producer is told to stop."""
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
                except ProvidersFailed as exc:
                    # every provider refused its key: nothing to wait for; the run fails
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    log.error("%s", exc)
                    with contextlib.suppress(ConnectionError):
                        await self._send(self._status("error", str(exc)))
                    return
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
        await self._send(self._status("finished"))
        log.info("finished %d iterations; waiting for stop", self.iterations_done)
