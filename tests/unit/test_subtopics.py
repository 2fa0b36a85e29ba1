"""LLM-proposed sub-topic partitions: prompt, simulated answers, parsing, planning, fallback."""

from __future__ import annotations

import asyncio
import json

import pytest

from system.dedup.index import DedupIndex
from system.levers.partitions.manager import PartitionManager
from system.levers.partitions.match import partition_matcher
from system.levers.subtopics.planner import SubtopicPlanner
from system.levers.subtopics.propose import MAX_LABEL_CHARS, clean_labels, propose
from system.orchestrator.cli import main as orchestrator_main
from system.orchestrator.cli import parse_config
from system.orchestrator.config import ConfigError, LeverConfig, build_run_config
from system.orchestrator.discovery import Discovery
from system.producer.parse import parse_response
from system.producer.prompt import build_prompt, build_subtopics_prompt
from system.protocol import (
    AttributeBatch,
    ProposeSubtopics,
    SubtopicProposal,
    UpdateConfiguration,
    decode_message,
    encode_message,
)
from system.providers.base import Completion, ProviderError
from system.providers.simulated import SimulatedModel, parse_prompt, parse_subtopics_prompt
from system.telemetry import schema as s

TOPIC = "Harbours"


# ------------------------------------------------------------------ prompt + simulator
def test_subtopics_prompt_is_read_back_by_the_simulator_and_not_taken_for_a_list():
    prompt = build_subtopics_prompt(TOPIC, 8, exclude=["Mills and docks", "  Gardens \n"])
    request = parse_subtopics_prompt(prompt)
    assert request is not None
    assert (request.topic, request.count, request.exclude) == (
        TOPIC,
        8,
        ("Mills and docks", "Gardens"),
    )
    assert parse_subtopics_prompt(build_prompt(TOPIC, 30, avoid=["Propose 8 sub-topics"])) is None
    assert parse_prompt(prompt).partition is None


@pytest.mark.parametrize("profile", ["weak", "strong"])
def test_simulated_subtopics_are_deterministic_distinct_and_dressed_like_lists(profile):
    model = SimulatedModel(profile=profile)
    prompt = build_subtopics_prompt(TOPIC, 8)
    assert model.complete(prompt, 3) == model.complete(prompt, 3)
    texts = {model.complete(prompt, seed).text for seed in range(40)}
    assert len(texts) > 1  # numbering, bullets, preambles vary with the seed
    assert any(t.splitlines()[0].endswith(":") for t in texts)  # a preamble now and then
    for seed in range(40):
        labels = clean_labels(parse_response(model.complete(prompt, seed).text), 8)
        assert labels == model.subtopics(parse_subtopics_prompt(prompt))  # noise parses away
        assert len(labels) == 8 and len({x.casefold() for x in labels}) == 8


def _coverage(model: SimulatedModel, labels: list[str]) -> float:
    names = model.universe(TOPIC)
    matchers = [partition_matcher(label) for label in labels]
    return sum(any(m(name) for m in matchers) for name in names) / len(names)


def test_strong_labels_each_cover_a_real_share_and_weak_ones_are_vaguer():
    strong, weak = SimulatedModel(profile="strong"), SimulatedModel(profile="weak")
    request = parse_subtopics_prompt(build_subtopics_prompt(TOPIC, 8))
    strong_labels, weak_labels = strong.subtopics(request), weak.subtopics(request)
    names = strong.universe(TOPIC)
    for label in strong_labels:
        share = sum(map(partition_matcher(label), names)) / len(names)
        assert share >= 0.03, (label, share)
    assert _coverage(strong, strong_labels) > 0.3
    assert _coverage(weak, weak_labels) < _coverage(strong, strong_labels)
    useless = [x for x in weak_labels if not any(map(partition_matcher(x), names))]
    assert len(useless) >= 3  # vague categories name no item


