"""Two ways to run that no other scenario takes: on a terminal (the live table) and with the
provider keys and settings of a .env file (a well-known provider, no --llm).

From README "Running the system": on a terminal the orchestrator shows a live table
(unique count, candidates, duplicate rate, unique/s, per-producer state) and exits 0
with its summary. From README "LLM providers": ``--env-file`` names the file of
provider keys and settings; ``OPENAI_API_KEY`` makes OpenAI take part, with
``OPENAI_BASE_URL`` and ``OPENAI_MODEL`` tuning it (here: the fake model, which asks
for that key); docs/tracing.md: its ``chat`` spans say ``gen_ai.provider.name``
``openai``; the key is in no span, log or file. The .env run is judged against the
fake model's ledger like every discovery run.
"""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scenarios import _oracle as o
from scenarios._helpers import run_on_pty
from tester import schema as n
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.scenario import ScenarioContext

TERMINAL = "Terminal harbours"
DOTENV = "Dotenv harbours"
SECRET = "sk-dotenv-8b7a6c5d4e3f2a1b0c9d"
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]")


def _on_terminal(
    constellation: ServiceConstellation, argv: list[str], timeout: float
) -> dict[str, Any]:
    """Exit code and screen (control sequences removed) of ``argv`` on a terminal."""
    code, raw = run_on_pty(argv, constellation.env, timeout)
    return {"exit": code, "screen": CONTROL.sub("", raw)[-20000:]}


def run(ctx: ScenarioContext) -> None:
    term = ctx.constellation("terminal")
    output = term.workdir / "output"
    argv = [
        *term.orchestrator_command(), "--topic", TERMINAL, "--producers", "2",
        "--iterations", "8", "--sim-latency-ms", "150", "--output", str(output),
        *(["--trace-ep", term.trace_endpoint] if term.trace_endpoint else []),
    ]  # fmt: skip
    ctx.fact_path(TERMINAL, output / "attributes.txt")

    model = o.fake_model("openai", api_key=SECRET)  # the ledger pairs by provider name
    keys = tempfile.TemporaryDirectory()  # outside the artifacts: the secret scan reads those
    try:
        env_file = Path(keys.name) / "providers.env"
        env_file.write_text(
            f"OPENAI_API_KEY={SECRET}\nOPENAI_BASE_URL={model.base_url}\n"
            f"OPENAI_MODEL={model.model}\n",
            encoding="utf-8",
        )
        config: OrchestratorConfig = o.config_on(
            ctx, DOTENV, [], producers=2, iterations=6, extra=["--env-file", str(env_file)]
        )
        dotenv = ctx.constellation("dotenv")
        with ThreadPoolExecutor(1) as pool:
            on_terminal = pool.submit(_on_terminal, term, argv, ctx.timeout)
            orchestrator = dotenv.start_orchestrator(config)
            ctx.fact_path(DOTENV, dotenv.output_dir_for(config) / "attributes.txt")
            ctx.fact("dotenv_exit", orchestrator.wait(timeout=ctx.timeout))
            ctx.fact("terminal", on_terminal.result())
    finally:
        keys.cleanup()
        model.stop()
        o.save_ledgers(ctx, [model])


def check(ctx: ScenarioContext) -> None:
    terminal = ctx.facts["terminal"]
    assert terminal["exit"] == 0, (
        f"on a terminal: exit {terminal['exit']}\n{terminal['screen'][-1500:]}"
    )
    screen = terminal["screen"].lower()
    missing = [w for w in ("unique", "candidates", "producer") if w not in screen]
    assert not missing, f"the live table shows no {missing}:\n{terminal['screen'][-1500:]}"
    topic = ctx.topic(TERMINAL)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    # the summary it prints at the end says what the trace says
    for label, want in (("unique", topic.unique_count), ("candidates", topic.candidate_count)):
        said = re.findall(rf"^\s*{label}:\s+([\d,]+)", terminal["screen"], flags=re.M)
        assert said and int(said[-1].replace(",", "")) == want, (
            f"the summary's {label}: {said[-1:]}, the trace says {want}"
        )
    topic.assert_file_matches(ctx.path(TERMINAL))
    ctx.record(topic)

    assert ctx.facts["dotenv_exit"] == 0, f"the .env run exited {ctx.facts['dotenv_exit']}"
    topic = ctx.topic(DOTENV)
    topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
    topic.assert_file_matches(ctx.path(DOTENV))
    names = {s.attr(n.GENAI_PROVIDER_NAME) for s in topic.spans(prefix=n.CHAT_PREFIX)}
    assert names == {"openai"}, f"chat spans of the OPENAI_* provider say {names}"
    o.judge(ctx, topic, ctx.path(DOTENV))
    o.scan_secrets(ctx, [SECRET])
    ctx.record(topic)
