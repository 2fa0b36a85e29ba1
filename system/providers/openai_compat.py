"""One provider for every OpenAI-compatible chat-completions endpoint.

OpenAI, Anthropic's and Gemini's OpenAI-compatible endpoints, vLLM, Ollama,
llama.cpp's server and LM Studio differ only in base URL, key and model. The
``openai`` package is imported when the first such provider is built, so the
``test`` provider's start-up does not pay for it. The client never retries
(``max_retries=0``): retries, failover and circuit breaking are the
producer's (``system.producer.resilience``), and stacked retries would only
delay failover.

Nothing the server sends is trusted (docs/ARCHITECTURE.md "Guarantees:
deadlines and caps"): an attempt has a total deadline (``deadline``; the
client's ``timeout`` is per read, so a server trickling a byte at a time
would hold it for ever), the body is read as it arrives and abandoned past
``MAX_ANSWER_BYTES``, it is decoded leniently (invalid UTF-8 and lone
surrogates in the model name, id and finish reason become U+FFFD; the parser
drops the answer lines holding one) and its
shape is checked here: anything but the documented shape is an
``invalid_response`` failure of that attempt, never an exception elsewhere.
A 401/403 is ``permanent``: the key is wrong, the router disables the
provider for the run.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx2

from system.providers.base import Completion, ProviderError, Sampling, shifted
from system.providers.spec import ProviderSpec

#: statuses worth another attempt (possibly on another provider)
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
MAX_RETRY_AFTER_S = 300.0
#: statuses that say the key is wrong: the provider is disabled for the run
AUTH_STATUS = frozenset({401, 403})
#: the largest answer body read (decoded bytes); a larger one is a failed attempt
MAX_ANSWER_BYTES = 4 * 1024 * 1024
#: token counts above this (or negative, or not integers) make an answer malformed
MAX_TOKEN_COUNT = 10**9


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


def classify(exc: BaseException, key_env: str | None = None) -> ProviderError:
    """An openai/transport exception as a ProviderError (error.type, retryable, Retry-After).

    ``key_env``: the variable that holds the key, named in a 401/403's message.
    """
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
        if status in AUTH_STATUS:
            return ProviderError(
                f"HTTP {status}: the provider refused the API key "
                + (f"in {key_env}" if key_env else "(none is configured: key_env=)"),
                str(status),
                status_code=status, permanent=True,
            )  # fmt: skip
        return ProviderError(
            f"HTTP {status}: {type(exc).__name__}",
            str(status),
            retryable=status in RETRYABLE_STATUS or status >= 500,
            retry_after=retry_after,
            status_code=status,
        )
    if isinstance(exc, openai.APIResponseValidationError | ValueError | RecursionError):
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
        self.deadline_s = spec.request_deadline_s
        # Local servers ignore the key but the client insists on one.
        self._client = AsyncOpenAI(
            api_key=api_key or "no-key",
            base_url=spec.base_url,
            max_retries=0,
            timeout=spec.timeout_s,
            # uncompressed answers: the cap counts decoded bytes, and one compressed
            # network read could inflate past it before it is counted
            default_headers={"Accept-Encoding": "identity"},
            http_client=CappedClient(MAX_ANSWER_BYTES, timeout=spec.timeout_s),
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
            async with asyncio.timeout(self.deadline_s):
                raw = await self._client.chat.completions.with_raw_response.create(
                    model=self.model,
                    messages=[{"role": "user", "content": prompt}],
                    **kwargs,
                )
                body = raw.http_response.content
        except TimeoutError:
            raise ProviderError(
                f"no whole answer within the {self.deadline_s:g}s deadline", "deadline",
                retryable=True,
            ) from None  # fmt: skip
        except Exception as exc:
            # no chained exception: it may hold request data
            raise classify(exc, self.spec.key_env) from None
        return read_completion(body, self.model, (time.perf_counter() - started) * 1000)

    async def close(self) -> None:
        await self._client.close()


class CappedClient(httpx2.AsyncClient):
    """An HTTP client that reads at most ``limit`` decoded bytes of a response body.

    The SDK reads a non-streamed body whole before looking at it; here the
    body is read as it arrives and given up (``answer_too_large``) past the
    limit, error answers included, so a producer's memory stays bounded.
    """

    def __init__(self, limit: int, **kwargs: Any) -> None:
        super().__init__(follow_redirects=True, **kwargs)
        self.limit = limit

    async def send(
        self, request: httpx2.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx2.Response:
        response = await super().send(request, stream=True, **kwargs)
        if stream:
            return response
        try:
            body = await self._read(response)
        finally:
            await response.aclose()
        skip = {"content-encoding", "content-length", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip]
        return httpx2.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    async def _read(self, response: httpx2.Response) -> bytes:
        too_large = ProviderError(
            f"answer larger than {self.limit} bytes", "answer_too_large", retryable=True
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)


def _invalid(what: str) -> ProviderError:
    return ProviderError(f"invalid response body: {what}", "invalid_response", retryable=True)


def lenient_text(raw: str) -> str:
    """``raw`` with lone surrogates (``\\ud800`` escapes in JSON) replaced by U+FFFD."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return raw


def _content(message: Any) -> str:
    """A message's text: a string, null, or a list of content parts (their text joined)."""
    if not isinstance(message, dict):
        raise _invalid("choices[0].message is not an object")
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content  # lone surrogates stay: the parser removes them (parser contract)
    if not isinstance(content, list):
        raise _invalid(f"message content is a {type(content).__name__}")
    texts = []
    for part in content:
        if not isinstance(part, dict):
            raise _invalid("a content part is not an object")
        if part.get("type") == "text":
            if not isinstance(part.get("text"), str):
                raise _invalid("a text part has no text")
            texts.append(part["text"])
    return "".join(texts)


def _tokens(usage: Any, key: str) -> int:
    if usage is None:
        return 0
    if not isinstance(usage, dict):
        raise _invalid("usage is not an object")
    value = usage.get(key)
    if value is None:
        return 0
    if type(value) is not int or not 0 <= value <= MAX_TOKEN_COUNT:
        raise _invalid(f"usage.{key} is not a token count")
    return value


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(f"{key} is a {type(value).__name__}")
    return value or None


def read_completion(body: bytes, model: str, latency_ms: float) -> Completion:
    """The Completion in a chat-completions body; ``invalid_response`` for any other shape."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        raise _invalid("not JSON") from None
    if not isinstance(data, dict):
        raise _invalid("not a JSON object")
    choices = data.get("choices")
    if choices is not None and not isinstance(choices, list):
        raise _invalid("choices is not a list")
    if not choices:
        raise ProviderError("response has no choices", "empty_response", retryable=True)
    choice = choices[0]
    if not isinstance(choice, dict):
        raise _invalid("choices[0] is not an object")
    text = _content(choice.get("message"))
    usage = data.get("usage")
    return Completion(
        text=text,
        model=lenient_text(_optional_str(data, "model") or model),
        input_tokens=_tokens(usage, "prompt_tokens"),
        output_tokens=_tokens(usage, "completion_tokens"),
        finish_reason=lenient_text(_optional_str(choice, "finish_reason") or "unknown"),
        latency_ms=latency_ms,
        response_id=lenient_text(_optional_str(data, "id") or "") or None,
    )
