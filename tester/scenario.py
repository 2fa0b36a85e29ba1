"""What a scenario gets to work with: spans, facts, a work directory, constellations.

Live, ``collector`` receives the system's spans and ``store`` is its store. On
``--replay`` there is no collector and no system: ``store`` holds the spans of
``traces.otlp.json`` and ``facts`` the ``scenario.json`` of an earlier run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tester.collector import Collector, SpanStore
from tester.constellation import ServiceConstellation
from tester.topic import Topic

FACTS_FILE = "scenario.json"
SKIP_FACT = "skipped"


class ScenarioSkipped(Exception):
    """The scenario cannot run here (an optional extra is missing...): the reason is
    one line, and the verdict is "skipped", which fails nothing."""


@dataclass
class ScenarioContext:
    collector: Collector | None
    workdir: Path
    verbose: bool = False
    keep_running: bool = False
    timeout: float = 180.0
    constellations: list[ServiceConstellation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    topics: list[dict[str, object]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    replay: bool = False
    span_store: SpanStore | None = None
    trace_endpoint: str | None = None  # where the system sends spans; default the collector

    # ------------------------------------------------------------- spans and facts
    @property
    def store(self) -> SpanStore:
        """The spans to check: the collector's live, the recorded ones on replay."""
        if self.span_store is not None:
            return self.span_store
        if self.collector is None:
            raise RuntimeError("this context has neither a collector nor recorded spans")
        return self.collector.store

    def fact(self, key: str, value: Any) -> Any:
        """Record something ``check`` needs (JSON-able), e.g. an exit code; returns value."""
        self.facts[key] = value
        return value

    def fact_path(self, key: str, path: Path) -> Path:
        """Record a path, relative to the work directory when inside it; returns path."""
        path = Path(path).resolve()
        try:
            self.facts[key] = str(path.relative_to(self.workdir.resolve()))
        except ValueError:
            self.facts[key] = str(path)
        return path

    def path(self, key: str) -> Path:
        """A path recorded with ``fact_path``, resolved against this work directory
        (so it points into the artifacts folder on replay)."""
        return self.workdir / str(self.facts[key])

    def topic(self, name: str, **kwargs: Any) -> Topic:
        """Topic.wait_for_topic on this context's spans; on replay nothing more will
        arrive, so it does not wait for quiet."""
        if self.replay:
            kwargs.setdefault("quiet_for", 0.0)
            return Topic.wait_for_topic(name, self.store, kwargs.pop("timeout", 2.0), **kwargs)
        return Topic.wait_for_topic(name, self.store, kwargs.pop("timeout", self.timeout), **kwargs)

    def save_facts(self, scenario: str) -> Path:
        path = self.workdir / FACTS_FILE
        path.write_text(
            json.dumps({"scenario": scenario, "facts": self.facts}, indent=2) + "\n",
            encoding="utf-8",
        )
        return path

    # ------------------------------------------------------------- the system
    def constellation(
        self, name: str | None = None, *, trace_endpoint: str | None = None
    ) -> ServiceConstellation:
        """A new constellation in its own folder, tracing to ``trace_endpoint`` or else to
        this context's collector (or the ``--trace-ep`` of the run)."""
        folder = (
            self.workdir
            if name is None and not self.constellations
            else (self.workdir / (name or f"constellation-{len(self.constellations) + 1}"))
        )
        if self.replay:
            raise RuntimeError("check(ctx) must not start processes: it also runs on --replay")
        endpoint = trace_endpoint or self.trace_endpoint
        if endpoint is None and self.collector is not None:
            endpoint = self.collector.http_endpoint
        constellation = ServiceConstellation(endpoint, folder)
        self.constellations.append(constellation)
        return constellation

    def skip(self, reason: str) -> None:
        """End the scenario as skipped (recorded, so a replay skips it too)."""
        self.facts[SKIP_FACT] = reason
        raise ScenarioSkipped(reason)

    def note(self, text: str) -> None:
        """A line for the report (printed after the scenario)."""
        self.notes.append(text)

    def record(self, topic: Topic) -> None:
        """Keep a topic's summary for the report, and print it."""
        self.topics.append(topic.summary())
        topic.print_summary()

    def close(self) -> None:
        for constellation in reversed(self.constellations):
            constellation.stop()

    def leftover_processes(self) -> list[str]:
        left = []
        for constellation in self.constellations:
            for proc in constellation.leftover_processes():
                try:
                    left.append(f"pid {proc.pid}: {' '.join(proc.cmdline())}")
                except Exception:
                    left.append(f"pid {proc.pid}")
        return left
