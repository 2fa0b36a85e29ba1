"""Helpers for the provider scenarios: fake servers and reading provider spans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tester import schema as n
from tester.collector.spans import Span, SpanEvent
from tester.constellation import ManagedProcess, OrchestratorConfig
from tester.fake_llm import FakeLLMServer
from tester.scenario import ScenarioContext
from tester.topic import Topic


def llm_option(name: str, server: FakeLLMServer, weight: float, **fields: object) -> list[str]:
    """``--llm`` for a fake server (no key: the fake servers do not ask for one)."""
    spec = f"name={name},base_url={server.base_url},model={server.model},weight={weight}"
    spec += "".join(f",{key}={value}" for key, value in fields.items())
    return ["--llm", spec]


def fake_server(workdir: Path, name: str, **options: Any) -> FakeLLMServer:
    return FakeLLMServer(log_path=workdir / "logs" / f"fake-llm-{name}.log", **options)


def start_with_providers(
    ctx: ScenarioContext, topic: str, producers: int, iterations: int, llm_args: list[str]
) -> ManagedProcess:
    """Start the orchestrator with ``--provider env`` on exactly these ``--llm`` endpoints
    (an empty env file, so no real key is picked up) and record where it writes."""
    config = OrchestratorConfig(
        topic=topic,
        producers=producers,
        iterations=iterations,
        provider="env",
        extra_args=[*llm_args, "--env-file", str(ctx.workdir / "no.env")],
    )
    constellation = ctx.constellation()
    orchestrator = constellation.start_orchestrator(config)
    ctx.fact_path("attributes", constellation.output_dir_for(config) / "attributes.txt")
    return orchestrator


def chat_spans(topic: Topic) -> list[Span]:
    return topic.spans(prefix=n.CHAT_PREFIX)


def events(topic: Topic, name: str) -> Iterator[tuple[Span, SpanEvent]]:
    """Every event of that name in the topic's trace, with its span, in time order."""
    found = [(span, e) for span in topic.all_spans() for e in span.events if e.name == name]
    found.sort(key=lambda pair: pair[1].time_ns)
    return iter(found)
