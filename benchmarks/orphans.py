"""How long producers outlive a SIGKILLed orchestrator (``--provider env``).

    python benchmarks/orphans.py [--kills N] [--producers N] [--quick]

Each round starts the orchestrator with ``--provider env`` on the tester's
fake OpenAI-compatible server (200 ms per answer, so requests are in flight),
SIGKILLs it at a moment spread over its producers' start-up (0 to 1.5 s after
it listens), and measures from the kill until no process of its session is
left. The goal (issue 21, item 4): no producer alive 1 s after its
orchestrator dies, under load. Prints a markdown table and writes
``results/orphans.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    ROOT,
    machine,
    markdown_table,
    median,
    precompile,
    write_result,
)
from tester.fake_llm import FakeLLMServer
from tests.integration.orchestrator_proc import session_alive

_LISTENING = re.compile(rb"listening on [\d.]+:\d+")


def one_kill(server: FakeLLMServer, producers: int, delay_s: float, tmp: Path) -> float:
    """Seconds from the orchestrator's SIGKILL until its last producer is gone."""
    log = tmp / f"orch-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        orch = subprocess.Popen(
            [
                sys.executable, "-m", "system.orchestrator", "--no-progress",
                "--topic", "Orphan lighthouses", "--producers", str(producers),
                "--output", str(tmp / f"out-{time.monotonic_ns()}"),
                "--provider", "env", "--env-file", str(tmp / "none.env"),
                "--llm", f"name=fake,base_url={server.base_url},model=m",
            ],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp,
            env={**os.environ, "OTEL_TRACES_EXPORTER": "none", "PYTHONPATH": str(ROOT)},
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _LISTENING.search(log.read_bytes()):
            if time.monotonic() > deadline or orch.poll() is not None:
                raise RuntimeError(f"orchestrator did not listen: {log.read_text()[-2000:]}")
            time.sleep(0.02)
        time.sleep(delay_s)
        os.kill(orch.pid, signal.SIGKILL)
        killed = time.monotonic()
        orch.wait(10)
        while session_alive(orch.pid):
            if time.monotonic() - killed > 60:
                break
            time.sleep(0.01)
        return time.monotonic() - killed
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(orch.pid, signal.SIGKILL)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--producers", type=int, default=8)
    p.add_argument("--quick", action="store_true", help="3 kills of 4 producers")
    args = p.parse_args()
    kills, producers = (3, 4) if args.quick else (args.kills, args.producers)
    precompile()
    facts = machine()
    lifetimes: list[float] = []
    with tempfile.TemporaryDirectory(prefix="orphans-") as tmp_name:
        tmp = Path(tmp_name)
        with FakeLLMServer(model="m", latency_ms=200, log_path=tmp / "fake.log") as server:
            for i in range(kills):
                delay = 1.5 * i / max(1, kills - 1)
                lifetimes.append(one_kill(server, producers, delay, tmp))
    over = sum(1 for t in lifetimes if t > 1.0)
    rows = [[kills, producers, median(lifetimes), max(lifetimes), over]]
    print(markdown_table(
        ["kills", "producers", "median s to last exit", "max s", "kills with a producer > 1 s"],
        rows,
    ))  # fmt: skip
    write_result(
        "orphans",
        {"machine": facts, "kills": kills, "producers": producers, "lifetimes_s": lifetimes},
        quick=args.quick,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
