"""The oracle against hand-made ledgers and spans: each check passes on truth and fails on
the bug it exists for (tester/oracle)."""

from __future__ import annotations

import itertools

import pytest

from tester.collector import Span
from tester.fake_llm.ledger import Candidate, Ledger, Line
from tester.oracle import Oracle, OracleFailure, assert_no_secrets

PORT = 4242
_ids = itertools.count(1)


def span(name, start, end, parent=None, status="OK", producer=1, **attributes) -> Span:
    return Span(
        trace_id="t" * 32, span_id=f"{next(_ids):016x}", parent_span_id=parent, name=name,
        kind="CLIENT" if name.startswith("chat") else "INTERNAL",
        start_ns=int(start * 1e9), end_ns=int(end * 1e9), status=status, status_message="",
        attributes=attributes, resource={"service.name": "producer", "producer.id": producer},
    )  # fmt: skip


def ledger_with(*answers) -> Ledger:
    ledger = Ledger(f"127.0.0.1:{PORT}", "m", PORT)
    for arrival, outcome, status, names, retry_after in answers:
        entry = ledger.open({"arrival": arrival, "client": "c", "path": "/v1/chat/completions",
                             "headers": {}, "asked": {"kind": "items", "avoid": []}})  # fmt: skip
        entry.outcome, entry.status, entry.answered = outcome, status, arrival + 0.01
        entry.retry_after = retry_after
        if outcome == "ok":
            entry.response_model, entry.usage = "m-2026", {"input_tokens": 10, "output_tokens": 5}
            entry.lines = [Line(x, "item", "plain", [Candidate(x, x)]) for x in names]
            entry.lines.append(Line("Here are some:", "noise", "preamble"))
    return ledger


def cycle_with_chat(start, *, ok=True, model="m-2026", producer=1, candidates=2, batch=True,
                    error_type=None, avoid=0):  # fmt: skip
    claims = {"generation.candidates": candidates, "generation.avoid_items": avoid}
    cycle = span("generation.cycle", start - 0.01, start + 0.2, producer=producer, **claims)
    attrs = {"server.port": PORT}
    if ok:
        attrs |= {"gen_ai.response.model": model, "gen_ai.usage.input_tokens": 10,
                  "gen_ai.usage.output_tokens": 5}  # fmt: skip
    else:
        attrs["error.type"] = error_type
    chat = span("chat m", start - 0.005, start + 0.1, cycle.span_id,
                "OK" if ok else "ERROR", producer, **attrs)  # fmt: skip
    out = [cycle, chat]
    if batch and ok:
        out.append(span("batch.receive", start + 0.15, start + 0.16, cycle.span_id))
    return out


def test_truth_passes_and_every_item_must_be_in_the_file(tmp_path):
    ledger = ledger_with((1.0, "ok", 200, ["Old Tower", "Blue Canal"], None))
    spans = cycle_with_chat(1.0)
    oracle = Oracle(None, [ledger], spans=spans)
    oracle.assert_matched().assert_timing().assert_parsed()
    good = tmp_path / "good.txt"
    good.write_text("Old Tower\nBlue Canal\n")
    oracle.assert_no_silent_loss(good).assert_no_junk(good)
    lost = tmp_path / "lost.txt"
    lost.write_text("Old Tower\n")
    with pytest.raises(OracleFailure, match=r"not in lost\.txt"):
        oracle.assert_no_silent_loss(lost)
    junk = tmp_path / "junk.txt"
    junk.write_text("Old Tower\nBlue Canal\nHere are some\n")
    with pytest.raises(OracleFailure, match="no item the model served"):
        oracle.assert_no_junk(junk)
    twice = tmp_path / "twice.txt"
    twice.write_text("Old Tower\nBlue Canal\nold tower\n")
    with pytest.raises(OracleFailure, match="more than once"):
        oracle.assert_no_silent_loss(twice)


def test_wrong_response_model_or_candidate_count_is_caught():
    ledger = ledger_with((1.0, "ok", 200, ["Old Tower", "Blue Canal"], None))
    with pytest.raises(OracleFailure, match="have no chat span reporting that answer"):
        Oracle(None, [ledger], spans=cycle_with_chat(1.0, model="m")).assert_matched()
    with pytest.raises(OracleFailure, match="parsed 1 candidate"):
        Oracle(None, [ledger], spans=cycle_with_chat(1.0, candidates=1)).assert_parsed()


def test_a_span_the_server_never_answered_is_caught():
    ledger = ledger_with((1.0, "ok", 200, ["Old Tower"], None))
    spans = cycle_with_chat(1.0, candidates=1) + cycle_with_chat(3.0)
    with pytest.raises(OracleFailure, match="match no request the server saw"):
        Oracle(None, [ledger], spans=spans).assert_matched()


