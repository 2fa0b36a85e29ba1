"""OTEL_* conventions, checked against the embedded collector: OTEL_TRACES_EXPORTER,
OTEL_RESOURCE_ATTRIBUTES' namespace, service.version, scheme-less gRPC endpoints."""

from __future__ import annotations

import json

import pytest

from system.telemetry.setup import (
    TracingConfigError,
    check_tracing_environment,
    configure_tracing,
    resolve_endpoint,
    resolve_exporters,
)
from system.version import version
from tester.collector import Collector


def _one_span(environ: dict[str, str], trace_ep: str | None, name: str) -> None:
    telemetry = configure_tracing("unit", trace_ep=trace_ep, environ=environ)
    with telemetry.tracer().start_as_current_span(name):
        pass
    telemetry.shutdown()


def test_resource_keeps_the_namespace_from_the_environment_and_has_a_version() -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": "service.namespace=team-a,deployment.environment=ci%2Fe2e"}
    with Collector() as collector:
        _one_span(env, collector.http_endpoint, "resourced")
        (span,) = collector.store.wait_for(lambda s: s.name == "resourced", timeout=60)
    assert span.resource["service.namespace"] == "team-a"
    assert span.resource["deployment.environment"] == "ci/e2e"
    assert span.resource["service.version"] == version() != ""
    assert span.resource["service.name"] == "unit"  # the process's own name wins


def test_default_namespace_without_the_variable() -> None:
    with Collector() as collector:
        _one_span({}, collector.http_endpoint, "plain")
        (span,) = collector.store.wait_for(lambda s: s.name == "plain", timeout=60)
    assert span.resource["service.namespace"] == "topic-enumerator"


def test_traces_exporter_none_sends_nothing() -> None:
    with Collector() as collector:
        telemetry = configure_tracing(
            "unit", trace_ep=collector.http_endpoint, environ={"OTEL_TRACES_EXPORTER": "none"}
        )
        assert not telemetry.enabled
        _one_span({"OTEL_TRACES_EXPORTER": "none"}, collector.http_endpoint, "never")
        _one_span({}, collector.http_endpoint, "marker")  # the same endpoint does receive
        collector.store.wait_for(lambda s: s.name == "marker", timeout=60)
    assert [s.name for s in collector.store.all()] == ["marker"]


def test_traces_exporter_console_prints_spans_and_skips_otlp(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Collector() as collector:
        _one_span({"OTEL_TRACES_EXPORTER": "console"}, collector.http_endpoint, "on-console")
        assert collector.requests_received == 0
    printed = capsys.readouterr().err
    assert json.loads(printed[printed.index("{") :])["name"] == "on-console"


def test_traces_exporter_console_works_without_an_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _one_span({"OTEL_TRACES_EXPORTER": "console"}, None, "no-endpoint")
    assert '"name": "no-endpoint"' in capsys.readouterr().err


def test_traces_exporter_otlp_and_console_together(capsys: pytest.CaptureFixture[str]) -> None:
    with Collector() as collector:
        _one_span({"OTEL_TRACES_EXPORTER": "otlp,console"}, collector.http_endpoint, "both")
        assert collector.store.wait_for(lambda s: s.name == "both", timeout=60)
    assert '"name": "both"' in capsys.readouterr().err


def test_unknown_traces_exporter_is_a_usage_error() -> None:
    assert resolve_exporters({}) == ("otlp",)
    assert resolve_exporters({"OTEL_TRACES_EXPORTER": " Console , otlp"}) == ("console", "otlp")
    with pytest.raises(TracingConfigError, match="zipkin"):
        check_tracing_environment(None, {"OTEL_TRACES_EXPORTER": "zipkin"})


def test_grpc_endpoint_without_a_scheme_is_accepted_like_the_sdk() -> None:
    grpc = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    assert resolve_endpoint("127.0.0.1:4317", grpc) == ("https://127.0.0.1:4317", "grpc")
    insecure = {**grpc, "OTEL_EXPORTER_OTLP_INSECURE": "true"}
    assert resolve_endpoint("127.0.0.1:4317", insecure) == ("http://127.0.0.1:4317", "grpc")
    with pytest.raises(TracingConfigError):
        resolve_endpoint("127.0.0.1", grpc)  # no port
    with pytest.raises(TracingConfigError):
        resolve_endpoint("127.0.0.1:4318", {})  # HTTP still needs a URL


def test_scheme_less_grpc_endpoint_reaches_the_collector() -> None:
    with Collector() as collector:
        assert collector.grpc_endpoint is not None
        hostport = collector.grpc_endpoint.removeprefix("http://")
        env = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_INSECURE": "true"}
        _one_span(env, hostport, "over-grpc")
        (span,) = collector.store.wait_for(lambda s: s.name == "over-grpc", timeout=60)
    assert span.resource["service.name"] == "unit"
