"""The shared framed endpoint: handshake rules, rejections, eviction, the read loop.

A two-message family on a real loopback socket; the producer and control
endpoints add only their own checks and sessions on top of this.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import msgpack
import pytest

from system.protocol import encode_frame
from system.protocol.codec import Codec, Message
from system.protocol.endpoint import HELLO_MAX_FRAME, Closed, Endpoint, Rejected

TOKEN = "the-shared-token-0123456789"


@dataclass
class Hi(Message):
    TYPE: ClassVar[str] = "hello"
    token: str
    name: str = ""


@dataclass
class Note(Message):
    TYPE: ClassVar[str] = "note"
    text: str


CODEC: Codec[Message] = Codec("test", [Hi, Note])


class Recorder:
    def __init__(self, name: str, endpoint: TestEndpoint) -> None:
        self.name, self.endpoint = name, endpoint
        self.notes: list[str] = []

    async def opened(self) -> None:
        self.endpoint.events.append(("opened", self.name))

    async def handle(self, message: Message) -> None:
        assert isinstance(message, Note)
        if message.text == "bye":
            raise Closed("peer said bye")
        self.notes.append(message.text)

    async def closed(self, reason: str) -> None:
        self.endpoint.events.append(("closed", f"{self.name}: {reason}"))
        self.endpoint.done.set()


class TestEndpoint(Endpoint[Message, Hi]):
    __test__ = False
    kind = "test"

    def __init__(self, **options: Any) -> None:
        self.rejected: list[tuple[str, str]] = []
        self.events: list[tuple[str, str]] = []
        self.sessions: list[Recorder] = []
        self.done = asyncio.Event()
        self.some_rejection = asyncio.Event()
        super().__init__(
            TOKEN, CODEC, Hi, on_rejected=self._rejected, log=logging.getLogger("t"), **options
        )

    def _rejected(self, peer: str, reason: str) -> None:
        self.rejected.append((peer, reason))
        self.some_rejection.set()

    def open(self, peer: str, hello: Hi, writer: asyncio.StreamWriter) -> Recorder:
        if hello.name == "banned":
            raise Rejected("banned peer")
        session = Recorder(hello.name, self)
        self.sessions.append(session)
        return session


def _hello(token: str = TOKEN, name: str = "p") -> bytes:
    return CODEC.frame(Hi(token, name))


def _note(text: str) -> bytes:
    return CODEC.frame(Note(text))


Scenario = Callable[[TestEndpoint, tuple[str, int]], Awaitable[None]]


def _run(scenario: Scenario, **options: Any) -> TestEndpoint:
    async def main() -> TestEndpoint:
        endpoint = TestEndpoint(**options)
        address = await endpoint.start()
        try:
            await asyncio.wait_for(scenario(endpoint, address), 10)
        finally:
            await endpoint.close()
        return endpoint

    return asyncio.run(main())


async def _send(address: tuple[str, int], data: bytes) -> bytes:
    """Send raw bytes and end the stream, then read until the endpoint closes."""
    reader, writer = await asyncio.open_connection(*address)
    writer.write(data)
    writer.write_eof()
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


def _reasons(endpoint: TestEndpoint) -> list[str]:
    return [reason for _, reason in endpoint.rejected]


def test_an_authenticated_peer_is_served_in_order_and_hears_how_it_ended() -> None:
    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        big = "x" * (2 * HELLO_MAX_FRAME)  # after the hello, frames up to max_frame
        await _send(address, _hello() + _note("one") + _note(big) + _note("three"))
        await endpoint.done.wait()

    endpoint = _run(scenario)
    assert endpoint.rejected == []
    assert endpoint.sessions[0].notes == ["one", "x" * (2 * HELLO_MAX_FRAME), "three"]
    assert endpoint.events == [("opened", "p"), ("closed", "p: closed by test")]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_hello(token="guessed-token"), "wrong token"),
        (_hello(token=""), "wrong token"),
        (_note("hi"), "expected hello, got note"),
        (b"GET / HTTP/1.1\r\n\r\n", "exceeds the 4096-byte limit"),
        (encode_frame(b"\xc1\xc1"), "bad handshake frame: frame is not valid MessagePack"),
        (encode_frame(msgpack.packb({"t": "hello", "token": 5})), "hello.token: unexpected type"),
        (encode_frame(msgpack.packb({"t": "hello", "token": TOKEN, "x": 1})), "unknown fields"),
        (struct.pack(">I", HELLO_MAX_FRAME + 1) + b"x" * 100, "exceeds the 4096-byte limit"),
        (struct.pack(">I", 10) + b"short", "stream ended inside a frame"),
        (b"", "closed before hello"),
        (_hello(name="banned"), "banned peer"),
    ],
)
def test_a_bad_handshake_is_rejected_with_its_reason_and_never_answered(
    data: bytes, reason: str
) -> None:
    answers: list[bytes] = []

    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        answers.append(await _send(address, data))
        await endpoint.some_rejection.wait()

    endpoint = _run(scenario)
    assert answers == [b""]
    assert len(endpoint.rejected) == 1 and reason in endpoint.rejected[0][1], endpoint.rejected
    assert endpoint.rejected[0][0].startswith("127.0.0.1:")
    assert endpoint.sessions == []
    assert TOKEN not in repr(endpoint.rejected)


def test_a_silent_peer_times_out() -> None:
    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        _, writer = await asyncio.open_connection(*address)
        await endpoint.some_rejection.wait()
        writer.close()

    endpoint = _run(scenario, handshake_timeout_s=0.1)
    assert _reasons(endpoint) == ["no hello within the handshake timeout"]


def test_at_the_cap_the_oldest_pending_handshake_is_evicted() -> None:
    """Idle connections cannot lock a real peer out: each newcomer evicts the oldest."""

    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        idle = []
        for _ in range(3):
            reader, writer = await asyncio.open_connection(*address)
            idle.append((reader, writer))
            await asyncio.sleep(0.05)  # accepted in this order
        assert await idle[0][0].read() == b""  # the oldest was closed
        await _send(address, _hello(name="real") + _note("in"))
        await endpoint.done.wait()
        for _, writer in idle:
            writer.close()

    endpoint = _run(scenario, max_pending=2)
    assert _reasons(endpoint) == ["evicted: too many pending handshakes"] * 2
    assert endpoint.sessions[0].notes == ["in"]


@pytest.mark.parametrize("close_on_bad_message", [True, False])
def test_a_bad_message_after_the_handshake(close_on_bad_message: bool) -> None:
    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        bad = encode_frame(msgpack.packb({"t": "note", "text": 1}))
        await _send(address, _hello() + _note("a") + bad + _note("b"))
        await endpoint.done.wait()

    endpoint = _run(scenario, close_on_bad_message=close_on_bad_message)
    if close_on_bad_message:
        assert endpoint.sessions[0].notes == ["a"]
        assert "p: protocol error: note.text: unexpected type int" in endpoint.events[-1][1]
    else:  # logged and skipped
        assert endpoint.sessions[0].notes == ["a", "b"]
        assert endpoint.events[-1] == ("closed", "p: closed by test")


def test_oversized_frames_after_the_handshake_end_the_connection() -> None:
    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        await _send(address, _hello() + struct.pack(">I", 20_000) + b"x" * 10)
        await endpoint.done.wait()

    endpoint = _run(scenario, max_frame=10_000)
    assert "p: protocol error: frame of 20000 bytes exceeds the 10000-byte limit" in (
        endpoint.events[-1][1]
    )


def test_a_session_ends_its_connection_and_close_ends_the_rest() -> None:
    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        assert await _send(address, _hello(name="a") + _note("bye") + _note("lost")) == b""
        await endpoint.done.wait()
        endpoint.done.clear()
        _, writer = await asyncio.open_connection(*address)
        writer.write(_hello(name="b"))
        while len(endpoint.events) < 3:
            await asyncio.sleep(0.01)
        await endpoint.close()  # the endpoint closing: session b still hears it
        writer.close()

    endpoint = _run(scenario)
    assert endpoint.sessions[0].notes == []
    assert endpoint.events == [
        ("opened", "a"),
        ("closed", "a: peer said bye"),
        ("opened", "b"),
        ("closed", "b: closed by test"),
    ]


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    import system.protocol.endpoint as endpoint_module

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(endpoint_module.hmac, "compare_digest", spy)

    async def scenario(endpoint: TestEndpoint, address: tuple[str, int]) -> None:
        await _send(address, _hello(token="wrong"))
        await endpoint.some_rejection.wait()

    _run(scenario)
    assert calls == [(b"wrong", TOKEN.encode())]