def test_retry_after_and_breaker_cooldown_on_the_servers_clock():
    ledger = ledger_with((1.0, "429", 429, [], 0.5), (1.3, "ok", 200, ["Old Tower"], None))
    spans = cycle_with_chat(1.0, ok=False, error_type="429") + cycle_with_chat(1.3, candidates=1)
    oracle = Oracle(None, [ledger], spans=spans).assert_matched()
    with pytest.raises(OracleFailure, match=r"after a Retry-After of 0\.5s"):
        oracle.assert_timing()
    waited = ledger_with((1.0, "429", 429, [], 0.2), (1.3, "ok", 200, ["Old Tower"], None))
    Oracle(None, [waited], spans=spans).assert_matched().assert_timing()
    fails = ledger_with(*((1.0 + i * 0.3, "500", 500, [], None) for i in range(3)))
    spans = [s for i in range(3) for s in cycle_with_chat(1.0 + i * 0.3, ok=False,
                                                          error_type="500")]  # fmt: skip
    oracle = Oracle(None, [fails], spans=spans).assert_matched()
    oracle.assert_timing(breaker_failures=3, breaker_cooldown=0.2)
    with pytest.raises(OracleFailure, match="circuit breaker"):
        oracle.assert_timing(breaker_failures=2, breaker_cooldown=1.0)


def test_secret_scan_finds_a_key_in_spans_and_files(tmp_path):
    secret = "sk-test-abcdef123456"
    clean = [span("chat m", 1, 2, **{"server.port": 1})]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_text("all fine\n")
    assert assert_no_secrets([secret], clean, [tmp_path]) > 0
    leaky = [span("chat m", 1, 2, **{"http.header": f"Bearer {secret}"})]
    with pytest.raises(AssertionError, match="span chat m"):
        assert_no_secrets([secret], leaky, [tmp_path])
    (tmp_path / "logs" / "b.log").write_text(f"key={secret}\n")
    with pytest.raises(AssertionError, match=r"b\.log"):
        assert_no_secrets([secret], clean, [tmp_path])
    with pytest.raises(ValueError):
        assert_no_secrets(["short"], clean, [tmp_path])


def test_attempt_events_are_read_and_joined_by_response_id():
    """The levers schema: one chat span per request, an llm.attempt event per HTTP attempt."""
    from tester.collector.spans import SpanEvent

    ledger = ledger_with((1.0, "500", 500, [], None), (1.2, "ok", 200, ["Old Tower"], None))
    ledger.config["name"] = "fake"
    ledger.entries[1].response_id = "chatcmpl-1"
    cycle = span("generation.cycle", 0.9, 1.5, **{"generation.candidates": 1})
    events = (
        SpanEvent("llm.attempt", int(1.05e9), {"llm.provider": "fake", "error.type": "500"}),
        SpanEvent("llm.attempt", int(1.3e9), {"llm.provider": "fake"}),
    )
    attrs = {"gen_ai.response.model": "m-2026", "gen_ai.usage.input_tokens": 10,
             "gen_ai.usage.output_tokens": 5, "gen_ai.response.id": "chatcmpl-1"}  # fmt: skip
    chat = span("chat m", 0.95, 1.35, cycle.span_id, **attrs)
    chat = Span(**{**chat.__dict__, "events": events})
    batch = span("batch.receive", 1.4, 1.41, cycle.span_id)
    oracle = Oracle(None, [ledger], spans=[cycle, chat, batch])
    oracle.assert_matched().assert_timing().assert_parsed()
    assert [a.error_type for a in oracle.attempts] == ["500", None]
    wrong = Span(**{**chat.__dict__, "attributes": {**attrs, "gen_ai.response.id": "other"}})
    with pytest.raises(OracleFailure):
        Oracle(None, [ledger], spans=[cycle, wrong, batch]).assert_matched()


def test_sampling_settings_the_server_got_are_checked():
    ledger = ledger_with((1.0, "ok", 200, ["Old Tower", "Blue Canal"], None))
    ledger.config["name"] = "fake"
    ledger.entries[0].sampling = {"temperature": 0.4, "top_p": 0.9}
    oracle = Oracle(None, [ledger], spans=cycle_with_chat(1.0))
    oracle.assert_sampling({"fake": {"temperature": 0.4, "top_p": 0.9}})
    with pytest.raises(OracleFailure, match=r"top_p=0\.9, the configuration says 0\.5"):
        oracle.assert_sampling({"fake": {"top_p": 0.5}})


def _shared_run(foreign: bool) -> Oracle:
    """Two producers, 4 answers each; producer 2's later prompts avoid producer 1's finds
    (``foreign``) or only its own."""
    answers, spans = [], []
    for i in range(8):
        producer, t = 1 + i % 2, 1.0 + i * 0.5
        answers.append((t, "ok", 200, [f"Item {i} A", f"Item {i} B"], None))
        spans += cycle_with_chat(t, producer=producer, avoid=1 if i >= 2 else 0)
    ledger = ledger_with(*answers)
    for i, entry in enumerate(ledger.entries):
        if i >= 2:
            source = i - 1 if foreign else i - 2  # the other producer's or its own answer
            entry.asked["avoid"] = [f"Item {source} A"]
    return Oracle(None, [ledger], spans=spans)


