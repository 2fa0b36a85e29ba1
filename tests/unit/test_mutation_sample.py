"""The mechanical mutant sampler (benchmarks/mutation/sample.py): a mutant is the same on
every draw, the sample is reproducible, a mutant runs only the scenarios that executed
its line, cheapest first, and the score's interval is right."""

import importlib.util
import json
import sys
from pathlib import Path

import psutil
import pytest
from coverage import CoverageData

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks" / "mutation"


@pytest.fixture(scope="module")
def sample():
    sys.path.insert(0, str(FOLDER))
    try:
        spec = importlib.util.spec_from_file_location("mutation_sample", FOLDER / "sample.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["mutation_sample"] = module  # its dataclass looks itself up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(FOLDER))


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "system" / "pkg").mkdir(parents=True)
    (tmp_path / "system" / "pkg" / "mod.py").write_text(
        "def f(a, b):\n    if a < b:\n        return a + 1\n    return b\n", encoding="utf-8"
    )
    return tmp_path


def test_mutants_are_enumerated_in_a_fixed_order_and_drawn_reproducibly(sample, tmp_path):
    tree = _tree(tmp_path)
    first, second = sample.enumerate_mutants(tree), sample.enumerate_mutants(tree)
    assert first == second and len(first) > 10
    assert len({m.ident for m in first}) == len(first)
    assert not {m.operator for m in first} & sample.EXCLUDED_OPERATORS
    assert sample.draw(first, 7, 5) == sample.draw(second, 7, 5)
    assert sample.draw(first, 7, 5) != sample.draw(first, 8, 5)
    assert len(sample.draw(first, 1, 10_000)) == len(first)


def test_a_mutant_is_applied_by_its_identity(sample, tmp_path):
    tree = _tree(tmp_path)
    lt = next(m for m in sample.enumerate_mutants(tree) if m.operator.endswith("_Lt_GtE"))
    source, mutated = sample.mutated_text(tree, lt)
    assert "a < b" in source and "a >= b" in mutated
    assert sample.changed_lines(source, mutated) == "-if a < b:\n+if a >= b:"
    assert (lt.first_line, lt.last_line) == (2, 2)


def test_only_the_scenarios_that_ran_the_line_cheapest_first(sample, tmp_path):
    data = CoverageData(basename=str(tmp_path / ".coverage"))
    mod = str(tmp_path / "tree" / "system" / "pkg" / "mod.py")
    for context, lines in (("saturation", [1, 2, 3]), ("scenario:input-truth", [2]),
                           ("basic|run", [1]), ("unrelated", [3])):  # fmt: skip
        data.set_context(context)
        data.add_lines({mod: lines})
    data.write()
    statements = sample.Statements(_tree(tmp_path / "tree"))
    lines = sample.coverage_map(tmp_path / ".coverage", statements)
    mutant = sample.Mutant("system/pkg/mod.py", "core/X", 0, 2, 3)
    assert sample.covering(mutant, lines, statements) == ["input-truth", "saturation"]
    unrun = sample.Mutant("system/pkg/mod.py", "core/X", 0, 4, 4)
    assert sample.covering(unrun, lines, statements) == []


def test_a_line_inside_a_statement_is_run_when_its_statement_is(sample, tmp_path):
    (tmp_path / "system").mkdir()
    (tmp_path / "system" / "m.py").write_text(
        "def f(\n    a,\n    *,\n    b=1,\n):\n    return a\n", encoding="utf-8"
    )
    data = CoverageData(basename=str(tmp_path / ".coverage"))
    data.set_context("basic")
    data.add_lines({str(tmp_path / "system" / "m.py"): [1]})
    data.write()
    statements = sample.Statements(tmp_path)
    lines = sample.coverage_map(tmp_path / ".coverage", statements)
    star = sample.Mutant("system/m.py", "core/X", 0, 3, 3)
    assert sample.covering(star, lines, statements) == ["basic"]
    assert sample.covering(sample.Mutant("system/m.py", "core/X", 0, 6, 6), lines, statements) == []


