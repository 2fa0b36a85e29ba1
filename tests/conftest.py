"""Shared fixtures: a collector and constellations that always clean up after themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tester.collector import Collector
from tester.constellation import ServiceConstellation

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def collector() -> Iterator[Collector]:
    with Collector() as c:
        yield c


@pytest.fixture
def constellation(collector: Collector, tmp_path: Path) -> Iterator[ServiceConstellation]:
    c = ServiceConstellation(collector.http_endpoint, tmp_path / "constellation")
    try:
        yield c
    finally:
        c.stop()
        leftovers = c.leftover_processes()
        assert not leftovers, f"processes left running: {[p.pid for p in leftovers]}"


def run_cli(
    module: str,
    *args: str,
    timeout: float = 120,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m module args`` to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
    )
