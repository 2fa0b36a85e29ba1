"""Benchmark: the producer's parser speed, this checkout against a git revision.

    .venv/bin/python benchmarks/parse_speed.py              # vs 28d6b34, before the contract
    .venv/bin/python benchmarks/parse_speed.py --rev HEAD~3 --rounds 3
    .venv/bin/python benchmarks/parse_speed.py --quick

Two workloads, each timed with the per-line memo as a producer has it:

* **cold** -- every answer of the real corpus (tests/data/real_corpus), the
  memo cleared before each pass: the cost of lines never seen before;
* **warm** -- 3,000 simulated answers of 60 items (``SimulatedModel``, the
  zero-latency producer of benchmarks/ingest.py), memo kept: a producer's
  steady state, where most lines repeat; once without the real-output noise
  (``realism=0``, the text the simulator wrote before its calibration) and
  once with it (more distinct lines: fewer memo hits).

It prints lines per second of CPU time (``time.process_time``: the machine
is shared) for both parsers, best of ``--rounds``, and writes
results/parse_speed.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from types import ModuleType
from typing import Any

from _common import RESULTS_DIR, machine, markdown_table, write_result

ROOT = RESULTS_DIR.parent.parent
sys.path.insert(0, str(ROOT))

import system.producer.parse as current  # noqa: E402
from scripts.corpus_stats import parse_module_at  # noqa: E402
from system.producer.prompt import build_prompt  # noqa: E402
from system.providers.simulated import SimulatedModel  # noqa: E402


def clear_memo(module: ModuleType) -> None:
    if hasattr(module, "clear_memo"):
        module.clear_memo()
    for value in vars(module).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def parse_all(module: ModuleType, answers: list[tuple[str, str, str | None]]) -> int:
    with_context = hasattr(module, "PromptContext")
    count = 0
    for text, topic, partition in answers:
        if with_context:
            items = module.parse_response(text, context=module.PromptContext(topic, partition))
        else:
            items = module.parse_response(text)
        count += len(items)
    return count


def timed(module: ModuleType, answers, rounds: int, *, cold: bool) -> dict[str, Any]:
    lines = sum(len(text.splitlines()) for text, _, _ in answers)
    best = float("inf")
    candidates = 0
    clear_memo(module)
    parse_all(module, answers[:50])  # imports, regex compilation
    repeats = 10 if cold else 1
    for _ in range(rounds):
        clear_memo(module)
        if not cold:
            parse_all(module, answers)  # the memo a long-running producer has
        elapsed = 0.0
        for _ in range(repeats):
            if cold:
                clear_memo(module)
            start = time.process_time()  # CPU time: the machine is shared
            candidates = parse_all(module, answers)
            elapsed += time.process_time() - start
        best = min(best, elapsed / repeats)
    return {
        "answers": len(answers),
        "lines": lines,
        "candidates": candidates,
        "seconds": round(best, 4),
        "lines_per_s": round(lines / best),
    }


def workloads(quick: bool) -> dict[str, list[tuple[str, str, str | None]]]:
    corpus = [
        json.loads(line)
        for line in (ROOT / "tests/data/real_corpus/answers.jsonl").read_text().splitlines()
    ]
    real = [(r["answer"], r["params"]["topic"], r["params"]["partition"]) for r in corpus]
    topic = "Paris attractions"
    prompt = build_prompt(topic, 60)
    seeds = range(300 if quick else 3000)
    plain, calibrated = SimulatedModel(realism=0.0), SimulatedModel()
    return {
        "cold (real corpus)": real,
        "warm (simulated, 60 items, realism 0)": [
            (plain.complete(prompt, seed).text, topic, None) for seed in seeds],
        "warm (simulated, 60 items, calibrated noise)": [
            (calibrated.complete(prompt, seed).text, topic, None) for seed in seeds],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rev",
        default="28d6b34",
        help="the git revision to compare with (default: the parser before the contract)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    baseline = parse_module_at(args.rev)
    results: dict[str, Any] = {"machine": machine(), "rev": args.rev, "rows": []}
    rows = []
    for name, answers in workloads(args.quick).items():
        cold = name.startswith("cold")
        before = timed(baseline, answers, rounds, cold=cold)
        after = timed(current, answers, rounds, cold=cold)
        ratio = round(after["lines_per_s"] / before["lines_per_s"], 2)
        results["rows"].append({"workload": name, "before": before, "after": after})
        rows.append([name, before["lines"], before["lines_per_s"], after["lines_per_s"], ratio,
                     before["candidates"], after["candidates"]])  # fmt: skip
    print(markdown_table(
        ["workload", "lines", f"{args.rev} lines/s", "this lines/s", "ratio",
         f"{args.rev} candidates", "this candidates"], rows))  # fmt: skip
    write_result("parse_speed", results, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
