"""run.json: the run's configuration, counts and timings, written atomically.

The summary goes to a temporary file, is flushed to disk and renamed over
run.json, so a reader (or a crash) only ever sees a whole old or a whole new
summary. A failed write (disk full) removes the temporary file and raises.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def write_run_summary(path: Path, summary: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    data = (json.dumps(summary, indent=2, sort_keys=False) + "\n").encode("utf-8")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
