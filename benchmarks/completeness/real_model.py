"""Completeness and support on a real small model (SmolLM2-135M-Instruct, llama.cpp).

One run of the real orchestrator and producers against a local
``llama_cpp.server`` on a topic with a truth set (``tester.truth``: its
members are known), ``--requests`` requests in all. From the run:

* **precision by support**: attributes.jsonl's items grouped by sightings
  (1, 2, 3-4, 5+), each judged valid or not by the truth set;
* **the estimate after 24 requests** (the last ``coverage.estimate`` event
  of ``topic.run`` made with at most 24 requests) against the distinct items,
  and the distinct *valid* items, found after all the requests.

    .venv/bin/pip install \
        '/work/shared/llm/llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl[server]'
    .venv/bin/python benchmarks/completeness/real_model.py --set us-states    # ~15-25 min

Needs the ``tester.truth`` package (truth sets and scorer of the real-model
work) and the model file (``--model``, default
/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf; /work/shared/llm/README.md says
where it comes from). Writes results/real-<set>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tester.collector import Collector  # noqa: E402
from tester.constellation.process import ManagedProcess  # noqa: E402
from tester.truth import load, score_lines  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BUCKETS = ((1, 1, "1"), (2, 2, "2"), (3, 4, "3-4"), (5, 10**9, "5+"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: Path, log: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    argv = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        "--chat_format", "chatml", "--model_alias", "smollm",
    ]  # fmt: skip
    proc = ManagedProcess("llama-server", argv, log_path=log, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/models", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.stop()
    raise RuntimeError(f"llama server did not come up; see {log}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="us-states", help="truth set (tester.truth)")
    p.add_argument("--model", type=Path, default=Path("/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--producers", type=int, default=2)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--request-size", type=int, default=10)
    p.add_argument("--early", type=int, default=24, help="requests of the early estimate")
    args = p.parse_args(argv)
    truth = load(args.set)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp, Collector(enable_grpc=False) as collector:
        work = Path(tmp)
        server, base = start_server(args.model, work / "llama-server.log")
        try:
            out = work / "out"
            cmd = [
                sys.executable, "-m", "system.orchestrator", "--topic", truth.topic,
                "--producers", str(args.producers),
                "--iterations", str(args.requests // args.producers),
                "--request-size", str(args.request_size), "--provider", "env",
                "--llm", f"name=smollm,base_url={base},model=smollm,max_tokens="
                f"{16 * args.request_size + 64},timeout=120",
                "--env-file", str(work / "no.env"), "--output", str(out),
                "--trace-ep", collector.http_endpoint, "--no-progress", "--log-level", "warn",
            ]  # fmt: skip
            env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "200"}
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"orchestrator exited {proc.returncode}: {proc.stderr[-2000:]}")
        finally:
            server.stop()
        summary = json.loads((out / "run.json").read_text())
        trace_id = summary["trace_id"]
        # a loaded machine delays the orchestrator's last export: wait for topic.run
        deadline = time.monotonic() + 300
        roots: list[Any] = []
        while not roots and time.monotonic() < deadline:
            roots = [s for s in collector.store.by_trace(trace_id) if s.name == "topic.run"]
            time.sleep(0.2)
        records = [
            json.loads(line)
            for line in (out / "attributes.jsonl").read_text(encoding="utf-8").splitlines()
        ]
    valid = {r["display"]: score_lines([r["display"]], truth).valid == 1 for r in records}
    rows = []
    for low, high, label in BUCKETS:
        group = [r for r in records if low <= r["sightings"] <= high]
        good = sum(valid[r["display"]] for r in group)
        rows.append(
            {
                "support": label,
                "items": len(group),
                "valid": good,
                "precision": round(good / len(group), 4) if group else None,
            }
        )
    early = None
    for event in sorted(roots[0].events if roots else [], key=lambda e: e.time_ns):
        a = event.attributes
        if event.name == "coverage.estimate" and a.get("coverage.run_requests", 0) <= args.early:
            early = dict(a)
    score = score_lines([r["display"] for r in records], truth)
    result = {
        "set": args.set,
        "topic": truth.topic,
        "truth_size": truth.size,
        "requests": summary["counts"]["batches"],
        "distinct_items": len(records),
        "distinct_valid": score.valid,
        "precision": round(score.valid / len(records), 4) if records else None,
        "by_support": rows,
        "early_estimate": early,
        "final_estimate": summary["coverage"]["estimate"],
        "tokens": summary["counts"]["input_tokens"] + summary["counts"]["output_tokens"],
        "duration_s": round(time.time() - started, 1),
        "load_average_end": os.getloadavg(),
    }
    md = [
        f"Real model: SmolLM2-135M-Instruct (Q4_1, llama.cpp) on '{truth.topic}' "
        f"(truth set `{args.set}`, {truth.size} members), {result['requests']} requests of "
        f"{args.request_size} items, {args.producers} producers, default levers.",
        "",
        "| support (sightings) | items | valid | precision |",
        "|---|---|---|---|",
    ]
    for r in rows:
        prec = "-" if r["precision"] is None else f"{100 * r['precision']:.1f}%"
        md.append(f"| {r['support']} | {r['items']} | {r['valid']} | {prec} |")
    md.append(f"| all | {len(records)} | {score.valid} | {100 * (result['precision'] or 0):.1f}% |")
    if early:
        md += [
            "",
            f"Estimate after {early['coverage.run_requests']} requests: universe "
            f"~{early['coverage.universe']:.0f} [{early['coverage.universe_low']:.0f}-"
            f"{early['coverage.universe_high']:.0f}] items (found {early['coverage.found']}); "
            f"after {result['requests']} requests the run had {len(records)} distinct items "
            f"({score.valid} valid of {truth.size}); final estimate ~"
            f"{result['final_estimate']['universe']:.0f} "
            f"[{result['final_estimate']['universe_low']:.0f}-"
            f"{result['final_estimate']['universe_high']:.0f}].",
        ]
    if not roots:
        md += ["", "(topic.run did not arrive in time: no estimate history from the span)"]
    text = "\n".join(md) + "\n"
    (RESULTS / f"real-{args.set}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"real-{args.set}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
