"""OTEL_* variables on real processes (orchestrator and the producers it spawns),
received by the embedded collector."""

from __future__ import annotations

import os
import socket
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


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER"),
        ("OTEL_SERVICE_NAME", "my-enumerator", "service.namespace=my-enumerator"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "use http/protobuf or grpc"),
    ],
)
@pytest.mark.parametrize("module", ["system.orchestrator", "system.webserver"])
def test_an_unusable_otel_setting_is_exit_2(tmp_path: Path, module, variable, value, message):
    args = ["--topic", "Rivers"]
    if module == "system.webserver":
        token = tmp_path / "control.token"
        token.write_text("t" * 40)
        token.chmod(0o600)
        args = ["--port", "0", "--control-token-file", str(token)]
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, variable: value},
        cwd=tmp_path,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "output").exists()


def test_otlp_without_an_endpoint_warns_once_for_the_whole_run(tmp_path: Path) -> None:
    """OTEL_TRACES_EXPORTER=otlp and no endpoint: the spec's default, localhost:4318
    (resolution: tests/unit/test_otel_conventions.py). Nothing listens there on a
    test machine: one warning from the orchestrator, none from its producers, none
    per batch, and the run is as fast and as complete as without tracing."""
    with socket.socket() as probe:
        if probe.connect_ex(("localhost", 4318)) == 0:
            pytest.skip("something listens at localhost:4318 on this machine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-m", "system.orchestrator", "--topic", "Rivers", "--producers", "2",
         "--iterations", "3", "--output", str(tmp_path / "out"), "--no-progress"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**env, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_BSP_SCHEDULE_DELAY": "50"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if " WARNING " in line]
    assert len(warnings) == 1, warnings
    assert "nothing listens at the default http://localhost:4318" in warnings[0]
    assert " orchestrator " in warnings[0]
    assert (tmp_path / "out" / "attributes.txt").read_text().strip()
