"""This producer's share of a provider's requests- and tokens-per-minute budget.

Built on ``aiolimiter`` (a maintained asyncio leaky bucket). The orchestrator
divides each provider's run-wide budget by the number of producers, so every
producer enforces ``rpm / N`` and ``tpm / N`` on its own and the run as a
whole stays within the budget without any shared state. Token use is known
only after a call: a call reserves an estimate, and what the answer used
beyond it is charged to the next call.
"""

from __future__ import annotations

import time

from aiolimiter import AsyncLimiter

MINUTE_S = 60.0


def _bucket(per_minute: float) -> AsyncLimiter:
    # aiolimiter refuses amounts above max_rate: keep max_rate >= 1 by
    # stretching the period for budgets under one per minute.
    if per_minute >= 1:
        return AsyncLimiter(per_minute, MINUTE_S)
    return AsyncLimiter(1, MINUTE_S / per_minute)


class RateLimiter:
    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self._requests = _bucket(rpm) if rpm else None
        self._tokens = _bucket(tpm) if tpm else None
        self._debt = 0

    @property
    def limited(self) -> bool:
        return self._requests is not None or self._tokens is not None

    def _token_amount(self, estimate: int) -> float:
        assert self._tokens is not None
        return float(min(max(1, estimate + self._debt), self._tokens.max_rate))

    def has_capacity(self, estimated_tokens: int = 0) -> bool:
        if self._requests is not None and not self._requests.has_capacity(1):
            return False
        return self._tokens is None or self._tokens.has_capacity(
            self._token_amount(estimated_tokens)
        )

    async def acquire(self, estimated_tokens: int = 0) -> float:
        """Wait for room for one request of about that many tokens; returns seconds waited."""
        started = time.monotonic()
        if self._requests is not None:
            await self._requests.acquire(1)
        if self._tokens is not None:
            await self._tokens.acquire(self._token_amount(estimated_tokens))
            self._debt = 0
        return time.monotonic() - started

    def settle(self, estimated_tokens: int, used_tokens: int) -> None:
        """Charge tokens used beyond the estimate to the next acquire."""
        if self._tokens is not None and used_tokens > estimated_tokens:
            self._debt += used_tokens - estimated_tokens
