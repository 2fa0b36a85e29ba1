"""The embedded collector: OTLP over HTTP and gRPC into one SpanStore."""

from __future__ import annotations

import threading

from tester.collector.grpc_receiver import GrpcReceiver
from tester.collector.http_receiver import HttpReceiver
from tester.collector.spans import Span
from tester.collector.store import SpanStore


class Collector:
    def __init__(
        self,
        host: str = "127.0.0.1",
        http_port: int = 0,
        grpc_port: int = 0,
        *,
        enable_grpc: bool = True,
        store: SpanStore | None = None,
    ) -> None:
        self.store = store or SpanStore()
        self._lock = threading.Lock()
        self.requests_received = 0
        self.rejected_requests = 0
        self._http = HttpReceiver(self._sink, host, http_port, on_rejected=self._rejected)
        self._grpc = GrpcReceiver(self._sink, host, grpc_port) if enable_grpc else None
        self._started = False
        self._stopped = False

    def _sink(self, spans: list[Span]) -> None:
        with self._lock:
            self.requests_received += 1
        self.store.add(spans)

    def _rejected(self) -> None:
        with self._lock:
            self.rejected_requests += 1

    @property
    def http_endpoint(self) -> str:
        return self._http.endpoint

    @property
    def grpc_endpoint(self) -> str | None:
        return self._grpc.endpoint if self._grpc else None

    def start(self) -> Collector:
        if not self._started:
            self._http.start()
            if self._grpc:
                self._grpc.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started and not self._stopped:
            self._stopped = True
            self._http.stop()
            if self._grpc:
                self._grpc.stop()

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
