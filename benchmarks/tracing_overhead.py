"""Benchmark 3: wall time of the same run with tracing to the embedded collector vs off.

    .venv/bin/python benchmarks/tracing_overhead.py            # full run (~1.5 min)
    .venv/bin/python benchmarks/tracing_overhead.py --quick    # smoke run

Zero-latency simulated producers, so the run is CPU-bound and tracing's cost
is as visible as it can be (with real LLM latency it disappears in the wait).
Runs alternate off/on, repeated; the ratio is median(on) / median(off) of
the run's duration (run.json) and of the whole process's wall time (imports,
SDK set-up and the final span flush included). The collector runs in this
process, on the same two cores, as it does in the tester.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from _common import (
    RESULTS_DIR,
    collector,
    machine,
    markdown_table,
    median,
    print_section,
    run_orchestrator,
    write_result,
)

TARGET_RATIO = 1.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for the smoke test")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument(
        "--configs",
        default="1000:400,60:2000",
        help="request_size:iterations per producer, comma-separated",
    )
    args = parser.parse_args()
    configs = [tuple(int(v) for v in c.split(":")) for c in args.configs.split(",")]
    repeats = args.repeats
    if args.quick:
        configs, repeats = [(1000, 20)], 2

    info = machine()
    samples: dict[tuple[int, int], dict[bool, list[dict[str, Any]]]] = {}
    with collector() as col:
        for size, iterations in configs:
            per_mode: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for rep in range(repeats):
                order = (False, True) if rep % 2 == 0 else (True, False)
                for traced in order:
                    before = len(col.store)
                    cpu_before = time.process_time()  # this process: the collector's threads
                    run = run_orchestrator(
                        producers=args.producers,
                        iterations=iterations,
                        request_size=size,
                        trace_ep=col.http_endpoint if traced else None,
                    )
                    if traced:
                        col.store.wait_quiet(0.3, timeout=10)
                        run.spans_received = len(col.store) - before
                    run.extra["collector_cpu_s"] = time.process_time() - cpu_before
                    per_mode[traced].append(run.to_dict())
                    col.store.clear()
            samples[(size, iterations)] = per_mode

    rows = []
    summary = []
    for (size, iterations), per_mode in samples.items():
        off, on = per_mode[False], per_mode[True]
        run_off = median([r["run_duration_s"] for r in off])
        run_on = median([r["run_duration_s"] for r in on])
        wall_off = median([r["wall_s"] for r in off])
        wall_on = median([r["wall_s"] for r in on])
        cpu_off = median([r["orch_cpu_s"] for r in off])
        cpu_on = median([r["orch_cpu_s"] for r in on])
        coll_on = median([r["extra"]["collector_cpu_s"] for r in on])
        prod_off = median([r["producers_cpu_s"] for r in off])
        prod_on = median([r["producers_cpu_s"] for r in on])
        entry = {
            "request_size": size,
            "producers": args.producers,
            "iterations": iterations,
            "candidates": on[0]["candidates"],
            "batches": on[0]["batches"],
            "spans_per_run": median([r["spans_received"] for r in on]),
            "repeats": repeats,
            "median_run_s": {"off": run_off, "on": run_on},
            "median_wall_s": {"off": wall_off, "on": wall_on},
            "median_orch_cpu_s": {"off": cpu_off, "on": cpu_on},
            "ratio_run": run_on / run_off,
            "ratio_wall": wall_on / wall_off,
            "ratio_orch_cpu": cpu_on / cpu_off,
            "median_producers_cpu_s": {"off": prod_off, "on": prod_on},
            "median_collector_cpu_s_on": coll_on,
            "orch_cpu_us_per_span": 1e6 * (cpu_on - cpu_off) / max(1, on[0]["spans_received"]),
        }
        summary.append(entry)
        rows.append(
            [
                size,
                args.producers,
                entry["batches"],
                entry["candidates"],
                round(entry["spans_per_run"]),
                round(run_off, 3),
                round(run_on, 3),
                f"{entry['ratio_run']:.3f}",
                round(wall_off, 3),
                round(wall_on, 3),
                f"{entry['ratio_wall']:.3f}",
                f"{entry['ratio_orch_cpu']:.3f}",
                round(entry["orch_cpu_us_per_span"]),
                round(prod_on - prod_off, 2),
                round(coll_on, 2),
            ]
        )
    table = markdown_table(
        [
            "request size",
            "producers",
            "batches",
            "candidates",
            "spans",
            "run s off",
            "run s on",
            "ratio (run)",
            "wall s off",
            "wall s on",
            "ratio (wall)",
            "ratio (orch CPU)",
            "orch CPU µs per span",
            "extra producer CPU s",
            "collector CPU s",
        ],
        rows,
    )
    worst = max(e["ratio_run"] for e in summary)
    verdict = (
        f"worst median run-time ratio on/off: {worst:.3f} (target <= {TARGET_RATIO}): "
        f"{'met' if worst <= TARGET_RATIO else 'NOT met'}"
    )
    print(f"machine: {info['cores']} cores, {info['cpu_model']}, {info['memory_gib']} GiB, "
          f"load {info['load_average_at_start']}")  # fmt: skip
    print_section(f"Tracing overhead (median of {repeats} runs each, alternating)", table)
    print(verdict)
    path = write_result(
        "tracing_overhead",
        {
            "machine": info,
            "target_ratio": TARGET_RATIO,
            "configs": summary,
            "runs": {
                f"{size}:{it}": {"off": m[False], "on": m[True]}
                for (size, it), m in samples.items()
            },
            "verdict": verdict,
            "table_markdown": table,
        },
        quick=args.quick,
    )
    print(f"wrote {Path(path).relative_to(RESULTS_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
