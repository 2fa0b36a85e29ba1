"""Web mode: real HTTP requests start, watch, page, download and stop runs; traces tie them up."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from scenarios._oracle import scan_secrets
from tester import schema as n
from tester.query import Spans, spans
from tester.scenario import ScenarioContext

COMPLETED_TOPIC = "Paris attractions"
STOPPED_TOPIC = "Rivers of Europe"


def _wait_state(
    http: httpx.Client, run_id: str, states: set[str], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = http.get(f"/api/runs/{run_id}").raise_for_status().json()
        if body["state"] in states:
            return body
        time.sleep(0.25)  # polling a live run through the API is part of the scenario
    raise AssertionError(f"run {run_id} not in {sorted(states)} after {timeout:.0f}s: {body}")


def _expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == status, (
        f"{what}: expected HTTP {status}, got {response.status_code}: {body}"
    )
    if status >= 400:
        assert isinstance(body.get("error"), str) and body["error"], f"{what}: no error text {body}"
    return body


def run(ctx: ScenarioContext) -> None:
    constellation = ctx.constellation()
    web = constellation.start_web_mode()
    ctx.note(f"UI and API: {web.url}")
    ctx.fact("url", web.url)
    requests = 0

    def count(request: httpx.Request) -> None:
        nonlocal requests
        requests += 1

    with web.client() as http:
        http.event_hooks["request"].append(count)
        started = _expect(
            http.post(
                "/api/runs",
                json={"topic": COMPLETED_TOPIC, "producers": 3, "iterations": 8},
            ),
            201,
            "start a run",
        )
        done = _wait_state(http, started["run_id"], {"completed", "failed"}, ctx.timeout)
        _check_page_and_history(web.client(), started["run_id"])
        page = _expect(
            http.get(f"/api/runs/{started['run_id']}/attributes", params={"limit": 50}),
            200,
            "first page of attributes",
        )
        download = http.get(f"/api/runs/{started['run_id']}/attributes.txt")
        assert download.status_code == 200, f"download: HTTP {download.status_code}"
        downloaded = ctx.workdir / "downloads" / "attributes.txt"
        downloaded.parent.mkdir(parents=True, exist_ok=True)
        downloaded.write_bytes(download.content)

        second = _expect(
            http.post("/api/runs", json={"topic": STOPPED_TOPIC, "producers": 2}),
            201,
            "start an open-ended run",
        )
        deadline = time.monotonic() + ctx.timeout
        while http.get(f"/api/runs/{second['run_id']}").json()["counts"]["unique"] == 0:
            assert time.monotonic() < deadline, "the open-ended run found nothing"
            time.sleep(0.1)
        _expect(http.post(f"/api/runs/{second['run_id']}/stop"), 202, "stop the run")
        _expect(http.post(f"/api/runs/{second['run_id']}/stop"), 409, "stop it again")
        stopped = _wait_state(http, second["run_id"], {"stopped", "failed"}, ctx.timeout)

        _expect(http.post("/api/runs", json={"topic": "", "producers": 2}), 400, "empty topic")
        _expect(http.post("/api/runs", json={"topic": "x", "producers": 0}), 400, "0 producers")
        _expect(http.get("/api/runs/" + "0" * 32), 404, "unknown run")
        listed = _expect(http.get("/api/runs"), 200, "list runs")

    # every request's server span must be in before the checks read them
    webserver_spans = ctx.store.wait_for(
        lambda span: span.service_name == n.SERVICE_WEBSERVER and span.kind == "SERVER",
        timeout=60,
        count=requests,
    )
    assert len(webserver_spans) >= requests, (
        f"{requests} HTTP requests made, {len(webserver_spans)} webserver spans received"
    )
    ctx.store.wait_quiet(1.0, 30)  # and the orchestrator's spans for those requests
    ctx.fact("completed", {"run_id": started["run_id"], "state": done["state"], **done["counts"]})
    ctx.fact("stopped", {"run_id": second["run_id"], "state": stopped["state"]})
    ctx.fact("page", {"total": page["total"], "items": page["items"]})
    ctx.fact("listed", sorted(r["run_id"] for r in listed["runs"]))
    ctx.fact_path("download", downloaded)
    ctx.fact_path("attributes", web.output_root / "paris-attractions" / "attributes.txt")
    ctx.fact_path("control_token_file", constellation.workdir / "control.token")


def _first_event(http: httpx.Client, path: str, within: float = 20.0) -> tuple[str, Any]:
    """The first Server-Sent Event on ``path``: its name and its JSON data."""
    name, deadline = None, time.monotonic() + within
    try:
        with http.stream("GET", path, timeout=within) as stream:
            assert stream.status_code == 200, f"GET {path}: HTTP {stream.status_code}"
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and name is not None:
                    return name, json.loads(line.split(":", 1)[1])
                if time.monotonic() > deadline:
                    break
    except httpx.ReadTimeout:
        pass
    raise AssertionError(f"GET {path}: no event within {within:g}s")


def _check_page_and_history(http: httpx.Client, run_id: str) -> None:
    """docs/webserver.md: the UI is served at ``/``; ``GET /api/events?run_id=`` starts with
    ``history`` (on connect, with run_id): the run it names, its series and newest items."""
    with http:
        page = http.get("/")
        assert page.status_code == 200, f"GET / (the UI): HTTP {page.status_code}"
        assert "text/html" in page.headers.get("content-type", ""), (
            f"GET / (the UI) is not HTML: {page.headers.get('content-type')}"
        )
        name, data = _first_event(http, f"/api/events?run_id={run_id}")
        assert name == "history", f"/api/events?run_id=: the first event is {name!r}, not history"
        series = _expect(http.get(f"/api/runs/{run_id}/series"), 200, "the run's series")
        assert isinstance(data, dict) and data.get("run", {}).get("run_id") == run_id, (
            f"the history event does not name run {run_id}: {str(data)[:200]}"
        )
        assert data["series"] == series["series"], (
            "the history event's series differs from GET /api/runs/{id}/series "
            "of the same finished run"
        )


def _http_span(q: Spans, method: str, route: str) -> Spans:
    return q.service(n.SERVICE_WEBSERVER).where(**{n.HTTP_METHOD: method, n.HTTP_ROUTE: route})


def _check_server_address(q: Spans) -> None:
    """server.address is the host alone, server.port the port apart (semantic conventions)."""
    for span in q.service(n.SERVICE_WEBSERVER).where(lambda sp: sp.kind == "SERVER"):
        address, port = span.attr(n.SERVER_ADDRESS), span.attr(n.SERVER_PORT)
        host_and_port = isinstance(address, str) and address.count(":") == 1
        assert isinstance(address, str) and address and not host_and_port, (
            f"{span.name}: server.address {address!r} is not a host alone"
        )
        assert isinstance(port, int) and 0 < port < 65536, f"{span.name}: server.port {port!r}"


def check(ctx: ScenarioContext) -> None:
    facts = ctx.facts
    completed, stopped = facts["completed"], facts["stopped"]
    assert completed["state"] == "completed", f"first run ended {completed['state']}"
    assert stopped["state"] == "stopped", f"second run ended {stopped['state']}"
    assert completed["run_id"] in facts["listed"] and stopped["run_id"] in facts["listed"]

    topic = ctx.topic(COMPLETED_TOPIC)
    topic.assert_completed().assert_no_errors().assert_llm_calls().assert_counts_consistent()
    topic.assert_min_attributes(20).assert_file_matches(ctx.path("attributes"))
    assert ctx.path("download").read_text().splitlines() == (
        ctx.path("attributes").read_text().splitlines()
    ), "the downloaded attributes.txt differs from the run's file"
    lines = ctx.path("attributes").read_text().splitlines()
    assert facts["page"]["items"] == lines[:50], "the first page is not the file's first 50 lines"

    q = spans(ctx.store)
    # the POST that started the run is the topic run's parent, in the same trace
    post = _http_span(q, "POST", "/api/runs").where(**{n.HTTP_STATUS: 201})
    parent = post.parents_of(topic.root).one()
    assert parent.kind == "SERVER", f"the HTTP span is {parent.kind}, not SERVER"
    for key in (n.HTTP_METHOD, n.HTTP_ROUTE, n.HTTP_STATUS, n.URL_SCHEME):
        assert parent.attr(key) is not None, f"HTTP span lacks {key}: {parent.attributes}"
    _check_server_address(q)
    # producers worked inside that trace
    q.in_trace(parent).service(n.SERVICE_PRODUCER).name("chat *").at_least(3 * 8)

    # the stop request reached the orchestrator in the request's own trace
    stop_posts = _http_span(q, "POST", "/api/runs/{run_id}/stop")
    stop_posts.at_least(2)
    control = q.service(n.SERVICE_ORCHESTRATOR).name(n.CONTROL_PREFIX + "stop")
    control.children_of(stop_posts).where(**{n.RUN_ID: stopped["run_id"]}).at_least(2)
    control.where(**{n.CONTROL_STATUS: 409}).exactly(1)
    stopped_topic = ctx.topic(STOPPED_TOPIC)
    # every producer of the stopped run, one still starting included, sent producer.run
    stopped_topic.assert_stopped().assert_no_errors().assert_complete_trace()

    # status polls: every GET of a run is answered by a control.status span below it
    polls = _http_span(q, "GET", "/api/runs/{run_id}")
    polls.at_least(2)
    q.name(n.CONTROL_PREFIX + "status").children_of(polls).at_least(polls.count())
    # bad input was refused by the API, with 4xx and no error status on the server
    _http_span(q, "POST", "/api/runs").where(**{n.HTTP_STATUS: 400}).at_least(2)
    # secret truth: the control token is in no span, log or output file
    scan_secrets(ctx, [ctx.path("control_token_file").read_text(encoding="utf-8").strip()])
    ctx.record(topic)
    ctx.record(stopped_topic)
