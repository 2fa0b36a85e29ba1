"""Tracer-provider set-up from ``--trace-ep`` and the standard OTEL_* variables.

Resolution order for the endpoint: the ``--trace-ep`` argument, then
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as is), then
``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/traces`` appended for HTTP).  With no
endpoint, or ``OTEL_SDK_DISABLED=true``, no SDK is installed and tracing
costs nothing.  The protocol comes from ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``
or ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf`` (default) or ``grpc``.
A gRPC endpoint may omit the scheme (``127.0.0.1:4317``), as the SDK allows:
it then uses TLS unless ``OTEL_EXPORTER_OTLP_TRACES_INSECURE`` or
``OTEL_EXPORTER_OTLP_INSECURE`` is ``true``.

``OTEL_TRACES_EXPORTER`` picks the exporters, comma-separated: ``otlp``
(default), ``console`` (spans as JSON on stderr, no endpoint needed) or
``none`` (no tracing at all). The resource keeps what
``OTEL_RESOURCE_ATTRIBUTES`` says (``service.namespace`` included; the
process's own ``service.name`` wins) and carries ``service.version``.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

from system.telemetry import schema as s

log = logging.getLogger(__name__)

_SUPPORTED_PROTOCOLS = ("http/protobuf", "grpc")
_SUPPORTED_EXPORTERS = ("otlp", "console", "none")
DEFAULT_NAMESPACE = "topic-enumerator"


class TracingConfigError(ValueError):
    """The tracing configuration cannot be used (bad endpoint or protocol)."""


@dataclass
class Telemetry:
    """The process's tracing handle: a tracer, and shutdown() to flush."""

    service_name: str
    endpoint: str | None = None
    protocol: str | None = None
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    _provider: Any = None
    _exporter: Any = None

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    @property
    def tracer_provider(self) -> Any:
        """The SDK tracer provider (for instrumentations), or None when tracing is off."""
        return self._provider

    def tracer(self, name: str = "system") -> trace.Tracer:
        if self._provider is None:
            return trace.NoOpTracer()
        return self._provider.get_tracer(name)

    def flush(self, timeout_ms: int = 5000) -> None:
        if self._provider is not None:
            self._provider.force_flush(timeout_ms)

    def shutdown(self) -> None:
        """Flush and stop the exporter. Safe to call more than once.

        When nothing listens at the endpoint any more, the exporter is stopped
        first: its retries would otherwise hold the process's exit for the
        whole export timeout (10 s by default) over spans that cannot be
        delivered, and the orchestrator waits for every producer's exit.
        """
        provider, self._provider = self._provider, None
        if provider is None:
            return
        if (
            self.endpoint is not None
            and self._exporter is not None
            and not accepts_connections(self.endpoint)
        ):
            log.warning(
                "trace endpoint %s is unreachable: spans not exported yet are dropped",
                endpoint_address(self.endpoint),
            )
            self._exporter.shutdown()
        provider.shutdown()


def endpoint_address(endpoint: str) -> str:
    """``scheme://host:port`` of an endpoint URL: never its path, query or credentials."""
    url = urllib.parse.urlsplit(endpoint)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
    except ValueError:
        return f"{url.scheme}://{url.hostname}"
    return f"{url.scheme}://{url.hostname}:{port}"


def accepts_connections(endpoint: str, timeout_s: float = 1.0) -> bool:
    """Whether something listens at the endpoint's host and port (a TCP connect, nothing sent)."""
    url = urllib.parse.urlsplit(endpoint)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _check_url(endpoint: str) -> None:
    """A host and a valid port, or spans would be dropped silently all run long."""
    try:
        parts = urllib.parse.urlsplit(endpoint)
        port = parts.port  # raises on a port outside 0..65535 or not a number
    except ValueError as exc:
        raise TracingConfigError(f"trace endpoint {endpoint!r} is not a valid URL: {exc}") from None
    if not parts.hostname:
        raise TracingConfigError(f"trace endpoint {endpoint!r} names no host")
    if port == 0:
        raise TracingConfigError(f"trace endpoint {endpoint!r} has port 0")


