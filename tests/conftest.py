"""Shared helpers. The collector/constellation fixtures come from the tester's pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# every process a test starts exports its spans every 200 ms (as the tester's
# constellations do), not every 5 s: tests waiting on spans mid-run wait less
os.environ.setdefault("OTEL_BSP_SCHEDULE_DELAY", "200")


def run_cli(
    module: str,
    *args: str,
    timeout: float = 120,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module args`` to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
    )


#: `pytest -n auto` (`make test`): workers per core. The suite mostly waits (process
#: start-ups, runs on a simulated model with latency, sockets): ~370 CPU-s over a
#: 2-core wall of 8+ minutes with one worker per core. On an idle 2-core machine (a
#: fresh clone, 1,451 tests) 3 per core took 4:13 and 457 CPU-s, 4 per core 5:15 and
#: 575 CPU-s (more workers contend for the cores their processes need).
#: PYTEST_XDIST_AUTO_NUM_WORKERS still wins, and an explicit `-n N` never asks.
WORKERS_PER_CORE = 3
MAX_AUTO_WORKERS = 16

#: the longest tests (--durations, issue 20), started first so that none of them
#: begins near the end of the run and makes the tail; then the rest of the tests
#: that start processes, then the unit tests, which fill the gaps. Order only:
#: a stale entry costs a little wall time, never a result.
SLOW_FIRST = (
    "tests/integration/test_tester_cli.py::test_fault_scenarios_with_junit_json_and_jaeger",
    "tests/integration/test_chaos.py::test_orchestrator_sigkilled_ten_times_and_resumed",
    "tests/integration/test_benchmarks_smoke.py::",
    "tests/integration/test_webserver_load.py::",
    "tests/integration/test_fault_scenarios.py::",
    "tests/integration/test_tester_cli.py::test_basic_scenario_passes_and_leaves_artifacts",
    "tests/integration/test_forwarding.py::",
    "tests/integration/test_tester_cli.py::test_verbose_prints_spans",
    "tests/integration/test_chaos.py::",
    "tests/integration/test_provider_scenarios.py::",
    "tests/integration/test_replay.py::",
)


def pytest_configure(config: pytest.Config) -> None:
    # xdist's load scheduler hands each worker a first chunk of ~1/32 of the suite in
    # collection order: the slow tests put first would all land on the first worker,
    # one after another. One test at a time (each worker keeps two queued) spreads them.
    if getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, min(WORKERS_PER_CORE * (cores or 1), MAX_AUTO_WORKERS))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> tuple[int, int]:
        slow = [n for n, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)]
        if slow:
            return (0, slow[0])
        return (2, 0) if item.nodeid.startswith("tests/unit/") else (1, 0)

    items.sort(key=rank)  # stable: file order within each rank