def test_shared_state_means_avoid_lists_name_other_producers_finds():
    _shared_run(foreign=True).assert_prompts(shared_state=True)
    with pytest.raises(OracleFailure, match="another producer found"):
        _shared_run(foreign=False).assert_prompts(shared_state=True)


def _cancelled_cycle(start, end):
    """A cycle cut off by a stop: no generation.* claims, a chat span with a cancelled attempt."""
    from tester.collector.spans import SpanEvent

    cycle = span("generation.cycle", start - 0.01, end)
    chat = span("chat m", start, end, cycle.span_id, "UNSET", **{"llm.cancelled": True})
    event = SpanEvent("llm.attempt", int(end * 1e9),
                      {"llm.provider": "fake", "error.type": "cancelled"})  # fmt: skip
    return [cycle, Span(**{**chat.__dict__, "events": (event,)})]


def test_a_request_cancelled_by_a_stop_matches_whatever_the_server_did():
    # answered after the cancel, answered before it (unread), never seen: all fine
    for arrival in (1.195, 1.0):  # answered at 1.205 (after the cancel at 1.2), at 1.01
        ledger = ledger_with((arrival, "ok", 200, ["Old Tower"], None))
        ledger.config["name"] = "fake"
        ledger.entries[0].asked["avoid"] = ["Blue Canal"]  # the cycle never said what it asked
        Oracle(None, [ledger], spans=_cancelled_cycle(1.0, 1.2)).assert_matched()
    unseen = ledger_with()
    unseen.config["name"] = "fake"
    Oracle(None, [unseen], spans=_cancelled_cycle(1.0, 1.2)).assert_matched()


def test_attributes_jsonl_counts_are_the_ledgers(tmp_path):
    import json

    ledger = ledger_with(
        (1.0, "ok", 200, ["Old Tower", "Blue Canal"], None),
        (2.0, "ok", 200, ["Old Tower"], None),
    )
    ledger.config["name"] = "fake"
    spans = cycle_with_chat(1.0) + cycle_with_chat(2.0, producer=2, candidates=1)
    oracle = Oracle(None, [ledger], spans=spans)
    jsonl = tmp_path / "attributes.jsonl"

    def write(old_tower, blue_canal):
        rows = [("Old Tower", *old_tower), ("Blue Canal", *blue_canal)]
        jsonl.write_text("".join(json.dumps({"display": d, "key": "0", "sightings": s,
                                             "producers": p, "providers": v}) + "\n"
                                 for d, s, p, v in rows))  # fmt: skip

    write((2, 2, 1), (1, 1, 1))
    oracle.assert_support(jsonl)
    write((1, 1, 1), (1, 1, 1))  # a repeat not counted
    said = r"'Old Tower' says \(1, 1, 1\), the ledger \(2, 2, 1\)"
    with pytest.raises(OracleFailure, match=said):
        oracle.assert_support(jsonl)
    oracle.assert_support(jsonl, exact=False)  # fewer is fine after a crash
    write((3, 2, 1), (1, 1, 1))
    with pytest.raises(OracleFailure, match="more than served"):
        oracle.assert_support(jsonl, exact=False)


def test_an_answer_goes_to_the_span_with_its_response_id_not_to_a_cancelled_one():
    # a cancelled attempt may match any request in its time; the answer whose response id a
    # span reports is that span's, whatever order the matching tries them in
    from tester.collector.spans import SpanEvent

    ledger = ledger_with((1.0, "ok", 200, ["Old Tower"], None))
    ledger.config["name"] = "fake"
    ledger.entries[0].response_id = "chatcmpl-1"
    cancelled = _cancelled_cycle(0.9, 1.2)
    cycle = span("generation.cycle", 0.95, 1.3, **{"generation.candidates": 1,
                                                  "generation.provider": "fake"})  # fmt: skip
    attrs = {"gen_ai.response.model": "m-2026", "gen_ai.usage.input_tokens": 10,
             "gen_ai.usage.output_tokens": 5, "gen_ai.response.id": "chatcmpl-1"}  # fmt: skip
    chat = span("chat m", 0.96, 1.1, cycle.span_id, **attrs)
    event = SpanEvent("llm.attempt", int(1.1e9), {"llm.provider": "fake"})
    chat = Span(**{**chat.__dict__, "events": (event,)})
    for spans in ([*cancelled, cycle, chat], [cycle, chat, *cancelled]):
        oracle = Oracle(None, [ledger], spans=spans).assert_matched()
        assert [a.response_id for _, a in oracle.pairs()] == ["chatcmpl-1"]
