"""The embedded collector, fed by the real OpenTelemetry exporters over real sockets.

No mocks: every test talks to a Collector on ephemeral 127.0.0.1 ports and stops it.
Waits are on conditions (SpanStore.wait_for) with generous timeouts, never fixed sleeps,
so the file stays reliable under ``pytest -n auto`` on a loaded machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import http.client
import json
import logging
import math
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from tester.collector import (
    Collector,
    Span,
    SpanEvent,
    SpanStore,
    spans_from_otlp_json,
    spans_to_otlp_json,
)
from tester.collector.http_receiver import HttpReceiver

TIMEOUT = 60.0  # generous: only ever reached when something is broken
SMALL_LIMIT = 64 * 1024
JSON = "application/json"


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def make_collector() -> Iterator[Callable[..., Collector]]:
    """Start collectors with any constructor arguments; all are stopped after the test."""
    started: list[Collector] = []

    def make(**kwargs: Any) -> Collector:
        collector = Collector(**kwargs).start()
        started.append(collector)
        return collector

    yield make
    for collector in started:
        collector.stop()


@pytest.fixture
def collector(make_collector: Callable[..., Collector]) -> Collector:
    """Overrides the tester plugin's fixture so this file depends on the collector alone."""
    return make_collector()


@pytest.fixture
def small(make_collector: Callable[..., Collector]) -> Collector:
    """A collector with a 64 KiB body limit, HTTP only."""
    return make_collector(enable_grpc=False, max_body_bytes=SMALL_LIMIT)


# ------------------------------------------------------------------ the SDK's exporters


