"""Weighted random choice among the providers that may be called now, and their stats."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

EWMA_ALPHA = 0.2


@dataclass
class ProviderStats:
    requests: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float | None = None  # moving average of successful calls

    def record_success(self, latency_ms: float, input_tokens: int, output_tokens: int) -> None:
        self.requests += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.latency_ms = (
            latency_ms
            if self.latency_ms is None
            else (1 - EWMA_ALPHA) * self.latency_ms + EWMA_ALPHA * latency_ms
        )

    def record_failure(self) -> None:
        self.requests += 1
        self.failures += 1

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
        }


class WeightedSelector:
    """Pick one of the candidates with probability proportional to its weight.

    Candidates with weight 0 are only picked when every candidate has weight 0
    (then uniformly): a weight turns traffic down, health decides who is a
    candidate at all.
    """

    def __init__(self, weights: Mapping[str, float], rng: random.Random | None = None) -> None:
        self.weights = dict(weights)
        self.rng = rng or random.Random()

    def set_weights(self, weights: Mapping[str, float]) -> None:
        for name, weight in weights.items():
            if name in self.weights and weight >= 0:
                self.weights[name] = float(weight)

    def choose(self, candidates: Sequence[str]) -> str | None:
        if not candidates:
            return None
        weights = [max(0.0, self.weights.get(c, 0.0)) for c in candidates]
        total = sum(weights)
        if total <= 0:
            return self.rng.choice(list(candidates))
        point = self.rng.random() * total
        for candidate, weight in zip(candidates, weights, strict=True):
            point -= weight
            if point < 0:
                return candidate
        return candidates[-1]
