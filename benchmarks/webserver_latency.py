"""Webserver latency: status and health requests, idle and during a busy run.

    python benchmarks/webserver_latency.py [--clients 8] [--requests 200]

Starts the orchestrator (web mode) and the webserver as real processes
(tracing off), then sends ``--requests`` requests per client from
``--clients`` keep-alive connections in threads of a separate client
process, first with no run active, then during an open-ended run of 2
zero-latency simulated producers (the orchestrator's CPU is saturated:
the worst case for control requests). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tester.constellation import ServiceConstellation


def measure(url: str, path: str, clients: int, requests: int) -> dict[str, float]:
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine = []
        for _ in range(requests):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                with lock:
                    errors += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        "max_ms": latencies[-1],
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ServiceConstellation(None, Path(tmp)) as c:
        web = c.start_web_mode(log_level="warn")
        with httpx.Client(base_url=web.url, timeout=60) as http:
            done = http.post("/api/runs", json={"topic": "Idle", "producers": 1, "iterations": 1})
            run_id = done.json()["run_id"]
            while http.get(f"/api/runs/{run_id}").json()["state"] != "completed":
                time.sleep(0.1)
            for path in ("/api/health", f"/api/runs/{run_id}"):
                rows.append(("idle", path, measure(web.url, path, args.clients, args.requests)))
            busy = http.post("/api/runs", json={"topic": "Busy", "producers": 2}).json()["run_id"]
            time.sleep(1.0)  # let the producers get going
            for path in ("/api/health", f"/api/runs/{busy}"):
                rows.append(("busy run", path, measure(web.url, path, args.clients, args.requests)))
            http.post(f"/api/runs/{busy}/stop")
    print(f"{args.clients} keep-alive clients x {args.requests} requests each\n")
    print("| orchestrator | request | req/s | p50 ms | p95 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for state, path, r in rows:
        shown = path if "runs/" not in path else "/api/runs/{id}"
        print(
            f"| {state} | GET {shown} | {r['requests_per_s']:.0f} | {r['p50_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['max_ms']:.1f} | {r['errors']:.0f} |"
        )


if __name__ == "__main__":
    main()
