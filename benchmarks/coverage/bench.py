"""Benchmark 1 (coverage): requests and tokens to reach 50/90/99% of a known universe.

Drives the real orchestrator with real producer processes on the simulated
LLM (``--provider test``, zero latency), once per lever configuration, and
collects every run's spans in the tester's embedded OTLP collector. Each
``batch.receive`` span is one LLM request (``batch.new``, ``batch.input_tokens``,
``batch.output_tokens``); in start order they line up with the lines of
``attributes.txt``, so the coverage after every request is the share of the
topic's universe (``SimulatedModel.universe``, deterministic) found so far.

    .venv/bin/python benchmarks/coverage/bench.py --sim-profile weak     # ~2 minutes
    .venv/bin/python benchmarks/coverage/bench.py --sim-profile strong
    .venv/bin/python benchmarks/coverage/bench.py --quick    # smaller cap, for a smoke test

``--sim-profile`` picks the simulated model (``weak``: follows avoid lists and
partitions only partly; ``strong``: a large instruction-following model).
Writes benchmarks/coverage/results/coverage-<profile>.json, .md and .png.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from system.dedup.normalize import normalize  # noqa: E402
from system.providers.simulated import SimulatedModel  # noqa: E402
from tester.collector import Collector  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TOPIC = "Harbours"  # a simulated universe of 890 items
TARGETS = (0.5, 0.9, 0.99)
NAIVE = ["--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive"]

#: name -> orchestrator flags; "naive" is every lever off
CONFIGS: dict[str, list[str]] = {
    "naive": NAIVE,
    "shared state": ["--no-partitions", "--no-prefilter", "--no-adaptive"],
    "partitions": ["--no-shared-state", "--no-prefilter", "--no-adaptive"],
    "prefilter": ["--no-shared-state", "--no-partitions", "--no-adaptive"],
    "shared state + adaptive": ["--no-partitions", "--no-prefilter"],
    "near-duplicates": [*NAIVE, "--near-duplicates"],
    "all levers": [],
    "all levers, sub-topic partitions": ["--partition-by", "subtopics"],
    "all levers + near-duplicates": ["--near-duplicates"],
}


@dataclass
class Curve:
    name: str
    requests: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    uniques: int = 0  # lines written (including variants outside the universe)
    stop_reason: str = ""
    wall_s: float = 0.0

    def first(self, target: float) -> tuple[int, int] | None:
        for r, t, c in zip(self.requests, self.tokens, self.coverage, strict=True):
            if c >= target:
                return r, t
        return None


def machine() -> dict[str, Any]:
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "memory": mem, "python": platform.python_version()}


def run_config(
    collector: Collector,
    name: str,
    flags: list[str],
    *,
    producers: int,
    request_size: int,
    iterations: int | None,
    workdir: Path,
    universe_keys: set[str],
    sim_profile: str = "weak",
    sim_latency_ms: float = 0.0,
) -> Curve:
    out = workdir / name.replace(" ", "_").replace("+", "and")
    argv = [
        sys.executable, "-m", "system.orchestrator", "--topic", TOPIC,
        "--producers", str(producers), "--request-size", str(request_size),
        "--output", str(out), "--trace-ep", collector.http_endpoint, "--no-progress",
        "--log-level", "warn", "--sim-profile", sim_profile,
        "--sim-latency-ms", str(sim_latency_ms), *flags,
    ]  # fmt: skip
    if iterations is not None:
        argv += ["--iterations", str(iterations)]
    env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BSP_MAX_QUEUE_SIZE": "65536"}
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: orchestrator exited {proc.returncode}: {proc.stderr[-2000:]}")
    summary = json.loads((out / "run.json").read_text())
    trace_id = summary["trace_id"]
    expected = summary["counts"]["batches"]
    deadline = time.monotonic() + 120
    while True:
        batches = [s for s in collector.store.by_trace(trace_id) if s.name == "batch.receive"]
        if len(batches) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if len(batches) != expected:
        raise RuntimeError(f"{name}: {len(batches)} batch spans for {expected} batches")
    batches.sort(key=lambda s: s.start_ns)
    lines = (out / "attributes.txt").read_text(encoding="utf-8").splitlines()
    curve = Curve(name, stop_reason=summary["reason"], wall_s=round(wall, 2), uniques=len(lines))
    found: set[str] = set()
    position = tokens = 0
    for n, span in enumerate(batches, 1):
        new = int(span.attr("batch.new", 0))
        for line in lines[position : position + new]:
            key = normalize(line)
            if key in universe_keys:
                found.add(key)
        position += new
        tokens += int(span.attr("batch.input_tokens", 0)) + int(span.attr("batch.output_tokens", 0))
        curve.requests.append(n)
        curve.tokens.append(tokens)
        curve.coverage.append(len(found) / len(universe_keys))
    if position != len(lines):
        raise RuntimeError(f"{name}: batches account for {position} lines, file has {len(lines)}")
    return curve


def table(curves: list[Curve], universe: int, request_size: int) -> str:
    ideal = universe / request_size
    naive = next((c for c in curves if c.name == "naive"), None)
    head = ["configuration"]
    for t in TARGETS:
        pct = f"{t:.0%}"
        head += [f"requests to {pct}", f"x ideal ({pct})", f"tokens to {pct}"]
    head += ["tokens per universe item found at 90%", "fewer requests than naive at 90%"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in curves:
        cells = [c.name]
        for t in TARGETS:
            hit = c.first(t)
            if hit is None:
                cells += [
                    f"not reached ({c.requests[-1] if c.requests else 0}: "
                    f"{(c.coverage[-1] if c.coverage else 0):.1%})",
                    "-",
                    "-",
                ]
            else:
                cells += [str(hit[0]), f"{hit[0] / (t * ideal):.2f}", f"{hit[1]:,}"]
        hit90 = c.first(0.9)
        naive90 = naive.first(0.9) if naive else None
        cells.append(f"{hit90[1] / (0.9 * universe):.0f}" if hit90 else "-")
        cells.append(f"{naive90[0] / hit90[0]:.2f}x" if hit90 and naive90 else "-")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def plot(
    curves: list[Curve], universe: int, request_size: int, path: Path, sim_profile: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    for c in curves:
        ax.plot(c.requests, [100 * x for x in c.coverage], label=c.name, linewidth=1.4)
    ideal = universe / request_size
    xs = [x / 10 for x in range(10, int(ideal * 10) + 1)] + [max(len(c.requests) for c in curves)]
    ax.plot(xs, [min(100.0, 100 * x / ideal) for x in xs], "k:", label="ideal (universe / size)")
    ax.set_xscale("log")
    ax.set_xlabel("LLM requests (log scale)")
    ax.set_ylabel(f"coverage of the {universe}-item universe (%)")
    ax.set_title(
        f"Coverage vs requests: simulated LLM ({sim_profile} profile), request size {request_size}"
    )
    for t in TARGETS:
        ax.axhline(100 * t, color="grey", linewidth=0.5)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--producers", type=int, default=4)
    p.add_argument("--request-size", type=int, default=30)
    p.add_argument("--max-requests", type=int, default=1600, help="cap per configuration")
    p.add_argument("--quick", action="store_true", help="cap 200 requests, 3 configurations")
    p.add_argument("--only", action="append", default=[], help="run only these configurations")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument(
        "--sim-latency-ms", type=float, default=20.0,
        help="simulated LLM latency (default 20: at 0 the producers' loops starve the delivery "
        "of deltas and partition updates, which real latencies of seconds never do)",
    )  # fmt: skip
    p.add_argument(
        "--sim-profile", choices=("weak", "strong"), default="weak",
        help="simulated model: weak (partial instruction follower) or strong",
    )  # fmt: skip
    args = p.parse_args(argv)
    configs = dict(CONFIGS)
    if args.quick:
        args.max_requests = 200
        configs = {k: v for k, v in CONFIGS.items() if k in ("naive", "shared state", "all levers")}
    if args.only:
        configs = {k: v for k, v in configs.items() if k in args.only}
    universe = SimulatedModel().universe(TOPIC)
    universe_keys = {normalize(x) for x in universe}
    iterations = math.ceil(args.max_requests / args.producers)
    args.out.mkdir(parents=True, exist_ok=True)
    curves: list[Curve] = []
    with Collector(enable_grpc=False) as collector, tempfile.TemporaryDirectory() as tmp:
        for name, flags in configs.items():
            curve = run_config(
                collector, name, flags, producers=args.producers,
                request_size=args.request_size, iterations=iterations,
                workdir=Path(tmp), universe_keys=universe_keys, sim_profile=args.sim_profile,
                sim_latency_ms=args.sim_latency_ms,
            )  # fmt: skip
            curves.append(curve)
            print(
                f"{name:32s} requests {curve.requests[-1]:5d}  coverage "
                f"{curve.coverage[-1]:.1%}  wall {curve.wall_s:.1f}s",
                flush=True,
            )
        # the saturation stop: all levers, no --iterations, patience 0
        stop = run_config(
            collector, "all levers, saturation stop",
            ["--saturation", "0.02", "--saturation-patience", "0"],
            producers=args.producers, request_size=args.request_size, iterations=None,
            workdir=Path(tmp), universe_keys=universe_keys, sim_profile=args.sim_profile,
            sim_latency_ms=args.sim_latency_ms,
        )  # fmt: skip
    md = table(curves, len(universe), args.request_size)
    sat = (
        f"Saturation stop (all levers, no `--iterations`, threshold 0.02, patience 0): "
        f"stopped after {stop.requests[-1]} requests and {stop.tokens[-1]:,} tokens at "
        f"{stop.coverage[-1]:.1%} coverage; reason: {stop.stop_reason}"
    )
    print(md)
    print(sat)
    info = {
        "machine": machine(),
        "topic": TOPIC,
        "sim_profile": args.sim_profile,
        "sim_latency_ms": args.sim_latency_ms,
        "universe": len(universe),
        "producers": args.producers,
        "request_size": args.request_size,
        "ideal_requests_100pct": round(len(universe) / args.request_size, 2),
        "max_requests": args.max_requests,
        "curves": [c.__dict__ for c in curves],
        "saturation_stop": {
            "requests": stop.requests[-1],
            "tokens": stop.tokens[-1],
            "coverage": stop.coverage[-1],
            "reason": stop.stop_reason,
        },
    }
    stem = f"coverage-{args.sim_profile}" + (".quick" if args.quick else "")
    (args.out / f"{stem}.json").write_text(json.dumps(info, indent=1))
    (args.out / f"{stem}.md").write_text(
        f"Simulated model profile: {args.sim_profile}\n\n" + md + "\n\n" + sat + "\n"
    )
    plot(curves, len(universe), args.request_size, args.out / f"{stem}.png", args.sim_profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
