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


class PatchError(Exception):
    """A seeded bug whose text is not where it should be (exactly once): fix mutations.py."""


def locate(tree: Path, file: str, old: str) -> Path:
    """The file to patch: ``file`` when it holds ``old`` once, else the one file under system/
    that does.

    Files move (packages split, modules renamed) while the bug stays the same
    text: found by content, the text must occur exactly once in all of system/."""
    path = tree / file
    if path.exists() and path.read_text(encoding="utf-8").count(old) == 1:
        return path
    hits = [
        (p, n)
        for p in sorted((tree / "system").rglob("*.py"))
        if (n := p.read_text(encoding="utf-8").count(old))
    ]
    total = sum(n for _, n in hits)
    if total != 1:
        where = ", ".join(f"{p.relative_to(tree)} ({n})" for p, n in hits) or "nowhere"
        raise PatchError(
            f"{file} does not hold the patch's text once, and it occurs {total} times "
            f"under system/, not once: {where}"
        )
    return hits[0][0]


def patched(tree: Path, file: str, old: str, new: str) -> tuple[Path, str]:
    """The file a seeded bug goes into and its mutated text (nothing written)."""
    path = locate(tree, file, old)
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise PatchError(f"{file}: the patch's text occurs {text.count(old)} times, not once")
    if old == new:
        raise PatchError(f"{file}: the patch changes nothing")
    return path, text.replace(old, new)


def apply(tree: Path, file: str, old: str, new: str) -> Path:
    path, text = patched(tree, file, old, new)
    path.write_text(text, encoding="utf-8")
    return path


def check(tree: Path) -> list[str]:
    """Every seeded bug applies to ``tree`` (in memory): the problems, one per bug."""
    problems = []
    for ident, _area, file, old, new, _what in MUTATIONS:
        try:
            patched(tree, file, old, new)
        except PatchError as exc:
            problems.append(f"{ident}: {exc}")
    return problems


def run_one(mutation: tuple[str, str, str, str, str, str], scenarios: tuple[str, ...]) -> dict:
    ident, area, file, old, new, what = mutation
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mut-{ident}-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        copy_tree(tree)
        if ident != "clean":
            try:
                apply(tree, file, old, new)
            except PatchError as exc:
                return {
                    "id": ident, "area": area, "what": what, "caught_by": None,
                    "detail": str(exc)[:300], "seconds": 0.0, "applied": False,
                }  # fmt: skip
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
                    kept = KEEP / (ident if ident != "clean" else Path(tmp).name)  # one per run
                    shutil.copytree(Path(tmp) / "art" / scenario, kept, dirs_exist_ok=True)
                    (kept / "stderr.txt").write_text(proc.stderr, encoding="utf-8")
                output = proc.stderr.splitlines() + proc.stdout.splitlines()
                lines = [x for x in output if "FAILED:" in x or "ERROR" in x or "Error:" in x]
                detail = (lines[0] if lines else proc.stdout.strip().splitlines()[-1:] or [""])[0]
                break
    return {
        "id": ident, "area": area, "what": what, "caught_by": caught_by,
        "detail": detail[:200], "seconds": round(time.monotonic() - started, 1), "applied": True,
    }  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default="", help="comma-separated mutation ids")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--clean", type=int, default=0, help="also N unmutated runs (false alarms)")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--keep", type=Path, default=None, help="copy failing artifacts here")
    p.add_argument("--check", action="store_true", help="only check that every patch applies")
    args = p.parse_args()
    if args.check:
        problems = check(ROOT)
        print("\n".join(problems) or f"all {len(MUTATIONS)} seeded bugs apply")
        return 1 if problems else 0
    global KEEP
    KEEP = args.keep
    chosen = [m for m in MUTATIONS if not args.only or m[0] in args.only.split(",")]
    chosen += [("clean", "clean", "", "", "", "no mutation")] * args.clean
    scenarios = tuple(args.scenarios.split(","))
    results = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(lambda m: run_one(m, scenarios), chosen):
            mark = f"caught by {result['caught_by']}" if result["caught_by"] else "MISSED"
            if not result["applied"]:
                mark = "NOT APPLIED"
            elif result["id"] == "clean":
                mark = f"FALSE ALARM in {result['caught_by']}" if result["caught_by"] else "passed"
            print(f"{result['id']:<36} {result['area']:<12} {mark:<32} {result['seconds']}s "
                  f"{result['detail']}", flush=True)  # fmt: skip
            results.append(result)
            if args.json:
                args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    broken = [r for r in results if not r["applied"]]
    bugs = [r for r in results if r["id"] != "clean" and r["applied"]]
    caught = sum(1 for r in bugs if r["caught_by"])
    alarms = sum(1 for r in results if r["id"] == "clean" and r["caught_by"])
    if bugs:
        print(f"mutation score: {caught}/{len(bugs)} caught ({caught / len(bugs):.0%})")
    if args.clean:
        print(f"false alarms: {alarms}/{args.clean} clean runs")
    if broken:
        print(f"not applied (fix mutations.py): {', '.join(r['id'] for r in broken)}")
    shutil.rmtree(ROOT / "artifacts" / "mutation", ignore_errors=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
