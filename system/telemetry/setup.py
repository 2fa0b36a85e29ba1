"""Tracer-provider set-up from ``--trace-ep`` and the standard OTEL_* variables.

Resolution order for the endpoint: the ``--trace-ep`` argument, then
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as is), then
``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/traces`` appended for HTTP), then,
only when ``OTEL_TRACES_EXPORTER`` names ``otlp`` explicitly, the spec's
default (``http://localhost:4318/v1/traces``, gRPC ``http://localhost:4317``;
one warning when nothing listens there, then batches are dropped quietly
until something does).  With no endpoint and no ``OTEL_TRACES_EXPORTER``, or
``OTEL_SDK_DISABLED=true``, no SDK is installed and tracing costs nothing.
The protocol comes from ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or
``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf`` (default) or ``grpc``;
the spec's third value, ``http/json``, is refused (the Python SDK has no
exporter for it).  ``OTEL_SERVICE_NAME`` is refused unless it names the
process's own role: ``service.name`` is part of the span contract.
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

from system.telemetry import schema as s

log = logging.getLogger(__name__)

_SUPPORTED_PROTOCOLS = ("http/protobuf", "grpc")
#: the OTLP spec's default endpoints, used when OTEL_TRACES_EXPORTER asks for otlp
#: and no endpoint is configured (every OTel SDK does the same)
DEFAULT_ENDPOINTS = {"http/protobuf": "http://localhost:4318/v1/traces",
                     "grpc": "http://localhost:4317"}  # fmt: skip
#: service.name of each process: the span contract (docs/tracing.md "Resource")
SERVICE_ROLES = (s.SERVICE_ORCHESTRATOR, s.SERVICE_PRODUCER, s.SERVICE_WEBSERVER)
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
    #: the endpoint is the spec's default (its gate already warned when unreachable)
    _defaulted: bool = False

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
            if not self._defaulted:
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
    variable = next(
        (v for v in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
         if environ.get(v)),
        None,
    )  # fmt: skip
    protocol = (environ.get(variable, "") if variable else "http/protobuf").strip()
    if protocol not in _SUPPORTED_PROTOCOLS:
        raise TracingConfigError(
            f"{variable}={protocol!r} is not supported: use {' or '.join(_SUPPORTED_PROTOCOLS)}"
            + (" (no OTLP/JSON exporter in the Python SDK)" if protocol == "http/json" else "")
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


def otlp_requested(environ: Mapping[str, str]) -> bool:
    """Whether ``OTEL_TRACES_EXPORTER`` names ``otlp`` (unset: otlp only with an endpoint)."""
    names = (environ.get("OTEL_TRACES_EXPORTER") or "").split(",")
    return "otlp" in (n.strip().lower() for n in names)


def check_service_name(role: str, environ: Mapping[str, str]) -> None:
    """``OTEL_SERVICE_NAME`` would rename the process's service, which the span contract
    fixes to its role: refused unless it is that role. (The orchestrator does not pass
    it on to its producers.)"""
    name = (environ.get("OTEL_SERVICE_NAME") or "").strip()
    if name and name != role:
        raise TracingConfigError(
            f"OTEL_SERVICE_NAME={name!r} is not supported: service.name is each process's "
            f"role ({', '.join(SERVICE_ROLES)}), part of the span contract; to tell "
            f"deployments apart set OTEL_RESOURCE_ATTRIBUTES=service.namespace={name}"
        )


def resource_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``OTEL_RESOURCE_ATTRIBUTES`` (``k=v,k2=v2``, values percent-encoded) as a dict."""
    attributes: dict[str, str] = {}
    for pair in (environ.get("OTEL_RESOURCE_ATTRIBUTES") or "").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = urllib.parse.unquote(value.strip())
    return attributes


def check_tracing_environment(
    trace_ep: str | None, environ: Mapping[str, str], role: str | None = None
) -> None:
    """Raise TracingConfigError for any tracing setting that cannot be used (exit 2)."""
    resolve_exporters(environ)
    resolve_endpoint(trace_ep, environ)
    if role is not None:
        check_service_name(role, environ)


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
    gate: Callable[[], bool] | None = None
    if "otlp" in exporters and endpoint is None and otlp_requested(env):
        endpoint = DEFAULT_ENDPOINTS[protocol]
        # a process started with its parent's trace context (a producer) is quiet:
        # the parent resolved the same default and said so
        gate = _Reachable(endpoint, warn="TRACEPARENT" not in env)
        gate()  # the warning, if any, at start-up rather than at the first export
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
        exporter = DeferredExporter(lambda: _otlp_exporter(endpoint, protocol), gate=gate)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        telemetry.endpoint, telemetry.protocol = endpoint, protocol
        telemetry._exporter = exporter
        telemetry._defaulted = gate is not None
        log.debug("tracing to %s over %s", endpoint_address(endpoint), protocol)
    if "console" in exporters:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(provider)
    telemetry._provider = provider
    return telemetry


class _Reachable:
    """The export gate for the spec's default endpoint, which nobody configured: a TCP
    connect before each batch (on the export thread; a refused connect to localhost
    costs well under a millisecond). Nothing listening: the batch is dropped without
    the exporter's retries and their log line per batch; the first time, one warning."""

    def __init__(self, endpoint: str, *, warn: bool) -> None:
        self.endpoint = endpoint
        self._warned = not warn

    def __call__(self) -> bool:
        if accepts_connections(self.endpoint, timeout_s=0.5):
            return True
        if not self._warned:
            self._warned = True
            log.warning(
                "OTEL_TRACES_EXPORTER=otlp without an endpoint: nothing listens at the "
                "default %s; spans are dropped until something does (set "
                "OTEL_EXPORTER_OTLP_ENDPOINT or --trace-ep)",
                endpoint_address(self.endpoint),
            )
        return False


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
