"""``python -m system.webserver`` / ``webserver``: the UI and HTTP API.

Connects to an orchestrator in web mode (``--orchestrator HOST:PORT``, token
from ``--control-token-file``) and serves http://HOST:PORT/. Logs
``webserver listening on http://HOST:PORT`` once it accepts connections
(with ``--port 0`` that line names the port the system chose).

Binding to anything but a loopback address requires an access token
(``--access-token-file`` or ``WEBSERVER_ACCESS_TOKEN``). Exit codes: 0 after
SIGINT/SIGTERM, 1 cannot listen, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from system.logsetup import LEVELS, announce, configure_logging
from system.protocol.control_token import DEFAULT_TOKEN_FILE, TokenFileError, read_token
from system.telemetry import TracingConfigError, configure_tracing
from system.telemetry import schema as s
from system.telemetry.setup import check_tracing_environment
from system.version import version
from system.webserver.security import LOOPBACK_NAMES, AccessPolicy

log = logging.getLogger("system.webserver")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_PORT = 8080
ACCESS_TOKEN_ENV = "WEBSERVER_ACCESS_TOKEN"
# How long an idle keep-alive connection stays open. It must be longer than
# clients' own idle expiry (httpx 5 s, browsers longer): when the server closes
# first, a request the client is sending on that connection at the same moment
# is reset (uvicorn's default is 5 s, which raced httpx under load).
KEEP_ALIVE_S = 75


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="webserver", description="Web UI and HTTP API for topic runs.")
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)"
    )
    p.add_argument(
        "--orchestrator",
        default="127.0.0.1:7600",
        help="orchestrator control address HOST:PORT (default 127.0.0.1:7600)",
    )
    p.add_argument(
        "--control-token-file",
        type=Path,
        default=DEFAULT_TOKEN_FILE,
        help=f"the orchestrator's control token file (default {DEFAULT_TOKEN_FILE})",
    )
    p.add_argument(
        "--access-token-file",
        type=Path,
        default=None,
        help=f"API access token (required off loopback; or set {ACCESS_TOKEN_ENV})",
    )
    p.add_argument(
        "--log-level", default="info", choices=sorted(LEVELS), help="log level (default info)"
    )
    p.add_argument("--trace-ep", default=None, help="OTLP endpoint URL for traces")
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name requests may address besides the loopback names and the bound "
        "address (against DNS rebinding); repeatable; '*' = any",
    )
    return p


def _span_hook(*hooks: Callable[[Any, dict[str, Any]], None]) -> Callable[..., None]:
    """One server_request_hook running several (span attributes, token redaction)."""

    def hook(span: Any, scope: dict[str, Any]) -> None:
        for each in hooks:
            each(span, scope)

    return hook


def allowed_hosts(args: argparse.Namespace) -> frozenset[str]:
    names = set(LOOPBACK_NAMES) | {n.strip().lower().rstrip(".") for n in args.allowed_host}
    if args.host not in ("0.0.0.0", "::", ""):
        names.add(args.host.lower().strip("[]"))
    return frozenset(n for n in names if n)


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--orchestrator must be HOST:PORT, got {text!r}")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _access_token(args: argparse.Namespace) -> str | None:
    token = None
    if args.access_token_file is not None:
        try:
            token = args.access_token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read {args.access_token_file}: {exc.strerror}") from exc
        except UnicodeDecodeError:
            raise UsageError(
                f"{args.access_token_file} is not UTF-8 text; write the token in it as plain text"
            ) from None
    token = token or os.environ.get(ACCESS_TOKEN_ENV, "").strip() or None
    if token is not None and len(token) < 16:
        raise UsageError("the access token must be at least 16 characters long")
    if token is None and not _is_loopback(args.host):
        raise UsageError(
            f"binding to {args.host} exposes the API: give an access token with "
            f"--access-token-file or {ACCESS_TOKEN_ENV}"
        )
    return token


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit it: small responses go out at once, no Nagle delay
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def _serve(args: argparse.Namespace, control_token: str, access: str | None) -> int:
    import uvicorn
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    from system.protocol.control import ControlEvent
    from system.webserver.app import create_app
    from system.webserver.control_client import OrchestratorClient
    from system.webserver.live import LiveState
    from system.webserver.redact import install_log_redaction, redact_span, register_secret
    from system.webserver.span_attributes import server_request_hook

    telemetry = configure_tracing(s.SERVICE_WEBSERVER, trace_ep=args.trace_ep)
    live = LiveState()

    def on_event(event: ControlEvent) -> None:
        kind, run_id, body = event.kind, event.run_id, event.body
        if kind == "run":
            live.on_run(run_id, body)
        elif kind == "attributes":
            live.on_attributes(run_id, body)

    host, port = _address(args.orchestrator)
    client = OrchestratorClient(host, port, control_token, on_event)
    app = create_app(client, live, AccessPolicy(access, allowed_hosts(args)))
    if telemetry.enabled:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=telemetry.tracer_provider,
            exclude_spans=["receive", "send"],
            excluded_urls="/static/.*",
            server_request_hook=_span_hook(server_request_hook, redact_span),
        )
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc.strerror or exc)
        telemetry.shutdown()
        return EXIT_FAILED
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_level=logging.WARNING if args.log_level in ("info", "warn") else args.log_level,
        access_log=args.log_level in ("debug", "trace"),
        timeout_graceful_shutdown=3,
        timeout_keep_alive=KEEP_ALIVE_S,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    if access:
        register_secret(access)  # redacted in any parameter, however encoded
    install_log_redaction()  # after uvicorn.Config configured its loggers
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if server.started:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        announce(log, "webserver listening on http://%s:%d", shown, bound_port)
        log.info("orchestrator control at %s:%d", host, port)
    try:
        await serving
    finally:
        telemetry.shutdown()
    return EXIT_OK if server.started else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    # stable HTTP semantic-convention names (http.request.method, url.path, ...)
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    try:
        args = build_parser().parse_args(argv)
        if not 0 <= args.port <= 65535:
            raise UsageError("--port must be between 0 and 65535")
        _address(args.orchestrator)
        access = _access_token(args)
        control_token = read_token(args.control_token_file)
        check_tracing_environment(args.trace_ep, os.environ)
    except (UsageError, TokenFileError, TracingConfigError) as exc:
        print(f"webserver: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(args.log_level, "webserver")
    try:
        return asyncio.run(_serve(args, control_token, access))
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
