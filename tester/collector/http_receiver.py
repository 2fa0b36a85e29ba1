"""OTLP/HTTP trace receiver: POST /v1/traces, protobuf or JSON, gzip or deflate."""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tester.collector.spans import Span, request_from_otlp_json, spans_from_request

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DEFAULT_MAX_BODY = 32 * 1024 * 1024


class BodyTooLarge(ValueError):
    pass


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Inflate gzip/deflate incrementally, refusing more than ``limit`` bytes out."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    else:
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge(f"decompressed body exceeds {limit} bytes")
    return out


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, code: int, content_type: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, code: int, message: str, content_type: str = JSON) -> None:
        self.server.on_rejected()
        log.info("rejected OTLP request: %d %s", code, message)
        if content_type == PROTOBUF:
            from google.rpc.status_pb2 import Status  # shipped with googleapis-common-protos

            body = Status(code=3, message=message).SerializeToString()
        else:
            import json

            body = json.dumps({"code": 3, "message": message}).encode()
            content_type = JSON
        self._reply(code, content_type, body)

    def do_GET(self) -> None:
        self._not_allowed()

    def do_PUT(self) -> None:
        self._not_allowed()

    def _not_allowed(self) -> None:
        self._drain()
        if self.path.split("?")[0] == TRACES_PATH:
            self._error(405, "use POST")
        else:
            self._error(404, f"no such path {self.path}")

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= self.server.max_body:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def do_POST(self) -> None:
        if self.path.split("?")[0] != TRACES_PATH:
            self._drain()
            self._error(404, f"no such path {self.path}; traces go to {TRACES_PATH}")
            return
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._error(411, "Content-Length required")
            return
        if length > self.server.max_body:
            self.close_connection = True
            self._error(413, f"body of {length} bytes exceeds {self.server.max_body}")
            return
        raw = self.rfile.read(length)
        if content_type not in (PROTOBUF, JSON):
            self._error(415, f"unsupported Content-Type {content_type!r}; use {PROTOBUF} or {JSON}")
            return
        try:
            body = decompress(raw, self.headers.get("Content-Encoding", ""), self.server.max_body)
        except BodyTooLarge as exc:
            self._error(413, str(exc), content_type)
            return
        except (ValueError, zlib.error) as exc:
            self._error(400, f"cannot decompress body: {exc}", content_type)
            return
        try:
            if content_type == PROTOBUF:
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
            else:
                request = request_from_otlp_json(body)
            spans = spans_from_request(request)
        except (DecodeError, ValueError, TypeError, KeyError) as exc:
            self._error(400, f"cannot decode OTLP {content_type} body: {exc}", content_type)
            return
        except Exception as exc:  # protobuf's json_format raises its own ParseError
            self._error(400, f"cannot decode OTLP {content_type} body: {exc}", content_type)
            return
        self.server.sink(spans)
        if content_type == PROTOBUF:
            self._reply(200, PROTOBUF, ExportTraceServiceResponse().SerializeToString())
        else:
            self._reply(200, JSON, b"{}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        sink: Callable[[list[Span]], None],
        max_body: int,
        on_rejected: Callable[[], None],
    ) -> None:
        super().__init__(address, _Handler)
        self.sink = sink
        self.max_body = max_body
        self.on_rejected = on_rejected


class HttpReceiver:
    def __init__(
        self,
        sink: Callable[[list[Span]], None],
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        on_rejected: Callable[[], None] = lambda: None,
    ) -> None:
        self._server = _Server((host, port), sink, max_body_bytes, on_rejected)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="otlp-http",
            daemon=True,
        )

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
