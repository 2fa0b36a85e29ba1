"""A SIGSTOPped producer no longer stalls an ``--iterations`` run with no word
(issue 21, item 5): after the silence limit it is reported (log, ``producer.silent``
event on ``topic.run``), after four times that it is killed and its slot restarted,
and the run completes. The limit is 2 s here (TOPIC_ENUMERATOR_PRODUCER_SILENCE_S;
30 s by default)."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from tester.collector import Collector
from tests.integration.orchestrator_proc import Orchestrator, read_run_json, wait_for

pytestmark = pytest.mark.integration

SILENCE_S = 2.0


def test_a_stopped_producer_is_reported_then_replaced(tmp_path):
    out = tmp_path / "out"
    args = [
        "--topic", "Silent lighthouses", "--producers", "2", "--iterations", "40",
        "--sim-latency-ms", "100", "--output", str(out),
    ]  # fmt: skip
    with Collector() as collector:
        env = {
            "TOPIC_ENUMERATOR_PRODUCER_SILENCE_S": str(SILENCE_S),
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.http_endpoint,
        }
        with Orchestrator(args, tmp_path, env=env) as orch:
            orch.wait_listening()
            wait_for(
                lambda: (
                    (out / "run.json").exists()
                    and read_run_json(out)["producers"][0]["batches"] >= 2
                ),
                60,
                "producer 1 at work",
            )
            stopped = psutil.Process(read_run_json(out)["producers"][0]["pid"])
            os.kill(stopped.pid, signal.SIGSTOP)
            try:
                wait_for(lambda: "silent for" in orch.log_text(), 60, "the silence reported")
                assert orch.wait(180) == 0, orch.log_text()[-3000:]
            finally:
                if stopped.is_running():
                    stopped.kill()
            log = orch.log_text()
            assert "treating it as lost" in log, log[-3000:]
            summary = read_run_json(out)
            assert summary["status"] == "completed", summary["reason"]
            assert summary["counts"]["batches"] == 80
            first = summary["producers"][0]
            assert first["spawns"] == 2 and first["errors"] == 1, first
            assert not stopped.is_running()
        (run,) = collector.store.wait_for(lambda s: s.name == "topic.run", timeout=60)
    silent = [e for e in run.events if e.name == "producer.silent"]
    actions = [(e.attributes["producer.id"], e.attributes["producer.action"]) for e in silent]
    assert actions == [(1, "reported"), (1, "killed")], actions
    reported, killed = silent
    assert reported.attributes["process.pid"] == stopped.pid
    assert (
        SILENCE_S
        <= reported.attributes["producer.silent_s"]
        < killed.attributes["producer.silent_s"]
    )
