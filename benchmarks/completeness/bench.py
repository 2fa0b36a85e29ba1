"""Completeness benchmark: how good is the live estimate on universes we know?

Drives the real orchestrator with real producer processes on the simulated
LLM (``--provider test``, zero latency), collects each run's spans in the
tester's embedded collector and reads the ``coverage.estimate`` events of the
``topic.run`` span (docs/tracing.md "Completeness"). The simulated universe
of a topic is known (``SimulatedModel.universe``), and attributes.txt is in
first-seen order, so the true coverage when an event was emitted is the share
of the universe among the first ``coverage.found`` lines.

Part 1, accuracy: per profile and lever setting, ``--seeds`` runs on as many
topics (universes of 300-900 items); at every event once half the universe is
found: the estimated universe's error and whether the true coverage lies in
the reported interval.

Part 2, the stop rule: ``--target-coverage 0.9`` runs (open-ended, saturation
off, an iteration cap as a safety net): requests when the run stopped against
the requests the same run needed to truly reach 90% (from its
``batch.receive`` spans, in order, against the file's lines).

    .venv/bin/python benchmarks/completeness/bench.py            # ~15 min on 2 cores
    .venv/bin/python benchmarks/completeness/bench.py --quick    # smoke: 2 seeds

Writes benchmarks/completeness/results/completeness.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from system.dedup.keys import key_of  # noqa: E402
from system.providers.simulated import SimulatedModel  # noqa: E402
from tester.collector import Collector  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
NAIVE = ["--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive"]
CONFIGS: dict[str, list[str]] = {
    "naive (no lever)": NAIVE,
    "prefilter only": ["--no-shared-state", "--no-partitions", "--no-adaptive"],
    "shared state (avoid lists)": ["--no-partitions", "--no-adaptive"],
    "partitions": ["--no-shared-state", "--no-adaptive"],
    "all levers (default)": [],
}


def topic_of(seed: int) -> str:
    return f"Harbours {seed}"


def run_one(
    collector: Collector,
    workdir: Path,
    topic: str,
    flags: list[str],
    *,
    profile: str,
    producers: int,
    request_size: int,
    iterations: int,
) -> tuple[dict[str, Any], list[str], Any, list[Any]]:
    out = workdir / f"run-{time.monotonic_ns()}"
    argv = [
        sys.executable, "-m", "system.orchestrator", "--topic", topic,
        "--producers", str(producers), "--request-size", str(request_size),
        "--iterations", str(iterations), "--output", str(out),
        "--trace-ep", collector.http_endpoint, "--no-progress", "--log-level", "warn",
        "--sim-profile", profile, *flags,
    ]  # fmt: skip
    env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BSP_MAX_QUEUE_SIZE": "65536"}
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{topic}: orchestrator exited {proc.returncode}: {proc.stderr[-2000:]}")
    summary = json.loads((out / "run.json").read_text())
    trace_id, expected = summary["trace_id"], summary["counts"]["batches"]
    deadline = time.monotonic() + 120
    while True:
        spans = collector.store.by_trace(trace_id)
        roots = [s for s in spans if s.name == "topic.run"]
        batches = [s for s in spans if s.name == "batch.receive"]
        if (roots and len(batches) >= expected) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if not roots:
        raise RuntimeError(f"{topic}: no topic.run span")
    lines = (out / "attributes.txt").read_text(encoding="utf-8").splitlines()
    return summary, lines, roots[0], sorted(batches, key=lambda s: s.start_ns)


def truth_prefix(lines: list[str], universe: set[int]) -> list[int]:
    """found_in_universe[i] = universe items among the first i lines."""
    out = [0]
    for line in lines:
        out.append(out[-1] + (key_of(line) in universe))
    return out


def accuracy(
    args: argparse.Namespace,
    collector: Collector,
    workdir: Path,
    configs: list[str],
    rows: list[dict[str, Any]],
    save: Any,
) -> list[dict[str, Any]]:
    model = SimulatedModel()
    for name in configs:
        flags = CONFIGS[name]
        for profile in args.profiles:
            checkpoints: list[dict[str, float]] = []
            final_errors = []
            for seed in range(args.seeds):
                topic = topic_of(seed)
                universe = {key_of(x) for x in model.universe(topic)}
                summary, lines, root, _ = run_one(
                    collector, workdir, topic, flags, profile=profile,
                    producers=args.producers, request_size=args.request_size,
                    iterations=args.iterations,
                )  # fmt: skip
                prefix = truth_prefix(lines, universe)
                n = len(universe)
                for event in root.events:
                    if event.name != "coverage.estimate":
                        continue
                    a = event.attributes
                    found = int(a["coverage.found"])
                    true_cov = prefix[min(found, len(lines))] / n
                    if true_cov < 0.5:
                        continue
                    checkpoints.append(
                        {
                            "true": true_cov,
                            "error": float(a["coverage.universe"]) / n - 1,
                            "hit": a["coverage.low"] <= true_cov <= a["coverage.high"],
                            "width": float(a["coverage.high"]) - float(a["coverage.low"]),
                        }
                    )
                est = summary["coverage"]["estimate"]
                if est:
                    final_errors.append(est["universe"] / n - 1)
                print(
                    f"{profile} / {name} / seed {seed}: universe {n}, found {prefix[-1]}, "
                    f"estimate {est and est['universe']}",
                    flush=True,
                )
            rows.append(
                {
                    "profile": profile,
                    "config": name,
                    "runs": args.seeds,
                    "checkpoints": len(checkpoints),
                    "median_abs_error": _median([abs(c["error"]) for c in checkpoints]),
                    "median_error": _median([c["error"] for c in checkpoints]),
                    "within_10pct": _share([abs(c["error"]) <= 0.10 for c in checkpoints]),
                    "hit_rate": _share([bool(c["hit"]) for c in checkpoints]),
                    "mean_width": _mean([c["width"] for c in checkpoints]),
                    "final_median_error": _median(final_errors),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
            save()
    return rows


def stop_rule(
    args: argparse.Namespace,
    collector: Collector,
    workdir: Path,
    rows: list[dict[str, Any]],
    save: Any,
) -> list[dict[str, Any]]:
    model = SimulatedModel()
    for profile in args.profiles:
        for name in ("naive (no lever)", "all levers (default)"):
            runs = []
            for seed in range(args.stop_seeds):
                topic = topic_of(seed)
                universe = {key_of(x) for x in model.universe(topic)}
                flags = [*CONFIGS[name], "--target-coverage", "0.9", "--saturation", "0"]
                summary, lines, _, batches = run_one(
                    collector, workdir, topic, flags, profile=profile,
                    producers=args.producers, request_size=args.request_size,
                    iterations=args.stop_cap,
                )  # fmt: skip
                prefix = truth_prefix(lines, universe)
                n = len(universe)
                position, reached = 0, None
                for i, span in enumerate(batches, 1):
                    position += int(span.attr("batch.new", 0))
                    if reached is None and prefix[min(position, len(lines))] / n >= 0.9:
                        reached = i
                stopped = summary["counts"]["batches"]
                runs.append(
                    {
                        "seed": seed,
                        "stopped_at": stopped,
                        "by_target": summary["reason"].startswith("coverage:"),
                        "true_at_stop": prefix[-1] / n,
                        "true_90_at": reached,
                        "ratio": stopped / reached if reached else None,
                    }
                )
                print(f"stop {profile} / {name} / seed {seed}: {runs[-1]}", flush=True)
            ratios = [r["ratio"] for r in runs if r["ratio"] is not None]
            rows.append(
                {
                    "profile": profile,
                    "config": name,
                    "runs": len(runs),
                    "stopped_by_target": sum(r["by_target"] for r in runs),
                    "median_ratio": _median(ratios),
                    "max_ratio": max(ratios) if ratios else None,
                    "within_1_5x": _share([r <= 1.5 for r in ratios]),
                    "stopped_before_true_90": sum(r["true_at_stop"] < 0.9 for r in runs),
                    "median_true_at_stop": _median([r["true_at_stop"] for r in runs]),
                    "runs_detail": runs,
                }
            )
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "runs_detail"}), flush=True)
            save()
    return rows


def _median(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 4) if xs else None


def _mean(xs: list[float]) -> float | None:
    return round(statistics.fmean(xs), 4) if xs else None


def _share(xs: list[bool]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def markdown(
    acc: list[dict[str, Any]], stop: list[dict[str, Any]], args: argparse.Namespace
) -> str:
    out = [
        f"Accuracy: {args.producers} producers x {args.iterations} requests of "
        f"{args.request_size} items, {args.seeds} topics (universes of 300-900 items) per row; "
        "checkpoints = coverage.estimate events once half the universe is found.",
        "",
        "| profile | levers | runs | checkpoints | median universe error | median abs error "
        "| within 10% | true coverage in interval | mean interval width |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in acc:
        out.append(
            f"| {r['profile']} | {r['config']} | {r['runs']} | {r['checkpoints']} | "
            f"{_pct(r['median_error'])} | {_pct(r['median_abs_error'])} | "
            f"{_pct(r['within_10pct'])} | {_pct(r['hit_rate'])} | {_pct(r['mean_width'])} |"
        )
    out += [
        "",
        f"Stop rule: `--target-coverage 0.9 --saturation 0`, cap {args.stop_cap} requests "
        f"per producer, {args.stop_seeds} topics per row; ratio = requests at the stop / "
        "requests the same run needed to truly reach 90%.",
        "",
        "| profile | levers | runs | stopped by target | median ratio | max ratio | "
        "ratio <= 1.5 | stopped before true 90% | median true coverage at stop |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in stop:
        mr = "-" if r["median_ratio"] is None else f"{r['median_ratio']:.2f}"
        xr = "-" if r["max_ratio"] is None else f"{r['max_ratio']:.2f}"
        out.append(
            f"| {r['profile']} | {r['config']} | {r['runs']} | {r['stopped_by_target']} | "
            f"{mr} | {xr} | {_pct(r['within_1_5x'])} | {r['stopped_before_true_90']} | "
            f"{_pct(r['median_true_at_stop'])} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profiles", default="weak,strong")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--stop-seeds", type=int, default=8)
    p.add_argument("--producers", type=int, default=4)
    p.add_argument("--request-size", type=int, default=30)
    p.add_argument("--iterations", type=int, default=80)
    p.add_argument("--stop-cap", type=int, default=250)
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--skip-stop", action="store_true")
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--tag", default="", help="results file name suffix (parts run apart)")
    p.add_argument("--quick", action="store_true", help="2 seeds, 2 configurations")
    args = p.parse_args(argv)
    args.profiles = args.profiles.split(",")
    selected = args.configs.split(",")
    if args.quick:
        args.seeds, args.stop_seeds = 2, 1
        selected = ["naive (no lever)", "all levers (default)"]
    for name in list(CONFIGS):
        if name not in selected:
            del CONFIGS[name]
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    acc: list[dict[str, Any]] = []
    stop: list[dict[str, Any]] = []
    suffix = (".quick" if args.quick else "") + (f".{args.tag}" if args.tag else "")

    def save() -> None:
        """Tables so far (each row is written as soon as it is measured)."""
        (RESULTS / f"completeness{suffix}.md").write_text(
            markdown(acc, stop, args), encoding="utf-8"
        )
        (RESULTS / f"completeness{suffix}.json").write_text(
            json.dumps(
                {
                    "args": dict(vars(args)),
                    "started": started,
                    "duration_s": round(time.time() - started, 1),
                    "load_average_now": os.getloadavg(),
                    "accuracy": acc,
                    "stop_rule": stop,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )

    first = [c for c in CONFIGS if c in ("naive (no lever)", "all levers (default)")]
    rest = [c for c in CONFIGS if c not in first]
    with Collector(enable_grpc=False) as collector, tempfile.TemporaryDirectory() as tmp:
        if not args.skip_accuracy:
            accuracy(args, collector, Path(tmp), first, acc, save)
        if not args.skip_stop:
            stop_rule(args, collector, Path(tmp), stop, save)
        if not args.skip_accuracy:
            accuracy(args, collector, Path(tmp), rest, acc, save)
    save()
    print(markdown(acc, stop, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
