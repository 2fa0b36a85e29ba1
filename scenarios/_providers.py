"""Helpers for the provider scenarios: fake servers and reading provider spans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tester import schema as n
from tester.collector.spans import Span, SpanEvent
from tester.fake_llm import FakeLLMServer
from tester.topic import Topic


def llm_option(name: str, server: FakeLLMServer, weight: float, **fields: object) -> list[str]:
    """``--llm`` for a fake server (no key: the fake servers do not ask for one)."""
    spec = f"name={name},base_url={server.base_url},model={server.model},weight={weight}"
    spec += "".join(f",{key}={value}" for key, value in fields.items())
    return ["--llm", spec]


def fake_server(workdir: Path, name: str, **options: object) -> FakeLLMServer:
    return FakeLLMServer(log_path=workdir / "logs" / f"fake-llm-{name}.log", **options)  # type: ignore[arg-type]


def chat_spans(topic: Topic) -> list[Span]:
    return topic.spans(prefix=n.CHAT_PREFIX)


def events(topic: Topic, name: str) -> Iterator[tuple[Span, SpanEvent]]:
    """Every event of that name in the topic's trace, with its span, in time order."""
    found = [(span, e) for span in topic.all_spans() for e in span.events if e.name == name]
    found.sort(key=lambda pair: pair[1].time_ns)
    return iter(found)
