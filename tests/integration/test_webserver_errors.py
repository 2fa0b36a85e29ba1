"""What the web API says when something is wrong: what to do, not an exception's text."""

from __future__ import annotations

import time

import pytest

from tester.constellation import ServiceConstellation

pytestmark = pytest.mark.integration


def test_an_unreachable_orchestrator_is_explained_not_dumped(
    constellation: ServiceConstellation,
) -> None:
    """The error a user sees says what to do, not the socket error's text."""
    web = constellation.start_web_mode()
    web.orchestrator.stop()
    with web.client() as http:
        deadline = time.monotonic() + 60
        while http.get("/api/health").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = http.post("/api/runs", json={"topic": "Rivers", "producers": 1})
    assert refused.status_code == 503
    message = refused.json()["error"]
    assert "Start it" in message and "try again" in message
    for leak in ("Errno", "Connect call", "refused", "Error", "127.0.0.1"):
        assert leak not in message, message
