"""Benchmark 4: many producer loops against a simulated LLM with realistic latency; memory.

    .venv/bin/python benchmarks/scale.py            # full run (~3.5 min on 2 cores)
    .venv/bin/python benchmarks/scale.py --quick    # smoke run

Part A, throughput vs producer loops. Each producer process runs one request
loop against the in-process simulated LLM (`--provider test`) with
`--sim-latency-ms` (default 300 ms, inside the 200-500 ms of a hosted model).
One orchestrator takes at most MAX_PRODUCERS (256) producers; more loops are
spread over several orchestrators, each writing its own output. Runs are
open-ended; once every producer has connected, the throughput is measured
from the orchestrators' own progress lines (cumulative batches and candidates,
logged every 5 s) over a fixed window, then every orchestrator gets SIGTERM.
The ideal is N / latency requests/s. RSS of the orchestrators and producers
(and PSS, which shares library pages fairly) is sampled in the window. The
largest step runs again with tracing on, to the embedded collector in this
process (`--traced-loops`).

Part B, memory per unique attribute: a fresh process drives
system.dedup.index.DedupIndex with synthetic unique strings (generated and
dropped batch by batch, so the strings are not counted) and reports the RSS
growth per unique at 1M and 10M uniques, beside the Bloom filter's bytes and
the average length of the strings (what attributes.txt holds on disk).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from _common import (
    ROOT,
    TOPIC,
    collector,
    machine,
    markdown_table,
    precompile,
    print_section,
    write_result,
)

from system.orchestrator.config import MAX_PRODUCERS as MAX_PER_ORCHESTRATOR

TARGET_BYTES_PER_UNIQUE = 100
_PROGRESS = re.compile(r"progress: unique ([\d,]+)\s+candidates ([\d,]+).*batches ([\d,]+)")
_CONNECTED = re.compile(r"producer \d+ connected")


# --------------------------------------------------------------- part A
@dataclass
class Orchestrator:
    proc: subprocess.Popen[str]
    producers: int
    out: Path
    connected: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, batches, cands)
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.monotonic()
            if len(self.lines) < 2000:
                self.lines.append(line)
            if _CONNECTED.search(line):
                self.connected += 1
            elif m := _PROGRESS.search(line):
                cands, batches = (int(m.group(i).replace(",", "")) for i in (2, 3))
                self.samples.append((now, batches, cands))


def start_orchestrator(
    producers: int, latency_ms: float, request_size: int, out: Path, trace_ep: str | None
) -> Orchestrator:
    cmd = [
        sys.executable, "-m", "system.orchestrator",
        "--topic", TOPIC,
        "--producers", str(producers),
        "--request-size", str(request_size),
        "--sim-latency-ms", str(latency_ms),
        "--output", str(out),
        "--no-progress",
        "--log-level", "info",
        "--saturation", "0",  # open-ended: run until SIGTERM; the other levers at defaults
    ]  # fmt: skip
    if trace_ep:
        cmd += ["--trace-ep", trace_ep]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    orch = Orchestrator(proc, producers, out)
    orch.reader = threading.Thread(target=orch.read, daemon=True)
    orch.reader.start()
    return orch


def stop_all(orchs: list[Orchestrator]) -> None:
    """SIGTERM each orchestrator (it stops its producers), then SIGKILL the group if needed."""
    for o in orchs:
        with contextlib.suppress(ProcessLookupError):
            o.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for o in orchs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            o.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(o.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            o.proc.wait(timeout=5)
        if o.reader is not None:
            o.reader.join(timeout=5)


def memory_snapshot(orchs: list[Orchestrator]) -> dict[str, Any]:
    orch_rss, prod_rss, prod_pss, cpu_orch, cpu_prod = [], [], [], 0.0, 0.0
    for o in orchs:
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(o.proc.pid)
            orch_rss.append(p.memory_info().rss)
            t = p.cpu_times()
            cpu_orch += t.user + t.system
            for child in p.children():
                with contextlib.suppress(psutil.Error):
                    full = child.memory_full_info()
                    prod_rss.append(full.rss)
                    prod_pss.append(full.pss)
                    ct = child.cpu_times()
                    cpu_prod += ct.user + ct.system
    mib = 1024 * 1024
    return {
        "orchestrator_rss_mib": [round(r / mib, 1) for r in orch_rss],
        "producer_count": len(prod_rss),
        "producer_rss_mib_mean": round(sum(prod_rss) / len(prod_rss) / mib, 1) if prod_rss else 0,
        "producer_rss_mib_max": round(max(prod_rss) / mib, 1) if prod_rss else 0,
        "producers_pss_mib_total": round(sum(prod_pss) / mib, 1),
        "orch_cpu_s": cpu_orch,
        "producers_cpu_s": cpu_prod,
    }


def measure_loops(
    loops: int,
    latency_ms: float,
    request_size: int,
    window_s: float,
    startup_timeout_s: float,
    trace_ep: str | None = None,
) -> dict[str, Any]:
    n_orch = math.ceil(loops / MAX_PER_ORCHESTRATOR)
    split = [loops // n_orch + (1 if i < loops % n_orch else 0) for i in range(n_orch)]
    orchs: list[Orchestrator] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        try:
            t_start = time.monotonic()
            for i, producers in enumerate(split):
                orchs.append(
                    start_orchestrator(
                        producers, latency_ms, request_size, Path(tmp) / f"o{i}", trace_ep
                    )
                )
            while any(o.connected < o.producers for o in orchs):
                if time.monotonic() - t_start > startup_timeout_s:
                    raise RuntimeError(
                        f"only {sum(o.connected for o in orchs)}/{loops} producers connected"
                    )
                if any(o.proc.poll() is not None for o in orchs):
                    raise RuntimeError("an orchestrator exited:\n" + "".join(orchs[0].lines[-20:]))
                time.sleep(0.1)
            startup_s = time.monotonic() - t_start
            # first progress line after everyone is connected starts the window
            marks = [len(o.samples) for o in orchs]
            while any(len(o.samples) <= m for o, m in zip(orchs, marks, strict=True)):
                time.sleep(0.05)
            first = [o.samples[-1] for o in orchs]
            cpu0 = memory_snapshot(orchs)
            time.sleep(window_s / 2)
            mem = memory_snapshot(orchs)
            # wait until each orchestrator has a sample at least window_s after its first
            deadline = time.monotonic() + window_s + 15
            while any(
                o.samples[-1][0] - f[0] < window_s for o, f in zip(orchs, first, strict=True)
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError("progress lines stopped")
                time.sleep(0.1)
            last = [o.samples[-1] for o in orchs]
            cpu1 = memory_snapshot(orchs)
        finally:
            stop_all(orchs)
        codes = [o.proc.returncode for o in orchs]
    requests_per_s = sum(
        (b1 - b0) / (t1 - t0) for (t0, b0, _), (t1, b1, _) in zip(first, last, strict=True)
    )
    cands_per_s = sum(
        (c1 - c0) / (t1 - t0) for (t0, _, c0), (t1, _, c1) in zip(first, last, strict=True)
    )
    elapsed = sum(lt[0] - ft[0] for ft, lt in zip(first, last, strict=True)) / len(orchs)
    ideal = loops / (latency_ms / 1000)
    return {
        "loops": loops,
        "traced": trace_ep is not None,
        "orchestrators": n_orch,
        "latency_ms": latency_ms,
        "request_size": request_size,
        "startup_s": round(startup_s, 2),
        "window_s": round(elapsed, 2),
        "requests_per_s": round(requests_per_s, 1),
        "candidates_per_s": round(cands_per_s, 1),
        "ideal_requests_per_s": round(ideal, 1),
        "efficiency": round(requests_per_s / ideal, 3),
        "orch_cores_busy": round((cpu1["orch_cpu_s"] - cpu0["orch_cpu_s"]) / elapsed, 2),
        "producer_cores_busy": round(
            (cpu1["producers_cpu_s"] - cpu0["producers_cpu_s"]) / elapsed, 2
        ),
        "memory": mem,
        "exit_codes": codes,
    }


# --------------------------------------------------------------- part B
def _rss() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(checkpoints: list[int], batch: int = 10_000) -> dict[str, Any]:
    """Run in a fresh process: uniques into a DedupIndex, RSS growth at each checkpoint."""
    import gc

    from system.dedup.index import DedupIndex

    gc.collect()
    index = DedupIndex()
    base = _rss()
    added, text_bytes = 0, 0
    results = []
    started = time.perf_counter()
    for target in sorted(checkpoints):
        while added < target:
            n = min(batch, target - added)
            strings = [
                f"Synthetic attraction {i:09d} of the old town" for i in range(added, added + n)
            ]
            text_bytes += sum(len(s.encode()) + 1 for s in strings)
            result = index.add_batch(strings)
            added += len(result.new)
            del strings, result
        gc.collect()
        grown = _rss() - base
        bloom = len(index.bloom_bytes())
        results.append(
            {
                "uniques": len(index),
                "rss_growth_mib": round(grown / 2**20, 1),
                "bytes_per_unique": round(grown / len(index), 1),
                "set_table_bytes_per_unique": round(sys.getsizeof(index._keys) / len(index), 1),
                "int_object_bytes": sys.getsizeof(2**63),
                "bloom_bytes_per_unique": round(bloom / len(index), 2),
                "bloom_capacity": index.capacity,
                "text_bytes_per_unique_on_disk": round(text_bytes / added, 1),
                "elapsed_s": round(time.perf_counter() - started, 1),
            }
        )
    return {"checkpoints": results}


def run_memory(checkpoints: list[int]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", ",".join(map(str, checkpoints))],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=900,
    )  # fmt: skip
    return json.loads(out.stdout)


# ---------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for the smoke test")
    parser.add_argument("--loops", default="8,32,64,128", help="producer loops per step")
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--request-size", type=int, default=60)
    parser.add_argument("--window-s", type=float, default=10.0)
    parser.add_argument(
        "--traced-loops", default=None, help="steps to repeat with tracing (default: the largest)"
    )
    parser.add_argument("--uniques", default="1000000,10000000", help="memory checkpoints")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(memory_child([int(x) for x in args.memory_child.split(",")])))
        return
    loops = [int(x) for x in args.loops.split(",")]
    uniques = [int(x) for x in args.uniques.split(",")]
    window = args.window_s
    if args.quick:
        loops, uniques, window = [2, 4], [10_000, 100_000], 5.0
    traced_loops = (
        [int(x) for x in args.traced_loops.split(",") if x]
        if args.traced_loops is not None
        else [max(loops)]
    )

    precompile()  # measure the system as installed: bytecode compiled
    info = machine()
    steps = []
    with collector() as col:
        plan = [(n, None) for n in loops] + [(n, col.http_endpoint) for n in traced_loops]
        for n, trace_ep in plan:
            steps.append(
                measure_loops(n, args.latency_ms, args.request_size, window, 180, trace_ep=trace_ep)
            )
            col.store.clear()
            label = "traced" if trace_ep else "untraced"
            print(f"  {n} loops ({label}): {steps[-1]['requests_per_s']} req/s", file=sys.stderr)
    memory = run_memory(uniques)

    rows = [
        [
            s["loops"],
            "on" if s["traced"] else "off",
            s["orchestrators"],
            s["startup_s"],
            s["requests_per_s"],
            s["ideal_requests_per_s"],
            f"{s['efficiency']:.0%}",
            round(s["candidates_per_s"]),
            s["orch_cores_busy"],
            s["producer_cores_busy"],
            "/".join(str(r) for r in s["memory"]["orchestrator_rss_mib"]),
            s["memory"]["producer_rss_mib_mean"],
            s["memory"]["producers_pss_mib_total"],
        ]
        for s in steps
    ]
    table = markdown_table(
        [
            "producer loops",
            "tracing",
            "orchestrators",
            "startup s",
            "requests/s",
            "ideal req/s",
            "efficiency",
            "candidates/s",
            "orch cores busy",
            "producer cores busy",
            "orch RSS MiB",
            "producer RSS MiB (mean)",
            "producers PSS MiB (total)",
        ],
        rows,
    )
    mem_rows = [
        [
            c["uniques"],
            c["rss_growth_mib"],
            c["bytes_per_unique"],
            c["set_table_bytes_per_unique"],
            c["int_object_bytes"],
            c["bloom_bytes_per_unique"],
            c["text_bytes_per_unique_on_disk"],
        ]
        for c in memory["checkpoints"]
    ]
    mem_table = markdown_table(
        [
            "uniques",
            "RSS growth MiB",
            "bytes/unique",
            "set table bytes/unique",
            "int object bytes",
            "Bloom bytes/unique",
            "text bytes/unique (on disk)",
        ],
        mem_rows,
    )
    worst = max(c["bytes_per_unique"] for c in memory["checkpoints"])
    untraced = [s for s in steps if not s["traced"]]
    largest = max(untraced, key=lambda s: s["loops"])
    verdict = (
        f"memory per unique: worst {worst:.0f} bytes (target <= {TARGET_BYTES_PER_UNIQUE}): "
        f"{'met' if worst <= TARGET_BYTES_PER_UNIQUE else 'NOT met'}; "
        f"throughput efficiency at {largest['loops']} loops: {largest['efficiency']:.0%}"
    )
    print(f"machine: {info['cores']} cores, {info['cpu_model']}, {info['memory_gib']} GiB, "
          f"load {info['load_average_at_start']}")  # fmt: skip
    print_section(
        f"Throughput vs producer loops (simulated LLM, {args.latency_ms:.0f} ms latency, "
        f"request size {args.request_size})",
        table,
    )
    print_section("Memory per unique attribute (DedupIndex, synthetic uniques)", mem_table)
    print(verdict)
    write_result(
        "scale",
        {
            "machine": info,
            "steps": steps,
            "memory": memory,
            "verdict": verdict,
            "table_markdown": table,
            "memory_markdown": mem_table,
        },
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
