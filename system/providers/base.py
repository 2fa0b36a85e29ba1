"""What a producer needs from an LLM provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    latency_ms: float


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
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        #: another attempt (on this or another provider) may succeed
        self.retryable = retryable
        #: seconds the provider asked us to wait (Retry-After), if it said
        self.retry_after = retry_after
        self.status_code = status_code


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

    async def complete(self, prompt: str, *, seed: int) -> Completion: ...

    async def close(self) -> None: ...
