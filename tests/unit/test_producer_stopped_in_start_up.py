"""A producer stopped before it started still delivers producer.run (system/producer/worker.py).

The orchestrator waits for, and the tester counts, one ``producer.run`` per
spawned producer. A producer that is told to stop (SIGTERM, its stdin closed)
while still connecting used to exit without one: the tester then waited its
whole timeout for the span (the web run stopped at once, in ``webserver``).
"""

import asyncio
import socket

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from system.producer.worker import EXIT_NO_ORCHESTRATOR, Producer


class _Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def tracer(self, name: str):
        return self.provider.get_tracer(name)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_producer_stopped_while_connecting_delivers_producer_run():
    telemetry = _Telemetry()
    producer = Producer(7, "127.0.0.1", _closed_port(), "token", telemetry, None)

    async def scenario() -> int:
        task = asyncio.create_task(producer.run())
        await asyncio.sleep(0.3)  # retrying the refused connection
        producer.request_stop("SIGTERM received")
        return await asyncio.wait_for(task, 10)

    assert asyncio.run(scenario()) == EXIT_NO_ORCHESTRATOR
    (span,) = [s for s in telemetry.exporter.get_finished_spans() if s.name == "producer.run"]
    assert span.attributes["producer.id"] == 7
    assert span.attributes["producer.iterations"] == 0
    assert span.attributes["producer.stop_reason"] == "stopped before start: SIGTERM received"
