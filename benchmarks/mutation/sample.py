"""Mechanical mutants over system/: a seeded random sample, each run against the scenarios
that execute its line (see MUTANTS.md).

    .venv/bin/python benchmarks/mutation/sample.py --list                 # how many mutants
    .venv/bin/python benchmarks/mutation/sample.py --coverage-data .coverage --seed 1 --n 150 \\
        --results benchmarks/mutation/results/seed-1.jsonl              # run (resumable)
    .venv/bin/python benchmarks/mutation/sample.py --results FILE --report  # the figures

Mutants are cosmic-ray's operators (its ``core/*`` set without the two random
ones, VariableReplacer and VariableInserter), enumerated over every module of
system/ in a fixed order: a mutant is ``module:operator:occurrence``, the same
on every checkout of the same tree. ``--seed`` and ``--n`` draw the sample.
Each mutant goes into its own copy of the tree (``git archive HEAD``, as
run.py) and runs, cheapest first, only the scenarios whose coverage context
executed a line of the mutated node; the first scenario that fails kills it, a
scenario still running after ``--timeout`` seconds counts as a kill too. A
mutant on a line no scenario executes survives without a run ("uncovered").
Each result is one line appended to ``--results``: an interrupted run
continues where it stopped.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from threading import Lock

import cosmic_ray.plugins
from cosmic_ray.ast import ast_nodes, get_ast_from_path
from cosmic_ray.mutating import mutate_code
from coverage import CoverageData
from coverage.parser import PythonParser

sys.path.insert(0, str(Path(__file__).parent))
from run import ROOT, copy_tree, run_scenario

#: random operators: a mutant would not be the same on a second draw
EXCLUDED_OPERATORS = {"core/VariableReplacer", "core/VariableInserter"}
#: the order a mutant's scenarios run in: basic first (it catches most of the hand-written
#: set), then by seconds per scenario measured on the shared 2-core machine under load
#: (the coverage map's run, 2026-12-07 14:00, load 15-21)
SCENARIO_COST = {
    "basic": 0, "bad-peers": 12, "no-telemetry": 12, "silent-orchestrator": 12,
    "provider-faults": 29, "providers": 30, "webserver": 34, "input-truth": 43,
    "producer-kill": 56, "saturation": 77, "examples": 94, "orchestrator-restart": 108,
    "coverage": 120, "run-modes": 24, "lever-options": 52, "web-api": 60,
}  # fmt: skip
OUTCOMES = ("killed", "survived", "uncovered", "incompetent", "annotation")
NOT_RUN = {"real-llm"}  # needs the local LLM: not in a mutant's scenarios


@dataclass(frozen=True)
class Mutant:
    module: str  # system/... relative to the tree
    operator: str
    occurrence: int
    first_line: int
    last_line: int

    @property
    def ident(self) -> str:
        return f"{self.module}:{self.operator}:{self.occurrence}"


def operators() -> list[str]:
    names = sorted(set(cosmic_ray.plugins.operator_names()) - EXCLUDED_OPERATORS)
    return [n for n in names if not cosmic_ray.plugins.get_operator(n).arguments()]


def enumerate_mutants(tree: Path) -> list[Mutant]:
    """Every mutant of every module under ``tree``/system, in a fixed order."""
    found = []
    ops = [(name, cosmic_ray.plugins.get_operator(name)()) for name in operators()]
    for path in sorted((tree / "system").rglob("*.py")):
        nodes = list(ast_nodes(get_ast_from_path(path)))
        module = path.relative_to(tree).as_posix()
        for name, op in ops:
            positions = (pos for node in nodes for pos in op.mutation_positions(node))
            for occurrence, (start, end) in enumerate(positions):
                found.append(Mutant(module, name, occurrence, start[0], end[0]))
    return found


def draw(mutants: list[Mutant], seed: int, n: int) -> list[Mutant]:
    return random.Random(seed).sample(mutants, min(n, len(mutants)))


def scenario_of(context: str, known: set[str]) -> str | None:
    """The scenario a coverage context names: the context itself or one of its parts."""
    if context in known:
        return context
    return next((p for p in re.split(r"[|:/ ,]", context) if p in known), None)


class Statements:
    """A module's line -> the first line of its statement (coverage.py's own parser): a
    statement over several lines is executed as one, whichever line the tracer reports."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self._parsers: dict[str, PythonParser] = {}

    def first(self, module: str, line: int) -> int:
        if module not in self._parsers:
            path = self.tree / module
            if not path.exists():  # measured elsewhere: not one of this tree's modules
                return line
            self._parsers[module] = PythonParser(text=path.read_text(encoding="utf-8") or "\n")
            self._parsers[module].parse_source()
        return self._parsers[module].first_line(line)


