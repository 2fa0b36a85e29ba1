"""The mutation benchmark's seeded bugs still apply to the tree (benchmarks/mutation/).

Files move while the bugs stay the same text, so a patch is found by content
under system/ when its named file no longer holds it; it must occur exactly
once. A refactor that changes a patched line makes this fail: update the
entry in benchmarks/mutation/mutations.py (same bug, new text).
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "benchmarks" / "mutation"


def _runner():
    sys.path.insert(0, str(FOLDER))
    try:
        spec = importlib.util.spec_from_file_location("mutation_run", FOLDER / "run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(FOLDER))


def test_every_seeded_bug_applies_to_the_tree():
    runner = _runner()
    assert runner.check(ROOT) == []
    assert len(runner.MUTATIONS) >= 30
    assert len({m[0] for m in runner.MUTATIONS}) == len(runner.MUTATIONS), "ids are unique"


def _tree(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_moved_text_is_found_by_content_under_system(tmp_path):
    runner = _runner()
    tree = _tree(tmp_path, {"system/levers/strategy.py": "a = 1\nrate < threshold\n"})
    path = runner.apply(tree, "system/orchestrator/strategy.py", "rate < threshold", "rate > 0")
    assert path == tree / "system/levers/strategy.py"
    assert path.read_text(encoding="utf-8") == "a = 1\nrate > 0\n"


def test_a_text_found_twice_or_nowhere_is_refused(tmp_path):
    runner = _runner()
    tree = _tree(tmp_path, {"system/a.py": "x = 1\n", "system/b/c.py": "x = 1\n"})
    with pytest.raises(runner.PatchError, match="2 times"):
        runner.apply(tree, "system/gone.py", "x = 1", "x = 2")
    with pytest.raises(runner.PatchError, match="0 times"):
        runner.apply(tree, "system/a.py", "y = 1", "y = 2")
    assert (tree / "system/a.py").read_text(encoding="utf-8") == "x = 1\n"
