"""Calibration of ``--target-coverage``: does the stop keep its promise on every universe shape?

A fast in-process simulation (no processes, no HTTP): each run draws requests
from a universe directly, keeps the sighting counts the orchestrator keeps (every
item of every answer is a sighting), and feeds their frequency counts to the
system's own estimator (``system.orchestrator.completeness.estimate``) at every
look, as ``CoverageMonitor`` does after every batch. Two rules side by side:

* ``today``: the rule before issue 26: ``stop_low`` with the one-sided 90% bound
  (``Z_STOP = 1.2816``) and no unseen floor (``MIN_UNSEEN = 0``), the same code with
  those two settings;
* ``new``: the system's current rule: ``stop_low`` at the current settings
  (``Z_STOP``, ``MIN_UNSEEN``) judged by ``system.orchestrator.coverage.StopRule``
  (the bound must have held at every look since request m / 1.1).

A run stops (per rule, per target X) at the first look whose judged bound reaches
X. The truth is known at every request, so per shape and X: the share of runs that
stop below a true X and below X - 0.05, the requests spent against the requests
truly needed (the first request at which the true coverage reached X), and how
often the 95% interval holds the true coverage (at looks once half the universe is
found).

Draws (read system/providers/simulated.py and tester/fake_llm/model.py): item i
has Zipf weight ``1/(i+1)**s`` (s = 0: flat); an answer is the ``k`` smallest
exponential keys ``E_i/w_i`` (Gumbel-top-k, distinct items). Avoid lists (the
shared-state lever): each prompt names the ``AVOID_ITEMS`` most-sighted found items
(the system ranks its list by repeats, 400 tokens hold ~76 names); each named item
is skipped with probability ``obedience`` when drawn. The system's simulator then
fills the answer with the next items (``sim``); the tester's fake model drops them,
so its answer is shorter (``fake``). Partitions are not modelled.

Looks: every request up to ``DENSE_LOOKS`` requests, then whenever the request
count grew by 1% (a look per batch in the system; beyond a few hundred requests
the estimate moves little between 1% steps, and fewer looks can only err less).

    python benchmarks/completeness/calibration.py --runs 500 --jobs 2
    python benchmarks/completeness/calibration.py --runs 20 --shapes fake-150  # smoke
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from system.orchestrator import completeness
from system.orchestrator.coverage import StopRule

HERE = Path(__file__).resolve().parent
TARGETS = (0.8, 0.9, 0.95)
AVOID_ITEMS = 76
DENSE_LOOKS = 200
TODAY = {"Z_STOP": 1.281552, "MIN_UNSEEN": 0.0}
#: --new-z / --new-window: a variant of the new rule to weigh (default: the system's)
VARIANT: dict[str, float] = {}
RULES = ("today", "new")


@dataclass(frozen=True)
class Shape:
    name: str
    size: int
    zipf: float
    request: int
    obedience: float = 0.0  # avoid lists off when 0
    model: str = "sim"  # sim: avoided items replaced; fake: dropped (shorter answers)


SHAPES = [
    Shape("flat-50", 50, 0.0, 10),
    Shape("zipf1.1-50", 50, 1.1, 10),
    Shape("fake-150-off", 150, 1.1, 12, model="fake"),
    Shape("fake-150", 150, 1.1, 12, 0.6, "fake"),
    Shape("flat-500", 500, 0.0, 30),
    Shape("zipf1.1-500-k60", 500, 1.1, 60),
    Shape("zipf1.5-500-k10", 500, 1.5, 10),
    Shape("weak-500", 500, 1.05, 30, 0.6),
    Shape("strong-500", 500, 1.05, 30, 0.95),
    Shape("zipf1.5-1500-k60", 1500, 1.5, 60),
    Shape("flat-5000", 5000, 0.0, 60),
    Shape("zipf0.7-5000-k60", 5000, 0.7, 60),
]


@contextmanager
def settings(values: dict[str, float]) -> Iterator[None]:
    """The estimator's module settings, for one call (today's rule)."""
    saved = {k: getattr(completeness, k) for k in values}
    for k, v in values.items():
        setattr(completeness, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(completeness, k, v)


def stop_lows(m: int, counts: np.ndarray[Any, Any]) -> tuple[float, float, float, float] | None:
    """(today's stop_low, new stop_low, 95% low, 95% high) from the sighting counts."""
    q = np.bincount(counts, minlength=5)
    distinct = int(counts.size - q[0])
    args: dict[str, Any] = {
        "m": m,
        "distinct": distinct,
        "q": (int(q[1]), int(q[2]), int(q[3]), int(q[4])),
        "total": int(counts.sum()),
        "found": distinct,
    }
    with settings(TODAY):
        old = completeness.estimate(**args)
    with settings({k: v for k, v in VARIANT.items() if k != "window"}):
        new = completeness.estimate(**args)
    if old is None or new is None:
        return None
    return old.stop_low, new.stop_low, new.coverage_low, new.coverage_high


def rng_for(shape: Shape, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, shape.size, int(shape.zipf * 100), shape.request])


