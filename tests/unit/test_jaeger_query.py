"""The Jaeger api_v3 client and poller, against recorded responses served on 127.0.0.1."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tester.collector import SpanStore
from tester.collector.jaeger_query import (
    JaegerPoller,
    JaegerQuery,
    JaegerQueryError,
    rfc3339_ns,
)
from tester.query import spans
from tester.topic import Topic

DATA = Path(__file__).resolve().parent.parent / "data" / "jaeger"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class FakeJaeger:
    """Answers GET requests from a routing table {path: (status, body)}; records them."""

    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    url: str = ""

    def serve(self, path: str, status: int, *files: str) -> None:
        self.routes[path] = (status, b"\n".join((DATA / f).read_bytes() for f in files))


@pytest.fixture
def jaeger() -> Iterator[FakeJaeger]:
    fake = FakeJaeger()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            fake.requests.append((parsed.path, urllib.parse.parse_qs(parsed.query)))
            status, body = fake.routes.get(parsed.path, (404, b'{"error": {"httpCode": 404}}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_rfc3339_with_nanoseconds():
    assert rfc3339_ns(1_795_427_112_000_000_042) == "2026-11-23T09:45:12.000000042Z"


def test_find_traces_sends_the_documented_parameters_and_reads_otlp_json(jaeger):
    jaeger.serve("/api/v3/traces", 200, "search_orchestrator.json")
    found = JaegerQuery(jaeger.url).find_traces(
        "orchestrator", 1_795_427_100 * 10**9, 1_795_427_200 * 10**9, search_depth=20
    )
    path, params = jaeger.requests[-1]
    assert path == "/api/v3/traces"
    assert params == {
        "query.service_name": ["orchestrator"],
        "query.start_time_min": ["2026-11-23T09:45:00.000000000Z"],
        "query.start_time_max": ["2026-11-23T09:46:40.000000000Z"],
        "query.search_depth": ["20"],
    }
    assert len(found) == 3
    q = spans(found)
    root = q.name("topic.run").one()
    assert root.trace_id == TRACE_ID and root.parent_span_id is None
    assert root.attr("run.unique_count") == 57 and root.resource["process.pid"] == 4242
    chat = q.service("producer").name("chat *").one()
    assert chat.kind == "CLIENT" and chat.status == "ERROR"
    assert chat.status_message == "simulated timeout"
    assert chat.attr("gen_ai.response.finish_reasons") == ("stop",)
    assert chat.events[0].attributes["exception.type"] == "TimeoutError"
    assert chat.duration_ms == pytest.approx(80.0)
    q.children_of(root).name("producer.spawn").one()


def test_nothing_found_is_an_empty_answer_not_an_error(jaeger):
    jaeger.serve("/api/v3/traces", 404, "not_found.json")
    assert JaegerQuery(jaeger.url).find_traces("producer", 0, 10**9) == []
    assert JaegerQuery(jaeger.url).get_trace("ffffffffffffffffffffffffffffffff") == []


def test_get_trace_reads_several_chunks(jaeger):
    jaeger.serve(
        f"/api/v3/traces/{TRACE_ID}", 200, "search_orchestrator.json", "trace_second_chunk.json"
    )
    found = JaegerQuery(jaeger.url).get_trace(TRACE_ID, start_ns=0, end_ns=10**9)
    assert {s.name for s in found} == {
        "topic.run",
        "producer.spawn",
        "chat sim-zipf-1",
        "producers.stop",
    }
    path, params = jaeger.requests[-1]
    assert path == f"/api/v3/traces/{TRACE_ID}"
    assert params["start_time"] == ["1970-01-01T00:00:00.000000000Z"]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, (DATA / "server_error.json").read_bytes(), "HTTP 400"),
        (200, b"<html>not json</html>", "not JSON"),
        (200, b"[1, 2]", "expected a JSON object"),
        (200, b'{"data": []}', "no 'result'"),
        (200, b'{"error": {"message": "boom"}}', "boom"),
        (
            200,
            b'{"result": {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}}',
            "not OTLP",
        ),
    ],
)
def test_bad_answers_raise(jaeger, status, body, message):
    jaeger.routes["/api/v3/traces"] = (status, body)
    with pytest.raises(JaegerQueryError, match=message):
        JaegerQuery(jaeger.url).find_traces("orchestrator", 0, 10**9)


def test_unreachable_jaeger_raises():
    with pytest.raises(JaegerQueryError):
        JaegerQuery("http://127.0.0.1:9", timeout=2).find_traces("orchestrator", 0, 1)


def test_poller_feeds_a_store_once_the_traces_appear(jaeger):
    store = SpanStore()
    client = JaegerQuery(jaeger.url, timeout=5)
    poller = JaegerPoller(client, store, ["orchestrator", "producer"], since_ns=0, interval=0.05)
    with poller:
        # 404 at first: "not yet"
        assert not store.wait_for(lambda s: True, timeout=0.3)
        jaeger.serve("/api/v3/traces", 200, "search_orchestrator.json")
        assert store.wait_for(lambda s: s.name == "topic.run", timeout=30)
        store.wait_for(lambda s: True, timeout=30, count=3)
    assert len(store) == 3  # each span once, though every poll and service returns it
    assert poller.errors == 0
    services = {params["query.service_name"][0] for _, params in jaeger.requests}
    assert services == {"orchestrator", "producer"}
    topic = Topic(store.by_name("topic.run")[0], store)
    assert topic.status == "completed" and topic.unique_count == 57


def test_poller_counts_failures_and_keeps_going(jaeger):
    jaeger.routes["/api/v3/traces"] = (500, b"oops")
    store = SpanStore()
    poller = JaegerPoller(JaegerQuery(jaeger.url), store, ["orchestrator"], since_ns=0)
    assert poller.poll_once() == 0 and poller.errors == 1
    jaeger.serve("/api/v3/traces", 200, "search_orchestrator.json")
    assert poller.poll_once() == 3
    assert poller.errors == 1 and "HTTP 500" in (poller.last_error or "")
