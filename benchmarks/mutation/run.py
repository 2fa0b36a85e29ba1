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
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

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


def copy_tree(dest: Path, rev: str = "HEAD") -> None:
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def _reap(tree: Path) -> None:
    """End what a run left behind: processes started in ``tree`` (their cwd), by pid."""
    for proc in psutil.process_iter(["cwd"]):
        try:
            if (proc.info["cwd"] or "").startswith(str(tree)):
                proc.kill()
        except psutil.Error:
            continue


def run_scenario(
    tree: Path, workdir: Path, scenario: str, timeout: float, ident: str
) -> str | None:
    """Run one scenario in ``tree``: None when it passes, else the first line of its failure.

    A scenario still running after ``timeout`` seconds fails ("timeout"): the
    tester is interrupted (it tears its constellation down), then killed, and
    every process left with its cwd in the tree is ended."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tester", "--scenario", scenario, "--workdir", str(workdir)],
        cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        _reap(tree)  # before reading on: a child left behind may hold the pipes open
        proc.communicate()
        return f"timeout: still running after {timeout:.0f}s"
    _reap(tree)
    if proc.returncode == 0:
        return None
    if KEEP is not None:  # the failing scenario's artifacts, to read the evidence
        kept = KEEP / (ident if ident != "clean" else tree.parent.name)  # one per run
        shutil.copytree(workdir, kept, dirs_exist_ok=True)
        (kept / "stderr.txt").write_text(stderr, encoding="utf-8")
    output = stderr.splitlines() + stdout.splitlines()
    lines = [x for x in output if "FAILED:" in x or "ERROR" in x or "Error:" in x]
    last = stdout.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
    return (lines or last)[0]


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
        caught_by, detail = None, None
        for scenario in scenarios:
            detail = run_scenario(tree, Path(tmp) / "art" / scenario, scenario, 600.0, ident)
            if detail is not None:
                caught_by = scenario
                break
    return {
        "id": ident, "area": area, "what": what, "caught_by": caught_by,
        "detail": (detail or "")[:200], "applied": True,
        "seconds": round(time.monotonic() - started, 1),
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
