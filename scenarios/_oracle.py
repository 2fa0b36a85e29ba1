"""The tester's own model for discovery scenarios, and the oracle checks they all run.

A discovery scenario starts ``LocalFakeLLM`` servers (in this process, so
their ledgers are at hand), runs the orchestrator on them over the real
OpenAI-compatible HTTP path (``--provider env --llm ...``), dumps every
ledger into the artifacts (``ledgers/NAME.json``, recorded as facts, so
``--replay`` re-checks from them) and in ``check`` judges the run against
the ledgers with ``tester.oracle``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scenarios._files import assert_run_json
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.fake_llm import Ledger, LocalFakeLLM, NoiseConfig
from tester.oracle import Oracle, assert_no_secrets
from tester.scenario import ScenarioContext
from tester.topic import Topic

#: the noise every discovery scenario's model wraps its items in (``TESTER_NOISE`` overrides)
NOISE = os.environ.get("TESTER_NOISE", "all")
NOISE_RATE = 0.25


def fake_model(name: str, **options: Any) -> LocalFakeLLM:
    options.setdefault("noise", NoiseConfig.parse(NOISE, NOISE_RATE))
    return LocalFakeLLM(name=name, **options).start()


def llm_spec(server: LocalFakeLLM, weight: float = 1, **fields: object) -> list[str]:
    spec = f"name={server.name},base_url={server.base_url},model={server.model},weight={weight}"
    spec += "".join(f",{key}={value}" for key, value in fields.items())
    return ["--llm", spec]


def config_on(
    ctx: ScenarioContext,
    topic: str,
    llm_args: Sequence[str],
    *,
    producers: int = 3,
    iterations: int | None = 10,
    request_size: int = 60,
    extra: Sequence[str] = (),
    output_dir: Path | None = None,
) -> OrchestratorConfig:
    """An orchestrator configuration on exactly these ``--llm`` endpoints (an empty env
    file, so no real key is picked up)."""
    return OrchestratorConfig(
        topic=topic,
        producers=producers,
        iterations=iterations,
        request_size=request_size,
        provider="env",
        output_dir=output_dir,
        extra_args=[*llm_args, "--env-file", str(ctx.workdir / "no.env"), *extra],
    )


def save_ledgers(ctx: ScenarioContext, servers: Sequence[LocalFakeLLM], group: str = "") -> None:
    """Dump each server's ledger into the artifacts; facts ``ledgers[:group]`` list them."""
    paths = []
    for server in servers:
        path = ctx.workdir / "ledgers" / f"{group + '-' if group else ''}{server.name}.json"
        ctx.fact_path("_tmp", server.ledger.dump(path))
        paths.append(str(ctx.facts["_tmp"]))  # relative: a copied artifacts folder replays
    ctx.facts.pop("_tmp", None)
    ctx.fact(f"ledgers:{group}" if group else "ledgers", paths)


def ledgers(ctx: ScenarioContext, group: str = "") -> list[Ledger]:
    key = f"ledgers:{group}" if group else "ledgers"
    return [Ledger.load(ctx.workdir / p) for p in ctx.facts[key]]


def judge(
    ctx: ScenarioContext,
    topic: Topic,
    attributes: Path,
    group: str = "",
    *,
    spans: list[Any] | None = None,
    excuse: Sequence[tuple[float, float]] = (),
    breaker: tuple[int, float] | None = None,
    levers: dict[str, Any] | None = None,
    loss: bool = True,
    support: bool | None = True,
    run_json: bool = True,
) -> Oracle:
    """The oracle checks every discovery scenario runs; returns the oracle for more.

    ``support``: attributes.jsonl beside ``attributes`` is judged against the ledger,
    exactly (True), as upper bounds (False: a resumed run), or not at all (None).
    ``run_json``: run.json beside ``attributes`` is judged against the trace and the file
    (False where ``topic`` is not the run that wrote it last)."""
    oracle = Oracle(topic, ledgers(ctx, group), spans=spans)
    oracle.assert_matched(excuse=excuse)
    failures, cooldown = breaker if breaker else (None, None)
    oracle.assert_timing(breaker_failures=failures, breaker_cooldown=cooldown)
    oracle.assert_parsed()
    if loss:
        oracle.assert_no_silent_loss(attributes)
    oracle.assert_no_junk(attributes)
    oracle.assert_prompts(**(levers or {}))
    oracle.assert_avoid_known(attributes)
    if support is not None:  # None: no attributes.jsonl to judge; False: at most (resumed)
        oracle.assert_support(attributes.with_suffix(".jsonl"), exact=support)
    if run_json:
        assert_run_json(topic, attributes)
    counts = oracle.status_counts()
    served = sum(1 for e in oracle.served_entries())
    ctx.note(
        f"oracle {topic.name!r}: {len(oracle.pairs())} requests matched to chat spans "
        f"({readable(counts)}), {served} answers, {len(oracle.served_keys())} distinct items served"
    )
    return oracle


def scan_secrets(ctx: ScenarioContext, secrets: Sequence[str]) -> None:
    """Secret truth: none of ``secrets`` in any span, log, output or ledger of the run."""
    read = assert_no_secrets(secrets, ctx.store.all(), [ctx.workdir])
    ctx.note(
        f"secret scan: no leak; {_plural(len(secrets), 'secret value')} (API keys) searched for "
        f"in {read} span values and files, found in none"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def readable(value: object) -> str:
    """A note's value for people: ``{'a': {'ok': 3}, 'b': 1}`` -> ``a (ok 3), b 1``."""
    if isinstance(value, dict):
        return ", ".join(
            f"{k} ({readable(v)})" if isinstance(v, dict) else f"{k} {readable(v)}"
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value)
    return "none" if value is None else str(value)


def set_env(constellation: ServiceConstellation, **values: str) -> None:
    constellation.env.update(values)
