"""Killing processes: producers are restarted, and nothing outlives the orchestrator."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from tester.constellation import OrchestratorConfig
from tester.topic import Topic
from tests.integration.orchestrator_proc import still_running

pytestmark = pytest.mark.integration


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _producer_pids(constellation) -> list[int]:
    return [p.pid for p in constellation.producer_processes()]


def test_sigkill_of_a_producer_mid_run_is_survived(collector, constellation):
    config = OrchestratorConfig(
        topic="Museums of Rome", producers=3, iterations=60, extra_args=["--sim-latency-ms", "20"]
    )
    orchestrator = constellation.start_orchestrator(config)
    collector.store.wait_for(lambda s: s.name == "batch.receive", timeout=60, count=5)
    victim = _wait(lambda: _producer_pids(constellation), 30, "producer processes")[0]
    os.kill(victim, signal.SIGKILL)

    topic = Topic.wait_for_topic(config.topic, collector, timeout=180)
    topic.assert_completed().assert_restarts(1).assert_counts_consistent()
    topic.assert_file_matches(constellation.output_dir_for(config) / "attributes.txt")
    lost = topic.spans("producer.lost")
    assert len(lost) == 1 and lost[0].attr("process.pid") == victim
    assert lost[0].attr("process.exit.code") == -signal.SIGKILL
    assert topic.root.attr("run.batch_count") == 180  # every slot reached its iterations
    assert orchestrator.wait(timeout=60) == 0


def test_sigkill_of_the_orchestrator_takes_every_producer_down(collector, constellation):
    config = OrchestratorConfig(
        topic="Orphans", producers=3, iterations=None, extra_args=["--sim-latency-ms", "50"]
    )
    orchestrator = constellation.start_orchestrator(config)
    collector.store.wait_for(lambda s: s.name == "batch.receive", timeout=60, count=3)
    producers = [
        psutil.Process(pid)
        for pid in _wait(
            lambda: len(_producer_pids(constellation)) == 3 and _producer_pids(constellation),
            30,
            "3 producers",
        )
    ]
    orchestrator.signal(signal.SIGKILL)
    # the outcome, not the producers' last log lines (a dying process may not flush
    # them): each exits by itself (stdin EOF / parent death) well within the deadline
    alive = still_running(producers, timeout=90)
    assert not alive, f"producers still alive 90s after the orchestrator died: {alive}"
    assert not _producer_pids(constellation)


def test_sigterm_stops_gracefully_and_flushes(collector, constellation):
    config = OrchestratorConfig(
        topic="Endless", producers=2, iterations=None, extra_args=["--sim-latency-ms", "10"]
    )
    orchestrator = constellation.start_orchestrator(config)
    collector.store.wait_for(lambda s: s.name == "batch.receive", timeout=60, count=10)
    orchestrator.signal(signal.SIGTERM)
    assert orchestrator.wait(timeout=60) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=60)
    topic.assert_stopped().assert_no_errors().assert_complete_trace().assert_counts_consistent()
    topic.assert_file_matches(constellation.output_dir_for(config) / "attributes.txt")
    assert topic.root.attr("run.stop_reason") == "SIGTERM received"
    assert "status:       stopped" in orchestrator.log_text()
