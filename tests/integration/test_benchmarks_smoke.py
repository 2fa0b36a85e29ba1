"""Each benchmark script runs with --quick, exits 0 and prints a markdown table.

No timing assertions: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "result"),
    [
        ("ingest.py", "ingest.quick.json"),
        ("tracing_overhead.py", "tracing_overhead.quick.json"),
        ("scale.py", "scale.quick.json"),
        ("resume.py", "resume.quick.json"),
    ],
)
def test_benchmark_quick(script: str, result: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "\n| " in proc.stdout and "|---|" in proc.stdout, proc.stdout
    data = json.loads((ROOT / "benchmarks" / "results" / result).read_text(encoding="utf-8"))
    assert data["quick"] is True
    assert data["machine"]["cores"] >= 1
