"""Build the provider a producer was told to use."""

from __future__ import annotations

from typing import Any

from system.providers.base import Provider


class UnknownProviderError(ValueError):
    pass


def create_provider(name: str, settings: dict[str, Any]) -> Provider:
    if name == "test":
        from system.providers.test_provider import TestProvider

        return TestProvider(latency_ms=float(settings.get("sim_latency_ms", 0.0)))
    raise UnknownProviderError(f"provider {name!r} is not available in this build")
