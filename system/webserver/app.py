"""The ASGI application: API router, UI files, JSON errors, body limit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from system.webserver.api import build_router
from system.webserver.control_client import OrchestratorClient
from system.webserver.live import LiveState
from system.webserver.security import TOKEN_COOKIE, AccessPolicy

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":
            return "request body is not valid JSON"
        where = ".".join(str(p) for p in error.get("loc", ())[1:])
        parts.append(f"{where or 'body'}: {error.get('msg')}")
    return "; ".join(parts) or "invalid request"


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with a JSON 413.

    A declared Content-Length is checked before anything is read; a chunked
    body is counted as it streams and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send, declared=length.isdigit())
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit and not refused:
                refused = True
                if not started:
                    await self._refuse(scope, receive, send, declared=True)
                raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; drop the app's own error response
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, tracking_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, declared: bool) -> None:
        if declared:
            body, status = f"request body too large (limit {self.limit} bytes)", 413
        else:
            body, status = "invalid Content-Length header", 400
        await JSONResponse({"error": body}, status_code=status)(scope, receive, send)


class HostCheck:
    """Refuse (403, JSON) any request whose Host header does not name this server."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not self.policy.host_allowed(host):
                body = {"error": f"unexpected Host header {host!r} (see --allowed-host)"}
                await JSONResponse(body, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(client: OrchestratorClient, live: LiveState, policy: AccessPolicy) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client.start()
        try:
            yield
        finally:
            await client.close()

    app = FastAPI(
        title="topic-enumerator webserver",
        summary="Start, watch and stop topic runs of the orchestrator.",
        version="1",
        docs_url=None,  # the Swagger UI would load from a CDN; /openapi.json is served
        redoc_url=None,
        lifespan=lifespan,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # a bug still answers in the API's JSON shape (Starlette logs the traceback)
        return JSONResponse({"error": "internal error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"error": _describe(list(exc.errors()))}, status_code=400)

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(HostCheck, policy=policy)  # added last: runs first
    app.include_router(build_router(client, live, policy))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def index(request: Request, token: str | None = None) -> Response:
        if token is not None:
            if not policy.token_matches(token):
                return JSONResponse({"error": "wrong access token"}, status_code=401)
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return response
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    return app