def scenario_names(tree: Path) -> set[str]:
    """The scenarios ``python -m tester --list`` names in ``tree``."""
    listed = subprocess.run(
        [sys.executable, "-m", "tester", "--list"], cwd=tree, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
    ).stdout  # fmt: skip
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def coverage_map(
    data_file: Path, statements: Statements, names: set[str] | None = None
) -> dict[tuple[str, int], set[str]]:
    """(system/... module, first line of a statement) -> the scenarios whose context ran it."""
    data = CoverageData(basename=str(data_file))
    data.read()
    known = set(SCENARIO_COST) | (names or set())
    lines: dict[tuple[str, int], set[str]] = {}
    for measured in data.measured_files():
        posix = Path(measured).as_posix()
        if "/system/" not in posix:
            continue
        module = "system/" + posix.rsplit("/system/", 1)[1]
        for line, contexts in data.contexts_by_lineno(measured).items():
            names = {s for c in contexts if (s := scenario_of(c, known))}
            if names:
                lines.setdefault((module, statements.first(module, line)), set()).update(names)
    return lines


def covering(
    mutant: Mutant, lines: dict[tuple[str, int], set[str]], statements: Statements
) -> list[str]:
    """The scenarios that executed the statement(s) of the mutated node, cheapest first."""
    found: set[str] = set()
    for line in range(mutant.first_line, mutant.last_line + 1):
        found |= lines.get((mutant.module, statements.first(mutant.module, line)), set())
    return sorted(found - NOT_RUN, key=lambda s: (SCENARIO_COST.get(s, 99), s))


def mutated_text(tree: Path, mutant: Mutant) -> tuple[str, str]:
    """The module's text and its mutated text (cosmic-ray applies the operator)."""
    source = (tree / mutant.module).read_text(encoding="utf-8")
    operator = cosmic_ray.plugins.get_operator(mutant.operator)()
    mutated = mutate_code(source, operator, mutant.occurrence)
    if mutated is None:
        raise ValueError(f"{mutant.ident}: no such mutation in this tree")
    return source, mutated


def changed_lines(source: str, mutated: str) -> str:
    """The mutated lines, for the report (``-old`` / ``+new``)."""
    old, new = source.splitlines(), mutated.splitlines()
    first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), 0)
    tail = next(
        (i for i, (a, b) in enumerate(zip(reversed(old), reversed(new), strict=False)) if a != b),
        0,
    )
    before = "\n".join(x.strip() for x in old[first : len(old) - tail])
    after = "\n".join(x.strip() for x in new[first : len(new) - tail])
    return f"-{before}\n+{after}"


