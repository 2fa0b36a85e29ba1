"""One generation cycle: build the prompt, call the LLM (traced), parse candidates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_prompt
from system.producer.resilience.router import Router
from system.providers.base import Completion, Provider, ProviderError
from system.telemetry import schema as s

#: characters of prompt / answer kept on the span with --record-content
CONTENT_LIMIT = 2000


@dataclass
class CycleResult:
    candidates: list[str]
    completion: Completion
    provider: Provider
    attempts: int = 1


def _messages(role: str, text: str) -> str:
    clipped = text if len(text) <= CONTENT_LIMIT else text[:CONTENT_LIMIT] + "…[truncated]"
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": clipped}]}])


async def call_llm(
    tracer: trace.Tracer,
    provider: Provider,
    prompt: str,
    seed: int,
    *,
    record_content: bool = False,
) -> Completion:
    """One LLM call (one attempt) as a GenAI client span: ``chat {model}``."""
    attributes: dict[str, str | int] = {
        s.GENAI_OPERATION_NAME: s.GENAI_OPERATION_CHAT,
        s.GENAI_PROVIDER_NAME: provider.name,
        s.GENAI_REQUEST_MODEL: provider.model,
    }
    address = getattr(provider, "server_address", None)
    if address:
        attributes[s.SERVER_ADDRESS] = address
        attributes[s.SERVER_PORT] = int(getattr(provider, "server_port", 0) or 0)
    if record_content:
        attributes[s.GENAI_INPUT_MESSAGES] = _messages("user", prompt)
    with tracer.start_as_current_span(
        f"{s.GENAI_OPERATION_CHAT} {provider.model}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            completion = await provider.complete(prompt, seed=seed)
        except ProviderError as exc:
            span.record_exception(exc)
            span.set_attribute(s.ERROR_TYPE, exc.error_type)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        except Exception as exc:
            span.record_exception(exc)
            span.set_attribute(s.ERROR_TYPE, type(exc).__qualname__)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        span.set_attributes(
            {
                s.GENAI_RESPONSE_MODEL: completion.model,
                s.GENAI_INPUT_TOKENS: completion.input_tokens,
                s.GENAI_OUTPUT_TOKENS: completion.output_tokens,
                s.GENAI_FINISH_REASONS: [completion.finish_reason],
            }
        )
        if record_content:
            span.set_attribute(s.GENAI_OUTPUT_MESSAGES, _messages("assistant", completion.text))
        return completion


async def generate(
    router: Router,
    *,
    topic: str,
    request_size: int,
    seed: int,
    partition: str | None = None,
    avoid: Sequence[str] = (),
) -> CycleResult:
    """Build the prompt, get an answer through the router (retries, failover), parse it
    (the topic and partition tell the parser what an echo of the prompt is)."""
    prompt = build_prompt(topic, request_size, avoid=avoid, partition=partition)
    outcome = await router.complete(prompt, seed)
    return CycleResult(
        parse_response(outcome.completion.text, context=PromptContext(topic, partition)),
        outcome.completion,
        outcome.provider,
        outcome.attempts,
    )
