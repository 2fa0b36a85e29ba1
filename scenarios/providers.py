"""Two OpenAI-compatible fake models, weights 3:1: traffic splits by weight (by their ledgers),
GenAI attributes equal what each server answered, one API key never leaks."""

from __future__ import annotations

import json
from collections import Counter

from scenarios import _oracle as o
from scenarios._providers import chat_spans
from tester import schema as n
from tester.scenario import ScenarioContext

TOPIC = "Lisbon viewpoints"
WEIGHTS = {"alpha": 3.0, "beta": 1.0}
PRODUCERS, ITERATIONS = 4, 15
LLM_STATS = "producer.llm_stats"
GENAI_ATTRIBUTES = (
    n.GENAI_OPERATION_NAME,
    n.GENAI_PROVIDER_NAME,
    n.GENAI_REQUEST_MODEL,
    n.GENAI_RESPONSE_MODEL,
    n.GENAI_INPUT_TOKENS,
    n.GENAI_OUTPUT_TOKENS,
    n.GENAI_FINISH_REASONS,
    n.SERVER_ADDRESS,
    n.SERVER_PORT,
)


SECRET = "sk-alpha-5f1e2d3c4b5a69788796a5b4"
SAMPLING_ALPHA = {"temperature": 0.4, "top_p": 0.9}


def run(ctx: ScenarioContext) -> None:
    alpha = o.fake_model(
        "alpha", model="model-alpha", latency_ms=10, api_key=SECRET,
        response_model="model-alpha-2026-01-15",
    )  # fmt: skip
    beta = o.fake_model("beta", model="model-beta", latency_ms=10)
    try:
        llm = [
            *o.llm_spec(alpha, WEIGHTS["alpha"], key_env="ALPHA_KEY", **SAMPLING_ALPHA),
            *o.llm_spec(beta, WEIGHTS["beta"]),
        ]
        config = o.config_on(ctx, TOPIC, llm, producers=PRODUCERS, iterations=ITERATIONS)
        constellation = ctx.constellation()
        o.set_env(constellation, ALPHA_KEY=SECRET)
        orchestrator = constellation.start_orchestrator(config)
        ctx.fact_path("attributes", constellation.output_dir_for(config) / "attributes.txt")
        ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
        ctx.fact("orchestrator_log", str(orchestrator.log_path))
        ctx.fact("server_stats", {"model-alpha": alpha.stats(), "model-beta": beta.stats()})
    finally:
        alpha.stop()
        beta.stop()
        o.save_ledgers(ctx, [alpha, beta])


def check(ctx: ScenarioContext) -> None:
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))
    code = ctx.facts["exit_code"]
    assert code == 0, f"orchestrator exited with {code}; log {ctx.facts['orchestrator_log']}"

    calls = chat_spans(topic)
    # one chat span per request, each with its llm.attempt events (one here: no faults)
    assert len(calls) == PRODUCERS * ITERATIONS, topic.evidence(calls[:5])
    attempts = [len([e for e in c.events if e.name == n.EVENT_ATTEMPT]) for c in calls]
    assert set(attempts) == {1}, f"attempt events per chat span: {Counter(attempts)}"
    missing = [c for c in calls if any(c.attr(k) is None for k in GENAI_ATTRIBUTES)]
    assert not missing, "chat spans without every GenAI attribute:\n" + topic.evidence(missing[:5])

    # every producer chose with the configured weights (before judging the split they gave)
    producer_stats = [json.loads(str(r.attr(LLM_STATS, "{}"))) for r in topic.spans(n.PRODUCER_RUN)]
    weights = [{name: numbers.get("weight") for name, numbers in p.items()} for p in producer_stats]
    assert all(w == WEIGHTS for w in weights), f"producers' weights {weights} != {WEIGHTS}"

    by_model = Counter(str(c.attr(n.GENAI_REQUEST_MODEL)) for c in calls)
    share = by_model["model-alpha"] / len(calls)
    expected = WEIGHTS["alpha"] / sum(WEIGHTS.values())
    ctx.note(
        f"traffic split: {o.readable(dict(by_model))} "
        f"(alpha {share:.0%}, weight share {expected:.0%})"
    )
    # 60 calls, p = 0.75: the standard deviation of the share is 0.056; allow ~3.5 of them
    assert abs(share - expected) <= 0.2, (
        f"traffic split {dict(by_model)} is not ~3:1 although every producer chose with "
        f"weights {WEIGHTS}; per producer: {producer_stats}"
    )
    assert by_model["model-beta"] > 0, f"beta got no traffic: {dict(by_model)}"

    # each producer's own per-provider statistics agree with the spans
    reported: Counter[str] = Counter()
    for stats_of_one in producer_stats:
        for name, numbers in stats_of_one.items():
            reported[name] += int(numbers["requests"])
    by_name = Counter(str(c.attr(n.GENAI_PROVIDER_NAME)) for c in calls)
    assert reported == by_name, f"producer.llm_stats {dict(reported)} != spans {dict(by_name)}"

    stats = ctx.facts["server_stats"]
    for model, served in stats.items():
        spans = [c for c in calls if c.attr(n.GENAI_REQUEST_MODEL) == model]
        tokens_in = sum(int(c.attr(n.GENAI_INPUT_TOKENS)) for c in spans)
        tokens_out = sum(int(c.attr(n.GENAI_OUTPUT_TOKENS)) for c in spans)
        assert served["requests"] == len(spans), f"{model}: served {served}, spans {len(spans)}"
        assert (tokens_in, tokens_out) == (served["input_tokens"], served["output_tokens"]), (
            f"{model}: tokens on spans {tokens_in}/{tokens_out}, server counted "
            f"{served['input_tokens']}/{served['output_tokens']}"
        )
    ctx.note(
        "tokens in/out: "
        + ", ".join(f"{m} {s['input_tokens']}/{s['output_tokens']}" for m, s in stats.items())
    )
    oracle = o.judge(ctx, topic, ctx.path("attributes"))
    oracle.assert_sampling({"alpha": SAMPLING_ALPHA})  # what the server really got
    shares = oracle.shares()  # what each server really served, from its own ledger
    assert abs(shares["alpha"] - expected) <= 0.2 and shares["beta"] > 0, (
        f"the servers' ledgers say they served {shares}, weights {WEIGHTS}"
    )
    o.scan_secrets(ctx, [SECRET])
    ctx.record(topic)
