"""Telemetry.shutdown: spans reach a listening endpoint; an unreachable one does
not hold the process's exit for the exporter's retries."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from system.telemetry.setup import accepts_connections, configure_tracing, endpoint_address
from tester.collector import Collector

# the exporter's own deadline for one export, retries included; the unfixed
# shutdown waited out most of it (backoff 1, 2, 4, 8, 16 s)
EXPORT_TIMEOUT_S = 60


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spans_reach_a_listening_endpoint_at_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    with Collector() as collector:
        telemetry = configure_tracing("unit", trace_ep=collector.http_endpoint, environ={})
        with telemetry.tracer().start_as_current_span("delivered"):
            pass
        with caplog.at_level(logging.WARNING, logger="system.telemetry.setup"):
            telemetry.shutdown()
            telemetry.shutdown()  # a second call does nothing
        assert collector.store.wait_for(lambda s: s.name == "delivered", timeout=60)
    assert "unreachable" not in caplog.text


def test_an_unreachable_endpoint_does_not_hold_the_exit(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", str(EXPORT_TIMEOUT_S))
    port = _closed_port()
    telemetry = configure_tracing("unit", trace_ep=f"http://127.0.0.1:{port}", environ={})
    with telemetry.tracer().start_as_current_span("lost"):
        pass
    # an export already retrying when the process exits
    flushing = threading.Thread(target=telemetry.flush, daemon=True)
    flushing.start()
    exporter = telemetry._exporter
    deadline = time.monotonic() + 60
    while exporter._exporter is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert exporter._exporter is not None, "the real exporter was never built"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="system.telemetry.setup"):
        telemetry.shutdown()
    flushing.join(EXPORT_TIMEOUT_S)
    assert not flushing.is_alive()
    # far below the export timeout: the retries were cut short, not waited out
    assert time.monotonic() - started < EXPORT_TIMEOUT_S / 3
    assert f"trace endpoint http://127.0.0.1:{port} is unreachable" in caplog.text


def test_endpoint_helpers() -> None:
    assert (
        endpoint_address("https://user:secret@h.example/v1/traces?k=v") == "https://h.example:443"
    )
    assert endpoint_address("http://h:4318/v1/traces") == "http://h:4318"
    assert not accepts_connections(f"http://127.0.0.1:{_closed_port()}")
    assert not accepts_connections("http://127.0.0.1:notaport/")
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert accepts_connections(f"http://127.0.0.1:{listening.getsockname()[1]}/v1/traces")
