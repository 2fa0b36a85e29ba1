"""The tester's span store caps the bytes it holds, not only the span count
(issue 21, item 19): 30 spans with a 30 MiB attribute once took it to 1 GB.
Spans are sent by the OpenTelemetry SDK's OTLP exporter, as the system sends
them, to the embedded collector; the cap is small here to keep the test light."""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from tester.cli import build_parser, run_scenario
from tester.collector import Collector, SpanStore

pytestmark = pytest.mark.integration

MIB = 2**20
BIG_SPANS, BIG_ATTRIBUTE = 30, 2 * MIB


def _export_big_spans(exporter: SpanExporter) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "runaway"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("runaway")
    for i in range(BIG_SPANS):
        with tracer.start_as_current_span(f"big-{i}") as span:
            span.set_attribute("blob", "x" * BIG_ATTRIBUTE)
    with tracer.start_as_current_span("small"):
        pass
    provider.shutdown()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_oversized_spans_are_dropped_at_the_byte_cap_and_counted(protocol: str) -> None:
    cap = 16 * MIB
    with Collector(store=SpanStore(max_bytes=cap)) as collector:
        if protocol == "http":
            exporter: SpanExporter = HttpExporter(
                endpoint=f"{collector.http_endpoint}/v1/traces", timeout=30
            )
        else:
            exporter = GrpcExporter(endpoint=collector.grpc_endpoint, insecure=True, timeout=30)
        _export_big_spans(exporter)
        store = collector.store
        assert collector.requests_received == BIG_SPANS + 1, "every export reached the collector"
        assert store.bytes <= cap
        kept = [s for s in store.all() if s.name.startswith("big-")]
        assert len(kept) == cap // BIG_ATTRIBUTE - 1  # the spans' other bytes take the last slot
        assert store.dropped == BIG_SPANS - len(kept)
        assert store.dropped_bytes >= store.dropped * BIG_ATTRIBUTE
        assert store.by_name("small"), "a small span still fits under the cap"
        note = store.dropped_note()
        assert note is not None and f"dropped {store.dropped} span(s)" in note


def test_the_verdict_says_it_judged_partial_data(tmp_path: Path, capsys) -> None:
    """A scenario whose collector dropped spans says so in its verdict line, its notes
    and its JSON result (``spans_dropped``)."""
    scenario = types.ModuleType("runaway")

    def run(ctx) -> None:
        _export_big_spans(HttpExporter(endpoint=f"{ctx.collector.http_endpoint}/v1/traces"))

    scenario.run = run  # type: ignore[attr-defined]
    args = build_parser(["runaway"]).parse_args(["--span-store-mib", "8"])
    result = run_scenario("runaway", scenario, tmp_path / "runaway", args, "oversized spans")
    assert result.passed
    assert result.spans_dropped > 0
    assert any("judged partial data" in note for note in result.notes), result.notes
    out = capsys.readouterr().out
    assert f"PASSED in {result.duration_s:.1f}s on partial data" in out, out
