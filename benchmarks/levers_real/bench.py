"""Levers on the real small model: valid distinct items per token, per configuration.

A quick measurement for tuning the defaults (issue 10 item 4), not the
project's real-model benchmark (``benchmarks/real_llm/``): it runs the
orchestrator against an OpenAI-compatible server (SmolLM2-135M-Instruct on
``llama_cpp.server``) on two closed topics whose members we know, and scores
``attributes.txt`` against them with a small scorer of its own (``truth``).

Usage (a running server; see README.md)::

    python benchmarks/levers_real/bench.py --base-url http://127.0.0.1:PORT/v1 \
        --iterations 24 --producers 2 [--old-tree /tmp/levers_old]

``--old-tree`` is a copy of an older build of the project (``git archive``):
its "defaults" row is run from there, to compare with the defaults before
this change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from truth import TRUTH, score

ROOT = Path(__file__).resolve().parents[2]
LEVERS_OFF = ["--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive"]

#: configuration -> (orchestrator arguments, extra --llm fields, run from the old tree)
CONFIGS: dict[str, tuple[list[str], str, bool]] = {
    "levers off": (LEVERS_OFF, "", False),
    "new defaults": ([], "", False),
    "old defaults": ([], "", True),
    "arm rare only": (["--arms", "rare"], "", False),
    "arm hot only": (["--arms", "hot"], "", False),
    "arm avoid only": (["--arms", "avoid"], "", False),
    "fixed levers (avoid+partition, no adaptive)": (["--no-adaptive"], "", False),
    "levers off, temperature 1.2": (LEVERS_OFF, ",temperature=1.2", False),
}


def run_one(name: str, topic: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    extra, llm_extra, old = CONFIGS[name]
    tree = Path(args.old_tree) if old else ROOT
    if old and not args.old_tree:
        return {}
    llm = f"name=smol,base_url={args.base_url},model=smol{llm_extra}"
    if old:  # the same answer cap as the new default (16 tokens per item + 64)
        llm += f",max_tokens={64 + 16 * args.request_size}"
    out = workdir / f"{abs(hash((name, topic)))}"
    out.mkdir(parents=True)
    cmd = [
        sys.executable, "-m", "system.orchestrator", "--topic", topic,
        "--producers", str(args.producers), "--iterations", str(args.iterations),
        "--request-size", str(args.request_size), "--provider", "env", "--llm", llm,
        "--env-file", str(out / "none.env"), "--saturation", "0", "--output", str(out / "run"),
        *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name} / {topic}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    run_json = next(out.rglob("run.json"))
    summary = json.loads(run_json.read_text())
    lines = (run_json.parent / "attributes.txt").read_text(encoding="utf-8").splitlines()
    counts = summary["counts"]
    tokens = int(counts["input_tokens"]) + int(counts["output_tokens"])
    result = score(topic, lines)
    strategy = summary.get("levers", {}).get("strategy")
    return {
        "config": name,
        "topic": topic,
        "requests": counts["batches"],
        "lines": len(lines),
        "valid_distinct": result.valid_distinct,
        "precision": round(result.precision, 3),
        "recall": round(result.recall, 3),
        "tokens": tokens,
        "valid_per_1k_tokens": round(1000 * result.valid_distinct / tokens, 3) if tokens else 0,
        "wall_s": round(wall, 1),
        "strategy": strategy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--iterations", type=int, default=24)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--request-size", type=int, default=30)
    parser.add_argument("--old-tree", default="")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names")
    parser.add_argument("--topics", default=",".join(TRUTH))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.json"))
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    out = Path(args.out)
    if out.exists():
        rows = json.loads(out.read_text())
    with tempfile.TemporaryDirectory(prefix="levers-real-") as tmp:
        for name in args.configs.split(","):
            for topic in args.topics.split(","):
                row = run_one(name, topic, args, Path(tmp))
                if not row:
                    continue
                rows = [r for r in rows if (r["config"], r["topic"]) != (name, topic)]
                rows.append(row)
                out.write_text(json.dumps(rows, indent=1))
                print(
                    f"{topic:28} {name:44} valid {row['valid_distinct']:3} "
                    f"lines {row['lines']:4} tokens {row['tokens']:6} "
                    f"valid/1k {row['valid_per_1k_tokens']:6.3f} recall {row['recall']:.2f} "
                    f"precision {row['precision']:.2f} wall {row['wall_s']}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
