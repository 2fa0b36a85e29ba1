"""``python -m system.producer``: one producer process, spawned by the orchestrator.

The run token arrives as the first line on stdin; stdin then stays open for
as long as the orchestrator lives. Exit codes: 0 normal stop, 1 error,
2 bad arguments, 3 orchestrator unreachable or gone before the start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from system.logsetup import LEVELS, configure_logging
from system.producer.lifeline import die_with_parent
from system.producer.worker import EXIT_ERROR, Producer, ProducerExit, install_signal_handlers
from system.telemetry import configure_tracing
from system.telemetry import schema as s

log = logging.getLogger("system.producer")

TOKEN_TIMEOUT_S = 10.0


def _parse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="producer", description=__doc__.splitlines()[0])
    p.add_argument("--id", type=int, required=True, dest="producer_id", help="producer id (>= 1)")
    p.add_argument("--connect", type=_parse_address, required=True, help="orchestrator HOST:PORT")
    p.add_argument("--log-level", default="info", choices=sorted(LEVELS))
    p.add_argument("--trace-ep", default=None, help="OTLP endpoint (default: OTEL_* variables)")
    return p


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _main(args: argparse.Namespace) -> int:
    stdin = await _stdin_reader()
    try:
        line = await asyncio.wait_for(stdin.readline(), TOKEN_TIMEOUT_S)
    except TimeoutError:
        line = b""
    token = line.decode(errors="replace").strip()
    if not token:
        log.error("no run token on stdin; producers are started by the orchestrator")
        return EXIT_ERROR
    telemetry = configure_tracing(
        s.SERVICE_PRODUCER,
        trace_ep=args.trace_ep,
        resource_attributes={s.RES_PRODUCER_ID: args.producer_id},
    )
    host, port = args.connect
    producer = Producer(args.producer_id, host, port, token, telemetry, stdin)
    install_signal_handlers(producer)
    try:
        return await producer.run()
    except ProducerExit as exc:
        log.error("%s", exc)
        return exc.code
    finally:
        telemetry.shutdown()


def main(argv: list[str] | None = None) -> int:
    die_with_parent()  # again for the `producer` entry point (python -m did it first)
    args = build_parser().parse_args(argv)
    if args.producer_id < 1:
        print("producer: error: --id must be >= 1", file=sys.stderr)
        return 2
    configure_logging(args.log_level, f"producer-{args.producer_id}")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
