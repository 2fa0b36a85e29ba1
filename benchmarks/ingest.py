"""Benchmark 2: ingest throughput of the orchestrator with zero-latency simulated producers.

    .venv/bin/python benchmarks/ingest.py            # full run (~2-3 min on 2 cores)
    .venv/bin/python benchmarks/ingest.py --quick    # smoke run

For 1, 2, 4 and 8 producers, tracing off and on (to the tester's embedded
collector), each config processes the same number of batches in total. It
reports candidates/s end to end (run.json counts / run.json duration, which
includes spawning producers and stopping them), the sustained rate (run.json
timings.candidates_per_s: from the first batch to the last), the orchestrator's own CPU
time per candidate (os.times() of the orchestrator process, see
_orchestrator_probe.py), the marginal CPU per candidate (minus the CPU of
a one-candidate run: imports, spawning, shutdown) and the rate that marginal
cost would allow if the orchestrator had a core to itself, next to the single-core cost of
clean+normalize+xxh3+set lookup (DedupIndex.add_batch) measured here on the
same kind of candidates. Levers are off (every candidate reaches the
orchestrator), except in the "on+prefilter" rows: producers drop what their
Bloom copy already knows and send keys, so fewer candidates arrive and the
orchestrator only cleans them. One extra traced run is profiled with cProfile.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

import msgpack
from _common import (
    LEVERS_OFF,
    RESULTS_DIR,
    TOPIC,
    collector,
    machine,
    markdown_table,
    precompile,
    print_section,
    run_orchestrator,
    top_functions,
    write_result,
)

from system.dedup.index import DedupIndex
from system.dedup.keys import attribute_key
from system.dedup.normalize import clean_display, normalize
from system.producer.parse import parse_response
from system.providers.simulated import SimulatedModel

TARGET_CANDIDATES_PER_S = 250_000
#: producers drop candidates their Bloom copy knows and send keys (the orchestrator only cleans)
PREFILTER_ONLY = tuple(a for a in LEVERS_OFF if a != "--no-prefilter")


def sample_batches(request_size: int, batches: int) -> list[list[str]]:
    """Candidate lists as producers send them: parsed simulated answers for TOPIC."""
    model = SimulatedModel()
    prompt = (
        f"Topic: {TOPIC}\nList {request_size} distinct items, one per line, "
        "with no numbering and no commentary."
    )
    rng = random.Random(7)
    return [
        parse_response(model.complete(prompt, rng.getrandbits(63)).text) for _ in range(batches)
    ]


def dedup_microbench(batches: list[list[str]], repeats: int = 3) -> dict[str, float]:
    """Single-core cost per candidate of the orchestrator's dedup steps (best of repeats)."""
    candidates = [c for batch in batches for c in batch]
    n = len(candidates)

    def best(fn: Any) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) * 1e6 / n

    normalized = [normalize(clean_display(c)) for c in candidates]
    keys = [attribute_key(t) for t in normalized]
    key_set = set(keys)
    packed = [msgpack.packb(batch) for batch in batches]

    def full() -> None:
        index = DedupIndex()
        for batch in batches:
            index.add_batch(batch)

    def memoized() -> None:
        # what-if, not the system's code: exact candidate strings repeat in LLM answers, so a
        # bounded dict raw -> key in front of clean+normalize+hash skips most of the work
        cache: dict[str, int] = {}
        seen: set[int] = set()
        for c in candidates:
            key = cache.get(c)
            if key is None:
                key = attribute_key(normalize(clean_display(c)))
                if len(cache) < 65_536:
                    cache[c] = key
            if key not in seen:
                seen.add(key)

    return {
        "candidates": n,
        "add_batch_us": best(full),
        "memoized_what_if_us": best(memoized),
        "distinct_raw_share": len(set(candidates)) / n,
        "clean_display_us": best(lambda: [clean_display(c) for c in candidates]),
        "normalize_us": best(lambda: [normalize(c) for c in candidates]),
        "xxh3_us": best(lambda: [attribute_key(t) for t in normalized]),
        "set_lookup_us": best(lambda: [k in key_set for k in keys]),
        "msgpack_unpack_us": best(lambda: [msgpack.unpackb(p) for p in packed]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for the smoke test")
    parser.add_argument("--producers", default="1,2,4,8", help="comma-separated counts")
    parser.add_argument("--request-sizes", default="1000,60", help="comma-separated sizes")
    parser.add_argument(
        "--candidates", type=int, default=400_000, help="approx. candidates per config"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    args = parser.parse_args()
    producer_counts = [int(x) for x in args.producers.split(",")]
    sizes = [int(x) for x in args.request_sizes.split(",")]
    total_candidates = args.candidates
    if args.quick:
        producer_counts, sizes, total_candidates = [1, 2], [1000], 20_000

    precompile()  # measure the system as installed: bytecode compiled
    info = machine()
    runs: list[dict[str, Any]] = []
    micro: dict[int, dict[str, float]] = {}
    profile: dict[str, Any] | None = None
    with collector() as col:
        # the orchestrator's fixed CPU cost (imports, spawn, shutdown) per tracing mode,
        # subtracted to get the marginal CPU per candidate
        baseline_cpu = {
            traced: run_orchestrator(
                producers=1,
                iterations=1,
                request_size=1,
                trace_ep=col.http_endpoint if traced else None,
            ).orch_cpu_s
            for traced in (False, True)
        }
        for size in sizes:
            sample = sample_batches(size, 40 if args.quick else 200)
            per_batch = sum(map(len, sample)) / len(sample)
            micro[size] = {**dedup_microbench(sample), "candidates_per_batch": per_batch}
            total_batches = max(1, round(total_candidates / per_batch))
            for producers in producer_counts:
                iterations = max(1, total_batches // producers)
                modes = [("off", False, LEVERS_OFF), ("on", True, LEVERS_OFF)]
                if size == sizes[0] and producers in (producer_counts[0], producer_counts[-1]):
                    modes.append(("on+prefilter", True, PREFILTER_ONLY))
                for mode, traced, lever_args in modes:
                    before = len(col.store)
                    run = run_orchestrator(
                        producers=producers,
                        iterations=iterations,
                        request_size=size,
                        trace_ep=col.http_endpoint if traced else None,
                        extra_args=lever_args,
                    )
                    run.extra["mode"] = mode
                    if traced:
                        # the orchestrator flushes before exit; give the receiver a moment
                        col.store.wait_quiet(0.3, timeout=10)
                        run.spans_received = len(col.store) - before
                    record = run.to_dict()
                    marginal = max(0.0, run.orch_cpu_s - baseline_cpu[traced])
                    record["orch_marginal_us_per_candidate"] = round(
                        1e6 * marginal / run.candidates, 3
                    )
                    runs.append(record)
                    col.store.clear()
        if not args.no_profile:
            size = sizes[0]
            producers = producer_counts[-1]
            per_batch = micro[size]["candidates_per_batch"]
            iterations = max(1, round(total_candidates / per_batch) // producers)
            prof_path = RESULTS_DIR / ("ingest.quick.prof" if args.quick else "ingest.prof")
            RESULTS_DIR.mkdir(exist_ok=True)
            run = run_orchestrator(
                producers=producers,
                iterations=iterations,
                request_size=size,
                trace_ep=col.http_endpoint,
                profile_path=prof_path,
            )
            profile = {
                "config": {"producers": producers, "request_size": size, "traced": True},
                "orch_cpu_s": run.orch_cpu_s,
                "candidates": run.candidates,
                "top_tottime": top_functions(prof_path, 20),
                "file": str(prof_path.relative_to(RESULTS_DIR.parent.parent)),
            }

    rows = []
    for r in runs:
        m = micro[r["request_size"]]
        rows.append(
            [
                r["request_size"],
                r["producers"],
                r["extra"]["mode"],
                r["candidates"],
                r["run_duration_s"],
                round(r["candidates_per_s"]),
                round(r["sustained_candidates_per_s"]),
                r["orch_us_per_candidate"],
                r["orch_marginal_us_per_candidate"],
                # a marginal of 0 (short runs, CPU within the baseline's noise): no bound
                round(1e6 / r["orch_marginal_us_per_candidate"])
                if r["orch_marginal_us_per_candidate"] > 0
                else "-",
                round(r["orch_marginal_us_per_candidate"] / m["add_batch_us"], 1),
                round(r["orch_cpu_s"] / r["run_duration_s"], 2),
                round(r["producers_cpu_s"] / r["run_duration_s"], 2),
                r["spans_received"] if r["traced"] else "-",
            ]
        )
    table = markdown_table(
        [
            "request size",
            "producers",
            "tracing",
            "candidates",
            "run s",
            "candidates/s end to end",
            "sustained candidates/s",
            "orch CPU µs/cand",
            "marginal µs/cand",
            "orch-CPU-bound cand/s",
            "x dedup cost",
            "orch cores busy",
            "producer cores busy",
            "spans",
        ],
        rows,
    )
    micro_rows = [
        [
            size,
            round(m["candidates_per_batch"]),
            m["add_batch_us"],
            round(1e6 / m["add_batch_us"]),
            m["clean_display_us"],
            m["normalize_us"],
            m["xxh3_us"],
            m["set_lookup_us"],
            m["msgpack_unpack_us"],
            m["memoized_what_if_us"],
            f"{m['distinct_raw_share']:.2%}",
        ]
        for size, m in micro.items()
    ]
    micro_table = markdown_table(
        [
            "request size",
            "cand/batch",
            "add_batch µs/cand",
            "add_batch cand/s (1 core)",
            "clean_display µs",
            "normalize µs",
            "xxh3 µs",
            "set lookup µs",
            "msgpack unpack µs",
            "what-if memoized µs",
            "distinct raw strings",
        ],
        micro_rows,
    )
    traced = [r for r in runs if r["extra"]["mode"] == "on"]
    best_traced = max((r["candidates_per_s"] for r in traced), default=0.0)
    best_sustained = max((r["sustained_candidates_per_s"] for r in traced), default=0.0)
    met = "met" if best_sustained >= TARGET_CANDIDATES_PER_S else "NOT met"
    verdict = (
        f"best rate with tracing on: {best_sustained:,.0f} candidates/s sustained "
        f"(first to last batch), {best_traced:,.0f} over the whole run including "
        f"producer start-up; target {TARGET_CANDIDATES_PER_S:,} sustained: {met}"
    )
    print(f"machine: {info['cores']} cores, {info['cpu_model']}, {info['memory_gib']} GiB, "
          f"load {info['load_average_at_start']}")  # fmt: skip
    print_section("Ingest throughput (orchestrator runs)", table)
    print_section("Single-core dedup cost (same process, same kind of candidates)", micro_table)
    if profile:
        prof_rows = [
            [p["function"], p["calls"], p["tottime_s"], f"{100 * p['share_of_total']:.1f}%"]
            for p in profile["top_tottime"][:12]
        ]
        print_section(
            f"cProfile of the orchestrator ({profile['config']}), top own time",
            markdown_table(["function", "calls", "tottime s", "share"], prof_rows),
        )
    print(verdict)
    write_result(
        "ingest",
        {
            "machine": info,
            "orchestrator_baseline_cpu_s": {"off": baseline_cpu[False], "on": baseline_cpu[True]},
            "target_candidates_per_s": TARGET_CANDIDATES_PER_S,
            "runs": runs,
            "dedup_microbench": micro,
            "profile": profile,
            "verdict": verdict,
            "table_markdown": table,
            "microbench_markdown": micro_table,
        },
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
