"""No producer outlives its orchestrator with ``--provider env`` (issue 21, item 4).

The orchestrator is SIGKILLed while its producers start. A producer used to
arm its parent-death signal only after its imports (seconds on a loaded
machine), and it imported the OpenAI client on its event loop, which held
SIGTERM and stdin EOF back: producers lived on for 4-12 s (over 30 s under
load). The goal is under 1 s, measured by benchmarks/orphans.py; the tests
allow DEADLINE_S, three times that, for a loaded test machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from tester.fake_llm import FakeLLMServer
from tests.integration.orchestrator_proc import ROOT, Orchestrator, session_alive, wait_for

pytestmark = pytest.mark.integration

#: how long producers may outlive their orchestrator here (the goal, benchmarked, is 1 s)
DEADLINE_S = 3.0

_SLOW_OPENAI = """\
import os, pathlib, time
pathlib.Path(os.environ["SLOW_OPENAI_MARKS"], str(os.getpid())).touch()
time.sleep(120)
"""


def _env_args(base_url: str, tmp_path: Path, producers: int) -> list[str]:
    return [
        "--topic", "Orphan lighthouses", "--producers", str(producers),
        "--output", str(tmp_path / "out"), "--provider", "env",
        "--env-file", str(tmp_path / "none.env"),
        "--llm", f"name=fake,base_url={base_url},model=m",
    ]  # fmt: skip


def _kill_and_wait(orch: Orchestrator) -> list[psutil.Process]:
    children = [psutil.Process(pid) for pid in orch.producer_pids()]
    psutil.Process(orch.pid).kill()
    orch.proc.wait(10)
    _gone, alive = psutil.wait_procs(children, timeout=DEADLINE_S)
    return alive


def test_orchestrator_killed_while_env_producers_start_leaves_no_orphan(tmp_path):
    """SIGKILL the orchestrator once its 8 producers exist (still importing)."""
    with (
        FakeLLMServer(model="m", latency_ms=200, log_path=tmp_path / "fake.log") as server,
        Orchestrator(_env_args(server.base_url, tmp_path, 8), tmp_path) as orch,
    ):
        orch.wait_listening()
        wait_for(lambda: len(orch.producer_pids()) == 8, 60, "eight producer processes")
        alive = _kill_and_wait(orch)
        assert not alive, f"alive {DEADLINE_S}s after the kill: {[p.pid for p in alive]}"
        assert not session_alive(orch.pid)


def test_a_producer_importing_the_openai_client_still_stops(tmp_path):
    """The OpenAI client's import (made to hang here) never holds a producer's stop back."""
    fake = tmp_path / "slow"
    (fake / "openai").mkdir(parents=True)
    (fake / "openai" / "__init__.py").write_text(_SLOW_OPENAI)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {
        "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT)]),
        "SLOW_OPENAI_MARKS": str(marks),
    }
    args = _env_args("http://127.0.0.1:9/v1", tmp_path, 2)
    with Orchestrator(args, tmp_path, env=env) as orch:
        orch.wait_listening()
        wait_for(lambda: len(list(marks.iterdir())) == 2, 60, "both producers importing openai")
        alive = _kill_and_wait(orch)
        assert not alive, f"alive {DEADLINE_S}s after the kill: {[p.pid for p in alive]}"
