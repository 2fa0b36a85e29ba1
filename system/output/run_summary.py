"""run.json: the run's configuration, counts and timings, written atomically.

The summary goes to a temporary file, is flushed to disk and renamed over
run.json, so a reader (or a crash) only ever sees a whole old or a whole new
summary. A failed write (disk full) removes the temporary file and raises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from system.output.attributes_file import replace_atomically


def write_run_summary(path: Path, summary: dict[str, Any]) -> None:
    data = (json.dumps(summary, indent=2, sort_keys=False) + "\n").encode("utf-8")
    replace_atomically(path, [data])
