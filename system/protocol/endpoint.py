"""A TCP endpoint for length-prefixed, token-authenticated peers: one base for both.

The orchestrator's producer port and its control port (web mode) accept
connections the same way, so the rules that keep them safe live here once:

* a connection must open with the family's hello frame carrying the shared
  token (compared in constant time); anything else (wrong token, garbage, an
  oversized length prefix, a frame that does not decode, silence) closes it,
  is logged and goes to the endpoint's ``on_rejected`` callback;
* memory stays bounded: until a peer has authenticated only a hello-sized
  frame (4 KiB) is read, and pending handshakes are capped in number and
  time; at the cap the oldest pending one is closed to make room (a real
  peer sends its hello at once, so it is never the oldest for long), so a
  local process holding connections open cannot lock real peers out;
* after the handshake a :class:`Session` handles the peer's messages one by
  one, and always hears how its connection ended.

A subclass says what a hello must also prove (:meth:`Endpoint.open`, which
raises :class:`Rejected`) and what a session does.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from system.protocol.codec import Codec, Message, ProtocolError
from system.protocol.framing import DEFAULT_MAX_FRAME, FrameError, FrameReader

#: the largest frame read before authentication: a hello is well under 1 KiB
HELLO_MAX_FRAME = 4096


class TokenHello(Protocol):
    token: str


M = TypeVar("M", bound=Message)
M_contra = TypeVar("M_contra", bound=Message, contravariant=True)
H = TypeVar("H", bound=TokenHello)


class Rejected(Exception):
    """The handshake is refused; the message is the reason logged and recorded."""


class Closed(Exception):
    """A session ends its connection; the message is the reason it hears."""


class Session(Protocol[M_contra]):
    async def opened(self) -> None:
        """The peer is authenticated (e.g. send it its first message)."""

    async def handle(self, message: M_contra) -> None:
        """One message from the peer, in order; raise Closed to end the connection."""

    async def closed(self, reason: str) -> None:
        """The connection ended (peer, error, or the endpoint closing): always called."""


class Endpoint(Generic[M, H]):
    """Accept, authenticate, read; a subclass supplies :meth:`open`."""

    #: the name in log lines ("rejected <kind> connection from ...")
    kind = "peer"

    def __init__(
        self,
        token: str,
        codec: Codec[M],
        hello_type: type[H],
        *,
        on_rejected: Callable[[str, str], None],
        log: logging.Logger,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = DEFAULT_MAX_FRAME,
        max_pending: int = 64,
        handshake_timeout_s: float = 10.0,
        close_on_bad_message: bool = True,
    ) -> None:
        self._token = token.encode()
        self._codec = codec
        self._hello_type = hello_type
        self._on_rejected = on_rejected
        self._log = log
        self.host, self.port = host, port
        self.max_frame = max_frame
        self.max_pending = max_pending
        self.handshake_timeout_s = handshake_timeout_s
        #: False: a message that does not decode is logged and skipped, not fatal
        self.close_on_bad_message = close_on_bad_message
        self._server: asyncio.Server | None = None
        #: handshakes in progress, oldest first (dicts keep insertion order)
        self._pending: dict[asyncio.Task[None], str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def open(self, peer: str, hello: H, writer: asyncio.StreamWriter) -> Session[M]:
        """The session of a peer whose hello carried the token; raise Rejected to refuse."""
        raise NotImplementedError

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        self.host, self.port = self._server.sockets[0].getsockname()[:2]
        return self.host, self.port

    async def close(self) -> None:
        """Stop accepting and end every connection (each session hears ``closed``)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if peername else "unknown"
        try:
            frames = FrameReader(reader, min(HELLO_MAX_FRAME, self.max_frame))
            session = await self._handshake(peer, frames, writer)
            if session is not None:
                frames.max_frame = self.max_frame  # authenticated: frames may be large
                await self._serve(peer, frames, session)
        except asyncio.CancelledError:
            pass
        except Exception:  # a bug must not take the server down
            self._log.exception("unexpected error on %s connection from %s", self.kind, peer)
        finally:
            writer.close()

    def _reject(self, peer: str, reason: str) -> None:
        self._log.warning("rejected %s connection from %s: %s", self.kind, peer, reason)
        self._on_rejected(peer, reason)

    def _make_room(self) -> None:
        """At the cap, close the oldest pending handshake (the likeliest idle squatter)."""
        while len(self._pending) >= self.max_pending:
            oldest, oldest_peer = next(iter(self._pending.items()))
            del self._pending[oldest]
            oldest.cancel()
            self._reject(oldest_peer, "evicted: too many pending handshakes")

    async def _handshake(
        self, peer: str, frames: FrameReader, writer: asyncio.StreamWriter
    ) -> Session[M] | None:
        task = asyncio.current_task()
        assert task is not None
        self._make_room()
        self._pending[task] = peer
        try:
            message = await asyncio.wait_for(self._codec.read(frames), self.handshake_timeout_s)
        except TimeoutError:
            self._reject(peer, "no hello within the handshake timeout")
            return None
        except (FrameError, ProtocolError) as exc:
            self._reject(peer, f"bad handshake frame: {exc}")
            return None
        finally:
            self._pending.pop(task, None)
        if message is None:
            self._reject(peer, "closed before hello")
            return None
        hello: object = message  # M and H are unrelated types to mypy
        if not isinstance(hello, self._hello_type):
            self._reject(peer, f"expected hello, got {message.TYPE}")
            return None
        if not hmac.compare_digest(hello.token.encode(), self._token):
            self._reject(peer, "wrong token")
            return None
        try:
            return self.open(peer, hello, writer)
        except Rejected as exc:
            self._reject(peer, str(exc))
            return None

    async def _serve(self, peer: str, frames: FrameReader, session: Session[M]) -> None:
        reason = f"closed by {self.kind}"
        try:
            await session.opened()
            while True:
                payload = await frames.read_frame()
                if payload is None:
                    break
                try:
                    message = self._codec.decode(payload)
                except ProtocolError as exc:
                    if self.close_on_bad_message:
                        raise
                    self._log.warning("%s %s sent a bad frame: %s", self.kind, peer, exc)
                    continue
                await session.handle(message)
                # Frames already buffered would otherwise be handled in one go: yield
                # so other connections get their turn.
                await asyncio.sleep(0)
        except Closed as exc:
            reason = str(exc)
        except (FrameError, ProtocolError) as exc:
            reason = f"protocol error: {exc}"
            self._log.warning("%s %s: %s; closing its connection", self.kind, peer, exc)
        except ConnectionError as exc:
            reason = f"connection error: {exc}"
        finally:
            await session.closed(reason)
