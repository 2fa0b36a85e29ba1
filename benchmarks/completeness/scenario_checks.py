"""False-alarm rates of the scenarios' statistical checks, by in-process replay.

The scenarios ``coverage`` and ``saturation`` (its ``coverage`` variant) run the
real system on the fake model; a run takes 10-60 s, too slow to run hundreds of
times on a shared machine. This script replays what their checks judge over many
seeded runs: the fake model's draws (calibration.py's ``draw``: Zipf 1.1 over the
known universe, the avoid list followed with probability 0.6, avoided names
dropped), the system's own estimator after every request, the events
``CoverageMonitor`` would emit (the estimate moved by ``EVENT_STEP``) and the
system's ``StopRule``. Per scenario check it prints the share of runs in which the
check fails on a correct system (its false-alarm rate), with the check's
threshold; the thresholds are written beside the checks in scenarios/.

Not modelled: the letter-range partitions (the fake model demotes names outside a
producer's letters), the adaptive strategy (it starts on the plain prompt, with no
avoid list, and turns the avoid list on when that wears out: the real runs lie
between the replay with the avoid list on every prompt and the one without),
batches still in flight when the run stops (they add items: the true coverage can
only grow), the 5-second event heartbeat.

    python benchmarks/completeness/scenario_checks.py --runs 1000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibration import Shape, draw, rng_for

from system.orchestrator.completeness import Estimate, estimate
from system.orchestrator.coverage import EVENT_STEP, StopRule

#: (scenario, shape, target): the scenarios' runs (scenarios/coverage.py: KNOWN 150,
#: REQUEST_SIZE 12; scenarios/saturation.py: UNIVERSE 120, REQUEST_SIZE 30)
RUNS = {
    "coverage": (Shape("fake-150", 150, 1.1, 12, 0.6, "fake"), 0.9),
    "coverage (no avoid list)": (Shape("fake-150-off", 150, 1.1, 12, model="fake"), 0.9),
    "saturation:coverage": (Shape("fake-120-k30", 120, 1.1, 30, 0.6, "fake"), 0.9),
}
MAX_REQUESTS = 5000
#: requests still in flight at the stop (3 producers: the other two)
IN_FLIGHT = 2
#: scenarios/saturation.py's saturation variant: UNIVERSE 120, REQUEST_SIZE 30
SATURATION = Shape("fake-120-k30", 120, 1.1, 30, 0.6, "fake")


def replay(shape: Shape, target: float, seed: int) -> dict[str, Any]:
    """One run: requests to the stop, true coverage then, the checkpoints' hits."""
    rng = rng_for(shape, seed)
    inverse = (np.arange(shape.size) + 1.0) ** shape.zipf
    counts = np.zeros(shape.size, np.int64)
    rule = StopRule()
    last: tuple[float, float, float] | None = None
    hits = checkpoints = 0
    for m in range(1, MAX_REQUESTS + 1):
        counts[draw(shape, rng, counts, inverse)] += 1
        e = _estimate(m, counts)
        if e is None:
            continue
        true = e.found / shape.size
        now = (round(e.coverage, 4), round(e.coverage_low, 4), round(e.coverage_high, 4))
        if last is None or max(abs(a - b) for a, b in zip(now, last, strict=True)) >= EVENT_STEP:
            last = now
            if true >= 0.5:
                checkpoints += 1
                hits += now[1] <= true <= now[2]
        if rule.look(m, e.stop_low) >= target:
            # the other producers' requests in flight land after the stop
            for _ in range(IN_FLIGHT):
                counts[draw(shape, rng, counts, inverse)] += 1
            final = _estimate(m + IN_FLIGHT, counts)
            assert final is not None
            return {
                "requests": m,
                "true": final.found / shape.size,
                "checkpoints": checkpoints,
                "hits": hits,
                "final": (final.coverage, final.coverage_low),
            }
    return {
        "requests": None,
        "true": np.count_nonzero(counts) / shape.size,
        "checkpoints": checkpoints,
        "hits": hits,
        "final": (0.0, 0.0),
    }


