"""The HTTP API (JSON). Described at /openapi.json; docs/webserver.md lists it.

Every route that needs the orchestrator sends a control request carrying the
HTTP server span's trace context, so the orchestrator's work (the topic run,
``control.<op>`` spans) continues the HTTP request's trace.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field, field_validator

from system.webserver.control_client import OrchestratorClient, OrchestratorUnavailable
from system.webserver.live import LiveState
from system.webserver.security import AccessPolicy, check_request

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
DOWNLOAD_CHUNK = 5000
DISCONNECT_CHECK_S = 5.0


#: integers outside this range cannot be meaningful anywhere in a request (and would
#: not fit the control channel's MessagePack ints); the orchestrator checks the real ranges
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: an offset beyond any file, still small enough for every encoder on the way
MAX_OFFSET = 2**53


def _valid_text(value: str) -> str:
    """Refuse what cannot be UTF-8 (a lone surrogate from a JSON ``\ud800`` escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from exc
    return value


def unavailable_message(exc: OrchestratorUnavailable) -> str:
    """What the user should do when the orchestrator cannot be asked (no exception text:
    the cause is in the webserver's log and /api/health)."""
    if "in time" in str(exc):
        return "The orchestrator is busy and did not answer in time. Try again in a moment."
    return (
        "The orchestrator is not running or not reachable. Start it (scripts/start.sh "
        "starts it with the webserver) and try again; this page reconnects by itself."
    )


class StartRun(BaseModel):
    """A topic run to start. Ranges are checked by the orchestrator, as on its CLI."""

    model_config = ConfigDict(extra="forbid", strict=True)

    topic: str = Field(description="topic to enumerate, e.g. 'Paris attractions'")
    producers: int = Field(5, description="producer processes, 1..64", ge=INT_MIN, le=INT_MAX)
    iterations: int | None = Field(
        None,
        description="LLM requests per producer; null = until saturated (the orchestrator's "
        "--saturation settings) or stopped",
        ge=INT_MIN,
        le=INT_MAX,
    )
    provider: str = Field("test", description="'test' (simulated LLM) or 'env' (real APIs)")
    request_size: int = Field(
        60, description="items asked for per request, 1..1000", ge=INT_MIN, le=INT_MAX
    )

    @field_validator("topic", "provider")
    @classmethod
    def _text(cls, value: str) -> str:
        return _valid_text(value)


class ErrorBody(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 415, 429, 503)
}


def _attachment(topic: str) -> str:
    """Content-Disposition for a topic's download, in any script: an ASCII
    ``filename`` for old clients and the UTF-8 ``filename*`` (RFC 6266)."""
    ascii_name = re.sub(r"[^\w-]+", "-", topic, flags=re.ASCII).strip("-_") or "attributes"
    name = re.sub(r"[^\w-]+", "-", topic).strip("-_") or "attributes"
    return (
        f'attachment; filename="{ascii_name}.txt"; '
        f"filename*=UTF-8''{quote(name + '.txt', safe='')}"
    )


def json_body(request: Request) -> None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "send the run as JSON (Content-Type: application/json)")


