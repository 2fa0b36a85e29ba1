"""Every provider down: the producer degrades visibly, does not spin, and recovers."""

import time

import pytest

from tester import schema as n
from tester.collector import Collector
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.fake_llm import FakeLLMServer
from tester.topic import Topic

pytestmark = pytest.mark.integration

TOPIC = "Closed museums"
COOLDOWN_S = 1.0


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_all_providers_down_degrades_then_recovers(tmp_path):
    with (
        FakeLLMServer(model="m", plan="down", log_path=tmp_path / "fake.log") as server,
        Collector() as collector,
        ServiceConstellation(collector.http_endpoint, tmp_path / "run") as constellation,
    ):
        config = OrchestratorConfig(
            topic=TOPIC,
            producers=1,
            iterations=3,
            provider="env",
            extra_args=[
                "--llm", f"name=only,base_url={server.base_url},model=m,"
                f"breaker_failures=2,breaker_cooldown={COOLDOWN_S}",
                "--env-file", str(tmp_path / "none.env"),
            ],
        )  # fmt: skip
        orchestrator = constellation.start_orchestrator(config)
        wait_for(lambda: "reports degraded" in orchestrator.log_text(), 60, "the degraded status")
        # while down, calls are paced by the breaker's cooldown: no busy loop
        before, started = server.stats()["requests"], time.monotonic()
        wait_for(lambda: time.monotonic() - started >= 3 * COOLDOWN_S, 30, "3 cooldowns")
        during = server.stats()["requests"] - before
        elapsed = time.monotonic() - started
        assert during <= elapsed / COOLDOWN_S + 2, f"{during} requests in {elapsed:.1f}s"
        server.set_plan("ok")
        assert orchestrator.wait(timeout=120) == 0, orchestrator.log_text()[-3000:]
        topic = Topic.wait_for_topic(TOPIC, collector, timeout=60)
        topic.assert_completed()
        degraded = [c for c in topic.spans(n.GENERATION_CYCLE) if c.attr(n.CYCLE_DEGRADED)]
        assert degraded, "no generation.cycle marked generation.degraded"
        assert any(e.name == n.EVENT_UNAVAILABLE for c in degraded for e in c.events)
        assert topic.summary()["batches"] == 3
