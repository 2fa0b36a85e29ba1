"""A producer told to stop while its OpenAI client loads builds no provider and
starts no LLM request (system/producer/worker.py, preload.py; issue 21, item 4)."""

import asyncio

from opentelemetry.sdk.trace import TracerProvider

from system.producer import worker
from system.producer.connect import EXIT_NO_ORCHESTRATOR
from system.protocol import StartTopic


class _Telemetry:
    def tracer(self, name: str):
        return TracerProvider().get_tracer(name)


class _HangingPreload:
    """An import that never ends: only a stop gets the producer out."""

    async def wait(self, stop: asyncio.Event) -> None:
        await stop.wait()


def test_a_stop_during_the_client_import_starts_no_request(monkeypatch):
    built: list[str] = []
    monkeypatch.setattr(worker, "Preload", _HangingPreload)
    monkeypatch.setattr(worker, "build_router", lambda *a, **k: built.append("router"))
    producer = worker.Producer(3, "127.0.0.1", 9, "token", _Telemetry(), None)
    start = StartTopic(run_id="r", topic="T", request_size=5, iterations=1, provider="env")

    async def scenario() -> int:
        task = asyncio.create_task(producer._work(start, frames=None))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        producer.request_stop("orchestrator went away (stdin closed)")
        return await asyncio.wait_for(task, 10)

    assert asyncio.run(scenario()) == EXIT_NO_ORCHESTRATOR
    assert built == [], "a provider was built (and a request could start) after the stop"
