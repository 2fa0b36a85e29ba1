"""A real small LLM (SmolLM2-135M, llama_cpp.server, no key): trace checks and a truth-set score.

2 producers x 3 requests of 30 chemical elements. Skipped, with the reason, when the
``local-llm`` extra is not installed.
"""

from __future__ import annotations

from scenarios._providers import chat_spans
from tester import schema as n
from tester.constellation import OrchestratorConfig
from tester.local_llm import LocalLLM, unavailable_reason
from tester.scenario import ScenarioContext
from tester.truth import load, score_output

TRUTH_SET = "chemical-elements"
PRODUCERS, ITERATIONS, REQUEST_SIZE = 2, 3, 30
#: Floors honest for a 135M model in 6 requests of 30 (measured on this machine,
#: deterministic for a given build: the server samples from a fixed seed): the
#: defaults find 17 distinct elements in 23 lines (precision 0.74); the answers
#: are short and repeat each other. The floors catch a system that loses or
#: garbles real answers (before the real-output parser, the defaults wrote 14
#: lines of partition labels and prompt echoes: 0 valid), not the model's own
#: hallucinations.
MIN_VALID, MIN_PRECISION = 8, 0.5
#: the levers as users get them (the defaults)
LEVERS: list[str] = []


def run(ctx: ScenarioContext) -> None:
    reason = unavailable_reason()
    if reason:
        ctx.skip(reason)
    truth = load(TRUTH_SET)
    constellation = ctx.constellation()
    llm = LocalLLM(log_path=ctx.workdir / "logs" / "llama-server.log", ready_timeout=300)
    llm.start()
    assert llm.process is not None
    constellation.adopt(llm.process)  # stopped with the constellation, counted in leftovers
    ctx.note(f"llama server {llm.base_url} (model {llm.model}), log {llm.log_path}")
    ctx.fact("llm", {"model": llm.model, "port": llm.port, "log": str(llm.log_path)})
    config = OrchestratorConfig(
        topic=truth.topic,
        producers=PRODUCERS,
        iterations=ITERATIONS,
        provider="env",
        request_size=REQUEST_SIZE,
        extra_args=[
            # one request at a time on 2 shared cores: a queued request may wait minutes
            *llm.llm_option("smollm", timeout=300, max_tokens=512),
            "--env-file",
            str(ctx.workdir / "no.env"),  # no real key is picked up
            "--saturation",
            "0",
            *LEVERS,
        ],
    )
    orchestrator = constellation.start_orchestrator(config)
    output = constellation.output_dir_for(config)
    ctx.fact_path("output", output)
    ctx.fact_path("attributes", output / "attributes.txt")
    ctx.fact("exit_code", orchestrator.wait(timeout=max(ctx.timeout, 900)))
    ctx.fact("orchestrator_log", str(orchestrator.log_path))


def check(ctx: ScenarioContext) -> None:
    truth = load(TRUTH_SET)
    topic = ctx.topic(truth.topic)
    code = ctx.facts["exit_code"]
    assert code == 0, f"orchestrator exited with {code}; log {ctx.facts['orchestrator_log']}"
    topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))

    llm = ctx.facts["llm"]
    calls = chat_spans(topic)
    assert len(calls) >= PRODUCERS * ITERATIONS, (
        f"{len(calls)} chat spans for {PRODUCERS * ITERATIONS} requests\n" + topic.evidence(calls)
    )
    elsewhere = [
        c for c in calls
        if c.attr(n.GENAI_REQUEST_MODEL) != llm["model"] or c.attr(n.SERVER_PORT) != llm["port"]
    ]  # fmt: skip
    assert not elsewhere, (
        f"chat spans not addressed to the local server (model {llm['model']}, port "
        f"{llm['port']}):\n" + topic.evidence(elsewhere[:5])
    )
    no_usage = [
        c for c in calls
        if int(c.attr(n.GENAI_INPUT_TOKENS, 0)) <= 0 or int(c.attr(n.GENAI_OUTPUT_TOKENS, 0)) <= 0
    ]  # fmt: skip
    assert not no_usage, "chat spans without token usage:\n" + topic.evidence(no_usage[:5])

    # the truth we hold: the topic's universe, not the system's own count
    score = score_output(ctx.path("output"), truth)
    ctx.note(score.summary())
    ctx.note(f"found: {', '.join(score.found)}")
    assert score.requests == PRODUCERS * ITERATIONS, f"{score.requests} requests answered"
    assert score.valid >= MIN_VALID and score.precision >= MIN_PRECISION, (
        f"below the floor for this model (>= {MIN_VALID} valid, precision >= "
        f"{MIN_PRECISION}): {score.summary()}; invalid lines: {score.invalid_lines[:15]}"
    )
    ctx.record(topic)
