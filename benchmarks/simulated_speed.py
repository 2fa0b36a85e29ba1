"""Benchmark: one request to the simulated model (``SimulatedModel.complete``), in process.

    .venv/bin/python benchmarks/simulated_speed.py            # 500 requests, best of 5
    .venv/bin/python benchmarks/simulated_speed.py --quick

The zero-latency producers of the other benchmarks spend their time here and
in the parse, so a slow simulator would measure itself instead of the system.
Target: under 5 ms per request for a 900-item universe, request size 60, an
avoid list of 200 (the bound unit tests used to assert; timed tests fail on a
loaded machine, so it lives here). CPU time (``time.process_time``: the
machine is shared); writes results/simulated_speed.json.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import RESULTS_DIR, machine, markdown_table, write_result

sys.path.insert(0, str(RESULTS_DIR.parent.parent))

from system.producer.prompt import build_prompt
from system.providers.simulated import SimulatedModel

TOPIC = "Paris attractions"
TARGET_MS = 5.0


def per_request_ms(requests: int) -> float:
    model = SimulatedModel(universe_size=900)
    prompt = build_prompt(TOPIC, 60, avoid=model.universe(TOPIC)[:200])
    model.complete(prompt, 0)  # warm the per-topic caches
    started = time.process_time()
    for seed in range(requests):
        model.complete(prompt, seed)
    return (time.process_time() - started) / requests * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 requests, 1 round")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    requests, rounds = (50, 1) if args.quick else (args.requests, args.rounds)
    best = min(per_request_ms(requests) for _ in range(rounds))
    print(markdown_table(
        ["requests", "rounds", "best ms/request (CPU)", "target ms", "met"],
        [[requests, rounds, best, TARGET_MS, "yes" if best < TARGET_MS else "NO"]],
    ))  # fmt: skip
    write_result(
        "simulated_speed",
        {"machine": machine(), "requests": requests, "rounds": rounds,
         "best_ms_per_request": round(best, 4), "target_ms": TARGET_MS},
        quick=args.quick,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
