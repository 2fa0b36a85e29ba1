"""A producer's way in: connect to its orchestrator and hand over the Hello.

Start-up races the stop event (SIGTERM, stdin EOF): every wait here is
bounded and checks ``stop`` between attempts, so a producer whose parent went
away exits within about a second at any stage of start-up.
"""

from __future__ import annotations

import asyncio
import logging

from system.protocol import (
    FrameError,
    FrameReader,
    Hello,
    ProtocolError,
    StartTopic,
    Stop,
    read_message,
    write_message,
)

log = logging.getLogger("system.producer")

CONNECT_TIMEOUT_S = 10.0
START_TIMEOUT_S = 15.0
#: how long a producer keeps retrying refused handshakes before giving up
START_DEADLINE_S = 30.0

EXIT_OK, EXIT_ERROR, EXIT_NO_ORCHESTRATOR = 0, 1, 3

__all__ = [
    "EXIT_ERROR",
    "EXIT_NO_ORCHESTRATOR",
    "EXIT_OK",
    "ProducerExit",
    "handshake",
    "open_connection",
]


class ProducerExit(Exception):
    """The producer cannot go on; ``code`` is its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def open_connection(
    host: str, port: int, timeout: float, stop: asyncio.Event | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect, retrying refused connections until the timeout or until ``stop`` is set.

    ``stop`` is checked between attempts: on Python 3.11 a cancellation that meets
    a failing ``wait_for`` at the same moment can be lost, so cancelling alone
    could leave the retry loop running after the producer was told to stop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.05
    while True:
        if stop is not None and stop.is_set():
            raise ProducerExit("stopped while connecting", EXIT_NO_ORCHESTRATOR)
        try:
            async with asyncio.timeout(max(0.1, deadline - loop.time())):
                return await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            if loop.time() + delay >= deadline:
                raise ProducerExit(
                    f"cannot reach the orchestrator at {host}:{port} within {timeout:.0f}s: {exc}",
                    EXIT_NO_ORCHESTRATOR,
                ) from exc
            log.debug("orchestrator at %s:%d not reachable yet (%s); retrying", host, port, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


async def handshake(
    host: str, port: int, hello: Hello, stop: asyncio.Event
) -> tuple[StartTopic | Stop, FrameReader, asyncio.StreamWriter]:
    """Connect and hand over the Hello until the orchestrator answers.

    A connection closed before the answer (the orchestrator refused the
    handshake, e.g. because a local process crowded its pending handshakes)
    is retried until START_DEADLINE_S: a refusal must not cost a restart.
    Returns the first message (StartTopic or Stop), the frame reader and the
    writer of the connection that got it; on any failure the connection is closed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_DEADLINE_S
    delay = 0.05
    while True:
        remaining = deadline - loop.time()
        reader, writer = await open_connection(
            host, port, min(CONNECT_TIMEOUT_S, max(0.1, remaining)), stop
        )
        frames = FrameReader(reader)
        problem: str
        try:
            await write_message(writer, hello)
            async with asyncio.timeout(START_TIMEOUT_S):
                first = await read_message(frames)
        except TimeoutError as exc:
            writer.close()
            raise ProducerExit(
                f"the orchestrator at {host}:{port} did not answer the handshake "
                f"within {START_TIMEOUT_S:.0f}s",
                EXIT_NO_ORCHESTRATOR,
            ) from exc
        except (ConnectionError, FrameError, ProtocolError) as exc:
            problem = f"handshake failed: {exc}"
        except BaseException:  # cancelled (stopped): leave no socket behind
            writer.close()
            raise
        else:
            if isinstance(first, StartTopic | Stop):
                return first, frames, writer
            if first is not None:
                writer.close()
                raise ProducerExit(f"expected start_topic, got {first.TYPE}", EXIT_ERROR)
            problem = (
                "the orchestrator closed the connection during the handshake "
                "(wrong token or unknown producer?)"
            )
        writer.close()
        if loop.time() + delay >= deadline or stop.is_set():
            raise ProducerExit(problem, EXIT_NO_ORCHESTRATOR)
        log.warning("%s; retrying", problem)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
