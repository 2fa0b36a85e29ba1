"""Producers started against a port that accepts but never answers: clear error, exit, no orphan."""

from __future__ import annotations

import subprocess

from scenarios import _oracle as o
from scenarios._helpers import wait_until
from scenarios._peers import HandStartedProducer, SilentServer
from tester.scenario import ScenarioContext

PRODUCERS = 2


def run(ctx: ScenarioContext) -> None:
    server = SilentServer()
    producers = [
        HandStartedProducer(
            i, server.address, "not-a-real-token", ctx.workdir / "logs" / f"producer-{i}.log"
        )
        for i in range(1, PRODUCERS + 1)
    ]
    try:
        wait_until(lambda: server.accepted >= PRODUCERS, 60, "the producers to connect")
        codes: dict[str, int | None] = {}  # str keys, as JSON has them on replay
        for i, producer in enumerate(producers, 1):
            try:
                codes[str(i)] = producer.popen.wait(timeout=ctx.timeout)
            except subprocess.TimeoutExpired:
                codes[str(i)] = None  # still running: check() says so
        ctx.fact("exit_codes", codes)
        ctx.fact("connections", server.accepted)
        ctx.fact("logs", {str(i): p.log_text()[-2000:] for i, p in enumerate(producers, 1)})
        ctx.fact("left_running", [pid for p in producers for pid in p.group_alive()])
    finally:
        for producer in producers:
            producer.kill()
        server.close()


def check(ctx: ScenarioContext) -> None:
    codes: dict[str, int | None] = ctx.facts["exit_codes"]
    logs: dict[str, str] = ctx.facts["logs"]
    assert ctx.facts["connections"] >= PRODUCERS, "the producers never connected"
    for i, code in codes.items():
        assert code is not None, f"producer {i} was still running after {ctx.timeout:.0f}s"
        assert code != 0, f"producer {i} exited 0 although nobody answered it:\n{logs[i]}"
        assert "did not answer" in logs[i] or "handshake" in logs[i], (
            f"producer {i} exited {code} without saying why:\n{logs[i]}"
        )
    assert not ctx.facts["left_running"], f"processes left running: {ctx.facts['left_running']}"
    ctx.note(
        f"exit codes {o.readable(codes)}; "
        f"producer 1 said: {logs['1'].strip().splitlines()[-1][:200]}"
    )
