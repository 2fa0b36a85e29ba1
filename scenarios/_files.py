"""Output-file truth: ``run.json`` and ``export-attributes`` say what the trace and the
files say (README "Running the system", "Completeness and support"; docs/tracing.md).

``run.json`` (configuration, counts, timings, per-producer stats, trace id) is
judged against the ``topic.run`` span's attributes and the ``batch.receive``
spans, which the other checks judge against the fake model's ledger, and
against ``attributes.txt``. ``export-attributes`` is judged against
``attributes.jsonl``, which the oracle's support check judges against the
ledger.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from tester import schema as n
from tester.scenario import ScenarioContext
from tester.topic import Topic

#: run.json ``coverage.estimate`` key -> the ``topic.run`` attribute of the final estimate
COVERAGE_KEYS = {
    "coverage": "coverage.estimate", "coverage_low": "coverage.low",
    "coverage_high": "coverage.high", "universe": "coverage.universe",
    "universe_low": "coverage.universe_low", "universe_high": "coverage.universe_high",
    "found": "coverage.found", "requests": "coverage.requests", "basis": "coverage.basis",
    "sample_coverage": "coverage.sample_coverage", "q1": "coverage.singletons",
    "q2": "coverage.doubletons",
}  # fmt: skip
#: OpenTelemetry's default cap on a span's events: past it the SDK drops them
SDK_EVENT_LIMIT = 128
#: levers whose run.json ``config.levers`` switch decides whether ``levers.enabled`` names them
SWITCHED_LEVERS = ("shared_state", "partitions", "prefilter", "near_duplicates", "adaptive")


class _Diff:
    """Collects every mismatch, so one failure names them all."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.found: list[str] = []

    def eq(self, field: str, got: Any, want: Any, source: str) -> None:
        if got != want:
            self.found.append(f"{field} = {got!r}, {source} says {want!r}")

    def near(self, field: str, got: Any, want: float, tol: float, source: str) -> None:
        if not isinstance(got, int | float) or abs(got - want) > tol:
            self.found.append(f"{field} = {got!r}, {source} gives {want:.4f} (+-{tol})")

    def raise_if_any(self) -> None:
        assert not self.found, f"{self.what}:\n  " + "\n  ".join(self.found)


def _sum(spans: list[Any], key: str, keep: Callable[[Any], bool] = lambda s: True) -> int:
    return sum(int(s.attr(key, 0) or 0) for s in spans if keep(s))


def _tail(path: object, parts: int = 2) -> tuple[str, ...] | None:
    """The last folder and file names of a path (None when it is not one)."""
    return Path(path).parts[-parts:] if isinstance(path, str | Path) and path else None


