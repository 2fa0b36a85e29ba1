"""Sighting counts, attributes.jsonl, the estimate and --target-coverage in real runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tester import schema as n
from tester.constellation import OrchestratorConfig
from tester.topic import Topic

pytestmark = pytest.mark.integration


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_run_writes_support_and_estimate_everywhere(collector, constellation, tmp_path):
    output = tmp_path / "out"
    config = OrchestratorConfig(
        topic="Harbours", producers=2, iterations=20, request_size=30, output_dir=output,
        extra_args=["--sim-latency-ms", "20"],  # time for delta pushes: the pre-filter drops
    )  # fmt: skip
    assert constellation.start_orchestrator(config).wait(timeout=120) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed().assert_counts_consistent()

    lines = (output / "attributes.txt").read_text(encoding="utf-8").splitlines()
    records = _records(output / "attributes.jsonl")
    assert [r["display"] for r in records] == lines  # same order, same text
    assert all(r["sightings"] >= 1 and r["producers"] >= 1 for r in records)
    assert all(r["providers"] == 1 and r["first_seen"] <= r["last_seen"] for r in records)
    # every request counts once per item it returned, pre-filtered repeats included: at
    # most 40 requests x 30 items (a line the parser drops or two lines with one key count
    # less), and more than the candidates that reached the orchestrator
    total = sum(r["sightings"] for r in records)
    assert 0.97 * 40 * 30 <= total <= 40 * 30
    prefiltered = json.loads((output / "run.json").read_text())["counts"]["prefiltered"]
    if prefiltered:  # a fast run may end before any delta push reached a producer
        assert total > topic.candidate_count
    assert max(r["sightings"] for r in records) > 1

    summary = json.loads((output / "run.json").read_text())
    estimate = summary["coverage"]["estimate"]
    assert estimate["found"] == len(lines) and estimate["requests"] == 40
    assert estimate["coverage_low"] <= estimate["coverage"] <= estimate["coverage_high"]
    assert topic.coverage is not None
    assert topic.coverage["estimate"] == pytest.approx(estimate["coverage"], abs=1e-3)
    history = topic.coverage_history()
    assert len(history) >= 2 and history[-1]["found"] <= len(lines)
    assert topic.summary()["coverage"] == topic.coverage

    # export with a support threshold: only items seen at least 3 times, in file order
    out = subprocess.run(
        [sys.executable, "-m", "system.output.export", str(output), "--min-support", "3"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    expected = [r["display"] for r in records if r["sightings"] >= 3]
    assert out.stdout.splitlines() == expected and 0 < len(expected) < len(lines)

    # resume: the counts come back from attributes.jsonl and keep growing
    before = {r["key"]: r["sightings"] for r in records}
    again = OrchestratorConfig(
        topic="Harbours", producers=2, iterations=5, request_size=30, output_dir=output
    )
    assert constellation.start_orchestrator(again).wait(timeout=120) == 0
    resumed = _records(output / "attributes.jsonl")
    assert [r["display"] for r in resumed] == (output / "attributes.txt").read_text(
        encoding="utf-8"
    ).splitlines()
    after = {r["key"]: r["sightings"] for r in resumed}
    assert all(after[k] >= v for k, v in before.items())
    assert sum(before.values()) + 0.97 * 10 * 30 <= sum(after.values())


def test_torn_jsonl_line_is_rebuilt_on_resume(constellation, tmp_path):
    output = tmp_path / "out"
    config = OrchestratorConfig(topic="Rivers", producers=1, iterations=3, output_dir=output)
    assert constellation.start_orchestrator(config).wait(timeout=120) == 0
    path = output / "attributes.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 25])  # a crash cut the last record short
    assert constellation.start_orchestrator(config).wait(timeout=120) == 0
    records = _records(path)  # every line parses again
    lines = (output / "attributes.txt").read_text(encoding="utf-8").splitlines()
    assert [r["display"] for r in records] == lines


def test_target_coverage_stops_an_open_ended_run(collector, constellation, tmp_path):
    config = OrchestratorConfig(
        topic="Harbours",
        producers=2,
        iterations=None,
        request_size=30,
        output_dir=tmp_path / "out",
        extra_args=["--target-coverage", "0.8", "--saturation", "0", "--no-partitions"],
    )
    assert constellation.start_orchestrator(config).wait(timeout=180) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=120)
    topic.assert_completed()
    reason = str(topic.root.attr(n.RUN_STOP_REASON))
    assert reason.startswith("coverage: estimated coverage"), reason
    assert [e.name for e in topic.root.events].count(n.EVENT_COVERED) == 1
    summary = json.loads((tmp_path / "out" / "run.json").read_text())
    assert summary["reason"] == reason and summary["coverage"]["target"] == 0.8


@pytest.mark.parametrize("value", ["1", "-0.1", "1.5"])
def test_bad_target_coverage_is_refused(value, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "system.orchestrator", "--topic", "T", "--output",
         str(tmp_path / "o"), "--target-coverage", value],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "target coverage" in proc.stderr
    assert not (tmp_path / "o").exists()
