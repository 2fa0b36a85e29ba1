"""Benchmark: 1,000 fuzzed answers through real producers, zero stalls (issue 10).

    .venv/bin/python benchmarks/fuzz_answers.py              # 1,000 answers, ~2-4 min
    .venv/bin/python benchmarks/fuzz_answers.py --quick      # 60 answers

The tester's fake LLM server (``python -m tester.fake_llm --answers``)
serves ``tester.fake_llm.fuzz.fuzzed_answers`` in turn over real HTTP:
random code points of every plane (lone surrogates included), huge lines,
binary junk, JSON-ish and markdown debris, thousands of tiny lines, lists
salted with junk. The orchestrator runs 4 producers (``--provider env``,
default levers, request size 30) for as many requests as there are answers.
A stall is a run that does not end within its timeout; the benchmark also
counts producer restarts (each one a task that died), checks that every
answer was requested, and that attributes.txt is valid UTF-8 with no
control, format or surrogate character. Results: results/fuzz_answers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from _common import RESULTS_DIR, machine, markdown_table, write_result

ROOT = RESULTS_DIR.parent.parent
sys.path.insert(0, str(ROOT))

from tester.fake_llm import FakeLLMServer  # noqa: E402
from tester.fake_llm.fuzz import fuzzed_answers, write_answers  # noqa: E402

PRODUCERS = 4


def run(answers: int, seed: int, timeout_s: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        work = Path(tmp)
        file = write_answers(work / "answers.jsonl", fuzzed_answers(answers, seed))
        out = work / "out"
        with FakeLLMServer(model="fuzz", answers=file, log_path=work / "fake.log") as server:
            cmd = [
                sys.executable, "-m", "system.orchestrator",
                "--topic", "Fuzzed attractions",
                "--producers", str(PRODUCERS),
                "--iterations", str(-(-answers // PRODUCERS)),
                "--request-size", "30",
                "--provider", "env",
                "--llm", f"name=fuzz,base_url={server.base_url},model=fuzz,timeout=60",
                "--env-file", str(work / "none.env"),
                "--output", str(out),
                "--no-progress", "--log-level", "warn",
            ]  # fmt: skip
            env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
            env["PYTHONPATH"] = str(ROOT)
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)  # fmt: skip
            try:
                output, _ = proc.communicate(timeout=timeout_s)
                stalled = False
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
                stalled = True
            wall = time.perf_counter() - started
            stats = server.stats()
        summary = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
        lines = (out / "attributes.txt").read_bytes().decode("utf-8").splitlines() if (
            out / "attributes.txt").exists() else []  # fmt: skip
        dirty = sum(
            1 for line in lines
            if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in line)
        )  # fmt: skip
        counts = summary.get("counts", {})
        return {
            "answers": answers,
            "seed": seed,
            "exit_code": proc.returncode,
            "stalled": stalled,
            "wall_s": round(wall, 1),
            "requests_served": stats["outcomes"].get("ok", 0),
            "restarts": counts.get("restarts", summary.get("restart_count")),
            "status": summary.get("status"),
            "candidates": counts.get("candidates"),
            "unique": counts.get("unique"),
            "attribute_lines": len(lines),
            "dirty_lines": dirty,
            "log_tail": output.decode(errors="replace")[-2000:] if proc.returncode else "",
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    answers = 60 if args.quick else args.answers
    result = run(answers, args.seed, args.timeout)
    print(markdown_table(
        ["answers", "exit", "stalled", "wall s", "requests served", "restarts", "status",
         "candidates", "unique", "dirty lines"],
        [[result[k] for k in ("answers", "exit_code", "stalled", "wall_s", "requests_served",
                              "restarts", "status", "candidates", "unique", "dirty_lines")]],
    ))  # fmt: skip
    write_result("fuzz_answers", {"machine": machine(), "result": result}, quick=args.quick)
    ok = not result["stalled"] and result["exit_code"] == 0 and result["dirty_lines"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