def assert_run_json(topic: Topic, attributes: Path) -> None:
    """run.json (beside ``attributes``) of a finished run against its trace and the file."""
    run_json = attributes.parent / "run.json"
    summary = json.loads(run_json.read_text(encoding="utf-8"))
    root = topic.root
    d = _Diff(f"{run_json} disagrees with the trace or the files")
    for field, attr in (
        ("run_id", n.RUN_ID), ("topic", n.TOPIC_NAME), ("slug", "topic.slug"),
        ("status", n.RUN_STATUS), ("reason", n.RUN_STOP_REASON),
    ):  # fmt: skip
        d.eq(field, summary.get(field), root.attr(attr), f"topic.run {attr}")
    d.eq("trace_id", summary.get("trace_id"), topic.trace_id, "the trace")
    config = summary.get("config", {})
    iterations = root.attr(n.RUN_ITERATIONS)
    for field, want, source in (
        ("topic", root.attr(n.TOPIC_NAME), n.TOPIC_NAME),
        ("producers", root.attr(n.RUN_PRODUCERS), n.RUN_PRODUCERS),
        ("iterations", None if iterations == -1 else iterations, n.RUN_ITERATIONS),
        ("request_size", root.attr("run.request_size"), "run.request_size"),
        ("provider", root.attr("run.provider"), "run.provider"),
    ):
        d.eq(f"config.{field}", config.get(field), want, source)
    # paths as the run wrote them; a replay may read a copied artifacts folder: compare the
    # folder and file names
    d.eq("config.output_dir", _tail(config.get("output_dir"), 1), _tail(attributes.parent, 1), "")

    batches = topic.spans(n.BATCH_RECEIVE)
    lines = attributes.read_text(encoding="utf-8").splitlines()
    counts = summary.get("counts", {})
    for field, attr in (
        ("unique", n.RUN_UNIQUE), ("resumed", n.RUN_RESUMED), ("candidates", n.RUN_CANDIDATES),
        ("duplicates", n.RUN_DUPLICATES), ("rejected", "run.rejected_count"),
        ("batches", n.RUN_BATCHES), ("restarts", n.RUN_RESTARTS),
    ):  # fmt: skip
        d.eq(f"counts.{field}", counts.get(field), root.attr(attr), f"topic.run {attr}")
    d.eq("counts.total_in_file", counts.get("total_in_file"), len(lines), "attributes.txt")
    for field, attr in (
        ("input_tokens", "batch.input_tokens"), ("output_tokens", "batch.output_tokens"),
        ("prefiltered", "batch.prefiltered"), ("rejected", "batch.rejected"),
    ):  # fmt: skip
        d.eq(f"counts.{field}", counts.get(field), _sum(batches, attr), f"sum of {attr}")
    candidates = int(counts.get("candidates") or 0)
    if candidates:
        rate = int(counts.get("duplicates") or 0) / candidates
        d.near("counts.duplicate_rate", counts.get("duplicate_rate"), rate, 1e-3, "dup/cand")
    # docs/webserver.md: generated = candidates + prefiltered
    d.eq("counts.generated", counts.get("generated"),
         candidates + int(counts.get("prefiltered") or 0), "candidates + prefiltered")  # fmt: skip
    d.eq(
        "counts.rejected_connections", counts.get("rejected_connections"),
        len(topic.spans(n.CONNECTION_REJECTED)), "connection.rejected spans",
    )  # fmt: skip

    timings = summary.get("timings", {})
    started = datetime.fromisoformat(timings["started_at"])
    ended = datetime.fromisoformat(timings["ended_at"])
    duration = timings.get("duration_s")
    d.near("timings.duration_s", duration, (ended - started).total_seconds(), 0.01, "end - start")
    d.near("timings.duration_s", duration, root.duration_ns / 1e9, 2.0, "the topic.run span")
    if isinstance(duration, int | float) and duration > 0:
        per_s = int(counts.get("unique") or 0) / duration
        d.near("timings.unique_per_s", timings.get("unique_per_s"), per_s, 0.01 + per_s / 100, "")
    ingest = timings.get("ingest_s")
    if isinstance(ingest, int | float) and ingest > 0 and batches:
        # the sustained rate from the first batch to the last: what came after the first
        first = min(batches, key=lambda s: s.start_ns)
        per_s = (candidates - int(first.attr(n.BATCH_CANDIDATES, 0) or 0)) / ingest
        d.near("timings.candidates_per_s", timings.get("candidates_per_s"), per_s,
               0.1 + per_s / 100, "candidates after the first batch / ingest_s")  # fmt: skip
        if isinstance(duration, int | float) and ingest > duration:
            d.found.append(f"timings.ingest_s {ingest} > duration_s {duration}")

    producers = summary.get("producers", [])
    d.eq(
        "producers[].producer_id", sorted(p.get("producer_id") for p in producers),
        list(range(1, int(root.attr(n.RUN_PRODUCERS) or 0) + 1)), n.RUN_PRODUCERS,
    )  # fmt: skip
    spawns = topic.spans(n.PRODUCER_SPAWN)
    for p in producers:
        pid = p.get("producer_id")
        mine = [b for b in batches if b.attr(n.PRODUCER_ID) == pid]
        where = f"producers[{pid}]"
        d.eq(f"{where}.batches", p.get("batches"), len(mine), "its batch.receive spans")
        for field, attr in (
            ("candidates", n.BATCH_CANDIDATES), ("new", n.BATCH_NEW),
            ("input_tokens", "batch.input_tokens"), ("output_tokens", "batch.output_tokens"),
        ):  # fmt: skip
            d.eq(f"{where}.{field}", p.get(field), _sum(mine, attr), f"sum of its {attr}")
        its_spawns = sorted(
            (s for s in spawns if s.attr(n.PRODUCER_ID) == pid), key=lambda s: s.start_ns
        )
        d.eq(f"{where}.spawns", p.get("spawns"), len(its_spawns), "its producer.spawn spans")
        d.eq(f"{where}.restarts", p.get("restarts"), max(0, len(its_spawns) - 1), "spawns - 1")
        lost = [s for s in topic.spans(n.PRODUCER_LOST) if s.attr(n.PRODUCER_ID) == pid]
        d.eq(f"{where}.errors", p.get("errors"), len(lost), "its producer.lost spans")
        if its_spawns:
            d.eq(f"{where}.pid", p.get("pid"), its_spawns[-1].attr("process.pid"), "last spawn")

    providers = summary.get("providers", {})
    for field, total in (
        ("candidates", candidates), ("new", counts.get("unique")),
        ("input_tokens", counts.get("input_tokens")),
        ("output_tokens", counts.get("output_tokens")),
    ):  # fmt: skip
        got = sum(int(p.get(field) or 0) for p in providers.values())
        d.eq(f"providers.*.{field} (sum)", got, total, f"counts.{field}")
    for name, p in providers.items():
        tokens = int(p.get("input_tokens") or 0) + int(p.get("output_tokens") or 0)
        if tokens:
            want = 1000 * int(p.get("new") or 0) / tokens
            d.near(f"providers.{name}.new_per_1k_tokens", p.get("new_per_1k_tokens"), want,
                   0.01, "new / tokens")  # fmt: skip

    levers = summary.get("levers", {})
    enabled = levers.get("enabled", [])
    started_with = str(root.attr("run.levers", "") or "")
    d.eq("levers.enabled", sorted(enabled), sorted(filter(None, started_with.split(","))),
         "topic.run run.levers")  # fmt: skip
    switches = config.get("levers", {})
    for name in SWITCHED_LEVERS:
        if name in switches and bool(switches[name]) != (name in enabled):
            d.found.append(f"config.levers.{name} = {switches[name]!r}, levers.enabled {enabled}")
    d.eq("levers.prefiltered", levers.get("prefiltered"), counts.get("prefiltered"), "counts")

    coverage = summary.get("coverage", {})
    events = [e for e in root.events if e.name == "coverage.estimate"]
    if len(root.events) < SDK_EVENT_LIMIT:
        d.eq("coverage.events", coverage.get("events"), len(events), "coverage.estimate events")
    elif int(coverage.get("events") or 0) < len(events):  # the SDK dropped the rest
        d.found.append(f"coverage.events = {coverage.get('events')} < {len(events)} on the span")
    estimate = coverage.get("estimate")
    if estimate is not None:
        for key, attr in COVERAGE_KEYS.items():
            d.eq(f"coverage.estimate.{key}", estimate.get(key), root.attr(attr), attr)
    elif root.attr("coverage.estimate") is not None:
        d.found.append("coverage.estimate is null but topic.run carries a final estimate")

    files = summary.get("files", {})
    d.eq("files.attributes", _tail(files.get("attributes")), _tail(attributes), "the run's file")
    support = attributes.with_suffix(".jsonl")
    d.eq("files.support", _tail(files.get("support")), _tail(support), "beside attributes.txt")
    d.raise_if_any()


