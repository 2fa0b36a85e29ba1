"""HTTP server span attributes the FastAPI instrumentation gets wrong.

It copies the ``Host`` header (``127.0.0.1:8080``) into ``server.address``;
the semantic conventions want the host alone there and the port in
``server.port``. The hook runs when the server span starts and rewrites both.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from system.telemetry import schema as s


def split_host(host_header: str, default_port: int | None) -> tuple[str, int | None]:
    """``host[:port]`` (IPv6 in brackets) as (host, port); the default port when absent."""
    try:
        parts = urllib.parse.urlsplit(f"//{host_header.strip()}")
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return host_header, default_port
    return host, port if port is not None else default_port


def server_request_hook(span: Any, scope: dict[str, Any]) -> None:
    if span is None or not span.is_recording():
        return
    headers = dict(scope.get("headers") or ())
    server = scope.get("server") or (None, None)
    host_header = headers.get(b"host", b"").decode("latin-1")
    if host_header:
        host, port = split_host(host_header, server[1])
    else:
        host, port = server[0] or "", server[1]
    if host:
        span.set_attribute(s.SERVER_ADDRESS, host)
    if port is not None:
        span.set_attribute(s.SERVER_PORT, int(port))