def _estimate(m: int, counts: np.ndarray[Any, Any]) -> Estimate | None:
    q = np.bincount(counts, minlength=5)
    found = int(counts.size - q[0])
    return estimate(
        m=m,
        distinct=found,
        q=(int(q[1]), int(q[2]), int(q[3]), int(q[4])),
        total=int(counts.sum()),
        found=found,
    )


def saturation(shape: Shape, seed: int, rate: float = 0.02, window: int = 20) -> dict[str, Any]:
    """The saturation variant: the run ends once the new items per candidate over the last
    ``window`` requests fall below ``rate`` (patience not modelled: it only adds requests,
    so the true coverage at the end can only be higher than here)."""
    rng = rng_for(shape, seed)
    inverse = (np.arange(shape.size) + 1.0) ** shape.zipf
    counts = np.zeros(shape.size, np.int64)
    new: list[tuple[int, int]] = []  # (new items, candidates) per request
    for m in range(1, MAX_REQUESTS + 1):
        answer = draw(shape, rng, counts, inverse)
        new.append((int((counts[answer] == 0).sum()), len(answer)))
        counts[answer] += 1
        last = new[-window:]
        if m >= window and sum(a for a, _ in last) < rate * sum(b for _, b in last):
            return {"requests": m, "true": float(np.count_nonzero(counts)) / shape.size}
    return {"requests": None, "true": float(np.count_nonzero(counts)) / shape.size}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=1000, help="seeded runs per scenario")
    args = p.parse_args(argv)
    load = os.getloadavg()
    report: dict[str, Any] = {"runs": args.runs, "load": load}
    for name, (shape, target) in RUNS.items():
        runs = [replay(shape, target, seed) for seed in range(args.runs)]
        true = np.array([r["true"] for r in runs])
        share = np.array([r["hits"] / r["checkpoints"] if r["checkpoints"] else 1.0 for r in runs])
        cps = np.array([r["checkpoints"] for r in runs])
        req = np.array([r["requests"] or MAX_REQUESTS for r in runs])
        report[name] = {
            "never_stopped": sum(r["requests"] is None for r in runs),
            "true_below": {
                f"{x:.2f}": float((true < x - 1e-12).mean()) for x in (0.75, 0.8, 0.85, 0.9)
            },
            "checkpoints_below": {str(n): float((cps < n).mean()) for n in (2, 3, 4, 6)},
            "hit_share_below": {
                f"{x:.2f}": float((share < x - 1e-12).mean())
                for x in (0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8)
            },
            "final_estimate_below_target": float(np.mean([r["final"][0] < target for r in runs])),
            "final_low_below_target_0.1": float(
                np.mean([r["final"][1] < target - 0.1 for r in runs])
            ),
            "hit_share_quantiles": {
                f"{q:g}": float(np.quantile(share, q)) for q in (0.001, 0.005, 0.01, 0.05, 0.5)
            },
            "requests": {
                "median": float(np.median(req)),
                "p99.5": float(np.quantile(req, 0.995)),
                "max": int(req.max()),
            },
        }
        print(name, json.dumps(report[name]), flush=True)
    sat = [saturation(SATURATION, seed) for seed in range(args.runs)]
    report["saturation:saturated"] = {
        "never_stopped": sum(r["requests"] is None for r in sat),
        "true_below_0.85": float(np.mean([r["true"] < 0.85 for r in sat])),
        "requests": {
            "median": float(np.median([r["requests"] or MAX_REQUESTS for r in sat])),
            "max": max(r["requests"] or MAX_REQUESTS for r in sat),
        },
    }
    print("saturation:saturated", json.dumps(report["saturation:saturated"]), flush=True)
    out = Path(__file__).resolve().parent / "results" / "scenario_checks.json"
    out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
