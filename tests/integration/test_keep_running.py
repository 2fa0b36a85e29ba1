"""--keep-running: the verdict as soon as the checks ran, trace files kept current
while the constellation stays up, check time reported apart from idle time."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tester.collector import spans_from_otlp_json

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _late_span() -> dict:
    """One OTLP/JSON span, sent by the test after the verdict."""
    now = time.time_ns()
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "late"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5" * 32,
                                "spanId": "6" * 16,
                                "name": "sent.after.the.verdict",
                                "kind": 1,
                                "startTimeUnixNano": str(now),
                                "endTimeUnixNano": str(now + 1000),
                            }
                        ]
                    }
                ],
            }
        ]
    }


def test_keep_running_prints_the_verdict_at_once_and_keeps_traces_current(tmp_path: Path) -> None:
    workdir = tmp_path / "run"
    summary = tmp_path / "summary.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tester",
            "--keep-running",
            "--workdir",
            str(workdir),
            "--json",
            str(summary),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ},
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("  traces (Jaeger UI)"):
                break
        text = "".join(lines)
        # the verdict came before the cheat sheet, while everything is still up
        verdict = re.search(r"== scenario basic PASSED \(run and checks: ([\d.]+)s\)", text)
        assert verdict, text
        assert text.index(verdict.group(0)) < text.index("constellation left running")
        assert proc.poll() is None
        endpoint = re.search(r"collector \(OTLP/HTTP\): (\S+)", text)
        assert endpoint, text
        response = httpx.post(endpoint.group(1), json=_late_span(), timeout=30)
        assert response.status_code == 200
        traces = workdir / "traces.otlp.json"
        deadline = time.monotonic() + 60
        names: set[str] = set()
        while time.monotonic() < deadline and "sent.after.the.verdict" not in names:
            time.sleep(0.2)
            names = {s.name for s in spans_from_otlp_json(traces.read_bytes())}
        assert "sent.after.the.verdict" in names and "topic.run" in names
        jaeger = (workdir / "traces.jaeger.json").read_text()
        assert "sent.after.the.verdict" in jaeger
        time.sleep(1.5)  # some idle time to report
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, "".join(lines) + out
    final = re.search(
        r"== scenario basic PASSED: run and checks ([\d.]+)s, kept running ([\d.]+)s", out
    )
    assert final, out
    check_s, idle_s = float(final.group(1)), float(final.group(2))
    assert idle_s >= 1.5 and check_s > 0
    (scenario,) = json.loads(summary.read_text())["scenarios"]
    assert scenario["check_s"] == pytest.approx(check_s, abs=0.06)
    assert scenario["idle_s"] == pytest.approx(idle_s, abs=0.06)
