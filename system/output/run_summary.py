"""run.json: the run's configuration, counts and timings, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_run_summary(path: Path, summary: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
