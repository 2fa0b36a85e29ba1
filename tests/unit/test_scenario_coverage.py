"""``python -m tester --coverage``: processes started while a scenario runs are measured,
with the scenario's name as their context, and the figures are per package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tester.scenario_coverage import (
    CONTEXT_ENV,
    PROCESS_START_ENV,
    ScenarioCoverage,
    package_figures,
    scenarios_by_line,
)

pytest.importorskip("coverage")


def _run_child(code: str, *, sigterm: bool = False) -> None:
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
    if sigterm:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        proc.terminate()
    proc.wait(timeout=60)


def test_children_are_measured_per_scenario_and_sigterm_keeps_their_data(
    tmp_path: Path,
) -> None:
    before = {k: os.environ.get(k) for k in (PROCESS_START_ENV, CONTEXT_ENV)}
    measuring = ScenarioCoverage(tmp_path / "cov").start()
    try:
        measuring.enter("first")
        _run_child("from system.version import version; version()")
        measuring.enter("second")
        # a process stopped by SIGTERM (the way the tester stops the orchestrator)
        _run_child(
            "import time; from system.version import version; version(); "
            "print('ready', flush=True); time.sleep(60)",
            sigterm=True,
        )
    finally:
        figures = measuring.finish()
    assert {k: os.environ.get(k) for k in before} == before, "the environment is restored"
    lines = scenarios_by_line(measuring.data_file)
    version_file = next(f for f in lines if f.endswith(os.path.join("system", "version.py")))
    body = max(lines[version_file])  # the last line run: inside version()
    assert lines[version_file][body] == ["first", "second"]
    total = figures[-1]
    assert total.package == "system" and total.statements > total.missing > 0
    for name in ("report.txt", "packages.txt", "coverage.json", "html/index.html"):
        assert (measuring.folder / name).is_file(), name


def test_package_figures_group_by_first_folder_and_total() -> None:
    def entry(stmts: int, miss: int, branches: int = 0, bmiss: int = 0) -> dict[str, object]:
        return {
            "summary": {
                "num_statements": stmts,
                "missing_lines": miss,
                "num_branches": branches,
                "missing_branches": bmiss,
            }
        }

    report = {
        "files": {
            "/x/system/dedup/a.py": entry(10, 1, 4, 2),
            "/x/system/dedup/sub/b.py": entry(10, 9),
            "/x/system/version.py": entry(4, 0),
        }
    }
    figures = {f.package: f for f in package_figures(report)}
    assert figures["system/dedup"].statements == 20 and figures["system/dedup"].missing == 10
    assert figures["system/dedup"].branch_percent == 50.0
    assert figures["system/(top)"].percent == 100.0
    assert figures["system"].statements == 24 and figures["system"].executed == 14
