"""Progress while a run is going: a live table on a terminal, log lines otherwise.

While the live table is on screen nothing may write to the terminal behind
rich's back: a stray line lands after the last table row and the next frame
leaves stale rows behind. So the process's stderr (file descriptor 2, which
the producers inherit) is pointed at a pipe for the duration, and a thread
prints each line it reads above the table through the live console, which
writes to the terminal's original descriptor. Log records, producers'
output, library warnings: every line takes that one path.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sys
import threading
from typing import Any

from system.orchestrator.stats import RunStats

log = logging.getLogger("system.orchestrator.progress")

LOG_INTERVAL_S = 5.0


def _headlines(stats: RunStats) -> tuple[str, str]:
    """The counts in two lines, each under 100 characters even with 8-digit numbers, so
    the live table's headline fits a 120-column terminal without wrapping."""
    found = f"unique {stats.unique:,}" + (
        f" new + {stats.resumed:,} resumed" if stats.resumed else ""
    )
    return (
        f"{found}  candidates {stats.candidates:,}  "
        f"duplicates {stats.generated_duplicate_rate:.1%} of generated",
        f"rate {stats.rate_per_second:,.1f} unique/s  "
        f"batches {stats.batches:,}  restarts {stats.restarts}"
        + (f"  coverage {stats.coverage}" if stats.coverage else ""),
    )


def _headline(stats: RunStats) -> str:
    return "  ".join(_headlines(stats))


