"""Steering: the levers' effects reach the outbox, the topic.run span and the run's state."""

from __future__ import annotations

import asyncio

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from system.dedup.sightings import SightingTable
from system.levers.base import BatchEffects
from system.levers.provider_weights import AdaptiveWeights
from system.orchestrator.config import LeverConfig
from system.orchestrator.coverage import CoverageMonitor
from system.orchestrator.discovery import Discovery
from system.orchestrator.outbox import Outbox
from system.orchestrator.run_state import RunState
from system.orchestrator.stats import BatchCounts, ProducerStats, RunStats
from system.orchestrator.steering import REWEIGHT_EVERY, Steering
from system.protocol import Message, UpdateConfiguration
from system.telemetry import schema as s


class Server:
    def __init__(self) -> None:
        self.connections = {1: object(), 2: object()}
        self.sent: list[tuple[int, Message]] = []

    async def send(self, producer_id: int, message: Message) -> bool:
        self.sent.append((producer_id, message))
        return True


def build(weights: AdaptiveWeights | None = None):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stats = RunStats()
    stats.producers = {1: ProducerStats(producer_id=1), 2: ProducerStats(producer_id=2)}
    discovery = Discovery(LeverConfig(), [1, 2], request_size=60, open_ended=True)
    server, state = Server(), RunState()
    outbox = Outbox(server, discovery.take_delta)
    steering = Steering(
        discovery,
        CoverageMonitor(SightingTable()),
        outbox,
        stats,
        weights=weights,
        complete=state.complete,
        active=lambda: state.running,
    )
    span = provider.get_tracer("test").start_span(s.SPAN_TOPIC_RUN)
    steering.root_span = span
    return steering, outbox, server, state, stats, span, exporter


def test_updates_events_and_saturation_are_carried_out() -> None:
    async def scenario():
        steering, outbox, server, state, _, span, exporter = build()
        steering.apply(
            BatchEffects(
                updates=[(2, UpdateConfiguration(partition="A-M"))],
                events=[("lever.decision", {"detail": "split"})],
                saturated="saturated: novelty 0.001",
            )
        )
        await outbox.push()
        span.end()
        return server, state, exporter

    server, state, exporter = asyncio.run(scenario())
    assert [(pid, m.partition) for pid, m in server.sent] == [(2, "A-M")]
    assert (state.status, state.reason) == ("completed", "saturated: novelty 0.001")
    (run_span,) = exporter.get_finished_spans()
    assert [(e.name, dict(e.attributes)) for e in run_span.events] == [
        ("lever.decision", {"detail": "split"})
    ]


def test_weights_move_toward_the_better_yield_every_few_batches() -> None:
    async def scenario():
        weights = AdaptiveWeights({"a": 1, "b": 1})
        steering, outbox, server, _, stats, span, exporter = build(weights)
        for i in range(REWEIGHT_EVERY):
            provider = "a" if i % 2 else "b"
            new = 50 if provider == "a" else 5
            stats.add_batch(1, provider, BatchCounts(candidates=60, new=new, output_tokens=1000))
            steering.after_batch()
        await outbox.push()
        span.end()
        return server, exporter

    server, exporter = asyncio.run(scenario())
    assert sorted(pid for pid, _ in server.sent) == [1, 2]
    weights = server.sent[0][1].provider_weights
    assert weights["a"] > 1 > weights["b"]
    events = [e.name for e in exporter.get_finished_spans()[0].events]
    assert events.count(s.EVENT_PROVIDERS_REWEIGHT) == 1