def test_a_later_round_skips_the_taken_words():
    model = SimulatedModel(profile="strong")
    first = model.subtopics(parse_subtopics_prompt(build_subtopics_prompt(TOPIC, 8)))
    second = model.subtopics(parse_subtopics_prompt(build_subtopics_prompt(TOPIC, 8, first)))
    taken = {w.casefold().rstrip("s") for label in first for w in label.split() if len(w) > 3}
    assert second and not (set(first) & set(second))
    assert not any(w.casefold().rstrip("s") in taken for x in second for w in x.split())
    assert _coverage(model, first + second) > _coverage(model, first)


def test_list_prompts_answer_as_before():
    # the sub-topic branch must not move the list answers' random stream
    model = SimulatedModel(profile="strong")
    text = model.complete(build_prompt(TOPIC, 10, partition="A-F"), 11).text
    assert text == model.complete(build_prompt(TOPIC, 10, partition="A-F"), 11).text
    assert len(parse_response(text)) == 10


# ------------------------------------------------------------------ parsing
def test_clean_labels_dedups_bounds_and_drops_what_cannot_be_a_label():
    lines = [
        "Gardens",
        "gardens",  # repeat
        "A-F",  # a letter range
        "Q",
        "!!",  # no word to match by
        "x" * (MAX_LABEL_CHARS + 1),
        "Taken one",
        "Mills  and   docks",
        "Piers",
        "Towers",
    ]
    assert clean_labels(lines, 3, exclude=["TAKEN ONE"]) == ["Gardens", "Mills and docks", "Piers"]
    assert clean_labels(lines, 0) == []


class _Answering:
    def __init__(self, text: str | None) -> None:
        self.text = text
        self.prompts: list[str] = []

    async def complete(self, prompt: str, seed: int):
        self.prompts.append(prompt)
        if self.text is None:
            raise ProviderError("down", "500", retryable=True)

        class Outcome:
            completion = Completion(self.text, "m", 10, 5, "stop", 1.0)
            provider = type("P", (), {"name": "p", "key": "p"})()
            attempts = 1

        return Outcome()


def test_propose_goes_through_the_router_and_parses():
    router = _Answering("Sure! Here are 3 sub-topics:\n1. Gardens\n2. **Piers**\n3. Gardens\n")
    result = asyncio.run(propose(router, topic=TOPIC, count=3, exclude=["Docks"], seed=1))  # type: ignore[arg-type]
    assert result.labels == ["Gardens", "Piers"]
    assert "- Docks" in router.prompts[0] and "Propose 3" in router.prompts[0]
    with pytest.raises(ProviderError):
        asyncio.run(propose(_Answering(None), topic=TOPIC, count=3, exclude=[], seed=1))  # type: ignore[arg-type]


# ------------------------------------------------------------------ protocol
def test_messages_round_trip_and_none_fields_stay_out_of_the_frame():
    request = ProposeSubtopics(request_id=2, count=8, exclude=["Gardens"], trace_context={"a": "b"})
    assert decode_message(encode_message(request)) == request
    answer = SubtopicProposal(producer_id=1, request_id=2, labels=["Piers"])
    assert b"error" not in encode_message(answer)
    assert decode_message(encode_message(answer)) == answer


# ------------------------------------------------------------------ planning
def _discovery(producers=(1, 2, 3), **levers) -> Discovery:
    config = LeverConfig(partition_by="subtopics", saturation=0.02, **levers)
    return Discovery(config, list(producers), request_size=30, open_ended=False)


def _event(effects, name):
    return [attrs for event, attrs in effects.events if event == name]


def _partitions_sent(effects) -> dict[int, str]:
    return {
        pid: u.partition
        for pid, u in effects.updates
        if isinstance(u, UpdateConfiguration) and u.partition is not None
    }


