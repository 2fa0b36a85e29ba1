"""W3C trace-context carriers for messages and spawned processes."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject

TRACEPARENT_ENV = "TRACEPARENT"
TRACESTATE_ENV = "TRACESTATE"


def current_context_carrier() -> dict[str, str]:
    """The active span's context as ``{"traceparent": ..., "tracestate": ...}``."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str] | None) -> otel_context.Context:
    return extract(dict(carrier or {}))


def env_carrier(environ: Mapping[str, str]) -> dict[str, str]:
    """Read a carrier from the TRACEPARENT/TRACESTATE environment variables."""
    carrier = {}
    if environ.get(TRACEPARENT_ENV):
        carrier["traceparent"] = environ[TRACEPARENT_ENV]
    if environ.get(TRACESTATE_ENV):
        carrier["tracestate"] = environ[TRACESTATE_ENV]
    return carrier


def carrier_to_env(carrier: Mapping[str, str]) -> dict[str, str]:
    env = {}
    if "traceparent" in carrier:
        env[TRACEPARENT_ENV] = carrier["traceparent"]
    if "tracestate" in carrier:
        env[TRACESTATE_ENV] = carrier["tracestate"]
    return env
