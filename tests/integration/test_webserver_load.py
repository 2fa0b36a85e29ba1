"""A bounded load test on loopback: concurrent status requests and SSE clients
while a run is active. No request fails and the run is not disturbed. The
load comes from its own process (load_client.py), so the latencies it prints
(``pytest -s``) are the server's, not those of the pytest process that also
hosts the collector; they are printed, not asserted: timing targets belong in
benchmarks."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tester.constellation import ServiceConstellation

pytestmark = pytest.mark.integration

STATUS_REQUESTS = 300
SSE_CLIENTS = 5
CONNECTIONS = 300
LOAD_CLIENT = Path(__file__).with_name("load_client.py")


def _load(url: str, run_id: str) -> tuple[list[float], list[int]]:
    args = [str(n) for n in (STATUS_REQUESTS, CONNECTIONS, SSE_CLIENTS)]
    done = subprocess.run(
        [sys.executable, str(LOAD_CLIENT), url, run_id, *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result["latencies_ms"], result["sse_events"]


def test_status_and_sse_load_during_a_run(constellation: ServiceConstellation) -> None:
    web = constellation.start_web_mode()
    with web.client() as http:
        started = http.post(
            "/api/runs", json={"topic": "Load test", "producers": 2, "iterations": 400}
        )
        run_id = started.json()["run_id"]
        latencies, sse_events = _load(web.url, run_id)
        assert all(count > 0 for count in sse_events), sse_events
        deadline = time.monotonic() + 180
        while (body := http.get(f"/api/runs/{run_id}").json())["state"] not in (
            "completed",
            "failed",
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.2)
    assert body["state"] == "completed", body
    assert body["requests"] == 800
    assert all(p["errors"] == 0 and p["restarts"] == 0 for p in body["producers"])
    ordered = sorted(latencies)
    print(
        f"\n{STATUS_REQUESTS} status requests over {CONNECTIONS} concurrent connections, "
        f"{SSE_CLIENTS} SSE clients: "
        f"p50 {statistics.median(ordered):.1f} ms, p95 {ordered[int(0.95 * len(ordered))]:.1f} ms, "
        f"max {ordered[-1]:.1f} ms; SSE events per client {sse_events}"
    )
