"""The fake model's ledger over real HTTP: in-process (LocalFakeLLM) and as a subprocess."""

import json
import urllib.request

from tester.fake_llm import FakeLLMServer, LocalFakeLLM, NoiseConfig

PROMPT = (
    "You are enumerating every distinct item of a topic, as exhaustively as possible.\n"
    "Topic: Rome fountains\nFocus on this part of the topic: A-M\n"
    "List 12 distinct items, one per line, with no numbering and no commentary.\n"
    "Do not repeat any of these already-found items:\n- Old Tower\n- Blue Canal"
)


def _chat(base_url: str, key: str | None = None) -> dict:
    body = json.dumps({"model": "asked", "temperature": 0.7,
                       "messages": [{"role": "user", "content": PROMPT}]}).encode()  # fmt: skip
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(base_url + "/chat/completions", body, headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_local_server_records_request_answer_and_line_truth():
    key = "sk-local-0123456789"
    with LocalFakeLLM(model="m", api_key=key, response_model="m-2026-01-01", universe=50,
                      noise=NoiseConfig.parse("all", 0.5), seed=3) as llm:  # fmt: skip
        answer = _chat(llm.base_url, key)
        entry = llm.ledger.entries[0]
    assert answer["model"] == "m-2026-01-01" == entry.response_model
    assert entry.response_id == answer["id"]
    assert entry.headers["authorization"] == "<redacted>"
    assert entry.requested_model == "asked" and entry.sampling == {"temperature": 0.7}
    assert entry.asked["partition"] == "A-M" and entry.asked["avoid"] == ["Old Tower", "Blue Canal"]
    text = answer["choices"][0]["message"]["content"]
    assert text == "\n".join(line.text for line in entry.lines)
    assert entry.usage["output_tokens"] == answer["usage"]["completion_tokens"]
    assert {line.label for line in entry.lines} <= {"item", "noise"}
    assert entry.candidates(), "no item in the answer"


def test_subprocess_server_serves_its_ledger(tmp_path):
    with FakeLLMServer(model="m", noise="basic", universe=30, log_path=tmp_path / "f.log") as s:
        _chat(s.base_url)
        ledger = s.ledger()
    assert len(ledger.entries) == 1 and ledger.entries[0].served
    assert ledger.port == s.port


def _answers(seed: int | None, n: int = 4) -> list[str]:
    with LocalFakeLLM(
        model="m", universe=200, noise=NoiseConfig.parse("all", 0.5), seed=seed
    ) as llm:
        return [_chat(llm.base_url)["choices"][0]["message"]["content"] for _ in range(n)]


def test_the_same_seed_draws_the_same_answers_in_the_same_order():
    first = _answers(41)
    assert first == _answers(41)
    assert len(set(first)) > 1, "every request drew the same answer"
    assert first != _answers(42)


def test_the_run_seed_decides_every_servers_seed():
    from tester.fake_llm import seeding

    seeding.set_run_seed(7)
    same = (seeding.server_seed("a"), _answers(None))
    seeding.set_run_seed(7)
    assert (seeding.server_seed("a"), _answers(None)) == same
    assert seeding.server_seed("b") != same[0]
    seeding.set_run_seed(8)
    assert seeding.server_seed("a") != same[0]
