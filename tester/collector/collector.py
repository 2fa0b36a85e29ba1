"""The embedded collector: OTLP over HTTP and gRPC into one SpanStore.

    with Collector() as collector:                       # ephemeral ports on 127.0.0.1
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_endpoint}
        ...
        collector.store.wait_for(lambda s: s.name == "topic.run", timeout=60)

Both receivers bind in the constructor, so the endpoints are known before ``start()``.
With ``forward_to``, everything received is also sent on to that OTLP/HTTP endpoint,
in the background (see forwarder.py): the run can be asserted on and seen in Jaeger.
"""

from __future__ import annotations

import threading
from types import TracebackType

from tester.collector.forwarder import Forwarder
from tester.collector.grpc_receiver import GrpcReceiver
from tester.collector.http_receiver import DEFAULT_MAX_BODY, HttpReceiver
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
        max_body_bytes: int = DEFAULT_MAX_BODY,
        forward_to: str | None = None,
    ) -> None:
        # Not ``store or SpanStore()``: an empty store is falsy (it has __len__).
        self.store: SpanStore = store if store is not None else SpanStore()
        self._lock = threading.Lock()
        self._requests_received = 0
        self._rejected_requests = 0
        self._started = False
        self._stopped = False
        self.forwarder: Forwarder | None = None
        self._http = HttpReceiver(
            self._sink, host, http_port, max_body_bytes=max_body_bytes, on_rejected=self._rejected
        )
        self._grpc: GrpcReceiver | None = None
        if enable_grpc:
            try:
                self._grpc = GrpcReceiver(self._sink, host, grpc_port)
            except BaseException:
                self._http.stop()
                raise
        if forward_to:
            self.forwarder = Forwarder(forward_to)

    def _sink(self, spans: list[Span]) -> None:
        with self._lock:
            self._requests_received += 1
        self.store.add(spans)
        if self.forwarder is not None:
            self.forwarder.submit(spans)

    def _rejected(self) -> None:
        with self._lock:
            self._rejected_requests += 1

    @property
    def http_endpoint(self) -> str:
        """Base URL of the OTLP/HTTP receiver; exporters append ``/v1/traces``."""
        return self._http.endpoint

    @property
    def grpc_endpoint(self) -> str | None:
        """``http://host:port`` of the OTLP/gRPC receiver (insecure); None when disabled."""
        return self._grpc.endpoint if self._grpc else None

    @property
    def requests_received(self) -> int:
        """Export requests accepted (HTTP and gRPC), including ones without spans."""
        with self._lock:
            return self._requests_received

    @property
    def rejected_requests(self) -> int:
        """OTLP/HTTP requests answered with an error status."""
        with self._lock:
            return self._rejected_requests

    def start(self) -> Collector:
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped Collector cannot be restarted; make a new one")
            if self._started:
                return self
            self._started = True
        try:
            self._http.start()
            if self._grpc:
                self._grpc.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and release both ports; idempotent, also before ``start()``."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        # In parallel: gRPC may wait out its grace period for in-flight exports.
        stopper = threading.Thread(target=self._grpc.stop, daemon=True) if self._grpc else None
        if stopper:
            stopper.start()
        self._http.stop()
        if stopper:
            stopper.join()
        if self.forwarder is not None:
            self.forwarder.close()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._started and not self._stopped

    def __enter__(self) -> Collector:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<Collector http={self.http_endpoint} grpc={self.grpc_endpoint} "
            f"spans={len(self.store)} requests={self.requests_received}>"
        )
