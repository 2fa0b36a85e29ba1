"""What a person sees of the UI while a run streams, at 390 px (a phone) and 1280 px:
every card's content has a size and is on top where it is drawn (issue 20: the newest
attributes were in the page but 0 px wide), the selected run comes first on a phone,
the runs list works from the keyboard, support badges show for finished and reloaded
runs, and ``POST /api/runs`` answers the run's trace id. Screenshots go to
``$TEST_ARTIFACTS/browser/screenshots`` (or the test's tmp_path)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import TIMEOUT_MS, screenshots_dir

from tester.collector import Collector
from tester.constellation import ServiceConstellation, WebMode

pytestmark = pytest.mark.integration

VISIBLE = (Path(__file__).parent / "visible_check.js").read_text()
#: what each card shows a person while a run streams
CONTENT = [
    "#run-topic",
    "#run-state",
    "#download-link",
    "#stop-button",
    ".counter .value",
    "#chart-unique .u-over",
    "#chart-dups .u-over",
    "#coverage-line",
    "#producers-table tbody tr",
    "#attributes-sort",
    "#attributes-list li",
    "#attributes-list li .support",
    "#runs li",
    "#start-button",
]
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def wait_state(client: httpx.Client, run_id: str, states: set[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (state := client.get(f"/api/runs/{run_id}").json()["state"]) not in states:
        assert time.monotonic() < deadline, f"run {run_id} still {state}"
        time.sleep(0.2)


def start(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/runs", json=body)
    assert answer.status_code == 201, answer.text
    run: dict[str, Any] = answer.json()
    return run


def assert_visible(page, name: str, shots: Path) -> None:  # type: ignore[no-untyped-def]
    """Every selector's elements as a person sees them; the screenshot is kept either way."""
    deadline = time.monotonic() + 15  # the charts follow a resize: let the layout settle
    problems = page.evaluate(VISIBLE, CONTENT)
    while problems and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        problems = page.evaluate(VISIBLE, CONTENT)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.locator(".card:has(#attributes-list)").screenshot(
        path=str(shots / f"{name}-attributes.png"), timeout=10_000
    )
    assert problems == [], (name, problems)


def open_page(browser, web: WebMode, width: int, height: int):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(web.url)
    page.wait_for_selector("#connection.pill-ok")
    return page, errors


def test_what_a_person_sees_while_a_run_streams(  # type: ignore[no-untyped-def]
    browser, constellation: ServiceConstellation, collector: Collector, tmp_path: Path
) -> None:
    shots = screenshots_dir(tmp_path)
    web = constellation.start_web_mode(orchestrator_args=["--saturation", "0"])
    with web.client() as client:
        # a finished run, then one that streams until stopped
        rivers = start(client, topic="Rivers", producers=1, iterations=3)
        wait_state(client, rivers["run_id"], {"completed"})
        paris = start(client, topic="Paris attractions", producers=2, iterations=None)
        errors: list[str] = []
        for width, height in ((1280, 900), (390, 844)):
            page, page_errors = open_page(browser, web, width, height)
            errors += page_errors
            page.wait_for_selector("#run-state.running")  # the newest run is selected
            page.wait_for_function(
                "() => document.querySelectorAll('#attributes-list li .support').length > 0"
                " && document.querySelectorAll('#producers-table tbody tr').length == 2"
                " && document.querySelectorAll('#chart-unique .u-over').length == 1"
            )
            assert_visible(page, f"streaming-{width}", shots)
            # the selected run first: on a phone it starts in the first screenful
            top = "e => e.getBoundingClientRect().top + window.scrollY"  # in the page
            run_top = page.eval_on_selector("#run", top)
            form_top = page.eval_on_selector("aside", top)
            if width < 900:
                assert run_top < form_top and run_top < 200, (run_top, form_top)
            page.close()

        # the run's trace id at once: the trace its topic.run span is in
        for run in (rivers, paris):
            assert HEX32.match(run["trace_id"] or ""), run
        deadline = time.monotonic() + 60
        roots = lambda: {s.trace_id for s in collector.store.all() if s.name == "topic.run"}  # noqa: E731
        while rivers["trace_id"] not in roots():  # a span is sent when it ends
            assert time.monotonic() < deadline, "no topic.run span in the trace POST answered"
            time.sleep(0.2)

        # the runs list from the keyboard: Tab to the finished run, Enter selects it
        page, page_errors = open_page(browser, web, 1280, 900)
        errors += page_errors
        page.wait_for_selector("#run-state.running")
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.dataset.runId === '{rivers['run_id']}'"):
                break
        else:
            pytest.fail("the finished run cannot be reached with Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector("#run-state.completed")
        assert page.evaluate("state.selected") == rivers["run_id"]
        # a finished run's newest attributes carry their support badges
        page.wait_for_selector("#attributes-list li .support")
        assert_visible(page, "finished-1280", shots)
        page.keyboard.press("Shift+Tab")  # back to the streaming run (listed above it)
        page.keyboard.press(" ")
        page.wait_for_selector("#run-state.running")
        assert page.evaluate("state.selected") == paris["run_id"]

        # everything pre-filtered, nothing sent: no "0.0% of those sent" (rendered and read
        # in one step: the streaming run's next update redraws the counter)
        sub = page.evaluate(
            "() => { const run = state.runs.get(state.selected);"
            " renderRun({...run, counts: {...run.counts, candidates: 0, duplicates: 0,"
            " prefiltered: 40, generated: 40, duplicate_rate: 0, generated_duplicate_rate: 1}});"
            " return document.querySelector('[data-sub=duplicate_rate]').textContent; }"
        )
        assert sub == "none sent yet", sub
        page.close()

        # stopped and reloaded: the badges are still there
        client.post(f"/api/runs/{paris['run_id']}/stop")
        wait_state(client, paris["run_id"], {"stopped", "completed"})
        while paris["trace_id"] not in roots():
            assert time.monotonic() < deadline + 120, "no topic.run span in the trace answered"
            time.sleep(0.2)
        page, page_errors = open_page(browser, web, 390, 844)
        errors += page_errors
        page.wait_for_selector("#run-state.stopped, #run-state.completed")
        page.wait_for_selector("#attributes-list li .support")
        assert_visible(page, "reloaded-390", shots)
        page.close()
    assert errors == [], errors
    print(f"\nscreenshots: {shots}")
