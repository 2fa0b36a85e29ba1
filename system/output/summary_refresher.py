"""Keep run.json truthful while the run is going: written at start, then every
``interval_s`` (atomically, through ``write_run_summary``).

A run that crashes (SIGKILL, power loss) therefore leaves ``status: running``
with counts as of the last refresh, never a missing file or the summary of an
earlier run. A failed write (disk full) is logged once and retried at the next
tick; the previous run.json stays whole. With ``on_error`` the owner is
told instead (the run ends on a write error) and nothing is logged here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from system.output.run_summary import write_run_summary

log = logging.getLogger(__name__)

REFRESH_INTERVAL_S = 1.0


class SummaryRefresher:
    def __init__(
        self,
        path: Path,
        summary: Callable[[], dict[str, Any]],
        interval_s: float = REFRESH_INTERVAL_S,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self._on_error = on_error
        self._summary = summary
        self.interval_s = interval_s
        self.writes = 0
        self._failing = False

    def write(self) -> bool:
        try:
            write_run_summary(self.path, self._summary())
        except OSError as exc:
            message = f"cannot write {self.path}: {exc.strerror or exc}"
            if self._on_error is not None:
                self._on_error(message)
            elif not self._failing:
                log.error("%s", message)
            self._failing = True
            return False
        self._failing = False
        self.writes += 1
        return True

    async def run(self) -> None:
        """Refresh until cancelled (the run writes its final summary itself)."""
        while True:
            await asyncio.sleep(self.interval_s)
            self.write()