def test_the_report_scores_non_equivalent_mutants_with_a_wilson_interval(sample, tmp_path):
    low, high = sample.wilson(45, 50)
    assert low == pytest.approx(0.7864, abs=1e-3) and high == pytest.approx(0.9565, abs=1e-3)
    results = [{"id": f"k{i}", "outcome": "killed"} for i in range(8)]
    results += [{"id": "e", "outcome": "survived"}, {"id": "u", "outcome": "uncovered"}]
    results += [{"id": "g", "outcome": "survived"}, {"id": "s", "outcome": "incompetent"}]
    text = sample.report(results, {"e": "same value"})
    assert "sampled 12: incompetent 1 (not a program), competent 11: killed 8, survived 2" in text
    assert "uncovered 1" in text
    assert "score 8/10 = 80.0%" in text
    assert "not classified as equivalent (real gaps): 2" in text
    rows = [{**r, "module": "system/m.py", "operator": "core/X", "first_line": 3,
             "diff": "-a | b\n+a & b"} for r in results]  # fmt: skip
    text = sample.table(rows, {"g": {"kind": "gap", "why": "no check", "closed_by": "basic"}})
    assert text.count("\n") == 4, "a header, a rule and one row per survivor"
    row = "| m.py:3 X | `a \\| b` → `a & b` | survived | gap | no check **closed: basic** |"
    assert row in text
    assert "| uncovered | unclassified |" in text
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    assert list(sample.read_results(path)) == results


def test_a_change_of_a_signature_annotation_alone_is_equivalent_by_construction(sample):
    head = "from __future__ import annotations\n"
    source = head + "def f(a: int | None, *, b: str = 'x') -> int | None:\n    return a | 1\n"
    assert sample.annotation_only(source, source.replace("int | None,", "int >> None,"))
    assert sample.annotation_only(source, source.replace("-> int | None", "-> int & None"))
    assert not sample.annotation_only(source, source.replace("a | 1", "a & 1"))
    assert not sample.annotation_only(source, source.replace("'x'", "'y'"))
    no_future = source.removeprefix(head)
    assert not sample.annotation_only(no_future, no_future.replace("int | None,", "int >> None,"))
    routes = "import fastapi\n" + source
    assert not sample.annotation_only(routes, routes.replace("int | None,", "int >> None,"))
    fields = head + "class M:\n    a: int | None = None\n"
    assert not sample.annotation_only(fields, fields.replace("|", ">>")), "class fields are read"


def test_a_scenario_run_passes_fails_or_times_out_and_leaves_no_process(sample, tmp_path):
    run = sys.modules["run"]  # sample.py's scenario runner (benchmarks/mutation/run.py)
    tree = tmp_path / "tree"
    (tree / "tester").mkdir(parents=True)
    (tree / "tester" / "__init__.py").write_text("", encoding="utf-8")
    (tree / "tester" / "__main__.py").write_text(
        "import subprocess, sys, time\n"
        "name = sys.argv[sys.argv.index('--scenario') + 1]\n"
        "if name == 'fails':\n"
        "    print('== scenario fails FAILED: 3 items lost'); sys.exit(1)\n"
        "if name == 'hangs':\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],\n"
        "                     start_new_session=True)\n"
        "    time.sleep(60)\n",
        encoding="utf-8",
    )
    assert run.run_scenario(tree, tmp_path / "a", "passes", 30, "m") is None
    assert "FAILED: 3 items lost" in run.run_scenario(tree, tmp_path / "b", "fails", 30, "m")
    assert run.run_scenario(tree, tmp_path / "c", "hangs", 2, "m").startswith("timeout")
    left = [p for p in psutil.process_iter(["cwd"]) if (p.info["cwd"] or "").startswith(str(tree))]
    assert not left, f"processes left in the copy: {left}"
