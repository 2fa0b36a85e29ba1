"""Cost of deriving every key in the orchestrator (issue 13 item 13).

    .venv/bin/python benchmarks/key_verification.py

With the pre-filter on, producers send only candidates their Bloom copy does
not know, with keys. The orchestrator used to spot-check those keys (the first
and every 16th recomputed) and now derives every key itself. This times
``DedupIndex.add_batch`` on 100,000 *distinct* candidates with producer keys,
the traffic the change affects (repeats hit the orchestrator's memo either
way). Run it on the commit before the change for the other number
(benchmarks/README.md, "Key verification").
"""

from __future__ import annotations

import time

from ingest import sample_batches

from system.dedup.index import DedupIndex
from system.dedup.keys import attribute_key
from system.dedup.normalize import clean_display, normalize


def main() -> None:
    raw = [c for batch in sample_batches(1000, 100) for c in batch]
    names = list(dict.fromkeys(raw))
    candidates = [f"{names[i % len(names)]} {i // len(names)}" for i in range(100_000)]
    batches = [candidates[i : i + 1000] for i in range(0, len(candidates), 1000)]
    keys = [[attribute_key(normalize(clean_display(c))) for c in b] for b in batches]
    best = float("inf")
    for _ in range(5):
        index = DedupIndex()
        t0 = time.perf_counter()
        for batch, batch_keys in zip(batches, keys, strict=True):
            index.add_batch(batch, batch_keys)
        best = min(best, time.perf_counter() - t0)
    per = best * 1e6 / len(candidates)
    print(f"add_batch, distinct candidates with producer keys: {per:.2f} µs/candidate "
          f"({1e6 / per:,.0f} candidates/s on one core)")


if __name__ == "__main__":
    main()
