"""Resume speed and memory (issue 21 item 20): an output folder of N lines, resumed.

    python benchmarks/resume.py                 # 300k and 1M lines, ~2 min
    python benchmarks/resume.py --lines 100000  # one size
    python benchmarks/resume.py --quick         # 20k lines (the smoke test)

For each size it writes a folder as a finished run leaves it (attributes.txt,
attributes.jsonl aligned with it, run.json), then runs the orchestrator on it
unchanged (``_orchestrator_probe.py``: one producer, one iteration, the test
provider) and reports: the time from the process start to its "listening"
line (the resume is done: both files read, the index and the counts loaded),
the same for an empty folder (the start-up the resume adds to), the
orchestrator's CPU and peak RSS for the whole run, and whether
attributes.jsonl was replaced at start (its inode changed before the first
batch). Results go to results/resume.json with the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    PROBE,
    ROOT,
    TOPIC,
    load_average,
    machine,
    markdown_table,
    precompile,
    print_section,
    write_result,
)

_LISTENING = re.compile(rb"listening on [\d.]+:\d+")
WORDS = ("Harbour", "Museum", "Garden", "Tower", "Bridge", "Gallery", "Market", "Chapel")


def make_folder(out: Path, lines: int) -> None:
    """attributes.txt + attributes.jsonl as a finished run of ``lines`` items leaves them."""
    from system.output.attributes_jsonl import line_key

    out.mkdir(parents=True)
    rnd = random.Random(lines)
    with (
        (out / "attributes.txt").open("w", encoding="utf-8") as txt,
        (out / "attributes.jsonl").open("w", encoding="utf-8") as jsonl,
    ):
        for i in range(lines):
            display = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} of District {i}"
            seen = rnd.randint(1, 9)
            record = {
                "display": display,
                "key": f"{line_key(display):016x}",
                "sightings": seen,
                "producers": min(seen, 4),
                "providers": 1,
                "first_seen": "2026-12-07T10:00:00.000+00:00",
                "last_seen": "2026-12-07T10:05:00.000+00:00",
            }
            txt.write(display + "\n")
            jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
    (out / "run.json").write_text(json.dumps({"topic": TOPIC}), encoding="utf-8")


def resume_once(out: Path, work: Path) -> dict[str, Any]:
    probe_json = work / "probe.json"
    jsonl = out / "attributes.jsonl"
    inode = jsonl.stat().st_ino if jsonl.exists() else None
    cmd = [sys.executable, str(PROBE), str(probe_json), "--", "--topic", TOPIC]
    cmd += ["--producers", "1", "--iterations", "1", "--output", str(out), "--no-progress"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    log_path = work / "orchestrator.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        listening_s = None
        replaced_at_start = None
        cpu_at_listening = rss_at_listening = float("nan")
        while proc.poll() is None or listening_s is None:
            if listening_s is None and _LISTENING.search(log_path.read_bytes()):
                listening_s = time.perf_counter() - started
                with contextlib.suppress(psutil.Error):
                    me = psutil.Process(proc.pid)  # the probe runs the orchestrator in-process
                    cpu = me.cpu_times()
                    cpu_at_listening = cpu.user + cpu.system
                    rss_at_listening = me.memory_info().rss / 2**20
                now = jsonl.stat().st_ino if jsonl.exists() else None
                replaced_at_start = inode is not None and now != inode
            if proc.poll() is not None and listening_s is None:
                break
            time.sleep(0.02)
        code = proc.wait(timeout=600)
    wall = time.perf_counter() - started
    if code != 0 or listening_s is None:
        raise RuntimeError(f"orchestrator exited {code}:\n{log_path.read_text()[-3000:]}")
    probe = json.loads(probe_json.read_text(encoding="utf-8"))
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {
        "resumed": summary["counts"]["resumed"],
        "until_listening_s": round(listening_s, 2),
        "cpu_until_listening_s": round(cpu_at_listening, 2),
        "rss_at_listening_mib": round(rss_at_listening, 1),
        "wall_s": round(wall, 2),
        "orch_cpu_s": round(probe["self_user_s"] + probe["self_system_s"], 2),
        "orch_maxrss_mib": round(probe["self_maxrss_kb"] / 1024, 1),
        "jsonl_replaced_at_start": replaced_at_start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, action="append", help="folder sizes (repeatable)")
    parser.add_argument("--quick", action="store_true", help="one 20k-line folder")
    args = parser.parse_args()
    sizes = [20_000] if args.quick else (args.lines or [300_000, 1_000_000])
    precompile()
    load_start = [round(x, 2) for x in load_average()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp:
        base = Path(tmp)
        empty = resume_once(base / "empty", base)
        for size in [0, *sizes]:
            if size == 0:
                rows.append({"lines": 0, **empty})
                continue
            out = base / f"r{size}"
            make_folder(out, size)
            result = resume_once(out, base)
            if result["resumed"] != size:
                raise RuntimeError(f"resumed {result['resumed']} of {size} lines")
            rows.append({"lines": size, **result})
    headers = ["lines", "until listening (s)", "resume (s, minus empty)", "CPU until listening (s)"]
    headers += ["whole run (s)", "orchestrator CPU, whole run (s)", "peak RSS (MiB)"]
    headers += ["jsonl replaced at start"]
    table = [
        [
            f"{r['lines']:,}",
            r["until_listening_s"],
            round(r["until_listening_s"] - empty["until_listening_s"], 2),
            r["cpu_until_listening_s"],
            r["wall_s"],
            r["orch_cpu_s"],
            r["orch_maxrss_mib"],
            "yes" if r["jsonl_replaced_at_start"] else "no",
        ]
        for r in rows
    ]
    print_section(f"Resume (load average at start {load_start})", markdown_table(headers, table))
    write_result(
        "resume",
        {"machine": machine(), "load_average_at_start": load_start, "runs": rows},
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
