"""One generation cycle: build the prompt, call the LLM (traced), parse candidates."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from system.producer.parse import parse_response
from system.producer.prompt import build_prompt
from system.providers.base import Completion, Provider, ProviderError
from system.telemetry import schema as s


@dataclass
class CycleResult:
    candidates: list[str]
    completion: Completion


async def call_llm(tracer: trace.Tracer, provider: Provider, prompt: str, seed: int) -> Completion:
    """One LLM call as a GenAI client span: ``chat {model}``."""
    with tracer.start_as_current_span(
        f"{s.GENAI_OPERATION_CHAT} {provider.model}",
        kind=SpanKind.CLIENT,
        attributes={
            s.GENAI_OPERATION_NAME: s.GENAI_OPERATION_CHAT,
            s.GENAI_PROVIDER_NAME: provider.name,
            s.GENAI_REQUEST_MODEL: provider.model,
        },
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
        return completion


async def generate(
    tracer: trace.Tracer,
    provider: Provider,
    *,
    topic: str,
    request_size: int,
    seed: int,
    partition: str | None = None,
) -> CycleResult:
    prompt = build_prompt(topic, request_size, partition=partition)
    completion = await call_llm(tracer, provider, prompt, seed)
    return CycleResult(parse_response(completion.text), completion)
