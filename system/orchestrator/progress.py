"""Progress while a run is going: a live table on a terminal, log lines otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Any

from system.orchestrator.stats import RunStats

log = logging.getLogger("system.orchestrator.progress")

LOG_INTERVAL_S = 5.0


def _headline(stats: RunStats) -> str:
    return (
        f"unique {stats.unique:,}  candidates {stats.candidates:,}  "
        f"duplicates {stats.duplicate_rate:.1%}  rate {stats.rate_per_second:,.1f}/s  "
        f"batches {stats.batches:,}  restarts {stats.restarts}"
        + (f"  coverage {stats.coverage}" if stats.coverage else "")
    )


def _render(topic: str, stats: RunStats) -> Any:
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
    return Group(title, Text(_headline(stats)), table)


class ProgressReporter:
    """Refreshes on its own; the run only has to keep ``stats`` current."""

    def __init__(self, topic: str, stats: RunStats, *, live: bool | None = None) -> None:
        self.topic = topic
        self.stats = stats
        self.live = sys.stderr.isatty() if live is None else live
        self._task: asyncio.Task[None] | None = None
        self._live: Any = None

    def start(self) -> None:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(
                _render(self.topic, self.stats),
                console=Console(stderr=True),
                refresh_per_second=4,
                transient=True,
                get_renderable=lambda: _render(self.topic, self.stats),
            )
            self._live.start()
        else:
            self._task = asyncio.create_task(self._log_periodically())

    async def _log_periodically(self) -> None:
        while True:
            await asyncio.sleep(LOG_INTERVAL_S)
            log.info("progress: %s", _headline(self.stats))

    async def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
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
    if summary.get("trace_id"):
        lines.append(f"trace id:     {summary['trace_id']}")
    return "\n".join(lines)
