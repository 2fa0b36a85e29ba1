"""What a scenario gets to work with: a collector, a work directory, constellations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tester.collector import Collector
from tester.constellation import ServiceConstellation
from tester.topic import Topic


@dataclass
class ScenarioContext:
    collector: Collector
    workdir: Path
    verbose: bool = False
    keep_running: bool = False
    timeout: float = 180.0
    constellations: list[ServiceConstellation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    topics: list[dict[str, object]] = field(default_factory=list)

    def constellation(self, name: str | None = None) -> ServiceConstellation:
        """A new constellation tracing to this context's collector, in its own folder."""
        folder = (
            self.workdir
            if name is None and not self.constellations
            else (self.workdir / (name or f"constellation-{len(self.constellations) + 1}"))
        )
        constellation = ServiceConstellation(self.collector.http_endpoint, folder)
        self.constellations.append(constellation)
        return constellation

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
