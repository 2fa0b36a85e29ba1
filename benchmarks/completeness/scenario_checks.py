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
producer's letters), batches still in flight when the run stops (they add items:
the true coverage can only grow), the 5-second event heartbeat.

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

from system.orchestrator.completeness import estimate
from system.orchestrator.coverage import EVENT_STEP, StopRule

#: (scenario, shape, target): the scenarios' runs (scenarios/coverage.py: KNOWN 150,
#: REQUEST_SIZE 12; scenarios/saturation.py: UNIVERSE 120, REQUEST_SIZE 30)
RUNS = {
    "coverage": (Shape("fake-150", 150, 1.1, 12, 0.6, "fake"), 0.9),
    "saturation:coverage": (Shape("fake-120-k30", 120, 1.1, 30, 0.6, "fake"), 0.9),
}
MAX_REQUESTS = 5000


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
        q = np.bincount(counts, minlength=5)
        found = int(counts.size - q[0])
        e = estimate(m=m, distinct=found, q=(int(q[1]), int(q[2]), int(q[3]), int(q[4])),
                     total=int(counts.sum()), found=found)  # fmt: skip
        if e is None:
            continue
        true = found / shape.size
        now = (round(e.coverage, 4), round(e.coverage_low, 4), round(e.coverage_high, 4))
        if last is None or max(abs(a - b) for a, b in zip(now, last, strict=True)) >= EVENT_STEP:
            last = now
            if true >= 0.5:
                checkpoints += 1
                hits += now[1] <= true <= now[2]
        if rule.look(m, e.stop_low) >= target:
            return {"requests": m, "true": true, "checkpoints": checkpoints, "hits": hits}
    return {"requests": None, "true": found / shape.size, "checkpoints": checkpoints, "hits": hits}


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
                f"{x:.2f}": float((share < x - 1e-12).mean()) for x in (0.5, 0.6, 0.7, 0.75, 0.8)
            },
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
    out = Path(__file__).resolve().parent / "results" / "scenario_checks.json"
    out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