def test_first_producer_is_asked_and_the_labels_become_partitions():
    d = _discovery()
    assert d.start(1, DedupIndex())[0] is None  # the whole topic until sub-topics arrive
    effects = d.on_connected(1)
    [(pid, request)] = effects.updates
    assert pid == 1 and isinstance(request, ProposeSubtopics) and request.request_id == 1
    assert effects.subtopic_requests == [1]
    assert _event(effects, s.EVENT_SUBTOPICS_REQUEST)[0][s.SUBTOPICS_ROUND] == 1
    assert d.on_connected(2).updates == []  # one request at a time

    labels = ["Gardens and piers", "Mills and docks", "Halls and walks", "Towers and steps"]
    effects = d.on_subtopics(1, SubtopicProposal(producer_id=1, request_id=1, labels=labels))
    [proposed] = _event(effects, s.EVENT_SUBTOPICS_PROPOSED)
    assert json.loads(proposed[s.SUBTOPICS_LABELS]) == labels
    assert _partitions_sent(effects) == dict(zip((1, 2, 3), labels[:3], strict=True))
    assert d.partitions.partition_of(2) == labels[1]
    summary = d.summary()
    assert summary["partition_by"] == "subtopics"
    assert summary["subtopics"]["rounds"][0]["status"] == "proposed"
    assert {p["kind"] for p in summary["partitions"]} == {"subtopic"}
    # a late duplicate answer changes nothing
    assert (
        d.on_subtopics(1, SubtopicProposal(producer_id=1, request_id=1, labels=labels)).events == []
    )


def _batch(label: str, items: list[str], extra: int = 0) -> AttributeBatch:
    return AttributeBatch(
        producer_id=1,
        seq=0,
        candidates=items + ["dup"] * extra,
        provider="p",
        model="m",
        partition=label,
    )


def test_saturated_subtopics_retire_then_another_round_then_the_whole_topic():
    d = _discovery(producers=(1, 2))
    d.on_connected(1)
    d.on_subtopics(1, SubtopicProposal(producer_id=1, request_id=1, labels=["Gardens", "Piers"]))
    window = d.partitions.window
    # Gardens saturates: its producer shares Piers (no idle sub-topic) and round 2 is asked
    effects = d.on_batch(1, _batch("Gardens", [], extra=window), [])
    retire = [e for e in _event(effects, s.EVENT_PARTITION) if e[s.PARTITION_ACTION] == "retire"]
    assert retire and retire[0][s.PARTITION_LABEL] == "Gardens"
    requests = [u for _, u in effects.updates if isinstance(u, ProposeSubtopics)]
    assert [r.request_id for r in requests] == [2]
    assert requests[0].exclude == ["Gardens", "Piers"]
    effects = d.on_subtopics(
        1, SubtopicProposal(producer_id=1, request_id=2, labels=["Docks", "Piers"])
    )
    assert json.loads(_event(effects, s.EVENT_SUBTOPICS_PROPOSED)[0][s.SUBTOPICS_LABELS]) == [
        "Docks"
    ]  # a label already used is not proposed twice
    assert list(_partitions_sent(effects).values()) == ["Docks"]  # Piers' extra producer moves
    # both saturate: nothing active, a round 3 is asked, producers go to the whole topic
    d.on_batch(1, _batch("Docks", [], extra=window), [])
    effects = d.on_batch(2, _batch("Piers", [], extra=window), [])
    assert d.partitions.partition_of(1) == d.partitions.partition_of(2) == ""
    assert d.subtopics.pending is not None and d.subtopics.pending.round == 3
    d.subtopics_timeout(3)
    assert d.subtopics.request(1) is None  # at most 3 rounds


def test_a_subtopic_whose_found_items_outgrow_the_avoid_list_is_retired():
    d = _discovery(producers=(1, 2), avoid_budget=10)  # 40 characters of avoid list
    d.on_connected(1)
    d.on_subtopics(1, SubtopicProposal(producer_id=1, request_id=1, labels=["Gardens", "Piers"]))
    items = [f"Golden Garden {i}" for i in range(4)]
    effects = d.on_batch(1, _batch("Gardens", items), items)
    [retire] = [e for e in _event(effects, s.EVENT_PARTITION) if e[s.PARTITION_ACTION] == "retire"]
    assert retire[s.PARTITION_LABEL] == "Gardens" and "no letters" in retire[s.PARTITION_DETAIL]


