"""Control channel pieces: message codec, token file, attribute pager, access policy."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import pytest
from fastapi import HTTPException
from starlette.requests import Request

from system.output.attributes_pager import STRIDE, AttributesPager
from system.protocol.codec import ProtocolError
from system.protocol.control import (
    CODEC,
    ControlEvent,
    ControlHello,
    ControlReply,
    ControlRequest,
)
from system.protocol.control_token import TokenFileError, ensure_token, read_token
from system.webserver.security import AccessPolicy, check_request


@pytest.mark.parametrize(
    "message",
    [
        ControlHello("t" * 20),
        ControlRequest(
            7, "start", {"topic": "x", "producers": 2}, trace_context={"traceparent": "00-ab"}
        ),
        ControlReply(7, 409, {"error": "already stopped"}),
        ControlEvent("attributes", "r1", {"start": 3, "items": ["a", "b"]}),
    ],
)
def test_messages_round_trip(message: object) -> None:
    assert CODEC.decode(CODEC.encode(message)) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        {"t": "nope"},
        {"t": "request", "id": 1, "op": "x"},  # missing args
        {"t": "request", "id": True, "op": "x", "args": {}},  # bool is not an id
        {"t": "reply", "id": 1, "status": "200", "body": {}},
        {"t": "hello", "token": "x", "extra": 1},
        {"t": "event", "kind": "run", "run_id": "r", "body": {}, "tc": {"a": 1}},
        [1, 2],
    ],
)
def test_malformed_messages_are_refused(body: object) -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(msgpack.packb(body))


def test_garbage_is_refused() -> None:
    with pytest.raises(ProtocolError):
        CODEC.decode(b"\xc1\xff\x00")


def test_hello_repr_hides_the_token() -> None:
    assert "secret-token-value" not in repr(ControlHello("secret-token-value"))


def test_token_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "control.token"
    token = ensure_token(path)
    assert len(token) >= 32
    assert (path.stat().st_mode & 0o777) == 0o600
    assert ensure_token(path) == token == read_token(path)


def test_token_file_problems_are_clear(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match="does not exist"):
        read_token(tmp_path / "missing")
    shared = tmp_path / "shared"
    shared.write_text("x" * 40)
    os.chmod(shared, 0o644)
    with pytest.raises(TokenFileError, match="chmod 600"):
        read_token(shared)
    short = tmp_path / "short"
    short.write_text("abc")
    os.chmod(short, 0o600)
    with pytest.raises(TokenFileError, match="no token"):
        read_token(short)


def test_pager_reads_any_page_and_ignores_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "attributes.txt"
    lines = [f"item {i}" for i in range(3 * STRIDE + 17)]
    path.write_text("\n".join(lines) + "\npartial")
    pager = AttributesPager(path)
    assert pager.page(0, 5) == lines[:5]
    assert pager.page(2 * STRIDE + 3, 4) == lines[2 * STRIDE + 3 : 2 * STRIDE + 7]
    assert pager.page(10, 3) == lines[10:13]  # back to an earlier page after the index grew
    assert pager.page(len(lines) - 2, 10) == lines[-2:]
    assert pager.page(len(lines) + 5, 10) == []
    assert [x for chunk in pager.iter_all(chunk=1000) for x in chunk] == lines
    assert AttributesPager(tmp_path / "none.txt").page(0, 10) == []
    with pytest.raises(ValueError):
        pager.page(-1, 1)


def _request(method: str, path: str, headers: dict[str, str]) -> Request:
    raw = [
        (k.lower().encode(), v.encode()) for k, v in {"host": "127.0.0.1:8080", **headers}.items()
    ]
    return Request(
        {"type": "http", "method": method, "path": path, "headers": raw, "query_string": b""}
    )


def test_cross_origin_writes_are_refused_same_origin_allowed() -> None:
    open_policy = AccessPolicy()
    check_request(_request("POST", "/api/runs", {"origin": "http://127.0.0.1:8080"}), open_policy)
    check_request(_request("GET", "/api/runs", {"origin": "http://evil.example"}), open_policy)
    for headers in ({"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"}):
        with pytest.raises(HTTPException) as refused:
            check_request(_request("POST", "/api/runs", headers), open_policy)
        assert refused.value.status_code == 403


def test_the_access_token_is_required_when_set() -> None:
    policy = AccessPolicy("a-long-access-token-123")
    with pytest.raises(HTTPException) as refused:
        check_request(_request("GET", "/api/runs", {}), policy)
    assert refused.value.status_code == 401
    with pytest.raises(HTTPException):
        check_request(
            _request("GET", "/api/runs", {"x-access-token": "wrong-token-000000"}), policy
        )
    check_request(_request("GET", "/api/health", {}), policy)
    check_request(
        _request("GET", "/api/runs", {"authorization": "Bearer a-long-access-token-123"}), policy
    )
    check_request(
        _request("POST", "/api/runs", {"cookie": "access_token=a-long-access-token-123"}), policy
    )


def test_live_state_keeps_bounded_history() -> None:
    from system.webserver.live import MAX_POINTS, MAX_RUNS, LiveState

    live = LiveState()
    queue = live.subscribe()
    for i in range(MAX_RUNS + 5):
        live.on_run(f"r{i}", {"state": "completed", "elapsed_s": 1, "counts": {"unique": i}})
    assert len(live.runs) == MAX_RUNS and "r0" not in live.runs
    for t in range(3 * MAX_POINTS):
        live.on_run("r-long", {"state": "running", "elapsed_s": t, "counts": {"unique": t}})
    series = live.view("r-long")["series"]  # type: ignore[index]
    assert len(series) <= MAX_POINTS and series[0][0] == 0 and series[-1][0] > 2 * MAX_POINTS
    assert queue.qsize() == queue.maxsize  # a slow subscriber loses old events, memory stays flat
