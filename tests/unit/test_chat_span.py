"""One chat span per request across its attempts (router + ChatSpan, fake providers)."""

import asyncio
import json
import random

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from system.producer.chat_span import ChatSpan
from system.producer.resilience.backoff import Backoff
from system.producer.resilience.breaker import CircuitBreaker
from system.producer.resilience.limiter import RateLimiter
from system.producer.resilience.router import Route, Router
from system.producer.resilience.selection import WeightedSelector
from system.providers.base import Completion, ProviderError, Sampling, shifted


class FakeProvider:
    def __init__(self, key, script, temperature=None):
        self.key = self.name = key
        self.model = f"model-{key}"
        self.server_address, self.server_port = f"{key}.example", 443
        self.script = list(script)
        self.deltas = []
        self.temperature = temperature

    def sampling_for(self, delta=0.0):
        return shifted(Sampling(self.temperature, None, None, 100), delta)

    async def complete(self, prompt, *, seed, temperature_delta=0.0):
        self.deltas.append(temperature_delta)
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        return Completion("x\ny", self.model, 10, 5, "stop", 1.0, response_id=f"id-{self.key}")

    async def close(self):
        return None


def fail(kind="500"):
    return ProviderError(kind, kind, retryable=True)


def build(providers, weights, *, record_content=False):
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = tracer_provider.get_tracer("test")

    async def sleep(_s):
        return None

    router = Router(
        [Route(p, CircuitBreaker(p.key, failure_threshold=5), RateLimiter()) for p in providers],
        span_factory=lambda prompt: ChatSpan(tracer, prompt, record_content=record_content),
        backoff=Backoff(base_s=0.01, jitter=0),
        selector=WeightedSelector(weights, random.Random(1)),
        sleep=sleep,
    )
    return router, exporter


def attempts(span):
    return [e for e in span.events if e.name == "llm.attempt"]


def test_a_failed_over_request_is_one_span_named_after_the_provider_that_answered():
    a, b = FakeProvider("a", [fail("429")]), FakeProvider("b", [], temperature=0.5)
    router, exporter = build([a, b], {"a": 1.0, "b": 0.0}, record_content=True)
    outcome = asyncio.run(router.complete("prompt", 1))
    assert outcome.provider is b
    (span,) = exporter.get_finished_spans()
    assert span.name == "chat model-b" and span.status.status_code != StatusCode.ERROR
    attrs = span.attributes
    assert attrs["gen_ai.provider.name"] == "b" and attrs["server.address"] == "b.example"
    assert attrs["gen_ai.request.temperature"] == 0.5 and attrs["gen_ai.request.max_tokens"] == 100
    assert attrs["gen_ai.response.id"] == "id-b" and attrs["llm.attempts"] == 2
    assert json.loads(attrs["gen_ai.output.messages"])[0]["finish_reason"] == "stop"
    first, second = attempts(span)
    assert first.attributes["llm.provider"] == "a" and first.attributes["error.type"] == "429"
    assert second.attributes["llm.provider"] == "b" and "error.type" not in second.attributes
    assert [e.name for e in span.events].count("llm.failover") == 1  # on the same span


def test_a_request_that_fails_every_attempt_is_one_error_span():
    a = FakeProvider("a", [fail(), fail(), fail(), fail()])
    router, exporter = build([a], {"a": 1.0})
    with pytest.raises(ProviderError):
        asyncio.run(router.complete("prompt", 1))
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "500" and span.attributes["llm.attempts"] == 4
    assert len(attempts(span)) == 4
    assert "gen_ai.response.id" not in span.attributes


def test_the_prompt_and_temperature_are_chosen_per_provider():
    a, b = FakeProvider("a", [fail()]), FakeProvider("b", [])
    router, exporter = build([a, b], {"a": 1.0, "b": 0.0}, record_content=True)
    plans = {"a": ("prompt for a", 0.0), "b": ("prompt for b", 0.3)}
    outcome = asyncio.run(router.complete(lambda key: plans[key], 1))
    assert outcome.prompt == "prompt for b" and outcome.temperature_delta == 0.3
    assert a.deltas == [0.0] and b.deltas == [0.3]
    (span,) = exporter.get_finished_spans()
    assert span.attributes["gen_ai.request.temperature"] == 1.3  # b's default 1.0, +0.3


def test_no_span_when_no_attempt_was_made():
    a = FakeProvider("a", [])
    router, exporter = build([a], {"a": 1.0})
    for _ in range(5):  # the breaker opens: no provider can be called
        router.routes["a"].breaker.record_failure()
    with pytest.raises(ProviderError):
        asyncio.run(router.complete("prompt", 1))
    assert exporter.get_finished_spans() == ()


class HangingProvider(FakeProvider):
    """Answers only after the test gave up on it: the request is in flight when cancelled."""

    def __init__(self, key):
        super().__init__(key, [])
        self.called = asyncio.Event()

    async def complete(self, prompt, *, seed, temperature_delta=0.0):
        self.called.set()
        await asyncio.sleep(60)
        raise AssertionError("not reached")


def test_a_request_cancelled_in_flight_still_ends_its_span_with_a_cancelled_attempt():
    # a producer told to stop cancels its generation task with a request in flight; the
    # server may answer it anyway, so the span must say an attempt was made and cut off
    provider = HangingProvider("a")
    router, exporter = build([provider], {"a": 1.0})

    async def scenario():
        task = asyncio.create_task(router.complete("prompt", 1))
        await provider.called.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    (span,) = exporter.get_finished_spans()
    assert span.attributes["llm.cancelled"] is True
    assert span.attributes["llm.attempts"] == 1
    assert span.status.status_code == StatusCode.UNSET  # a requested stop is not an error
    (event,) = attempts(span)
    assert event.attributes["error.type"] == "cancelled"
    assert event.attributes["llm.provider"] == "a"
    assert "gen_ai.response.model" not in span.attributes


def test_an_answered_request_is_not_marked_cancelled():
    router, exporter = build([FakeProvider("a", [])], {"a": 1.0})
    asyncio.run(router.complete("prompt", 1))
    (span,) = exporter.get_finished_spans()
    assert "llm.cancelled" not in span.attributes
    assert [e.attributes.get("error.type") for e in attempts(span)] == [None]


def test_a_request_cancelled_after_a_failover_names_the_provider_in_flight():
    a, b = FakeProvider("a", [fail("500")]), HangingProvider("b")
    router, exporter = build([a, b], {"a": 1.0, "b": 0.0})

    async def scenario():
        task = asyncio.create_task(router.complete("prompt", 1))
        await b.called.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    (span,) = exporter.get_finished_spans()
    assert [(e.attributes["llm.provider"], e.attributes["error.type"]) for e in attempts(span)] == [
        ("a", "500"),
        ("b", "cancelled"),
    ]
