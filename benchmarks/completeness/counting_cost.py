"""The cost of counting sightings: DedupIndex.add_batch CPU time and memory, A/B.

Runs the same workload on two source trees (``--a``, e.g. a checkout of main
without sighting counts, and ``--b``, this tree), each in fresh processes,
alternating, ``--reps`` times, and reports the median CPU time
(``time.process_time``, so a busy machine's waiting is not counted) per
candidate for:

* simulated answers (``SimulatedModel``, the ingest benchmark's topic) in
  batches of 1000 and of 60 candidates, no keys given (the orchestrator
  hashes);
* the same batches after a producer pre-filter: only the new candidates sent,
  the known ones as ``repeat_keys`` (tree B only: A has no such argument);
* memory: RSS growth per unique for 1,000,000 synthetic uniques (as
  benchmarks/scale.py measures it).

    .venv/bin/python benchmarks/completeness/counting_cost.py --a /tmp/main-src --b .

Writes results/counting_cost.json and .md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

CHILD = r"""
import json, random, sys, time, resource
sys.path.insert(0, sys.argv[1])
from system.dedup.index import DedupIndex
from system.dedup.keys import key_of
from system.providers.simulated import SimulatedModel
from system.producer.parse import parse_response

mode = sys.argv[2]
if mode == "memory":
    import psutil
    p = psutil.Process()
    idx = DedupIndex()
    base = p.memory_info().rss
    n = 0
    for b in range(100):
        idx.add_batch([f"synthetic attribute {b}-{i} of the benchmark, xx" for i in range(10000)])
        n += 10000
    print(json.dumps({"bytes_per_unique": (p.memory_info().rss - base) / n}))
    raise SystemExit
size = int(mode)
model = SimulatedModel()
prompt = f"Topic: Paris attractions\nList {size} distinct items"
answers = [parse_response(model.complete(prompt, seed).text) for seed in range(60)]
batches = [a[:size] for a in answers]
cands = sum(len(b) for b in batches)
idx = DedupIndex()
t = time.process_time()
for _ in range(5):
    for b in batches:
        idx.add_batch(b)
plain = (time.process_time() - t) / (5 * cands) * 1e6
out = {"plain_us": plain}
try:
    idx2 = DedupIndex()
    known = set()
    t = time.process_time()
    for _ in range(5):
        for b in batches:
            keys = [key_of(c) for c in b]
            new = [c for c, k in zip(b, keys) if k not in known]
            rep = list({k for k in keys if k in known})
            known.update(keys)
            idx2.add_batch(new, repeat_keys=rep)
    out["prefiltered_us"] = (time.process_time() - t) / (5 * cands) * 1e6
except TypeError:
    pass
print(json.dumps(out))
"""


def child(src: Path, mode: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(src), mode], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", type=Path, required=True, help="baseline tree (no sighting counts)")
    p.add_argument("--b", type=Path, default=HERE.parents[1], help="tree with sighting counts")
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    results: dict[str, dict[str, list[float]]] = {}
    for rep in range(args.reps):
        for label, src in (("a", args.a), ("b", args.b)):
            for mode in ("1000", "60"):
                for key, value in child(src.resolve(), mode).items():
                    results.setdefault(f"{label}:{mode}", {}).setdefault(key, []).append(value)
            if rep == 0:
                mem = child(src.resolve(), "memory")["bytes_per_unique"]
                results.setdefault(f"{label}:memory", {}).setdefault("bytes", []).append(mem)
        print(f"rep {rep + 1}/{args.reps} done", flush=True)
    med = {k: {m: round(statistics.median(v), 3) for m, v in d.items()} for k, d in results.items()}
    lines = [
        "| batch size | add_batch CPU µs/cand, baseline | with counts | cost of counting | "
        "pre-filtered batch + repeat keys µs/cand |",
        "|---|---|---|---|---|",
    ]
    for size in ("1000", "60"):
        a, b = med[f"a:{size}"]["plain_us"], med[f"b:{size}"]["plain_us"]
        pre = med[f"b:{size}"].get("prefiltered_us")
        lines.append(
            f"| {size} | {a:.2f} | {b:.2f} | {100 * (b / a - 1):+.0f}% | "
            f"{'-' if pre is None else f'{pre:.2f}'} |"
        )
    lines += [
        "",
        f"Memory per unique (1M synthetic uniques, RSS growth): baseline "
        f"{med['a:memory']['bytes']:.1f} bytes, with counts {med['b:memory']['bytes']:.1f} bytes.",
    ]
    md = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "counting_cost.md").write_text(md, encoding="utf-8")
    (RESULTS / "counting_cost.json").write_text(
        json.dumps({"reps": args.reps, "median": med, "raw": results}, indent=2) + "\n"
    )
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
