"""--forward-to (the collector sends on what it receives) and --trace-source jaeger, with a
second embedded Collector as the upstream and a small api_v3 server in front of its store."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scenarios._peers import SilentServer, closed_port
from tester.collector import Collector, SpanStore, spans_to_otlp_json
from tester.collector.forwarder import Forwarder
from tests.conftest import ROOT, run_cli
from tests.unit.test_query import run_trace

pytestmark = pytest.mark.integration


def _post(collector: Collector, body: dict) -> None:
    request = urllib.request.Request(
        f"{collector.http_endpoint}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_everything_received_is_forwarded_upstream():
    with Collector() as upstream, Collector(forward_to=upstream.http_endpoint) as collector:
        sent = run_trace()
        _post(collector, spans_to_otlp_json(sent[:5]))
        _post(collector, spans_to_otlp_json(sent[5:]))
        got = upstream.store.wait_for(lambda s: True, timeout=60, count=len(sent))
        assert sorted(got, key=lambda s: s.span_id) == sorted(sent, key=lambda s: s.span_id)
        assert len(collector.store) == len(sent)
    assert collector.forwarder is not None
    assert collector.forwarder.sent_spans == len(sent) and collector.forwarder.failed_spans == 0


def test_an_unreachable_upstream_is_counted_and_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="tester.collector.forwarder")
    with Collector(forward_to=f"http://127.0.0.1:{closed_port()}") as collector:
        for _ in range(3):
            _post(collector, spans_to_otlp_json(run_trace()))
        assert len(collector.store) == 3 * len(run_trace())  # the tester's own run is unaffected
        forwarder = collector.forwarder
        assert forwarder is not None
        deadline = time.monotonic() + 60
        while forwarder.failed_spans < 3 * len(run_trace()) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert forwarder.failed_spans == 3 * len(run_trace()) and forwarder.sent_spans == 0
    failures = [r for r in caplog.records if "failed (logged once)" in r.getMessage()]
    assert len(failures) == 1
    assert "failed" in forwarder.summary()


def test_the_queue_is_bounded_and_close_does_not_hang():
    silent = SilentServer()  # accepts, never answers: every post waits for its timeout
    try:
        forwarder = Forwarder(
            f"http://{silent.address[0]}:{silent.address[1]}", max_queue=2, timeout=1
        )
        spans = run_trace()
        for _ in range(50):
            forwarder.submit(spans)  # returns at once
        assert forwarder.dropped_spans >= 40 * len(spans)
        started = time.monotonic()
        forwarder.close(timeout=2)
        assert time.monotonic() - started < 10
        assert forwarder.sent_spans == 0
        # every batch is dropped or failed; one may still be in flight when close gives up
        assert forwarder.dropped_spans + forwarder.failed_spans >= 49 * len(spans)
    finally:
        silent.close()


def test_tester_run_forwards_to_the_otlp_endpoint_of_its_environment(tmp_path):
    """The standard OTEL_EXPORTER_OTLP_ENDPOINT is where the tester forwards (as
    --forward-to, which test_keep_running_... uses); the system under test still traces
    to the embedded collector, and the tester's OTEL_SERVICE_NAME does not reach it
    (the system would refuse it: service names are the contract's roles)."""
    with Collector() as upstream:
        result = run_cli(
            "tester",
            "--workdir",
            str(tmp_path / "run"),
            env={"OTEL_EXPORTER_OTLP_ENDPOINT": upstream.http_endpoint, "OTEL_SERVICE_NAME": "me"},
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        roots = upstream.store.wait_for(lambda s: s.name == "topic.run", timeout=30)
    assert roots and roots[0].attr("topic.name") == "Paris attractions"
    assert f"forwarded to {upstream.http_endpoint}/v1/traces:" in result.stdout
    note = next(line for line in result.stdout.splitlines() if "forwarded to" in line)
    assert "spans sent" in note and "failed" not in note and "dropped" not in note


def test_keep_running_cheat_sheet_shows_the_jaeger_url(tmp_path):
    with Collector() as upstream:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tester",
                "--keep-running",
                "--workdir",
                str(tmp_path / "run"),
                "--forward-to",
                upstream.http_endpoint,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={**os.environ},
        )
        lines: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:  # until the cheat sheet's trace file lines
                lines.append(line)
                if line.startswith("  traces (Jaeger UI)"):
                    break
            text = "".join(lines)
            assert "constellation left running" in text, text
            assert "Jaeger UI:             http://127.0.0.1:16686/search" in text
            assert f"forwarding to:         {upstream.http_endpoint}/v1/traces" in text
        finally:
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, "".join(lines) + out
        assert "tearing down" in out


# ------------------------------------------------------------------ --trace-source jaeger


@pytest.fixture
def fake_jaeger() -> Iterator[tuple[Collector, str]]:
    """An upstream Collector (Jaeger's OTLP intake) and api_v3 search/get over its store."""
    upstream = Collector().start()
    store: SpanStore = upstream.store

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parsed.query))
            if parsed.path == "/api/v3/traces":
                service = params.get("query.service_name")
                if not service or "query.start_time_min" not in params:
                    return self._answer(400, {"error": {"httpCode": 400, "message": "bad"}})
                traces = {s.trace_id for s in store.by_service(service)}
            elif parsed.path.startswith("/api/v3/traces/"):
                traces = {parsed.path.rsplit("/", 1)[1]}
            else:
                return self._answer(404, {"error": {"httpCode": 404}})
            found = [s for s in store.all() if s.trace_id in traces]
            if not found:
                return self._answer(404, {"error": {"httpCode": 404, "message": "not found"}})
            return self._answer(200, {"result": spans_to_otlp_json(found)})

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        upstream.stop()


def test_checks_can_read_the_traces_back_from_jaeger(tmp_path, fake_jaeger):
    upstream, jaeger_url = fake_jaeger
    result = run_cli(
        "tester",
        "--workdir",
        str(tmp_path / "run"),
        "--trace-source",
        "jaeger",
        "--jaeger-url",
        jaeger_url,
        "--trace-ep",
        upstream.http_endpoint,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"reading traces from Jaeger at {jaeger_url}" in result.stdout
    assert "Topic 'Paris attractions': completed" in result.stdout
    saved = json.loads((tmp_path / "run" / "traces.otlp.json").read_text())
    assert saved["resourceSpans"]  # the artifacts hold what Jaeger returned


def test_the_forward_target_from_the_environment() -> None:
    from tester.cli import forward_target

    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}
    assert forward_target(None, {}) is None
    assert forward_target("http://cli:4318", env) == "http://cli:4318"
    assert forward_target(None, env) == "http://h:4318"
    full = {**env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318/v1/traces"}
    assert forward_target(None, full) == "http://t:4318/v1/traces"
    with pytest.raises(ValueError, match="forwards over OTLP/HTTP only"):
        forward_target(None, {**env, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    with pytest.raises(ValueError, match="give --forward-to URL"):
        forward_target(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "h:4317"})
