"""One provider for every OpenAI-compatible chat-completions endpoint.

OpenAI, Anthropic's and Gemini's OpenAI-compatible endpoints, vLLM, Ollama,
llama.cpp's server and LM Studio differ only in base URL, key and model. The
``openai`` package is imported when the first such provider is built, so the
``test`` provider's start-up does not pay for it. The client never retries
(``max_retries=0``): retries, failover and circuit breaking are the
producer's (``system.producer.resilience``), and stacked retries would only
delay failover.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any
from urllib.parse import urlsplit

from system.providers.base import Completion, ProviderError, Sampling, shifted
from system.providers.spec import ProviderSpec

#: statuses worth another attempt (possibly on another provider)
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_RETRY_AFTER_S = 300.0


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date)."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(raw_ms) / 1000))
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(raw)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, when.timestamp() - time.time()))


def classify(exc: BaseException) -> ProviderError:
    """An openai/transport exception as a ProviderError (error.type, retryable, Retry-After)."""
    import openai

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ProviderError("request timed out", "timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderError("connection failed", "connection_error", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers if exc.response else None)
        return ProviderError(
            f"HTTP {status}: {type(exc).__name__}",
            str(status),
            retryable=status in RETRYABLE_STATUS or status >= 500,
            retry_after=retry_after,
            status_code=status,
        )
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        # the body was not the JSON the API promises (garbage, truncated)
        return ProviderError("invalid response body", "invalid_response", retryable=True)
    return ProviderError(f"{type(exc).__name__}", type(exc).__qualname__, retryable=True)


class OpenAICompatProvider:
    def __init__(self, spec: ProviderSpec, api_key: str | None) -> None:
        from openai import AsyncOpenAI

        self.spec = spec
        self.key = spec.name  # the id used by selection, breakers and limits
        self.name = spec.genai_provider  # gen_ai.provider.name
        self.model = spec.model
        parts = urlsplit(spec.base_url)
        self.server_address = parts.hostname or ""
        self.server_port = parts.port or (443 if parts.scheme == "https" else 80)
        # Local servers ignore the key but the client insists on one.
        self._client = AsyncOpenAI(
            api_key=api_key or "no-key",
            base_url=spec.base_url,
            max_retries=0,
            timeout=spec.timeout_s,
        )

    @property
    def sampling(self) -> Sampling:
        """The spec's sampling settings (None: not sent, the server's default)."""
        s = self.spec
        return Sampling(s.temperature, s.top_p, s.seed, s.max_tokens)

    def sampling_for(self, temperature_delta: float = 0.0) -> Sampling:
        """What a request sends: the spec's settings, the temperature arm's shift applied."""
        return shifted(self.sampling, temperature_delta)

    async def complete(
        self, prompt: str, *, seed: int, temperature_delta: float = 0.0
    ) -> Completion:
        # ``seed`` (the producer's per-request seed) is not sent: a real model would
        # answer identical prompts identically; the spec's seed= is sent when set.
        started = time.perf_counter()
        sampling = self.sampling_for(temperature_delta)
        kwargs: dict[str, Any] = {
            key: value
            for key, value in (
                ("max_tokens", sampling.max_tokens),
                ("temperature", sampling.temperature),
                ("top_p", sampling.top_p),
                ("seed", sampling.seed),
            )
            if value is not None
        }
        try:
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": prompt}],
                **kwargs,
            )
        except Exception as exc:
            raise classify(exc) from None  # no chained exception: it may hold request data
        if not getattr(response, "choices", None):
            raise ProviderError("response has no choices", "empty_response", retryable=True)
        choice = response.choices[0]
        text = (choice.message.content if choice.message else None) or ""
        usage = response.usage
        return Completion(
            text=text,
            model=response.model or self.model,
            input_tokens=(usage.prompt_tokens if usage else 0) or 0,
            output_tokens=(usage.completion_tokens if usage else 0) or 0,
            finish_reason=choice.finish_reason or "unknown",
            latency_ms=(time.perf_counter() - started) * 1000,
            response_id=getattr(response, "id", None) or None,
        )

    async def close(self) -> None:
        await self._client.close()
