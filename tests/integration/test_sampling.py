"""Sampling settings reach the server; a retried request is one chat span with attempt events."""

import json
import subprocess
import sys

import pytest

from tester import schema as n
from tester.collector import Collector
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.fake_llm import FakeLLMServer
from tester.topic import Topic

pytestmark = pytest.mark.integration

TOPIC = "Sampled lighthouses"
ITERATIONS = 3
SAMPLING = {"temperature": 0.9, "top_p": 0.95, "seed": 7, "max_tokens": 800}


def _sampled_requests(log_text: str) -> list[dict[str, object]]:
    marker = "chat request sampling: "
    lines = [line for line in log_text.splitlines() if marker in line]
    return [json.loads(line.split(marker, 1)[1]) for line in lines]


def test_sampling_reaches_the_server_and_a_retried_request_is_one_chat_span(tmp_path):
    log = tmp_path / "fake.log"
    fields = ",".join(f"{k}={v}" for k, v in SAMPLING.items())
    with (
        # the first request fails with a 500, its retry succeeds: 4 HTTP requests, 3 LLM requests
        FakeLLMServer(model="m", plan="500*1,ok", log_path=log) as server,
        Collector() as collector,
        ServiceConstellation(collector.http_endpoint, tmp_path / "run") as constellation,
    ):
        config = OrchestratorConfig(
            topic=TOPIC,
            producers=1,
            iterations=ITERATIONS,
            provider="env",
            extra_args=[
                "--llm", f"name=only,base_url={server.base_url},model=m,{fields}",
                "--env-file", str(tmp_path / "none.env"), "--record-content", "--no-adaptive",
            ],
        )  # fmt: skip
        orchestrator = constellation.start_orchestrator(config)
        assert orchestrator.wait(timeout=120) == 0, orchestrator.log_text()[-3000:]
        topic = Topic.wait_for_topic(TOPIC, collector, timeout=60)
        served = server.stats()["requests"]

    # the server saw every setting on every request it answered (the 500 is not answered)
    sent = _sampled_requests(log.read_text())
    assert len(sent) == ITERATIONS, sent
    assert all(request == SAMPLING for request in sent), sent

    topic.assert_completed().assert_llm_calls()
    chats = topic.spans(prefix=n.CHAT_PREFIX)
    assert served == ITERATIONS + 1
    assert len(chats) == ITERATIONS, "one chat span per request, whatever its retries"
    for chat in chats:
        assert chat.attr(n.GENAI_REQUEST_TEMPERATURE) == 0.9
        assert chat.attr(n.GENAI_REQUEST_TOP_P) == 0.95
        assert chat.attr(n.GENAI_REQUEST_SEED) == 7
        assert chat.attr(n.GENAI_REQUEST_MAX_TOKENS) == 800
        assert str(chat.attr(n.GENAI_RESPONSE_ID, "")).startswith("chatcmpl-")
        output = json.loads(str(chat.attr(n.GENAI_OUTPUT_MESSAGES)))
        assert output[0]["finish_reason"] == "stop"
        assert chat.status != "ERROR"
    attempts = sorted(len([e for e in c.events if e.name == n.EVENT_ATTEMPT]) for c in chats)
    assert attempts == [1, 1, 2]
    retried = next(c for c in chats if int(c.attr(n.LLM_ATTEMPTS)) == 2)
    events = [e for e in retried.events if e.name == n.EVENT_ATTEMPT]
    assert events[0].attributes.get(n.ERROR_TYPE) == "500"
    assert n.ERROR_TYPE not in events[1].attributes
    assert any(e.name == n.EVENT_RETRY for e in retried.events), "the retry's wait is on it too"


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("temperature=nan", "temperature must be a finite number"),
        ("temperature=2.5", "temperature must be between 0 and 2"),
        ("top_p=0", "top_p must be above 0 and at most 1"),
        ("seed=1.5", "seed must be an integer"),
        ("max_tokens=0", "max_tokens must be an integer from 1"),
    ],
)
def test_bad_sampling_values_exit_2_with_a_clear_message(tmp_path, field, message):
    result = subprocess.run(
        [
            sys.executable, "-m", "system.orchestrator", "--topic", "x", "--iterations", "1",
            "--provider", "env", "--llm", f"name=a,base_url=http://127.0.0.1:9/v1,model=m,{field}",
            "--env-file", str(tmp_path / "none.env"), "--output", str(tmp_path / "out"),
        ],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out").exists()
