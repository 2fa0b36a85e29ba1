"""A run's status: "running" until it ends, once, with a reason.

The first end wins: a stop requested while the run is failing, or a failure
after the goal was reached, changes nothing (except ``summary_failed``: a
run.json that cannot be written fails even a finished run). ``done`` wakes
the run's main task.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

log = logging.getLogger(__name__)

#: "running" until the run ends, then one of the other three (``run.status``)
RunStatus = Literal["running", "completed", "stopped", "failed"]


class RunState:
    def __init__(self) -> None:
        self.status: RunStatus = "running"
        self.reason = ""
        self.done = asyncio.Event()

    @property
    def running(self) -> bool:
        return self.status == "running"

    def stop(self, reason: str) -> None:
        """A stop is requested (signal handler, API). Idempotent."""
        if self.running:
            self.status, self.reason = "stopped", reason
            log.info("stopping: %s", reason)
        self.done.set()

    def fail(self, reason: str) -> None:
        if self.running:
            self.status, self.reason = "failed", reason
            log.error("run failed: %s", reason)
        self.done.set()

    def complete(self, reason: str, *, quiet: bool = False) -> None:
        """The run's goal is reached (iterations, saturation, coverage target)."""
        if self.running:
            self.status, self.reason = "completed", reason
            if not quiet:
                log.info("%s", reason)
            self.done.set()

    def summary_failed(self, message: str) -> None:
        """A run.json write error ends the run like any other write error (exit 1)."""
        if self.running:
            self.fail(message)
        elif self.status != "failed":  # the final summary: the run had ended well
            self.status, self.reason = "failed", message
            log.error("run failed: %s", message)
