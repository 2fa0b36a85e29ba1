"""OTEL_* conventions, checked against the embedded collector: OTEL_TRACES_EXPORTER,
OTEL_RESOURCE_ATTRIBUTES' namespace, service.version, scheme-less gRPC endpoints, the
spec's default endpoint, OTEL_SERVICE_NAME and the protocols refused."""

from __future__ import annotations

import json
import logging
import socket

import pytest

from system.telemetry import setup
from system.telemetry.setup import (
    DEFAULT_ENDPOINTS,
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


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("protocol", "default"),
    [("http/protobuf", "http://localhost:4318/v1/traces"), ("grpc", "http://localhost:4317")],
)
def test_otlp_asked_for_without_an_endpoint_uses_the_specs_default(protocol, default) -> None:
    env = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
    telemetry = configure_tracing("unit", environ={**env, "TRACEPARENT": "quiet"})
    try:
        assert telemetry.enabled and (telemetry.endpoint, telemetry.protocol) == (default, protocol)
    finally:
        telemetry.shutdown()
    assert DEFAULT_ENDPOINTS[protocol] == default


def test_no_endpoint_and_no_traces_exporter_is_no_tracing_at_all() -> None:
    telemetry = configure_tracing("unit", environ={})
    assert not telemetry.enabled and telemetry.endpoint is None
    assert not configure_tracing("unit", environ={"OTEL_TRACES_EXPORTER": "console"}).endpoint


def test_the_default_endpoint_receives_when_something_listens_there(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with Collector() as collector:
        default = f"{collector.http_endpoint}/v1/traces"
        monkeypatch.setitem(DEFAULT_ENDPOINTS, "http/protobuf", default)
        with caplog.at_level(logging.WARNING):
            _one_span({"OTEL_TRACES_EXPORTER": "otlp"}, None, "to-the-default")
        (span,) = collector.store.wait_for(lambda s: s.name == "to-the-default", timeout=60)
    assert span.resource["service.name"] == "unit"
    assert not [m for m in _warnings(caplog) if "Overriding of current TracerProvider" not in m]


def test_an_unreachable_default_endpoint_is_one_warning_not_one_per_batch(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    monkeypatch.setitem(DEFAULT_ENDPOINTS, "http/protobuf", f"http://127.0.0.1:{port}/v1/traces")
    with caplog.at_level(logging.DEBUG):
        telemetry = configure_tracing("unit", environ={"OTEL_TRACES_EXPORTER": "otlp"})
        assert telemetry.enabled
        for n in range(3):
            with telemetry.tracer().start_as_current_span(f"batch-{n}"):
                pass
            telemetry.flush()
        telemetry.shutdown()
        quiet = configure_tracing(
            "unit", environ={"OTEL_TRACES_EXPORTER": "otlp", "TRACEPARENT": "from-a-parent"}
        )
        with quiet.tracer().start_as_current_span("child"):
            pass
        quiet.shutdown()
    warnings = [m for m in _warnings(caplog) if "Overriding of current TracerProvider" not in m]
    assert len(warnings) == 1, warnings
    assert f"nothing listens at the default http://127.0.0.1:{port}" in warnings[0]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in warnings[0]
    assert telemetry._exporter._exporter is None  # the SDK exporter never tried


def test_otel_service_name_is_refused_unless_it_is_the_processs_role() -> None:
    env = {"OTEL_SERVICE_NAME": "my-enumerator"}
    with pytest.raises(TracingConfigError) as refused:
        check_tracing_environment(None, env, "orchestrator")
    message = str(refused.value)
    assert "OTEL_SERVICE_NAME='my-enumerator' is not supported" in message
    assert "orchestrator, producer, webserver" in message
    assert "OTEL_RESOURCE_ATTRIBUTES=service.namespace=my-enumerator" in message
    check_tracing_environment(None, {"OTEL_SERVICE_NAME": "webserver"}, "webserver")
    check_tracing_environment(None, {"OTEL_SERVICE_NAME": ""}, "orchestrator")
    assert setup.SERVICE_ROLES == ("orchestrator", "producer", "webserver")


@pytest.mark.parametrize(
    "variable", ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]
)
def test_http_json_is_refused_naming_the_variable_and_the_supported_values(variable) -> None:
    with pytest.raises(TracingConfigError) as refused:
        check_tracing_environment("http://127.0.0.1:4318", {variable: "http/json"})
    assert str(refused.value) == (
        f"{variable}='http/json' is not supported: use http/protobuf or grpc "
        "(no OTLP/JSON exporter in the Python SDK)"
    )