def build_router(client: OrchestratorClient, live: LiveState, policy: AccessPolicy) -> APIRouter:
    def guard(request: Request) -> None:
        check_request(request, policy)

    router = APIRouter(prefix="/api", dependencies=[Depends(guard)], responses=ERRORS)

    async def call(op: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            reply = await client.request(op, args)
        except OrchestratorUnavailable as exc:
            raise HTTPException(503, unavailable_message(exc)) from exc
        except (OverflowError, UnicodeEncodeError, TypeError, ValueError) as exc:
            # a value the control channel cannot encode: the request's fault, never a 500
            raise HTTPException(400, f"request cannot be forwarded: {exc}") from exc
        if not reply.ok:
            raise HTTPException(reply.status, str(reply.body.get("error", "request failed")))
        return reply.body

    def run_id_checked(run_id: str) -> str:
        if not RUN_ID.match(run_id):
            raise HTTPException(404, f"no run with id {run_id!r}")
        return run_id

    @router.get("/health", summary="Liveness and orchestrator connection")
    async def health() -> JSONResponse:
        body = {
            "status": "ok" if client.connected else "degraded",
            "orchestrator": "connected" if client.connected else client.last_error,
            "sse_clients": live.subscriber_count,
        }
        return JSONResponse(body, status_code=200 if client.connected else 503)

    @router.post(
        "/runs", status_code=201, summary="Start a topic run", dependencies=[Depends(json_body)]
    )
    async def start_run(
        body: StartRun,
        idempotency_key: Annotated[
            str | None,
            Header(
                description="a key of the client's choosing: a start repeated with the same "
                "key (a retry after a 503) answers the run the first one started",
                max_length=200,
            ),
        ] = None,
    ) -> dict[str, Any]:
        args = body.model_dump()
        if idempotency_key is not None:
            args["idempotency_key"] = idempotency_key
        snapshot = await call("start", args)
        live.on_run(snapshot["run_id"], snapshot)
        return snapshot

    @router.get("/runs", summary="All runs, newest last")
    async def list_runs() -> dict[str, Any]:
        return await call("list")

    @router.get("/runs/{run_id}", summary="Status and metrics of a run")
    async def run_status(run_id: str) -> dict[str, Any]:
        return await call("status", {"run_id": run_id_checked(run_id)})

    @router.get("/runs/{run_id}/series", summary="Counts over time (for charts)")
    async def run_series(run_id: str) -> dict[str, Any]:
        view = live.view(run_id_checked(run_id))
        if view is None:
            await call("status", {"run_id": run_id})  # 404 if the run does not exist
            return {"run": None, "series": [], "recent": []}
        return view

    @router.post("/runs/{run_id}/stop", status_code=202, summary="Stop a run")
    async def stop_run(run_id: str) -> dict[str, Any]:
        return await call("stop", {"run_id": run_id_checked(run_id)})

    @router.get("/runs/{run_id}/attributes", summary="Attributes found so far, paged")
    async def attributes(
        run_id: str,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=DOWNLOAD_CHUNK)] = 100,
        min_support: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        """Items with their ``support`` (sightings); ``min_support`` keeps those seen at
        least that often, and ``next_offset`` says where the next page starts."""
        args: dict[str, Any] = {"run_id": run_id_checked(run_id), "offset": offset, "limit": limit}
        if min_support:
            args["min_support"] = min_support
        return await call("attributes", args)

    @router.api_route(
        "/runs/{run_id}/attributes.txt",
        methods=["GET", "HEAD"],
        summary="Download attributes.txt (HEAD: its headers only)",
        response_class=StreamingResponse,
    )
    async def download(
        run_id: str,
        request: Request,
        min_support: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> StreamingResponse:
        """The file; with ``min_support`` only items seen in at least that many requests."""
        status = await call("status", {"run_id": run_id_checked(run_id)})
        headers = {
            "Content-Disposition": _attachment(status["topic"]),
        }
        if not min_support:  # a filtered download's count is only known once read
            headers["X-Attributes-Count"] = str(status["counts"]["total_in_file"])
        if request.method == "HEAD":
            return StreamingResponse(
                iter(()), media_type="text/plain; charset=utf-8", headers=headers
            )

        async def lines() -> AsyncIterator[bytes]:
            offset = 0
            while True:
                args = {"run_id": run_id, "offset": offset, "limit": DOWNLOAD_CHUNK}
                if min_support:
                    args["min_support"] = min_support
                page = await call("attributes", args)
                next_offset = page.get("next_offset", offset + len(page["items"]))
                if next_offset <= offset:
                    return
                if page["items"]:
                    yield ("\n".join(page["items"]) + "\n").encode()
                offset = next_offset

        return StreamingResponse(lines(), media_type="text/plain; charset=utf-8", headers=headers)

    @router.get("/events", response_class=EventSourceResponse, summary="Live updates (SSE)")
    async def events(request: Request, run_id: str | None = None) -> AsyncIterator[ServerSentEvent]:
        """Server-Sent Events: ``run`` (a run's snapshot, twice a second while it is
        active) and ``attributes`` (newly found). ``run_id`` limits the stream to one run."""
        queue = live.subscribe()
        try:
            if run_id is not None and (view := live.view(run_id)) is not None:
                yield ServerSentEvent(event="history", data=view)
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), DISCONNECT_CHECK_S)
                except TimeoutError:
                    continue  # FastAPI sends keep-alive comments; this re-checks the client
                if run_id is None or event["run_id"] == run_id:
                    yield ServerSentEvent(event=event["event"], data=event)
        finally:
            live.unsubscribe(queue)

    return router
