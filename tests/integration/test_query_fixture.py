"""tester.query through the pytest plugin's span_query fixture, on a real run."""

import pytest

from tester.constellation import OrchestratorConfig
from tester.query import IncompleteTrace, assert_complete

pytestmark = pytest.mark.integration


def test_span_query_on_a_real_run(constellation, topic_waiter, span_query):
    config = OrchestratorConfig(topic="Query check", producers=2, iterations=3)
    orchestrator = constellation.start_orchestrator(config)
    topic = topic_waiter("Query check")
    assert orchestrator.wait(timeout=60) == 0
    q = span_query()
    chats = q.service("producer").name("chat *").where(**{"gen_ai.provider.name": "simulated"})
    chats.exactly(6).p95_below(30_000)
    q.name("producer.run").exactly(2).ended_after_start_of(q.name("producers.stop"))
    q.name("generation.cycle").descendants().name("batch.receive").exactly(6)
    q.name("topic.run").one()
    assert topic.query().name("chat *").count() == 6
    with pytest.raises(AssertionError, match="expected at least 7 span"):
        chats.at_least(7)
    # a trace missing its generation.cycle spans cannot be judged
    partial = [s for s in q if s.name != "generation.cycle"]
    with pytest.raises(IncompleteTrace):
        assert_complete(partial, known_services={"orchestrator", "producer"})
