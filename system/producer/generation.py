"""One generation cycle: build the prompt for the arm in use, call the LLM, parse candidates.

The LLM request's ``chat`` span is made by the router (``chat_span``), one
per request whatever its retries. The prompt is built per attempt for the
provider it goes to, because the adaptive strategy keeps an arm per provider
(``arms``); without the strategy every lever that is on is used (the
``fixed`` arm).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from system.levers.strategy.arms import Arm
from system.levers.strategy.obedience import Obedience, measure
from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_prompt
from system.producer.resilience.router import Router
from system.providers.base import Completion, Provider

__all__ = ["CycleResult", "Plan", "generate", "plan_request"]


@dataclass(frozen=True)
class Plan:
    """What one request to one provider is made of."""

    arm: str
    prompt: str
    temperature_delta: float
    partition: str | None  # the partition the prompt names (None: the whole topic)
    avoided: int  # items in the prompt's avoid list


#: a batch holds at most this many times the items asked for (at least MIN_CANDIDATE_CAP):
#: a model that answers 100,000 lines must not build a batch larger than a protocol frame
CANDIDATE_CAP_FACTOR = 10
MIN_CANDIDATE_CAP = 1000


def max_candidates(request_size: int) -> int:
    return max(MIN_CANDIDATE_CAP, CANDIDATE_CAP_FACTOR * request_size)


@dataclass
class CycleResult:
    candidates: list[str]
    completion: Completion
    provider: Provider
    attempts: int = 1
    plan: Plan | None = None
    obedience: Obedience | None = None


def plan_request(
    arm: Arm,
    *,
    topic: str,
    request_size: int,
    partition: str | None,
    avoid: Sequence[str],
) -> Plan:
    """The prompt and sampling shift of ``arm`` for this producer's partition and avoid list."""
    used_avoid = list(avoid) if arm.avoid else []
    used_partition = partition if arm.focus and partition else None
    prompt = build_prompt(
        topic, request_size, avoid=used_avoid, partition=used_partition, style=arm.style
    )
    return Plan(arm.name, prompt, arm.temperature_delta, used_partition, len(used_avoid))


async def generate(
    router: Router,
    *,
    topic: str,
    request_size: int,
    seed: int,
    partition: str | None = None,
    avoid: Sequence[str] = (),
    arm_for: Callable[[str], Arm] | None = None,
) -> CycleResult:
    """Build the prompt, get an answer through the router (retries, failover), parse it."""
    plans: dict[str, Plan] = {}

    def prompt_for(provider_key: str) -> tuple[str, float]:
        arm = arm_for(provider_key) if arm_for is not None else Arm("fixed", True, True)
        plan = plan_request(
            arm, topic=topic, request_size=request_size, partition=partition, avoid=avoid
        )
        plans[provider_key] = plan
        return plan.prompt, plan.temperature_delta

    outcome = await router.complete(prompt_for, seed)
    key = str(getattr(outcome.provider, "key", outcome.provider.name))
    plan = plans.get(key) or Plan("fixed", outcome.prompt, 0.0, partition, len(avoid))
    # the topic and partition tell the parser what an echo of the prompt is
    text = outcome.completion.text
    if outcome.completion.finish_reason == "length" and not text.endswith("\n"):
        text = text.rsplit("\n", 1)[0] if "\n" in text else ""  # the last line was cut off
    candidates = parse_response(
        text, limit=max_candidates(request_size), context=PromptContext(topic, plan.partition)
    )
    obedience = measure(
        outcome.completion.text, plan.prompt, candidates, topic=topic, partition=plan.partition
    )
    return CycleResult(
        candidates, outcome.completion, outcome.provider, outcome.attempts, plan, obedience
    )
