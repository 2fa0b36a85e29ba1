"""Issue 21 items 6-7: what an OpenAI-compatible answer body may be (read_completion)."""

import asyncio
import gzip
import json

import httpx2
import openai
import pytest

from system.providers.base import ProviderError
from system.providers.openai_compat import (
    MAX_TOKEN_COUNT,
    CappedClient,
    classify,
    read_completion,
)


def body(content="A\nB", **top) -> bytes:
    data = {
        "id": "r1",
        "model": "m",
        "choices": [
            {"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    data.update(top)
    return json.dumps(data).encode()


def test_a_plain_answer():
    completion = read_completion(body(), "fallback", 5.0)
    assert (completion.text, completion.model, completion.input_tokens) == ("A\nB", "m", 3)
    assert completion.output_tokens == 2 and completion.response_id == "r1"


def test_content_parts_are_joined_and_other_parts_ignored():
    parts = [{"type": "text", "text": "A\n"}, {"type": "image_url"}, {"type": "text", "text": "B"}]
    assert read_completion(body(parts), "m", 1.0).text == "A\nB"


def test_missing_optional_fields_take_defaults():
    raw = json.dumps({"choices": [{"message": {"content": None}}]}).encode()
    completion = read_completion(raw, "fallback", 1.0)
    assert (completion.text, completion.model) == ("", "fallback")
    assert completion.finish_reason == "unknown"
    assert completion.input_tokens == completion.output_tokens == 0


@pytest.mark.parametrize(
    "raw",
    [
        body(5),
        body([{"type": "text", "text": 7}]),
        body(["A"]),
        body(choices={"0": {}}),
        body(choices=[None]),
        body(choices=[{"message": "A"}]),
        body(usage={"prompt_tokens": "3"}),
        body(usage={"prompt_tokens": 3.0}),
        body(usage={"prompt_tokens": True}),
        body(usage={"completion_tokens": -1}),
        body(usage={"completion_tokens": MAX_TOKEN_COUNT + 1}),
        body(usage={"completion_tokens": 10**30}),
        body(usage=[1]),
        body(model=5),
        body(id=[1]),
        b"[1]",
        b"[" * 100_000,
        b"not json",
    ],
)
def test_malformed_answers_are_invalid_response(raw):
    with pytest.raises(ProviderError) as info:
        read_completion(raw, "m", 1.0)
    assert info.value.error_type == "invalid_response" and info.value.retryable


def test_no_choices_is_an_empty_response():
    with pytest.raises(ProviderError) as info:
        read_completion(body(choices=[]), "m", 1.0)
    assert info.value.error_type == "empty_response"


def test_invalid_utf8_becomes_replacement_characters():
    raw = body("Good\nBadXX\nFine").replace(b"XX", b"\xff\xfe")
    assert read_completion(raw, "m", 1.0).text == "Good\nBad\ufffd\ufffd\nFine"


def test_lone_surrogates_outside_the_text_are_replaced():
    completion = read_completion(body(model="m\ud800", id="r\udfff"), "m", 1.0)
    assert completion.model.startswith("m\ufffd") and completion.response_id
    completion.model.encode("utf-8")  # encodable: spans and protocol frames take them
    completion.response_id.encode("utf-8")


def test_lone_surrogates_in_the_text_are_left_to_the_parser():
    assert read_completion(body("A\ud800B"), "m", 1.0).text == "A\ud800B"


def classified(status: int, key_env: str | None = None) -> ProviderError:
    request = httpx2.Request("POST", "http://h/v1/chat/completions")
    response = httpx2.Response(status, request=request, headers={"retry-after": "7"})
    return classify(openai.APIStatusError("refused", response=response, body=None), key_env)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_permanent(status):
    """Issue 21 item 8: 401/403 disable the provider (the router), never retried."""
    error = classified(status, "MY_KEY")
    assert error.permanent and not error.retryable and error.error_type == str(status)
    assert str(error) == f"HTTP {status}: the provider refused the API key in MY_KEY"
    assert "none is configured" in str(classified(status))


def test_other_statuses_are_not_permanent():
    error = classified(503)
    assert error.retryable and not error.permanent and error.retry_after == 7


def fetch(limit: int, handler) -> bytes:
    async def go() -> bytes:
        async with CappedClient(limit, transport=httpx2.MockTransport(handler)) as client:
            response = await client.send(client.build_request("POST", "http://h/x"))
            return response.content

    return asyncio.run(go())


async def _chunks(size: int):
    for _ in range(size // 1000):
        yield b"a" * 1000


@pytest.mark.parametrize("status", [200, 500])
def test_the_client_reads_at_most_its_limit(status):
    """Issue 21 item 2: a body over the cap fails as answer_too_large (error bodies too)."""
    assert fetch(5000, lambda request: httpx2.Response(status, content=b"a" * 5000)) == b"a" * 5000
    for handler in (
        lambda request: httpx2.Response(status, content=b"a" * 5001),  # declared length
        lambda request: httpx2.Response(status, content=_chunks(50_000)),  # streamed
    ):
        with pytest.raises(ProviderError) as info:
            fetch(5000, handler)
        assert info.value.error_type == "answer_too_large"


def test_the_limit_counts_decoded_bytes():
    bomb = gzip.compress(b"a" * 100_000)
    headers = {"content-encoding": "gzip"}
    with pytest.raises(ProviderError):
        fetch(50_000, lambda request: httpx2.Response(200, content=bomb, headers=headers))
    body = fetch(200_000, lambda request: httpx2.Response(200, content=bomb, headers=headers))
    assert body == b"a" * 100_000
