"""benchmarks/real_llm: results accumulate, and the report re-scores raw runs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "real_llm_bench", ROOT / "benchmarks/real_llm/bench.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_llm_bench"] = module
    spec.loader.exec_module(module)
    return module


def _entry(config: str, lines: list[str], batches: list[list[int]]) -> dict:
    return {
        "set": "planets-and-dwarf-planets", "topic": "planets", "config": config, "flags": [],
        "status": "completed", "reason": "", "candidates": 10, "input_tokens": 300,
        "output_tokens": 200, "requests": len(batches), "wall_s": 9.0, "lines": lines,
        "batches": batches, "commit": "abc1234",
    }  # fmt: skip


def test_record_accumulates_and_replaces_by_label_set_and_config(bench, tmp_path):
    path = tmp_path / "results.json"
    bench.record(path, "before", bench.rescore(_entry("levers-off", ["Mars"], [[1, 500]])))
    bench.record(path, "after", bench.rescore(_entry("levers-off", ["Mars"], [[1, 500]])))
    bench.record(path, "before", bench.rescore(_entry("levers-off", ["Mars", "Venus"], [[2, 500]])))
    entries = json.loads(path.read_text())["entries"]
    assert sorted(entries) == [
        "after/planets-and-dwarf-planets/levers-off",
        "before/planets-and-dwarf-planets/levers-off",
    ]
    assert entries["before/planets-and-dwarf-planets/levers-off"]["score"]["valid"] == 2


def test_rescore_gives_the_score_and_a_recall_curve_over_tokens(bench):
    entry = bench.rescore(
        _entry("defaults", ["Mars", "mars (red)", "Sun", "Pluto"], [[2, 200], [0, 100], [2, 200]])
    )
    score = entry["score"]
    assert (score["lines"], score["valid"], score["duplicates"], score["invalid"]) == (4, 2, 1, 1)
    assert score["tokens"] == 500 and score["valid_per_1k_tokens"] == 4.0
    assert entry["curve"]["tokens"] == [0.0, 200.0, 300.0, 500.0]
    assert entry["curve"]["recall"] == [0.0, round(1 / 13, 4), round(1 / 13, 4), round(2 / 13, 4)]


def test_report_writes_the_table_and_the_plot(bench, tmp_path, capsys):
    path = tmp_path / "results.json"
    bench.record(path, "before", bench.rescore(_entry("levers-off", ["Mars"], [[1, 500]])))
    bench.record(path, "after", bench.rescore(_entry("defaults", ["Mars", "Venus"], [[2, 500]])))
    assert bench.main(["--report", "--results", str(path)]) == 0
    md = (tmp_path / "results.md").read_text()
    assert "| planets-and-dwarf-planets | levers-off | before (abc1234) | 1 | 1 | 1/13 |" in md
    assert "| planets-and-dwarf-planets | defaults | after (abc1234) | 1 | 2 | 2/13 |" in md
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "recall-vs-tokens.png").stat().st_size > 1000


def test_unknown_configuration_is_a_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--configs", "levers-off,nope"])
    assert exc.value.code == 2 and "nope" in capsys.readouterr().err


def test_unknown_truth_set_is_a_usage_error(bench, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(["--sets", "atlantis"])
    assert exc.value.code == 2 and "atlantis" in capsys.readouterr().err
