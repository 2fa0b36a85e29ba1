"""What a producer needs from an LLM provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Sampling:
    """The sampling settings a request is sent with (None: the server's default).

    They are recorded on the ``chat`` span as ``gen_ai.request.*`` attributes.
    """

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    max_tokens: int | None = None

    def attributes(self) -> dict[str, float | int]:
        """The ``gen_ai.request.*`` attributes of the settings that are set."""
        values = {
            "gen_ai.request.temperature": self.temperature,
            "gen_ai.request.top_p": self.top_p,
            "gen_ai.request.seed": self.seed,
            "gen_ai.request.max_tokens": self.max_tokens,
        }
        return {k: v for k, v in values.items() if v is not None}


#: temperature assumed for the strategy's temperature arm when a provider sets none
#: (OpenAI's documented default)
DEFAULT_TEMPERATURE = 1.0
#: the highest temperature the OpenAI-compatible APIs accept
MAX_TEMPERATURE = 2.0


def shifted(sampling: Sampling, temperature_delta: float) -> Sampling:
    """``sampling`` with the temperature raised by ``temperature_delta`` (capped at 2)."""
    if not temperature_delta:
        return sampling
    base = DEFAULT_TEMPERATURE if sampling.temperature is None else sampling.temperature
    value = round(min(MAX_TEMPERATURE, max(0.0, base + temperature_delta)), 3)
    return Sampling(value, sampling.top_p, sampling.seed, sampling.max_tokens)


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    latency_ms: float
    response_id: str | None = None  # gen_ai.response.id, when the server gives one


class ProviderError(RuntimeError):
    """A call to the provider failed; ``error_type`` feeds the span's error.type."""

    def __init__(
        self,
        message: str,
        error_type: str = "provider_error",
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status_code: int | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        #: another attempt (on this or another provider) may succeed
        self.retryable = retryable
        #: seconds the provider asked us to wait (Retry-After), if it said
        self.retry_after = retry_after
        self.status_code = status_code
        #: the provider cannot answer for the rest of the run (a refused key: 401/403)
        self.permanent = permanent


def sampling_of(provider: object, temperature_delta: float = 0.0) -> Sampling:
    """What a provider sends for a request (``Sampling()`` for one without settings)."""
    sampling_for = getattr(provider, "sampling_for", None)
    return sampling_for(temperature_delta) if callable(sampling_for) else Sampling()


class Provider(Protocol):
    """An LLM endpoint as the producer's router and its spans see it.

    The read-only attributes are properties here so that an implementation may
    hold them as plain attributes or class attributes of a narrower type.
    """

    #: value of gen_ai.provider.name
    name: str
    #: value of gen_ai.request.model
    model: str

    @property
    def key(self) -> str:
        """The id selection, breakers, limits and statistics use (the ``--llm`` name)."""
        ...

    @property
    def server_address(self) -> str | None:
        """``server.address`` of the chat span; None (or empty) for an in-process model."""
        ...

    @property
    def server_port(self) -> int | None:
        """``server.port`` of the chat span, with ``server_address``."""
        ...

    async def complete(
        self, prompt: str, *, seed: int, temperature_delta: float = 0.0
    ) -> Completion:
        """One call. ``temperature_delta`` raises the configured temperature (the
        strategy's temperature arm); a provider without sampling settings ignores it."""
        ...

    async def close(self) -> None: ...
