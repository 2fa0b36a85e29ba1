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

from system.producer.connect import EXIT_NO_ORCHESTRATOR
from system.producer.worker import Producer


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


def test_a_producer_stopped_while_connecting_delivers_producer_run(monkeypatch):
    # the orchestrator hands its producers the trace to join in TRACEPARENT
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    monkeypatch.setenv("TRACEPARENT", f"00-{trace_id}-00f067aa0ba902b7-01")
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
    assert span.attributes["producer.stop_reason"] == "stopped during start-up: SIGTERM received"
    assert format(span.context.trace_id, "032x") == trace_id
