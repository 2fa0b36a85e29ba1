"""Load client for test_webserver_load, run as its own process so that its
timings are not those of the pytest process (which also hosts the collector).

``python load_client.py URL RUN_ID STATUS_REQUESTS CONNECTIONS SSE_CLIENTS``
opens CONNECTIONS keep-alive connections at once, each sending its share of
the status requests one after another, and prints one JSON object:
``latencies_ms`` (one per status request) and
``sse_events`` (events seen by each SSE client). Any failed request raises,
so the process exits non-zero with the traceback on stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx


async def _sse_client(url: str, run_id: str, stop: asyncio.Event) -> int:
    events = 0
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as http,
        http.stream("GET", "/api/events", params={"run_id": run_id}) as stream,
    ):
        if stream.status_code != 200:
            raise RuntimeError(f"/api/events answered {stream.status_code}")
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                events += 1
            if stop.is_set() and events:
                break
    return events


async def _connection(url: str, run_id: str, requests: int) -> list[float]:
    """One keep-alive connection sending ``requests`` status requests in turn."""
    latencies = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        # open the connection first: the measurement is of requests, not TCP set-up
        (await http.get("/api/health")).raise_for_status()
        for _ in range(requests):
            started = time.perf_counter()
            response = await http.get(f"/api/runs/{run_id}")
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or response.json()["run_id"] != run_id:
                raise RuntimeError(f"status answered {response.status_code}: {response.text}")
    return latencies


async def _load(
    url: str, run_id: str, requests: int, connections: int, sse_clients: int
) -> dict[str, list[float] | list[int]]:
    stop = asyncio.Event()
    sse = [asyncio.create_task(_sse_client(url, run_id, stop)) for _ in range(sse_clients)]
    shares = [requests // connections + (i < requests % connections) for i in range(connections)]
    per_connection = await asyncio.gather(*(_connection(url, run_id, n) for n in shares))
    stop.set()
    counts = await asyncio.wait_for(asyncio.gather(*sse), timeout=60)
    latencies = [ms for connection in per_connection for ms in connection]
    return {"latencies_ms": latencies, "sse_events": list(counts)}


def main(argv: list[str]) -> None:
    url, run_id, requests, connections, sse_clients = argv
    result = asyncio.run(_load(url, run_id, int(requests), int(connections), int(sse_clients)))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
