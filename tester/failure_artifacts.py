"""A failed test's evidence on disk: its traces (OTLP JSON and Jaeger JSON), its
processes' logs and ``report.html`` (the failure and the traces, readable in a
browser), in a folder named after the test.

Used by the pytest plugin; the folder is under ``--tester-artifacts DIR``, else
``$TEST_ARTIFACTS/pytest`` (CI keeps that folder), else ``./artifacts/pytest``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from tester.collector import Span, spans_to_otlp_json
from tester.collector.jaeger_json import to_jaeger_json
from tester.html_report import write_html_report
from tester.report import ScenarioResult

ARTIFACTS_ENV = "TEST_ARTIFACTS"
MAX_NAME = 120


def folder_name(nodeid: str) -> str:
    """A filesystem-safe folder name: ``tests/a.py::test_b[1]`` -> ``tests_a.py_test_b_1``."""
    name = re.sub(r"[^\w.-]+", "_", nodeid).strip("_") or "test"
    return name[-MAX_NAME:]


def artifacts_root(option: str | None, rootpath: Path) -> Path:
    if option:
        return Path(option)
    if os.environ.get(ARTIFACTS_ENV):
        return Path(os.environ[ARTIFACTS_ENV]) / "pytest"
    return rootpath / "artifacts" / "pytest"


def save(
    folder: Path,
    spans: Iterable[Span],
    logs: Iterable[Path] = (),
    *,
    test: str = "",
    failure: str = "",
    duration_s: float = 0.0,
) -> Path:
    """Write the traces, copy the logs (what exists of them) and write ``report.html``
    (the failure, its evidence and the traces' waterfall, as a scenario's) into ``folder``."""
    spans = list(spans)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "traces.otlp.json").write_text(json.dumps(spans_to_otlp_json(spans)), "utf-8")
    (folder / "traces.jaeger.json").write_text(json.dumps(to_jaeger_json(spans)), "utf-8")
    artifacts = {
        "traces_otlp": str(folder / "traces.otlp.json"),
        "traces_jaeger": str(folder / "traces.jaeger.json"),
    }
    log_dir = folder / "logs"
    for log in logs:
        if log.is_file():
            log_dir.mkdir(exist_ok=True)
            shutil.copy2(log, log_dir / log.name)
            artifacts["logs"] = str(log_dir)
    name = test or folder.name
    result = ScenarioResult(
        name, "a failed pytest test", False, duration_s, failure, str(folder), artifacts
    )
    write_html_report(folder / "report.html", [result], {name: spans})
    return folder
