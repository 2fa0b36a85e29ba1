"""The tester's own reading of the key (tester/topic/normalize.py) agrees with the system's.

The tester checks attributes.txt for duplicates with its independent code;
a disagreement is either a false alarm (the tester merges what the keys keep
apart) or a blind spot. Judged on the real corpus and on fuzzed answers, as
parsed by the producer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from system.dedup.normalize import normalize as system_key
from system.producer.parse import parse_response
from tester.fake_llm.fuzz import fuzzed_answers
from tester.topic.normalize import normalize as reading_of_the_tester

CORPUS = Path(__file__).resolve().parents[1] / "data" / "real_corpus" / "answers.jsonl"


def _candidates() -> list[str]:
    answers = [json.loads(x)["answer"] for x in CORPUS.read_text(encoding="utf-8").splitlines()]
    return [c for a in answers + fuzzed_answers(70, seed=11) for c in parse_response(a)]


def test_both_readings_split_the_candidates_the_same_way() -> None:
    by_system: dict[str, str] = {}
    by_tester: dict[str, str] = {}
    for candidate in _candidates():
        s, t = system_key(candidate), reading_of_the_tester(candidate)
        assert by_system.setdefault(s, t) == t, (candidate, s, t)
        assert by_tester.setdefault(t, s) == s, (candidate, s, t)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("The Louvre", "Louvre", True),
        ("1. the louvre.", "LOUVRE", True),
        ("An Apple Store", "Apple Store", True),
        ("The", "the", True),
        ("Theatre", "atre", False),
        ('"Louvre"', "Louvre", True),
        ("Louvre```", "Louvre", False),  # not a surrounding pair
        ("«Louvre»", "Louvre", True),
    ],
)
def test_key_rules(a: str, b: str, same: bool) -> None:
    assert (system_key(a) == system_key(b)) is same
    assert (reading_of_the_tester(a) == reading_of_the_tester(b)) is same
