"""CLI mode on the fake model: 3 producers x 10 iterations complete, judged by its ledger."""

from __future__ import annotations

from scenarios import _files as files
from scenarios import _oracle as o
from tester.scenario import ScenarioContext

TOPIC = "Paris attractions"
SECRET = "sk-basic-0123456789abcdef"


def run(ctx: ScenarioContext) -> None:
    model = o.fake_model("fake", api_key=SECRET, response_model="fake-model-2026-01-15")
    try:
        # --no-adaptive: every lever on every prompt, so the prompts' truth is strict
        config = o.config_on(
            ctx, TOPIC, o.llm_spec(model, key_env="FAKE_LLM_KEY"), extra=["--no-adaptive"]
        )
        constellation = ctx.constellation()
        o.set_env(constellation, FAKE_LLM_KEY=SECRET)
        orchestrator = constellation.start_orchestrator(config)
        host, port = constellation.orchestrator_address or ("?", 0)
        ctx.note(f"orchestrator listening on {host}:{port}")
        output = constellation.output_dir_for(config)
        ctx.fact_path("attributes", output / "attributes.txt")
        ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
        ctx.fact("orchestrator_log", str(orchestrator.log_path))
        files.run_exports(ctx, output, constellation.env)
    finally:
        model.stop()
        o.save_ledgers(ctx, [model])


def check(ctx: ScenarioContext) -> None:
    topic = ctx.topic(TOPIC)
    topic.assert_completed()
    topic.assert_no_errors()
    topic.assert_llm_calls()
    topic.assert_counts_consistent()
    topic.assert_min_attributes(20)
    topic.assert_file_matches(ctx.path("attributes"))
    code = ctx.facts["exit_code"]
    assert code == 0, f"orchestrator exited with {code}; log {ctx.facts['orchestrator_log']}"
    o.judge(
        ctx, topic, ctx.path("attributes"),
        levers={"partitions": True, "shared_state": True, "avoid_budget_tokens": 400},
    )  # fmt: skip
    o.scan_secrets(ctx, [SECRET])
    files.assert_exports(ctx, ctx.path("attributes").with_suffix(".jsonl"))
    ctx.record(topic)
