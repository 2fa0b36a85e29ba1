"""The ``chat {model}`` span of one LLM request, covering all of its attempts.

The OpenTelemetry GenAI conventions say a GenAI span is the logical operation
as the caller sees it: a request that is retried SHOULD be one span for the
whole of it. The router tells a ``ChatSpan`` about every attempt; the span
is opened at the first attempt (a request that never reached a provider has
no ``chat`` span: its ``generation.cycle`` says ``providers.unavailable``),
made the current span, so the router's ``llm.retry``, ``llm.failover``,
``rate_limit.wait`` and ``breaker.state_change`` events land on it, and
ended when the request is answered or given up.

Per-attempt detail is an ``llm.attempt`` event per HTTP request (provider,
model, server, latency, ``error.type`` when it failed), not a child span:
an attempt has no children of its own, events keep the span count at one
per request, and the request span's attributes describe what the caller got.
Those attributes are the answering attempt's (after a failover: the provider
that answered), or the last attempt's when every attempt failed.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from system.providers.base import Completion, Provider, ProviderError, sampling_of
from system.telemetry import schema as s

#: characters of prompt / answer kept on the span with --record-content
CONTENT_LIMIT = 2000

__all__ = ["CONTENT_LIMIT", "ChatSpan", "messages_json"]


def _clip(text: str) -> str:
    return text if len(text) <= CONTENT_LIMIT else text[:CONTENT_LIMIT] + "…[truncated]"


def messages_json(role: str, text: str, finish_reason: str | None = None) -> str:
    """GenAI conventions' message list: one message with one text part."""
    message: dict[str, Any] = {"role": role, "parts": [{"type": "text", "content": _clip(text)}]}
    if finish_reason is not None:
        message["finish_reason"] = finish_reason
    return json.dumps([message])


def _provider_attributes(provider: Provider, temperature_delta: float) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        s.GENAI_OPERATION_NAME: s.GENAI_OPERATION_CHAT,
        s.GENAI_PROVIDER_NAME: provider.name,
        s.GENAI_REQUEST_MODEL: provider.model,
    }
    address = getattr(provider, "server_address", None)
    if address:
        attributes[s.SERVER_ADDRESS] = address
        attributes[s.SERVER_PORT] = int(getattr(provider, "server_port", 0) or 0)
    attributes.update(sampling_of(provider, temperature_delta).attributes())
    return attributes


