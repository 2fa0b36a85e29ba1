"""The HTTP API against the real webserver and orchestrator processes."""

from __future__ import annotations

import time

import httpx
import pytest

from tester.constellation import ServiceConstellation, WebMode

pytestmark = pytest.mark.integration


def wait_state(http: httpx.Client, run_id: str, states: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/api/runs/{run_id}").json()
        if body["state"] in states or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


@pytest.fixture
def web(constellation: ServiceConstellation) -> WebMode:
    return constellation.start_web_mode()


def test_a_run_from_start_to_download(web: WebMode) -> None:
    with web.client() as http:
        assert http.get("/api/health").json()["orchestrator"] == "connected"
        started = http.post(
            "/api/runs", json={"topic": "Castles of Wales", "producers": 2, "iterations": 4}
        )
        assert started.status_code == 201, started.text
        run_id = started.json()["run_id"]
        assert started.json()["config"]["producers"] == 2

        done = wait_state(http, run_id, {"completed", "failed"})
        assert done["state"] == "completed", done
        assert done["requests"] == 8
        assert done["tokens"] > 0
        assert [p["batches"] for p in done["producers"]] == [4, 4]

        listed = http.get("/api/runs").json()["runs"]
        assert [r["run_id"] for r in listed] == [run_id]

        file_lines = (web.output_root / "castles-of-wales" / "attributes.txt").read_text()
        lines = file_lines.splitlines()
        assert done["counts"]["unique"] == len(lines) > 0
        page = http.get(f"/api/runs/{run_id}/attributes", params={"offset": 5, "limit": 7})
        assert page.json()["items"] == lines[5:12]
        assert page.json()["total"] == len(lines)
        beyond = http.get(f"/api/runs/{run_id}/attributes", params={"offset": len(lines)})
        assert beyond.json()["items"] == []

        download = http.get(f"/api/runs/{run_id}/attributes.txt")
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.text.splitlines() == lines
        head = http.head(f"/api/runs/{run_id}/attributes.txt")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"].startswith("text/plain")
        assert head.headers["content-disposition"] == download.headers["content-disposition"]
        assert int(head.headers["x-attributes-count"]) == len(lines)
        assert http.head("/api/runs/" + "0" * 32 + "/attributes.txt").status_code == 404

        # the duplicate rate of generated items counts what the pre-filter dropped
        counts = done["counts"]
        assert counts["generated"] == counts["candidates"] + counts["prefiltered"]
        known = counts["duplicates"] + counts["prefiltered"]
        assert counts["generated_duplicate_rate"] == pytest.approx(
            known / counts["generated"], abs=1e-4
        )

        assert http.post(f"/api/runs/{run_id}/stop").status_code == 409


def test_stop_an_open_ended_run_and_the_events_stream(web: WebMode) -> None:
    with web.client() as http:
        run_id = http.post("/api/runs", json={"topic": "Rivers", "producers": 2}).json()["run_id"]
        seen: list[str] = []
        with http.stream("GET", "/api/events", params={"run_id": run_id}) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            for line in events.iter_lines():
                if line.startswith("event: "):
                    seen.append(line[7:])
                if "run" in seen and "attributes" in seen:
                    break
        stop = http.post(f"/api/runs/{run_id}/stop")
        assert stop.status_code == 202, stop.text
        assert stop.json()["state"] == "stopping"
        again = http.post(f"/api/runs/{run_id}/stop")
        assert again.status_code == 409
        assert "already" in again.json()["error"]
        assert wait_state(http, run_id, {"stopped", "failed"})["state"] == "stopped"


@pytest.mark.parametrize(
    ("request_args", "status", "message"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
         "not valid JSON"),
        ({"content": b'{"topic": "x"}'}, 415, "Content-Type"),
        ({"json": {"producers": 2}}, 400, "topic: Field required"),
        ({"json": {"topic": "x", "producers": "2"}}, 400, "producers"),
        ({"json": {"topic": "x", "colour": "red"}}, 400, "colour"),
        ({"json": {"topic": "   "}}, 400, "topic must not be empty"),
        ({"json": {"topic": "../etc"}}, 400, "must not contain"),
        ({"json": {"topic": "x", "producers": 65}}, 400, "between 1 and 64"),
        ({"json": {"topic": "x", "request_size": 0}}, 400, "request size"),
        ({"json": {"topic": "x", "provider": "nope"}}, 400, "unknown provider"),
        ({"json": {"topic": "x" * 40_000}}, 413, "too large"),
        ({"json": {"topic": "x"}, "headers": {"origin": "http://evil.example"}}, 403,
         "cross-origin"),
    ],
)  # fmt: skip
def test_bad_start_requests_get_a_clear_4xx(
    web: WebMode, request_args: dict, status: int, message: str
) -> None:
    with web.client() as http:
        response = http.post("/api/runs", **request_args)
        assert response.status_code == status, response.text
        assert message in response.json()["error"]
        assert http.get("/api/runs").json()["runs"] == []  # nothing was started
        assert http.get("/api/health").status_code == 200  # and the server still serves


