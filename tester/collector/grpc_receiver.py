"""OTLP/gRPC trace receiver (opentelemetry.proto.collector.trace.v1.TraceService/Export)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tester.collector.http_receiver import url_host
from tester.collector.spans import Span, spans_from_request

log = logging.getLogger(__name__)

MAX_MESSAGE = 32 * 1024 * 1024
STOP_GRACE = 1.0  # seconds in-flight exports get to finish on stop()


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, sink: Callable[[list[Span]], None]) -> None:
        self._sink = sink

    def Export(
        self, request: ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> ExportTraceServiceResponse:
        spans = spans_from_request(request)
        try:
            self._sink(spans)
        except Exception:
            log.exception("storing %d spans failed", len(spans))
            context.abort(grpc.StatusCode.INTERNAL, "the collector failed to store the spans")
        return ExportTraceServiceResponse()


class GrpcReceiver:
    """The OTLP/gRPC server; binds in the constructor, serves from ``start()``."""

    def __init__(
        self,
        sink: Callable[[list[Span]], None],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_message_bytes: int = MAX_MESSAGE,
        max_workers: int = 8,
    ) -> None:
        self.host = host
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="otlp-grpc"),
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                # Without this, gRPC sets SO_REUSEPORT and two collectors given the same
                # fixed port would silently share it.
                ("grpc.so_reuseport", 0),
            ],
        )
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(sink), self._server)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            bound = self._server.add_insecure_port(address)
        except RuntimeError as exc:  # recent grpcio raises; older ones return 0
            raise OSError(f"cannot bind the OTLP/gRPC receiver to {address}: {exc}") from exc
        if not bound:
            raise OSError(f"cannot bind the OTLP/gRPC receiver to {address}")
        self.port: int = bound
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    @property
    def endpoint(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    def start(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the OTLP/gRPC receiver was stopped")
            if not self._started:
                self._server.start()
                self._started = True

    def stop(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._server.stop(grace=STOP_GRACE if self._started else None).wait(STOP_GRACE + 5)
