"""Adaptive provider weights: favour the providers that find more per token.

The orchestrator sees what every batch contributed (new uniques, tokens) per
provider. With ``--adaptive-weights`` it periodically turns that into weights
for the producers' weighted choice: each provider's configured weight times
its yield (new uniques per 1,000 tokens) relative to the average yield,
clipped to [MIN_FACTOR, MAX_FACTOR] so no provider is starved outright (its
yield could recover) and none takes everything on a lucky streak.

Not a registered lever (``system.levers.registry.LEVERS``): ``Steering``
(system/orchestrator/steering.py) feeds it the run's per-provider tallies and
pushes the weights itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

MIN_REQUESTS = 5  # per provider, before its yield counts
MIN_FACTOR, MAX_FACTOR = 0.25, 4.0
MIN_CHANGE = 0.1  # relative change in some weight worth telling the producers


class ProviderCounts(Protocol):
    """What the weights read of a provider's run statistics (orchestrator ``ProviderStats``)."""

    @property
    def requests(self) -> int: ...

    @property
    def new(self) -> int: ...

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...



def _yield(stats: ProviderCounts) -> float:
    tokens = stats.input_tokens + stats.output_tokens
    return stats.new / tokens if tokens else 0.0


class AdaptiveWeights:
    def __init__(self, base: Mapping[str, float]) -> None:
        self.base = dict(base)
        self.current = dict(base)

    def propose(self, stats: Mapping[str, ProviderCounts]) -> dict[str, float] | None:
        """New weights if the yields say they should move noticeably, else None."""
        measured = {
            name: _yield(s)
            for name, s in stats.items()
            if name in self.base and s.requests >= MIN_REQUESTS
        }
        if len(measured) < 2:
            return None
        mean = sum(measured.values()) / len(measured)
        if mean <= 0:
            return None
        weights = dict(self.current)
        for name, value in measured.items():
            factor = min(MAX_FACTOR, max(MIN_FACTOR, value / mean))
            weights[name] = round(self.base[name] * factor, 4)
        changed = any(
            abs(weights[n] - self.current[n]) > MIN_CHANGE * max(self.current[n], 1e-9)
            for n in weights
        )
        if not changed:
            return None
        self.current = weights
        return weights
