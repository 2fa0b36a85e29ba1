"""The UI in headless Chromium: start a run from the form, watch the counters and
the chart move, stop it, download the file. Screenshots go to the test's
artifacts folder (``$TEST_ARTIFACTS/browser/screenshots`` or the test's
tmp_path; the path is printed)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tester.constellation import ServiceConstellation, WebMode

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 60_000


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = "chromium is not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def web(constellation: ServiceConstellation) -> WebMode:
    return constellation.start_web_mode()


def counter(page, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(re.sub(r"\D", "", page.text_content(f'[data-counter="{name}"]') or "0") or 0)


def test_start_watch_stop_download(browser, web: WebMode, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # TEST_ARTIFACTS (set by .ci/run) keeps the screenshots after the run
    base = (
        Path(os.environ["TEST_ARTIFACTS"]) / "browser"
        if "TEST_ARTIFACTS" in os.environ
        else tmp_path
    )
    shots = base / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
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
    page.screenshot(path=str(shots / "running.png"), full_page=True)

    page.click("#stop-button")
    page.wait_for_selector("#run-state.stopped")
    assert page.is_disabled("#stop-button")
    assert "running" not in page.text_content("#producers-table tbody")
    page.screenshot(path=str(shots / "stopped.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#download-link")
    saved = shots.parent / "downloaded-attributes.txt"
    download_info.value.save_as(saved)
    on_disk = (web.output_root / "paris-attractions" / "attributes.txt").read_text()
    assert saved.read_text().splitlines() == on_disk.splitlines()
    assert len(on_disk.splitlines()) == counter(page, "unique")

    # a bad topic shows the API's message in the form and starts nothing
    page.fill("#topic", "../escape")
    page.click("#start-button")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "must not contain" in page.text_content("#form-error")
    page.screenshot(path=str(shots / "form-error.png"), full_page=True)
    assert errors == [], errors
    print(f"\nscreenshots: {shots}")
    context.close()
