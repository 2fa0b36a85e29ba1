"""OTLP/gRPC trace receiver (TraceService/Export)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tester.collector.spans import Span, spans_from_request

MAX_MESSAGE = 32 * 1024 * 1024


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, sink: Callable[[list[Span]], None]) -> None:
        self._sink = sink

    def Export(
        self, request: ExportTraceServiceRequest, context: Any
    ) -> ExportTraceServiceResponse:
        self._sink(spans_from_request(request))
        return ExportTraceServiceResponse()


class GrpcReceiver:
    def __init__(self, sink: Callable[[list[Span]], None], host: str = "127.0.0.1", port: int = 0):
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-grpc"),
            options=[("grpc.max_receive_message_length", MAX_MESSAGE)],
        )
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(sink), self._server)
        self.host = host
        self.port = self._server.add_insecure_port(f"{host}:{port}")

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=1.0).wait(5)
