"""Issue 21 items 6-7: what an OpenAI-compatible answer body may be (read_completion)."""

import json

import pytest

from system.providers.base import ProviderError
from system.providers.openai_compat import MAX_TOKEN_COUNT, read_completion


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