def draw(
    shape: Shape,
    rng: np.random.Generator,
    counts: np.ndarray[Any, Any],
    inverse: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    """One answer: the items' indices (``inverse`` = 1 / the Zipf weights)."""
    n, k = shape.size, min(shape.request, shape.size)
    keys = rng.exponential(size=n) * inverse
    if shape.obedience > 0:
        seen = np.flatnonzero(counts)
        named = seen if seen.size <= AVOID_ITEMS else seen[
            np.argpartition(-counts[seen], AVOID_ITEMS - 1)[:AVOID_ITEMS]
        ]  # fmt: skip
        keys[named[rng.random(named.size) < shape.obedience]] = np.inf
    if shape.model == "fake" or shape.obedience == 0:
        answer = np.argpartition(keys, k - 1)[:k]
        return answer[np.isfinite(keys[answer])]
    take = min(k, int(np.isfinite(keys).sum()))
    return np.argpartition(keys, take - 1)[:take] if take else np.empty(0, np.int64)


def one_run(shape: Shape, seed: int, max_factor: float = 4.0) -> dict[str, Any]:
    """One seeded run: per rule and target the stop's request and true coverage."""
    rng = rng_for(shape, seed)
    n = shape.size
    inverse = (np.arange(n) + 1.0) ** shape.zipf
    counts = np.zeros(n, np.int64)
    need: dict[float, int] = {}
    stops: dict[str, dict[float, tuple[int, float]]] = {r: {} for r in RULES}
    hits = checks = 0
    m = found = 0
    next_look = 1
    rule_new = StopRule(VARIANT["window"]) if "window" in VARIANT else StopRule()
    while True:
        counts[draw(shape, rng, counts, inverse)] += 1
        m += 1
        found = int(np.count_nonzero(counts))
        true = found / n
        for x in TARGETS:
            if x not in need and true >= x - 1e-12:
                need[x] = m
        if m >= next_look:
            next_look = m + 1 if m < DENSE_LOOKS else math.ceil(m * 1.01)
            lows = stop_lows(m, counts)
            if lows is not None:
                judged = (lows[0], rule_new.look(m, lows[1]))
                for rule, low in zip(RULES, judged, strict=True):
                    for x in TARGETS:
                        if x not in stops[rule] and low >= x:
                            stops[rule][x] = (m, true)
                if true >= 0.5:
                    checks += 1
                    hits += lows[2] - 1e-9 <= true <= lows[3] + 1e-9
        done = all(len(stops[r]) == len(TARGETS) for r in RULES) and len(need) == len(TARGETS)
        if done or (len(need) == len(TARGETS) and m >= max_factor * need[TARGETS[-1]]):
            break
    return {"need": need, "stops": stops, "hits": hits, "checks": checks}


def _runs(args: tuple[Shape, int, int, dict[str, float]]) -> list[dict[str, Any]]:
    shape, first, count, variant = args
    VARIANT.update(variant)
    return [one_run(shape, seed) for seed in range(first, first + count)]


def summarize(shape: Shape, runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"shape": asdict(shape), "runs": len(runs)}
    checks = sum(r["checks"] for r in runs)
    out["interval_holds"] = sum(r["hits"] for r in runs) / checks if checks else None
    for rule in RULES:
        for x in TARGETS:
            below = below5 = never = 0
            ratios = []
            for r in runs:
                stop = r["stops"][rule].get(x)
                if stop is None:
                    never += 1
                    ratios.append(math.inf)
                    continue
                below += stop[1] < x - 1e-12
                below5 += stop[1] < x - 0.05 - 1e-12
                ratios.append(stop[0] / r["need"][x])
            out[f"{rule}@{x}"] = {
                "below": below / len(runs),
                "below_5": below5 / len(runs),
                "never": never,
                "cost_median": float(np.median(ratios)),
                "cost_p90": float(np.percentile(ratios, 90)),
                "needed_median": float(np.median([r["need"][x] for r in runs])),
            }
    return out


def table(results: list[dict[str, Any]]) -> str:
    head = ["shape", "N", "Zipf", "k", "avoid", "runs", "95% interval holds"]
    for x in TARGETS:
        head += [f"below {x} today / new", f"below {x - 0.05:.2f} today / new",
                 f"cost median @{x} today / new", f"cost p90 @{x} today / new"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        s = res["shape"]
        avoid = f"{s['obedience']:g} ({s['model']})" if s["obedience"] else "off"
        row = [s["name"], str(s["size"]), f"{s['zipf']:g}", str(s["request"]), avoid,
               str(res["runs"]), f"{100 * res['interval_holds']:.1f}%"]  # fmt: skip
        for x in TARGETS:
            t, n = res[f"today@{x}"], res[f"new@{x}"]

            def pct(key: str, t: dict[str, Any] = t, n: dict[str, Any] = n) -> str:
                return f"{100 * t[key]:.1f}% / **{100 * n[key]:.1f}%**"

            row += [pct("below"), pct("below_5"),
                    f"{t['cost_median']:.2f} / **{n['cost_median']:.2f}**",
                    f"{t['cost_p90']:.2f} / **{n['cost_p90']:.2f}**"]  # fmt: skip
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["shape"]["name"] for r in results]
    xs = np.arange(len(names))
    fig, axes = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    for i, x in enumerate(TARGETS):
        for j, rule in enumerate(RULES):
            off = (i * 2 + j - 2.5) * 0.13
            style = {"color": f"C{i}", "alpha": 0.45 if j == 0 else 1.0}
            below = [100 * r[f"{rule}@{x}"]["below"] for r in results]
            cost = [min(r[f"{rule}@{x}"]["cost_median"], 4) for r in results]
            axes[0].bar(xs + off, below, 0.13, label=f"{rule}, X={x}", **style)
            axes[1].bar(xs + off, cost, 0.13, **style)
    axes[0].axhline(10, color="k", linestyle="--", linewidth=1)
    axes[0].set_ylabel("% of runs stopped below a true X")
    axes[0].legend(ncol=3, fontsize=8)
    axes[1].axhline(1.3, color="k", linestyle="--", linewidth=1)
    axes[1].set_ylabel("median requests / truly needed")
    axes[1].set_xticks(xs, names, rotation=30, ha="right")
    axes[0].set_title("--target-coverage X: today's rule (pale) and the new one (solid)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=500, help="seeded runs per shape (default 500)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--shapes", default="", help="comma-separated shape names (default all)")
    p.add_argument("--tag", default="calibration", help="results/<tag>.json, .md and .png")
    p.add_argument("--new-z", type=float, default=None, help="a variant: the new rule's z")
    p.add_argument(
        "--new-window", type=float, default=None, help="a variant: the new rule's window"
    )
    args = p.parse_args(argv)
    wanted = {s for s in args.shapes.split(",") if s}
    unknown = wanted - {s.name for s in SHAPES}
    if unknown:
        print(f"calibration: error: unknown shape(s) {sorted(unknown)}", file=sys.stderr)
        return 2
    shapes = [s for s in SHAPES if not wanted or s.name in wanted]
    variant: dict[str, float] = {}
    if args.new_z is not None:
        variant["Z_STOP"] = args.new_z
    if args.new_window is not None:
        variant["window"] = args.new_window
    started, load = time.time(), os.getloadavg()
    results = []
    chunk = max(1, math.ceil(args.runs / (4 * args.jobs)))
    with ProcessPoolExecutor(args.jobs) as pool:
        for shape in shapes:
            t = time.time()
            jobs = [(shape, first, min(chunk, args.runs - first), variant)
                    for first in range(0, args.runs, chunk)]  # fmt: skip
            runs = [r for part in pool.map(_runs, jobs) for r in part]
            results.append(summarize(shape, runs))
            print(f"{shape.name}: {len(runs)} runs in {time.time() - t:.0f}s", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    meta = {"args": vars(args), "seconds": round(time.time() - started),
            "load_before": load, "load_after": os.getloadavg()}  # fmt: skip
    (out / f"{args.tag}.json").write_text(json.dumps({**meta, "results": results}, indent=1))
    (out / f"{args.tag}.md").write_text(table(results) + "\n")
    plot(results, out / f"{args.tag}.png")
    print(table(results))
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
