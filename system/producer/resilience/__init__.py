"""How a producer survives its LLM providers: selection, retries, breakers, limits.

``selection`` (weighted choice among healthy providers, per-provider stats),
``breaker`` (closed / open / half-open per provider), ``backoff``
(exponential with jitter, Retry-After honoured), ``limiter`` (this producer's
share of each provider's rpm/tpm budget) and ``router``, which puts them
together around one LLM call and records what happened on the current span.
"""