class ChatSpan:
    """One request's ``chat`` span, told by the router about each attempt and the end."""

    def __init__(
        self,
        tracer: trace.Tracer,
        prompt: str,
        *,
        record_content: bool = False,
        temperature_delta: float = 0.0,
    ) -> None:
        self._tracer = tracer
        self._prompt = prompt
        self._record_content = record_content
        self.temperature_delta = temperature_delta
        self._span: Span | None = None
        self._token: Token[otel_context.Context] | None = None
        self._started = 0.0
        self._provider: Provider | None = None
        self._in_flight: Provider | None = None  # the provider of an attempt not ended yet
        self._answered = False
        self.attempts = 0

    def _describe(self, provider: Provider) -> None:
        """The span names the provider of the attempt that decides the outcome."""
        assert self._span is not None
        if provider is self._provider:
            return
        self._provider = provider
        self._span.update_name(f"{s.GENAI_OPERATION_CHAT} {provider.model}")
        self._span.set_attributes(_provider_attributes(provider, self.temperature_delta))

    def attempt(self, provider: Provider, prompt: str | None = None) -> None:
        """An HTTP attempt is about to start (``prompt``: when it differs by provider)."""
        if prompt is not None:
            self._prompt = prompt
        self.attempts += 1
        self._in_flight = provider
        self._started = time.perf_counter()
        if self._span is None:
            attributes = _provider_attributes(provider, self.temperature_delta)
            if self._record_content:
                attributes[s.GENAI_INPUT_MESSAGES] = messages_json("user", self._prompt)
            self._span = self._tracer.start_span(
                f"{s.GENAI_OPERATION_CHAT} {provider.model}",
                kind=SpanKind.CLIENT,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            )
            self._provider = provider
            self._token = otel_context.attach(trace.set_span_in_context(self._span))

    def _attempt_event(self, provider: Provider, **extra: str | int | float) -> None:
        assert self._span is not None
        attributes: dict[str, str | int | float] = {
            s.LLM_ATTEMPT: self.attempts,
            s.LLM_PROVIDER: str(getattr(provider, "key", provider.name)),
            s.GENAI_REQUEST_MODEL: provider.model,
            s.LLM_LATENCY_MS: round((time.perf_counter() - self._started) * 1000, 1),
        }
        address = getattr(provider, "server_address", None)
        if address:
            attributes[s.SERVER_ADDRESS] = address
        attributes.update(extra)
        self._span.add_event(s.EVENT_ATTEMPT, attributes)

    def failed(self, provider: Provider, exc: BaseException) -> None:
        self._in_flight = None
        error_type = exc.error_type if isinstance(exc, ProviderError) else type(exc).__qualname__
        extra: dict[str, str | int | float] = {s.ERROR_TYPE: error_type}
        if isinstance(exc, ProviderError) and exc.retry_after:
            extra[s.LLM_RETRY_AFTER_S] = round(exc.retry_after, 3)
        self._attempt_event(provider, **extra)

    def succeeded(self, provider: Provider, completion: Completion) -> None:
        self._in_flight = None
        self._answered = True
        self._attempt_event(provider)
        assert self._span is not None
        self._describe(provider)
        attributes: dict[str, Any] = {
            s.GENAI_RESPONSE_MODEL: completion.model,
            s.GENAI_INPUT_TOKENS: completion.input_tokens,
            s.GENAI_OUTPUT_TOKENS: completion.output_tokens,
            s.GENAI_FINISH_REASONS: [completion.finish_reason],
        }
        if completion.response_id:
            attributes[s.GENAI_RESPONSE_ID] = completion.response_id
        if self._record_content:
            attributes[s.GENAI_OUTPUT_MESSAGES] = messages_json(
                "assistant", completion.text, completion.finish_reason
            )
        self._span.set_attributes(attributes)

    def cancelled(self) -> None:
        """The request was cancelled (the producer is stopping) with an attempt in flight.

        The server may still answer that attempt (or already has: the answer was
        not read yet). Without a trace of it the span said nothing about the
        attempt: no ``llm.attempt`` event, no outcome, as if it had never been
        made. It gets an ``llm.attempt`` event with ``error.type`` ``cancelled``
        and the span ``llm.cancelled``; the status stays unset (a requested stop
        is not an error). Call before ``end``.
        """
        if self._span is None:
            return
        self._span.set_attribute(s.LLM_CANCELLED, True)
        if self._in_flight is not None:  # after a failover: not the first provider
            provider, self._in_flight = self._in_flight, None
            self._attempt_event(provider, **{s.ERROR_TYPE: s.ERROR_CANCELLED})

    def end(self, error: BaseException | None = None, last: Provider | None = None) -> None:
        """End the span: ERROR with the last failure when the request was given up.

        Ended with neither an answer nor an error (the router ends the span so
        when its task is cancelled), or with a ``CancelledError``: cancelled.
        """
        if self._span is None:
            return
        if isinstance(error, asyncio.CancelledError) or (error is None and not self._answered):
            self.cancelled()
            error = None
        span, token = self._span, self._token
        self._span = self._token = None
        span.set_attribute(s.LLM_ATTEMPTS, self.attempts)
        if error is not None:
            if last is not None and last is not self._provider:
                self._span = span
                self._describe(last)
                self._span = None
            error_type = (
                error.error_type if isinstance(error, ProviderError) else type(error).__qualname__
            )
            span.record_exception(error)
            span.set_attribute(s.ERROR_TYPE, error_type)
            span.set_status(Status(StatusCode.ERROR, str(error) or error_type))
        if token is not None:
            otel_context.detach(token)
        span.end()
