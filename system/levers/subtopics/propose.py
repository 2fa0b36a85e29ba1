"""Sub-topic proposals (``--partition-by subtopics``): one LLM request, parsed into labels.

The orchestrator asks one producer (``ProposeSubtopics``); the producer
builds ``build_subtopics_prompt``, calls its LLM through the same router as
its generation cycles (retries, failover, breakers, rate limits; one
``chat {model}`` span per attempt) and answers with the labels
(``SubtopicProposal``). The answer is parsed by the list rules of
``parse_response`` (preambles, numbering, bullets, chat remarks dropped);
then ``clean_labels`` keeps a label only when

* it is at most ``MAX_LABEL_CHARS`` characters long (a sentence is not a label);
* it has a word of three letters or more (the partition matcher reads labels
  by those words, ``system.levers.partitions.match``; a label without one would
  match nothing);
* it is not a letter range or a single letter (those are letter partitions);
* it is neither a repeat (case-insensitively) of an earlier label nor one of
  the labels the prompt said were taken;

and at most ``count`` labels are kept, in the model's order.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash
from opentelemetry.trace import Link, Status, StatusCode, Tracer, get_current_span

from system.levers.partitions.match import letter_range
from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_subtopics_prompt
from system.producer.resilience.router import Router
from system.protocol import ProposeSubtopics, SubtopicProposal
from system.providers.base import Completion, Provider
from system.telemetry import context_from, current_context_carrier
from system.telemetry import schema as s

__all__ = [
    "MAX_LABEL_CHARS",
    "MAX_SUBTOPICS",
    "SubtopicResult",
    "answer_request",
    "clean_labels",
    "propose",
]

log = logging.getLogger("system.producer")

MAX_LABEL_CHARS = 80
MAX_SUBTOPICS = 64
_LONG_WORD = re.compile(r"[^\W\d_]{3,}")


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


def clean_labels(candidates: Sequence[str], count: int, exclude: Sequence[str] = ()) -> list[str]:
    """The usable, distinct labels among parsed lines (see the module docstring)."""
    limit = max(0, min(count, MAX_SUBTOPICS))
    if limit == 0:
        return []
    seen = {_key(label) for label in exclude}
    labels: list[str] = []
    for raw in candidates:
        label = " ".join(raw.split())
        key = _key(label)
        if (
            not label
            or len(label) > MAX_LABEL_CHARS
            or not _LONG_WORD.search(label)
            or letter_range(label) is not None
            or key in seen
        ):
            continue
        seen.add(key)
        labels.append(label)
        if len(labels) >= limit:
            break
    return labels


@dataclass
class SubtopicResult:
    labels: list[str]
    completion: Completion
    provider: Provider
    attempts: int = 1


async def propose(
    router: Router, *, topic: str, count: int, exclude: Sequence[str], seed: int
) -> SubtopicResult:
    """Ask the LLM for sub-topics through the router; ProviderError when it cannot answer."""
    prompt = build_subtopics_prompt(topic, count, exclude)
    outcome = await router.complete(prompt, seed)
    labels = clean_labels(
        parse_response(outcome.completion.text, context=PromptContext(topic)), count, exclude
    )
    return SubtopicResult(labels, outcome.completion, outcome.provider, outcome.attempts)


async def answer_request(
    router: Router,
    tracer: Tracer,
    request: ProposeSubtopics,
    *,
    producer_id: int,
    topic: str,
    run_id: str,
) -> SubtopicProposal:
    """The producer's answer to a ProposeSubtopics, in a ``subtopics.propose`` span.

    Never raises for a failed LLM call: the answer then carries ``error``, and
    the orchestrator's planner falls back (``system.levers.subtopics.planner``).
    """
    answer = SubtopicProposal(producer_id=producer_id, request_id=request.request_id)
    with tracer.start_as_current_span(
        s.SPAN_SUBTOPICS_PROPOSE,
        links=_links(request.trace_context),
        attributes={
            s.PRODUCER_ID: producer_id,
            s.SUBTOPICS_ROUND: request.request_id,
            s.SUBTOPICS_COUNT: request.count,
            s.SUBTOPICS_EXCLUDED: len(request.exclude),
        },
    ) as span:
        try:
            result = await propose(
                router,
                topic=topic,
                count=request.count,
                exclude=request.exclude,
                seed=xxhash.xxh64_intdigest(
                    f"{run_id}:{producer_id}:subtopics:{request.request_id}".encode()
                ),
            )
        except Exception as exc:  # ProviderError, ProvidersUnavailable, a provider bug
            answer.error = f"{type(exc).__name__}: {exc}"[:500]
            span.set_attribute(s.ERROR_TYPE, getattr(exc, "error_type", type(exc).__name__))
            span.set_status(Status(StatusCode.ERROR, answer.error))
            log.warning("sub-topic proposal failed: %s", answer.error)
        else:
            answer.labels = result.labels
            answer.provider = result.provider.key
            answer.model = result.completion.model
            answer.input_tokens = result.completion.input_tokens
            answer.output_tokens = result.completion.output_tokens
            span.set_attributes(
                {
                    s.SUBTOPICS_LABELS: json.dumps(result.labels),
                    s.SUBTOPICS_PROPOSED: len(result.labels),
                    s.CYCLE_PROVIDER: answer.provider,
                    s.CYCLE_ATTEMPTS: result.attempts,
                }
            )
            log.info("proposed %d sub-topics: %s", len(result.labels), result.labels)
        answer.trace_context = current_context_carrier()
    return answer


def _links(carrier: dict[str, str]) -> list[Link]:
    """A link to the span that sent a request (its trace context), when valid."""
    ctx = get_current_span(context_from(carrier)).get_span_context()
    return [Link(ctx)] if ctx.is_valid else []
