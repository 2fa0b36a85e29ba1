"""Exponential backoff with jitter, honouring the server's Retry-After.

``delay(attempt)`` for attempt 1, 2, 3... is ``base * factor**(attempt-1)``
capped at ``cap``, scaled by a random factor in ``[1 - jitter, 1]`` (so
producers that failed together do not retry together). A Retry-After from
the server is a floor: we never come back sooner than asked, up to
``max_retry_after``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 10.0
    jitter: float = 0.5  # 0 = no jitter, 1 = full jitter
    max_retry_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        exponential = min(self.cap_s, self.base_s * self.factor ** max(0, attempt - 1))
        jittered = exponential * (1.0 - self.jitter * self.rng.random())
        if retry_after is not None and retry_after > 0:
            return max(jittered, min(retry_after, self.max_retry_after_s))
        return jittered