class RequestsBar:
    """With ``--iterations``: the requests made of producers x iterations, as rich's
    progress bar with the time remaining at the recent pace."""

    def __init__(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("requests"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            auto_refresh=False,
        )
        self._task = self._progress.add_task("requests", total=total)

    def renderable(self, stats: RunStats) -> Any:
        self._progress.update(self._task, completed=stats.requests)
        return self._progress


def _render(topic: str, stats: RunStats, bar: RequestsBar | None = None) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(expand=False, box=None, padding=(0, 2))
    for column in ("producer", "state", "pid", "batches", "candidates", "new", "restarts"):
        table.add_column(column, justify="right" if column not in ("state",) else "left")
    for p in stats.producers.values():
        table.add_row(
            str(p.producer_id),
            p.state,
            str(p.pid or "-"),
            f"{p.batches:,}",
            f"{p.candidates:,}",
            f"{p.new:,}",
            str(p.restarts),
        )
    title = Text(f"{topic}  ·  {stats.elapsed:,.1f}s", style="bold")
    lines = [Text(line, no_wrap=True, overflow="ellipsis") for line in _headlines(stats)]
    return Group(title, *lines, *([bar.renderable(stats)] if bar else []), table)


class StderrRelay:
    """Route every write to file descriptor 2 through ``emit`` (one call per line).

    ``start`` returns a text stream on the original stderr for the live console;
    ``stop`` puts descriptor 2 back and prints what is still in the pipe.
    """

    def __init__(self) -> None:
        self._saved_fd: int | None = None
        self._read_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._emit: Any = None

    def start(self) -> io.TextIOWrapper:
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        self._read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        os.set_inheritable(2, True)
        return io.TextIOWrapper(
            os.fdopen(os.dup(self._saved_fd), "wb", buffering=0),
            encoding=sys.stderr.encoding or "utf-8",
            errors="replace",
            line_buffering=True,
        )

    def run(self, emit: Any) -> None:
        """Start the reader thread: ``emit(line)`` for every line written to stderr."""
        self._emit = emit
        self._thread = threading.Thread(target=self._pump, name="stderr-relay", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._read_fd is not None
        with os.fdopen(self._read_fd, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._relay_line(line.decode(errors="replace").rstrip("\r"))
            if pending:
                self._relay_line(pending.decode(errors="replace"))

    def _relay_line(self, line: str) -> None:
        # a closed terminal (EIO until SIGHUP is handled) must not end the relay:
        # producers writing to a pipe nobody reads would block once it is full
        with contextlib.suppress(OSError):
            self._emit(line)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Restore descriptor 2; the reader ends once no process holds the pipe any more."""
        if self._saved_fd is None:
            return
        sys.stderr.flush()
        os.dup2(self._saved_fd, 2)
        os.close(self._saved_fd)
        self._saved_fd = None
        if self._thread is not None:
            self._thread.join(timeout_s)  # a process still holding the pipe: keep it daemon


class ProgressReporter:
    """Refreshes on its own; the run only has to keep ``stats`` current."""

    def __init__(
        self,
        topic: str,
        stats: RunStats,
        *,
        live: bool | None = None,
        total_requests: int | None = None,
    ) -> None:
        self.topic = topic
        self.stats = stats
        self.live = sys.stderr.isatty() if live is None else live
        #: producers x iterations: a progress bar with an ETA (None: open-ended)
        self.total_requests = total_requests
        self._task: asyncio.Task[None] | None = None
        self._live: Any = None
        self._relay: StderrRelay | None = None
        self._terminal: io.TextIOWrapper | None = None

    def start(self) -> None:
        if self.live:
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text

            self._relay = StderrRelay()
            self._terminal = self._relay.start()
            console = Console(file=self._terminal, force_terminal=True)
            bar = RequestsBar(self.total_requests) if self.total_requests else None
            self._live = Live(
                _render(self.topic, self.stats, bar),
                console=console,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=True,
                redirect_stderr=False,  # descriptor 2 is relayed already
                get_renderable=lambda: _render(self.topic, self.stats, bar),
            )
            self._live.start()
            self._relay.run(lambda line: console.print(Text(line), soft_wrap=True))
        else:
            self._task = asyncio.create_task(self._log_periodically())

    async def _log_periodically(self) -> None:
        while True:
            await asyncio.sleep(LOG_INTERVAL_S)
            log.info("progress: %s", _headline(self.stats))

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.stop()
            self._relay = None
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._terminal is not None:
            self._terminal.close()
            self._terminal = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def format_summary(summary: dict[str, Any]) -> str:
    counts, timings = summary["counts"], summary["timings"]
    lines = [
        f"topic:        {summary['topic']}",
        f"status:       {summary['status']}"
        + (f" ({summary['reason']})" if summary["reason"] else ""),
        f"unique:       {counts['unique']:,} new"
        + (f" + {counts['resumed']:,} resumed" if counts["resumed"] else ""),
        f"candidates:   {counts['candidates']:,} ({counts['duplicate_rate']:.1%} duplicates, "
        f"{counts['rejected']:,} rejected)",
        f"generated:    {counts.get('generated', counts['candidates']):,} "
        f"({counts.get('generated_duplicate_rate', counts['duplicate_rate']):.1%} duplicates, "
        f"{counts.get('prefiltered', 0):,} dropped by the producers' pre-filter)",
        f"batches:      {counts['batches']:,}  tokens in/out: {counts['input_tokens']:,}/"
        f"{counts['output_tokens']:,}",
        f"restarts:     {counts['restarts']}",
        f"duration:     {timings['duration_s']:.2f}s ({timings['unique_per_s']:,.1f} unique/s)",
        f"output:       {summary['files']['attributes']}",
    ]
    estimate = (summary.get("coverage") or {}).get("estimate")
    if estimate:
        lines.insert(
            -1,
            f"coverage:     {estimate['coverage']:.1%} of ~{estimate['universe']:,.0f} "
            f"(95% interval {estimate['coverage_low']:.1%}-{estimate['coverage_high']:.1%}; "
            f"Good-Turing sample coverage {estimate['sample_coverage']:.1%})",
        )
    trusted = summary.get("trusted")
    if trusted:
        lines.insert(
            3,
            f"trusted:      {trusted['items']:,} of {counts['total_in_file']:,} seen by "
            f"{trusted['min_support']}+ requests "
            f"(export-attributes --min-support {trusted['min_support']})",
        )
    if summary.get("trace_id"):
        lines.append(f"trace id:     {summary['trace_id']}")
    return "\n".join(lines)
