"""What the browser tests share: the Chromium to launch and where screenshots go."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000


def screenshots_dir(tmp_path: Path) -> Path:
    """``$TEST_ARTIFACTS/browser/screenshots`` (set by .ci/run: kept after the run), else
    the test's tmp_path."""
    base = (
        Path(os.environ["TEST_ARTIFACTS"]) / "browser"
        if "TEST_ARTIFACTS" in os.environ
        else tmp_path
    )
    shots = base / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots
