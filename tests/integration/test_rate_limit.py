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
        # truth on the server's clock: by any arrival, the run has sent at most its
        # burst (RPM) plus what the bucket refilled since the first request (RPM/min)
        arrivals = sorted(entry.arrival for entry in server.ledger().entries)
        rate = RPM / 60.0
        for k, arrival in enumerate(arrivals):
            allowed = RPM + rate * (arrival - arrivals[0]) + 1  # 1: clock granularity
            assert k + 1 <= allowed, f"request {k + 1} at +{arrival - arrivals[0]:.2f}s"
        # the budget would be exceeded without waiting unless the run was slow anyway
        # (a loaded machine): then the bucket refilled and fewer waits were needed
        needed = PRODUCERS * ITERATIONS - RPM - rate * (arrivals[-1] - arrivals[0] - 2.0)
        if needed > 0:
            assert waits, "the rpm budget was spent and no request waited"
            # each wait is a real one; how long they add up to depends on how fast the
            # run was (a fixed floor, 0.5 s, failed under load): the arrivals above
            # are the budget's proof
            assert all(float(e.attributes[n.LLM_DELAY_S]) > 0 for e in waits)
        assert elapsed >= 3.0
        assert server.stats()["requests"] == PRODUCERS * ITERATIONS
