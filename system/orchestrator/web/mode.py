"""Web mode: no --topic; serve the control channel and run topics on request.

Logs ``control listening on HOST:PORT`` once ready. SIGINT/SIGTERM/SIGHUP stop every
active run (producers stopped, files flushed) and then exit 0.
"""

from __future__ import annotations

import asyncio
import logging

from system.logsetup import announce
from system.orchestrator.signals import install_stop_handlers
from system.orchestrator.web.control import ControlServer
from system.orchestrator.web.service import RunService
from system.orchestrator.web.settings import WebSettings
from system.telemetry import configure_tracing
from system.telemetry import schema as s
from system.telemetry.setup import child_environment

log = logging.getLogger("system.orchestrator")


async def serve(settings: WebSettings, token: str) -> int:
    telemetry = configure_tracing(s.SERVICE_ORCHESTRATOR, trace_ep=settings.trace_ep)
    service = RunService(telemetry, settings, env=child_environment(settings.trace_ep))
    server = ControlServer(
        service, token, telemetry, host=settings.control_host, port=settings.control_port
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    install_stop_handlers(loop, lambda _signum: stop.set())
    try:
        try:
            host, port = await server.start()
        except OSError as exc:
            log.error(
                "cannot listen on %s:%s: %s", settings.control_host, settings.control_port, exc
            )
            return 1
        log.info("web mode: waiting for work; output under %s", settings.output_root.resolve())
        announce(log, "control listening on %s:%d", host, port)
        await stop.wait()
        log.info("shutting down: stopping active runs")
        await service.shutdown("orchestrator shutting down")
        await server.close()
    finally:
        telemetry.shutdown()
    return 0