EXPORT_CASES = {"all": [], "min2": ["--min-support", "2"], "min3_jsonl": ["--min-support", "3", "--jsonl"]}  # fmt: skip  # noqa: E501


def export_command() -> list[str]:
    return [sys.executable, "-m", "system.output.export"]


def run_exports(ctx: ScenarioContext, output: Path, env: dict[str, str]) -> None:
    """``export-attributes`` on the run's folder (and on a folder without attributes.jsonl):
    stdout and exit codes recorded as the fact ``exports``."""
    done: dict[str, Any] = {}
    cases = {**{k: [str(output), *v] for k, v in EXPORT_CASES.items()},
             "missing": [str(ctx.workdir / "no-such-output")]}  # fmt: skip
    for key, args in cases.items():
        proc = subprocess.run(
            [*export_command(), *args], capture_output=True, text=True, timeout=60, env=env,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        done[key] = {"exit": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr[-400:]}
    ctx.fact("exports", done)


def assert_exports(ctx: ScenarioContext, jsonl: Path) -> None:
    """README: ``export-attributes DIR --min-support N`` prints, in the file's order, the
    display form of the items seen in at least N requests (``--jsonl``: their records);
    exit 2 when the folder has no attributes.jsonl."""
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    runs = ctx.facts["exports"]
    for key, args in EXPORT_CASES.items():
        minimum = int(args[args.index("--min-support") + 1]) if "--min-support" in args else 1
        kept = [r for r in records if r["sightings"] >= minimum]
        got = runs[key]
        assert got["exit"] == 0, f"export-attributes {args}: exit {got['exit']}: {got['stderr']}"
        if "--jsonl" in args:
            out = [json.loads(line) for line in got["stdout"].splitlines()]
            want: list[Any] = kept
        else:
            out, want = got["stdout"].splitlines(), [r["display"] for r in kept]
        assert out == want, (
            f"export-attributes {args}: {len(out)} lines, attributes.jsonl has {len(want)} "
            f"with sightings >= {minimum}; first difference at "
            f"{next((i for i, (a, b) in enumerate(zip(out, want, strict=False)) if a != b), min(len(out), len(want)))}"  # noqa: E501
        )
    missing = runs["missing"]
    assert missing["exit"] == 2 and missing["stderr"].strip(), (
        f"export-attributes on a folder without attributes.jsonl: exit {missing['exit']}, "
        f"stderr {missing['stderr']!r} (README: exit 2 with a message)"
    )
    assert "Traceback" not in missing["stderr"], missing["stderr"]