def resolve_endpoint(trace_ep: str | None, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """Return (exporter endpoint URL or None, protocol)."""
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol not in _SUPPORTED_PROTOCOLS:
        raise TracingConfigError(
            f"unsupported OTLP protocol {protocol!r}; use one of {', '.join(_SUPPORTED_PROTOCOLS)}"
        )
    signal_endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    base = trace_ep or (None if signal_endpoint else environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    endpoint = base or signal_endpoint
    if not endpoint:
        return None, protocol
    if protocol == "grpc" and "://" not in endpoint:
        endpoint = _grpc_url(endpoint, environ)
    if not endpoint.startswith(("http://", "https://")):
        raise TracingConfigError(f"trace endpoint {endpoint!r} must be an http:// or https:// URL")
    _check_url(endpoint)
    if base and protocol == "http/protobuf" and not base.rstrip("/").endswith("/v1/traces"):
        endpoint = base.rstrip("/") + "/v1/traces"
    return endpoint, protocol


def _grpc_url(endpoint: str, environ: Mapping[str, str]) -> str:
    """A scheme-less gRPC endpoint as a URL: TLS unless the *_INSECURE variable says true
    (the SDK's rule)."""
    insecure = environ.get("OTEL_EXPORTER_OTLP_TRACES_INSECURE") or environ.get(
        "OTEL_EXPORTER_OTLP_INSECURE"
    )
    url = f"{'http' if _truthy(insecure) else 'https'}://{endpoint}"
    try:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname or parts.port is None or parts.path not in ("", "/"):
            raise ValueError
    except ValueError:
        raise TracingConfigError(
            f"gRPC trace endpoint {endpoint!r} must be HOST:PORT or an http(s):// URL"
        ) from None
    return url


def resolve_exporters(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (default ``otlp``); () for ``none``."""
    names = [
        n.strip().lower()
        for n in (environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")
        if n.strip()
    ] or ["otlp"]
    unknown = [n for n in names if n not in _SUPPORTED_EXPORTERS]
    if unknown:
        raise TracingConfigError(
            f"unsupported OTEL_TRACES_EXPORTER {', '.join(unknown)!r}; "
            f"use {', '.join(_SUPPORTED_EXPORTERS)}"
        )
    if "none" in names:
        return ()
    return tuple(dict.fromkeys(names))


def resource_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``OTEL_RESOURCE_ATTRIBUTES`` (``k=v,k2=v2``, values percent-encoded) as a dict."""
    attributes: dict[str, str] = {}
    for pair in (environ.get("OTEL_RESOURCE_ATTRIBUTES") or "").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = urllib.parse.unquote(value.strip())
    return attributes


def check_tracing_environment(trace_ep: str | None, environ: Mapping[str, str]) -> None:
    """Raise TracingConfigError for any tracing setting that cannot be used (exit 2)."""
    resolve_exporters(environ)
    resolve_endpoint(trace_ep, environ)


def child_environment(trace_ep: str | None) -> dict[str, str] | None:
    """The environment for child processes so they trace where ``--trace-ep`` says,
    or None (inherit as is) without one."""
    if not trace_ep:
        return None
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": trace_ep}
    env.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    return env


def configure_tracing(
    service_name: str,
    *,
    trace_ep: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Telemetry:
    """Install a global tracer provider exporting OTLP, or nothing if unconfigured."""
    env = os.environ if environ is None else environ
    telemetry = Telemetry(service_name=service_name)
    if _truthy(env.get("OTEL_SDK_DISABLED")):
        return telemetry
    exporters = resolve_exporters(env)
    endpoint, protocol = resolve_endpoint(trace_ep, env)
    if "otlp" in exporters and endpoint is None:
        exporters = tuple(e for e in exporters if e != "otlp")
    if not exporters:
        return telemetry

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from system.telemetry.deferred import DeferredExporter
    from system.version import version

    provider = TracerProvider(
        resource=Resource(_resource(service_name, telemetry.instance_id, version(), env)).merge(
            Resource(dict(resource_attributes or {}))
        )
    )
    if "otlp" in exporters:
        assert endpoint is not None
        exporter = DeferredExporter(lambda: _otlp_exporter(endpoint, protocol))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        telemetry.endpoint, telemetry.protocol = endpoint, protocol
        telemetry._exporter = exporter
        log.debug("tracing to %s over %s", endpoint_address(endpoint), protocol)
    if "console" in exporters:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(provider)
    telemetry._provider = provider
    return telemetry


def _resource(
    service_name: str, instance_id: str, service_version: str, env: Mapping[str, str]
) -> dict[str, Any]:
    """The resource: OTEL_RESOURCE_ATTRIBUTES first, then what only this process knows."""
    attributes: dict[str, Any] = {
        s.RES_SERVICE_NAMESPACE: DEFAULT_NAMESPACE,
        **resource_from_environment(env),
        s.RES_SERVICE_NAME: service_name,
        s.RES_SERVICE_INSTANCE_ID: instance_id,
        s.RES_SERVICE_VERSION: service_version,
        s.PROCESS_PID: os.getpid(),
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
    }
    from opentelemetry.sdk.version import __version__ as sdk_version

    attributes["telemetry.sdk.version"] = sdk_version
    return attributes


def _otlp_exporter(endpoint: str, protocol: str) -> Any:
    """The SDK's OTLP span exporter for the protocol (its timeout and headers come
    from the standard OTEL_EXPORTER_OTLP_* variables)."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter(endpoint=endpoint)