@pytest.mark.parametrize(
    "fail",
    [
        lambda d: d.on_subtopics(
            1, SubtopicProposal(producer_id=1, request_id=1, error="ProviderError: down")
        ),
        lambda d: d.on_subtopics(1, SubtopicProposal(producer_id=1, request_id=1, labels=[])),
        lambda d: d.subtopics_timeout(1),
        lambda d: d.producer_gone(1),
    ],
    ids=["error", "no-labels", "timeout", "producer-gone"],
)
def test_a_failed_first_round_falls_back_to_letters(fail):
    d = _discovery()
    d.on_connected(1)
    effects = fail(d)
    [failed] = _event(effects, s.EVENT_SUBTOPICS_FAILED)
    assert failed[s.SUBTOPICS_FALLBACK] == "letters" and failed[s.SUBTOPICS_REASON]
    sent = _partitions_sent(effects)
    assert set(sent) == {1, 2, 3} and all(
        "-" in label or len(label) == 1 for label in sent.values()
    )
    assert d.summary()["subtopics"]["fallback"] == failed[s.SUBTOPICS_REASON]
    assert d.subtopics.pending is None
    # nothing more happens on a late answer or a second timeout
    assert d.subtopics_timeout(1).events == []


def test_planner_bounds_rounds_and_ignores_other_producers():
    p = SubtopicPlanner(3, max_rounds=2, clock=lambda: 0.0)
    assert p.count == 6
    assert p.request(1) is not None and p.request(2) is None
    assert p.answer(2, SubtopicProposal(producer_id=2, request_id=1, labels=["X y z"])) is None
    assert (
        p.answer(1, SubtopicProposal(producer_id=1, request_id=1, labels=["Abc"])).status
        == "proposed"
    )
    assert p.request(1) is not None and p.fail(2, "timeout") is not None
    assert p.request(1) is None


def test_letters_mode_is_unchanged_and_has_no_planner():
    d = Discovery(LeverConfig(), [1, 2, 3], request_size=30, open_ended=False)
    assert d.subtopics is None and d.on_connected(1).updates == []
    assert len(d.partitions.partitions) == 3
    manager = PartitionManager([1, 2, 3], threshold=0.02, window=100, letters=False)
    assert manager.partitions == {} and manager.partition_of(1) == ""


# ------------------------------------------------------------------ configuration
def test_partition_by_option(tmp_path, capsys):
    _, config = parse_config(
        ["--topic", "T", "--output", str(tmp_path), "--partition-by", "subtopics"]
    )
    assert config is not None and config.levers.partition_by == "subtopics"
    assert "subtopics" in config.levers.enabled()
    _, config = parse_config(["--topic", "T", "--output", str(tmp_path)])
    assert config is not None and config.levers.partition_by == "letters"
    assert "subtopics" not in config.levers.enabled()
    with pytest.raises(ConfigError, match="unknown partitioning"):
        build_run_config(topic="T", output=tmp_path, levers=LeverConfig(partition_by="words"))
    with pytest.raises(ConfigError, match="needs partitions"):
        build_run_config(
            topic="T",
            output=tmp_path,
            levers=LeverConfig(partition_by="subtopics", partitions=False),
        )
    code = orchestrator_main(["--topic", "T", "--output", str(tmp_path), "--partition-by", "words"])
    assert code == 2 and "invalid choice" in capsys.readouterr().err
    # web mode takes it for every run, validated before anything starts
    code = orchestrator_main(
        ["--partition-by", "subtopics", "--no-partitions", "--control-port", "0"]
    )
    assert code == 2 and "needs partitions" in capsys.readouterr().err
