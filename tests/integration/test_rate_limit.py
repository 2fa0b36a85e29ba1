"""A run-wide rpm budget, shared among producers, paces the calls (rate_limit.wait events)."""

import time

import pytest

from tester import schema as n
from tester.collector import Collector
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.fake_llm import FakeLLMServer
from tester.topic import Topic

pytestmark = pytest.mark.integration

TOPIC = "Paced requests"
PRODUCERS, RPM = 2, 60  # each producer may send 30 a minute: a burst of 30, then one per 2 s
ITERATIONS = 32


def test_rpm_budget_is_split_and_enforced(tmp_path):
    with (
        FakeLLMServer(model="m", log_path=tmp_path / "fake.log") as server,
        Collector() as collector,
        ServiceConstellation(collector.http_endpoint, tmp_path / "run") as constellation,
    ):
        config = OrchestratorConfig(
            topic=TOPIC,
            producers=PRODUCERS,
            iterations=ITERATIONS,
            request_size=5,
            provider="env",
            extra_args=[
                "--llm", f"name=paced,base_url={server.base_url},model=m,rpm={RPM}",
                "--env-file", str(tmp_path / "none.env"),
            ],
        )  # fmt: skip
        started = time.monotonic()
        orchestrator = constellation.start_orchestrator(config)
        assert orchestrator.wait(timeout=120) == 0, orchestrator.log_text()[-3000:]
        elapsed = time.monotonic() - started
        topic = Topic.wait_for_topic(TOPIC, collector, timeout=60)
        topic.assert_completed()
        waits = [
            e
            for c in topic.spans(prefix=n.CHAT_PREFIX)  # the request's span holds its waits
            for e in c.events
            if e.name == n.EVENT_RATE_LIMIT_WAIT
        ]
        # beyond its burst of 30 each producer waits ~2 s for each of its last 2 calls
        assert len(waits) >= PRODUCERS * (ITERATIONS - RPM // PRODUCERS) - 1, len(waits)
        assert sum(float(e.attributes[n.LLM_DELAY_S]) for e in waits) >= PRODUCERS * 1.0
        assert elapsed >= 3.0
        assert server.stats()["requests"] == PRODUCERS * ITERATIONS
