"""Web mode: no --topic; serve the control channel and run topics on request.

Logs ``control listening on HOST:PORT`` once ready. SIGINT/SIGTERM stop every
active run (producers stopped, files flushed) and then exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

from system.logsetup import announce
from system.orchestrator.control import ControlServer
from system.orchestrator.service import RunService
from system.telemetry import configure_tracing
from system.telemetry import schema as s
from system.telemetry.setup import child_environment

log = logging.getLogger("system.orchestrator")


async def serve(args: argparse.Namespace, token: str, run_options: dict[str, Any]) -> int:
    telemetry = configure_tracing(s.SERVICE_ORCHESTRATOR, trace_ep=args.trace_ep)
    env = child_environment(args.trace_ep)
    service = RunService(
        telemetry,
        output_root=Path(args.output_root),
        host=args.host,
        log_dir=Path(args.log_dir) if args.log_dir else None,
        log_level=args.log_level,
        env=env,
        run_options=run_options,
    )
    server = ControlServer(
        service, token, telemetry, host=args.control_host, port=args.control_port
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            host, port = await server.start()
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", args.control_host, args.control_port, exc)
            return 1
        log.info("web mode: waiting for work; output under %s", Path(args.output_root).resolve())
        announce(log, "control listening on %s:%d", host, port)
        await stop.wait()
        log.info("shutting down: stopping active runs")
        await service.shutdown("orchestrator shutting down")
        await server.close()
    finally:
        telemetry.shutdown()
    return 0
