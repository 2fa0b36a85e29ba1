"""An API key reaches the LLM server and nothing else: no span, no log, no output file."""

import json
import os

import pytest

from tester.collector import Collector
from tester.collector.spans import spans_to_otlp_json
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.fake_llm import FakeLLMServer
from tester.topic import Topic

pytestmark = pytest.mark.integration

SECRET = "sk-test-DO-NOT-LEAK-1234"
KEY_ENV = "LEAKTEST_API_KEY"
TOPIC = "Secret gardens"


def _files_containing(root, needle: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path))
    return found


def test_api_key_never_leaks(tmp_path):
    env = {**os.environ, KEY_ENV: SECRET}
    server_log = tmp_path / "fake-llm.log"
    with (
        FakeLLMServer(model="m", require_key_env=KEY_ENV, env=env, log_path=server_log) as server,
        Collector() as collector,
        ServiceConstellation(collector.http_endpoint, tmp_path / "run", env=env) as constellation,
    ):
        config = OrchestratorConfig(
            topic=TOPIC,
            producers=2,
            iterations=3,
            provider="env",
            log_level="debug",  # the most talkative logs must not hold it either
            extra_args=[
                "--llm", f"name=keyed,base_url={server.base_url},model=m,key_env={KEY_ENV}",
                "--env-file", str(tmp_path / "none.env"),
                "--record-content",
            ],
        )  # fmt: skip
        orchestrator = constellation.start_orchestrator(config)
        assert orchestrator.wait(timeout=120) == 0, orchestrator.log_text()[-3000:]
        topic = Topic.wait_for_topic(TOPIC, collector, timeout=120)
        topic.assert_completed().assert_no_errors().assert_llm_calls()
        # the key was used: the server refuses requests without it
        assert server.stats()["outcomes"] == {"ok": 6}
        calls = topic.spans(prefix="chat ")
        # --record-content: prompts and answers on the chat spans, but never the key
        assert all("Secret gardens" in c.attr("gen_ai.input.messages", "") for c in calls)
        assert all(c.attr("gen_ai.output.messages") for c in calls)
        spans = collector.store.all()
        assert spans
        assert SECRET not in json.dumps(spans_to_otlp_json(spans))
        assert SECRET not in repr([(s.attributes, s.resource, s.events) for s in spans])
    assert _files_containing(tmp_path / "run", SECRET) == []  # logs, output, run.json
    assert SECRET not in server_log.read_text()
