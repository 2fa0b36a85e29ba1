"""One LLM request with retries, failover, circuit breakers and rate limits.

A request is one ``chat {model}`` span covering all its attempts
(``system.producer.chat_span``, made by ``span_factory``); each attempt is an
``llm.attempt`` event on it, and what happens between attempts is recorded
as events on the same span (the current span from the first attempt on):
``llm.retry``, ``llm.failover``, ``rate_limit.wait`` and
``breaker.state_change`` (docs/tracing.md).

The prompt may depend on the provider (``PromptFor``: the adaptive strategy
keeps one arm per provider), so it is built for each attempt's provider.

An attempt goes to a provider chosen by weight among those whose breaker
lets calls through and whose Retry-After has passed, preferring providers
not yet tried in this request (failover) and with room in their rate limit.
A retry on a provider already tried waits for the backoff (at least its
Retry-After). When no provider can be called (every breaker open) the
router raises ``ProvidersUnavailable`` with the time until the next probe:
the caller degrades and waits instead of spinning. A Retry-After longer than
``LONG_RETRY_AFTER_S`` is never slept inside a request: with no other
provider the router raises ``ProvidersUnavailable`` at once, so the producer
reports ``degraded`` and ``--max-degraded-s`` counts the wait.

A ``permanent`` failure (a refused key: 401/403) disables its provider for
the rest of the run (logged, ``llm.provider_disabled`` event); with every
provider disabled the router raises ``ProvidersFailed``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry import trace

from system.producer.resilience.backoff import Backoff
from system.producer.resilience.breaker import CircuitBreaker, State
from system.producer.resilience.limiter import RateLimiter
from system.producer.resilience.selection import ProviderStats, WeightedSelector
from system.providers.base import Completion, Provider, ProviderError
from system.telemetry import schema as s

log = logging.getLogger("system.producer")

DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_OUTPUT_TOKENS = 512  # token estimate for a provider's first answer
#: a Retry-After up to this long is waited out within a request; a longer one degrades
LONG_RETRY_AFTER_S = 10.0


class ProvidersUnavailable(ProviderError):
    """No provider can be called now; ``retry_in`` seconds until the next one may be."""

    def __init__(self, retry_in: float, detail: str) -> None:
        super().__init__(detail, "providers_unavailable", retryable=True)
        self.retry_in = retry_in


class ProvidersFailed(ProviderError):
    """Every provider is disabled for the rest of the run (each refused its key)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "providers_failed", permanent=True)


@dataclass
class Route:
    provider: Provider
    breaker: CircuitBreaker
    limiter: RateLimiter
    weight: float = 1.0
    stats: ProviderStats = field(default_factory=ProviderStats)
    cooling_until: float = 0.0  # Retry-After: no calls before this (clock time)
    consecutive_failures: int = 0
    disabled: str | None = None  # why the provider is out for the rest of the run

    @property
    def key(self) -> str:
        return self.provider.key


@dataclass
class Outcome:
    completion: Completion
    provider: Provider
    attempts: int
    prompt: str = ""
    temperature_delta: float = 0.0


#: (provider, prompt, seed, temperature delta) -> the provider's answer
CallFn = Callable[[Provider, str, int, float], Awaitable[Completion]]
#: a route key -> (prompt, temperature delta) for an attempt on that provider
PromptFor = Callable[[str], tuple[str, float]]


class RequestSpan(Protocol):
    """What the router tells a request's span (``chat_span.ChatSpan``)."""

    temperature_delta: float

    def attempt(self, provider: Provider, prompt: str | None = None) -> None: ...

    def failed(self, provider: Provider, exc: BaseException) -> None: ...

    def succeeded(self, provider: Provider, completion: Completion) -> None: ...

    def end(self, error: BaseException | None = None, last: Provider | None = None) -> None: ...


async def _direct_call(
    provider: Provider, prompt: str, seed: int, temperature_delta: float
) -> Completion:
    return await provider.complete(prompt, seed=seed, temperature_delta=temperature_delta)


