"""OTEL_* variables on real processes (orchestrator and the producers it spawns),
received by the embedded collector."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tester.collector import Collector

pytestmark = pytest.mark.integration


def _run(collector: Collector, tmp_path: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "system.orchestrator",
            "--topic",
            "Rivers",
            "--producers",
            "2",
            "--iterations",
            "2",
            "--output",
            str(tmp_path / "out"),
            "--trace-ep",
            collector.http_endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_resource_namespace_and_version_on_every_process(tmp_path: Path) -> None:
    with Collector() as collector:
        _run(collector, tmp_path, {"OTEL_RESOURCE_ATTRIBUTES": "service.namespace=team-x"})
        spans = collector.store.wait_for(lambda s: s.name == "topic.run", timeout=60)
        collector.store.wait_quiet(1.0, 30)
        every = collector.store.all()
    assert spans and {s.service_name for s in every} == {"orchestrator", "producer"}
    assert {s.resource["service.namespace"] for s in every} == {"team-x"}
    assert {s.resource["service.version"] for s in every} == {metadata.version("topic-enumerator")}


def test_traces_exporter_none_sends_nothing_from_any_process(tmp_path: Path) -> None:
    with Collector() as collector:
        _run(collector, tmp_path, {"OTEL_TRACES_EXPORTER": "none"})
        assert (tmp_path / "out" / "attributes.txt").read_text().strip()
        # every process has exited: whatever it would have exported was sent by now
        assert collector.requests_received == 0 and len(collector.store) == 0


def test_traces_exporter_console_prints_instead_of_exporting(tmp_path: Path) -> None:
    with Collector() as collector:
        stderr = _run(collector, tmp_path, {"OTEL_TRACES_EXPORTER": "console"})
        assert collector.requests_received == 0
    assert '"name": "topic.run"' in stderr and '"name": "producer.run"' in stderr


def test_an_unknown_traces_exporter_is_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "system.orchestrator", "--topic", "Rivers"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "zipkin"},
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "OTEL_TRACES_EXPORTER" in done.stderr
