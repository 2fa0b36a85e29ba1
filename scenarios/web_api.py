"""Web API details behind an access token: the token's three forms, the security refusals,
the live event stream, the series, support filters, HEAD of the download; each answer judged
by the run's files.

From docs/webserver.md ("Security", "API"): with an access token every ``/api/*`` call
but ``/api/health`` needs it (``Authorization: Bearer``, ``X-Access-Token`` or the cookie
``/?token=`` sets; a wrong one is 401), and the token is in no span, log or file; a
foreign ``Host``, a state change from another ``Origin`` or ``Sec-Fetch-Site:
cross-site`` is 403, a body over 16 KiB 413, and none of them starts a run. A
run's ``counts`` are run.json's; ``support`` lists ``[display, sightings, producers]``
as attributes.jsonl has them; ``min_support=N`` keeps the items seen at least N times,
in file order, in the page and the download; ``HEAD`` of the download has the
headers (``X-Attributes-Count``) and no body; ``series`` rows are
``[t, unique, candidates, duplicates, prefiltered]``; the event stream sends
``history`` on connect with ``run_id``, ``run`` snapshots until the final one and
``attributes`` (``{start, count, items}`` newly found: lines of the file).
"""

from __future__ import annotations

import itertools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from scenarios._helpers import wait_until
from scenarios._oracle import scan_secrets
from tester import schema as n
from tester.query import spans
from tester.scenario import ScenarioContext

TOKEN = "web-api-access-token-5c1d9e0a"
TOPIC = "Harbour cranes"
ENDED = {"completed", "stopped", "failed"}
MIN_SUPPORT = 2


def _events(
    http: httpx.Client, params: dict[str, str], timeout: float, *, first_only: bool = False
) -> list[dict[str, Any]]:
    """The event stream until a run's final snapshot (or only its first event, or the
    deadline)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    name = ""
    with http.stream("GET", "/api/events", params=params) as response:
        assert response.status_code == 200, f"GET /api/events: HTTP {response.status_code}"
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data = json.loads(line.partition(":")[2])
                got.append({"event": name, "data": data})
                if first_only or (name == "run" and _state(data) in ENDED):
                    break
            if time.monotonic() > deadline:
                break
    return got


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields (the stream wraps them with the event's name and run id)."""
    inner = data.get("data", data)
    return inner if isinstance(inner, dict) else {}


def _state(data: dict[str, Any]) -> str:
    payload = _payload(data)
    run = payload.get("run", payload)
    return str(run.get("state", "")) if isinstance(run, dict) else ""


