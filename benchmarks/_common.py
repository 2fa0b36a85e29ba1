"""Shared helpers of the benchmarks: running the orchestrator, machine facts, results."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
PROBE = BENCH_DIR / "_orchestrator_probe.py"
TOPIC = "Benchmark attractions"
#: the raw ingest path: every candidate reaches the orchestrator, no pushes to producers
LEVERS_OFF = ("--no-shared-state", "--no-partitions", "--no-prefilter", "--no-adaptive")


# ------------------------------------------------------------------ machine
def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def precompile() -> None:
    """Compile the project's bytecode, as an installed package has it.

    With PYTHONDONTWRITEBYTECODE set (as on the reference machine) every
    producer would otherwise compile the project's modules from source at
    start-up, ~0.3 s of CPU each, which a deployed system never pays.
    """
    import compileall

    for folder in ("system", "tester"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def machine() -> dict[str, Any]:
    """What the README must state: cores, memory, CPU model, Python, load."""
    cpu_model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in load_average()],
    }


# ------------------------------------------------------------------ results
def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(name: str, data: dict[str, Any], *, quick: bool) -> Path:
    """Write benchmarks/results/NAME.json (NAME.quick.json for --quick runs) and say where."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / (f"{name}.quick.json" if quick else f"{name}.json")
    data = {
        "benchmark": name,
        "quick": quick,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_at_end": [round(x, 2) for x in load_average()],
        **data,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(RESULTS_DIR.parent.parent)}")
    return path


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------- collector
@contextlib.contextmanager
def collector() -> Iterator[Any]:
    """The tester's embedded OTLP collector (HTTP + gRPC on 127.0.0.1), stopped on exit."""
    from tester.collector import Collector

    c = Collector().start()
    try:
        yield c
    finally:
        c.stop()


# ------------------------------------------------------------ orchestrator
@dataclass
class OrchestratorRun:
    producers: int
    iterations: int
    request_size: int
    traced: bool
    sim_latency_ms: float
    exit_code: int
    wall_s: float  # the whole process, as seen from here
    run_duration_s: float  # run.json timings.duration_s
    candidates: int
    sustained_candidates_per_s: float  # run.json timings.candidates_per_s (first to last batch)
    unique: int
    batches: int
    orch_cpu_s: float  # the orchestrator process alone (user + system)
    producers_cpu_s: float  # all its reaped producers together
    orch_maxrss_mib: float
    producer_maxrss_mib: float  # the largest producer
    spans_received: int = 0
    profile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def candidates_per_s(self) -> float:
        return self.candidates / self.run_duration_s if self.run_duration_s else 0.0

    @property
    def orch_us_per_candidate(self) -> float:
        return 1e6 * self.orch_cpu_s / self.candidates if self.candidates else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "candidates_per_s": round(self.candidates_per_s, 1),
            "orch_us_per_candidate": round(self.orch_us_per_candidate, 3),
        }


def run_orchestrator(
    *,
    producers: int,
    iterations: int,
    request_size: int,
    trace_ep: str | None = None,
    sim_latency_ms: float = 0.0,
    profile_path: Path | None = None,
    topic: str = TOPIC,
    timeout_s: float = 600.0,
    extra_env: dict[str, str] | None = None,
    extra_args: Sequence[str] = LEVERS_OFF,
) -> OrchestratorRun:
    """One orchestrator run (test provider) under the probe; raises if it fails."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "out"
        probe_json = Path(tmp) / "probe.json"
        cmd = [sys.executable, str(PROBE), str(probe_json)]
        if profile_path is not None:
            cmd.append(str(profile_path))
        cmd += [
            "--",
            "--topic", topic,
            "--producers", str(producers),
            "--iterations", str(iterations),
            "--request-size", str(request_size),
            "--output", str(out),
            "--no-progress",
            "--log-level", "warn",
        ]  # fmt: skip
        if sim_latency_ms:
            cmd += ["--sim-latency-ms", str(sim_latency_ms)]
        if trace_ep:
            cmd += ["--trace-ep", trace_ep]
        cmd += list(extra_args)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["PYTHONPATH"] = str(ROOT)
        env.update(extra_env or {})
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            output, _ = proc.communicate(timeout=timeout_s)
        except BaseException:  # timeout, Ctrl-C: never leave the run behind
            _kill_group(proc)
            raise
        wall = time.perf_counter() - started
        text = output.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise RuntimeError(f"orchestrator exited {proc.returncode}:\n{text[-3000:]}")
        summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
        probe = json.loads(probe_json.read_text(encoding="utf-8"))
    counts = summary["counts"]
    return OrchestratorRun(
        producers=producers,
        iterations=iterations,
        request_size=request_size,
        traced=trace_ep is not None,
        sim_latency_ms=sim_latency_ms,
        exit_code=proc.returncode,
        wall_s=wall,
        run_duration_s=summary["timings"]["duration_s"],
        candidates=counts["candidates"],
        sustained_candidates_per_s=summary["timings"].get("candidates_per_s", 0.0),
        unique=counts["unique"],
        batches=counts["batches"],
        orch_cpu_s=probe["self_user_s"] + probe["self_system_s"],
        producers_cpu_s=probe["children_user_s"] + probe["children_system_s"],
        orch_maxrss_mib=probe["self_maxrss_kb"] / 1024,
        producer_maxrss_mib=probe["children_maxrss_kb"] / 1024,
        profile=str(profile_path) if profile_path else None,
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the run's process group (the orchestrator stops its producers), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def top_functions(profile_path: Path, limit: int = 15) -> list[dict[str, Any]]:
    """The functions with the most own time (tottime) in a cProfile dump."""
    import pstats

    stats = pstats.Stats(str(profile_path))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in (
        stats.stats.items()  # type: ignore[attr-defined]
    ):
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({name})",
                "calls": ncalls,
                "tottime_s": round(tottime, 4),
                "cumtime_s": round(cumtime, 4),
                "share_of_total": round(tottime / total, 4) if total else 0.0,
            }
        )
    rows.sort(key=lambda r: r["tottime_s"], reverse=True)
    return rows[:limit]


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def print_section(title: str, body: str) -> None:
    print(f"\n### {title}\n\n{body}\n", flush=True)
