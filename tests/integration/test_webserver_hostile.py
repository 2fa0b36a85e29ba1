"""Hostile HTTP input of issue 13 against the real webserver and orchestrator."""

from __future__ import annotations

import socket
import struct
import time

import httpx
import pytest

from system.protocol.control import CODEC, ControlHello, ControlReply, ControlRequest
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


def test_dns_rebinding_host_is_refused(web: WebMode) -> None:
    """Item 5: a request naming another host (a DNS-rebinding page on evil.example
    resolving to 127.0.0.1) neither starts a run nor reads one; loopback names work."""
    port = httpx.URL(web.url).port
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    with web.client() as http:
        started = http.post("/api/runs", json={"topic": "Rivers"}, headers=evil)
        assert started.status_code == 403, started.text
        assert "Host" in started.json()["error"]
        assert http.get("/api/runs", headers=evil).status_code == 403
        assert http.get("/", headers=evil).status_code == 403
        assert http.get("/api/runs").json()["runs"] == []  # nothing was started
        for name in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
            assert http.get("/api/runs", headers={"Host": name}).status_code == 200, name


def test_access_token_is_redacted_in_logs_and_spans(constellation, collector) -> None:
    """Item 12: with --log-level debug, GET /?token=<token> is logged and traced
    with the token redacted."""
    token = "a-recognizable-access-token-4711"
    web = constellation.start_web_mode(log_level="debug", access_token=token)
    with web.client() as http:
        response = http.get("/", params={"token": token})
        assert response.status_code == 303
        assert http.get("/api/runs", headers={"X-Access-Token": token}).status_code == 200
    collector.store.wait_for(lambda s: s.attr("url.path") == "/", timeout=30)
    log = web.webserver.log_text()
    assert "token=[REDACTED]" in log, log[-2000:]
    assert token not in log
    for span in collector.store.all():
        assert token not in repr(span.attributes), span


def test_a_non_latin_topic_runs_over_the_api(web: WebMode) -> None:
    """Item 4: the API starts, lists and downloads a run whose topic is Japanese."""
    from urllib.parse import quote

    topic = "東京の観光名所"
    with web.client() as http:
        started = http.post("/api/runs", json={"topic": topic, "producers": 1, "iterations": 2})
        assert started.status_code == 201, started.text
        run_id = started.json()["run_id"]
        deadline = time.monotonic() + 120
        while http.get(f"/api/runs/{run_id}").json()["state"] not in ("completed", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        status = http.get(f"/api/runs/{run_id}").json()
        assert status["state"] == "completed" and status["topic"] == topic
        assert topic in status["config"]["output_dir"]
        download = http.get(f"/api/runs/{run_id}/attributes.txt")
        assert download.status_code == 200
        assert quote(f"{topic}.txt") in download.headers["content-disposition"]
        assert len(download.text.splitlines()) == status["counts"]["unique"] > 0


def _read_frame(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "the orchestrator closed the control connection"
            data += chunk
        return data

    (length,) = struct.unpack(">I", exactly(4))
    return exactly(length)


def test_idle_connections_cannot_lock_the_control_port(
    web: WebMode, constellation: ServiceConstellation, collector
) -> None:
    """The control port shares the producer port's endpoint: 40 idle connections
    (more than the 16 pending handshakes allowed) do not lock out a peer with the
    token, a large frame before the hello is cut off at its header, and every
    refusal is a control.rejected span; the webserver is unaffected."""
    token = (constellation.workdir / "control.token").read_text(encoding="utf-8").strip()
    idle = [socket.create_connection(web.control_address, timeout=5) for _ in range(40)]
    try:
        with socket.create_connection(web.control_address, timeout=10) as sock:
            sock.sendall(CODEC.frame(ControlHello(token)))
            sock.sendall(CODEC.frame(ControlRequest(1, "list", {})))
            while not isinstance(reply := CODEC.decode(_read_frame(sock)), ControlReply):
                pass  # events may come first
            assert reply.id == 1 and reply.status == 200 and "runs" in reply.body
        with socket.create_connection(web.control_address, timeout=10) as sock:
            sock.sendall(struct.pack(">I", 2**20) + b"x" * 100)
            assert sock.recv(1) == b""  # closed at once, not after the handshake timeout
    finally:
        for sock in idle:
            sock.close()
    rejected = collector.store.wait_for(
        lambda s: s.name == "control.rejected", timeout=60, count=40 - 16 + 2
    )
    reasons = [str(s.attr("connection.reject_reason")) for s in rejected]
    assert any("evicted: too many pending handshakes" in r for r in reasons), reasons
    assert any("exceeds the 4096-byte limit" in r for r in reasons), reasons
    assert token not in repr([s.attributes for s in rejected])
    with web.client() as http:
        assert http.get("/api/runs").status_code == 200
