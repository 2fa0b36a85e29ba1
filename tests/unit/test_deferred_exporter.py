from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from system.telemetry.deferred import DeferredExporter


def test_the_real_exporter_is_built_on_the_first_export_only_once():
    built: list[InMemorySpanExporter] = []

    def factory() -> InMemorySpanExporter:
        built.append(InMemorySpanExporter())
        return built[-1]

    exporter = DeferredExporter(factory)
    assert built == [] and exporter.force_flush() is True
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    for name in ("a", "b"):
        with tracer.start_as_current_span(name):
            pass
    assert len(built) == 1
    assert [s.name for s in built[0].get_finished_spans()] == ["a", "b"]
    provider.shutdown()
    assert exporter.export([]) is SpanExportResult.FAILURE


def test_shutdown_before_any_export_builds_nothing():
    built = []
    exporter = DeferredExporter(lambda: built.append(1) or InMemorySpanExporter())
    exporter.shutdown()
    assert built == []