def _without_signature_annotations(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
    return ast.dump(tree)


def annotation_only(source: str, mutated: str) -> bool:
    """Equivalent by construction: the mutant changes only a function's parameter or return
    annotation, in a module whose annotations stay strings (``from __future__ import
    annotations``) and that no framework reads (FastAPI evaluates a route's signature;
    the protocol codec reads only class annotations, which this does not cover)."""
    if "from __future__ import annotations" not in source or "fastapi" in source:
        return False
    return _without_signature_annotations(source) == _without_signature_annotations(mutated)


def run_mutant(mutant: Mutant, scenarios: list[str], timeout: float, rev: str) -> dict[str, object]:
    started = time.monotonic()
    result: dict[str, object] = {**asdict(mutant), "id": mutant.ident, "scenarios": scenarios}
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        copy_tree(tree, rev)
        source, mutated = mutated_text(tree, mutant)
        result["diff"] = changed_lines(source, mutated)
        try:
            compile(mutated, mutant.module, "exec")
        except SyntaxError:  # cosmic-ray's operator made no program: out of the score
            return {**result, "outcome": "incompetent", "killed_by": None, "seconds": 0.0}
        if annotation_only(source, mutated):
            return {**result, "outcome": "annotation", "killed_by": None, "seconds": 0.0}
        if not scenarios:
            return {**result, "outcome": "uncovered", "killed_by": None, "seconds": 0.0}
        (tree / mutant.module).write_text(mutated, encoding="utf-8")
        for scenario in scenarios:
            detail = run_scenario(tree, Path(tmp) / "art" / scenario, scenario, timeout, "mutant")
            if detail is not None:
                return {
                    **result, "outcome": "killed", "killed_by": scenario, "detail": detail[:300],
                    "seconds": round(time.monotonic() - started, 1),
                }  # fmt: skip
    return {
        **result, "outcome": "survived", "killed_by": None,
        "seconds": round(time.monotonic() - started, 1),
    }  # fmt: skip


def read_results(path: Path) -> Iterator[dict[str, object]]:
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def report(results: list[dict[str, object]], equivalent: dict[str, str]) -> str:
    """The figures: incompetent mutants (no program) are out; equivalent ones too."""
    count = {k: sum(1 for r in results if r["outcome"] == k) for k in OUTCOMES}
    competent = len(results) - count["incompetent"]
    killed = count["killed"]
    equiv = count["annotation"] + sum(
        1 for r in results if r["outcome"] in ("survived", "uncovered") and r["id"] in equivalent
    )
    relevant = competent - equiv
    low, high = wilson(killed, relevant)
    lines = [
        f"sampled {len(results)}: incompetent {count['incompetent']} (not a program), "
        f"competent {competent}: killed {killed}, survived {count['survived']} (run), "
        f"uncovered {count['uncovered']} (no scenario executes the line)",
        f"equivalent {equiv} ({count['annotation']} only change a signature's annotation, "
        f"never evaluated; the rest classified by hand); non-equivalent {relevant}",
        f"score {killed}/{relevant} = {killed / max(relevant, 1):.1%}, "
        f"95% Wilson interval [{low:.1%}, {high:.1%}]",
    ]
    unclassified = [
        str(r["id"])
        for r in results
        if r["outcome"] in ("survived", "uncovered") and r["id"] not in equivalent
    ]
    if unclassified:
        lines.append(f"survivors not classified as equivalent (real gaps): {len(unclassified)}")
    return "\n".join(lines)


def table(results: list[dict[str, object]], classified: dict[str, dict[str, str]]) -> str:
    """The survivors as a markdown table: mutant, change, outcome, class, argument."""
    rows = [
        "| mutant | change | outcome | class | why (and the check that now kills it) |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        if r["outcome"] not in ("survived", "uncovered"):
            continue
        c = classified.get(str(r["id"]), {"kind": "unclassified", "why": ""})
        diff = " → ".join(
            f"`{x[1:].strip()}`".replace("|", "\\|") for x in str(r["diff"]).splitlines()
        )
        closed = f" **closed: {c['closed_by']}**" if c.get("closed_by") else ""
        where = f"{str(r['module']).removeprefix('system/')}:{r['first_line']}"
        rows.append(
            f"| {where} {str(r['operator']).removeprefix('core/')} | {diff} | {r['outcome']} "
            f"| {c['kind']} | {c['why']}{closed} |"
        )
    return "\n".join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per scenario (a kill)")
    p.add_argument("--coverage-data", type=Path, help="combined coverage data with contexts")
    p.add_argument("--results", type=Path, help="JSON lines, appended (resumable)")
    p.add_argument("--classified", type=Path, default=Path(__file__).parent / "classified.json",
                   help="survivors: {id: {kind: equivalent|gap, why, closed_by}}")  # fmt: skip
    p.add_argument("--table", action="store_true", help="with --report: the survivors' table")
    p.add_argument("--only", default="", help="comma-separated mutant ids instead of a draw")
    p.add_argument("--scenarios", default="",
                   help="run these scenarios for every mutant, not those of the coverage map "
                        "(to see that a new check kills a survivor)")  # fmt: skip
    p.add_argument("--rev", default="HEAD", help="the commit the copies are made of")
    p.add_argument("--list", action="store_true", help="count the mutants per package")
    p.add_argument("--report", action="store_true", help="the figures of --results")
    args = p.parse_args()
    if args.list:
        mutants = enumerate_mutants(ROOT)  # the working tree
        per: dict[str, int] = {}
        for m in mutants:
            package = "/".join(m.module.split("/")[:2])
            per[package] = per.get(package, 0) + 1
        for package, count in sorted(per.items()):
            print(f"{package:<28} {count}")
        print(f"{'total':<28} {len(mutants)} ({len(operators())} operators)")
        return 0
    if args.results is None:
        p.error("--results is required (or --list)")
    if args.report:
        classified = json.loads(args.classified.read_text(encoding="utf-8"))
        equivalent = {k: v["why"] for k, v in classified.items() if v["kind"] == "equivalent"}
        results = list(read_results(args.results))
        print(report(results, equivalent))
        if args.table:
            print(table(results, classified))
        return 0
    if args.coverage_data is None or not args.coverage_data.exists():
        p.error("--coverage-data: a combined coverage data file with a context per scenario")
    rev = subprocess.run(["git", "rev-parse", args.rev], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        copy_tree(Path(tmp), rev)
        mutants = enumerate_mutants(Path(tmp))
        only = set(filter(None, args.only.split(",")))
        sample = [m for m in mutants if m.ident in only] or draw(mutants, args.seed, args.n)
        if only and len(sample) != len(only):
            p.error(f"--only: {len(only) - len(sample)} id(s) name no mutant of {rev[:10]}")
        statements = Statements(Path(tmp))
        lines = coverage_map(args.coverage_data, statements, scenario_names(Path(tmp)))
        scenarios = {m.ident: covering(m, lines, statements) for m in sample}
        if args.scenarios:
            scenarios = {m.ident: args.scenarios.split(",") for m in sample}
    done = {r["id"] for r in read_results(args.results)}
    todo = [m for m in sample if m.ident not in done]
    print(f"sample of {len(sample)} (seed {args.seed}, {rev[:10]}): {len(done)} done, "
          f"{len(todo)} to run", flush=True)  # fmt: skip
    lock = Lock()

    def one(mutant: Mutant) -> None:
        result = run_mutant(mutant, scenarios[mutant.ident], args.timeout, rev)
        result["seed"], result["rev"] = args.seed, rev
        with lock, args.results.open("a", encoding="utf-8") as out:
            out.write(json.dumps(result) + "\n")
        print(f"{result['outcome']:<9} {result['killed_by'] or '':<20} {result['seconds']:>6}s "
              f"{mutant.ident} line {mutant.first_line}", flush=True)  # fmt: skip

    args.results.parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, todo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
