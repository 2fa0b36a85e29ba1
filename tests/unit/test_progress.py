"""The orchestrator's live table, rendered as a 120-column terminal shows it."""

from __future__ import annotations

import io
import re

from rich.console import Console

from system.orchestrator.cli import build_parser
from system.orchestrator.progress import RequestsBar, _render
from system.orchestrator.stats import ProducerStats, RunStats


def screen(renderable: object, width: int = 120) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False, color_system=None).print(renderable)
    return out.getvalue().splitlines()


def big_run() -> RunStats:
    stats = RunStats(resumed=12_345_678)
    stats.new, stats.candidates, stats.duplicates, stats.requests = 98_765_432, 99_999_999, 5, 600
    stats.coverage = "84% [79-90%] of ~12,345,678"
    stats.producers[1] = ProducerStats(producer_id=1, spawns=124)  # 123 restarts
    return stats


def test_the_headline_shows_the_resumed_count_and_fits_120_columns() -> None:
    lines = screen(_render("Paris attractions", big_run()))
    assert all(len(line) <= 120 for line in lines), lines
    text = "\n".join(lines)
    assert "unique 98,765,432 new + 12,345,678 resumed" in text, text
    # nothing cut or wrapped: each part whole on its line
    assert re.search(r"^rate .* restarts 123  coverage 84% \[79-90%\] of ~12,345,678$", text, re.M)


def test_with_iterations_a_progress_bar_and_an_eta() -> None:
    stats = big_run()
    bar = RequestsBar(1_000)
    text = "\n".join(screen(_render("Rivers", stats, bar)))
    assert re.search(r"requests .*600/1000 ETA", text), text
    assert "requests" not in "\n".join(screen(_render("Rivers", stats)))  # open-ended: none


def test_iterations_help_says_what_unset_does() -> None:
    help_text = " ".join(build_parser().format_help().split())
    iterations = help_text.split("--iterations ITERATIONS ", 1)[1].split("--provider")[0]
    assert "until stopped" not in iterations and "saturated" in iterations, iterations
