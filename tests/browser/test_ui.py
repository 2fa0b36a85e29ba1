"""The UI in headless Chromium: start a run from the form, watch the counters and
the chart move, stop it, download the file, resume it; the layout at 1366, 390
and 360 px wide. Screenshots go to the test's artifacts folder
(``$TEST_ARTIFACTS/browser/screenshots`` or the test's tmp_path; the path is
printed)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from browser_support import TIMEOUT_MS, screenshots_dir

from tester.constellation import ServiceConstellation, WebMode

pytestmark = pytest.mark.integration


@pytest.fixture
def web(constellation: ServiceConstellation) -> WebMode:
    # --saturation 0: the open-ended run below goes on until the stop button
    return constellation.start_web_mode(orchestrator_args=["--saturation", "0"])


def counter(page, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(re.sub(r"\D", "", page.text_content(f'[data-counter="{name}"]') or "0") or 0)


# a page wider than the window, a number touching its card's edge, a label cut or wrapped
LAYOUT = (Path(__file__).parent / "layout_check.js").read_text()


def _fits(layout: dict) -> bool:  # type: ignore[type-arg]
    return (
        layout["scrollWidth"] <= layout["clientWidth"]
        and not layout["outside"]
        and not layout["touching"]
        and not layout["cut"]
        and len(layout["heights"]) == 1
    )


def assert_fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    # the charts follow a resize on the window's resize event: let the layout settle
    deadline = time.monotonic() + 10
    layout = page.evaluate(LAYOUT)
    while not _fits(layout) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["clientWidth"], (width, layout)
    assert not layout["outside"], (width, layout)
    assert not layout["touching"], (width, layout)
    assert not layout["cut"], (width, layout)
    assert len(layout["heights"]) == 1, (width, layout)  # no label wraps onto a second line


def test_start_watch_stop_download(browser, web: WebMode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shots = screenshots_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # the bad topic below is refused with a 400 on purpose: the browser logs that load
    expected = re.compile(r"Failed to load resource: .* status of 400")
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not expected.search(msg.text)
            else None
        ),
    )
    page.goto(web.url)
    page.wait_for_selector("#connection.pill-ok")  # the event stream is live

    page.fill("#topic", "Paris attractions")
    page.fill("#producers", "2")
    page.fill("#iterations", "")  # open-ended: runs until the stop button
    page.click("#start-button")
    page.wait_for_selector("#run-state.running")
    page.wait_for_function(
        "() => Number(document.querySelector('[data-counter=unique]').textContent"
        ".replace(/\\D/g, '')) > 50"
    )
    first = counter(page, "unique")
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-counter=unique]').textContent"
        f".replace(/\\D/g, '')) > {first}"
    )
    assert counter(page, "candidates") >= counter(page, "unique")
    # the chart drew a line with more than one point, and attributes stream in
    page.wait_for_function("() => document.querySelectorAll('#chart-unique .u-over').length == 1")
    page.wait_for_selector("#attributes-list li")
    page.wait_for_function(
        "() => document.querySelectorAll('#producers-table tbody tr').length == 2"
    )
    assert_fits(page, 1366)
    page.screenshot(path=str(shots / "running-1366.png"), full_page=True)
    mobile = context.new_page()
    mobile.set_default_timeout(TIMEOUT_MS)
    mobile.on("pageerror", lambda exc: errors.append(str(exc)))
    mobile.set_viewport_size({"width": 390, "height": 844})
    mobile.goto(web.url)
    mobile.wait_for_selector("#run-state.running")  # the newest run is selected
    mobile.wait_for_function("() => document.querySelectorAll('#chart-unique .u-over').length == 1")
    assert_fits(mobile, 390)
    mobile.screenshot(path=str(shots / "running-390.png"), full_page=True)
    mobile.set_viewport_size({"width": 360, "height": 800})
    assert_fits(mobile, 360)

    page.click("#stop-button")
    page.wait_for_selector("#run-state.stopped")
    assert page.is_disabled("#stop-button")
    assert "running" not in page.text_content("#producers-table tbody")
    page.screenshot(path=str(shots / "stopped-1366.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#download-link")
    saved = shots.parent / "downloaded-attributes.txt"
    download_info.value.save_as(saved)
    on_disk = (web.output_root / "paris-attractions" / "attributes.txt").read_text()
    assert saved.read_text().splitlines() == on_disk.splitlines()
    assert len(on_disk.splitlines()) == counter(page, "unique")
    head = page.request.head(f"{web.url}/api/runs/{page.evaluate('state.selected')}/attributes.txt")
    assert head.status == 200 and head.headers["content-disposition"].startswith("attachment")

    # a second run of the topic resumes the file: the counter and the chart count this
    # run's new attributes, the sub-line says what the file holds
    before = len(on_disk.splitlines())
    page.fill("#topic", "Paris attractions")
    page.fill("#producers", "1")
    page.fill("#iterations", "3")
    page.click("#start-button")
    page.wait_for_selector("#run-state.completed")
    page.wait_for_function(
        "() => /in file/.test(document.querySelector('[data-sub=unique]').textContent)"
    )
    new = counter(page, "unique")
    in_file = len(
        (web.output_root / "paris-attractions" / "attributes.txt").read_text().splitlines()
    )
    # the counter is this run's new lines; often 0 now: the first run may already have
    # found the simulated topic's whole universe (629 items) before its stop
    assert new == in_file - before >= 0
    sub = page.text_content('[data-sub="unique"]') or ""
    digits = re.sub(r"(?<=\d)[,.\u202f\u00a0](?=\d)", "", sub)  # thousands separators
    assert digits == f"{in_file} in file, {new} new", sub
    page.wait_for_function(f"() => state.charts.unique.data[1].at(-1) === {new}")
    assert "new this run" in (page.text_content("#chart-unique-title") or "")
    # two runs of one topic: rows told apart by start time and short id
    rows = page.query_selector_all("#runs li")
    metas = [row.query_selector(".run-meta").text_content() for row in rows]  # type: ignore[union-attr]
    assert len(rows) == 2 and len(set(metas)) == 2, metas
    ids = page.evaluate("[...state.runs.keys()]")
    for meta in metas:
        assert any(meta.endswith(run_id[:8]) for run_id in ids), (meta, ids)
        assert re.search(r"\d\d:\d\d:\d\d", meta), meta
    page.screenshot(path=str(shots / "resumed-1366.png"), full_page=True)
    mobile.set_viewport_size({"width": 390, "height": 844})
    mobile.goto(web.url)  # selects the newest run: the resumed one
    mobile.wait_for_selector("#run-state.completed")
    mobile.wait_for_function(
        "() => /in file/.test(document.querySelector('[data-sub=unique]').textContent)"
    )
    assert_fits(mobile, 390)
    mobile.screenshot(path=str(shots / "resumed-390.png"), full_page=True)

    # duplicate rate: the share of generated items (pre-filter drops included); nothing
    # before any item arrived, on the counter and on the chart
    run = page.evaluate("state.runs.get(state.selected)")
    rate = run["counts"]["generated_duplicate_rate"]
    assert page.text_content('[data-counter="duplicate_rate"]') == f"{100 * rate:.1f}%"
    empty = {
        **run,
        "counts": {
            **run["counts"],
            "candidates": 0,
            "generated": 0,
            "prefiltered": 0,
            "duplicates": 0,
            "unique": 0,
            "resumed": 0,
        },
    }
    page.evaluate("(run) => renderRun(run)", empty)
    assert page.text_content('[data-counter="duplicate_rate"]') == "–"
    rates = page.evaluate(
        "() => { state.series = [[0, 0, 0, 0, 0], [0.5, 0, 0, 0, 0], [1, 10, 10, 2, 3]];"
        " return seriesData().dups[1]; }"
    )
    assert rates[:2] == [None, None] and abs(rates[2] - 100 * 5 / 13) < 1e-9, rates
    # long numbers keep clear of their cards' edges, at both widths
    huge = {
        **run,
        "requests": 123456789,
        "tokens": 98765432109876,
        "counts": {**run["counts"], "candidates": 12345678901, "unique": 9876543210},
    }
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("(run) => renderRun(run)", huge)
        assert_fits(page, width)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.evaluate("(run) => renderRun(run)", run)

    # a bad topic shows the API's message in the form and starts nothing
    page.fill("#topic", "../escape")
    page.click("#start-button")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "must not contain" in page.text_content("#form-error")
    page.screenshot(path=str(shots / "form-error-1366.png"), full_page=True)
    assert errors == [], errors

    # the webserver gone: the banner says what to do, not the browser's exception text
    page.route("**/api/runs", lambda route: route.abort())
    page.fill("#topic", "Rivers")
    page.click("#start-button")
    page.wait_for_function(
        "() => /not reachable/.test(document.querySelector('#form-error').textContent)"
    )
    assert "Failed to fetch" not in (page.text_content("#form-error") or "")
    print(f"\nscreenshots: {shots}")
    context.close()
