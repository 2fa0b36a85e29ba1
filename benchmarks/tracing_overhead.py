"""Benchmark 3: wall time of the same run with tracing to the embedded collector vs off.

    .venv/bin/python benchmarks/tracing_overhead.py            # full run (~1.5 min)
    .venv/bin/python benchmarks/tracing_overhead.py --quick    # smoke run

Two kinds of run. With zero-latency simulated producers the run is
CPU-bound and tracing's cost is as visible as it can be; with the simulated
LLM answering in 300 ms (hosted models take 200-500 ms or more) the run is
what users run, and tracing's cost hides in the wait. Runs alternate off/on,
repeated; the ratio is median(on) / median(off) of the run's duration
(run.json) and of the whole process's wall time (imports, SDK set-up and the
final span flush included). The collector runs in this process, on the same
two cores, as it does in the tester. A micro-benchmark in this process gives
the OpenTelemetry SDK's own cost per span on this machine: creating and
ending a span with the attributes of a ``batch.receive``, and encoding it to
OTLP protobuf, which is what every traced process pays per span.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from _common import (
    collector,
    machine,
    markdown_table,
    median,
    precompile,
    print_section,
    run_orchestrator,
    write_result,
)

TARGET_RATIO = 1.05
#: request_size:iterations[:sim latency ms[:producers]]
DEFAULT_CONFIGS = "1000:400,60:2000,60:30:300:8"


def parse_config(text: str, producers: int) -> tuple[int, int, float, int]:
    parts = [float(v) for v in text.split(":")]
    if not 2 <= len(parts) <= 4:
        raise argparse.ArgumentTypeError(f"bad config {text!r}: size:iterations[:ms[:producers]]")
    latency = parts[2] if len(parts) > 2 else 0.0
    return int(parts[0]), int(parts[1]), latency, int(parts[3]) if len(parts) > 3 else producers


def sdk_span_costs(n: int = 5000) -> dict[str, float]:
    """µs per span: create+end with batch.receive's attributes, and OTLP protobuf encoding."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        return min(times) * 1e6 / n

    def create() -> None:
        exporter.clear()
        for i in range(n):
            with tracer.start_as_current_span(
                "batch.receive",
                attributes={"producer.id": 1, "run.id": "r" * 32, "batch.seq": i},
            ) as span:
                span.set_attributes(
                    {
                        "batch.candidates": 60,
                        "batch.new": 3,
                        "batch.duplicates": 57,
                        "batch.rejected": 0,
                        "batch.input_tokens": 40,
                        "batch.output_tokens": 400,
                    }
                )

    create_us = best(create)
    spans = exporter.get_finished_spans()
    encode_us = best(lambda: encode_spans(spans).SerializeToString())
    provider.shutdown()
    return {"create_end_us": round(create_us, 1), "encode_us": round(encode_us, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for the smoke test")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help="request_size:iterations per producer[:sim latency ms[:producers]], "
        f"comma-separated (default {DEFAULT_CONFIGS})",
    )
    args = parser.parse_args()
    configs = [parse_config(c, args.producers) for c in args.configs.split(",")]
    repeats = args.repeats
    if args.quick:
        configs, repeats = [(1000, 20, 0.0, 2), (60, 3, 50.0, 2)], 2

    precompile()  # measure the system as installed: bytecode compiled
    info = machine()
    span_costs = sdk_span_costs(500 if args.quick else 5000)
    samples: dict[tuple[int, int, float, int], dict[bool, list[dict[str, Any]]]] = {}
    with collector() as col:
        for size, iterations, latency, producers in configs:
            per_mode: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for rep in range(repeats):
                order = (False, True) if rep % 2 == 0 else (True, False)
                for traced in order:
                    before = len(col.store)
                    cpu_before = time.process_time()  # this process: the collector's threads
                    run = run_orchestrator(
                        producers=producers,
                        iterations=iterations,
                        request_size=size,
                        sim_latency_ms=latency,
                        trace_ep=col.http_endpoint if traced else None,
                    )
                    if traced:
                        col.store.wait_quiet(0.3, timeout=10)
                        run.spans_received = len(col.store) - before
                    run.extra["collector_cpu_s"] = time.process_time() - cpu_before
                    per_mode[traced].append(run.to_dict())
                    col.store.clear()
            samples[(size, iterations, latency, producers)] = per_mode

    rows = []
    summary = []
    for (size, iterations, latency, producers), per_mode in samples.items():
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
            "sim_latency_ms": latency,
            "producers": producers,
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
                round(latency),
                producers,
                entry["batches"],
                entry["candidates"],
                round(entry["spans_per_run"]),
                round(run_off, 3),
                round(run_on, 3),
                f"{entry['ratio_run']:.3f}",
                round(run_on - run_off, 3),
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
            "LLM latency ms",
            "producers",
            "batches",
            "candidates",
            "spans",
            "run s off",
            "run s on",
            "ratio (run)",
            "extra run s",
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

    def verdict_for(entries: list[dict[str, Any]], label: str) -> str:
        if not entries:
            return f"{label}: not run"
        worst = max(e["ratio_run"] for e in entries)
        met = "met" if worst <= TARGET_RATIO else "NOT met"
        return (
            f"{label}: worst median run-time ratio on/off {worst:.3f} "
            f"(target <= {TARGET_RATIO}): {met}"
        )

    verdict = "; ".join(
        [
            verdict_for([e for e in summary if e["sim_latency_ms"] > 0], "with LLM latency"),
            verdict_for(
                [e for e in summary if e["sim_latency_ms"] == 0], "zero latency (CPU-bound)"
            ),
        ]
    )
    span_table = markdown_table(
        ["create + end µs/span", "OTLP encode µs/span"],
        [[span_costs["create_end_us"], span_costs["encode_us"]]],
    )
    print(f"machine: {info['cores']} cores, {info['cpu_model']}, {info['memory_gib']} GiB, "
          f"load {info['load_average_at_start']}")  # fmt: skip
    print_section(f"Tracing overhead (median of {repeats} runs each, alternating)", table)
    print_section("OpenTelemetry SDK cost per span (this process, best of 3, CPU)", span_table)
    print(verdict)
    write_result(
        "tracing_overhead",
        {
            "machine": info,
            "target_ratio": TARGET_RATIO,
            "configs": summary,
            "sdk_span_costs": span_costs,
            "runs": {
                f"{size}:{it}:{ms:g}:{n}": {"off": m[False], "on": m[True]}
                for (size, it, ms, n), m in samples.items()
            },
            "verdict": verdict,
            "table_markdown": table,
            "span_table_markdown": span_table,
        },
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
