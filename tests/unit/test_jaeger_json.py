"""The Jaeger-UI file: the tags and references Jaeger's own OTLP translator writes."""

from __future__ import annotations

import json
from typing import Any

from tester.collector import Collector, Span, SpanLink, spans_from_otlp_json, spans_to_otlp_json
from tester.collector.jaeger_json import to_jaeger_json

TRACE, OTHER = "ab" * 16, "cd" * 16


def _span(**kw: object) -> Span:
    base: dict[str, object] = dict(
        trace_id=TRACE,
        span_id="11" * 8,
        parent_span_id="22" * 8,
        name="batch.receive",
        kind="INTERNAL",
        start_ns=1_000_000,
        end_ns=3_000_000,
        status="ERROR",
        status_message="boom",
        attributes={"levels": ("a", "b"), "counts": (1, 2), "n": 3},
        resource={"service.name": "orchestrator"},
        scope_name="system",
        scope_version="0.1.0",
        links=(SpanLink(OTHER, "33" * 8, {"why": "request"}),),
    )
    base.update(kw)
    return Span(**base)  # type: ignore[arg-type]


def _tags(entry: dict[str, Any]) -> dict[str, Any]:
    return {t["key"]: t["value"] for t in entry["tags"]}


def test_arrays_status_scope_and_links() -> None:
    (trace,) = to_jaeger_json([_span()])["data"]
    (entry,) = trace["spans"]
    tags = _tags(entry)
    assert json.loads(tags["levels"]) == ["a", "b"]
    assert json.loads(tags["counts"]) == [1, 2]
    assert tags["n"] == 3
    assert tags["otel.status_code"] == "ERROR"
    assert tags["otel.status_description"] == "boom"
    assert tags["error"] is True
    assert tags["otel.scope.name"] == "system"
    assert tags["otel.scope.version"] == "0.1.0"
    assert entry["references"] == [
        {"refType": "CHILD_OF", "traceID": TRACE, "spanID": "22" * 8},
        {"refType": "FOLLOWS_FROM", "traceID": OTHER, "spanID": "33" * 8},
    ]


def test_unset_status_has_no_status_tags() -> None:
    (trace,) = to_jaeger_json([_span(status="UNSET", status_message="", links=())])["data"]
    tags = _tags(trace["spans"][0])
    assert "otel.status_code" not in tags and "error" not in tags
    assert [r["refType"] for r in trace["spans"][0]["references"]] == ["CHILD_OF"]


def test_ok_status_is_tagged() -> None:
    (trace,) = to_jaeger_json([_span(status="OK", status_message="")])["data"]
    tags = _tags(trace["spans"][0])
    assert tags["otel.status_code"] == "OK" and "otel.status_description" not in tags


def test_links_and_scope_version_round_trip_through_otlp_json() -> None:
    span = _span()
    assert spans_from_otlp_json(spans_to_otlp_json([span])) == [span]


def test_sdk_spans_carry_scope_version_and_links_into_the_file() -> None:
    """Real SDK spans through the embedded collector: the link and scope version arrive."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Link

    with Collector() as collector:
        provider = TracerProvider(resource=Resource.create({"service.name": "unit"}))
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.http_endpoint}/v1/traces"))
        )
        tracer = provider.get_tracer("unit.scope", "9.9")
        with tracer.start_as_current_span("cause") as cause:
            pass
        with tracer.start_as_current_span("effect", links=[Link(cause.get_span_context())]):
            pass
        provider.shutdown()
        spans = collector.store.wait_for(lambda s: True, timeout=60, count=2)
    effect = next(s for s in spans if s.name == "effect")
    cause_id = next(s for s in spans if s.name == "cause").span_id
    (trace,) = to_jaeger_json([effect])["data"]
    entry = trace["spans"][0]
    assert _tags(entry)["otel.scope.version"] == "9.9"
    assert {"refType": "FOLLOWS_FROM", "traceID": effect.links[0].trace_id, "spanID": cause_id} in (
        entry["references"]
    )
