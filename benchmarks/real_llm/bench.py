"""Benchmark: the levers on a real small LLM, judged by closed-universe truth sets.

Runs the real orchestrator with ``--provider env`` against SmolLM2-135M-Instruct
served by ``llama_cpp.server`` (``tester.local_llm``), once per (truth set,
configuration), all at equal request counts (default 2 producers x 24
iterations of 30 items, ``--saturation 0``), and scores each output folder
with ``tester.truth`` (precision, recall, valid distinct members per 1k
tokens, duplicates under aliases). Every run's spans go to the tester's
embedded collector; the ``batch.receive`` spans, in start order, line up with
``attributes.txt``, which gives recall after every request against tokens
spent (the plot).

Slow on purpose (one request at a time, ~38 tokens/s): choose what to run,
and results accumulate in ``results/results.json`` (an entry per label, set
and configuration, replaced when re-run), so runs can be split, resumed and
put in the background::

    .venv/bin/python benchmarks/real_llm/bench.py --label before --configs levers-off,defaults
    .venv/bin/python benchmarks/real_llm/bench.py --label after --sets us-states --configs all
    .venv/bin/python benchmarks/real_llm/bench.py --report      # tables and plot from the JSON

``--system-dir DIR`` runs the orchestrator from another checkout of the
project (e.g. ``git archive`` of an older commit) while scoring with this one.
Writes results/results.json, results/results.md and results/recall-vs-tokens.png.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tester.collector import Collector  # noqa: E402
from tester.local_llm import LocalLLM, unavailable_reason  # noqa: E402
from tester.truth import TruthSet, TruthSetError, load, score_lines  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "results.json"
LEVERS_OFF = ["--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive"]

#: name -> orchestrator flags (each lever alone = every other lever off)
CONFIGS: dict[str, list[str]] = {
    "levers-off": LEVERS_OFF,
    "defaults": [],
    "shared-state": ["--no-partitions", "--no-prefilter", "--no-adaptive"],
    "partitions": ["--no-shared-state", "--no-prefilter", "--no-adaptive"],
    "prefilter": ["--no-shared-state", "--no-partitions", "--no-adaptive"],
    "shared-state+adaptive": ["--no-partitions", "--no-prefilter"],
}
SETS = ("us-states", "chemical-elements", "eu-member-states", "planets-and-dwarf-planets")


def git_commit(folder: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "system"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def run_one(
    collector: Collector,
    llm: LocalLLM,
    truth: TruthSet,
    config: str,
    args: argparse.Namespace,
    workdir: Path,
) -> dict[str, Any]:
    """One orchestrator run to the end, scored; raises if the run fails."""
    out = workdir / f"{truth.name}-{config}"
    spec = llm.llm_spec("smollm", timeout=args.llm_timeout, max_tokens=args.max_tokens)
    argv = [
        sys.executable, "-m", "system.orchestrator", "--topic", truth.topic,
        "--producers", str(args.producers), "--iterations", str(args.iterations),
        "--request-size", str(args.request_size), "--saturation", "0",
        "--provider", "env", "--llm", spec, "--env-file", str(workdir / "no.env"),
        "--output", str(out), "--trace-ep", collector.http_endpoint, "--no-progress",
        "--log-level", "warn", "--log-dir", str(out / "logs"), *CONFIGS[config],
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_BSP_SCHEDULE_DELAY="200", OTEL_BSP_MAX_QUEUE_SIZE="65536")
    cwd = ROOT
    if args.system_dir:
        cwd = args.system_dir
        env["PYTHONPATH"] = str(args.system_dir)
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=args.run_timeout)  # fmt: skip
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{truth.name}/{config}: orchestrator exited {proc.returncode}: "
                           f"{proc.stderr[-2000:]}")  # fmt: skip
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    lines = (out / "attributes.txt").read_text(encoding="utf-8").splitlines()
    counts = run["counts"]
    if run["status"] != "completed" or counts["batches"] != args.producers * args.iterations:
        # stopped from outside, or requests lost: not a run at equal request counts
        wanted = args.producers * args.iterations
        raise RuntimeError(f"{truth.name}/{config}: {run['status']} ({run.get('reason')}) "
                           f"after {counts['batches']} of {wanted} requests")  # fmt: skip
    entry = {
        "set": truth.name,
        "topic": truth.topic,
        "config": config,
        "flags": CONFIGS[config],
        "status": run["status"],
        "reason": run.get("reason", ""),
        "candidates": counts["candidates"],
        "input_tokens": counts["input_tokens"],
        "output_tokens": counts["output_tokens"],
        "requests": counts["batches"],
        "wall_s": round(wall, 1),
        # the raw run, so the report re-scores it with the scorer of the day
        "lines": lines,
        "batches": batch_steps(collector, run),
    }
    return rescore(entry)


def batch_steps(collector: Collector, run: dict[str, Any]) -> list[list[int]]:
    """[new lines, tokens] of every request in start order, from its batch.receive span."""
    expected, trace_id = run["counts"]["batches"], run.get("trace_id")
    deadline = time.monotonic() + 60
    batches: list[Any] = []
    while trace_id and time.monotonic() < deadline:
        batches = [s for s in collector.store.by_trace(trace_id) if s.name == "batch.receive"]
        if len(batches) >= expected:
            break
        time.sleep(0.2)
    batches.sort(key=lambda s: s.start_ns)
    return [
        [int(s.attr("batch.new", 0)),
         int(s.attr("batch.input_tokens", 0)) + int(s.attr("batch.output_tokens", 0))]
        for s in batches
    ]  # fmt: skip


def rescore(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's score and recall-vs-tokens curve from its raw lines and batches."""
    truth = load(entry["set"])
    lines = entry["lines"]
    score = score_lines(lines, truth)
    score.input_tokens, score.output_tokens = entry["input_tokens"], entry["output_tokens"]
    score.tokens = score.input_tokens + score.output_tokens
    score.requests, score.wall_s = entry["requests"], entry["wall_s"]
    tokens, recall, position, spent = [0.0], [0.0], 0, 0
    for new, used in entry["batches"]:
        position += new
        spent += used
        tokens.append(float(spent))
        recall.append(round(score_lines(lines[:position], truth).recall, 4))
    entry["score"] = score.to_dict(samples=40)
    entry["curve"] = {"tokens": tokens, "recall": recall}
    return entry