class Router:
    def __init__(
        self,
        routes: Sequence[Route],
        call: CallFn | None = None,
        *,
        span_factory: Callable[[str], RequestSpan] | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: Backoff | None = None,
        selector: WeightedSelector | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not routes:
            raise ValueError("a router needs at least one provider")
        self.routes = {route.key: route for route in routes}
        self._call = call or _direct_call
        self._span_factory = span_factory
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff or Backoff()
        self.selector = selector or WeightedSelector({r.key: r.weight for r in routes})
        self._clock = clock
        self._sleep = sleep
        for route in routes:
            route.breaker.listener = self._on_breaker_change

    # ------------------------------------------------------------ events
    @staticmethod
    def _event(name: str, attributes: dict[str, str | int | float | bool]) -> None:
        trace.get_current_span().add_event(name, attributes)

    def _on_breaker_change(self, name: str, old: State, new: State) -> None:
        level = logging.WARNING if new == State.OPEN else logging.INFO
        log.log(level, "provider %s: circuit breaker %s -> %s", name, old, new)
        self._event(
            s.EVENT_BREAKER_CHANGE,
            {s.LLM_PROVIDER: name, s.BREAKER_FROM: str(old), s.BREAKER_TO: str(new)},
        )

    # ------------------------------------------------------------ choosing
    def set_weights(self, weights: dict[str, float]) -> None:
        self.selector.set_weights(weights)

    def _estimate(self, route: Route, prompt: str | PromptFor) -> int:
        done = route.stats.requests - route.stats.failures
        output = route.stats.output_tokens // done if done else DEFAULT_OUTPUT_TOKENS
        text = prompt if isinstance(prompt, str) else prompt(route.key)[0]
        return len(text) // 4 + output

    def _callable(self, route: Route, now: float) -> bool:
        return route.disabled is None and route.breaker.available() and route.cooling_until <= now

    def _pick(self, tried: set[str], prompt: str | PromptFor) -> Route | None:
        now = self._clock()
        usable = [r for r in self.routes.values() if self._callable(r, now)]
        fresh = [r for r in usable if r.key not in tried] or usable
        # weight 0 = a last resort: used only when no weighted provider can be
        positive = [r for r in fresh if self.selector.weights.get(r.key, 0) > 0] or fresh
        roomy = [r for r in positive if r.limiter.has_capacity(self._estimate(r, prompt))]
        roomy = roomy or positive
        key = self.selector.choose([r.key for r in roomy])
        return None if key is None else self.routes[key]

    def next_available_in(self) -> float:
        """Seconds until some provider may be called again (0 if one may now)."""
        now = self._clock()
        live = [r for r in self.routes.values() if r.disabled is None] or self.routes.values()
        return max(0.0, min(max(r.breaker.retry_at(), r.cooling_until) - now for r in live))

    def unavailable_detail(self) -> str:
        now = self._clock()

        def why(route: Route) -> str:
            if route.disabled is not None:
                return "disabled"
            if route.cooling_until > now:
                return f"Retry-After, {route.cooling_until - now:.0f}s left"
            return f"breaker {route.breaker.state}"

        return ", ".join(f"{r.key}: {why(r)}" for r in self.routes.values())

    def _all_disabled(self) -> ProvidersFailed | None:
        reasons = [r.disabled for r in self.routes.values()]
        if any(reason is None for reason in reasons):
            return None
        return ProvidersFailed("every provider is disabled: " + "; ".join(map(str, reasons)))

    # ------------------------------------------------------------ calling
    async def complete(self, prompt: str | PromptFor, seed: int) -> Outcome:
        """One request: attempts until one succeeds, all in one request span."""
        prompt_for: PromptFor = (lambda _key: (prompt, 0.0)) if isinstance(prompt, str) else prompt
        first_text = prompt if isinstance(prompt, str) else ""
        span = self._span_factory(first_text) if self._span_factory is not None else None
        state: dict[str, Route | None] = {"last": None}
        try:
            outcome = await self._attempts(prompt_for, seed, span, state)
        except asyncio.CancelledError:
            if span is not None:
                span.end()
            raise
        except BaseException as exc:
            if span is not None:
                last = state["last"]
                span.end(exc, last.provider if last is not None else None)
            raise
        if span is not None:
            span.end()
        return outcome

    async def _attempts(
        self,
        prompt_for: PromptFor,
        seed: int,
        span: RequestSpan | None,
        state: dict[str, Route | None],
    ) -> Outcome:
        tried: set[str] = set()
        last: Route | None = None
        last_error: ProviderError | None = None
        attempt = waits = 0
        cooled = False  # waited out a Retry-After since the last failure
        while attempt < self.max_attempts:
            route = self._pick(tried, prompt_for)
            if route is None:
                failed = self._all_disabled()
                if failed is not None:
                    raise failed
                wait = self.next_available_in()
                open_all = all(
                    r.breaker.state == State.OPEN
                    for r in self.routes.values()
                    if r.disabled is None  # a disabled provider is out, whatever its breaker
                )
                if (
                    last_error is None or open_all or waits >= self.max_attempts
                    or wait > LONG_RETRY_AFTER_S
                ):  # fmt: skip
                    raise ProvidersUnavailable(
                        wait, f"no provider available ({self.unavailable_detail()})"
                    )
                # every provider is cooling down after a Retry-After: wait it out
                waits += 1
                self._event(
                    s.EVENT_RETRY,
                    {s.LLM_ATTEMPT: attempt + 1, s.LLM_DELAY_S: round(wait, 3),
                     s.ERROR_TYPE: last_error.error_type},
                )  # fmt: skip
                await self._sleep(wait)
                cooled = True
                continue
            if last is not None and last_error is not None and not cooled:
                await self._between_attempts(attempt + 1, last, route, last_error)
            cooled = False
            if not route.breaker.allow():
                waits += 1
                if waits > self.max_attempts:
                    break
                continue  # lost the half-open probe to a concurrent call
            attempt += 1
            text, delta = prompt_for(route.key)
            if span is not None:
                span.temperature_delta = delta
                span.attempt(route.provider, text)
            state["last"] = route
            estimate = self._estimate(route, text)
            waited = await route.limiter.acquire(estimate)
            if waited > 0.001:
                self._event(
                    s.EVENT_RATE_LIMIT_WAIT,
                    {s.LLM_PROVIDER: route.key, s.LLM_DELAY_S: round(waited, 3)},
                )
            try:
                completion = await self._call(route.provider, text, seed, delta)
            except ProviderError as exc:
                if span is not None:
                    span.failed(route.provider, exc)
                self._failed(route, exc)
                tried.add(route.key)
                last, last_error = route, exc
                if exc.permanent and (failed := self._all_disabled()) is not None:
                    raise failed from None
                if not exc.retryable and len(self.routes) == 1:
                    raise
                continue
            if span is not None:
                span.succeeded(route.provider, completion)
            route.stats.record_success(
                completion.latency_ms, completion.input_tokens, completion.output_tokens
            )
            route.consecutive_failures = 0
            route.breaker.record_success()
            route.limiter.settle(estimate, completion.input_tokens + completion.output_tokens)
            return Outcome(completion, route.provider, attempt, text, delta)
        if last_error is None:
            raise ProvidersUnavailable(self.next_available_in(), "no provider let a call through")
        raise last_error

    def _failed(self, route: Route, exc: ProviderError) -> None:
        route.stats.record_failure()
        route.consecutive_failures += 1
        route.breaker.record_failure()
        log.info("provider %s failed (%s): %s", route.key, exc.error_type, exc)
        if exc.permanent and route.disabled is None:
            route.disabled = f"provider {route.key} failed for good ({exc})"
            log.error("%s: disabled for the rest of the run", route.disabled)
            self._event(
                s.EVENT_PROVIDER_DISABLED, {s.LLM_PROVIDER: route.key, s.ERROR_TYPE: exc.error_type}
            )
        if exc.retry_after:
            route.cooling_until = max(route.cooling_until, self._clock() + exc.retry_after)
            if exc.retry_after > LONG_RETRY_AFTER_S:
                log.warning(
                    "provider %s asks to wait %.0fs (Retry-After): unavailable until then",
                    route.key, exc.retry_after,
                )  # fmt: skip

    async def _between_attempts(
        self, attempt: int, last: Route, route: Route, error: ProviderError
    ) -> None:
        if route.key != last.key and route.consecutive_failures == 0:
            self._event(
                s.EVENT_FAILOVER,
                {s.LLM_ATTEMPT: attempt, s.FAILOVER_FROM: last.key, s.FAILOVER_TO: route.key,
                 s.ERROR_TYPE: error.error_type},
            )  # fmt: skip
            return
        # A Retry-After was honoured already: the route was not callable before it passed.
        delay = self.backoff.delay(max(1, route.consecutive_failures))
        self._event(
            s.EVENT_RETRY,
            {s.LLM_ATTEMPT: attempt, s.LLM_PROVIDER: route.key, s.LLM_DELAY_S: round(delay, 3),
             s.ERROR_TYPE: error.error_type},
        )  # fmt: skip
        await self._sleep(delay)

    def stats(self) -> dict[str, dict[str, float | int | None]]:
        """Per provider: its call statistics and the selection weight in force now."""
        return {
            key: {**route.stats.as_dict(), "weight": self.selector.weights.get(key)}
            for key, route in self.routes.items()
        }
