"""A producer's Router for the provider set it was told to use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from system.producer.resilience.breaker import CircuitBreaker
from system.producer.resilience.limiter import RateLimiter
from system.producer.resilience.router import CallFn, Route, Router
from system.providers.registry import create_providers


def build_router(
    provider: str, settings: Mapping[str, Any], environ: Mapping[str, str], call: CallFn
) -> tuple[Router, bool]:
    """(router, record_content); raises UnknownProviderError for a bad provider set."""
    providers, record_content = create_providers(provider, settings, environ)
    routes = []
    for instance, spec in providers:
        name = instance.key
        if spec is None:
            routes.append(Route(instance, CircuitBreaker(name), RateLimiter()))
            continue
        breaker = CircuitBreaker(
            name, failure_threshold=spec.breaker_failures, cooldown_s=spec.breaker_cooldown_s
        )
        routes.append(Route(instance, breaker, RateLimiter(spec.rpm, spec.tpm), spec.weight))
    return Router(routes, call), record_content
