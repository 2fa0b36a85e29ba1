"""OTLP/HTTP trace receiver: POST /v1/traces, protobuf or JSON, gzip or deflate.

Answers 200 with an empty ExportTraceServiceResponse in the request's encoding, and
refuses anything else with a google.rpc.Status body: 400 undecodable, 404 other paths,
405 other methods, 411 no length, 413 too large (before or after decompression), 415 other
content types. Bodies are read with a hard cap and inflated incrementally against the same
cap, so neither a huge Content-Length nor a gzip bomb can exhaust memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import sys
import threading
import time
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tester.collector.spans import Span, request_from_otlp_json, spans_from_request

log = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_PROTOBUF_TYPES = frozenset({PROTOBUF, "application/protobuf"})
DEFAULT_MAX_BODY = 32 * 1024 * 1024
IDLE_TIMEOUT = 120.0  # seconds a kept-alive connection may sit silent
LINGER_SECONDS = 5.0  # how long a refused body is drained so the client can read the answer
_CHUNK = 64 * 1024

# HTTP status -> google.rpc.Code for the error body.
_RPC_CODES = {400: 3, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 500: 13}


class BodyTooLarge(ValueError):
    pass


class UnsupportedEncoding(ValueError):
    pass


# ------------------------------------------------------------------ decompression

_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Inflate (every member of) ``data``, producing at most ``limit`` bytes."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(wbits)
        # max_length > 0 always (len(out) <= limit here): 0 would mean "unbounded".
        out += inflater.decompress(data, limit + 1 - len(out))
        if len(out) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge(f"decompressed body exceeds {limit} bytes")
        if not inflater.eof:
            raise ValueError("compressed body is truncated")
        data = inflater.unused_data
        # gzip allows several members back to back; tolerate trailing zero padding.
        if wbits != _GZIP_WBITS or not data.strip(b"\0"):
            if data.strip(b"\0"):
                raise ValueError("trailing garbage after the compressed body")
            return bytes(out)


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo a Content-Encoding (gzip, deflate, identity, or a comma list of them).

    Raises BodyTooLarge past ``limit`` output bytes, UnsupportedEncoding for unknown
    codings, ValueError (or zlib.error) for corrupt data.
    """
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    for coding in reversed(codings):  # listed in the order they were applied
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            body = _inflate(body, _GZIP_WBITS, limit)
        elif coding == "deflate":
            try:  # HTTP's deflate is zlib-wrapped, but some clients send raw deflate
                body = _inflate(body, zlib.MAX_WBITS, limit)
            except zlib.error:
                body = _inflate(body, -zlib.MAX_WBITS, limit)
        else:
            raise UnsupportedEncoding(f"unsupported Content-Encoding {coding!r}")
    if len(body) > limit:
        raise BodyTooLarge(f"body exceeds {limit} bytes")
    return body


# ------------------------------------------------------------------ the handler