def _emit(exporter: SpanExporter) -> None:
    """Emit a small trace through a private TracerProvider (never the global one)."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": "producer", "producer.id": 3})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test-scope")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        parent.set_attributes(
            {
                "s": "text",
                "i": 7,
                "neg": -(2**62),
                "f": 1.5,
                "b": True,
                "arr": ["a", "b"],
                "ints": [1, 2, 3],
                "floats": [0.5, 2.0],
                "bools": [True, False],
            }
        )
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child:
            child.add_event("happened", {"n": 1, "what": "x"})
            child.add_event("again")
            child.set_status(Status(StatusCode.ERROR, "boom"))
        for kind in (SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER):
            with tracer.start_as_current_span(f"kind.{kind.name.lower()}", kind=kind) as span:
                span.set_status(Status(StatusCode.OK))
    provider.shutdown()


EMITTED = 5


def _check(collector: Collector) -> list[Span]:
    spans = collector.store.wait_for(lambda s: True, timeout=TIMEOUT, count=EMITTED)
    assert len(spans) == EMITTED, f"only {len(spans)} spans arrived"
    by_name = {s.name: s for s in spans}
    parent, child = by_name["parent"], by_name["child"]
    assert parent.is_root and parent.parent_span_id is None
    assert child.parent_span_id == parent.span_id and not child.is_root
    assert {s.trace_id for s in spans} == {parent.trace_id}
    assert len(parent.trace_id) == 32 and len(parent.span_id) == 16
    assert parent.trace_id == parent.trace_id.lower() and int(parent.trace_id, 16)
    assert parent.attributes == {
        "s": "text",
        "i": 7,
        "neg": -(2**62),
        "f": 1.5,
        "b": True,
        "arr": ("a", "b"),
        "ints": (1, 2, 3),
        "floats": (0.5, 2.0),
        "bools": (True, False),
    }
    assert type(parent.attr("i")) is int and type(parent.attr("b")) is bool
    assert parent.attr("missing", "dflt") == "dflt"
    assert (parent.kind, child.kind) == ("SERVER", "CLIENT")
    assert [by_name[f"kind.{k}"].kind for k in ("internal", "producer", "consumer")] == [
        "INTERNAL",
        "PRODUCER",
        "CONSUMER",
    ]
    assert (child.status, child.status_message) == ("ERROR", "boom")
    assert (parent.status, by_name["kind.internal"].status) == ("UNSET", "OK")
    assert [e.name for e in child.events] == ["happened", "again"]
    assert child.events[0].attributes == {"n": 1, "what": "x"}
    assert child.start_ns <= child.events[0].time_ns <= child.end_ns
    assert parent.start_ns <= child.start_ns <= child.end_ns <= parent.end_ns
    assert parent.duration_ns == parent.end_ns - parent.start_ns
    assert parent.duration_ms == pytest.approx(parent.duration_ns / 1e6)
    assert parent.service_name == "producer" and parent.resource["producer.id"] == 3
    assert parent.scope_name == "test-scope"
    store = collector.store
    assert len(store.by_trace(parent.trace_id)) == EMITTED
    assert len(store.by_service("producer")) == EMITTED
    assert store.by_name("child") == [child]
    assert store.find(lambda s: s.status == "ERROR") == [child]
    return spans


@pytest.mark.parametrize(
    "compression", [Compression.NoCompression, Compression.Gzip, Compression.Deflate]
)
def test_http_protobuf_from_the_sdk_exporter(
    collector: Collector, compression: Compression
) -> None:
    exporter = HttpExporter(
        endpoint=f"{collector.http_endpoint}/v1/traces", compression=compression, timeout=30
    )
    _emit(exporter)
    _check(collector)
    assert collector.requests_received == EMITTED and collector.rejected_requests == 0


@pytest.mark.parametrize("compression", [None, grpc.Compression.Gzip])
def test_grpc_from_the_sdk_exporter(
    collector: Collector, compression: grpc.Compression | None
) -> None:
    assert collector.grpc_endpoint is not None
    _emit(
        GrpcExporter(
            endpoint=collector.grpc_endpoint, insecure=True, timeout=30, compression=compression
        )
    )
    _check(collector)
    assert collector.requests_received == EMITTED


def test_sdk_spans_survive_the_otlp_json_round_trip_and_post(
    make_collector: Callable[..., Collector],
) -> None:
    first, second = make_collector(enable_grpc=False), make_collector(enable_grpc=False)
    _emit(HttpExporter(endpoint=f"{first.http_endpoint}/v1/traces", timeout=30))
    spans = _check(first)
    document = json.dumps(spans_to_otlp_json(spans))
    assert spans_from_otlp_json(document) == spans
    status, body = _post(second, document.encode(), "application/json")
    assert (status, json.loads(body)) == (200, {})
    assert second.store.all() == spans


# ------------------------------------------------------------------ raw HTTP


def _post(
    collector: Collector,
    body: bytes,
    content_type: str | None,
    path: str = "/v1/traces",
    encoding: str | None = None,
    method: str = "POST",
) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{collector.http_endpoint}{path}", data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    if encoding:
        request.add_header("Content-Encoding", encoding)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def _port(collector: Collector) -> int:
    return int(collector.http_endpoint.rsplit(":", 1)[1])


TRACE_ID = "5b8efff798038103d269b633813fc60c"

HAND_WRITTEN: dict[str, Any] = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [{"key": "service.name", "value": {"stringValue": "orchestrator"}}]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "x"},
                    "spans": [
                        {
                            "traceId": TRACE_ID,
                            "spanId": "eee19b7ec3c1b174",
                            "parentSpanId": "eee19b7ec3c1b173",
                            "name": "topic.run",
                            "kind": 1,
                            "startTimeUnixNano": "1544712660000000000",
                            "endTimeUnixNano": "1544712661000000000",
                            "attributes": [
                                {"key": "run.unique_count", "value": {"intValue": "42"}}
                            ],
                            "status": {"code": 2, "message": "bad"},
                        }
                    ],
                }
            ],
        }
    ]
}
HAND_WRITTEN_BODY = json.dumps(HAND_WRITTEN).encode()


def test_otlp_json_with_hex_ids(collector: Collector) -> None:
    status, body = _post(collector, HAND_WRITTEN_BODY, "application/json")
    assert status == 200 and json.loads(body) == {}
    (span,) = collector.store.wait_for(lambda s: True, timeout=TIMEOUT)
    assert span.trace_id == TRACE_ID
    assert span.span_id == "eee19b7ec3c1b174" and span.parent_span_id == "eee19b7ec3c1b173"
    assert span.attr("run.unique_count") == 42 and span.duration_ms == 1000
    assert (span.kind, span.status, span.status_message) == ("INTERNAL", "ERROR", "bad")
    assert (span.service_name, span.scope_name) == ("orchestrator", "x")
    assert span.start_ns == 1544712660000000000


def test_otlp_json_variants_enum_names_numbers_snake_case_and_value_types() -> None:
    document = {
        "resource_spans": [
            {
                "resource": {},
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": TRACE_ID.upper(),
                                "span_id": "00000000000000AB",
                                "parent_span_id": "",
                                "name": "n",
                                "kind": "SPAN_KIND_PRODUCER",
                                "start_time_unix_nano": 1544712660000000000,
                                "end_time_unix_nano": "1544712660000000001",
                                "attributes": [
                                    {"key": "bytes", "value": {"bytesValue": "AAH/"}},
                                    {"key": "none", "value": {}},
                                    {
                                        "key": "kv",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [
                                                    {"key": "a", "value": {"intValue": 5}},
                                                    {
                                                        "key": "nested",
                                                        "value": {
                                                            "arrayValue": {
                                                                "values": [
                                                                    {"doubleValue": "Infinity"},
                                                                    {"boolValue": False},
                                                                ]
                                                            }
                                                        },
                                                    },
                                                ]
                                            }
                                        },
                                    },
                                ],
                                "events": [{"timeUnixNano": "7", "name": "e", "attributes": []}],
                                "links": [{"traceId": TRACE_ID, "spanId": "eee19b7ec3c1b174"}],
                                "status": {"code": "STATUS_CODE_OK"},
                                "someFutureField": {"ignored": True},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    (span,) = spans_from_otlp_json(document)
    assert (span.trace_id, span.span_id, span.parent_span_id) == (
        TRACE_ID,
        "00000000000000ab",
        None,
    )
    assert (span.kind, span.status, span.duration_ns) == ("PRODUCER", "OK", 1)
    assert span.attributes == {
        "bytes": b"\x00\x01\xff",
        "none": None,
        "kv": {"a": 5, "nested": (math.inf, False)},
    }
    assert span.events == (SpanEvent("e", 7, {}),)
    assert span.service_name == "unknown_service"
    assert document["resource_spans"][0]["scope_spans"][0]["spans"][0]["trace_id"] == (
        TRACE_ID.upper()
    ), "the caller's document must not be modified"


def test_otlp_json_tolerates_base64_ids_but_rejects_garbage() -> None:
    base64_ids = json.loads(HAND_WRITTEN_BODY)
    span_json = base64_ids["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span_json["traceId"] = "W47/95gDgQPSabYzgT/GDA=="  # TRACE_ID in base64
    (span,) = spans_from_otlp_json(base64_ids)
    assert span.trace_id == TRACE_ID
    for bad in ("zz", "W47/95gDgQ==", "not an id at all"):
        span_json["traceId"] = bad
        with pytest.raises(ValueError, match="traceId"):
            spans_from_otlp_json(base64_ids)
    for body in (b"[]", b"{nope", b'{"resourceSpans": 5}', "\udcff", b"\xff\xfe\xfd"):
        with pytest.raises(ValueError):
            spans_from_otlp_json(body)


def test_gzip_json_body_with_charset(collector: Collector) -> None:
    body = gzip.compress(HAND_WRITTEN_BODY)
    status, _ = _post(collector, body, "application/json; charset=utf-8", encoding="gzip")
    assert status == 200
    assert len(collector.store.wait_for(lambda s: True, timeout=TIMEOUT)) == 1


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (zlib.compress(HAND_WRITTEN_BODY), "deflate"),
        (zlib.compress(HAND_WRITTEN_BODY)[2:-4], "deflate"),  # raw deflate, as some send it
        (gzip.compress(HAND_WRITTEN_BODY[:50]) + gzip.compress(HAND_WRITTEN_BODY[50:]), "gzip"),
        (gzip.compress(zlib.compress(HAND_WRITTEN_BODY)), "deflate, gzip"),
        (HAND_WRITTEN_BODY, "identity"),
    ],
    ids=["deflate", "raw-deflate", "multi-member-gzip", "stacked", "identity"],
)
def test_content_encodings(collector: Collector, body: bytes, encoding: str) -> None:
    assert _post(collector, body, "application/json", encoding=encoding)[0] == 200
    (span,) = collector.store.wait_for(lambda s: True, timeout=TIMEOUT)
    assert span.trace_id == TRACE_ID


def test_json_round_trip_is_lossless() -> None:
    resource_a = {"service.name": "a", "n": 1, "tags": ("x", "y")}
    resource_b = {"service.name": "a", "n": 1.0, "tags": ("x", "y")}  # 1.0 is not 1
    attributes: dict[str, Any] = {
        "s": "ü ✓",
        "empty": "",
        "i": -(2**63),
        "big": 2**63 - 1,
        "f": 0.1,
        "whole": 3.0,
        "inf": -math.inf,
        "t": True,
        "bytes": b"\x00\xff",
        "none": None,
        "arr": ("a", 1, 2.5, False, None, ("nested",)),
        "empty_arr": (),
        "kv": {"k": {"deeper": (1, 2)}, "b": b"x"},
        "empty_kv": {},
    }
    spans = [
        Span(
            trace_id=f"{i:032x}",
            span_id=f"{i + 1:016x}",
            parent_span_id=None if i == 0 else f"{1:016x}",
            name=f"span-{i}",
            kind=kind,
            start_ns=1_700_000_000_000_000_000 + i,
            end_ns=1_700_000_000_000_000_000 + 10 * i,
            status=status,
            status_message="why" if status == "ERROR" else "",
            attributes=attributes if i % 2 else {},
            resource=resource_a if i < 3 else resource_b,
            events=(SpanEvent("ev", 5, {"a": (1,)}), SpanEvent("ev2", 6, {})) if i == 2 else (),
            scope_name="scope" if i % 3 else "",
        )
        for i, (kind, status) in enumerate(
            [
                ("UNSPECIFIED", "UNSET"),
                ("INTERNAL", "OK"),
                ("SERVER", "ERROR"),
                ("CLIENT", "UNSET"),
                ("PRODUCER", "OK"),
                ("CONSUMER", "ERROR"),
            ]
        )
    ]
    document = spans_to_otlp_json(spans)
    assert len(document["resourceSpans"]) == 2
    text = json.dumps(document, allow_nan=False)  # strict JSON: non-finite doubles as strings
    span_json = document["resourceSpans"][1]["scopeSpans"][0]["spans"][0]
    assert span_json["traceId"] == spans[3].trace_id  # hex, not base64
    assert span_json["startTimeUnixNano"] == str(spans[3].start_ns)  # int64 as a string
    assert spans_from_otlp_json(text) == spans
    assert spans_from_otlp_json(text.encode()) == spans
    assert spans_to_otlp_json([]) == {"resourceSpans": []}


def test_spans_are_hashable_values() -> None:
    (span,) = spans_from_otlp_json(HAND_WRITTEN)
    (again,) = spans_from_otlp_json(HAND_WRITTEN_BODY)
    assert span == again and len({span, again}) == 1


# ------------------------------------------------------------------ refusals


def _expect_serving(collector: Collector) -> None:
    assert _post(collector, HAND_WRITTEN_BODY, "application/json")[0] == 200


@pytest.mark.parametrize(
    ("body", "content_type", "path", "encoding", "method", "status"),
    [
        (b"\xff\xff not protobuf", "application/x-protobuf", "/v1/traces", None, "POST", 400),
        (b"{not json", "application/json", "/v1/traces", None, "POST", 400),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
            "application/json",
            "/v1/traces",
            None,
            "POST",
            400,
        ),
        (b'{"resourceSpans": "x"}', "application/json", "/v1/traces", None, "POST", 400),
        (b"x", "text/plain", "/v1/traces", None, "POST", 415),
        (b"x", None, "/v1/traces", None, "POST", 415),
        (b"x", "application/json", "/v1/metrics", None, "POST", 404),
        (b"x", "application/json", "/", None, "POST", 404),
        (b"not gzip", "application/json", "/v1/traces", "gzip", "POST", 400),
        (gzip.compress(HAND_WRITTEN_BODY)[:-8], JSON, "/v1/traces", "gzip", "POST", 400),
        (b"x", "application/json", "/v1/traces", "br", "POST", 400),
        (b"", None, "/v1/traces", None, "GET", 405),
        (b"x", "application/json", "/v1/traces", None, "PUT", 405),
        (b"", None, "/v1/traces", None, "DELETE", 405),
        (b"", None, "/metrics", None, "GET", 404),
    ],
)
def test_bad_requests_get_4xx_and_the_server_keeps_serving(
    collector: Collector,
    body: bytes,
    content_type: str | None,
    path: str,
    encoding: str | None,
    method: str,
    status: int,
) -> None:
    code, answer = _post(collector, body, content_type, path, encoding, method)
    assert code == status
    # A google.rpc.Status explaining why, as protobuf when the request was protobuf.
    if content_type == "application/x-protobuf":
        assert RpcStatus.FromString(answer).message
    else:
        assert json.loads(answer)["message"]
    _expect_serving(collector)
    assert collector.rejected_requests == 1 and collector.requests_received == 1
    assert len(collector.store.wait_for(lambda s: True, timeout=TIMEOUT)) == 1


def test_protobuf_errors_are_rpc_status_messages(collector: Collector) -> None:
    status, body = _post(collector, b"\xff\xff", "application/x-protobuf")
    assert status == 400
    assert "cannot decode" in RpcStatus.FromString(body).message
    status, body = _post(collector, b"", "application/x-protobuf")  # an empty request is valid
    assert status == 200 and ExportTraceServiceResponse.FromString(body) == (
        ExportTraceServiceResponse()
    )


def test_head_is_405_without_a_body(collector: Collector) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(collector), timeout=TIMEOUT)
    try:
        connection.request("HEAD", "/v1/traces")
        response = connection.getresponse()
        assert (response.status, response.read()) == (405, b"")
        assert response.getheader("Allow") == "POST"
    finally:
        connection.close()


def test_oversized_body_is_413_even_when_much_larger_than_socket_buffers(small: Collector) -> None:
    assert _post(small, b"x" * (SMALL_LIMIT + 1), "application/json")[0] == 413
    # 4 MiB cannot sit in the kernel's buffers: the server must drain it for the
    # client to get to read the 413 instead of a connection reset.
    assert _post(small, b"x" * (4 * 1024 * 1024), "application/x-protobuf")[0] == 413
    assert small.rejected_requests == 2
    _expect_serving(small)


def test_gzip_bomb_is_capped(small: Collector) -> None:
    bomb = gzip.compress(b"0" * 50_000_000, compresslevel=9)
    assert len(bomb) < SMALL_LIMIT
    status, body = _post(small, bomb, "application/json", encoding="gzip")
    assert status == 413 and b"exceeds" in body
    deflate_bomb = zlib.compress(b"\0" * 50_000_000, 9)
    assert _post(small, deflate_bomb, "application/x-protobuf", encoding="deflate")[0] == 413
    _expect_serving(small)


def test_expect_100_continue_is_refused_before_the_body(small: Collector) -> None:
    with socket.create_connection(("127.0.0.1", _port(small)), timeout=TIMEOUT) as sock:
        sock.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 999999999\r\nExpect: 100-continue\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")


def test_chunked_bodies_and_keep_alive(small: Collector) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(small), timeout=TIMEOUT)
    try:
        # A refusal with the body read keeps the connection usable.
        connection.request("POST", "/v1/logs", body=b"{}", headers={"Content-Type": "x/y"})
        response = connection.getresponse()
        assert (response.status, response.getheader("Connection")) == (404, None)
        response.read()
        half = len(HAND_WRITTEN_BODY) // 2
        connection.request(
            "POST",
            "/v1/traces",
            body=iter([HAND_WRITTEN_BODY[:half], HAND_WRITTEN_BODY[half:]]),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"{}")
        too_big = iter([b"x" * 40_000] * 4)
        connection.request(
            "POST",
            "/v1/traces",
            body=too_big,
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
        response.read()
    finally:
        connection.close()
    (span,) = small.store.wait_for(lambda s: True, timeout=TIMEOUT)
    assert span.trace_id == TRACE_ID


# ------------------------------------------------------------------ the Collector


def test_collector_lifecycle(make_collector: Callable[..., Collector]) -> None:
    store = SpanStore()
    unstarted = Collector(store=store)
    assert unstarted.store is store, "an empty store is falsy; it must still be used"
    assert unstarted.http_endpoint.startswith("http://127.0.0.1:")
    unstarted.stop()  # before start(): releases the ports
    unstarted.stop()
    with pytest.raises(RuntimeError):
        unstarted.start()

    collector = make_collector(enable_grpc=False)
    assert collector.grpc_endpoint is None
    connection = http.client.HTTPConnection("127.0.0.1", _port(collector), timeout=TIMEOUT)
    try:
        connection.request("POST", "/v1/traces", HAND_WRITTEN_BODY, {"Content-Type": JSON})
        assert connection.getresponse().read() == b"{}"
        started = time.monotonic()
        collector.stop()
        collector.stop()
        assert time.monotonic() - started < 15
        # Neither the kept-alive connection nor a new one reaches the stopped collector.
        with pytest.raises(OSError):
            connection.request("POST", "/v1/traces", HAND_WRITTEN_BODY, {"Content-Type": JSON})
            connection.getresponse().read()
    finally:
        connection.close()
    # Refused (unless another test's server got the port: then it isn't ours either).
    with contextlib.suppress(OSError):
        _post(collector, HAND_WRITTEN_BODY, JSON)
    assert len(collector.store) == 1 and collector.requests_received == 1


def test_concurrent_exports_all_arrive(collector: Collector) -> None:
    def send(n: int) -> None:
        document = json.loads(HAND_WRITTEN_BODY)
        span_json = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        span_json["spanId"] = f"{n + 1:016x}"
        assert _post(collector, json.dumps(document).encode(), JSON)[0] == 200

    threads = [threading.Thread(target=send, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    spans = collector.store.wait_for(lambda s: True, timeout=TIMEOUT, count=16)
    assert sorted(int(s.span_id, 16) for s in spans) == list(range(1, 17))
    assert collector.requests_received == 16


# ------------------------------------------------------------------ the store


def _spans(n: int, trace_id: str = TRACE_ID, name: str = "topic.run") -> list[Span]:
    (template,) = spans_from_otlp_json(HAND_WRITTEN)
    return [
        dataclasses.replace(template, trace_id=trace_id, span_id=f"{i + 1:016x}", name=name)
        for i in range(n)
    ]


def test_wait_for_blocks_until_spans_arrive_from_another_thread() -> None:
    store = SpanStore()
    spans = _spans(3)
    adder = threading.Thread(target=lambda: [store.add([s]) for s in spans])
    adder.start()
    try:
        assert store.wait_for(lambda s: True, timeout=TIMEOUT, count=3) == spans
    finally:
        adder.join()


def test_wait_for_times_out_with_what_matched() -> None:
    store = SpanStore()
    store.add(_spans(2))
    started = time.monotonic()
    found = store.wait_for(lambda s: s.name == "topic.run", timeout=0.3, count=5)
    assert len(found) == 2 and time.monotonic() - started >= 0.3
    assert store.wait_for(lambda s: False, timeout=0) == []
    assert store.wait_for(lambda s: True, timeout=0, count=0) == store.all()


def test_wait_for_sees_spans_after_a_clear() -> None:
    store = SpanStore()
    store.add(_spans(5, name="old"))
    waiting: list[list[Span]] = []
    waiter = threading.Thread(
        target=lambda: waiting.append(store.wait_for(lambda s: True, TIMEOUT, count=7))
    )
    waiter.start()
    store.clear()
    assert len(store) == 0 and store.last_arrival is None
    new = _spans(7, name="new")
    store.add(new)
    waiter.join(TIMEOUT)
    assert waiting and waiting[0] == new


def test_wait_quiet() -> None:
    store = SpanStore()
    started = time.monotonic()
    assert store.wait_quiet(0.2, timeout=TIMEOUT)  # empty: quiet for 0.2s from the call
    assert time.monotonic() - started >= 0.2
    # A trace that never arrived is never quiet.
    assert not store.wait_quiet(0.01, timeout=0.1, trace_id="0" * 32)

    spans = _spans(1)
    store.add(spans)
    assert store.last_arrival is not None
    assert not store.wait_quiet(TIMEOUT * 10, timeout=0.1, trace_id=TRACE_ID)

    stop = threading.Event()

    def trickle() -> None:
        for i in range(5):
            if stop.wait(0.05):
                return
            store.add(_spans(1, trace_id=f"{i + 1:032x}"))

    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        assert store.wait_quiet(0.3, timeout=TIMEOUT)
        returned = time.monotonic()
        last = store.last_arrival
        assert last is not None
        assert last > returned or returned - last >= 0.3
        assert store.wait_quiet(0.05, timeout=TIMEOUT, trace_id=TRACE_ID)
    finally:
        stop.set()
        trickler.join()


def test_bounded_memory() -> None:
    store = SpanStore(max_spans=2)
    store.add(_spans(5))
    assert len(store) == 2 and store.dropped == 3
    assert [s.span_id for s in store.all()] == [f"{1:016x}", f"{2:016x}"]
    store.clear()
    assert (len(store), store.dropped) == (0, 0)


def test_indexes_and_subscriptions(caplog: pytest.LogCaptureFixture) -> None:
    store = SpanStore()
    seen: list[str] = []
    unsubscribe = store.subscribe(lambda s: seen.append(s.span_id))

    def broken(span: Span) -> None:
        raise RuntimeError("subscriber bug")

    store.subscribe(broken)
    a, b = _spans(1, name="a"), _spans(1, trace_id="1" * 32, name="b")
    with caplog.at_level(logging.ERROR, logger="tester.collector.store"):
        store.add(a)
    assert "subscriber" in caplog.text and seen == [a[0].span_id]
    unsubscribe()
    unsubscribe()
    store.add(b)
    assert seen == [a[0].span_id]
    assert store.all() == a + b and store.by_name("b") == b and store.by_trace("1" * 32) == b
    assert store.by_service("orchestrator") == a + b and store.by_service("nope") == []
    assert store.find(lambda s: s.name == "a") == a


def test_a_predicate_may_read_the_store() -> None:
    store = SpanStore()
    store.add(_spans(2))
    found = store.wait_for(lambda s: len(store.by_trace(s.trace_id)) == 2, timeout=TIMEOUT)
    assert len(found) == 2


def test_a_burst_of_connections_is_queued_not_dropped() -> None:
    """32 exporters connecting at once before the accept loop runs (a loaded machine):
    each connection is queued in the listen backlog. With socketserver's default
    backlog of 5, all but ~6 of them timed out (test_concurrent_exports_all_arrive lost
    spans under load)."""
    receiver = HttpReceiver(lambda spans: None)  # bound and listening, not accepting yet
    sockets: list[socket.socket] = []
    try:
        for _ in range(32):
            sock = socket.socket()
            sockets.append(sock)
            sock.settimeout(3)
            sock.connect(("127.0.0.1", receiver.port))
    finally:
        for sock in sockets:
            sock.close()
        receiver.stop()
