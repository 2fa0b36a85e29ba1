"""Router: failover, retries with backoff, Retry-After, breakers, all-down (fake providers)."""

import asyncio
import random

import pytest

from system.producer.resilience.backoff import Backoff
from system.producer.resilience.breaker import CircuitBreaker, State
from system.producer.resilience.limiter import RateLimiter
from system.producer.resilience.router import ProvidersFailed, ProvidersUnavailable, Route, Router
from system.producer.resilience.selection import WeightedSelector
from system.providers.base import Completion, ProviderError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeProvider:
    def __init__(self, key: str, script: list[ProviderError | None]) -> None:
        self.key = self.name = key
        self.model = f"model-{key}"
        self.script = list(script)
        self.calls = 0

    async def complete(self, prompt: str, *, seed: int) -> Completion:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        return Completion("x\ny", self.model, 10, 5, "stop", 1.0)

    async def close(self) -> None:
        return None


def build(providers, *, weights=None, threshold=2, cooldown=10.0):
    clock, slept = Clock(), []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    routes = [
        Route(p, CircuitBreaker(p.key, failure_threshold=threshold, cooldown_s=cooldown,
                                clock=clock), RateLimiter())
        for p in providers
    ]  # fmt: skip

    async def call(provider, prompt, seed, temperature_delta):
        return await provider.complete(prompt, seed=seed)

    router = Router(
        routes,
        call,
        backoff=Backoff(base_s=0.5, jitter=0),
        selector=WeightedSelector(weights or {p.key: 1.0 for p in providers}, random.Random(3)),
        clock=clock,
        sleep=sleep,
    )
    return router, clock, slept


def fail(kind="500", retry_after=None):
    return ProviderError(kind, kind, retryable=True, retry_after=retry_after)


def test_failover_to_the_other_provider_without_sleeping():
    a, b = FakeProvider("a", [fail()]), FakeProvider("b", [])
    router, _, slept = build([a, b], weights={"a": 1.0, "b": 0.0})
    outcome = asyncio.run(router.complete("p", 1))
    assert outcome.provider is b and outcome.attempts == 2 and slept == []
    assert router.stats()["a"]["failures"] == 1


def test_retry_same_provider_with_backoff():
    a = FakeProvider("a", [fail(), fail()])
    router, _, slept = build([a], threshold=5)
    outcome = asyncio.run(router.complete("p", 1))
    assert outcome.attempts == 3 and slept == [0.5, 1.0]


def test_retry_after_is_honoured_before_calling_again():
    a = FakeProvider("a", [fail("429", retry_after=2.5)])
    router, clock, slept = build([a], threshold=5)
    outcome = asyncio.run(router.complete("p", 1))
    assert outcome.attempts == 2 and sum(slept) >= 2.5 and clock.now >= 2.5


def test_breaker_opens_and_all_down_raises_with_the_wait():
    a = FakeProvider("a", [fail()] * 10)
    router, _clock, _ = build([a], threshold=2, cooldown=7)
    with pytest.raises(ProvidersUnavailable) as info:
        asyncio.run(router.complete("p", 1))
    assert router.routes["a"].breaker.state == State.OPEN
    assert info.value.retry_in == pytest.approx(7, abs=1.0)
    calls = a.calls
    with pytest.raises(ProvidersUnavailable):  # no spinning: no call while open
        asyncio.run(router.complete("p", 1))
    assert a.calls == calls


def test_half_open_probe_recovers():
    a = FakeProvider("a", [fail(), fail()])
    router, clock, _ = build([a], threshold=2, cooldown=5)
    with pytest.raises(ProvidersUnavailable):
        asyncio.run(router.complete("p", 1))
    clock.now += 5
    outcome = asyncio.run(router.complete("p", 1))
    assert outcome.provider is a
    assert router.routes["a"].breaker.state == State.CLOSED


def test_non_retryable_error_of_the_only_provider_is_raised():
    bad = ProviderError("401", "401", retryable=False)
    a = FakeProvider("a", [bad])
    router, _, _ = build([a])
    with pytest.raises(ProviderError) as info:
        asyncio.run(router.complete("p", 1))
    assert info.value is bad


def test_long_retry_after_is_unavailability_not_a_sleep():
    """Issue 21 item 3: a Retry-After over LONG_RETRY_AFTER_S is never slept in a request."""
    a = FakeProvider("a", [fail("429", retry_after=300.0)])
    router, _, slept = build([a], threshold=5)
    with pytest.raises(ProvidersUnavailable) as info:
        asyncio.run(router.complete("p", 1))
    assert slept == [] and a.calls == 1
    assert info.value.retry_in == pytest.approx(300.0)
    assert "Retry-After, 300s left" in str(info.value)


def test_a_refused_key_disables_the_provider_for_good():
    """Issue 21 item 8: 401/403 take the provider out at once; the other answers."""
    refused = ProviderError("HTTP 401", "401", permanent=True)
    a, b = FakeProvider("a", [refused]), FakeProvider("b", [])
    router, clock, slept = build([a, b], weights={"a": 1.0, "b": 0.0})
    assert asyncio.run(router.complete("p", 1)).provider is b and slept == []
    clock.now += 3600  # no cooldown brings it back
    for _ in range(3):
        assert asyncio.run(router.complete("p", 1)).provider is b
    assert a.calls == 1 and router.routes["a"].disabled is not None


def test_every_provider_refusing_its_key_fails_for_good():
    a = FakeProvider("a", [ProviderError("HTTP 401", "401", permanent=True)])
    b = FakeProvider("b", [ProviderError("HTTP 403", "403", permanent=True)])
    router, _, _ = build([a, b])
    with pytest.raises(ProvidersFailed) as info:
        asyncio.run(router.complete("p", 1))
    assert "provider a" in str(info.value) and "provider b" in str(info.value)
    with pytest.raises(ProvidersFailed):  # and at once on the next request
        asyncio.run(router.complete("p", 1))
    assert a.calls == b.calls == 1


def test_a_disabled_provider_does_not_keep_the_others_open_breakers_waiting():
    """With a refused key out for good, the other providers' open breakers are "all
    down": the router degrades at once instead of sleeping the cooldown in a request."""
    refused = ProviderError("HTTP 401", "401", permanent=True)
    a, b = FakeProvider("a", [refused]), FakeProvider("b", [fail()] * 10)
    router, _, slept = build([a, b], weights={"a": 1.0, "b": 0.0}, threshold=2, cooldown=7)
    with pytest.raises(ProvidersUnavailable) as info:
        asyncio.run(router.complete("p", 1))
    assert router.routes["b"].breaker.state == State.OPEN
    assert info.value.retry_in == pytest.approx(7, abs=1.0)
    assert 7 not in slept and sum(slept) < 7