class _Refused(Exception):
    """Answer ``code`` with ``message``; ``close`` when the body was not fully read."""

    def __init__(self, code: int, message: str, *, close: bool = False, unread: int = 0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close = close
        self.unread = unread  # body bytes still on the wire, drained after answering


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "tester-otlp-collector"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # ----------------------------------------------------------- replies
    def _send(self, code: int, content_type: str, body: bytes, *, close: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if code == 405:
            self.send_header("Allow", "POST")
        if close:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _refuse(self, refused: _Refused, content_type: str = JSON) -> None:
        self.server.on_rejected()
        log.info(
            "refused OTLP request %s %s: %d %s",
            self.command,
            self.path,
            refused.code,
            refused.message,
        )
        rpc_code = _RPC_CODES.get(refused.code, 3)
        if content_type in _PROTOBUF_TYPES:
            body = Status(code=rpc_code, message=refused.message).SerializeToString()
        else:
            body = json.dumps({"code": rpc_code, "message": refused.message}).encode()
            content_type = JSON
        self._send(refused.code, content_type, body, close=refused.close or bool(refused.unread))
        if refused.unread:
            self._linger(refused.unread)

    def _linger(self, unread: int) -> None:
        """Discard what the client is still sending, so it gets to read our answer."""
        deadline = time.monotonic() + LINGER_SECONDS
        try:
            self.connection.settimeout(0.5)
            while unread > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(_CHUNK, unread))
                if not chunk:
                    return
                unread -= len(chunk)
        except OSError:
            pass

    # ----------------------------------------------------------- routing
    def _path(self) -> str:
        return urlsplit(self.path).path

    def _content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def _route_refusal(self) -> _Refused | None:
        """404/405 for anything but POST /v1/traces."""
        if self._path() != TRACES_PATH:
            return _Refused(404, f"no such path {self._path()!r}; traces go to {TRACES_PATH}")
        if self.command != "POST":
            return _Refused(405, f"{self.command} not allowed on {TRACES_PATH}; use POST")
        return None

    def _refuse_after_body(self, refused: _Refused) -> None:
        """Refuse, having consumed the body so the connection stays usable if possible."""
        try:
            self._read_body()
        except _Refused as unreadable:
            refused.close, refused.unread = True, unreadable.unread
        except ConnectionError as exc:
            log.debug("OTLP/HTTP client went away: %s", exc)
            self.close_connection = True
            return
        self._refuse(refused, self._content_type())

    def _not_post(self) -> None:
        refused = self._route_refusal()
        assert refused is not None
        self._refuse_after_body(refused)

    do_GET = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_post

    def handle_expect_100(self) -> bool:
        """Refuse before the body is sent when the headers already say no."""
        refused = self._route_refusal() or self._length_refusal()
        if refused is None:
            return super().handle_expect_100()
        refused.close, refused.unread = True, 0
        self._refuse(refused, self._content_type())
        return False

    # ----------------------------------------------------------- body
    def _content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise _Refused(400, f"bad Content-Length {value!r}", close=True)
        return int(value)

    def _length_refusal(self) -> _Refused | None:
        try:
            length = self._content_length()
        except _Refused as refused:
            return refused
        limit = self.server.max_body
        if length is not None and length > limit:
            return _Refused(413, f"body of {length} bytes exceeds {limit}", unread=length)
        return None

    def _read_body(self) -> bytes:
        transfer = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if transfer:
            if transfer != "chunked":
                raise _Refused(400, f"unsupported Transfer-Encoding {transfer!r}", close=True)
            return self._read_chunked()
        refused = self._length_refusal()
        if refused is not None:
            raise refused
        length = self._content_length()
        if length is None:
            if self.command in ("POST", "PUT", "PATCH"):
                raise _Refused(411, "Content-Length (or chunked encoding) required", close=True)
            return b""
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionError("client closed the connection mid-body")
        return body

    def _read_chunked(self) -> bytes:
        limit = self.server.max_body
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise _Refused(400, "malformed chunked body", close=True)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _Refused(400, "malformed chunk size", close=True) from None
            if size < 0:
                raise _Refused(400, "malformed chunk size", close=True)
            if size == 0:
                break
            if len(body) + size > limit:
                # How much more is coming is unknown: drain until the client stops.
                raise _Refused(413, f"chunked body exceeds {limit} bytes", unread=1 << 62)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ConnectionError("client closed the connection mid-chunk")
            body += chunk
            if self.rfile.readline(1024).strip():  # the CRLF after the chunk
                raise _Refused(400, "malformed chunked body", close=True)
        while True:  # trailers, up to the blank line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                return bytes(body)

    # ----------------------------------------------------------- POST
    def do_POST(self) -> None:
        content_type = self._content_type()
        route = self._route_refusal()
        if route is not None:
            self._refuse_after_body(route)
            return
        try:
            raw = self._read_body()
            if content_type not in (*_PROTOBUF_TYPES, JSON):
                raise _Refused(
                    415, f"unsupported Content-Type {content_type!r}; use {PROTOBUF} or {JSON}"
                )
            spans = self._decode(raw, content_type)
        except _Refused as refused:
            self._refuse(refused, content_type)
            return
        except ConnectionError as exc:
            log.debug("OTLP/HTTP client went away: %s", exc)
            self.close_connection = True
            return
        try:
            self.server.sink(spans)
        except Exception:
            log.exception("storing %d spans failed", len(spans))
            self._refuse(_Refused(500, "the collector failed to store the spans"), content_type)
            return
        if content_type in _PROTOBUF_TYPES:
            self._send(200, content_type, ExportTraceServiceResponse().SerializeToString())
        else:
            self._send(200, JSON, b"{}")

    def _decode(self, raw: bytes, content_type: str) -> list[Span]:
        limit = self.server.max_body
        try:
            body = decompress(raw, self.headers.get("Content-Encoding") or "", limit)
        except BodyTooLarge as exc:
            raise _Refused(413, str(exc)) from None
        except (ValueError, zlib.error) as exc:
            raise _Refused(400, f"cannot decompress the body: {exc}") from None
        try:
            if content_type in _PROTOBUF_TYPES:
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
            else:
                request = request_from_otlp_json(body)
            return spans_from_request(request)
        except (DecodeError, ValueError, RecursionError) as exc:
            raise _Refused(400, f"cannot decode the OTLP {content_type} body: {exc}") from None


# ------------------------------------------------------------------ the server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: the listen backlog: socketserver's default of 5 drops the connections of a
    #: burst of exporters (every producer flushing at once) while the accept loop
    #: is slow on a loaded machine, and their exports wait out connect retries
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        sink: Callable[[list[Span]], None],
        max_body: int,
        on_rejected: Callable[[], None],
        idle_timeout: float,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sink = sink
        self.max_body = max_body
        self.on_rejected = on_rejected
        self.idle_timeout = idle_timeout
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a bad resolver.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("OTLP/HTTP connection from %s dropped: %s", client_address, exc)
        else:
            log.warning("OTLP/HTTP request from %s failed", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on kept-alive clients, so their handler threads end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def url_host(host: str) -> str:
    """The host part of a URL that reaches a server bound to ``host``."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class HttpReceiver:
    """The OTLP/HTTP server; binds in the constructor, serves from ``start()``."""

    def __init__(
        self,
        sink: Callable[[list[Span]], None],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        on_rejected: Callable[[], None] | None = None,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self._server = _Server(
            (host, port), sink, max_body_bytes, on_rejected or (lambda: None), idle_timeout
        )
        self.host: str = host
        self.port: int = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def endpoint(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def max_body_bytes(self) -> int:
        return self._server.max_body

    def start(self) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the OTLP/HTTP receiver was stopped")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"otlp-http-{self.port}",
                    daemon=True,
                )
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._thread is not None:
                self._server.shutdown()  # only valid once serve_forever runs
                self._thread.join(5)
            self._server.server_close()
            self._server.close_connections()
