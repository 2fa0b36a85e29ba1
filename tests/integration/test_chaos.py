"""Chaos: SIGKILL the orchestrator at 10 random moments of an open-ended run and
resume it each time; SIGKILL producers at 10 random moments of another.

The moments come from a seeded RNG (reproducible; the seed is in the failure
message) and the simulated model has latency, so each round takes about a
second and the whole test stays bounded. What is judged is held by the test
itself: the file's bytes at every kill, and the tester's own normalization
(tester/topic/normalize.py, not the system's) for "doubled".
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time

import psutil
import pytest

from tester.topic.normalize import normalize
from tests.integration.orchestrator_proc import (
    Orchestrator,
    read_run_json,
    still_running,
    wait_for,
)

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("CHAOS_SEED", "1313"))
KILLS = 10
TOPIC = "Lighthouses"


def _args(out) -> list[str]:
    return [
        "--topic", TOPIC, "--producers", "3", "--saturation", "0",
        "--sim-latency-ms", "40", "--request-size", "20", "--output", str(out),
    ]  # fmt: skip


def _whole_lines(data: bytes) -> list[str]:
    """The file's complete lines (a torn tail after a SIGKILL is not one)."""
    return data[: data.rfind(b"\n") + 1].decode("utf-8").splitlines()


def _assert_no_doubles(lines: list[str], where: str) -> None:
    keys = [normalize(line) for line in lines]
    doubled = {k for k in keys if keys.count(k) > 1}
    assert not doubled, f"{where}: doubled lines {sorted(doubled)[:5]} (seed {SEED})"


def _valid_run_json(out, where: str) -> dict:
    try:
        summary = read_run_json(out)
    except (OSError, ValueError) as exc:
        raise AssertionError(f"{where}: run.json unreadable: {exc} (seed {SEED})") from exc
    for key in ("run_id", "topic", "status", "counts", "timings", "producers"):
        assert key in summary, f"{where}: run.json lacks {key}"
    assert summary["topic"] == TOPIC
    return summary


def test_orchestrator_sigkilled_ten_times_and_resumed(tmp_path):
    rng = random.Random(SEED)
    out = tmp_path / "out"
    kept: list[str] = []  # whole lines at the last kill: must survive every resume
    run_ids: set[str] = set()
    for round_no in range(KILLS + 1):
        where = f"round {round_no} (seed {SEED})"
        with Orchestrator(_args(out), tmp_path) as orch:
            orch.wait_listening()
            # resumed: what was whole at the kill is still there, in order, and a torn
            # tail is gone (the run has opened the file once it listens)
            data = (out / "attributes.txt").read_bytes()
            lines = _whole_lines(data)
            assert lines[: len(kept)] == kept, f"{where}: lost lines"
            assert not data or data.endswith(b"\n"), f"{where}: torn line kept"
            _assert_no_doubles(lines, where)
            summary = wait_for(
                lambda: _fresh_summary(out, run_ids), 60, f"{where}: this run's run.json"
            )
            assert summary["status"] == "running", where
            assert summary["counts"]["resumed"] == len(kept), where
            run_ids.add(summary["run_id"])
            if round_no == KILLS:
                os.kill(orch.pid, signal.SIGTERM)  # the last run ends cleanly
                assert orch.wait(60) == 0, orch.log_text()[-3000:]
                break
            before, run_id = len(kept), summary["run_id"]
            wait_for(
                lambda n=before, r=run_id: _progressing(out, n, r), 60, f"{where}: progress"
            )
            _pause(rng.uniform(0.1, 1.5))  # the random moment
            children = [psutil.Process(p) for p in orch.producer_pids()]
            os.kill(orch.pid, signal.SIGKILL)  # the orchestrator only: producers must follow
            orch.proc.wait(10)
            alive = still_running(children, timeout=15)
            assert not alive, f"{where}: producers outlived the orchestrator"
            kept = _whole_lines((out / "attributes.txt").read_bytes())
            _valid_run_json(out, where)  # the kill leaves a whole run.json behind
    lines = (out / "attributes.txt").read_text(encoding="utf-8").splitlines()
    assert lines[: len(kept)] == kept
    _assert_no_doubles(lines, "final")
    final = _valid_run_json(out, "final")
    assert final["status"] == "stopped"
    assert final["counts"]["resumed"] + final["counts"]["unique"] == len(lines)
    assert len(run_ids) == KILLS + 1


def test_producers_sigkilled_ten_times(tmp_path):
    rng = random.Random(SEED + 1)
    out = tmp_path / "out"
    args = [*_args(out), "--max-restarts", "20"]
    with Orchestrator(args, tmp_path) as orch:
        orch.wait_listening()
        for kill in range(KILLS):
            pids = wait_for(lambda: _connected_producers(orch), 60, f"kill {kill}: 3 producers")
            _pause(rng.uniform(0.1, 1.0))
            victim = rng.choice(pids)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
            wait_for(lambda v=victim: v not in orch.producer_pids(), 15, "the victim gone")
            lines = _whole_lines((out / "attributes.txt").read_bytes())
            _assert_no_doubles(lines, f"kill {kill}")
            _valid_run_json(out, f"kill {kill}")
        wait_for(lambda: _connected_producers(orch), 60, "producers back")
        os.kill(orch.pid, signal.SIGTERM)
        assert orch.wait(60) == 0, orch.log_text()[-3000:]
    data = (out / "attributes.txt").read_bytes()
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").splitlines()
    _assert_no_doubles(lines, "final")
    final = _valid_run_json(out, "final")
    assert final["status"] == "stopped"
    assert final["counts"]["restarts"] == KILLS
    assert final["counts"]["unique"] == len(lines)


def _line_count(out) -> int:
    return len(_whole_lines((out / "attributes.txt").read_bytes()))


def _progressing(out, lines_before: int, run_id: str) -> bool:
    """New lines, or (once the simulated universe is all found: the levers find every
    item of a 318-item topic within a few rounds) this run's batches on record."""
    if _line_count(out) > lines_before:
        return True
    summary = _fresh_summary(out, set())
    return bool(summary and summary["run_id"] == run_id and summary["counts"]["batches"] >= 5)


def _pause(seconds: float) -> None:
    """Let the run go on for a random while: the point is the moment, not a wait."""
    time.sleep(seconds)


def _fresh_summary(out, seen: set[str]) -> dict | None:
    try:
        summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if summary.get("run_id") not in seen else None


def _connected_producers(orch: Orchestrator) -> list[int] | None:
    """The producer pids once all three are connected and producing (per the log)."""
    pids = orch.producer_pids()
    if len(pids) != 3:
        return None
    log = orch.log_text()
    if not all(f"(pid {pid})" in log for pid in pids):
        return None
    return pids
