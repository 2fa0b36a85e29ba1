"""The fake model's labelled noise and its ledger (tester/fake_llm)."""

import json
import random

import pytest

from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_prompt
from tester.fake_llm import model
from tester.fake_llm.ledger import Ledger, redact_headers
from tester.fake_llm.noise import ALL_KINDS, BASIC, CONTRACT, DISPUTED, NoiseConfig


def test_noise_config_parses_groups_and_refuses_unknown_kinds():
    assert NoiseConfig.parse("basic").kinds == BASIC
    assert NoiseConfig.parse("all").kinds == ALL_KINDS - DISPUTED
    assert NoiseConfig.parse("all,pair").kinds == ALL_KINDS
    assert NoiseConfig.parse("none").kinds == frozenset()
    assert NoiseConfig.parse("remark,table").kinds == {"remark", "table"}
    assert BASIC.isdisjoint(CONTRACT)
    with pytest.raises(ValueError, match="unknown noise kind"):
        NoiseConfig.parse("remarks")
    with pytest.raises(ValueError):
        NoiseConfig(frozenset(), 1.5)


def _answers(kinds: str, n: int = 200, partition: str | None = "A-G"):
    prompt = build_prompt("Paris attractions", 20, avoid=["Old Tower"], partition=partition)
    for seed in range(n):
        yield prompt, model.answer(prompt, random.Random(seed), noise=NoiseConfig.parse(kinds, 0.4))


def test_every_kind_occurs_and_noise_lines_hold_no_item():
    seen = set()
    for _, lines in _answers("all,pair"):
        for line in lines:
            seen.add(line.kind)
            assert (line.label == "item") == bool(line.items), line
    assert seen >= ALL_KINDS, ALL_KINDS - seen


@pytest.mark.parametrize("partition", ["A-G", None])
def test_labels_are_what_the_parser_contract_gives(partition):
    """The system's parser implements the contract: on every undisputed kind it must
    produce exactly the candidates the fake model's labels say (display forms, in order)."""
    for _, lines in _answers("all", partition=partition):
        text = "\n".join(line.text for line in lines)
        got = parse_response(text, context=PromptContext("Paris attractions", partition))
        assert got == [c.display for line in lines for c in line.items], text


def test_without_noise_an_answer_is_count_distinct_plain_names():
    prompt = build_prompt("Rome fountains", 25)
    lines = model.answer(prompt, random.Random(1))
    assert len(lines) == 25 and {line.kind for line in lines} == {"plain"}
    assert len({line.text for line in lines}) == 25


def test_universe_size_is_exact_and_the_prompt_is_read_back():
    assert len(model.universe("Rivers", 57)) == 57
    with pytest.raises(ValueError):
        model.universe("Rivers", model.MAX_UNIVERSE + 1)
    asked = model.read_asked(build_prompt("Rivers", 7, avoid=["A b", "C d"], partition="M-P"))
    assert (asked.topic, asked.count, asked.partition, asked.avoid) == (
        "Rivers", 7, "M-P", ["A b", "C d"]
    )  # fmt: skip


def test_headers_are_redacted_and_the_ledger_round_trips(tmp_path):
    headers = {"authorization": "Bearer sk-secret-123456", "user-agent": "x", "cookie": "c"}
    kept = redact_headers(headers)
    assert kept == {"authorization": "<redacted>", "user-agent": "x"}
    ledger = Ledger("127.0.0.1:1", "m", 1)
    entry = ledger.open({"arrival": 1.0, "client": "c", "path": "/v1/chat/completions",
                         "headers": kept})  # fmt: skip
    entry.outcome, entry.status = "ok", 200
    entry.lines = model.answer(build_prompt("T", 3), random.Random(0))
    loaded = Ledger.load(ledger.dump(tmp_path / "l.json"))
    assert [e.candidates() for e in loaded.entries] == [entry.candidates()]
    assert "sk-secret" not in json.dumps(ledger.to_dict())
