"""A start request the webserver answered 503 never starts a run later (issue 21, item 9).

The orchestrator is SIGSTOPped: the webserver writes the start request to it,
waits its request timeout and answers 503 ("busy, try again"). When the
orchestrator resumes it reads the request, and used to start the run anyway (a
ghost run, seen up to 50 s later). Each request now carries the webserver's
deadline and the orchestrator drops one read after it; a start may carry an
``Idempotency-Key``, so a client that retries never gets two runs.
"""

from __future__ import annotations

import signal
import time

import pytest

from tester.constellation import ServiceConstellation

pytestmark = pytest.mark.integration

TOPIC = "Ghost lighthouses"
RUN = {"topic": TOPIC, "producers": 1, "iterations": 1}
KEY = {"Idempotency-Key": "start-ghost-lighthouses-1"}


def test_a_start_answered_503_never_takes_effect(constellation: ServiceConstellation) -> None:
    web = constellation.start_web_mode()
    web.orchestrator.signal(signal.SIGSTOP)
    try:
        with web.client(timeout=120) as http:
            started = time.monotonic()
            response = http.post("/api/runs", json=RUN, headers=KEY)
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

    with web.client(timeout=120) as http:  # the client's retry, with the same key
        first = http.post("/api/runs", json=RUN, headers=KEY)
        again = http.post("/api/runs", json=RUN, headers=KEY)
        runs = http.get("/api/runs").json()["runs"]
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert first.json()["run_id"] == again.json()["run_id"]
    assert [r["run_id"] for r in runs] == [first.json()["run_id"]]


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_bad_idempotency_key_is_a_400(constellation: ServiceConstellation, key: str) -> None:
    web = constellation.start_web_mode()
    with web.client() as http:
        response = http.post("/api/runs", json=RUN, headers={"Idempotency-Key": key})
        assert response.status_code == 400, response.text
        assert http.get("/api/runs").json()["runs"] == []
