"""The OpenAI-compatible provider through real HTTP against the fake server."""

import asyncio

import pytest

from system.providers.base import ProviderError
from system.providers.openai_compat import OpenAICompatProvider
from system.providers.spec import ProviderSpec
from tester.fake_llm import FakeLLMServer

pytestmark = pytest.mark.integration

PROMPT = "Intro\nTopic: Oslo museums\nList 5 distinct items, one per line."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("fake") / "fake-llm.log"
    with FakeLLMServer(model="fake-x", log_path=log, retry_after=2.5) as running:
        yield running


def call(server: FakeLLMServer, plan: str, *, timeout: float = 10.0, key: str | None = None):
    server.set_plan(plan, hang_s=30)
    spec = ProviderSpec("fake", server.base_url, "fake-x", timeout_s=timeout)

    async def once():
        provider = OpenAICompatProvider(spec, key)
        try:
            return await provider.complete(PROMPT, seed=1)
        finally:
            await provider.close()

    return asyncio.run(once())


def test_answer_with_usage_and_server_attributes(server):
    completion = call(server, "ok")
    assert len(completion.text.splitlines()) == 5
    assert completion.model == "fake-x" and completion.finish_reason == "stop"
    assert completion.input_tokens > 0 and completion.output_tokens > 0
    provider = OpenAICompatProvider(ProviderSpec("fake", server.base_url, "fake-x"), None)
    assert (provider.server_address, provider.server_port) == ("127.0.0.1", server.port)


@pytest.mark.parametrize(
    ("plan", "error_type", "retry_after"),
    [
        ("429*1", "429", 2.5),
        ("503*1", "503", 2.5),
        ("500*1", "500", None),
        ("down*1", "connection_error", None),
        ("garbage*1", "invalid_response", None),
        ("truncated*1", "invalid_response", None),
        ("empty*1", "empty_response", None),
    ],
)
def test_faults_become_retryable_provider_errors(server, plan, error_type, retry_after):
    with pytest.raises(ProviderError) as info:
        call(server, plan)
    assert info.value.error_type == error_type
    assert info.value.retryable
    assert info.value.retry_after == retry_after


def test_timeout(server):
    with pytest.raises(ProviderError) as info:
        call(server, "hang*1", timeout=0.5)
    assert info.value.error_type == "timeout"


def test_wrong_key_is_not_retryable(tmp_path):
    env = {"FAKE_LLM_API_KEY": "sk-right"}
    import os

    with FakeLLMServer(require_key_env="FAKE_LLM_API_KEY", env={**os.environ, **env}) as keyed:
        with pytest.raises(ProviderError) as info:
            call(keyed, "ok", key="sk-wrong")
        assert info.value.error_type == "401" and not info.value.retryable
        assert call(keyed, "ok", key="sk-right").output_tokens > 0
