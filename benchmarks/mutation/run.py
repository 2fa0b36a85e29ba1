"""Mutation score: apply each seeded bug to a clean copy of the tree, run the scenarios.

    .venv/bin/python benchmarks/mutation/run.py                 # every mutation
    .venv/bin/python benchmarks/mutation/run.py --only dedup-drops-new,output-lowercase
    .venv/bin/python benchmarks/mutation/run.py --jobs 2 --json results.json

A copy is ``git archive HEAD`` (committed files only) in a temp folder; the
patch is a string replacement that must match exactly once. Scenarios run one
by one (``python -m tester --scenario NAME`` in the copy, with this venv's
Python) in SCENARIOS order and stop at the first one that does not pass: the
mutation is *caught* there; *missed* when every scenario passes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from mutations import MUTATIONS

ROOT = Path(__file__).resolve().parents[2]
KEEP: Path | None = None  # --keep DIR
#: fast, discovery-heavy scenarios first: most bugs are caught early
SCENARIOS = (
    "basic", "providers", "provider-faults", "examples", "saturation", "input-truth",
    "orchestrator-restart", "producer-kill", "webserver", "bad-peers", "no-telemetry",
    "silent-orchestrator",
)  # fmt: skip


def copy_tree(dest: Path) -> None:
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def apply(tree: Path, file: str, old: str, new: str) -> None:
    path = tree / file
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise SystemExit(f"{file}: the patch's text occurs {text.count(old)} times, not once")
    path.write_text(text.replace(old, new), encoding="utf-8")


def run_one(mutation: tuple[str, str, str, str, str, str], scenarios: tuple[str, ...]) -> dict:
    ident, area, file, old, new, what = mutation
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mut-{ident}-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        copy_tree(tree)
        if ident != "clean":
            apply(tree, file, old, new)
        caught_by, detail = None, ""
        for scenario in scenarios:
            proc = subprocess.run(
                [sys.executable, "-m", "tester", "--scenario", scenario,
                 "--workdir", str(Path(tmp) / "art" / scenario)],
                cwd=tree, capture_output=True, text=True, timeout=600,
                env={**__import__("os").environ, "PYTHONPATH": str(tree)},
            )  # fmt: skip
            if proc.returncode != 0:
                caught_by = scenario
                if KEEP is not None:  # the failing scenario's artifacts, to read the evidence
                    shutil.copytree(Path(tmp) / "art" / scenario, KEEP / ident,
                                    dirs_exist_ok=True)  # fmt: skip
                    (KEEP / ident / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
                output = proc.stderr.splitlines() + proc.stdout.splitlines()
                lines = [x for x in output if "FAILED:" in x or "ERROR" in x or "Error:" in x]
                detail = (lines[0] if lines else proc.stdout.strip().splitlines()[-1:] or [""])[0]
                break
    return {
        "id": ident, "area": area, "what": what, "caught_by": caught_by,
        "detail": detail[:200], "seconds": round(time.monotonic() - started, 1),
    }  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default="", help="comma-separated mutation ids")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--clean", type=int, default=0, help="also N unmutated runs (false alarms)")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--keep", type=Path, default=None, help="copy failing artifacts here")
    args = p.parse_args()
    global KEEP
    KEEP = args.keep
    chosen = [m for m in MUTATIONS if not args.only or m[0] in args.only.split(",")]
    chosen += [("clean", "clean", "", "", "", "no mutation")] * args.clean
    scenarios = tuple(args.scenarios.split(","))
    results = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(lambda m: run_one(m, scenarios), chosen):
            mark = f"caught by {result['caught_by']}" if result["caught_by"] else "MISSED"
            print(f"{result['id']:<36} {result['area']:<12} {mark:<32} {result['seconds']}s "
                  f"{result['detail']}", flush=True)  # fmt: skip
            results.append(result)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    bugs = [r for r in results if r["id"] != "clean"]
    caught = sum(1 for r in bugs if r["caught_by"])
    alarms = sum(1 for r in results if r["id"] == "clean" and r["caught_by"])
    if bugs:
        print(f"mutation score: {caught}/{len(bugs)} caught ({caught / len(bugs):.0%})")
    if args.clean:
        print(f"false alarms: {alarms}/{args.clean} clean runs")
    shutil.rmtree(ROOT / "artifacts" / "mutation", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
