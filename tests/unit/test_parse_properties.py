"""Property tests (hypothesis) of the parser and the normalization on arbitrary text.

Whatever a model sends -- any code point, lone surrogates included, huge
lines, markdown debris -- the parser must not raise, must not emit an empty
candidate nor one holding a control (Cc), format (Cf) or surrogate (Cs)
character, and normalization must be a fixed point.
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from system.dedup.normalize import clean_display, normalize
from system.producer.parse import PromptContext, parse_response
from system.protocol import AttributeBatch
from system.protocol.messages import decode_message, encode_message

FORBIDDEN = frozenset({"Cc", "Cf", "Cs"})

#: every code point, surrogates included (what json.loads can hand the producer)
any_char = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)
noisy_char = st.one_of(
    any_char,
    st.sampled_from([*"\n\r\t|-*#:()[],;.!?\"'`_ ", "\u200b", "\u202e", "\ufeff", "\ud800"]),
    st.sampled_from(["**", "1. ", "- ", " - ", ": ", " and ", "|---|", "```", "A-B ", "The "]),
)
answers = st.lists(noisy_char, max_size=300).map("".join)
lines = st.lists(st.sampled_from(["Louvre", "Eiffel Tower", "Musée d'Orsay", "東京"]) | answers,
                 max_size=12).map("\n".join)  # fmt: skip
contexts = st.builds(
    PromptContext,
    topic=st.text(max_size=30),
    partition=st.none() | st.sampled_from(["A-F", "G-P", "museums"]) | st.text(max_size=10),
)
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _clean(item: str) -> bool:
    return bool(item.strip()) and not any(unicodedata.category(ch) in FORBIDDEN for ch in item)


@PROFILE
@given(text=answers | lines, context=st.none() | contexts, limit=st.none() | st.integers(0, 50))
def test_parser_never_raises_nor_emits_empty_or_control_items(text, context, limit) -> None:
    items = parse_response(text, limit=limit, context=context)
    assert all(_clean(item) for item in items), items
    assert limit is None or len(items) <= max(limit, 0)
    assert all(len(item) <= 200 for item in items)


@PROFILE
@given(text=answers | lines, context=st.none() | contexts)
def test_candidates_are_clean_displays_with_non_empty_keys(text, context) -> None:
    for item in parse_response(text, context=context):
        assert clean_display(item) == item
        key = normalize(item)
        assert key and normalize(key) == key


@PROFILE
@given(text=st.text(alphabet=any_char, max_size=200) | answers)
def test_normalization_is_idempotent(text) -> None:
    key = normalize(text)
    assert normalize(key) == key
    display = clean_display(text)
    assert clean_display(display) == display


@PROFILE
@given(text=answers | lines)
def test_parsed_candidates_always_encode_on_the_wire(text) -> None:
    batch = AttributeBatch(
        producer_id=1, seq=0, candidates=parse_response(text), provider="p", model="m"
    )
    assert decode_message(encode_message(batch)).candidates == batch.candidates


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=any_char, max_size=50))
def test_any_string_field_encodes(text) -> None:
    """What the parser does not clean (a model name from the answer) still crosses the wire:
    lone surrogates become U+FFFD instead of killing the sender."""
    batch = AttributeBatch(producer_id=1, seq=0, candidates=[text], provider=text, model=text)
    decoded = decode_message(encode_message(batch))
    assert decoded.model == "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    assert decoded.candidates == [decoded.model] == [decoded.provider]


@settings(max_examples=50, deadline=None)
@given(
    junk=st.binary(max_size=2000).map(lambda b: b.decode("utf-8", "surrogateescape")),
    width=st.integers(150, 100_000),
)
def test_huge_lines_and_binary_junk(junk, width) -> None:
    text = junk + "\n" + "x" * width + "\nLouvre\n" + "\ud800" * 3
    items = parse_response(text)
    assert "Louvre" in items and all(_clean(item) for item in items)
