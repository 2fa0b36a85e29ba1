"""A bounded load test on loopback: concurrent status requests and SSE clients
while a run is active. No request fails and the run is not disturbed. The
latencies are printed (``pytest -s``), not asserted: timing targets belong in
benchmarks."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from tester.constellation import ServiceConstellation

pytestmark = pytest.mark.integration

STATUS_REQUESTS = 300
SSE_CLIENTS = 5
CONNECTIONS = 100


async def _sse_client(url: str, run_id: str, stop: asyncio.Event) -> int:
    events = 0
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as http,
        http.stream("GET", "/api/events", params={"run_id": run_id}) as stream,
    ):
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                events += 1
            if stop.is_set() and events:
                break
    return events


async def _load(url: str, run_id: str) -> tuple[list[float], list[int]]:
    stop = asyncio.Event()
    sse = [asyncio.create_task(_sse_client(url, run_id, stop)) for _ in range(SSE_CLIENTS)]
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def one() -> float:
            started = time.perf_counter()
            response = await http.get(f"/api/runs/{run_id}")
            assert response.status_code == 200, response.text
            assert response.json()["run_id"] == run_id
            return (time.perf_counter() - started) * 1000

        # open the client's connections first: the measurement is of requests, not TCP set-up
        await asyncio.gather(*(http.get("/api/health") for _ in range(CONNECTIONS)))
        latencies = await asyncio.gather(*(one() for _ in range(STATUS_REQUESTS)))
    stop.set()
    counts = await asyncio.wait_for(asyncio.gather(*sse), timeout=60)
    return list(latencies), list(counts)


def test_status_and_sse_load_during_a_run(constellation: ServiceConstellation) -> None:
    web = constellation.start_web_mode()
    with web.client() as http:
        started = http.post(
            "/api/runs", json={"topic": "Load test", "producers": 2, "iterations": 400}
        )
        run_id = started.json()["run_id"]
        latencies, sse_events = asyncio.run(_load(web.url, run_id))
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
        f"\n{STATUS_REQUESTS} concurrent status requests over {CONNECTIONS} connections, "
        f"{SSE_CLIENTS} SSE clients: "
        f"p50 {statistics.median(ordered):.1f} ms, p95 {ordered[int(0.95 * len(ordered))]:.1f} ms, "
        f"max {ordered[-1]:.1f} ms; SSE events per client {sse_events}"
    )