# ------------------------------------------------------------------ results file
@contextlib.contextmanager
def locked_results(path: Path) -> Iterator[dict[str, Any]]:
    """The results JSON for read-modify-write, under an exclusive lock (several
    benchmark processes may run at once, each with its own server)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = {"entries": {}}
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def record(path: Path, label: str, entry: dict[str, Any]) -> None:
    with locked_results(path) as data:
        data["entries"][f"{label}/{entry['set']}/{entry['config']}"] = {"label": label, **entry}


# ------------------------------------------------------------------ report
def entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate(CONFIGS)}
    sets = {name: i for i, name in enumerate(SETS)}
    found = list(data.get("entries", {}).values())
    found.sort(key=lambda e: (sets.get(e["set"], 99), e["set"], order.get(e["config"], 99),
                              e["label"] != "before", e["label"]))  # fmt: skip
    return found


def table(data: dict[str, Any]) -> str:
    head = ["truth set", "configuration", "code", "requests", "lines", "valid", "duplicates",
            "precision", "recall", "tokens", "valid/1k tokens", "wall s"]  # fmt: skip
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in entries(data):
        s = e["score"]
        rows.append("| " + " | ".join([
            e["set"], e["config"], f"{e['label']} ({e.get('commit', '?')})", str(s["requests"]),
            str(s["lines"]), f"{s['valid']}/{s['universe']}", str(s["duplicates"]),
            f"{s['precision']:.2f}", f"{s['recall']:.2f}", f"{s['tokens']:,}",
            f"{s['valid_per_1k_tokens']:.2f}", f"{s['wall_s']:.0f}",
        ]) + " |")  # fmt: skip
    return "\n".join(rows)


def plot(data: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = entries(data)
    sets = [s for s in dict.fromkeys(e["set"] for e in found)]
    if not sets:
        return False
    cols = min(2, len(sets))
    rows = (len(sets) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.2 * rows), dpi=100, squeeze=False)
    for ax, name in zip(axes.flat, sets, strict=False):
        for e in (e for e in found if e["set"] == name):
            style = "-" if e["label"] == "after" else "--"
            ax.plot([t / 1000 for t in e["curve"]["tokens"]], e["curve"]["recall"], style,
                    label=f"{e['config']} ({e['label']})", linewidth=1.3)  # fmt: skip
        ax.set_title(f"{name} ({found[[e['set'] for e in found].index(name)]['score']['universe']}"
                     " members)", fontsize=10)  # fmt: skip
        ax.set_xlabel("tokens (thousands)")
        ax.set_ylabel("recall")
        ax.set_ylim(0, 1)
        ax.grid(True, linewidth=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(sets) :]:
        ax.set_visible(False)
    fig.suptitle("Recall vs tokens: SmolLM2-135M-Instruct, equal requests per configuration")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def report(path: Path) -> None:
    if not path.exists():
        print(f"no results yet at {path}")
        return
    with locked_results(path) as data:
        for entry in data["entries"].values():
            rescore(entry)
    md = table(data)
    print(md)
    (path.parent / "results.md").write_text(md + "\n", encoding="utf-8")
    if plot(data, path.parent / "recall-vs-tokens.png"):
        print(f"wrote {path.parent / 'recall-vs-tokens.png'}")


# ------------------------------------------------------------------ main
def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _names(text: str, known: list[str] | tuple[str, ...]) -> list[str]:
    if text == "all":
        return list(known)
    return [n.strip() for n in text.split(",") if n.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--sets", default=",".join(SETS), help="truth sets, comma-separated, or all")
    p.add_argument("--configs", default="levers-off,defaults",
                   help=f"comma-separated, or all: {', '.join(CONFIGS)}")  # fmt: skip
    p.add_argument("--label", default="after", help="tag of these runs (before/after)")
    p.add_argument("--producers", type=int, default=2)
    p.add_argument("--iterations", type=int, default=24)
    p.add_argument("--request-size", type=int, default=30)
    p.add_argument("--max-tokens", type=int, default=1024, help="per answer (bounds a loop)")
    p.add_argument("--llm-timeout", type=float, default=300.0, help="per request, s")
    p.add_argument("--run-timeout", type=float, default=3600.0, help="per run, s")
    p.add_argument("--system-dir", type=Path, default=None,
                   help="run the orchestrator from this checkout (default: this one)")  # fmt: skip
    p.add_argument("--commit", default=None,
                   help="the commit --system-dir holds (default: ask git)")  # fmt: skip
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--report", action="store_true", help="only write tables and plot")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # kill PID: stop the run and the server cleanly
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with `&`
    if args.report:
        report(args.results)
        return 0
    sets = _names(args.sets, SETS)
    configs = _names(args.configs, list(CONFIGS))
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        p.error(f"unknown configuration {unknown}; choose from {', '.join(CONFIGS)}")
    try:
        truths = [load(name) for name in sets]
    except TruthSetError as exc:
        p.error(str(exc))
    reason = unavailable_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    commit = args.commit or git_commit(args.system_dir or ROOT)
    with tempfile.TemporaryDirectory(prefix="bench-real-llm-") as tmp:
        workdir = Path(tmp)
        with (
            Collector(enable_grpc=False) as collector,
            LocalLLM(log_path=workdir / "llama-server.log") as llm,
        ):
            print(f"llama server on {llm.base_url}; code {commit}; label {args.label}", flush=True)
            for truth in truths:
                for config in configs:
                    entry = run_one(collector, llm, truth, config, args, workdir)
                    entry.update(commit=commit, finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                 time.gmtime()), producers=args.producers,
                                 iterations=args.iterations, request_size=args.request_size,
                                 max_tokens=args.max_tokens)  # fmt: skip
                    record(args.results, args.label, entry)
                    s = entry["score"]
                    print(f"{args.label:6s} {truth.name:26s} {config:22s} lines {s['lines']:4d} "
                          f"precision {s['precision']:.2f} recall {s['recall']:.2f} "
                          f"tokens {s['tokens']:6d} valid/1k {s['valid_per_1k_tokens']:.2f} "
                          f"wall {s['wall_s']:.0f}s", flush=True)  # fmt: skip
    report(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
