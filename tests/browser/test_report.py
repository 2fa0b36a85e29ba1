"""report.html in headless Chromium, from a real tester run: it renders without a
console error and without a single network request, the waterfall shows the
trace's spans (counted from traces.otlp.json, not from the page), search finds
spans by name and by attribute, and a failure's evidence and a coverage curve
show when a run has them."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import TIMEOUT_MS, screenshots_dir

from tester.collector import SpanEvent, spans_from_otlp_json
from tester.html_report import write_html_report
from tester.report import ScenarioResult

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tester_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("report") / "run"
    done = subprocess.run(
        [sys.executable, "-m", "tester", "--scenario", "basic", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"report: {workdir / 'report.html'}" in done.stdout
    return workdir


def open_report(browser, path: Path, width: int):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: None if r.url == path.as_uri() else problems.append(f"request: {r.url}"),
    )
    page.goto(path.as_uri())
    page.wait_for_selector("[data-testid=waterfall] .wf-row")
    return page, problems


def test_report_of_a_real_run(browser, tester_run: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shots = screenshots_dir(tmp_path)
    spans = spans_from_otlp_json((tester_run / "traces.otlp.json").read_bytes())
    by_trace: dict[str, list] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    biggest = max(by_trace.values(), key=len)  # the viewer opens on the largest trace
    page, problems = open_report(browser, tester_run / "report.html", 1366)

    assert page.text_content("[data-testid=status]") == "passed"
    assert re.search(r"orchestrator listening on 127\.0\.0\.1:\d+\b", page.content())
    rows = page.query_selector_all("[data-testid=waterfall] .wf-row")
    assert len(rows) == len(biggest)
    assert {r.get_attribute("data-span-id") for r in rows} == {s.span_id for s in biggest}
    assert page.text_content("[data-testid=match-count]") == f"{len(biggest)} spans"

    # the discovery curve ends at the run's unique count (run.json, the system's own file)
    summary = json.loads(next((tester_run / "output").rglob("run.json")).read_text())
    legend = page.text_content("[data-testid=discovery] .legend") or ""
    assert f"{summary['counts']['unique']:,} new" in legend, legend
    assert page.query_selector("[data-testid=discovery] polyline[data-series=unique]")
    chats = [s for s in spans if s.name.startswith("chat ")]
    # basic runs on the tester's fake model: one provider, named on every chat span
    names = {s.attributes.get("gen_ai.provider.name") for s in chats}
    assert len(names) == 1, names
    provider = page.query_selector(f'tr[data-provider="{names.pop()}"]')
    assert provider is not None and str(len(chats)) in (provider.text_content() or "")

    # search by name, then by attribute
    page.fill("[data-testid=trace-search]", "batch.receive")
    receives = [s for s in biggest if s.name == "batch.receive"]
    assert page.text_content("[data-testid=match-count]") == (
        f"{len(receives)} of {len(biggest)} spans match"
    )
    assert len(page.query_selector_all("[data-testid=waterfall] .wf-row")) == len(receives)
    page.fill("[data-testid=trace-search]", "producer.id=2")
    second = [s for s in biggest if str(s.attributes.get("producer.id")) == "2"]
    assert 0 < len(second) == len(page.query_selector_all("[data-testid=waterfall] .wf-row"))
    # attr=value is the whole value: batch.new=0 finds the batches with nothing new, not 30
    page.fill("[data-testid=trace-search]", "batch.new=0")
    empty = [s for s in biggest if s.attributes.get("batch.new") == 0]
    assert len(empty) == len(page.query_selector_all("[data-testid=waterfall] .wf-row"))
    page.screenshot(path=str(shots / "report-search-1366.png"), full_page=True)
    page.fill("[data-testid=trace-search]", "")
    page.click("[data-testid=waterfall] .wf-row")  # the root: its details open
    assert "topic.run" in (page.text_content("[data-testid=span-details]") or "")
    page.screenshot(path=str(shots / "report-1366.png"), full_page=True)
    # the artifacts are linked relative to the page, so the folder can move
    hrefs = page.eval_on_selector_all(
        "ul.muted a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert "traces.otlp.json" in hrefs and "logs" in hrefs, hrefs
    assert all((tester_run / href).exists() for href in hrefs), hrefs
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    assert problems == [], problems
    page.close()

    narrow, problems = open_report(browser, tester_run / "report.html", 390)
    assert narrow.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    narrow.screenshot(path=str(shots / "report-390.png"), full_page=True)
    assert problems == [], problems
    print(f"\nscreenshots: {shots}")


def test_report_shows_a_failure_and_the_coverage_curve(  # type: ignore[no-untyped-def]
    browser, tester_run: Path, tmp_path: Path
) -> None:
    """The same real spans, judged failed, with completeness events on topic.run (the
    schema the orchestrator's coverage estimate uses)."""
    spans = spans_from_otlp_json((tester_run / "traces.otlp.json").read_bytes())
    root = next(s for s in spans if s.name == "topic.run")
    events = tuple(
        SpanEvent(
            "coverage.estimate",
            root.start_ns + int(f * root.duration_ns),
            {"coverage.estimate": c, "coverage.low": c - 0.1, "coverage.high": c + 0.05},
        )
        for f, c in ((0.3, 0.35), (0.6, 0.6), (0.9, 0.8))
    )
    spans = [dataclasses.replace(s, events=s.events + events) if s is root else s for s in spans]
    # one request's failed attempt, as provider-faults has them: an event on its chat span
    chat = next(s for s in spans if s.name.startswith("chat "))
    failed_attempt = SpanEvent(
        "llm.attempt", chat.start_ns, {"llm.attempt": 1, "llm.provider": "x", "error.type": "429"}
    )
    spans = [
        dataclasses.replace(s, events=(failed_attempt, *s.events)) if s is chat else s
        for s in spans
    ]
    evidence = "ASSERTION FAILED: expected at least 31 chat spans, got 30\n  topic.run ..."
    failed = ScenarioResult("basic", "replayed", False, 2.0, evidence, str(tmp_path))
    path = write_html_report(tmp_path / "report.html", [failed], {"basic": spans})
    page, problems = open_report(browser, path, 1366)
    assert page.text_content("[data-testid=status]") == "failed"
    assert page.text_content("[data-testid=evidence]") == evidence
    assert page.text_content("#verdict") == "1 failed"
    assert "failed" in (page.get_attribute("#verdict", "class") or "")
    page.fill("[data-testid=trace-search]", "error.type=429")  # an event's attribute
    assert page.text_content("[data-testid=match-count]", timeout=5000).startswith("1 of ")
    page.fill("[data-testid=trace-search]", "")
    assert page.query_selector("polyline[data-series=coverage]")
    assert page.query_selector("polygon[data-series=coverage-interval]")
    assert re.search(r"estimated coverage \(80% at the end\)", page.text_content(".legend") or "")
    page.screenshot(path=str(screenshots_dir(tmp_path) / "report-failed-1366.png"), full_page=True)
    assert problems == [], problems


def test_a_skip_is_not_a_failure_on_the_badge(  # type: ignore[no-untyped-def]
    browser, tester_run: Path, tmp_path: Path
) -> None:
    spans = spans_from_otlp_json((tester_run / "traces.otlp.json").read_bytes())
    results = [
        ScenarioResult("basic", "replayed", True, 2.0, "", str(tmp_path)),
        ScenarioResult("real_llm", "no model here", False, 0.1, "no model", status="skipped"),
    ]
    path = write_html_report(tmp_path / "report.html", results, {"basic": spans})
    page, problems = open_report(browser, path, 1366)
    assert page.text_content("#verdict") == "1 passed, 1 skipped"
    assert page.get_attribute("#verdict", "class") == "badge passed"  # green
    page.screenshot(path=str(screenshots_dir(tmp_path) / "report-skipped-1366.png"))
    assert problems == [], problems
