"""A start request the webserver answered 503 never starts a run later (issue 21, item 9).

The orchestrator is SIGSTOPped: the webserver writes the start request to it,
waits its request timeout and answers 503 ("busy, try again"). When the
orchestrator resumes it reads the request, and used to start the run anyway (a
ghost run, seen up to 50 s later). Each request now carries the webserver's
deadline and the orchestrator drops one read after it.
"""

from __future__ import annotations

import signal
import time

import pytest

from tester.constellation import ServiceConstellation

pytestmark = pytest.mark.integration

TOPIC = "Ghost lighthouses"


def test_a_start_answered_503_never_takes_effect(constellation: ServiceConstellation) -> None:
    web = constellation.start_web_mode()
    web.orchestrator.signal(signal.SIGSTOP)
    try:
        with web.client(timeout=120) as http:
            started = time.monotonic()
            response = http.post(
                "/api/runs", json={"topic": TOPIC, "producers": 1, "iterations": 1}
            )
            waited = time.monotonic() - started
        assert response.status_code == 503, response.text
    finally:
        web.orchestrator.signal(signal.SIGCONT)
    with web.client(timeout=120) as http:
        # one connection, requests answered in order: once this list is answered,
        # the orchestrator has read (and dropped) the start request before it
        runs = http.get("/api/runs")
        assert runs.status_code == 200, runs.text
        assert runs.json()["runs"] == [], f"a ghost run after a 503 ({waited:.0f}s wait)"
    assert not (web.output_root.exists() and any(web.output_root.iterdir()))
    assert "control start dropped: request expired" in web.orchestrator.log_text()
