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

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field

from system.webserver.control_client import OrchestratorClient, OrchestratorUnavailable
from system.webserver.live import LiveState
from system.webserver.security import AccessPolicy, check_request

RUN_ID = re.compile(r"^[0-9a-f]{32}$")
DOWNLOAD_CHUNK = 5000
DISCONNECT_CHECK_S = 5.0


class StartRun(BaseModel):
    """A topic run to start. Ranges are checked by the orchestrator, as on its CLI."""

    model_config = ConfigDict(extra="forbid", strict=True)

    topic: str = Field(description="topic to enumerate, e.g. 'Paris attractions'")
    producers: int = Field(5, description="producer processes, 1..64")
    iterations: int | None = Field(
        None, description="LLM requests per producer; null = until stopped"
    )
    provider: str = Field("test", description="'test' (simulated LLM) or 'env' (real APIs)")
    request_size: int = Field(60, description="items asked for per request, 1..1000")


class ErrorBody(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 415, 429, 503)
}


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
            raise HTTPException(503, str(exc)) from exc
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
    async def start_run(body: StartRun) -> dict[str, Any]:
        snapshot = await call("start", body.model_dump())
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
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=DOWNLOAD_CHUNK)] = 100,
    ) -> dict[str, Any]:
        args = {"run_id": run_id_checked(run_id), "offset": offset, "limit": limit}
        return await call("attributes", args)

    @router.get(
        "/runs/{run_id}/attributes.txt",
        summary="Download attributes.txt",
        response_class=StreamingResponse,
    )
    async def download(run_id: str) -> StreamingResponse:
        status = await call("status", {"run_id": run_id_checked(run_id)})
        slug = re.sub(r"[^\w-]+", "-", status["topic"], flags=re.ASCII).strip("-") or "attributes"

        async def lines() -> AsyncIterator[bytes]:
            offset = 0
            while True:
                page = await call(
                    "attributes", {"run_id": run_id, "offset": offset, "limit": DOWNLOAD_CHUNK}
                )
                if not page["items"]:
                    return
                yield ("\n".join(page["items"]) + "\n").encode()
                offset += len(page["items"])

        return StreamingResponse(
            lines(),
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{slug}.txt"'},
        )

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