def test_unknown_runs_and_bad_paging(web: WebMode) -> None:
    with web.client() as http:
        for path in ("/api/runs/" + "a" * 32, "/api/runs/nope", "/api/runs/x/attributes"):
            response = http.get(path)
            assert response.status_code == 404, path
            assert "no run" in response.json()["error"]
        assert http.post("/api/runs/" + "b" * 32 + "/stop").status_code == 404
        run_id = http.post("/api/runs", json={"topic": "Lakes", "iterations": 1}).json()["run_id"]
        for params in ({"limit": 0}, {"limit": 100_000}, {"offset": -1}, {"offset": "x"}):
            response = http.get(f"/api/runs/{run_id}/attributes", params=params)
            assert response.status_code == 400, params
        assert http.get("/openapi.json").json()["paths"]["/api/runs"]["post"]


def test_a_second_run_on_a_busy_topic_is_refused(web: WebMode) -> None:
    with web.client() as http:
        first = http.post("/api/runs", json={"topic": "Volcanoes", "producers": 1})
        assert first.status_code == 201
        second = http.post("/api/runs", json={"topic": "Volcanoes", "producers": 1})
        assert second.status_code == 409
        assert "already active" in second.json()["error"]
        http.post(f"/api/runs/{first.json()['run_id']}/stop")


def test_web_mode_estimate_support_and_target_coverage(constellation: ServiceConstellation) -> None:
    web = constellation.start_web_mode(
        orchestrator_args=["--target-coverage", "0.8", "--saturation", "0", "--no-partitions"]
    )
    with web.client() as http:
        started = http.post(
            "/api/runs", json={"topic": "Harbours", "producers": 2, "request_size": 30}
        )
        assert started.status_code == 201, started.text
        run_id = started.json()["run_id"]
        done = wait_state(http, run_id, {"completed", "failed", "stopped"}, timeout=180)
        assert done["state"] == "completed" and done["reason"].startswith("coverage:"), done
        assert done["coverage"]["stop_low"] >= 0.7  # batches in flight may move it a little
        assert done["support"] and all(n >= 1 for _, n, _ in done["support"])

        lines = (web.output_root / "harbours" / "attributes.txt").read_text().splitlines()
        page = http.get(f"/api/runs/{run_id}/attributes", params={"limit": 1000}).json()
        assert page["items"] == lines[:1000] and len(page["support"]) == len(page["items"])
        strong = http.get(
            f"/api/runs/{run_id}/attributes", params={"limit": 1000, "min_support": 3}
        ).json()
        expected = [i for i, n in zip(page["items"], page["support"], strict=True) if n >= 3]
        assert strong["items"] == expected and strong["next_offset"] == len(page["items"])
        download = http.get(f"/api/runs/{run_id}/attributes.txt", params={"min_support": 3})
        assert download.text.splitlines() == expected and 0 < len(expected) < len(lines)
        assert (
            http.get(f"/api/runs/{run_id}/attributes.txt", params={"min_support": -1}).status_code
            == 400  # validation errors are 400 here (app.py)
        )