def run(ctx: ScenarioContext) -> None:
    web = ctx.constellation().start_web_mode(access_token=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    answers: dict[str, Any] = {}
    with web.client() as anon, web.client() as http:
        http.headers.update(bearer)
        answers["no_token"] = anon.get("/api/runs").status_code
        answers["wrong_token"] = anon.get(
            "/api/runs", headers={"X-Access-Token": "x" * 20}
        ).status_code
        answers["health_no_token"] = anon.get("/api/health").status_code
        answers["x_access_token"] = anon.get(
            "/api/runs", headers={"X-Access-Token": TOKEN}
        ).status_code
        answers["page_wrong_token"] = anon.get("/", params={"token": "y" * 20}).status_code
        # docs/webserver.md "Security": a foreign Host, a cross-site or foreign-Origin
        # state change, a body over 16 KiB
        run_body = {"topic": "Refused harbours", "producers": 1, "iterations": 1}
        answers["foreign_host"] = http.get(
            "/api/runs", headers={"Host": "evil.example"}
        ).status_code
        answers["foreign_origin"] = http.post(
            "/api/runs", json=run_body, headers={"Origin": "http://evil.example"}
        ).status_code
        answers["cross_site"] = http.post(
            "/api/runs", json=run_body, headers={"Sec-Fetch-Site": "cross-site"}
        ).status_code
        answers["huge_body"] = http.post(
            "/api/runs",
            content=b'{"topic": "' + b"x" * 20000 + b'"}',
            headers={"Content-Type": "application/json"},
        ).status_code
        with web.client() as browser:
            opened = browser.get("/", params={"token": TOKEN})
            answers["page_token"] = opened.status_code
            answers["cookie"] = browser.get("/api/runs").status_code
        # the stream first (every run's events), then the run: nothing of it is missed
        with ThreadPoolExecutor(1) as pool:
            streamed = pool.submit(_events, http, {}, ctx.timeout)
            wait_until(
                lambda: anon.get("/api/health").json().get("sse_clients", 0) >= 1,
                30, "the event stream to connect",
            )  # fmt: skip
            started = http.post(
                "/api/runs",
                json={"topic": TOPIC, "producers": 3, "iterations": 15, "request_size": 20},
            )
            assert started.status_code == 201, f"start: HTTP {started.status_code} {started.text}"
            run_id = started.json()["run_id"]
            ctx.fact("events", streamed.result())
        ctx.fact("history", _events(http, {"run_id": run_id}, 30, first_only=True))
        deadline = time.monotonic() + ctx.timeout
        status = http.get(f"/api/runs/{run_id}").json()
        while status.get("state") not in ENDED and time.monotonic() < deadline:
            time.sleep(0.2)
            status = http.get(f"/api/runs/{run_id}").json()
        ctx.fact("status", status)
        ctx.fact("runs", http.get("/api/runs").json()["runs"])
        ctx.fact("series", http.get(f"/api/runs/{run_id}/series").json())
        page = http.get(f"/api/runs/{run_id}/attributes",
                        params={"min_support": MIN_SUPPORT, "limit": 5000})  # fmt: skip
        ctx.fact("filtered_page", {"status": page.status_code, "body": page.json()})
        download = http.get(f"/api/runs/{run_id}/attributes.txt",
                            params={"min_support": MIN_SUPPORT})  # fmt: skip
        ctx.fact("filtered_download", {"status": download.status_code, "text": download.text})
        head = http.head(f"/api/runs/{run_id}/attributes.txt")
        ctx.fact("head", {"status": head.status_code, "headers": dict(head.headers),
                          "body": len(head.content)})  # fmt: skip
    slug = TOPIC.lower().replace(" ", "-")
    ctx.fact_path("attributes", web.output_root / slug / "attributes.txt")
    ctx.fact("answers", answers)
    ctx.fact("run_id", run_id)
    ctx.store.wait_quiet(1.0, 30)


def check(ctx: ScenarioContext) -> None:
    answers = ctx.facts["answers"]
    want = {"no_token": 401, "wrong_token": 401, "health_no_token": 200, "x_access_token": 200,
            "page_wrong_token": 401, "page_token": 303, "cookie": 200, "foreign_host": 403,
            "foreign_origin": 403, "cross_site": 403, "huge_body": 413}  # fmt: skip
    wrong = {k: (answers.get(k), v) for k, v in want.items() if answers.get(k) != v}
    assert not wrong, f"access and security rules (got, expected): {wrong}"

    attributes = ctx.path("attributes")
    lines = attributes.read_text(encoding="utf-8").splitlines()
    records = [
        json.loads(x)
        for x in attributes.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()
    ]
    summary = json.loads((attributes.parent / "run.json").read_text(encoding="utf-8"))
    status = ctx.facts["status"]
    assert status["state"] == "completed", f"run ended {status['state']}"
    runs = [r["topic"] for r in ctx.facts["runs"]]
    assert runs == [TOPIC], f"refused requests started runs: {runs}"
    assert status["counts"] == summary["counts"], (
        f"GET /api/runs/ID counts {status['counts']} are not run.json's {summary['counts']}"
    )
    by_display = {r["display"]: r for r in records}
    for display, sightings, producers in status.get("support", []):
        record = by_display.get(display)
        assert record and [record["sightings"], record["producers"]] == [sightings, producers], (
            f"support entry {[display, sightings, producers]}, attributes.jsonl has {record}"
        )

    kept = [r["display"] for r in records if r["sightings"] >= MIN_SUPPORT]
    page = ctx.facts["filtered_page"]
    assert page["status"] == 200 and page["body"]["items"] == kept, (
        f"?min_support={MIN_SUPPORT}: {len(page['body'].get('items', []))} items, "
        f"attributes.jsonl has {len(kept)} seen that often"
    )
    download = ctx.facts["filtered_download"]
    assert download["status"] == 200 and download["text"].splitlines() == kept, (
        f"attributes.txt?min_support={MIN_SUPPORT}: not the {len(kept)} items seen that often"
    )
    head = ctx.facts["head"]
    headers = {k.lower(): v for k, v in head["headers"].items()}
    assert head["status"] == 200 and head["body"] == 0, f"HEAD: {head}"
    assert headers.get("x-attributes-count") == str(len(lines)), headers
    assert "attachment" in headers.get("content-disposition", ""), headers

    series = ctx.facts["series"]
    rows = series.get("series", [])
    assert series.get("run") and rows, f"series of a finished run: {str(series)[:200]}"
    for earlier, later in itertools.pairwise(rows):
        assert all(b >= a for a, b in zip(earlier[1:], later[1:], strict=True)), (
            f"series counts went down: {earlier} -> {later}"
        )
    final = summary["counts"]
    assert rows[-1][1] <= final["unique"] and rows[-1][2] <= final["candidates"], rows[-1]

    events = ctx.facts["events"]
    names = [e["event"] for e in events]
    assert "run" in names and "attributes" in names, f"event stream: {sorted(set(names))}"
    assert _state(events[-1]["data"]) in ENDED, "the stream did not end with the final snapshot"
    in_file = set(lines)
    for e in (e for e in events if e["event"] == "attributes"):
        d = _payload(e["data"])
        count, items = d["count"], d["items"]
        unknown = [x for x in items if x not in in_file]
        assert len(items) <= count and not unknown, (
            f"attributes event {{start {d['start']}, count {count}}} names {len(items)} items, "
            f"not in attributes.txt: {unknown[:5]}"
        )

    history = ctx.facts["history"]
    assert history and history[0]["event"] == "history", f"?run_id= stream began {history[:1]}"
    q = spans(ctx.store)
    web = q.service(n.SERVICE_WEBSERVER)
    for route in ("/api/runs/{run_id}/series", "/api/events", "/api/runs/{run_id}/attributes.txt"):
        web.where(**{n.HTTP_ROUTE: route}).at_least(1)
    scan_secrets(ctx, [TOKEN])
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_no_errors().assert_counts_consistent()
    topic.assert_file_matches(attributes)
    ctx.record(topic)
