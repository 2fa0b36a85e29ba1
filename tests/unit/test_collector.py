"""The embedded collector, fed by the real OpenTelemetry exporters over real sockets."""

from __future__ import annotations

import gzip
import json
import threading
import urllib.error
import urllib.request

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from tester.collector import Collector, SpanStore, spans_from_otlp_json, spans_to_otlp_json


def _emit(exporter) -> None:
    provider = TracerProvider(
        resource=Resource.create({"service.name": "producer", "producer.id": 3})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        parent.set_attributes({"s": "text", "i": 7, "f": 1.5, "b": True, "arr": ["a", "b"]})
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child:
            child.add_event("happened", {"n": 1})
            child.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()


def _check(collector: Collector) -> None:
    spans = collector.store.wait_for(lambda s: True, timeout=30, count=2)
    by_name = {s.name: s for s in spans}
    parent, child = by_name["parent"], by_name["child"]
    assert child.parent_span_id == parent.span_id and parent.parent_span_id is None
    assert child.trace_id == parent.trace_id and len(parent.trace_id) == 32
    assert parent.attributes == {"s": "text", "i": 7, "f": 1.5, "b": True, "arr": ("a", "b")}
    assert (parent.kind, child.kind) == ("SERVER", "CLIENT")
    assert (child.status, child.status_message) == ("ERROR", "boom")
    assert child.events[0].name == "happened" and child.events[0].attributes == {"n": 1}
    assert parent.service_name == "producer" and parent.resource["producer.id"] == 3
    assert collector.store.by_trace(parent.trace_id) and collector.store.by_service("producer")


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_http_protobuf_from_the_sdk_exporter(collector, compression):
    _emit(HttpExporter(endpoint=f"{collector.http_endpoint}/v1/traces", compression=compression))
    _check(collector)


def test_grpc_from_the_sdk_exporter(collector):
    _emit(GrpcExporter(endpoint=collector.grpc_endpoint, insecure=True))
    _check(collector)


def _post(collector, body: bytes, content_type: str, path="/v1/traces", encoding=None):
    request = urllib.request.Request(f"{collector.http_endpoint}{path}", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    if encoding:
        request.add_header("Content-Encoding", encoding)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


HAND_WRITTEN = {
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
                            "traceId": "5b8efff798038103d269b633813fc60c",
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


def test_otlp_json_with_hex_ids(collector):
    status, body = _post(collector, json.dumps(HAND_WRITTEN).encode(), "application/json")
    assert status == 200 and json.loads(body) == {}
    (span,) = collector.store.wait_for(lambda s: True, timeout=10)
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"
    assert span.parent_span_id == "eee19b7ec3c1b173"
    assert span.attr("run.unique_count") == 42 and span.duration_ms == 1000
    assert (span.kind, span.status, span.service_name) == ("INTERNAL", "ERROR", "orchestrator")


def test_gzip_json_body(collector):
    body = gzip.compress(json.dumps(HAND_WRITTEN).encode())
    assert _post(collector, body, "application/json; charset=utf-8", encoding="gzip")[0] == 200
    assert len(collector.store.wait_for(lambda s: True, timeout=10)) == 1


def test_json_round_trip_is_lossless():
    spans = spans_from_otlp_json(HAND_WRITTEN)
    assert spans_from_otlp_json(json.dumps(spans_to_otlp_json(spans))) == spans


@pytest.mark.parametrize(
    ("body", "content_type", "path", "encoding", "status"),
    [
        (b"\xff\xff not protobuf", "application/x-protobuf", "/v1/traces", None, 400),
        (b"{not json", "application/json", "/v1/traces", None, 400),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
            "application/json",
            "/v1/traces",
            None,
            400,
        ),
        (b"x", "text/plain", "/v1/traces", None, 415),
        (b"x", "application/json", "/v1/metrics", None, 404),
        (b"not gzip", "application/json", "/v1/traces", "gzip", 400),
        (b"x", "application/json", "/v1/traces", "br", 400),
    ],
)
def test_bad_requests_get_4xx_and_the_server_keeps_serving(
    collector, body, content_type, path, encoding, status
):
    assert _post(collector, body, content_type, path, encoding)[0] == status
    assert _post(collector, json.dumps(HAND_WRITTEN).encode(), "application/json")[0] == 200
    assert collector.rejected_requests == 1


def test_oversized_and_bomb_bodies_are_refused():
    with Collector(enable_grpc=False) as collector:
        collector._http._server.max_body = 16 * 1024
        assert _post(collector, b"x" * 20_000, "application/json")[0] == 413
        bomb = gzip.compress(b"0" * 10_000_000, compresslevel=9)
        assert len(bomb) < 16 * 1024
        assert _post(collector, bomb, "application/json", encoding="gzip")[0] == 413
        assert _post(collector, json.dumps(HAND_WRITTEN).encode(), "application/json")[0] == 200


def test_wait_for_blocks_until_spans_arrive_and_times_out():
    store = SpanStore()
    spans = spans_from_otlp_json(HAND_WRITTEN)
    assert store.wait_for(lambda s: True, timeout=0.05) == []
    timer = threading.Timer(0.2, store.add, args=(spans,))
    timer.start()
    assert store.wait_for(lambda s: s.name == "topic.run", timeout=30) == spans
    timer.join()


def test_wait_quiet_and_bounded_memory():
    store = SpanStore(max_spans=1)
    spans = spans_from_otlp_json(HAND_WRITTEN)
    assert store.wait_quiet(0.05, timeout=1)
    store.add(spans + spans)
    assert len(store) == 1 and store.dropped == 1
    assert not store.wait_quiet(60, timeout=0.1, trace_id=spans[0].trace_id)
    assert store.wait_quiet(0.05, timeout=10, trace_id=spans[0].trace_id)
    assert not store.wait_quiet(0.01, timeout=0.05, trace_id="0" * 32)
