"""A producer's Router for the provider set it was told to use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

from system.producer.chat_span import ChatSpan
from system.producer.resilience.breaker import CircuitBreaker
from system.producer.resilience.limiter import RateLimiter
from system.producer.resilience.router import Route, Router
from system.providers.registry import create_providers


def build_router(
    provider: str, settings: dict[str, Any], environ: Mapping[str, str], tracer: trace.Tracer
) -> tuple[Router, bool]:
    """(router, record_content); raises UnknownProviderError for a bad provider set.

    Every request the router makes is one ``chat`` span of ``tracer`` (``ChatSpan``).
    """
    providers, record_content = create_providers(provider, settings, environ)

    def span_factory(prompt: str) -> ChatSpan:
        return ChatSpan(tracer, prompt, record_content=record_content)

    routes = []
    for instance, spec in providers:
        name = str(getattr(instance, "key", instance.name))
        if spec is None:
            routes.append(Route(instance, CircuitBreaker(name), RateLimiter()))
            continue
        breaker = CircuitBreaker(
            name, failure_threshold=spec.breaker_failures, cooldown_s=spec.breaker_cooldown_s
        )
        routes.append(Route(instance, breaker, RateLimiter(spec.rpm, spec.tpm), spec.weight))
    return Router(routes, span_factory=span_factory), record_content
