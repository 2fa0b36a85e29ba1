"""Build the provider a producer was told to use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from system.providers.base import Provider
from system.providers.spec import ProviderSpec


class UnknownProviderError(ValueError):
    pass


def create_provider(name: str, settings: Mapping[str, Any]) -> Provider:
    if name == "test":
        from system.providers.test_provider import TestProvider

        return TestProvider(
            latency_ms=float(settings.get("sim_latency_ms", 0.0)),
            profile=str(settings.get("sim_profile") or "weak"),
        )
    raise UnknownProviderError(f"provider {name!r} is not available in this build")


def create_providers(
    name: str, settings: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[list[tuple[Provider, ProviderSpec | None]], bool]:
    """Every provider of the run with its spec (None for ``test``), and record_content.

    ``env``: the specs come from the environment the orchestrator set
    (``catalog.PROVIDERS_ENV``) and each key from the variable its spec names.
    """
    if name != "env":
        return [(create_provider(name, settings), None)], False
    from system.providers.catalog import CatalogError, read_producer_config
    from system.providers.openai_compat import OpenAICompatProvider

    try:
        specs, record_content = read_producer_config(environ)
    except CatalogError as exc:
        raise UnknownProviderError(str(exc)) from exc
    providers: list[tuple[Provider, ProviderSpec | None]] = []
    for spec in specs:
        key = environ.get(spec.key_env) if spec.key_env else None
        if spec.key_env and not key:
            raise UnknownProviderError(f"provider {spec.name}: {spec.key_env} is not set")
        providers.append((OpenAICompatProvider(spec, key), spec))
    return providers, record_content
