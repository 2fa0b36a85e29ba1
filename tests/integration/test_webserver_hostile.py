"""Hostile HTTP input of issue 13 against the real webserver and orchestrator."""

from __future__ import annotations

import httpx
import pytest

from tester.constellation import ServiceConstellation, WebMode

pytestmark = pytest.mark.integration


@pytest.fixture
def web(constellation: ServiceConstellation) -> WebMode:
    return constellation.start_web_mode()


def _raw_post(http: httpx.Client, body: str) -> httpx.Response:
    return http.post(
        "/api/runs", content=body.encode(), headers={"Content-Type": "application/json"}
    )


def test_huge_numbers_and_lone_surrogates_are_400s(web: WebMode) -> None:
    """Item 8: values the control channel cannot carry are 400s with the JSON error
    shape, never a 500, and the connection stays usable for the next request."""
    big = str(2**64)
    bodies = [
        f'{{"topic": "Rivers", "producers": {big}}}',
        f'{{"topic": "Rivers", "iterations": {big}}}',
        f'{{"topic": "Rivers", "request_size": {big}}}',
        '{"topic": "Rivers \\ud800"}',
        '{"topic": "Rivers", "provider": "\\udfff"}',
    ]
    with web.client() as http:
        for body in bodies:
            response = _raw_post(http, body)
            assert response.status_code == 400, (body, response.status_code, response.text)
            assert set(response.json()) == {"error"}, response.text
            # the same connection answers the next request
            assert http.get("/api/health").status_code == 200
        run_id = "0" * 32
        for offset in (big, str(2**63), str(2**70)):
            response = http.get(f"/api/runs/{run_id}/attributes", params={"offset": offset})
            assert response.status_code == 400, (offset, response.text)
            assert set(response.json()) == {"error"}
            assert http.get("/api/health").status_code == 200
    log = web.webserver.log_text()
    assert "Traceback" not in log, log[-3000:]
