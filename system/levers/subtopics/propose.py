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

import re
from collections.abc import Sequence
from dataclasses import dataclass

from system.levers.partitions.match import letter_range
from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_subtopics_prompt
from system.producer.resilience.router import Router
from system.providers.base import Completion, Provider

__all__ = ["MAX_LABEL_CHARS", "MAX_SUBTOPICS", "SubtopicResult", "clean_labels", "propose"]

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
