"""DeferredExporter: build the real span exporter on first use, in the export thread.

The OTLP/HTTP exporter pulls in ``requests`` and ``urllib3`` (~0.1 s of CPU
per process on the reference machine), the gRPC one ``grpc``. Every producer
would pay that before its first LLM call, all of them at once when a run
starts. Built on the first export instead, that import runs in the
BatchSpanProcessor's thread while the process waits on its LLM, or at
shutdown for a process that never exported.

Shutdown is idempotent: ``Telemetry.shutdown`` may stop the exporter before
the span processor does (to cut retries short), and the processor's own call
then does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class DeferredExporter(SpanExporter):
    def __init__(
        self, factory: Callable[[], SpanExporter], *, gate: Callable[[], bool] | None = None
    ) -> None:
        self._factory = factory
        #: asked before each export: False drops the batch without the real exporter
        self._gate = gate
        self._exporter: SpanExporter | None = None
        self._lock = threading.Lock()
        self._shut_down = False

    def _real(self) -> SpanExporter:
        with self._lock:
            if self._exporter is None:
                self._exporter = self._factory()
            return self._exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shut_down or (self._gate is not None and not self._gate()):
            return SpanExportResult.FAILURE
        return self._real().export(spans)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        exporter = self._exporter
        return True if exporter is None else exporter.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        with self._lock:
            exporter = self._exporter
        if exporter is not None:
            exporter.shutdown()
